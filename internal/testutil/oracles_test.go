package testutil

import (
	"net/http"
	"testing"
)

// TestMotoAnswers starts a private moto_server and asks its own API.
func TestMotoAnswers(t *testing.T) {
	url := Moto(t)
	resp, err := http.Get(url + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto-api answered %s", resp.Status)
	}
}

//go:build linux

package image

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
	"github.com/lowfare/lowfare/internal/spec"
)

// pinboardDir is internal/cli's test app that is neither links nor
// guestbook (main package in cmd/server, embedded template, API_KEY
// secret, a transaction, GSI1); internal/cli's TestPinboardJourney takes
// it through init, plan, synth, image build and dev.
const pinboardDir = "../cli/testdata/pinboard"

// TestPinboardServerlessUnderRIE runs pinboard's serverless image (profile
// serverless: lowfare's adapter, then the app) under the Lambda Runtime
// Interface Emulator against a DynamoDB endpoint: the secret guards
// writes, a pin is written through the transaction, listed through GSI1,
// and the page renders from the embedded template.
func TestPinboardServerlessUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds pinboard and the Lambda Runtime Interface Emulator")
	}
	t.Setenv("GOPROXY", "off") // the SDK comes from the module cache lowfare's own build fills
	t.Setenv("GOFLAGS", "-mod=readonly")
	db := ddbtest.Minidyn(t)
	table := ddbtest.NewTable(t, db, store.CreateTable)
	b := buildApp(t, pinboardDir, "./cmd/server", true)
	bin := spec.Service{Image: "./cmd/server"}.BinaryName()
	assertConfig(t, b.Image, b.Arch, bin, true)
	url, _ := underRIE(t, unpack(t, b.Image),
		"TABLE_NAME="+table, "AWS_ENDPOINT_URL_DYNAMODB="+db.Endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "API_KEY=rie-secret")

	post := func(key, text string) fnResponse {
		return invoke2(t, url, functionURLEvent("POST", "/pins", "",
			map[string]string{"content-type": "application/json", "x-api-key": key}, nil, []byte(`{"text":"`+text+`"}`)))
	}
	if got := post("wrong", "x"); got.StatusCode != 401 {
		t.Fatalf("POST with a wrong key: %d %q", got.StatusCode, got.Body)
	}
	for _, text := range []string{"from lambda", "and again"} {
		if got := post("rie-secret", text); got.StatusCode != 201 {
			t.Fatalf("POST %q: %d %q", text, got.StatusCode, got.Body)
		}
	}
	got := invoke2(t, url, functionURLEvent("GET", "/pins", "", nil, nil, nil))
	var pins []struct{ Text string }
	if err := json.Unmarshal([]byte(got.Body), &pins); err != nil || got.StatusCode != 200 {
		t.Fatalf("GET /pins: %d %q: %v", got.StatusCode, got.Body, err)
	}
	if len(pins) != 2 || pins[0].Text != "and again" || pins[1].Text != "from lambda" {
		t.Errorf("GSI1 listing, newest first: %+v", pins)
	}
	page := invoke2(t, url, functionURLEvent("GET", "/", "", map[string]string{"accept": "text/html"}, nil, nil))
	if page.StatusCode != 200 || !strings.Contains(page.Body, `<p id="count">2 pins so far</p>`) || !strings.Contains(page.Body, "<h1>Pinboard</h1>") {
		t.Errorf("GET /: %d\n%s", page.StatusCode, page.Body)
	}
}

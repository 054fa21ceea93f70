package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Validate judges a Spec built in Go by the loader's rules: every example
// the loader accepts passes, and a broken one is refused at the field,
// in the loader's words, without a position (there is no file).
func TestValidate(t *testing.T) {
	for _, f := range exampleFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(filepath.Base(f), data)
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(s); err != nil {
			t.Errorf("%s loads, and Validate refuses it: %v", filepath.Base(f), err)
		}
	}

	s := Default()
	s.Service.Health.Grace = 301
	err := Validate(s)
	var probs *Problems
	if !errors.As(err, &probs) || len(probs.List) != 1 {
		t.Fatalf("Validate: %v, want one problem", err)
	}
	p := probs.List[0]
	_, loaded := Parse("lowfare.yaml", []byte("app: links\nservice: {health: {grace: 301}}\n"))
	if p.Path != "service.health.grace" || p.Pos != (Pos{}) || !strings.Contains(loaded.Error(), p.Msg) {
		t.Errorf("Validate reports %+v; the loader: %v", p, loaded)
	}
	if want := "service.health.grace: " + p.Msg; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

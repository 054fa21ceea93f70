package gosrc

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFindMains(t *testing.T) {
	const main = "package main\n\nfunc main() {}\n"
	dir := tree(t, map[string]string{
		"go.mod":                  "module example.com/shop/v2\n",
		"cmd/server/main.go":      main,
		"cmd/worker/main.go":      main,
		"internal/store/store.go": "package store\n",
		"tools/gen/main_test.go":  main,
		"testdata/x/main.go":      main,
		"vendor/y/main.go":        main,
		".hidden/z/main.go":       main,
		"other/go.mod":            "module example.com/other\n",
		"other/main.go":           main,
	})
	got, err := FindMains(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cmd/server", "cmd/worker"}; !slices.Equal(got, want) {
		t.Errorf("FindMains = %q, want %q", got, want)
	}
	if got := ModulePath(dir); got != "example.com/shop/v2" {
		t.Errorf("ModulePath = %q", got)
	}
	if got := ModulePath(filepath.Join(dir, "cmd")); got != "" {
		t.Errorf("ModulePath without go.mod = %q", got)
	}
	if _, err := FindMains(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing dir: %v", err)
	}
}

package image

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/gosrc"
)

// TestHelperSourcesEmbedded fails when a helper package gains a source file
// that the go:embed list does not carry: an installed lowfare would then
// build a different (or no) helper than the tests here.
func TestHelperSourcesEmbedded(t *testing.T) {
	for _, pkg := range []string{probePackage, adapterPackage} {
		files, err := filepath.Glob(filepath.Join(pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no sources (%v)", pkg, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			embedded, err := helperSources.ReadFile(filepath.ToSlash(f))
			if err != nil {
				t.Errorf("%s is not embedded: add it to helpers.go's go:embed", f)
				continue
			}
			onDisk, _ := os.ReadFile(f)
			if !bytes.Equal(embedded, onDisk) {
				t.Errorf("%s: the embedded copy differs from the file", f)
			}
		}
	}
}

// TestHelperBuildIsCachedAndStatic builds the probe twice for arm64 into a
// private cache: the second comes from the cache, byte for byte, and the
// binary is a static ELF for the right machine.
func TestHelperBuildIsCachedAndStatic(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("GOFLAGS", "-mod=vendor") // the user's flags must not reach the helper's module
	_, version, err := gosrc.Toolchain(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	a, err := helperBinary(testCtx(t), cache, probePackage, "arm64", version)
	if err != nil {
		t.Fatal(err)
	}
	cached, _ := filepath.Glob(filepath.Join(cache, "*", probePackage))
	if len(cached) != 1 {
		t.Fatalf("cache entries %q; want one", cached)
	}
	// A marker in the cached file proves the second call read it.
	marked := append(bytes.Clone(a), "cached"...)
	if err := os.WriteFile(cached[0], marked, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := helperBinary(testCtx(t), cache, probePackage, "arm64", version)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, marked) {
		t.Error("the second build did not come from the cache")
	}
	// ELF, 64-bit, little endian, e_machine 183 (AArch64).
	if !bytes.HasPrefix(a, []byte("\x7fELF\x02\x01")) || a[18] != 183 {
		t.Errorf("the probe is not an arm64 ELF binary")
	}
	if bytes.Contains(a, []byte("/lib/ld-linux")) {
		t.Error("the probe is dynamically linked")
	}
}

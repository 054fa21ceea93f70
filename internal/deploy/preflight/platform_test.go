package preflight

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/lowfare/lowfare/internal/image"
	"github.com/lowfare/lowfare/internal/spec"
)

// TestImagePlatform: an image reference is read from its registry (here
// go-containerregistry's own, in process) and checked against
// service.arch; a mismatch is a problem of the spec (BadInput, exit 2 in
// the CLI) that says what to set, and an image that cannot be read is a
// note, not a failure.
func TestImagePlatform(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := image.Assemble(image.Files{Name: "web", Binary: []byte("bin"), CACerts: []byte("certs")}, "amd64", "", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/web:1.27"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		image, arch string
		problem     string // "" for none
		note        string
	}{
		{ref, spec.ArchX8664, "", ""},
		{ref, spec.ArchARM64, "is for linux/amd64, not linux/arm64 (service.arch: arm64): set service.arch: x86_64", ""},
		{host + "/web:missing", spec.ArchARM64, "", "could not check its platform"},
		{"./cmd/server", spec.ArchARM64, "", ""},
	} {
		s := spec.Default()
		s.Service.Image, s.Service.Arch = tc.image, tc.arch
		r := &Report{}
		problem := func(f string, a ...any) { r.Problems = append(r.Problems, "problem: "+f) }
		input := func(f string, a ...any) {
			r.Problems = append(r.Problems, strings.TrimSpace(strings.ReplaceAll(f, "%v", ""))+a[0].(error).Error())
			r.BadInput = true
		}
		note := func(f string, a ...any) { r.Notes = append(r.Notes, f) }
		checkImage(t.Context(), nil, s, problem, input, note)
		switch {
		case tc.problem == "" && len(r.Problems) > 0:
			t.Errorf("%s on %s: problems %q; want none", tc.image, tc.arch, r.Problems)
		case tc.problem != "" && (len(r.Problems) != 1 || !strings.Contains(r.Problems[0], tc.problem) || !r.BadInput):
			t.Errorf("%s on %s: problems %q (bad input %v); want one with %q", tc.image, tc.arch, r.Problems, r.BadInput, tc.problem)
		}
		if tc.note != "" && (len(r.Notes) != 1 || !strings.Contains(r.Notes[0], tc.note)) {
			t.Errorf("%s: notes %q; want %q", tc.image, r.Notes, tc.note)
		}
	}
	if err := (&Report{Problems: []string{"x"}, BadInput: true}).Err(); !err.(*Error).BadInput {
		t.Error("Err() drops BadInput")
	}
}

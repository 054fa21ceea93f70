package cli

import (
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/lowfare/lowfare/internal/image"
)

// writeArchive writes a small image for linux/goarch where path says (a
// tarball for .tar, else an OCI layout), as another tool would have.
func writeArchive(t *testing.T, path, goarch string) {
	t.Helper()
	img, err := image.Assemble(image.Files{Name: "web", Binary: []byte("bin-" + goarch), CACerts: []byte("certs")}, goarch, "", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := image.WriteOutput(img, path, "web:1"); err != nil {
		t.Fatal(err)
	}
}

// TestDeployPushesAnImageOnDisk: service.image naming a tarball (docker
// save) or an OCI layout directory is pushed to the app's repository like
// an image lowfare builds, run by digest and tagged live; it is not built.
// One for another architecture is refused before any AWS call, exit 2.
func TestDeployPushesAnImageOnDisk(t *testing.T) {
	for _, img := range []string{"./app.tar", "./image"} {
		t.Run(img, func(t *testing.T) {
			w := newDepWorld(t, "app: links\nenv: dev\nregion: us-east-1\nservice:\n  image: "+img+"\n")
			writeArchive(t, filepath.Join(w.dir, img), "arm64")
			code, out, errOut := depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms")
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			if strings.Contains(out, "Building") || !strings.Contains(out, "Pushing "+w.registry+"/lowfare-links-dev:latest-build") {
				t.Errorf("output:\n%s", out)
			}
			uri := w.cfn.StackParameters("lowfare-links-dev")["ImageUri"]
			if !strings.HasPrefix(uri, w.registry+"/lowfare-links-dev@sha256:") {
				t.Errorf("ImageUri %q; want the app's repository by digest", uri)
			}

			if err := os.RemoveAll(filepath.Join(w.dir, img)); err != nil {
				t.Fatal(err)
			}
			writeArchive(t, filepath.Join(w.dir, img), "amd64")
			cfnBefore, _, _, _, _ := w.calls()
			code, _, errOut = depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms")
			if code != ExitUsage || !strings.Contains(errOut, "is for linux/amd64, not linux/arm64 (service.arch: arm64): set service.arch: x86_64") {
				t.Errorf("amd64 image on an arm64 spec: exit %d\n%s", code, errOut)
			}
			if cfnAfter, _, _, _, _ := w.calls(); len(cfnAfter) != len(cfnBefore) {
				t.Errorf("AWS was called for an image that cannot run: %v", cfnAfter[len(cfnBefore):])
			}
		})
	}
}

// TestImageBuildOutput: image build -o writes what it built to look at, as
// a tarball or an OCI layout; either is itself a service.image that plan
// accepts, and image build has nothing to build for it (exit 2).
func TestImageBuildOutput(t *testing.T) {
	w := newDepWorld(t, depSpec)
	for _, out := range []string{"hello.tar", "hello-oci"} {
		path := filepath.Join(w.dir, out)
		code, stdout, stderr := depRun(t, "", "image", "build", "-f", w.spec, "-o", path)
		if code != 0 || !strings.Contains(stdout, "Wrote ") {
			t.Fatalf("-o %s: exit %d\n%s\n%s", out, code, stdout, stderr)
		}
		img, cleanup, err := image.LoadArchive(out, path, "arm64")
		if err != nil {
			t.Fatalf("-o %s: %v", out, err)
		}
		cfg, err := img.ConfigFile()
		cleanup()
		if err != nil || !slices.Equal(cfg.Config.Entrypoint, []string{"/app/hello"}) {
			t.Errorf("-o %s: entrypoint %v, %v", out, cfg.Config.Entrypoint, err)
		}
		spec := strings.Replace(depSpec, "./cmd/hello", "./"+out, 1)
		if err := os.WriteFile(w.spec, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr = depRun(t, "", "plan", "-f", w.spec, "--format", "json")
		var plan struct {
			Warnings []struct{ Part, Message string }
			Task     planTask
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &plan) != nil {
			t.Fatalf("plan of %s: exit %d\n%s\n%s", out, code, stdout, stderr)
		}
		for _, x := range plan.Warnings {
			if strings.Contains(x.Message, "service.image") {
				t.Errorf("plan of %s warns: %s", out, x.Message)
			}
		}
		if plan.Task.User != "" || plan.Task.ReadonlyRoot {
			t.Errorf("an image on disk runs %+v; want its own user on a writable root", plan.Task)
		}
		if code, _, stderr := depRun(t, "", "image", "build", "-f", w.spec); code != ExitUsage || !strings.Contains(stderr, "nothing to build") {
			t.Errorf("image build of %s: exit %d\n%s", out, code, stderr)
		}
		if err := os.WriteFile(w.spec, []byte(depSpec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPlanCheckImagePlatform: plan --check reads an image reference's
// manifest from its registry (go-containerregistry's own, in process) and
// refuses an image without a variant for service.arch, exit 2 with the fix.
func TestPlanCheckImagePlatform(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/web:1.27"
	img, err := image.Assemble(image.Files{Name: "web", Binary: []byte("bin"), CACerts: []byte("certs")}, "amd64", "", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	w := newDepWorld(t, "app: links\nenv: dev\nservice:\n  image: "+ref+"\n")
	code, out, errOut := depRun(t, "", "plan", "--check", "-f", w.spec)
	if code != ExitUsage || !strings.Contains(errOut, "is for linux/amd64, not linux/arm64 (service.arch: arm64): set service.arch: x86_64") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if err := os.WriteFile(w.spec, []byte("app: links\nenv: dev\nservice:\n  image: "+ref+"\n  arch: x86_64\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := depRun(t, "", "plan", "--check", "-f", w.spec); code != 0 {
		t.Errorf("x86_64: exit %d\n%s\n%s", code, out, errOut)
	}
}

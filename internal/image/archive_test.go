package image

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// testImage is a small image for linux/goarch.
func testImage(t *testing.T, goarch string) v1.Image {
	t.Helper()
	img, err := Assemble(Files{Name: "app", Binary: []byte("bin-" + goarch), CACerts: []byte("certs")}, goarch, "r", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digestOf(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// configOf is the digest of the image's config: what a docker save
// tarball keeps byte for byte (it writes no manifest of its own, so the
// manifest a registry gets is made anew, in Docker's media types).
func configOf(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// tarDir writes dir as a tarball (an OCI archive when dir is a layout),
// gzipped when zip is set.
func tarDir(t *testing.T, dir, path string, zip bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w io.Writer = f
	if zip {
		zw := gzip.NewWriter(f)
		defer zw.Close()
		w = zw
	}
	tw := tar.NewWriter(w)
	defer tw.Close()
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
}

// gzipFile writes src gzipped to dst (as nix writes its image tarballs).
func gzipFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestArchivesRoundTrip: every kind of image on disk that `image build -o`
// writes or other tools write (docker save tarball, gzipped too; OCI
// layout directory; OCI archive) loads back as the same image for its
// platform, and as a *PlatformError naming the fix for the other one.
func TestArchivesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	img := testImage(t, "arm64")
	want := configOf(t, img)
	tarPath := filepath.Join(dir, "app.tar")
	if err := WriteOutput(img, tarPath, "links:dev"); err != nil {
		t.Fatal(err)
	}
	layoutDir := filepath.Join(dir, "layout")
	if err := WriteOutput(img, layoutDir, "links:dev"); err != nil {
		t.Fatal(err)
	}
	ociArchive := filepath.Join(dir, "oci.tar")
	tarDir(t, layoutDir, ociArchive, false)
	gzipped := filepath.Join(dir, "result")
	gzipFile(t, tarPath, gzipped)
	for _, path := range []string{tarPath, layoutDir, ociArchive, gzipped} {
		got, cleanup, err := LoadArchive("./x", path, "arm64")
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
			continue
		}
		if d := configOf(t, got); d != want {
			t.Errorf("%s: config %s; want %s", filepath.Base(path), d, want)
		}
		cleanup()
		_, cleanup, err = LoadArchive("./x", path, "x86_64")
		cleanup()
		var pe *PlatformError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "linux/arm64, not linux/amd64") || !strings.Contains(err.Error(), "set service.arch: arm64") {
			t.Errorf("%s for x86_64: %v; want a PlatformError saying to set arch arm64", filepath.Base(path), err)
		}
	}
}

// TestLayoutPicksThePlatform: a multi-platform layout (an index of both
// architectures, as buildx writes it) gives each architecture its own image.
func TestLayoutPicksThePlatform(t *testing.T) {
	arm, amd := testImage(t, "arm64"), testImage(t, "amd64")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	dir := filepath.Join(t.TempDir(), "multi")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	for arch, want := range map[string]v1.Image{"arm64": arm, "x86_64": amd} {
		got, _, err := LoadArchive("./multi", dir, arch)
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if digestOf(t, got) != digestOf(t, want) {
			t.Errorf("%s: picked the wrong image", arch)
		}
	}
}

func TestLoadArchiveMissingOrNotAnImage(t *testing.T) {
	dir := t.TempDir()
	_, _, err := LoadArchive("./app.tar", filepath.Join(dir, "app.tar"), "arm64")
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "docker save") {
		t.Errorf("missing: %v", err)
	}
	plain := filepath.Join(dir, "plain.tar")
	tarDir(t, t.TempDir(), plain, false)
	if _, _, err := LoadArchive("./plain.tar", plain, "arm64"); err == nil || !strings.Contains(err.Error(), "neither manifest.json") {
		t.Errorf("a tarball of no image: %v", err)
	}
}

// TestWriteOutputRefusesAForeignDirectory: -o never writes into a
// directory of other files.
func TestWriteOutputRefusesAForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteOutput(testImage(t, "arm64"), dir, "links:dev")
	if err == nil || !strings.Contains(err.Error(), "not an OCI image layout") {
		t.Errorf("WriteOutput into a foreign directory: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory changed: %v", entries)
	}
}

// TestRemotePlatforms reads platforms from go-containerregistry's registry:
// a single image's from its config, an index's from its descriptors
// (without BuildKit's attestations, unknown/unknown).
func TestRemotePlatforms(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	single := host + "/web:arm"
	ref, err := name.ParseReference(single)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, testImage(t, "arm64")); err != nil {
		t.Fatal(err)
	}
	multi := host + "/web:multi"
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: testImage(t, "amd64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: testImage(t, "arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}}},
	)
	mref, err := name.ParseReference(multi)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(mref, idx); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{single: "linux/arm64", multi: "linux/amd64"} {
		got, err := RemotePlatforms(t.Context(), ref, nil)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("%s: platforms %q, %v; want %s", ref, got, err, want)
		}
	}
	if _, err := RemotePlatforms(t.Context(), host+"/web:missing", nil); err == nil {
		t.Error("a missing tag has platforms")
	}
}

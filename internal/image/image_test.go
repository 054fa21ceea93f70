package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/spec"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// buildFixture builds testdata/hello, a tiny module of its own, from a
// copy outside this git checkout: Go stamps VCS state into binaries, and
// other work in progress in the checkout must not change the digest
// between two builds of the test.
func buildFixture(t *testing.T, arch, revision string) *Built {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/hello")); err != nil {
		t.Fatal(err)
	}
	b, err := Build(testCtx(t), Options{Dir: dir, Package: "./cmd/hello", Arch: arch, Revision: revision})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuildIsReproducible(t *testing.T) {
	a := buildFixture(t, "arm64", "0123456789abcdef")
	b := buildFixture(t, "arm64", "0123456789abcdef")
	if a.Digest != b.Digest {
		t.Fatalf("same tree built twice gave %s and %s", a.Digest, b.Digest)
	}
	// The revision is part of the image: another label, another digest.
	c := buildFixture(t, "arm64", "0123456789abcdef-dirty")
	if c.Digest == a.Digest {
		t.Fatal("a different revision label kept the same digest")
	}
}

func TestImageConfigAndFiles(t *testing.T) {
	for _, tc := range []struct{ arch, goarch string }{{"arm64", "arm64"}, {"x86_64", "amd64"}} {
		t.Run(tc.arch, func(t *testing.T) {
			b := buildFixture(t, tc.arch, "abc")
			assertConfig(t, b.Image, tc.goarch, "hello", false)
			files := imageFiles(t, b.Image)
			for path, want := range map[string]struct {
				mode int64
				uid  int
			}{
				"app/hello":                           {0o755, 0},
				"lowfare/healthcheck":                 {0o755, 0},
				"etc/passwd":                          {0o644, 0},
				"etc/group":                           {0o644, 0},
				"etc/ssl/certs/ca-certificates.crt":   {0o644, 0},
				"usr/share/zoneinfo/Europe/Berlin":    {0o644, 0},
				"usr/share/zoneinfo/America/New_York": {0o644, 0},
				"tmp/":                                {0o1777, 0},
				"home/nonroot/":                       {0o700, UID},
			} {
				f, ok := files[path]
				if !ok {
					t.Errorf("%s missing from the image", path)
					continue
				}
				if f.hdr.Mode != want.mode || f.hdr.Uid != want.uid || !f.hdr.ModTime.Equal(time.Unix(0, 0)) {
					t.Errorf("%s: mode %o uid %d mtime %v; want mode %o uid %d mtime epoch", path, f.hdr.Mode, f.hdr.Uid, f.hdr.ModTime, want.mode, want.uid)
				}
			}
			if p := string(files["etc/passwd"].data); !strings.Contains(p, "nonroot:x:65532:65532:") {
				t.Errorf("/etc/passwd has no uid 65532 entry:\n%s", p)
			}
			certs, _ := os.ReadFile(DefaultCerts)
			if !bytes.Equal(files["etc/ssl/certs/ca-certificates.crt"].data, certs) {
				t.Error("the CA bundle in the image differs from the build machine's")
			}
			if !bytes.HasPrefix(files["usr/share/zoneinfo/Europe/Berlin"].data, []byte("TZif")) {
				t.Error("Europe/Berlin is not a TZif file")
			}
			for _, bin := range []string{"app/hello", "lowfare/healthcheck"} {
				if !bytes.HasPrefix(files[bin].data, []byte("\x7fELF")) {
					t.Errorf("/%s is not an ELF binary", bin)
				}
			}
			if _, ok := files["lowfare/lambda-adapter"]; ok {
				t.Error("an image for ECS carries the Lambda adapter")
			}
		})
	}
}

// TestLinksImage is the acceptance check for the reference service: under
// 15 MB, the right config, and a registry round trip that returns the same
// bytes.
func TestLinksImage(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		t.Skip("-short: building the links service for arm64 takes minutes on a cold cache")
	}
	b, err := Build(testCtx(t), Options{Dir: root, Package: "./cmd/links", Arch: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("links image %s: %d bytes (%.1f MB), revision %q", b.Digest, b.Size, float64(b.Size)/1e6, b.Revision)
	if b.Size >= 15_000_000 {
		t.Errorf("links image is %d bytes; want under 15 MB", b.Size)
	}
	assertConfig(t, b.Image, "arm64", "links", false)
	roundTrip(t, b.Image)
}

func TestPushPullByteIdentical(t *testing.T) {
	roundTrip(t, buildFixture(t, "arm64", "abc").Image)
}

func roundTrip(t *testing.T, img v1.Image) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	byDigest, err := Push(testCtx(t), img, host+"/lowfare/app:abc", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	if !strings.HasSuffix(byDigest, "@"+d.String()) {
		t.Fatalf("Push returned %s; want a reference by digest %s", byDigest, d)
	}
	ref, err := name.ParseReference(byDigest)
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Image(ref, remote.WithContext(testCtx(t)))
	if err != nil {
		t.Fatal(err)
	}
	assertSameImage(t, img, got)
	// The tag points at the same manifest.
	tagged, err := remote.Image(ref.Context().Tag("abc"), remote.WithContext(testCtx(t)))
	if err != nil {
		t.Fatal(err)
	}
	if td, _ := tagged.Digest(); td != d {
		t.Errorf("tag abc points at %s; want %s", td, d)
	}
	// Retag moves a second tag onto the pushed image by digest.
	if err := Retag(testCtx(t), byDigest, "lowfare-live", nil); err != nil {
		t.Fatal(err)
	}
	live, err := remote.Image(ref.Context().Tag("lowfare-live"), remote.WithContext(testCtx(t)))
	if err != nil {
		t.Fatal(err)
	}
	if ld, _ := live.Digest(); ld != d {
		t.Errorf("tag lowfare-live points at %s; want %s", ld, d)
	}
	if err := Retag(testCtx(t), host+"/lowfare/app:abc", "x", nil); err == nil {
		t.Error("Retag took a reference by tag; it must name the image by digest")
	}
}

func assertSameImage(t *testing.T, want, got v1.Image) {
	t.Helper()
	wm, _ := want.RawManifest()
	gm, err := got.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wm, gm) {
		t.Fatalf("pulled manifest differs:\n%s\n%s", wm, gm)
	}
	wc, _ := want.RawConfigFile()
	gc, err := got.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wc, gc) {
		t.Fatal("pulled config differs")
	}
	wl, _ := want.Layers()
	gl, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(wl) != len(gl) {
		t.Fatalf("pulled %d layers; pushed %d", len(gl), len(wl))
	}
	for i := range wl {
		wd, _ := wl[i].Digest()
		rc, err := gl[i].Compressed()
		if err != nil {
			t.Fatal(err)
		}
		h, n, err := v1.SHA256(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		ws, _ := wl[i].Size()
		if h != wd || n != ws {
			t.Errorf("layer %d: pulled %s (%d bytes); pushed %s (%d bytes)", i, h, n, wd, ws)
		}
	}
}

// assertConfig checks the image config; the entrypoint is the app's binary,
// or with serverless the Lambda adapter followed by it.
func assertConfig(t *testing.T, img v1.Image, arch, bin string, serverless bool) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Architecture != arch || cf.OS != "linux" {
		t.Errorf("platform %s/%s; want linux/%s", cf.OS, cf.Architecture, arch)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q; want 65532:65532", cf.Config.User)
	}
	want := []string{"/app/" + bin}
	if serverless {
		want = []string{spec.LambdaAdapter, "/app/" + bin}
	}
	if !slices.Equal(cf.Config.Entrypoint, want) {
		t.Errorf("entrypoint %q; want %q", cf.Config.Entrypoint, want)
	}
	if !cf.Created.Equal(time.Unix(0, 0)) {
		t.Errorf("created %v; want the epoch", cf.Created)
	}
	env := strings.Join(cf.Config.Env, " ")
	if !strings.Contains(env, "SSL_CERT_FILE="+CACertPath) || !strings.Contains(env, "PATH=") {
		t.Errorf("env %q lacks SSL_CERT_FILE or PATH", env)
	}
	if _, ok := cf.Config.Labels[RevisionKey]; !ok {
		t.Logf("no %s label (not a git checkout?)", RevisionKey)
	}
	mt, _ := img.MediaType()
	if !strings.Contains(string(mt), "oci") {
		t.Errorf("manifest media type %s; want OCI", mt)
	}
}

type file struct {
	hdr  *tar.Header
	data []byte
}

func imageFiles(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]file{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = file{hdr: h, data: data}
		}
		rc.Close()
	}
	return files
}

func TestRevisionLabel(t *testing.T) {
	img, err := Assemble(Files{Name: "x", Binary: []byte("bin"), CACerts: []byte("certs")}, "arm64", "deadbeef-dirty", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	if got := cf.Config.Labels[RevisionKey]; got != "deadbeef-dirty" {
		t.Errorf("label %q; want deadbeef-dirty", got)
	}
}

func TestCreatedFromSourceDateEpoch(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	got, err := createdTime(time.Time{})
	if err != nil || got.Unix() != 1700000000 {
		t.Fatalf("createdTime = %v, %v; want 1700000000", got, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := createdTime(time.Time{}); err == nil {
		t.Fatal("a bad SOURCE_DATE_EPOCH was accepted")
	}
}

func TestIsLocalPackageAndTag(t *testing.T) {
	for in, want := range map[string]bool{
		"./cmd/links": true, "../svc": true, "/abs/cmd": true, ".": true,
		"public.ecr.aws/nginx/nginx:1": false, "123456789012.dkr.ecr.us-east-1.amazonaws.com/x@sha256:ab": false, "nginx": false,
	} {
		if got := IsLocalPackage(in); got != want {
			t.Errorf("IsLocalPackage(%q) = %v; want %v", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"0123456789abcdef0123": "0123456789ab", "0123456789abcdef-dirty": "0123456789ab-dirty", "": "latest-build", "abc": "abc",
	} {
		if got := Tag(in); got != want {
			t.Errorf("Tag(%q) = %q; want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{ // the region, "" when not ECR
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/links:abc":  "eu-west-1",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/links":  "cn-north-1",
		"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/links": "us-east-1",
		"127.0.0.1:5000/links": "",
		"ghcr.io/x/y":          "",
	} {
		if got := IsECR(in); got != (want != "") {
			t.Errorf("IsECR(%q) = %v; want %v", in, got, want != "")
		}
		if got, ok := ECRRegion(in); got != want || ok != (want != "") {
			t.Errorf("ECRRegion(%q) = %q, %v; want %q, %v", in, got, ok, want, want != "")
		}
	}
}

func TestGOARCH(t *testing.T) {
	if _, err := GOARCH("riscv"); err == nil {
		t.Error("riscv accepted")
	}
}

func TestBuildErrorNamesPackage(t *testing.T) {
	dir, _ := filepath.Abs("testdata/hello")
	_, err := Build(testCtx(t), Options{Dir: dir, Package: "./cmd/missing", Arch: "arm64", Revision: "x"})
	if err == nil || !strings.Contains(err.Error(), "./cmd/missing") {
		t.Fatalf("err = %v; want a go build error naming ./cmd/missing", err)
	}
}

// TestPushWithECRToken pushes through a registry that demands the
// credentials the (fake) ECR token decodes to.
func TestPushWithECRToken(t *testing.T) {
	fake := awsfake.NewECR("", "s3cret")
	client := ecr.NewFromConfig(awsfake.Config(t, fake))
	auth, err := ECRAuth(testCtx(t), client)
	if err != nil {
		t.Fatal(err)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("AWS:s3cret"))
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var denied atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			denied.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="fake-ecr"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := Assemble(Files{Name: "x", Binary: []byte("bin"), CACerts: []byte("certs")}, "arm64", "r", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Push(testCtx(t), img, host+"/links:r", nil, nil); err == nil {
		t.Fatal("anonymous push to an authenticated registry succeeded")
	}
	if _, err := Push(testCtx(t), img, host+"/links:r", auth, nil); err != nil {
		t.Fatalf("push with the ECR token: %v", err)
	}
	if got := fake.Calls(); len(got) != 1 || got[0] != "GetAuthorizationToken" {
		t.Errorf("ECR calls %v; want one GetAuthorizationToken", got)
	}
	if denied.Load() == 0 {
		t.Error("the registry never challenged; the test proves nothing")
	}
}

func TestBuildIgnoresRaceInGOFLAGS(t *testing.T) {
	t.Setenv("GOFLAGS", "-race")
	buildFixture(t, "arm64", "r") // -race with CGO_ENABLED=0 would fail the build
}

// An ECS image for service.idle serve: app carries the Lambda adapter but
// still starts the app: the app function names the adapter itself
// (ImageConfig), and the ECS task must not run under it.
func TestAdapterRidesAlong(t *testing.T) {
	for _, along := range []bool{false, true} {
		img, err := Assemble(Files{Name: "links", Binary: []byte("bin"), CACerts: []byte("certs"), Adapter: []byte("adapter"), AdapterRidesAlong: along}, "arm64", "", time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := imageFiles(t, img)[strings.TrimPrefix(spec.LambdaAdapter, "/")]; !ok || string(f.data) != "adapter" || f.hdr.Mode&0o111 == 0 {
			t.Errorf("rides along %v: adapter missing or not executable", along)
		}
		cf, _ := img.ConfigFile()
		want := []string{spec.LambdaAdapter, "/app/links"}
		if along {
			want = []string{"/app/links"}
		}
		if !slices.Equal(cf.Config.Entrypoint, want) {
			t.Errorf("rides along %v: entrypoint %q, want %q", along, cf.Config.Entrypoint, want)
		}
	}
}

// Package image turns a Go main package into a small OCI image without
// Docker: the static binary, CA certificates, a passwd entry for the
// non-root user, timezone data and lowfare's helpers (the health probe at
// spec.HealthProbe; for profile serverless the Lambda adapter at
// spec.LambdaAdapter, which becomes the entrypoint), each in its own layer,
// on no base image.
//
// The result is reproducible: the same source tree (and the same Go
// toolchain and CA bundle) gives the same digest, because every input that
// would otherwise vary is pinned: build paths (-trimpath), the Go build ID
// (-buildid=), file times, owners and the config's creation time (Unix epoch
// 0, or SOURCE_DATE_EPOCH).
//
// Choices, so readers need not guess:
//   - CA certificates come from the build machine's bundle
//     (/etc/ssl/certs/ca-certificates.crt, Debian's and Alpine's path).
//     Embedding a bundle in lowfare would go stale with lowfare's releases;
//     the host's is kept current by its package manager.
//   - Timezone data is the Go toolchain's own lib/time/zoneinfo.zip,
//     unpacked to /usr/share/zoneinfo, where Go (and libc programs) look.
//     It is pinned by the toolchain version, so it does not break
//     reproducibility the way the host's /usr/share/zoneinfo could.
package image

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lowfare/lowfare/internal/gosrc"
	"github.com/lowfare/lowfare/internal/spec"
)

// Non-root user and group of the image (distroless's "nonroot").
const (
	UID = 65532
	GID = 65532
)

// Paths inside the image.
const (
	CACertPath   = "/etc/ssl/certs/ca-certificates.crt"
	ZoneInfoDir  = "/usr/share/zoneinfo"
	BinDir       = "/app"
	RevisionKey  = "org.opencontainers.image.revision"
	DefaultCerts = "/etc/ssl/certs/ca-certificates.crt" // on the build machine
)

// BuildTimeout bounds one `go build`.
const BuildTimeout = 10 * time.Minute

// Options describe one image build.
type Options struct {
	// Dir is the user's module directory (the spec file's directory);
	// Package is resolved from it.
	Dir string
	// Package is the Go main package, such as ./cmd/links.
	Package string
	// Arch is the spec's architecture: arm64 or x86_64 (amd64 is accepted).
	Arch string
	// Revision labels the image; empty means "ask git in Dir" (see Revision).
	Revision string
	// Created is the config's creation time; zero means SOURCE_DATE_EPOCH
	// when set, else the Unix epoch.
	Created time.Time
	// CACerts is the CA bundle on this machine; empty means DefaultCerts.
	CACerts string
	// Serverless builds the image for profile serverless: the Lambda
	// adapter is its entrypoint, with the app's binary as its argument.
	Serverless bool
	// LambdaAdapter puts the Lambda adapter into an image for ECS, which
	// still starts the app itself: service.idle serve: app runs the same
	// image on Lambda while the service sleeps, naming the adapter as the
	// function's entrypoint (ImageConfig) instead.
	LambdaAdapter bool
	// Log receives the go build output; nil discards it.
	Log io.Writer
	// Step, when set, is told what the build is doing as each step
	// starts (for progress output); the build never waits on it.
	Step func(what string)
}

// Built is an image ready to push.
type Built struct {
	Image    v1.Image
	Digest   v1.Hash
	Size     int64  // manifest + config + compressed layers, as a registry stores them
	Revision string // the label value; "" when Dir is not a git checkout
	Arch     string // GOARCH
}

// IsLocalPackage reports whether service.image names a Go package to build
// (./cmd/links, ../x, /abs/path) rather than an image reference, which is
// used as it is. The rule is the spec's, which the stack shares.
func IsLocalPackage(image string) bool {
	return spec.Service{Image: image}.LocalPackage()
}

// GOARCH maps the spec's architecture to Go's.
func GOARCH(arch string) (string, error) {
	switch arch {
	case "arm64":
		return "arm64", nil
	case "x86_64", "amd64":
		return "amd64", nil
	}
	return "", fmt.Errorf("architecture %q: want arm64 or x86_64", arch)
}

// Build compiles the package and assembles the image.
func Build(ctx context.Context, o Options) (*Built, error) {
	goarch, err := GOARCH(o.Arch)
	if err != nil {
		return nil, err
	}
	if !IsLocalPackage(o.Package) {
		return nil, fmt.Errorf("service.image %q is not a local Go package (./path); image references are used as they are", o.Package)
	}
	// The stack's health check runs /app/<this name>: spec states the rule
	// for both.
	name := spec.Service{Image: o.Package}.BinaryName()
	created, err := createdTime(o.Created)
	if err != nil {
		return nil, err
	}
	rev := o.Revision
	if rev == "" {
		rev = Revision(ctx, o.Dir)
	}
	step := o.Step
	if step == nil {
		step = func(string) {}
	}
	binary, err := compileApp(ctx, o, name, goarch, step)
	if err != nil {
		return nil, err
	}
	goroot, goVersion, err := gosrc.Toolchain(ctx)
	if err != nil {
		return nil, err
	}
	probe, adapter, err := helperBinaries(ctx, o, goarch, goVersion, step)
	if err != nil {
		return nil, err
	}
	step("assembling the image layers")
	certs, zoneinfo, err := readHostData(o.CACerts, goroot)
	if err != nil {
		return nil, err
	}
	img, err := Assemble(Files{
		Name:     name,
		Binary:   binary,
		CACerts:  certs,
		ZoneInfo: zoneinfo,
		Probe:    probe,
		Adapter:  adapter,
		// The ECS entrypoint stays the app; only profile serverless
		// starts at the adapter.
		AdapterRidesAlong: !o.Serverless,
	}, goarch, rev, created)
	if err != nil {
		return nil, err
	}
	return newBuilt(img, rev, goarch)
}

// compileApp builds the user's package for linux/goarch and returns the
// binary.
func compileApp(ctx context.Context, o Options, name, goarch string, step func(string)) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "lowfare-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, name)
	step(fmt.Sprintf("go build %s for linux/%s (the first build downloads and compiles its dependencies, which can take minutes)", o.Package, goarch))
	if err := goBuild(ctx, o.Dir, o.Package, goarch, bin, o.Log); err != nil {
		return nil, err
	}
	return os.ReadFile(bin)
}

// helperBinaries builds lowfare's health probe and, for an image that
// carries it, the Lambda adapter (nil otherwise).
func helperBinaries(ctx context.Context, o Options, goarch, goVersion string, step func(string)) (probe, adapter []byte, err error) {
	needsAdapter := o.Serverless || o.LambdaAdapter
	helpers := "health probe"
	if needsAdapter {
		helpers = "health probe and Lambda adapter"
	}
	step("building lowfare's " + helpers + " for linux/" + goarch + " (cached after the first build)")
	cache := helperCache()
	if probe, err = helperBinary(ctx, cache, probePackage, goarch, goVersion); err != nil {
		return nil, nil, err
	}
	if !needsAdapter {
		return probe, nil, nil
	}
	if adapter, err = helperBinary(ctx, cache, adapterPackage, goarch, goVersion); err != nil {
		return nil, nil, err
	}
	return probe, adapter, nil
}

// readHostData reads what the image takes from this machine: the CA
// bundle (caCerts, or DefaultCerts when empty) and the Go toolchain's
// timezone data.
func readHostData(caCerts, goroot string) (certs, zoneinfo []byte, err error) {
	if caCerts == "" {
		caCerts = DefaultCerts
	}
	if certs, err = os.ReadFile(caCerts); err != nil {
		return nil, nil, fmt.Errorf("reading the CA bundle to put in the image: %w (install ca-certificates, or pass another bundle)", err)
	}
	if zoneinfo, err = os.ReadFile(filepath.Join(goroot, "lib", "time", "zoneinfo.zip")); err != nil {
		return nil, nil, fmt.Errorf("reading the Go toolchain's timezone data: %w", err)
	}
	return certs, zoneinfo, nil
}

// newBuilt computes what a push needs to know about the image: its digest
// and the size a registry stores.
func newBuilt(img v1.Image, rev, goarch string) (*Built, error) {
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	size, err := StoredSize(img)
	if err != nil {
		return nil, err
	}
	return &Built{Image: img, Digest: digest, Size: size, Revision: rev, Arch: goarch}, nil
}

// Files are the contents that go into the image.
type Files struct {
	Name     string // binary name: /app/<Name>
	Binary   []byte
	CACerts  []byte
	ZoneInfo []byte // a zip of the zoneinfo tree, as Go ships it; nil leaves it out
	Probe    []byte // the health probe, at spec.HealthProbe; nil leaves it out
	// Adapter is the Lambda adapter, at spec.LambdaAdapter; when set it is
	// the entrypoint and runs the app, unless AdapterRidesAlong. nil builds
	// an image whose entrypoint is the app itself.
	Adapter []byte
	// AdapterRidesAlong keeps the app as the entrypoint of an image that
	// carries the adapter (an ECS image whose app also runs on Lambda).
	AdapterRidesAlong bool
}

// Assemble builds the image from its files. It is pure: the same inputs
// give the same digest.
func Assemble(f Files, goarch, revision string, created time.Time) (v1.Image, error) {
	layers, err := imageLayers(f, created)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, imageConfig(f, goarch, revision))
	if err != nil {
		return nil, err
	}
	img, err = mutate.Append(img, layers...)
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, v1.Time{Time: created})
}

// imageLayers are the image's layers, from what changes least to what
// changes most: the base files, the CA certificates, the timezone data,
// lowfare's helpers and the app's binary. Layers without content are left
// out.
func imageLayers(f Files, created time.Time) ([]mutate.Addendum, error) {
	var layers []mutate.Addendum
	add := func(entries []entry, createdBy string) error {
		l, err := tarLayer(entries)
		if err != nil {
			return err
		}
		layers = append(layers, mutate.Addendum{Layer: l, History: history(created, createdBy)})
		return nil
	}
	if err := add(baseEntries(), "lowfare: /etc/passwd, /etc/group, /tmp"); err != nil {
		return nil, err
	}
	if err := add(certEntries(f.CACerts), "lowfare: CA certificates"); err != nil {
		return nil, err
	}
	if f.ZoneInfo != nil {
		entries, err := zoneinfoEntries(f.ZoneInfo)
		if err != nil {
			return nil, err
		}
		if err := add(entries, "lowfare: timezone data from the Go toolchain"); err != nil {
			return nil, err
		}
	}
	// lowfare's helpers change with lowfare, not with the app: their
	// layer comes before the app's.
	if f.Probe != nil || f.Adapter != nil {
		if err := add(helperEntries(f), "lowfare: health probe and Lambda adapter"); err != nil {
			return nil, err
		}
	}
	// The binary goes last: a code-only change replaces one layer.
	if err := add(appEntries(f), "lowfare: go build "+f.Name); err != nil {
		return nil, err
	}
	return layers, nil
}

// imageConfig runs the app (or the Lambda adapter, which runs the app) as
// the non-root user, with the CA bundle and timezone data where Go looks.
func imageConfig(f Files, goarch, revision string) *v1.ConfigFile {
	entrypoint := []string{BinDir + "/" + f.Name}
	if f.Adapter != nil && !f.AdapterRidesAlong {
		entrypoint = append([]string{spec.LambdaAdapter}, entrypoint...)
	}
	labels := map[string]string{}
	if revision != "" {
		labels[RevisionKey] = revision
	}
	return &v1.ConfigFile{
		Architecture: goarch,
		OS:           "linux",
		Config: v1.Config{
			User:       fmt.Sprintf("%d:%d", UID, GID),
			Entrypoint: entrypoint,
			Env: []string{
				"PATH=/app:/usr/local/bin:/usr/bin:/bin",
				"SSL_CERT_FILE=" + CACertPath,
				"ZONEINFO=" + ZoneInfoDir,
			},
			WorkingDir: "/",
			Labels:     labels,
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
}

// StoredSize is what a registry stores for the image: the manifest, the
// config and the compressed layers.
func StoredSize(img v1.Image) (int64, error) {
	m, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	c, err := img.RawConfigFile()
	if err != nil {
		return 0, err
	}
	total := int64(len(m) + len(c))
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// Revision is the git commit of dir, with "-dirty" when the work tree has
// uncommitted changes; "" when dir is not a git checkout or git is missing.
func Revision(ctx context.Context, dir string) string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	status, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output()
	if err != nil || len(bytes.TrimSpace(status)) > 0 {
		rev += "-dirty"
	}
	return rev
}

// Tag is the registry tag for a revision: the short commit, dirty marked.
// An empty revision tags "latest-build".
func Tag(revision string) string {
	if revision == "" {
		return "latest-build"
	}
	commit, dirty := strings.CutSuffix(revision, "-dirty")
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if dirty {
		return commit + "-dirty"
	}
	return commit
}

// goBuild compiles the user's package for linux/goarch as a static,
// reproducible binary (see the package doc).
func goBuild(ctx context.Context, dir, pkg, goarch, out string, log io.Writer) error {
	return gosrc.Build(ctx, gosrc.BuildOptions{
		Dir: dir, Package: pkg, Out: out,
		GOOS: "linux", GOARCH: goarch, NoCgo: true, Release: true,
		Why: "building the image", Log: log, Timeout: BuildTimeout,
	})
}

func createdTime(t time.Time) (time.Time, error) {
	if !t.IsZero() {
		return t.UTC(), nil
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", s)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Unix(0, 0).UTC(), nil
}

func history(t time.Time, by string) v1.History {
	return v1.History{Created: v1.Time{Time: t}, CreatedBy: by}
}

// entry is one file or directory of a layer.
type entry struct {
	name string // relative, slash-separated; directories end in /
	dir  bool
	mode int64
	data []byte
}

func baseEntries() []entry {
	passwd := "root:x:0:0:root:/root:/sbin/nologin\n" +
		fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, GID)
	group := "root:x:0:\n" + fmt.Sprintf("nonroot:x:%d:\n", GID)
	return []entry{
		{name: "etc/", dir: true, mode: 0o755},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "home/", dir: true, mode: 0o755},
		{name: "home/nonroot/", dir: true, mode: 0o700},
		{name: "tmp/", dir: true, mode: 0o1777},
	}
}

func certEntries(caCerts []byte) []entry {
	return []entry{
		{name: "etc/ssl/", dir: true, mode: 0o755},
		{name: "etc/ssl/certs/", dir: true, mode: 0o755},
		{name: strings.TrimPrefix(CACertPath, "/"), mode: 0o644, data: caCerts},
	}
}

// helperEntries are the health probe and the Lambda adapter, those of
// them the image carries, in their directory.
func helperEntries(f Files) []entry {
	dir := strings.TrimPrefix(path.Dir(spec.HealthProbe), "/") + "/"
	entries := []entry{{name: dir, dir: true, mode: 0o755}}
	if f.Probe != nil {
		entries = append(entries, entry{name: strings.TrimPrefix(spec.HealthProbe, "/"), mode: 0o755, data: f.Probe})
	}
	if f.Adapter != nil {
		entries = append(entries, entry{name: strings.TrimPrefix(spec.LambdaAdapter, "/"), mode: 0o755, data: f.Adapter})
	}
	return entries
}

func appEntries(f Files) []entry {
	return []entry{
		{name: "app/", dir: true, mode: 0o755},
		{name: "app/" + f.Name, mode: 0o755, data: f.Binary},
	}
}

// zoneinfoEntries unpacks Go's zoneinfo.zip under usr/share/zoneinfo,
// sorted so the layer does not depend on the zip's order.
func zoneinfoEntries(zipData []byte) ([]entry, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipData), int64(len(zipData)))
	if err != nil {
		return nil, fmt.Errorf("reading zoneinfo.zip: %w", err)
	}
	root := strings.TrimPrefix(ZoneInfoDir, "/") + "/"
	dirs := map[string]bool{"usr/": true, "usr/share/": true, root: true}
	var files []entry
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") || strings.Contains(f.Name, "..") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		name := root + f.Name
		for d := path.Dir(name); d != "." && d+"/" != root; d = path.Dir(d) {
			dirs[d+"/"] = true
		}
		files = append(files, entry{name: name, mode: 0o644, data: data})
	}
	var all []entry
	for d := range dirs {
		all = append(all, entry{name: d, dir: true, mode: 0o755})
	}
	all = append(all, files...)
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	return all, nil
}

// tarLayer writes the entries, in order, with fixed times and owners (root
// owns the system files; the binary is world-readable and executable).
func tarLayer(entries []entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0).UTC()
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			ModTime: epoch,
			Uid:     0,
			Gid:     0,
			Format:  tar.FormatPAX,
		}
		if e.name == "home/nonroot/" {
			h.Uid, h.Gid = UID, GID
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if !e.dir {
			if _, err := tw.Write(e.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}

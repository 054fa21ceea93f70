package image

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/lowfare/lowfare/internal/spec"
)

// ManifestTimeout bounds reading an image's manifest (and, for a single
// image, its config) from a registry.
const ManifestTimeout = 20 * time.Second

// PlatformError is an image that has no variant for the spec's
// architecture: a task (or function) would fail to start with "exec format
// error", after a deploy.
type PlatformError struct {
	Image string   // as service.image names it
	Arch  string   // service.arch
	Have  []string // the image's platforms, such as linux/amd64
}

func (e *PlatformError) Error() string {
	want := "linux/" + archGOARCH(e.Arch)
	other := spec.ArchX8664
	if archGOARCH(e.Arch) == "amd64" {
		other = spec.ArchARM64
	}
	have := "no platform"
	if len(e.Have) > 0 {
		have = strings.Join(e.Have, ", ")
	}
	msg := fmt.Sprintf("service.image %s is for %s, not %s (service.arch: %s): ", e.Image, have, want, e.Arch)
	if CheckPlatform(e.Image, other, e.Have) == nil {
		return msg + fmt.Sprintf("set service.arch: %s, or use a tag of the image built for %s (a multi-platform tag holds both)", other, want)
	}
	return msg + "use a tag of the image built for " + want
}

// archGOARCH is GOARCH without the error, for architectures known valid.
func archGOARCH(arch string) string {
	g, _ := GOARCH(arch)
	return g
}

// platformString is os/arch[/variant].
func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// realPlatform leaves out an index's entries that are not images to run:
// build attestations (BuildKit tags them unknown/unknown).
func realPlatform(p *v1.Platform) bool {
	return p != nil && p.OS != "unknown" && p.Architecture != "unknown"
}

// CheckPlatform reports whether platforms (os/arch[/variant]) hold one that
// runs on linux for the spec's arch: nil, or a *PlatformError naming image.
func CheckPlatform(image, arch string, platforms []string) error {
	want := "linux/" + archGOARCH(arch)
	for _, p := range platforms {
		if p == want || strings.HasPrefix(p, want+"/") {
			return nil
		}
	}
	return &PlatformError{Image: image, Arch: arch, Have: platforms}
}

// RemotePlatforms reads ref's manifest from its registry, within
// ManifestTimeout, and returns the platforms it holds: each image's of an
// index, or the one image's (from its config).
func RemotePlatforms(ctx context.Context, ref string, auth authn.Authenticator) ([]string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w", ref, err)
	}
	if auth == nil {
		auth = authn.Anonymous
	}
	ctx, cancel := context.WithTimeout(ctx, ManifestTimeout)
	defer cancel()
	desc, err := remote.Get(r, remote.WithAuth(auth), remote.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of %s: %w", r, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		return indexPlatforms(idx)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, err
	}
	return imagePlatforms(img)
}

func indexPlatforms(idx v1.ImageIndex) ([]string, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range m.Manifests {
		if realPlatform(d.Platform) {
			out = append(out, platformString(*d.Platform))
		}
	}
	return out, nil
}

func imagePlatforms(img v1.Image) ([]string, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image's config: %w", err)
	}
	return []string{platformString(v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant})}, nil
}

package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// An image on disk (spec.Service.Archive) is one of:
//   - an OCI image layout directory (oci-layout, index.json, blobs/), as
//     `skopeo copy ... oci:DIR`, `buildah push ... oci:DIR`, ko
//     (--oci-layout-path) and `docker buildx build --output
//     type=oci,tar=false` write it;
//   - an OCI archive: the same layout in a tar (`podman save --format
//     oci-archive`, `docker buildx build --output type=oci`);
//   - a `docker save` tarball (manifest.json; Docker 25 and later also
//     writes the OCI layout files beside it), as podman save, jib
//     (jib:buildTar) and nix (dockerTools.buildImage, gzipped) write it.
// Any of the tarballs may be gzipped.

// LoadArchive reads the image for linux/<arch> (arch as the spec names it)
// from path, an image on disk. image is service.image as the spec names
// it, for messages. An index (a multi-platform image) gives the image of
// the matching platform; an image for another platform is a
// *PlatformError. cleanup removes what reading needed (an OCI archive is
// unpacked to a temporary directory) and must be called once the image is
// no longer read (after the push).
func LoadArchive(image, path, arch string) (img v1.Image, cleanup func(), err error) {
	cleanup = func() {}
	if _, err := GOARCH(arch); err != nil {
		return nil, cleanup, err
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, cleanup, fmt.Errorf("service.image %s: %s does not exist; write it with `docker save -o %s IMAGE` (or podman save, buildah, ko, jib, nix), or point service.image at a Go main package or an image reference", image, path, filepath.Base(path))
	case err != nil:
		return nil, cleanup, fmt.Errorf("service.image %s: %w", image, err)
	case fi.IsDir():
		img, err := fromLayout(image, path, arch)
		return img, cleanup, err
	}
	kind, err := tarKind(path)
	if err != nil {
		return nil, cleanup, fmt.Errorf("service.image %s: %s is not an image tarball (docker save, podman save, an OCI archive): %w", image, path, err)
	}
	switch kind {
	case "docker":
		img, err := fromDockerTarball(image, path, arch)
		return img, cleanup, err
	case "oci":
		dir, err := os.MkdirTemp("", "lowfare-oci-archive-")
		if err != nil {
			return nil, cleanup, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		if err := untar(path, dir); err != nil {
			cleanup()
			return nil, func() {}, fmt.Errorf("service.image %s: unpacking the OCI archive %s: %w", image, path, err)
		}
		img, err := fromLayout(image, dir, arch)
		if err != nil {
			cleanup()
			return nil, func() {}, err
		}
		return img, cleanup, nil
	}
	return nil, cleanup, fmt.Errorf("service.image %s: %s holds neither manifest.json (docker save) nor index.json and oci-layout (an OCI archive); write it with docker save, podman save or skopeo", image, path)
}

// FromArchive is LoadArchive as an image ready to push like one lowfare
// built: its revision is the image's own revision label (that of the
// commit it was built from), if it has one.
func FromArchive(image, path, arch string) (*Built, func(), error) {
	img, cleanup, err := LoadArchive(image, path, arch)
	if err != nil {
		return nil, cleanup, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		cleanup()
		return nil, func() {}, fmt.Errorf("service.image %s: reading the image's config: %w", image, err)
	}
	b, err := newBuilt(img, cf.Config.Labels[RevisionKey], archGOARCH(arch))
	if err != nil {
		cleanup()
		return nil, func() {}, fmt.Errorf("service.image %s: %w", image, err)
	}
	return b, cleanup, nil
}

// opener opens path, through gzip when it is gzipped.
func opener(path string) tarball.Opener {
	return func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		head := make([]byte, 2)
		if _, err := io.ReadFull(f, head); err != nil {
			f.Close()
			return nil, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		if !bytes.Equal(head, []byte{0x1f, 0x8b}) {
			return f, nil
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		return readCloser{zr, f}, nil
	}
}

type readCloser struct {
	io.Reader
	f *os.File
}

func (r readCloser) Close() error { return r.f.Close() }

// tarKind is "docker" for a tarball with manifest.json, "oci" for one with
// index.json and oci-layout only, "" for neither.
func tarKind(path string) (string, error) {
	rc, err := opener(path)()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		seen[strings.TrimPrefix(h.Name, "./")] = true
	}
	switch {
	case seen["manifest.json"]:
		return "docker", nil
	case seen["index.json"] && seen["oci-layout"]:
		return "oci", nil
	}
	return "", nil
}

// untar unpacks the regular files and directories of the tarball at path
// into dir, refusing names that would leave it.
func untar(path, dir string) error {
	rc, err := opener(path)()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.FromSlash(strings.TrimPrefix(h.Name, "./"))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("%q leaves the archive", h.Name)
		}
		target := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

func fromDockerTarball(image, path, arch string) (v1.Image, error) {
	img, err := tarball.Image(opener(path), nil)
	if err != nil {
		return nil, fmt.Errorf("service.image %s: reading the docker save tarball %s: %w (a tarball of several images needs one: docker save one image)", image, path, err)
	}
	platforms, err := imagePlatforms(img)
	if err != nil {
		return nil, fmt.Errorf("service.image %s: %w", image, err)
	}
	if err := CheckPlatform(image, arch, platforms); err != nil {
		return nil, err
	}
	return img, nil
}

// fromLayout picks the image for linux/<arch> from an OCI layout: from its
// index (and the indexes it holds), by the descriptors' platforms, or by
// each image's config where a descriptor has none.
func fromLayout(image, dir, arch string) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("service.image %s: %s is not an OCI image layout (no oci-layout and index.json): %w", image, dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("service.image %s: reading the OCI layout %s: %w", image, dir, err)
	}
	var seen []string
	img, err := pickImage(idx, "linux/"+archGOARCH(arch), &seen, 0)
	if err != nil {
		return nil, fmt.Errorf("service.image %s: reading the OCI layout %s: %w", image, dir, err)
	}
	if img == nil {
		return nil, &PlatformError{Image: image, Arch: arch, Have: seen}
	}
	return img, nil
}

// pickImage is the first image of idx for platform want (os/arch), or nil;
// seen collects the platforms it met.
func pickImage(idx v1.ImageIndex, want string, seen *[]string, depth int) (v1.Image, error) {
	if depth > 4 {
		return nil, errors.New("indexes nested too deep")
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			img, err := pickImage(child, want, seen, depth+1)
			if err != nil || img != nil {
				return img, err
			}
		case d.MediaType.IsImage():
			if d.Platform != nil && !realPlatform(d.Platform) {
				continue // an attestation
			}
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, err
			}
			platform := ""
			if d.Platform != nil {
				platform = platformString(*d.Platform)
			} else {
				ps, err := imagePlatforms(img)
				if err != nil {
					return nil, err
				}
				platform = ps[0]
			}
			*seen = append(*seen, platform)
			if platform == want || strings.HasPrefix(platform, want+"/") {
				return img, nil
			}
		}
	}
	return nil, nil
}

// WriteOutput writes img where `lowfare image build -o PATH` says: a
// tarball when PATH ends in .tar (`docker load` and `podman load` read
// it; it names the image ref), else an OCI image layout directory (new,
// or one that already is a layout: the image is added to its index).
func WriteOutput(img v1.Image, path, ref string) error {
	if strings.HasSuffix(path, ".tar") {
		tag, err := name.NewTag(ref)
		if err != nil {
			return fmt.Errorf("image name %q: %w", ref, err)
		}
		return tarball.WriteToFile(path, tag, img)
	}
	if entries, err := os.ReadDir(path); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(path, "oci-layout")); err != nil {
			return fmt.Errorf("-o %s: the directory exists and is not an OCI image layout; name a new directory, or a file ending in .tar", path)
		}
		p, err := layout.FromPath(path)
		if err != nil {
			return err
		}
		return p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref}))
	}
	p, err := layout.Write(path, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref}))
}

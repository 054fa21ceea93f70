package spec

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ECRRepository is an Amazon ECR private repository named by an image
// reference: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<name>[:tag][@digest].
type ECRRepository struct {
	Account, Region, Name string
}

// ARN is the repository's ARN, in the partition its region belongs to.
func (r ECRRepository) ARN() string {
	return "arn:" + partitionOf(r.Region) + ":ecr:" + r.Region + ":" + r.Account + ":repository/" + r.Name
}

// ecrReference matches a private ECR image reference (including the FIPS
// endpoints) and captures account, region and repository name. Repository
// names are lowercase letters, digits and . _ - / (ECR's naming rule).
var ecrReference = newLazyRegexp(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`)

// ECR returns the private ECR repository service.image names, if it names
// one; public registries (Docker Hub, ghcr.io, public.ecr.aws) do not.
func (s Service) ECR() (ECRRepository, bool) {
	if localPath(s.Image) {
		return ECRRepository{}, false
	}
	m := ecrReference.FindStringSubmatch(s.Image)
	if m == nil {
		return ECRRepository{}, false
	}
	return ECRRepository{Account: m[1], Region: m[2], Name: m[3]}, true
}

// imageDefaults are service.user and service.readonly_root when the file
// sets neither: lowfare's own images run as BuiltUser on a read-only root
// (they need nothing else); an image lowfare did not build keeps its own
// user and may write anywhere, which is what it was made for.
func imageDefaults(svc Service) (user string, readonlyRoot bool) {
	if svc.LocalPackage() {
		return BuiltUser, true
	}
	return "", false
}

func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// localPath reports whether service.image is a path on this machine (.,
// ./x, ../x, /x): a Go package or an image on disk, never a reference.
func localPath(image string) bool {
	return image == "." || strings.HasPrefix(image, "./") || strings.HasPrefix(image, "../") || strings.HasPrefix(image, "/")
}

// archiveSuffixes name files that can only be image tarballs, so that a
// missing ./app.tar is reported as a missing image, not a missing package.
var archiveSuffixes = []string{".tar", ".tar.gz", ".tgz"}

// Archive reports whether service.image names an image on disk, which
// lowfare pushes to the app's ECR repository as it is: an image tarball
// (`docker save`, `podman save`, an OCI archive, gzipped or not) or an OCI
// image layout directory (one holding an oci-layout file). Paths ending in
// .tar, .tar.gz or .tgz are tarballs; for others the loader looks at the
// file (ResolveArchive): a Go package is a directory without oci-layout.
func (s Service) Archive() bool {
	if !localPath(s.Image) {
		return false
	}
	if s.archive {
		return true
	}
	lower := strings.ToLower(s.Image)
	for _, suffix := range archiveSuffixes {
		if strings.HasSuffix(lower, suffix) {
			return true
		}
	}
	return false
}

// Pushed reports whether lowfare pushes service.image to the app's own ECR
// repository (the bootstrap stack's): a Go package it builds, or an image
// on disk. An image reference is run from where it is.
func (s Service) Pushed() bool { return localPath(s.Image) }

// ResolveArchive looks at service.image, when it is a local path, from dir
// (the spec file's directory) and records whether it is an image on disk
// rather than a Go package: a file that is a tarball (gzip or tar magic),
// or a directory with an oci-layout file. A path that does not exist is
// left to its name (Archive).
func (s *Service) ResolveArchive(dir string) {
	if !localPath(s.Image) {
		return
	}
	p := s.Image
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	fi, err := os.Stat(p)
	switch {
	case err != nil:
	case fi.IsDir():
		_, err := os.Stat(filepath.Join(p, "oci-layout"))
		s.archive = err == nil
	case fi.Mode().IsRegular():
		s.archive = tarballMagic(p)
	}
}

// tarballMagic reports whether the file starts like a gzip stream or a tar
// archive (ustar at offset 257, POSIX and GNU alike).
func tarballMagic(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 262)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	return bytes.HasPrefix(head, []byte{0x1f, 0x8b}) || (n >= 262 && bytes.Equal(head[257:262], []byte("ustar")))
}

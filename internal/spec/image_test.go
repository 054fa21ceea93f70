package spec

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"
)

// TestImageKinds: service.image is a Go package, an image on disk or a
// reference, and the kind decides who pushes it and the user and root
// filesystem defaults. An image on disk is told from a package by looking:
// a tarball by its name or its bytes, a layout by its oci-layout file.
func TestImageKinds(t *testing.T) {
	dir := t.TempDir()
	mkdir := func(name string, files ...string) {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, name, f), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	mkdir("cmd/server", "main.go")
	mkdir("layout", "oci-layout", "index.json")
	// nix's ./result: a tarball without a tarball's name.
	f, err := os.Create(filepath.Join(dir, "result"))
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	if err := tw.WriteHeader(&tar.Header{Name: "manifest.json", Size: 2, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("[]"))
	tw.Close()
	f.Close()

	for _, tc := range []struct {
		image                string
		pkg, archive, pushed bool
		user                 string
		readonly             bool
	}{
		{"./cmd/server", true, false, true, BuiltUser, true},
		{".", true, false, true, BuiltUser, true},
		{"./layout", false, true, true, "", false},
		{"./result", false, true, true, "", false},
		{"./missing.tar", false, true, true, "", false},
		{"./missing.tar.gz", false, true, true, "", false},
		{"public.ecr.aws/nginx/nginx:1.27", false, false, false, "", false},
	} {
		path := filepath.Join(dir, "lowfare.yaml")
		if err := os.WriteFile(path, []byte("app: shop\nservice:\n  image: "+tc.image+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", tc.image, err)
		}
		svc := s.Service
		if svc.LocalPackage() != tc.pkg || svc.Archive() != tc.archive || svc.Pushed() != tc.pushed {
			t.Errorf("%s: package %v, archive %v, pushed %v; want %v %v %v", tc.image, svc.LocalPackage(), svc.Archive(), svc.Pushed(), tc.pkg, tc.archive, tc.pushed)
		}
		if svc.User != tc.user || svc.ReadonlyRoot != tc.readonly {
			t.Errorf("%s: user %q, readonly_root %v; want %q, %v", tc.image, svc.User, svc.ReadonlyRoot, tc.user, tc.readonly)
		}
		if _, ok := svc.ECR(); ok {
			t.Errorf("%s: a local path names an ECR repository", tc.image)
		}
	}
}

// TestArchiveRunsOnServerless: an image on disk is pushed to the app's ECR
// repository, which Lambda can pull from; only references must already be
// in ECR.
func TestArchiveRunsOnServerless(t *testing.T) {
	s := Default()
	s.Profile = ProfileServerless
	s.Ingress.Kind = IngressURL
	s.Service.Image = "./app.tar"
	s.Service.User, s.Service.ReadonlyRoot = "", false
	if err := Validate(s); err != nil {
		t.Errorf("Validate: %v", err)
	}
	s.Service.Image = "ghcr.io/acme/app:1"
	if err := Validate(s); err == nil {
		t.Error("a ghcr.io reference validates for serverless")
	}
}

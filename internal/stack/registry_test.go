package stack

import (
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
)

// TestNoRepositoryForAnImageReference: the bootstrap stack's ECR
// repository exists only for an image lowfare pushes (a Go package it
// builds, an image on disk); an image reference runs from its own
// registry, so no repository (nothing would use it) and no bootstrap
// stack. The task pulls from the app's repository exactly when there is one.
func TestNoRepositoryForAnImageReference(t *testing.T) {
	for _, tc := range []struct {
		image string
		repo  bool
	}{
		{".", true},
		{"./cmd/server", true},
		{"./app.tar", true},
		{"public.ecr.aws/nginx/nginx:1.27", false},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1", false},
	} {
		s := variant(func(s *spec.Spec) { s.Service.Image = tc.image })
		if !s.Service.LocalPackage() {
			s.Service.User, s.Service.ReadonlyRoot = "", false
		}
		r := build(t, s)
		if got := r.Bootstrap != nil; got != tc.repo {
			t.Errorf("%s: bootstrap stack %v; want %v", tc.image, got, tc.repo)
		}
		for _, e := range r.Entries {
			if !tc.repo && e.Stack == "bootstrap" {
				t.Errorf("%s: bootstrap entry %s", tc.image, e.LogicalID)
			}
		}
		j, err := r.Main.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if own := strings.Contains(string(j), "repository/lowfare/links-dev"); own != tc.repo {
			t.Errorf("%s: the execution role pulls from the app's repository: %v; want %v", tc.image, own, tc.repo)
		}
	}
}

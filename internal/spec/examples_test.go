package spec

import (
	"path/filepath"
	"testing"
)

// exampleFiles are the committed examples/*.yaml; each must load cleanly.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Fatalf("found %d examples, want at least 6", len(files))
	}
	return files
}

func TestExamplesLoad(t *testing.T) {
	for _, f := range exampleFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if s.Service.Schedule != nil {
				if _, err := s.Service.Schedule.Parse(); err != nil {
					t.Errorf("schedule: %v", err)
				}
			}
		})
	}
}

// TestExampleShapes pins what each example exists to show, so an edit
// cannot silently turn one example into another.
func TestExampleShapes(t *testing.T) {
	load := func(name string) *Spec {
		t.Helper()
		s, err := Load(filepath.Join("../../examples", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return s
	}
	if s := load("free-alb.yaml"); s.Profile != ProfileFree || s.Ingress.Kind != IngressALB || s.Ingress.TLS() {
		t.Errorf("free-alb: %+v", s.Ingress)
	}
	s := load("free-apigw.yaml")
	if s.Ingress.Kind != IngressAPIGW || s.Service.Schedule == nil || s.Service.Schedule.Timezone != "Europe/Berlin" || s.Service.Schedule.Awake != "Mon-Fri 08:00-20:00" {
		t.Errorf("free-apigw: ingress %+v schedule %+v", s.Ingress, s.Service.Schedule)
	}
	if s := load("free-tls.yaml"); !s.Ingress.TLS() || s.Ingress.Domain == "" || s.Ingress.HostedZoneID == "" {
		t.Errorf("free-tls: %+v", s.Ingress)
	}
	if s := load("ha.yaml"); s.Profile != ProfileHA || s.Service.Count.Min < 2 || !s.Table.PITR || s.Service.Schedule != nil {
		t.Errorf("ha: %+v %+v", s.Service.Count, s.Table)
	}
	if s := load("serverless.yaml"); s.Profile != ProfileServerless || s.Ingress.Kind != IngressURL {
		t.Errorf("serverless: %+v", s.Ingress)
	}
	if s := load("spot-x86.yaml"); !s.Service.Spot || s.Service.Arch != ArchX8664 {
		t.Errorf("spot-x86: %+v", s.Service)
	}
}

// TestGuestbookSpecs: the second example app (examples/guestbook, not
// links) has a spec for each profile, all with the same service contract.
func TestGuestbookSpecs(t *testing.T) {
	for file, profile := range map[string]string{"lowfare.yaml": ProfileFree, "ha.yaml": ProfileHA, "serverless.yaml": ProfileServerless} {
		s, err := Load(filepath.Join("../../examples/guestbook", file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		svc := s.Service
		if s.App != "guestbook" || s.Profile != profile || svc.Image != "." || svc.Port != 9090 || svc.Health.Path != "/health" || len(svc.Secrets) != 0 {
			t.Errorf("%s: app %q profile %q image %q port %d health %q secrets %v", file, s.App, s.Profile, svc.Image, svc.Port, svc.Health.Path, svc.Secrets)
		}
	}
}

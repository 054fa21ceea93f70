package stack

import (
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
)

// The serverless function reserves service.concurrency, so a public URL
// cannot start instances up to the account's limit; the idle function of
// serve: app does not, since it answers only while the service sleeps.
func TestServerlessReservesConcurrency(t *testing.T) {
	for _, c := range []struct {
		name string
		set  int // 0 keeps the default, -1 writes 0
		want float64
	}{
		{"default", 0, spec.DefaultConcurrency},
		{"set", 25, 25},
		{"none", -1, 0}, // concurrency: 0, no reservation
	} {
		t.Run(c.name, func(t *testing.T) {
			s := spec.Default()
			s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
			switch {
			case c.set > 0:
				s.Service.Concurrency = c.set
			case c.set < 0:
				s.Service.Concurrency = 0
			}
			fn := resourcesOfType(generic(t, build(t, s).Main), "AWS::Lambda::Function")["Function"]
			v, has := fn["ReservedConcurrentExecutions"]
			if got, _ := v.(float64); got != c.want || has != (c.want > 0) {
				t.Errorf("ReservedConcurrentExecutions %v, want %v", fn["ReservedConcurrentExecutions"], c.want)
			}
		})
	}
	s := spec.Default()
	s.Service.Idle = &spec.Idle{After: "15m", Serve: spec.ServeApp}
	fns := resourcesOfType(generic(t, build(t, s).Main), "AWS::Lambda::Function")
	if _, ok := fns["AppFunction"]; !ok {
		t.Fatal("idle serve: app made no AppFunction")
	}
	for id, fn := range fns {
		if v, ok := fn["ReservedConcurrentExecutions"]; ok {
			t.Errorf("%s (profile free) reserves concurrency %v", id, v)
		}
	}
}

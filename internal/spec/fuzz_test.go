package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the loader. It must never panic, and
// must return either a spec that satisfies the rules or a *Problems whose
// every problem has a position.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../examples/*.yaml")
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, path := range append(seeds, bad...) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var probs *Problems
			if !errors.As(err, &probs) {
				t.Fatalf("error is %T, want *Problems: %v", err, err)
			}
			if s != nil {
				t.Fatal("both a spec and an error")
			}
			for _, p := range probs.List {
				if p.Pos.Line < 1 || p.Pos.Column < 1 || p.Msg == "" {
					t.Fatalf("problem without position or message: %+v", p)
				}
			}
			return
		}
		// A spec that loads obeys the rules the stack relies on.
		if s.ECS() && !slices.Contains(FargateMemory(s.Service.CPU), s.Service.Memory) {
			t.Fatalf("invalid Fargate pair %d/%d accepted", s.Service.CPU, s.Service.Memory)
		}
		if s.ECS() && s.Service.Spot && s.Service.Arch == ArchARM64 {
			t.Fatal("spot with arm64 accepted")
		}
		c := s.Service.Count
		if c.Min > c.Desired || c.Desired > c.Max || c.Max < 1 {
			t.Fatalf("count %+v accepted", c)
		}
		if h := s.Service.Health; h.Timeout >= h.Interval {
			t.Fatalf("health %+v accepted", h)
		}
		if !slices.Contains(retentionDays, s.Logs.RetentionDays) {
			t.Fatalf("retention %d accepted", s.Logs.RetentionDays)
		}
		if sch := s.Service.Schedule; sch != nil {
			if _, err := sch.Parse(); err != nil {
				t.Fatalf("schedule accepted but does not parse: %v", err)
			}
		}
	})
}

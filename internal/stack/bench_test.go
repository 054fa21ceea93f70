package stack

import (
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
)

// BenchmarkBuildAndMarshal is the in-process part of `lowfare synth`:
// rules, both templates, JSON (and YAML) of both.
func BenchmarkBuildAndMarshal(b *testing.B) {
	s := spec.Default()
	for _, format := range []string{"json", "yaml"} {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				r, err := Build(s)
				if err != nil {
					b.Fatal(err)
				}
				for _, t := range []interface {
					JSON() ([]byte, error)
					YAML() ([]byte, error)
				}{r.Bootstrap, r.Main} {
					var err error
					if format == "json" {
						_, err = t.JSON()
					} else {
						_, err = t.YAML()
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

package stack

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"testing"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current templates")

// Each example's two templates are kept under testdata/golden; a change to
// a template shows up as a diff to review. Refresh with
// `go test ./internal/stack -run Golden -update`.
func TestGoldenTemplates(t *testing.T) {
	for _, c := range exampleSpecs(t) {
		t.Run(c.name, func(t *testing.T) {
			r := build(t, c.spec)
			for file, tmpl := range map[string]interface{ JSON() ([]byte, error) }{
				c.name + ".bootstrap.json": r.Bootstrap,
				c.name + ".json":           r.Main,
			} {
				if tmpl == (*cfn.Template)(nil) {
					continue // an image reference has no bootstrap stack
				}
				got, err := tmpl.JSON()
				if err != nil {
					t.Fatal(err)
				}
				testutil.Golden(t, filepath.Join("testdata", "golden", file), got, *update)
			}
		})
	}
}

// Building twice gives the same bytes, in both formats.
func TestTemplatesAreDeterministic(t *testing.T) {
	for _, c := range allSpecs(t) {
		a, b := build(t, c.spec), build(t, c.spec)
		for _, pair := range [][2]interface {
			JSON() ([]byte, error)
			YAML() ([]byte, error)
		}{{a.Main, b.Main}, {a.Bootstrap, b.Bootstrap}} {
			if pair[0] == (*cfn.Template)(nil) {
				continue
			}
			j1, _ := pair[0].JSON()
			j2, _ := pair[1].JSON()
			y1, _ := pair[0].YAML()
			y2, _ := pair[1].YAML()
			if !bytes.Equal(j1, j2) || !bytes.Equal(y1, y2) {
				t.Errorf("%s: two builds differ", c.name)
			}
		}
	}
}

// CloudFormation takes a template body of at most 51,200 bytes inline
// (larger ones must go through S3); deploy sends it inline, compact
// (json.Marshal, internal/cli deploy), so that is the form measured.
// synth's indented files are for reading; idle templates no longer fit
// inline in that form.
func TestTemplatesFitTheInlineLimit(t *testing.T) {
	for _, c := range allSpecs(t) {
		r := build(t, c.spec)
		for name, tmpl := range map[string]*cfn.Template{"main": r.Main, "bootstrap": r.Bootstrap} {
			if tmpl == nil {
				continue
			}
			j, _ := json.Marshal(tmpl)
			if len(j) > cfn.MaxTemplateBody {
				t.Errorf("%s %s: %d bytes, over CloudFormation's %d-byte TemplateBody", c.name, name, len(j), cfn.MaxTemplateBody)
			}
		}
	}
}

package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lowfare/lowfare/internal/gosrc"
	"github.com/lowfare/lowfare/internal/spec"
)

// appGuess is what lowfare init can tell about the app in a directory by
// reading its Go source (never by running it). Every field it fills comes
// with a note saying where it came from; what it cannot tell stays at the
// default, and the notes say so.
type appGuess struct {
	image      string // "." when the directory holds a Go main package
	app        string // the directory's name, when it is a valid app name
	port       int
	healthPath string
	notes      []string
}

// guessApp reads the non-test .go files of dir. Only a main package counts:
// a library has no port to guess.
func guessApp(dir string) appGuess {
	var g appGuess
	abs, err := filepath.Abs(dir)
	if err != nil {
		return g
	}
	m, err := gosrc.ParseMain(abs)
	if err != nil {
		return g
	}
	if m == nil {
		g.notes = append(g.notes, fmt.Sprintf("no Go main package in %s: service.image stays %q; set it to your main package (such as ./cmd/app) or an image reference", dir, spec.Default().Service.Image))
		return g
	}
	g.image = "."
	g.notes = append(g.notes, fmt.Sprintf("service.image: . (package main in %s)", m.File()))
	if base := filepath.Base(abs); validAppName(base) {
		g.app = base
		g.notes = append(g.notes, fmt.Sprintf("app: %s (the directory's name)", base))
	}
	g.notePort(m)
	g.noteHealth(m)
	return g
}

// notePort takes the port the source gives $PORT or listens on, and says
// where it found it.
func (g *appGuess) notePort(m *gosrc.Main) {
	p, ok := m.Port()
	switch {
	case !ok:
		g.notes = append(g.notes, fmt.Sprintf("service.port stays %d: no listen address or $PORT default found; the app must listen on $PORT", spec.Default().Service.Port))
		return
	case p.EnvDefault:
		g.notes = append(g.notes, fmt.Sprintf("service.port: %d (%s: the default it gives $PORT; lowfare sets PORT=%d)", p.Number, p.At, p.Number))
	default:
		caveat := ""
		if !p.ReadsEnv {
			caveat = "; it does not read $PORT, so keep service.port equal to it"
		}
		g.notes = append(g.notes, fmt.Sprintf("service.port: %d (%s listens on %q%s)", p.Number, p.At, p.Literal, caveat))
	}
	g.port = p.Number
}

// noteHealth takes the health route the source serves, and says where it
// found it.
func (g *appGuess) noteHealth(m *gosrc.Main) {
	path, at, ok := m.HealthPath()
	if !ok {
		g.notes = append(g.notes, fmt.Sprintf("service.health.path stays %s: no %s route found; the app must answer it with 2xx", spec.Default().Service.Health.Path, strings.Join(gosrc.HealthRoutes, " or ")))
		return
	}
	g.healthPath = path
	g.notes = append(g.notes, fmt.Sprintf("service.health.path: %s (%s)", path, at))
}

// dropApp forgets the app name guess (--app was given).
func (g *appGuess) dropApp() {
	if g.app == "" {
		return
	}
	g.app = ""
	g.notes = slices.DeleteFunc(g.notes, func(n string) bool { return strings.HasPrefix(n, "app: ") })
}

// apply puts the guesses into s and checks the result as the loader would.
func (g *appGuess) apply(s *spec.Spec) error {
	if g.image == "" {
		return nil
	}
	s.Service.Image = g.image
	if g.port != 0 {
		s.Service.Port = g.port
	}
	if g.healthPath != "" {
		s.Service.Health.Path = g.healthPath
	}
	return recheck(s, "lowfare init")
}

func (g *appGuess) print(w io.Writer, dir string) {
	if len(g.notes) == 0 {
		return
	}
	fmt.Fprintf(w, "from %s:\n", dir)
	for _, n := range g.notes {
		fmt.Fprintln(w, "  "+n)
	}
}

// validAppName asks spec, which owns the rule.
func validAppName(name string) bool {
	_, err := spec.New(name, "", "")
	return err == nil
}

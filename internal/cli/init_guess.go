package cli

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

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
	entries, err := os.ReadDir(abs)
	if err != nil {
		return g
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(abs, name), nil, parser.SkipObjectResolution)
		if err != nil || f.Name.Name != "main" {
			continue
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		g.notes = append(g.notes, fmt.Sprintf("no Go main package in %s: service.image stays %q; set it to your main package (such as ./cmd/app) or an image reference", dir, spec.Default().Service.Image))
		return g
	}
	g.image = "."
	g.notes = append(g.notes, fmt.Sprintf("service.image: . (package main in %s)", filepath.Base(fset.Position(files[0].Package).Filename)))
	if base := filepath.Base(abs); validAppName(base) {
		g.app = base
		g.notes = append(g.notes, fmt.Sprintf("app: %s (the directory's name)", base))
	}
	g.findPort(fset, files)
	g.findHealth(fset, files)
	return g
}

// findPort looks for the default the app gives $PORT (a numeric literal
// within a few lines after os.Getenv("PORT") or LookupEnv), else a
// literal listen address ":NNNN".
func (g *appGuess) findPort(fset *token.FileSet, files []*ast.File) {
	var readsPort []token.Pos
	type lit struct {
		pos   token.Pos
		value string
	}
	var lits []lit
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Getenv" || sel.Sel.Name == "LookupEnv") && len(n.Args) == 1 {
					if v, ok := stringLit(n.Args[0]); ok && v == "PORT" {
						readsPort = append(readsPort, n.Pos())
					}
				}
			case *ast.BasicLit:
				if v, ok := stringLit(n); ok {
					lits = append(lits, lit{n.Pos(), v})
				}
			}
			return true
		})
	}
	for _, at := range readsPort {
		line := fset.Position(at).Line
		for _, l := range lits {
			p := fset.Position(l.pos)
			if p.Filename != fset.Position(at).Filename || p.Line < line || p.Line > line+5 {
				continue
			}
			if port, ok := portNumber(strings.TrimPrefix(l.value, ":")); ok {
				g.port = port
				g.notes = append(g.notes, fmt.Sprintf("service.port: %d (%s: the default it gives $PORT; lowfare sets PORT=%d)", port, rel(fset, l.pos), port))
				return
			}
		}
	}
	for _, l := range lits {
		if !strings.HasPrefix(l.value, ":") {
			continue
		}
		if port, ok := portNumber(l.value[1:]); ok {
			g.port = port
			caveat := ""
			if len(readsPort) == 0 {
				caveat = "; it does not read $PORT, so keep service.port equal to it"
			}
			g.notes = append(g.notes, fmt.Sprintf("service.port: %d (%s listens on %q%s)", port, rel(fset, l.pos), l.value, caveat))
			return
		}
	}
	g.notes = append(g.notes, fmt.Sprintf("service.port stays %d: no listen address or $PORT default found; the app must listen on $PORT", spec.Default().Service.Port))
}

// healthRoutes are the paths findHealth recognises, most likely first.
var healthRoutes = []string{"/healthz", "/health"}

// findHealth looks for a route literal "/healthz" or "/health" (also as a
// Go 1.22 pattern, "GET /health").
func (g *appGuess) findHealth(fset *token.FileSet, files []*ast.File) {
	found := map[string]token.Pos{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if v, ok := stringLit(n); ok {
				v = strings.TrimPrefix(v, "GET ")
				if slices.Contains(healthRoutes, v) && found[v] == token.NoPos {
					found[v] = n.Pos()
				}
			}
			return true
		})
	}
	for _, path := range healthRoutes {
		if at, ok := found[path]; ok {
			g.healthPath = path
			g.notes = append(g.notes, fmt.Sprintf("service.health.path: %s (%s)", path, rel(fset, at)))
			return
		}
	}
	g.notes = append(g.notes, fmt.Sprintf("service.health.path stays %s: no /healthz or /health route found; the app must answer it with 2xx", spec.Default().Service.Health.Path))
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

func stringLit(n ast.Node) (string, bool) {
	b, ok := n.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", false
	}
	v, err := strconv.Unquote(b.Value)
	return v, err == nil
}

func portNumber(s string) (int, bool) {
	if s == "" || len(s) > 5 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 65535
}

// rel is a position as file:line with the file's base name.
func rel(fset *token.FileSet, pos token.Pos) string {
	p := fset.Position(pos)
	return fmt.Sprintf("%s:%d", filepath.Base(p.Filename), p.Line)
}

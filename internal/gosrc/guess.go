package gosrc

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Main is the parsed source of a directory's main package: its non-test
// files that say package main.
type Main struct {
	fset  *token.FileSet
	files []*ast.File
}

// ParseMain parses the non-test .go files of dir and keeps those of
// package main. It returns nil and no error when dir has none (a library
// has no port to guess), and an error only when dir cannot be read. Files
// that do not parse are skipped.
func ParseMain(dir string) (*Main, error) {
	names, err := sourceFiles(dir)
	if err != nil {
		return nil, err
	}
	m := &Main{fset: token.NewFileSet()}
	for _, name := range names {
		f, err := parser.ParseFile(m.fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil || f.Name.Name != "main" {
			continue
		}
		m.files = append(m.files, f)
	}
	if len(m.files) == 0 {
		return nil, nil
	}
	return m, nil
}

// File is the base name of the package's first file.
func (m *Main) File() string {
	return filepath.Base(m.fset.Position(m.files[0].Package).Filename)
}

// Port is what the source says about the port the program listens on.
type Port struct {
	Number  int
	At      string // file:line of the literal that gave Number, file by base name
	Literal string // the literal as the program has it: "3000", ":9000"
	// EnvDefault: the literal is the default the program gives $PORT
	// (it sits within a few lines after os.Getenv("PORT")); else it is a
	// listen address.
	EnvDefault bool
	// ReadsEnv: the program reads $PORT somewhere (os.Getenv or
	// os.LookupEnv), whether or not Number came from there.
	ReadsEnv bool
}

// portDefaultLines is how many lines after reading $PORT the default it
// gets may sit (port := os.Getenv("PORT"); if port == "" { port = "3000" }).
const portDefaultLines = 5

// Port finds the default the program gives $PORT (a numeric string
// literal within portDefaultLines after os.Getenv("PORT") or LookupEnv, in
// the same file), else the first literal listen address ":NNNN". ok is
// false when there is neither; p.ReadsEnv is set either way.
func (m *Main) Port() (p Port, ok bool) {
	readsPort, lits := m.portClues()
	p.ReadsEnv = len(readsPort) > 0
	for _, at := range readsPort {
		from := m.fset.Position(at)
		for _, l := range lits {
			pos := m.fset.Position(l.pos)
			if pos.Filename != from.Filename || pos.Line < from.Line || pos.Line > from.Line+portDefaultLines {
				continue
			}
			if n, ok := portNumber(strings.TrimPrefix(l.value, ":")); ok {
				p.Number, p.At, p.Literal, p.EnvDefault = n, m.at(l.pos), l.value, true
				return p, true
			}
		}
	}
	for _, l := range lits {
		host, port, ok := strings.Cut(l.value, ":")
		if !ok || !slices.Contains(listenHosts, host) {
			continue
		}
		if n, ok := portNumber(port); ok {
			p.Number, p.At, p.Literal = n, m.at(l.pos), l.value
			return p, true
		}
	}
	return p, false
}

// listenHosts are the hosts of a literal listen address Port recognises:
// every interface, or this machine's own. Hosts and IPv6 addresses are
// left out: "example.com:80" is more likely a URL's than a listener's.
var listenHosts = []string{"", "0.0.0.0", "localhost", "127.0.0.1"}

// literal is a string literal's unquoted value and where it is.
type literal struct {
	pos   token.Pos
	value string
}

// portClues are the calls that read $PORT and every string literal, in
// source order.
func (m *Main) portClues() (readsPort []token.Pos, lits []literal) {
	for _, f := range m.files {
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
					lits = append(lits, literal{n.Pos(), v})
				}
			}
			return true
		})
	}
	return readsPort, lits
}

// secretName is an environment variable whose name says it holds a
// secret: API_KEY, ADMIN_TOKEN, SESSION_SECRET, DB_PASSWORD.
var secretName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*(_KEY|_TOKEN|_SECRET|PASSWORD|_PASS|_CREDENTIALS)$`)

// Secret is an environment variable the program reads whose name says it
// holds a secret.
type Secret struct {
	Name string
	At   string // file:line of the first read
}

// Secrets are the variables the program reads (os.Getenv or LookupEnv of
// a literal name) whose names say they hold secrets, in source order. The
// AWS SDK's own (AWS_*: the app's role gives credentials), the libpq ones
// lowfare sets with a database (PG*) and lowfare's own (LOWFARE_*) are
// not the app's to store.
func (m *Main) Secrets() []Secret {
	var out []Secret
	seen := map[string]bool{}
	for _, f := range m.files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Getenv" && sel.Sel.Name != "LookupEnv") {
				return true
			}
			v, ok := stringLit(call.Args[0])
			if !ok || seen[v] || !secretName.MatchString(v) {
				return true
			}
			for _, p := range []string{"AWS_", "PG", "LOWFARE_"} {
				if strings.HasPrefix(v, p) {
					return true
				}
			}
			seen[v] = true
			out = append(out, Secret{Name: v, At: m.at(call.Pos())})
			return true
		})
	}
	return out
}

// HealthRoutes are the paths HealthPath recognises, most likely first.
var HealthRoutes = []string{"/healthz", "/health"}

// HealthPath finds a route literal of HealthRoutes (also as a Go 1.22
// pattern, "GET /health") and says where it is (file:line); the earlier
// route of HealthRoutes wins when the source has both.
func (m *Main) HealthPath() (path, at string, ok bool) {
	found := map[string]token.Pos{}
	for _, f := range m.files {
		ast.Inspect(f, func(n ast.Node) bool {
			if v, ok := stringLit(n); ok {
				v = strings.TrimPrefix(v, "GET ")
				if slices.Contains(HealthRoutes, v) && found[v] == token.NoPos {
					found[v] = n.Pos()
				}
			}
			return true
		})
	}
	for _, path := range HealthRoutes {
		if pos, ok := found[path]; ok {
			return path, m.at(pos), true
		}
	}
	return "", "", false
}

// at is a position as file:line with the file's base name.
func (m *Main) at(pos token.Pos) string {
	p := m.fset.Position(pos)
	return fmt.Sprintf("%s:%d", filepath.Base(p.Filename), p.Line)
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

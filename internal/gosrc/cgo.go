package gosrc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// CgoError is a main package that needs cgo: a package it imports, outside
// the standard library, has C code (files that import "C"). lowfare builds
// static binaries with CGO_ENABLED=0 for images with no C library, and
// without cgo such a package does not build, or builds to a stub that fails
// at run time (github.com/mattn/go-sqlite3 does that): refused up front
// instead, in the image build and in `lowfare dev` alike.
type CgoError struct {
	Package      string // the main package, as it was named (such as ./cmd/server)
	Dir          string
	GOOS, GOARCH string // the target asked for; "" for go's default
	// Needs are the packages with C code, nearest to the main package
	// first (fewest imports away).
	Needs []CgoPackage
}

// CgoPackage is one package with C code, and how the main package gets to it.
type CgoPackage struct {
	ImportPath string
	// Chain is the import path from the main package to ImportPath, both
	// included: the shortest one.
	Chain []string
	// Alternative is a well-known pure-Go package that does the same job,
	// in words; "" when none is known.
	Alternative string
}

func (e *CgoError) Error() string {
	var b strings.Builder
	first := e.Needs[0]
	fmt.Fprintf(&b, "%s needs cgo: %s has C code (import \"C\")", first.Chain[0], first.ImportPath)
	if len(first.Chain) > 2 {
		fmt.Fprintf(&b, ", imported through %s", strings.Join(first.Chain, " -> "))
	}
	if len(e.Needs) > 1 {
		others := make([]string, 0, len(e.Needs)-1)
		for _, n := range e.Needs[1:] {
			others = append(others, n.ImportPath)
		}
		fmt.Fprintf(&b, " (so do %s)", strings.Join(others, ", "))
	}
	b.WriteString("; lowfare builds static binaries without cgo (CGO_ENABLED=0) for images that have no C library, where such a package fails to build or stops the app at run time. ")
	alts := 0
	for _, n := range e.Needs {
		if n.Alternative != "" {
			fmt.Fprintf(&b, "Replace %s with %s. ", n.ImportPath, n.Alternative)
			alts++
		}
	}
	if alts < len(e.Needs) {
		b.WriteString("Use a pure-Go package instead of the one with C code, or deploy an image you build yourself (service.image: an image reference, a `docker save` tarball or an OCI layout directory).")
	}
	return strings.TrimSpace(b.String())
}

// pureGo are pure-Go replacements for packages with C code that Go web
// apps commonly import, by import path prefix (a module path; its
// subpackages match too).
var pureGo = []struct{ prefix, alternative string }{
	// GORM's SQLite driver wraps go-sqlite3; its pure-Go twin keeps the API.
	{"gorm.io/driver/sqlite", "github.com/glebarez/sqlite (GORM's SQLite driver on modernc.org/sqlite, the same API)"},
	{"github.com/mattn/go-sqlite3", `modernc.org/sqlite (database/sql driver name "sqlite" instead of "sqlite3") or github.com/ncruces/go-sqlite3`},
	{"github.com/confluentinc/confluent-kafka-go", "github.com/twmb/franz-go or github.com/segmentio/kafka-go"},
	{"gopkg.in/confluentinc/confluent-kafka-go", "github.com/twmb/franz-go or github.com/segmentio/kafka-go"},
	{"github.com/DataDog/zstd", "github.com/klauspost/compress/zstd"},
	{"github.com/valyala/gozstd", "github.com/klauspost/compress/zstd"},
	{"github.com/mattn/go-oci8", "github.com/sijms/go-ora"},
	{"github.com/godror/godror", "github.com/sijms/go-ora"},
	{"github.com/pebbe/zmq4", "github.com/go-zeromq/zmq4"},
	{"github.com/libgit2/git2go", "github.com/go-git/go-git/v5"},
	{"github.com/linxGnu/grocksdb", "github.com/cockroachdb/pebble"},
	{"github.com/tecbot/gorocksdb", "github.com/cockroachdb/pebble"},
}

// worksWithoutCgo are modules whose C code is optional: built without cgo
// they take a pure-Go path that works (not a stub that fails), so they do
// not make an app need cgo.
//   - github.com/ebitengine/purego calls C libraries without cgo (its own
//     runtime/cgo replacement, internal/fakecgo); its cgo files are used
//     only when cgo is on.
//   - github.com/DataDog/go-libddwaf is dd-trace-go's application security
//     engine; built without cgo the tracer runs with that feature off.
var worksWithoutCgo = []string{
	"github.com/ebitengine/purego",
	"github.com/DataDog/go-libddwaf",
}

func optionalCgo(importPath string) bool {
	for _, m := range worksWithoutCgo {
		if importPath == m || strings.HasPrefix(importPath, m+"/") {
			return true
		}
	}
	return false
}

// alternativeFor is the pure-Go replacement for the package with C code at
// the end of chain: the one for the package nearest the main package that
// has one (a GORM driver rather than the C library it wraps), or "".
func alternativeFor(chain []string) string {
	for _, p := range chain {
		for _, alt := range pureGo {
			if p == alt.prefix || strings.HasPrefix(p, alt.prefix+"/") || strings.HasPrefix(p, alt.prefix+".") {
				return alt.alternative
			}
		}
	}
	return ""
}

// CheckCgo reports whether the main package o names (o.Dir, o.Package)
// would compile C code for o's target when cgo is on: a *CgoError naming
// every package outside the standard library with cgo files, or nil. The
// standard library's cgo users (net, os/user) have pure-Go fallbacks and do
// not count, nor do the few modules known to work without cgo
// (worksWithoutCgo). It asks `go list -deps` with CGO_ENABLED=1, which reads the
// sources and compiles nothing; nil also when go list cannot answer (a
// package that does not compile, go missing), because the build that
// follows says why in go's words.
func CheckCgo(ctx context.Context, o BuildOptions) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	goBin := o.Go
	if goBin == "" {
		goBin = "go"
	}
	// One line a package: import path, standard?, dependency only?,
	// number of cgo files, its imports.
	const format = `{{.ImportPath}}	{{.Standard}}	{{.DepOnly}}	{{len .CgoFiles}}	{{join .Imports " "}}`
	cmd := exec.CommandContext(ctx, goBin, "list", "-e", "-deps", "-f", format, o.Package)
	cmd.Dir = o.Dir
	opts := o
	opts.NoCgo = false
	cmd.Env = append(os.Environ(), opts.env()...)
	// Explicitly on: go turns cgo off by default when it cross-compiles,
	// and the files that need it would then not be listed at all.
	cmd.Env = append(cmd.Env, "CGO_ENABLED=1")
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	type pkg struct {
		cgo     bool
		imports []string
	}
	pkgs := map[string]pkg{}
	var main string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 5 {
			continue
		}
		p := pkg{cgo: f[1] == "false" && f[3] != "0" && !optionalCgo(f[0]), imports: strings.Fields(f[4])}
		pkgs[f[0]] = p
		if f[2] == "false" {
			main = f[0]
		}
	}
	if main == "" {
		return nil
	}
	// Breadth first from the main package: the shortest import chain to
	// each package, and the packages in order of distance.
	parent := map[string]string{main: ""}
	queue := []string{main}
	var needs []CgoPackage
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		p := pkgs[cur]
		if p.cgo {
			var chain []string
			for at := cur; at != ""; at = parent[at] {
				chain = append([]string{at}, chain...)
			}
			needs = append(needs, CgoPackage{ImportPath: cur, Chain: chain, Alternative: alternativeFor(chain)})
		}
		for _, imp := range p.imports {
			if _, seen := parent[imp]; !seen {
				parent[imp] = cur
				queue = append(queue, imp)
			}
		}
	}
	if len(needs) == 0 {
		return nil
	}
	return &CgoError{Package: o.Package, Dir: o.Dir, GOOS: o.GOOS, GOARCH: o.GOARCH, Needs: needs}
}

// Package gosrc answers lowfare's questions about a user's Go source and
// runs the `go` tool for it, so that init, plan, the image build and
// `lowfare dev` ask them one way:
//
//   - module.go: where a directory's module begins (ModuleRoot), and
//     whether a directory is a main package lowfare can build, and if not
//     why, in words for the user (CheckMain);
//   - guess.go: what a main package's source says about how it serves
//     (ParseMain, then Port and HealthPath), read from its syntax tree,
//     never by running it;
//   - build.go: one `go build` for a target, with the options the image
//     and dev builds differ in (Build), and the toolchain's GOROOT and
//     version (Toolchain);
//   - cgo.go: whether a main package needs cgo, which lowfare's static
//     builds do not have, naming the package with C code and a pure-Go
//     alternative (CheckCgo; Build runs it for every build without cgo);
//   - stamp.go: a fingerprint of a module's sources, for --watch
//     (SourceStamp).
//
// What counts as a local package in service.image is the spec's rule
// (spec.Service.LocalPackage); this package starts from a directory.
package gosrc

import (
	"os"
	"strings"
)

// sourceFiles lists the names of dir's non-test .go files, in directory
// order (sorted by name). Build constraints are not applied: a main
// package split by GOOS still reads as main.
func sourceFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		names = append(names, name)
	}
	return names, nil
}

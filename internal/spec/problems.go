package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in the spec file, both 1-based. Problems with the file
// as a whole (empty, too large) are at 1:1.
type Pos struct {
	Line, Column int
}

// Problem is one thing wrong with a spec file: where, which field, what is
// wrong and what to do (Msg holds the last two, separated by "; ").
type Problem struct {
	Pos  Pos
	Path string // dotted field path such as service.cpu; empty for the file itself
	Msg  string
}

// Problems is the error Load and Parse return for an invalid spec: every
// problem found, in file order. Its Error prints one problem per line as
//
//	lowfare.yaml:12:7 service.cpu: 300 is not a Fargate CPU size; use 256, 512, 1024, ...
//
// or, from Validate (no file), as "service.cpu: 300 is not ...".
type Problems struct {
	File string
	List []Problem
}

// maxShown bounds how many problems Error prints: a hostile file (thousands
// of aliases, say) must not produce a megabyte of messages.
const maxShown = 50

func (p *Problems) Error() string {
	var b strings.Builder
	for i, pr := range p.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i == maxShown {
			if p.File != "" {
				b.WriteString(p.File + ": ")
			}
			fmt.Fprintf(&b, "... and %d more problems; fix these first", len(p.List)-maxShown)
			break
		}
		b.WriteString(p.line(pr))
	}
	return b.String()
}

func (p *Problems) line(pr Problem) string {
	if p.File == "" {
		// From Validate: a Spec built in Go has no file to point into.
		return pr.Path + ": " + pr.Msg
	}
	loc := fmt.Sprintf("%s:%d:%d", p.File, pr.Pos.Line, pr.Pos.Column)
	if pr.Path == "" {
		return loc + ": " + pr.Msg
	}
	return loc + " " + pr.Path + ": " + pr.Msg
}

// collector gathers problems while the file is decoded and checked.
type collector struct {
	list []Problem
}

func (c *collector) add(pos Pos, path, format string, args ...any) {
	if pos.Line <= 0 {
		// Problems with the file as a whole point at its start, so that
		// every line of the report has the same file:line:column shape.
		pos = Pos{Line: 1, Column: 1}
	}
	c.list = append(c.list, Problem{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// result returns nil when nothing was wrong, else the sorted *Problems.
func (c *collector) result(file string) error {
	if len(c.list) == 0 {
		return nil
	}
	list := slices.Clone(c.list)
	slices.SortStableFunc(list, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Column, b.Pos.Column))
	})
	// The same message at the same place twice says nothing new.
	list = slices.CompactFunc(list, func(a, b Problem) bool { return a == b })
	return &Problems{File: file, List: list}
}

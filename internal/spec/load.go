package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Limits on what the loader accepts before parsing. A real lowfare.yaml is
// a few hundred bytes, a few dozen keys and four levels deep; the YAML
// parser slows down sharply (quadratically, measured) on very many keys or
// very deep nesting, so hostile files are refused before it sees them.
const (
	MaxFileSize = 1 << 20 // bytes
	maxTokens   = 5_000   // a full spec has about 300; see BenchmarkParseHostile
	maxDepth    = 32      // nested mappings and lists
)

// Load reads and validates a lowfare.yaml. An invalid file gives a
// *Problems error that lists every problem with its position (exit 2 in
// the CLI); a file that cannot be read gives the os error.
func Load(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Read one byte past the limit rather than trusting Stat, so that
	// pipes and growing files are bounded too.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		if info, serr := f.Stat(); serr == nil && info.IsDir() {
			return nil, fmt.Errorf("%s is a directory, not a spec file; give the file itself, such as %s", path, filepath.Join(path, "lowfare.yaml"))
		}
		return nil, err // an *fs.PathError: it names the file already
	}
	return Parse(path, data)
}

// Parse is Load for bytes already read; name is used in messages.
func Parse(name string, data []byte) (s *Spec, err error) {
	c := &collector{}
	// Last resort: the parser is third-party code fed with user input. A
	// panic in it is a bug there, but must still end as a problem report.
	defer func() {
		if r := recover(); r != nil {
			s = nil
			c.add(Pos{}, "", "the YAML parser failed on this file (%v); check the syntax, and report the file to lowfare if it is valid YAML", shorten(fmt.Sprint(r)))
			err = c.result(name)
		}
	}()
	root := parseYAML(c, data)
	if root == nil {
		return nil, c.result(name)
	}
	s = Default()
	d := newDecoder(c)
	d.decode(root, reflect.ValueOf(s).Elem(), "")
	// An image on disk is told from a Go package by looking at it, from
	// the spec's directory; its kind decides the defaults below.
	s.Service.ResolveArchive(filepath.Dir(name))
	// Validation skips fields that failed to decode (they hold defaults
	// the user did not write), so every other problem is reported too.
	applyProfileDefaults(s, d)
	validate(s, d, c)
	if err := c.result(name); err != nil {
		return nil, err
	}
	return s, nil
}

// parseYAML checks the raw bytes, parses them and returns the single
// document's root mapping, or nil after reporting why there is none.
func parseYAML(c *collector, data []byte) ast.Node {
	if len(data) > MaxFileSize {
		c.add(Pos{}, "", "the file is larger than %d bytes; a lowfare spec is a few hundred bytes: is this the right file?", MaxFileSize)
		return nil
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if p, ok := binaryAt(data); ok {
		c.add(p, "", "the file is not UTF-8 text (a NUL or invalid byte here); is this the right file?")
		return nil
	}
	tokens := lexer.Tokenize(string(data))
	if p, depth := nesting(tokens); depth > maxDepth {
		c.add(p, "", "nesting deeper than %d levels; a lowfare spec is at most 4 levels deep", maxDepth)
		return nil
	}
	if len(tokens) > maxTokens {
		c.add(Pos{}, "", "the file has more than %d YAML tokens; a lowfare spec has a few hundred: is this the right file?", maxTokens)
		return nil
	}
	file, err := parser.Parse(tokens, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		var yerr interface {
			GetToken() *token.Token
			GetMessage() string
		}
		p := Pos{}
		msg := err.Error()
		if errors.As(err, &yerr) {
			msg = yerr.GetMessage()
			if tk := yerr.GetToken(); tk != nil && tk.Position != nil {
				p = Pos{tk.Position.Line, tk.Position.Column}
			}
		}
		// Messages can quote the offending character, a tab for instance.
		msg = strings.NewReplacer("\t", `\t`, "\r", `\r`).Replace(msg)
		c.add(p, "", "YAML syntax: %s; fix the syntax (indent with spaces, \"key: value\" pairs)", shortenTo(msg, 200))
		return nil
	}
	var roots []ast.Node
	for _, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if _, comment := doc.Body.(*ast.CommentGroupNode); comment {
			continue
		}
		roots = append(roots, doc.Body)
	}
	switch {
	case len(roots) == 0:
		c.add(Pos{}, "", "the file is empty; write at least \"app: <name>\", or run lowfare init")
		return nil
	case len(roots) > 1:
		c.add(pos(roots[1]), "", "a second YAML document; a spec is one document: remove the '---' and what follows")
		return nil
	}
	switch root := roots[0].(type) {
	case *ast.NullNode:
		c.add(Pos{}, "", "the file is empty; write at least \"app: <name>\", or run lowfare init")
		return nil
	case *ast.MappingNode:
		if len(root.Values) == 0 {
			// "{}" says no more than an empty file (the schema's
			// minProperties: 1).
			c.add(pos(root), "", "the file has no keys; write at least \"app: <name>\", or run lowfare init")
			return nil
		}
	}
	return roots[0]
}

// binaryAt finds the first NUL byte or invalid UTF-8 sequence.
func binaryAt(data []byte) (Pos, bool) {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == 0 || (r == utf8.RuneError && size <= 1) {
			return Pos{line, col}, true
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return Pos{}, false
}

// nesting estimates how deeply the tokens nest: open flow brackets plus
// the stack of block indentation columns at which keys and "-" entries
// start. It over-counts odd layouts, which only matters far beyond any
// real spec.
func nesting(tokens token.Tokens) (Pos, int) {
	var (
		flow    int
		columns []int
		deepest int
		where   Pos
	)
	for i, tk := range tokens {
		col := -1
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			flow = max(0, flow-1)
		case token.SequenceEntryType:
			col = tk.Position.Column
		case token.MappingValueType:
			if i > 0 {
				col = tokens[i-1].Position.Column
			}
		}
		if col >= 0 && flow == 0 {
			for len(columns) > 0 && columns[len(columns)-1] >= col {
				columns = columns[:len(columns)-1]
			}
			columns = append(columns, col)
		}
		if depth := flow + len(columns); depth > deepest {
			deepest = depth
			where = Pos{tk.Position.Line, tk.Position.Column}
		}
	}
	return where, deepest
}

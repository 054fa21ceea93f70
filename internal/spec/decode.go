package spec

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// decoder fills a Spec from the YAML syntax tree itself rather than through
// yaml.Unmarshal, so that every problem keeps its position, unknown keys
// and wrong types are all reported (not only the first), and nothing in the
// file (aliases, tags, merge keys) can make it expand beyond its own size.
type decoder struct {
	c *collector
	// seen maps the path of every field present in the file with a
	// non-null value to that value's position. Defaults are applied only
	// to fields absent from it, and validation points at it.
	seen map[string]Pos
	// failed holds the paths whose values could not be decoded: they
	// still hold defaults, which validation must not judge.
	failed map[string]bool
}

func newDecoder(c *collector) *decoder {
	return &decoder{c: c, seen: map[string]Pos{}, failed: map[string]bool{}}
}

// wrong reports a value that cannot be stored at path.
func (d *decoder) wrong(n ast.Node, path, format string, args ...any) {
	d.failed[path] = true
	d.c.add(pos(n), path, format, args...)
}

// pos is where a node starts; the zero Pos when it has no token.
func pos(n ast.Node) Pos {
	if n == nil {
		return Pos{}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{}
	}
	return Pos{Line: tk.Position.Line, Column: tk.Position.Column}
}

// at returns the position to report for path: the field's own value when
// the file has it, else the closest enclosing field the file has, else the
// zero Pos (the file as a whole).
func (d *decoder) at(path string) Pos {
	for path != "" {
		if p, ok := d.seen[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return d.seen[""]
}

// has reports whether the file sets path to a non-null value.
func (d *decoder) has(path string) bool {
	_, ok := d.seen[path]
	return ok
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// unwrap strips what YAML adds around a value: anchors are harmless and
// skipped; aliases and tags are refused (aliases are how "billion laughs"
// files expand, and no lowfare field needs either).
func (d *decoder) unwrap(n ast.Node, path string) (ast.Node, bool) {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			d.wrong(n, path, "YAML aliases (*name) are not supported; write the value out in full")
			return nil, false
		case *ast.TagNode:
			d.wrong(n, path, "YAML tags (%s) are not supported; remove the tag", shorten(v.Start.Value))
			return nil, false
		default:
			return n, true
		}
	}
}

// decode stores node into v (addressable), reporting problems at path.
func (d *decoder) decode(n ast.Node, v reflect.Value, path string) {
	n, ok := d.unwrap(n, path)
	if !ok {
		return
	}
	if n == nil {
		return
	}
	if _, isNull := n.(*ast.NullNode); isNull {
		// An empty value ("service:") keeps the defaults, as if absent.
		return
	}
	d.seen[path] = pos(n)
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.String:
		d.decodeString(n, v, path)
	case reflect.Int, reflect.Int64:
		d.decodeInt(n, v, path)
	case reflect.Float64:
		d.decodeFloat(n, v, path)
	case reflect.Bool:
		d.decodeBool(n, v, path)
	default:
		// Only reachable if types.go gains a field kind this decoder does
		// not know; a test decodes every field, so this is a programming
		// error, reported rather than panicking.
		d.wrong(n, path, "internal: cannot decode a %s; please report this", v.Kind())
	}
}

// mappingEntries returns the key/value pairs of a mapping node, or reports
// that the node is something else.
func (d *decoder) mappingEntries(n ast.Node, path, want string) ([]*ast.MappingValueNode, bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	d.wrong(n, path, "%s; want %s", describe(n), want)
	return nil, false
}

// keyName returns a mapping key's text, or reports why it is not a name.
func (d *decoder) keyName(k ast.MapKeyNode, path string) (string, bool) {
	switch key := ast.Node(k).(type) {
	case *ast.StringNode:
		return key.Value, true
	case *ast.MergeKeyNode:
		d.c.add(pos(key), path, "YAML merge keys (<<) are not supported; write the keys out in full")
		return "", false
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		// A number or boolean written as a key is still a name here
		// (tags: {2024: x}); the field rules judge it.
		return key.GetToken().Value, true
	}
	d.c.add(pos(k), path, "%s is not allowed as a key; keys are plain names", describe(k))
	return "", false
}

// fieldsOf lists a struct type's yaml keys in declaration order.
func fieldsOf(t reflect.Type) (names []string, index map[string]int) {
	index = map[string]int{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}

func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, path string) {
	names, index := fieldsOf(v.Type())
	d.eachKey(n, path, "a mapping of keys such as "+exampleKeys(v.Type()), func(name string, kp Pos, fpath string, value ast.Node) {
		i, known := index[name]
		if !known {
			d.c.add(kp, fpath, "%s", unknownKey(name, path, names))
			return
		}
		d.decode(value, v.Field(i), fpath)
	})
}

func (d *decoder) decodeMap(n ast.Node, v reflect.Value, path string) {
	// Present in the file: replace the default, do not merge into it.
	m := reflect.MakeMap(v.Type())
	ok := d.eachKey(n, path, "a mapping of NAME: value", func(name string, kp Pos, fpath string, value ast.Node) {
		val, ok := d.mapValue(value, fpath)
		if !ok {
			return
		}
		d.seen[fpath] = kp
		m.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(val))
	})
	if ok {
		v.Set(m)
	}
}

// eachKey calls fn for each key of the mapping n, in file order, with the
// key's position and path; it reports (and skips) keys that are not plain
// names and keys set twice. It returns false, having reported it, when n
// is not a mapping (want says what was expected).
func (d *decoder) eachKey(n ast.Node, path, want string, fn func(name string, kp Pos, fpath string, value ast.Node)) bool {
	entries, ok := d.mappingEntries(n, path, want)
	if !ok {
		return false
	}
	first := map[string]Pos{}
	for _, e := range entries {
		name, ok := d.keyName(e.Key, path)
		if !ok {
			continue
		}
		kp := pos(e.Key)
		fpath := join(path, name)
		if prev, dup := first[name]; dup {
			d.c.add(kp, fpath, "duplicate key, first set on line %d; keep one", prev.Line)
			continue
		}
		first[name] = kp
		fn(name, kp, fpath, e.Value)
	}
	return true
}

// mapValue reads a value of a string map (env, tags). Numbers and booleans
// are taken as written (PORT: 8080), since the value ends up as text anyway.
func (d *decoder) mapValue(n ast.Node, path string) (string, bool) {
	n, ok := d.unwrap(n, path)
	if !ok {
		return "", false
	}
	switch s := n.(type) {
	case nil, *ast.NullNode:
		return "", true
	case *ast.StringNode:
		return s.Value, true
	case *ast.LiteralNode:
		return s.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return s.GetToken().Value, true
	}
	d.wrong(n, path, "%s; want a single value such as \"info\"", describe(n))
	return "", false
}

func (d *decoder) decodeSlice(n ast.Node, v reflect.Value, path string) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.wrong(n, path, "%s; want a list such as [%s]", describe(n), exampleItem(v.Type().Elem()))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		item, ok := d.unwrap(item, ipath)
		if !ok {
			continue
		}
		if _, isNull := item.(*ast.NullNode); isNull || item == nil {
			d.wrong(item, ipath, "empty list item; remove it or give a value")
			continue
		}
		d.decode(item, out.Index(i), ipath)
	}
	v.Set(out)
}

func (d *decoder) decodeString(n ast.Node, v reflect.Value, path string) {
	switch s := n.(type) {
	case *ast.StringNode:
		v.SetString(s.Value)
	case *ast.LiteralNode:
		v.SetString(s.Value.Value)
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		d.wrong(n, path, "%s; want text: quote it (\"%s\") if you mean it as text", describe(n), shorten(n.GetToken().Value))
	default:
		d.wrong(n, path, "%s; want text", describe(n))
	}
}

func (d *decoder) decodeInt(n ast.Node, v reflect.Value, path string) {
	switch num := n.(type) {
	case *ast.IntegerNode:
		var i int64
		switch x := num.Value.(type) {
		case int64:
			i = x
		case uint64:
			if x > math.MaxInt64 {
				d.wrong(n, path, "%s is too large; want a whole number", shorten(num.GetToken().Value))
				return
			}
			i = int64(x)
		default:
			d.wrong(n, path, "%s is not a whole number I can read; write it in decimal", shorten(num.GetToken().Value))
			return
		}
		if v.OverflowInt(i) {
			d.wrong(n, path, "%s is too large; want a whole number", shorten(num.GetToken().Value))
			return
		}
		v.SetInt(i)
	case *ast.FloatNode:
		d.wrong(n, path, "%s is not a whole number; want a whole number such as %d", shorten(num.GetToken().Value), int64(num.Value))
	case *ast.StringNode:
		d.numberAsText(num, path, "a whole number")
	default:
		d.wrong(n, path, "%s; want a whole number", describe(n))
	}
}

// numberAsText explains a text value where a number belongs: quoted digits,
// numbers too large for YAML's integers, exponents, or plain words.
func (d *decoder) numberAsText(n *ast.StringNode, path, want string) {
	quoted := n.Token != nil && (n.Token.Type == token.DoubleQuoteType || n.Token.Type == token.SingleQuoteType)
	switch {
	case quoted && looksNumeric(n.Value):
		d.wrong(n, path, "%q is text; want a number: remove the quotes", shorten(n.Value))
	case !quoted && allDigits(strings.TrimLeft(n.Value, "+-")):
		d.wrong(n, path, "%s is too large; want %s", shorten(n.Value), want)
	case !quoted && strings.ContainsAny(n.Value, "0123456789"):
		d.wrong(n, path, "%s is not a number lowfare reads; want %s written with digits only, such as 1000000", shorten(n.Value), want)
	default:
		d.wrong(n, path, "%s; want %s", describe(n), want)
	}
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func (d *decoder) decodeFloat(n ast.Node, v reflect.Value, path string) {
	switch num := n.(type) {
	case *ast.IntegerNode:
		switch x := num.Value.(type) {
		case int64:
			v.SetFloat(float64(x))
		case uint64:
			v.SetFloat(float64(x))
		default:
			d.wrong(n, path, "%s is not a number I can read; write it in decimal", shorten(num.GetToken().Value))
		}
	case *ast.FloatNode:
		if math.IsInf(num.Value, 0) || math.IsNaN(num.Value) {
			d.wrong(n, path, "%s is not a finite number; want a number such as 10", shorten(num.GetToken().Value))
			return
		}
		v.SetFloat(num.Value)
	case *ast.InfinityNode, *ast.NanNode:
		d.wrong(n, path, "%s is not a finite number; want a number such as 10", shorten(n.GetToken().Value))
	case *ast.StringNode:
		d.numberAsText(num, path, "a number")
	default:
		d.wrong(n, path, "%s; want a number", describe(n))
	}
}

func (d *decoder) decodeBool(n ast.Node, v reflect.Value, path string) {
	b, ok := n.(*ast.BoolNode)
	if !ok {
		d.wrong(n, path, "%s; want true or false", describe(n))
		return
	}
	v.SetBool(b.Value)
}

// describe names what a node is, for "X; want Y" messages.
func describe(n ast.Node) string {
	text := ""
	if n != nil && n.GetToken() != nil {
		text = shorten(n.GetToken().Value)
	}
	switch s := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return text + " is a number"
	case *ast.BoolNode:
		return text + " is a boolean"
	case *ast.StringNode:
		return fmt.Sprintf("%q is text", shorten(s.Value))
	case *ast.LiteralNode:
		return "a block of text"
	case *ast.NullNode:
		return "an empty value"
	}
	return "a " + strings.ToLower(fmt.Sprint(n.Type()))
}

func looksNumeric(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '.', r == '_':
		case (r == '-' || r == '+') && i == 0:
		default:
			return false
		}
	}
	return true
}

// shorten keeps hostile values (a megabyte on one line) out of messages.
func shorten(s string) string { return shortenTo(s, 40) }

func shortenTo(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// unknownKey explains an unknown key: a likely typo at this level, or the
// level where the key belongs, or the keys this level has.
func unknownKey(name, path string, known []string) string {
	if elsewhere := keyPaths(reflect.TypeFor[Spec](), "")[name]; len(elsewhere) > 0 {
		return fmt.Sprintf("unknown key %q here; it belongs under %s", shorten(name), strings.Join(elsewhere, " or "))
	}
	if s := suggest(name, known); s != "" {
		return fmt.Sprintf("unknown key %q; did you mean %q?", shorten(name), s)
	}
	return fmt.Sprintf("unknown key %q; known keys here: %s", shorten(name), strings.Join(known, ", "))
}

// keyPaths maps every leaf key name of the Spec to the parents it lives
// under, so a key written at the wrong level can be pointed home.
func keyPaths(t reflect.Type, parent string) map[string][]string {
	out := map[string][]string{}
	var walk func(t reflect.Type, parent string)
	walk = func(t reflect.Type, parent string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		names, index := fieldsOf(t)
		for _, name := range names {
			where := parent
			if where == "" {
				where = "the top level"
			}
			if !slices.Contains(out[name], where) {
				out[name] = append(out[name], where)
			}
			walk(t.Field(index[name]).Type, join(parent, name))
		}
	}
	walk(t, parent)
	return out
}

// exampleKeys lists a struct's first keys for "want a mapping" messages.
func exampleKeys(t reflect.Type) string {
	names, _ := fieldsOf(t)
	if len(names) > 3 {
		names = names[:3]
	}
	return strings.Join(names, ", ")
}

func exampleItem(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "80, 100"
	default:
		return "NAME"
	}
}

package ddbfront

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A small hand-written parser for the PartiQL subset single-table apps
// use (partiql.go says which). The PartiQL reference parsers are Kotlin
// and Rust; the Go ones on the module proxy are unmaintained or parse
// far more than the front could serve, so a parser of the subset is
// smaller than a dependency and refuses what dev cannot answer by name.

// devLimit starts every refusal of a statement outside the subset, so an
// app's developer knows the limit is lowfare dev's, not DynamoDB's.
const devLimit = "lowfare dev's DynamoDB endpoint does not support "

type stmtKind int

const (
	stmtSelect stmtKind = iota + 1
	stmtInsert
	stmtUpdate
	stmtDelete
	stmtExists // EXISTS(SELECT ...), a transaction's condition check
)

func (k stmtKind) String() string {
	return [...]string{"", "SELECT", "INSERT", "UPDATE", "DELETE", "EXISTS"}[k]
}

// pqValue is a value in a statement: a parameter (?) or a literal, as
// DynamoDB JSON.
type pqValue struct {
	param int // index into Parameters; -1 for a literal
	lit   json.RawMessage
}

// operand is the right side of a SET: a value, an attribute, or one of
// them plus or minus another.
type operand struct {
	attr string // an attribute name, or "" for val
	val  pqValue
}

type setClause struct {
	attr  string
	left  operand
	op    string // "", "+" or "-"
	right operand
}

// cond is one comparison of a WHERE clause; the clause is their AND.
type cond struct {
	attr string
	op   string // = <> < <= > >= BETWEEN begins_with
	vals []pqValue
}

type statement struct {
	kind       stmtKind
	table      string
	index      string
	projection []string // SELECT; nil for *
	where      []cond
	item       map[string]pqValue // INSERT, in order of itemOrder
	itemOrder  []string
	set        []setClause
	remove     []string
	returning  string // ReturnValues for RETURNING, or ""
	params     int    // how many ? the statement has
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokQuoted // "identifier"
	tokString // 'string'
	tokNumber
	tokPunct
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// lex splits a statement into tokens.
func lex(src string) ([]token, error) {
	var out []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'':
			start := i
			var b strings.Builder
			i++
			closed := false
			for i < len(src) {
				if src[i] == c {
					if i+1 < len(src) && src[i+1] == c { // '' or "" is the quote itself
						b.WriteByte(c)
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(src[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated quote at position %d", start)
			}
			kind := tokString
			if c == '"' {
				kind = tokQuoted
			}
			out = append(out, token{kind, b.String(), start})
		case c >= '0' && c <= '9' || (c == '-' && !afterOperand(out) || c == '.') && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			start := i
			i++
			for i < len(src) && (src[i] >= '0' && src[i] <= '9' || src[i] == '.' || src[i] == 'e' || src[i] == 'E' ||
				(src[i] == '+' || src[i] == '-') && (src[i-1] == 'e' || src[i-1] == 'E')) {
				i++
			}
			out = append(out, token{tokNumber, src[start:i], start})
		case c == '_' || c < utf8.RuneSelf && unicode.IsLetter(rune(c)):
			start := i
			for i < len(src) && (src[i] == '_' || src[i] < utf8.RuneSelf && (unicode.IsLetter(rune(src[i])) || unicode.IsDigit(rune(src[i])))) {
				i++
			}
			out = append(out, token{tokIdent, src[start:i], start})
		default:
			start := i
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch two {
			case "<=", ">=", "<>", "!=", "<<", ">>":
				out = append(out, token{tokPunct, two, start})
				i += 2
				continue
			}
			if !strings.ContainsRune(",.()[]{}:=<>?*+-;", rune(c)) {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, fmt.Errorf("unexpected %q at position %d", r, start)
			}
			out = append(out, token{tokPunct, string(c), start})
			i++
		}
	}
	return append(out, token{tokEOF, "", len(src)}), nil
}

// afterOperand reports whether the last token ends an operand, so a
// minus after it is a subtraction (c -1), not a negative number.
func afterOperand(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	t := toks[len(toks)-1]
	switch t.kind {
	case tokQuoted, tokString, tokNumber:
		return true
	case tokIdent:
		return !reserved[strings.ToUpper(t.text)]
	case tokPunct:
		return t.text == ")" || t.text == "]" || t.text == "}"
	}
	return false
}

type parser struct {
	toks   []token
	i      int
	params int
}

// parseErr is a statement DynamoDB itself would refuse (a syntax error).
type parseErr struct{ msg string }

func (e *parseErr) Error() string { return e.msg }

// unsupported is a statement DynamoDB takes and lowfare dev does not.
type unsupported struct{ what string }

func (e *unsupported) Error() string { return devLimit + e.what }

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tokIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tokPunct && t.text == s
}

func (p *parser) fail(want string) error {
	t := p.peek()
	if t.kind == tokEOF {
		return &parseErr{fmt.Sprintf("Statement wasn't well formed, can't be processed: expected %s at the end of the statement", want)}
	}
	return &parseErr{fmt.Sprintf("Statement wasn't well formed, can't be processed: expected %s, found %q at position %d", want, t.text, t.pos)}
}

func (p *parser) keyword(kw string) error {
	if !p.isKeyword(kw) {
		return p.fail(kw)
	}
	p.next()
	return nil
}

func (p *parser) punct(s string) error {
	if !p.isPunct(s) {
		return p.fail(`"` + s + `"`)
	}
	p.next()
	return nil
}

// reserved words that cannot be a bare attribute name here.
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "INSERT": true, "INTO": true,
	"VALUE": true, "VALUES": true, "UPDATE": true, "SET": true, "REMOVE": true, "DELETE": true, "BETWEEN": true,
	"RETURNING": true, "IN": true, "IS": true, "ORDER": true, "BY": true, "MISSING": true, "NULL": true,
}

// name is an identifier, bare or "quoted".
func (p *parser) name(what string) (string, error) {
	t := p.peek()
	switch {
	case t.kind == tokQuoted && t.text != "":
		p.next()
		return t.text, nil
	case t.kind == tokIdent && !reserved[strings.ToUpper(t.text)]:
		p.next()
		return t.text, nil
	}
	return "", p.fail(what)
}

// attr is an attribute name; a document path (a.b, a[0]) is outside the
// subset.
func (p *parser) attr() (string, error) {
	n, err := p.name("an attribute name")
	if err != nil {
		return "", err
	}
	if p.isPunct(".") || p.isPunct("[") {
		return "", &unsupported{"document paths (" + n + p.peek().text + "...): name top-level attributes only"}
	}
	return n, nil
}

// parsePartiQL parses one statement of the subset.
func parsePartiQL(src string) (*statement, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, &parseErr{"Statement wasn't well formed, can't be processed: " + err.Error()}
	}
	p := &parser{toks: toks}
	var st *statement
	switch {
	case p.isKeyword("SELECT"):
		st, err = p.selectStmt()
	case p.isKeyword("INSERT"):
		st, err = p.insertStmt()
	case p.isKeyword("UPDATE"):
		st, err = p.updateStmt()
	case p.isKeyword("DELETE"):
		st, err = p.deleteStmt()
	case p.isKeyword("EXISTS"):
		st, err = p.existsStmt()
	default:
		return nil, p.fail("SELECT, INSERT, UPDATE or DELETE")
	}
	if err != nil {
		return nil, err
	}
	if p.isPunct(";") {
		p.next()
	}
	if p.peek().kind != tokEOF {
		if p.isKeyword("ORDER") {
			return nil, &unsupported{"ORDER BY: a Query answers in sort key order already"}
		}
		return nil, p.fail("the end of the statement")
	}
	st.params = p.params
	return st, nil
}

// existsStmt parses EXISTS(SELECT * FROM table WHERE ...).
func (p *parser) existsStmt() (*statement, error) {
	p.next()
	if err := p.punct("("); err != nil {
		return nil, err
	}
	if !p.isKeyword("SELECT") {
		return nil, p.fail("SELECT")
	}
	st, err := p.selectStmt()
	if err != nil {
		return nil, err
	}
	if err := p.punct(")"); err != nil {
		return nil, err
	}
	if st.index != "" || st.projection != nil {
		return nil, &parseErr{"Statement wasn't well formed, can't be processed: EXISTS takes SELECT * FROM a table"}
	}
	st.kind = stmtExists
	return st, nil
}

func (p *parser) tableRef(st *statement) error {
	t, err := p.name("a table name")
	if err != nil {
		return err
	}
	st.table = t
	if p.isPunct(".") {
		p.next()
		ix, err := p.name("an index name")
		if err != nil {
			return err
		}
		st.index = ix
	}
	return nil
}

func (p *parser) selectStmt() (*statement, error) {
	p.next()
	st := &statement{kind: stmtSelect}
	if p.isPunct("*") {
		p.next()
	} else {
		for {
			if p.isKeyword("COUNT") || p.isKeyword("SIZE") {
				return nil, &unsupported{"functions in a SELECT list (" + p.peek().text + "): name attributes or *"}
			}
			a, err := p.attr()
			if err != nil {
				return nil, err
			}
			st.projection = append(st.projection, a)
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
	}
	if err := p.keyword("FROM"); err != nil {
		return nil, err
	}
	if err := p.tableRef(st); err != nil {
		return nil, err
	}
	if p.isKeyword("WHERE") {
		p.next()
		w, err := p.where()
		if err != nil {
			return nil, err
		}
		st.where = w
	}
	return st, nil
}

// where parses a conjunction of comparisons.
func (p *parser) where() ([]cond, error) {
	var out []cond
	for {
		c, err := p.comparison()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if p.isKeyword("OR") {
			return nil, &unsupported{"OR in a WHERE clause: join conditions with AND, or run one statement per alternative"}
		}
		if !p.isKeyword("AND") {
			return out, nil
		}
		p.next()
	}
}

func (p *parser) comparison() (cond, error) {
	if p.isKeyword("begins_with") {
		p.next()
		if err := p.punct("("); err != nil {
			return cond{}, err
		}
		a, err := p.attr()
		if err != nil {
			return cond{}, err
		}
		if err := p.punct(","); err != nil {
			return cond{}, err
		}
		v, err := p.value()
		if err != nil {
			return cond{}, err
		}
		if err := p.punct(")"); err != nil {
			return cond{}, err
		}
		return cond{attr: a, op: "begins_with", vals: []pqValue{v}}, nil
	}
	if t := p.peek(); t.kind == tokIdent && !reserved[strings.ToUpper(t.text)] && p.toks[p.i+1].kind == tokPunct && p.toks[p.i+1].text == "(" {
		return cond{}, &unsupported{"the function " + t.text + " in a WHERE clause: lowfare dev knows begins_with"}
	}
	if p.isKeyword("NOT") || p.isPunct("(") {
		return cond{}, &unsupported{"NOT and parentheses in a WHERE clause"}
	}
	a, err := p.attr()
	if err != nil {
		return cond{}, err
	}
	if p.isKeyword("BETWEEN") {
		p.next()
		lo, err := p.value()
		if err != nil {
			return cond{}, err
		}
		if err := p.keyword("AND"); err != nil {
			return cond{}, err
		}
		hi, err := p.value()
		if err != nil {
			return cond{}, err
		}
		return cond{attr: a, op: "BETWEEN", vals: []pqValue{lo, hi}}, nil
	}
	if p.isKeyword("IN") || p.isKeyword("IS") {
		return cond{}, &unsupported{strings.ToUpper(p.peek().text) + " in a WHERE clause: compare with =, <>, <, <=, >, >=, BETWEEN or begins_with"}
	}
	t := p.peek()
	if t.kind != tokPunct {
		return cond{}, p.fail("a comparison")
	}
	op := t.text
	switch op {
	case "=", "<>", "<", "<=", ">", ">=":
	case "!=":
		op = "<>"
	default:
		return cond{}, p.fail("a comparison")
	}
	p.next()
	v, err := p.value()
	if err != nil {
		return cond{}, err
	}
	return cond{attr: a, op: op, vals: []pqValue{v}}, nil
}

// value is a parameter or a literal: 'string', number, TRUE, FALSE,
// NULL, {'map': ...}, [list, ...].
func (p *parser) value() (pqValue, error) {
	return p.valueDepth(0)
}

func (p *parser) valueDepth(depth int) (pqValue, error) {
	if depth > 32 {
		return pqValue{}, &unsupported{"values nested more than 32 deep"}
	}
	t := p.peek()
	lit := func(v any) (pqValue, error) {
		p.next()
		b, err := json.Marshal(v)
		return pqValue{param: -1, lit: b}, err
	}
	switch {
	case t.kind == tokPunct && t.text == "?":
		p.next()
		p.params++
		return pqValue{param: p.params - 1}, nil
	case t.kind == tokString:
		return lit(map[string]string{"S": t.text})
	case t.kind == tokNumber:
		if !validNumber(t.text) {
			return pqValue{}, p.fail("a number")
		}
		return lit(map[string]string{"N": t.text})
	case t.kind == tokIdent && (strings.EqualFold(t.text, "TRUE") || strings.EqualFold(t.text, "FALSE")):
		return lit(map[string]bool{"BOOL": strings.EqualFold(t.text, "TRUE")})
	case t.kind == tokIdent && strings.EqualFold(t.text, "NULL"):
		return lit(map[string]bool{"NULL": true})
	case t.kind == tokPunct && t.text == "{":
		p.next()
		m := map[string]json.RawMessage{}
		for !p.isPunct("}") {
			k := p.peek()
			if k.kind != tokString {
				return pqValue{}, p.fail("an attribute name in single quotes")
			}
			p.next()
			if err := p.punct(":"); err != nil {
				return pqValue{}, err
			}
			v, err := p.valueDepth(depth + 1)
			if err != nil {
				return pqValue{}, err
			}
			if v.param >= 0 {
				return pqValue{}, &unsupported{"a ? inside a map or list value: pass the whole map or list as one parameter"}
			}
			m[k.text] = v.lit
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
		if err := p.punct("}"); err != nil {
			return pqValue{}, err
		}
		b, err := json.Marshal(map[string]any{"M": m})
		return pqValue{param: -1, lit: b}, err
	case t.kind == tokPunct && t.text == "[":
		p.next()
		l := []json.RawMessage{}
		for !p.isPunct("]") {
			v, err := p.valueDepth(depth + 1)
			if err != nil {
				return pqValue{}, err
			}
			if v.param >= 0 {
				return pqValue{}, &unsupported{"a ? inside a map or list value: pass the whole map or list as one parameter"}
			}
			l = append(l, v.lit)
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
		if err := p.punct("]"); err != nil {
			return pqValue{}, err
		}
		b, err := json.Marshal(map[string]any{"L": l})
		return pqValue{param: -1, lit: b}, err
	case t.kind == tokPunct && t.text == "<<":
		return pqValue{}, &unsupported{"set literals (<<...>>): pass the set as a parameter"}
	}
	return pqValue{}, p.fail("a value (?, 'string', number, TRUE, FALSE, NULL, {...} or [...])")
}

// validNumber accepts what DynamoDB's N takes in a statement: an
// optional minus, digits with at most one point, an optional exponent.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits, point := 0, false
	for ; i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.'); i++ {
		if s[i] == '.' {
			if point {
				return false
			}
			point = true
			continue
		}
		digits++
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

func (p *parser) insertStmt() (*statement, error) {
	p.next()
	st := &statement{kind: stmtInsert, item: map[string]pqValue{}}
	if err := p.keyword("INTO"); err != nil {
		return nil, err
	}
	if err := p.tableRef(st); err != nil {
		return nil, err
	}
	if st.index != "" {
		return nil, &parseErr{"Statement wasn't well formed, can't be processed: INSERT names a table, not an index"}
	}
	if p.isKeyword("VALUES") {
		return nil, &parseErr{"Statement wasn't well formed, can't be processed: INSERT takes VALUE and one item ({...})"}
	}
	if err := p.keyword("VALUE"); err != nil {
		return nil, err
	}
	if err := p.punct("{"); err != nil {
		return nil, err
	}
	for !p.isPunct("}") {
		k := p.peek()
		if k.kind != tokString {
			return nil, p.fail("an attribute name in single quotes")
		}
		p.next()
		if err := p.punct(":"); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if _, dup := st.item[k.text]; dup {
			return nil, &parseErr{"Statement wasn't well formed, can't be processed: the item names " + k.text + " twice"}
		}
		st.item[k.text] = v
		st.itemOrder = append(st.itemOrder, k.text)
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	if err := p.punct("}"); err != nil {
		return nil, err
	}
	return st, nil
}

func (p *parser) operand() (operand, error) {
	t := p.peek()
	if t.kind == tokQuoted || t.kind == tokIdent && !reserved[strings.ToUpper(t.text)] &&
		!strings.EqualFold(t.text, "TRUE") && !strings.EqualFold(t.text, "FALSE") {
		if p.toks[p.i+1].kind == tokPunct && p.toks[p.i+1].text == "(" {
			return operand{}, &unsupported{"the function " + t.text + " in SET: set values, attributes, or one plus or minus another"}
		}
		a, err := p.attr()
		return operand{attr: a}, err
	}
	v, err := p.value()
	return operand{val: v}, err
}

func (p *parser) updateStmt() (*statement, error) {
	p.next()
	st := &statement{kind: stmtUpdate}
	if err := p.tableRef(st); err != nil {
		return nil, err
	}
	if st.index != "" {
		return nil, &parseErr{"Statement wasn't well formed, can't be processed: UPDATE names a table, not an index"}
	}
	for p.isKeyword("SET") || p.isKeyword("REMOVE") {
		set := p.isKeyword("SET")
		p.next()
		for {
			a, err := p.attr()
			if err != nil {
				return nil, err
			}
			if !set {
				st.remove = append(st.remove, a)
			} else {
				if err := p.punct("="); err != nil {
					return nil, err
				}
				sc := setClause{attr: a}
				if sc.left, err = p.operand(); err != nil {
					return nil, err
				}
				if p.isPunct("+") || p.isPunct("-") {
					sc.op = p.next().text
					if sc.right, err = p.operand(); err != nil {
						return nil, err
					}
				}
				st.set = append(st.set, sc)
			}
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
	}
	if len(st.set) == 0 && len(st.remove) == 0 {
		return nil, p.fail("SET or REMOVE")
	}
	if err := p.keyword("WHERE"); err != nil {
		return nil, err
	}
	w, err := p.where()
	if err != nil {
		return nil, err
	}
	st.where = w
	if err := p.returning(st, map[string]string{"ALL OLD": "ALL_OLD", "MODIFIED OLD": "UPDATED_OLD", "ALL NEW": "ALL_NEW", "MODIFIED NEW": "UPDATED_NEW"}); err != nil {
		return nil, err
	}
	return st, nil
}

func (p *parser) deleteStmt() (*statement, error) {
	p.next()
	st := &statement{kind: stmtDelete}
	if err := p.keyword("FROM"); err != nil {
		return nil, err
	}
	if err := p.tableRef(st); err != nil {
		return nil, err
	}
	if st.index != "" {
		return nil, &parseErr{"Statement wasn't well formed, can't be processed: DELETE names a table, not an index"}
	}
	if err := p.keyword("WHERE"); err != nil {
		return nil, err
	}
	w, err := p.where()
	if err != nil {
		return nil, err
	}
	st.where = w
	if err := p.returning(st, map[string]string{"ALL OLD": "ALL_OLD"}); err != nil {
		return nil, err
	}
	return st, nil
}

// returning parses RETURNING ALL|MODIFIED OLD|NEW *, of the choices.
func (p *parser) returning(st *statement, choices map[string]string) error {
	if !p.isKeyword("RETURNING") {
		return nil
	}
	p.next()
	a, b := p.next(), p.next()
	rv, ok := choices[strings.ToUpper(a.text)+" "+strings.ToUpper(b.text)]
	if !ok || a.kind != tokIdent || b.kind != tokIdent {
		return &parseErr{"Statement wasn't well formed, can't be processed: RETURNING takes " + strings.Join(slices.Sorted(maps.Keys(choices)), ", ") + " followed by *"}
	}
	if err := p.punct("*"); err != nil {
		return err
	}
	st.returning = rv
	return nil
}

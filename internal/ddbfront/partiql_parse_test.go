package ddbfront

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// describe is a statement as text, for comparing parses.
func (st *statement) describe() string {
	val := func(v pqValue) string {
		if v.param >= 0 {
			return fmt.Sprintf("?%d", v.param)
		}
		return string(v.lit)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", st.kind, st.table)
	if st.index != "" {
		b.WriteString("." + st.index)
	}
	if st.projection != nil {
		fmt.Fprintf(&b, " proj%v", st.projection)
	}
	for _, k := range st.itemOrder {
		fmt.Fprintf(&b, " %s:%s", k, val(st.item[k]))
	}
	for _, sc := range st.set {
		fmt.Fprintf(&b, " set %s=", sc.attr)
		for i, o := range []operand{sc.left, sc.right} {
			if i == 1 {
				if sc.op == "" {
					break
				}
				b.WriteString(sc.op)
			}
			if o.attr != "" {
				b.WriteString(o.attr)
			} else {
				b.WriteString(val(o.val))
			}
		}
	}
	for _, r := range st.remove {
		fmt.Fprintf(&b, " remove %s", r)
	}
	for _, c := range st.where {
		fmt.Fprintf(&b, " where %s %s", c.attr, c.op)
		for _, v := range c.vals {
			b.WriteString(" " + val(v))
		}
	}
	if st.returning != "" {
		b.WriteString(" returning " + st.returning)
	}
	fmt.Fprintf(&b, " params %d", st.params)
	return b.String()
}

func TestParsePartiQL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT * FROM "t"`, `SELECT t params 0`},
		{`select a, "b c" from t."GSI1" where GSI1PK = ? and begins_with(GSI1SK, 'x''y')`,
			`SELECT t.GSI1 proj[a b c] where GSI1PK = ?0 where GSI1SK begins_with {"S":"x'y"} params 1`},
		{`SELECT * FROM "t" WHERE PK = 'a' AND SK BETWEEN ? AND ?;`, `SELECT t where PK = {"S":"a"} where SK BETWEEN ?0 ?1 params 2`},
		{`SELECT * FROM "t" WHERE n >= -1.5e3 AND m != 2`, `SELECT t where n >= {"N":"-1.5e3"} where m <> {"N":"2"} params 0`},
		{`INSERT INTO "t" VALUE {'PK': ?, 'SK': 'x', 'b': TRUE, 'z': null, 'm': {'a': [1, 'two']}}`,
			`INSERT t PK:?0 SK:{"S":"x"} b:{"BOOL":true} z:{"NULL":true} m:{"M":{"a":{"L":[{"N":"1"},{"S":"two"}]}}} params 1`},
		{`UPDATE "t" SET a = ?, c = c + 1, d = d -1 REMOVE e, f WHERE PK = ? AND SK = ? RETURNING ALL NEW *`,
			`UPDATE t set a=?0 set c=c+{"N":"1"} set d=d-{"N":"1"} remove e remove f where PK = ?1 where SK = ?2 returning ALL_NEW params 3`},
		{`UPDATE "t" REMOVE e SET a = 'x' WHERE PK = 'p'`, `UPDATE t set a={"S":"x"} remove e where PK = {"S":"p"} params 0`},
		{`DELETE FROM "t" WHERE PK = 'p' AND SK = 's' RETURNING ALL OLD *`, `DELETE t where PK = {"S":"p"} where SK = {"S":"s"} returning ALL_OLD params 0`},
		{`EXISTS(SELECT * FROM "t" WHERE PK = ? AND SK = 's' AND v = 1)`, `EXISTS t where PK = ?0 where SK = {"S":"s"} where v = {"N":"1"} params 1`},
	} {
		st, err := parsePartiQL(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := st.describe(); got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestParsePartiQLRefuses(t *testing.T) {
	for _, tc := range []struct {
		in          string
		unsupported bool // lowfare dev's limit, not a syntax error
	}{
		{``, false},
		{`SELEC * FROM t`, false},
		{`SELECT * FROM`, false},
		{`SELECT * FROM t WHERE`, false},
		{`SELECT * FROM t WHERE a = 'x`, false},
		{`SELECT * FROM t WHERE a = 1.2.3`, false},
		{`SELECT * FROM t extra`, false},
		{`INSERT INTO t VALUES {'a': 1}`, false},
		{`INSERT INTO t VALUE {'a': 1, 'a': 2}`, false},
		{`INSERT INTO t.ix VALUE {'a': 1}`, false},
		{`UPDATE t WHERE a = 1`, false},
		{`DELETE FROM t WHERE a = 1 RETURNING ALL NEW *`, false},
		{`SELECT * FROM t WHERE a = 1 OR a = 2`, true},
		{`SELECT * FROM t WHERE a IN [1, 2]`, true},
		{`SELECT * FROM t WHERE a IS MISSING`, true},
		{`SELECT * FROM t WHERE NOT a = 1`, true},
		{`SELECT * FROM t WHERE contains(a, 'x')`, true},
		{`SELECT * FROM t ORDER BY SK`, true},
		{`SELECT a.b FROM t`, true},
		{`SELECT a[0] FROM t`, true},
		{`UPDATE t SET a = list_append(a, ?) WHERE PK = 1`, true},
		{`INSERT INTO t VALUE {'a': <<1, 2>>}`, true},
		{`INSERT INTO t VALUE {'a': {'b': ?}}`, true},
		{`EXISTS(SELECT a FROM t WHERE a = 1)`, false},
	} {
		_, err := parsePartiQL(tc.in)
		var un *unsupported
		var pe *parseErr
		switch {
		case err == nil:
			t.Errorf("%q: parsed, want a refusal", tc.in)
		case tc.unsupported && (!errors.As(err, &un) || !strings.HasPrefix(err.Error(), devLimit)):
			t.Errorf("%q: %v, want lowfare dev's limit", tc.in, err)
		case !tc.unsupported && !errors.As(err, &pe):
			t.Errorf("%q: %v, want a syntax error", tc.in, err)
		}
	}
}

// FuzzParsePartiQL: the parser never panics, and what it parses is
// whole: every parameter within the count, every literal valid DynamoDB
// JSON.
func FuzzParsePartiQL(f *testing.F) {
	for _, s := range []string{
		`SELECT * FROM "t" WHERE PK = ? AND begins_with(SK, 'a')`,
		`SELECT a, b FROM "t"."i" WHERE x BETWEEN 1 AND -2e5`,
		`INSERT INTO "t" VALUE {'PK': ?, 'm': {'a': [1, 'x', TRUE, NULL]}}`,
		`UPDATE "t" SET a = a + ?, b = 'x' REMOVE c WHERE PK = 'p' AND SK = ? RETURNING MODIFIED OLD *`,
		`DELETE FROM "t" WHERE PK = 'p' AND SK = 's'`,
		`SELECT * FROM "a""b" WHERE 'x''y' = 1`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		st, err := parsePartiQL(src)
		if err != nil {
			return
		}
		check := func(v pqValue) {
			if v.param >= st.params || v.param < -1 {
				t.Fatalf("%q: parameter %d of %d", src, v.param, st.params)
			}
			if v.param == -1 && !json.Valid(v.lit) {
				t.Fatalf("%q: literal %q is not JSON", src, v.lit)
			}
		}
		for _, c := range st.where {
			for _, v := range c.vals {
				check(v)
			}
		}
		for _, v := range st.item {
			check(v)
		}
		for _, sc := range st.set {
			if sc.left.attr == "" {
				check(sc.left.val)
			}
			if sc.op != "" && sc.right.attr == "" {
				check(sc.right.val)
			}
		}
		if st.table == "" || st.kind < stmtSelect || st.kind > stmtExists {
			t.Fatalf("%q: parsed without a table or kind: %+v", src, st)
		}
	})
}

package data

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/goccy/go-yaml"
)

// A user's migrations are data, not code: numbered YAML files in a
// migrations/ folder beside lowfare.yaml, each a list of steps in a small
// declarative format (see docs/runbooks/migrate-data.md). Data rather than
// Go because the app lowfare deploys may be written in any language and
// its image holds no lowfare code; a file runs from the operator's machine
// with the same lock, version item and pacing as links' Go history.
//
// Every step is idempotent, so a run that dies half-way is simply run
// again: put writes an item only if its key is free; set, rename and
// remove are conditional updates that skip items already changed.

// MigrationsDir is the folder, beside lowfare.yaml, that holds an app's
// migration files.
const MigrationsDir = "migrations"

// migrationFile is the name of one: 001-add-status.yaml.
var migrationFile = regexp.MustCompile(`^([0-9]+)-([a-z0-9][a-z0-9_-]*)\.ya?ml$`)

// Where picks items by key prefix; both empty: every item (but the
// migrations' own bookkeeping under PK SCHEMA, which no step touches).
type Where struct {
	PKPrefix string `yaml:"pk_prefix"`
	SKPrefix string `yaml:"sk_prefix"`
}

// SetStep sets one attribute on the matching items, to a value or to a
// template over each item's own attributes ("{created_at}#{PK}").
type SetStep struct {
	Where     Where  `yaml:"where"`
	Attribute string `yaml:"attribute"`
	Value     any    `yaml:"value"`
	Template  string `yaml:"template"`
	// IfMissing leaves items that already have the attribute alone
	// (a backfill); otherwise a different value is replaced.
	IfMissing bool `yaml:"if_missing"`
}

// RenameStep moves an attribute's value to a new name, on items that have
// the old name and not the new one.
type RenameStep struct {
	Where Where  `yaml:"where"`
	From  string `yaml:"from"`
	To    string `yaml:"to"`
}

// RemoveStep deletes an attribute from the matching items.
type RemoveStep struct {
	Where     Where  `yaml:"where"`
	Attribute string `yaml:"attribute"`
}

// Step is one step of a migration file: exactly one of its fields.
type Step struct {
	Put    []map[string]any `yaml:"put"`
	Set    *SetStep         `yaml:"set"`
	Rename *RenameStep      `yaml:"rename"`
	Remove *RemoveStep      `yaml:"remove"`
}

type migrationDoc struct {
	Description string `yaml:"description"`
	Steps       []Step `yaml:"steps"`
}

// LoadMigrations reads dir's migration files, checked completely (names,
// numbering, every step), into the Migrator's list, oldest first. A
// missing dir is no migrations (nil, nil): the caller then touches
// nothing.
func LoadMigrations(dir string) ([]Migration, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []Migration
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue // a README beside them is fine
		}
		path := filepath.Join(dir, e.Name())
		m := migrationFile.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("%s: a migration file is named NNN-name.yaml (a number, a dash, lower-case letters, digits, - or _), e.g. 001-add-status.yaml", path)
		}
		id, err := strconv.Atoi(m[1])
		if err != nil || id < 1 {
			return nil, fmt.Errorf("%s: the number must be 1 or more", path)
		}
		steps, err := loadMigrationFile(path)
		if err != nil {
			return nil, err
		}
		list = append(list, Migration{ID: id, Name: m[2], Up: runSteps(steps)})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	for i, mg := range list {
		if mg.ID != i+1 {
			return nil, fmt.Errorf("%s: migration %d (%s) is number %d in order: number the files 1, 2, 3... without gaps or repeats", dir, mg.ID, mg.Name, i+1)
		}
	}
	return list, nil
}

func loadMigrationFile(path string) ([]Step, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc migrationDoc
	if err := yaml.UnmarshalWithOptions(src, &doc, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("%s: %s", path, yaml.FormatError(err, false, true))
	}
	if len(doc.Steps) == 0 {
		return nil, fmt.Errorf("%s: no steps: a migration lists its steps under steps: (put, set, rename or remove)", path)
	}
	for i, st := range doc.Steps {
		if err := st.check(); err != nil {
			return nil, fmt.Errorf("%s: step %d: %w", path, i+1, err)
		}
	}
	return doc.Steps, nil
}

// reserved are the attributes no set, rename or remove may touch: the
// table's keys cannot be updated (an item with another key is another
// item: put it).
var reserved = []string{attrPK, attrSK}

// gsiKeys must be strings: the table declares them as S.
var gsiKeys = []string{"GSI1PK", "GSI1SK"}

func (st Step) check() error {
	n := 0
	for _, set := range []bool{st.Put != nil, st.Set != nil, st.Rename != nil, st.Remove != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("a step is exactly one of put, set, rename or remove")
	}
	switch {
	case st.Put != nil:
		if len(st.Put) == 0 {
			return errors.New("put lists no items")
		}
		for i, item := range st.Put {
			av, err := attributeMap(item)
			if err != nil {
				return fmt.Errorf("put item %d: %w", i+1, err)
			}
			for _, k := range []string{attrPK, attrSK} {
				if _, ok := av[k].(*types.AttributeValueMemberS); !ok {
					return fmt.Errorf("put item %d: %s must be a string", i+1, k)
				}
			}
			if err := checkGSIKeys(av); err != nil {
				return fmt.Errorf("put item %d: %w", i+1, err)
			}
			if av[attrPK].(*types.AttributeValueMemberS).Value == schemaPK {
				return fmt.Errorf("put item %d: PK %s is where lowfare keeps the migrations' version; use another", i+1, schemaPK)
			}
		}
	case st.Set != nil:
		s := st.Set
		if err := checkAttr("set", s.Attribute); err != nil {
			return err
		}
		if (s.Value == nil) == (s.Template == "") {
			return fmt.Errorf("set %s needs exactly one of value or template", s.Attribute)
		}
		if s.Value != nil {
			v, err := attributeValue(s.Value)
			if err != nil {
				return fmt.Errorf("set %s: %w", s.Attribute, err)
			}
			if err := checkGSIKeys(map[string]types.AttributeValue{s.Attribute: v}); err != nil {
				return err
			}
		} else if _, err := parseTemplate(s.Template); err != nil {
			return fmt.Errorf("set %s: template %q: %w", s.Attribute, s.Template, err)
		}
	case st.Rename != nil:
		r := st.Rename
		if err := checkAttr("rename from", r.From); err != nil {
			return err
		}
		if err := checkAttr("rename to", r.To); err != nil {
			return err
		}
		if r.From == r.To {
			return fmt.Errorf("rename %s to itself", r.From)
		}
		if slices.Contains(gsiKeys, r.To) {
			return fmt.Errorf("rename to %s: an index key cannot be checked to be a string by a rename; set it from a template instead", r.To)
		}
	case st.Remove != nil:
		if err := checkAttr("remove", st.Remove.Attribute); err != nil {
			return err
		}
	}
	return nil
}

func checkAttr(what, name string) error {
	if name == "" {
		return fmt.Errorf("%s needs an attribute name", what)
	}
	if slices.Contains(reserved, name) {
		return fmt.Errorf("%s %s: the table's key attributes cannot be changed in place; put items with the new key instead", what, name)
	}
	return nil
}

func checkGSIKeys(item map[string]types.AttributeValue) error {
	for _, k := range gsiKeys {
		if v, ok := item[k]; ok {
			if _, isS := v.(*types.AttributeValueMemberS); !isS {
				return fmt.Errorf("%s must be a string: the table's index declares it so", k)
			}
		}
	}
	return nil
}

// attributeValue turns a YAML value into a DynamoDB one: strings S,
// numbers N, booleans BOOL, lists L, maps M, null NULL.
func attributeValue(v any) (types.AttributeValue, error) {
	switch x := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case string:
		return &types.AttributeValueMemberS{Value: x}, nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}, nil
	case int:
		return &types.AttributeValueMemberN{Value: strconv.Itoa(x)}, nil
	case int64:
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(x, 10)}, nil
	case uint64:
		return &types.AttributeValueMemberN{Value: strconv.FormatUint(x, 10)}, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v is not a DynamoDB number", x)
		}
		return &types.AttributeValueMemberN{Value: strconv.FormatFloat(x, 'f', -1, 64)}, nil
	case []any:
		l := make([]types.AttributeValue, len(x))
		for i, e := range x {
			av, err := attributeValue(e)
			if err != nil {
				return nil, err
			}
			l[i] = av
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case yaml.MapSlice:
		m := make(map[string]any, len(x))
		for _, kv := range x {
			k, ok := kv.Key.(string)
			if !ok {
				return nil, fmt.Errorf("map key %v is not a string", kv.Key)
			}
			m[k] = kv.Value
		}
		av, err := attributeMap(m)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: av}, nil
	case map[string]any:
		av, err := attributeMap(x)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: av}, nil
	}
	return nil, fmt.Errorf("%v (%T) has no DynamoDB type: use a string, number, boolean, list or map", v, v)
}

func attributeMap(m map[string]any) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		av, err := attributeValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

// template is a parsed "{name}..." string: literal parts and attribute
// names alternate, starting with a literal.
type template struct {
	parts []string
	names []string
}

func parseTemplate(s string) (template, error) {
	var t template
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			if strings.IndexByte(s, '}') >= 0 {
				return t, errors.New("a } without its {")
			}
			t.parts = append(t.parts, s)
			break
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			return t, errors.New("a { without its }")
		}
		name := s[open+1 : open+end]
		if name == "" || strings.ContainsAny(name, "{") {
			return t, fmt.Errorf("{%s} does not name an attribute", name)
		}
		if strings.IndexByte(s[:open], '}') >= 0 {
			return t, errors.New("a } without its {")
		}
		t.parts = append(t.parts, s[:open])
		t.names = append(t.names, name)
		s = s[open+end+1:]
	}
	if len(t.names) == 0 {
		return t, errors.New("names no attribute: use value for a constant")
	}
	return t, nil
}

// render fills the template from item's string and number attributes;
// missing names the first attribute the item lacks.
func (t template) render(item map[string]types.AttributeValue) (out, missing string) {
	var b strings.Builder
	for i, p := range t.parts {
		b.WriteString(p)
		if i == len(t.names) {
			break
		}
		switch v := item[t.names[i]].(type) {
		case *types.AttributeValueMemberS:
			b.WriteString(v.Value)
		case *types.AttributeValueMemberN:
			b.WriteString(v.Value)
		default:
			return "", t.names[i]
		}
	}
	return b.String(), ""
}

// filter is the Scan filter of a step: the key prefixes, never the
// bookkeeping items, plus what the step adds.
func (w Where) filter(extra string, names map[string]string, values map[string]types.AttributeValue) string {
	names["#pk"] = attrPK
	values[":schema"] = str(schemaPK)
	conds := []string{"#pk <> :schema"}
	if w.PKPrefix != "" {
		values[":pkp"] = str(w.PKPrefix)
		conds = append(conds, "begins_with(#pk, :pkp)")
	}
	if w.SKPrefix != "" {
		names["#sk"] = attrSK
		values[":skp"] = str(w.SKPrefix)
		conds = append(conds, "begins_with(#sk, :skp)")
	}
	if extra != "" {
		conds = append(conds, extra)
	}
	return strings.Join(conds, " AND ")
}

func keyOf(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]}
}

func runSteps(steps []Step) func(ctx context.Context, m *Migrator) error {
	return func(ctx context.Context, m *Migrator) error {
		for i, st := range steps {
			if err := st.run(ctx, m); err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
		}
		return nil
	}
}

// transform computes an item's new state; ok false: nothing to change
// (already migrated, or skip names why it is left alone).
type transform func(item map[string]types.AttributeValue) (next map[string]types.AttributeValue, ok bool, skip string)

func (st Step) run(ctx context.Context, m *Migrator) error {
	switch {
	case st.Put != nil:
		for _, raw := range st.Put {
			item, err := attributeMap(raw) // checked at load
			if err != nil {
				return err
			}
			if _, err := m.Put(ctx, &dynamodb.PutItemInput{
				Item:                     item,
				ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{"#pk": attrPK},
			}, putUnits(item, nil)); err != nil {
				return err
			}
		}
		return nil
	case st.Set != nil:
		return st.Set.run(ctx, m)
	case st.Rename != nil:
		r := st.Rename
		names, values := map[string]string{"#from": r.From, "#to": r.To}, map[string]types.AttributeValue{}
		return rewrite(ctx, m, r.Where.filter("attribute_exists(#from) AND attribute_not_exists(#to)", names, values), names, values,
			func(item map[string]types.AttributeValue) (map[string]types.AttributeValue, bool, string) {
				v, has := item[r.From]
				if _, taken := item[r.To]; !has || taken {
					return nil, false, ""
				}
				next := maps.Clone(item)
				delete(next, r.From)
				next[r.To] = v
				return next, true, ""
			})
	case st.Remove != nil:
		r := st.Remove
		names, values := map[string]string{"#a": r.Attribute}, map[string]types.AttributeValue{}
		return rewrite(ctx, m, r.Where.filter("attribute_exists(#a)", names, values), names, values,
			func(item map[string]types.AttributeValue) (map[string]types.AttributeValue, bool, string) {
				if _, has := item[r.Attribute]; !has {
					return nil, false, ""
				}
				next := maps.Clone(item)
				delete(next, r.Attribute)
				return next, true, ""
			})
	}
	return nil
}

func (s *SetStep) run(ctx context.Context, m *Migrator) error {
	var fixed types.AttributeValue
	var tmpl template
	if s.Value != nil {
		fixed, _ = attributeValue(s.Value) // checked at load
	} else {
		tmpl, _ = parseTemplate(s.Template)
	}
	names, values := map[string]string{}, map[string]types.AttributeValue{}
	extra := ""
	switch {
	case s.IfMissing:
		names["#a"], extra = s.Attribute, "attribute_not_exists(#a)"
	case fixed != nil: // read only the items that differ
		names["#a"], values[":v"], extra = s.Attribute, fixed, "(attribute_not_exists(#a) OR #a <> :v)"
	}
	return rewrite(ctx, m, s.Where.filter(extra, names, values), names, values,
		func(item map[string]types.AttributeValue) (map[string]types.AttributeValue, bool, string) {
			old, has := item[s.Attribute]
			if has && s.IfMissing {
				return nil, false, ""
			}
			v := fixed
			if v == nil {
				out, missing := tmpl.render(item)
				if missing != "" {
					return nil, false, fmt.Sprintf("has no string or number %s for the template of %s", missing, s.Attribute)
				}
				v = str(out)
			}
			if has && equalValues(old, v) {
				return nil, false, ""
			}
			next := maps.Clone(item)
			next[s.Attribute] = v
			return next, true, ""
		})
}

// rewrite scans the items the filter picks and writes each one's new
// state as a whole item, with a condition that it is still exactly as read
// (every attribute), so a write of the live app in between is not
// overwritten: that item is read again and transformed again.
//
// A put of the whole item rather than an UpdateItem because minidyn,
// lowfare dev's endpoint, ignores REMOVE in an update and drops the other
// entries of an index when an update adds an item to it; the migrations
// are meant to be tried there first.
func rewrite(ctx context.Context, m *Migrator, filter string, names map[string]string, values map[string]types.AttributeValue, fn transform) error {
	skipped := 0
	err := m.Scan(ctx, filter, names, values, func(item map[string]types.AttributeValue) error {
		for attempt := 1; ; attempt++ {
			next, ok, skip := fn(item)
			if skip != "" {
				skipped++
				if skipped <= 5 {
					m.Logf("warning: %s/%s %s; left alone", stringOf(item[attrPK]), stringOf(item[attrSK]), skip)
				}
				return nil
			}
			if !ok {
				return nil
			}
			in := unchangedSince(item)
			in.Item = next
			written, err := m.Put(ctx, in, putUnits(next, item))
			if err != nil || written {
				return err
			}
			if attempt == 3 {
				return fmt.Errorf("%s/%s changed under the migration three times in a row; run lowfare data migrate again when the app writes it less", stringOf(item[attrPK]), stringOf(item[attrSK]))
			}
			if item, err = m.getItem(ctx, keyOf(item)); err != nil || item == nil {
				return err // gone: nothing to migrate
			}
		}
	})
	if skipped > 5 {
		m.Logf("warning: %d items in all were left alone", skipped)
	}
	return err
}

// unchangedSince is a put whose condition holds only while the stored
// item still has every attribute of item with the same value. (An
// attribute added since cannot be told apart in a condition; the window
// is one read and one write.)
func unchangedSince(item map[string]types.AttributeValue) *dynamodb.PutItemInput {
	names := map[string]string{"#pk": attrPK}
	values := map[string]types.AttributeValue{}
	conds := []string{"attribute_exists(#pk)"}
	keys := slices.Sorted(maps.Keys(item))
	for i, k := range keys {
		if k == attrPK || k == attrSK {
			continue
		}
		n, v := "#n"+strconv.Itoa(i), ":v"+strconv.Itoa(i)
		names[n], values[v] = k, item[k]
		conds = append(conds, n+" = "+v)
	}
	in := &dynamodb.PutItemInput{ConditionExpression: aws.String(strings.Join(conds, " AND ")), ExpressionAttributeNames: names}
	if len(values) > 0 {
		in.ExpressionAttributeValues = values
	}
	return in
}

// putUnits is the write's cost: the bigger of the item's two states, twice
// when either is in the index.
func putUnits(next, prev map[string]types.AttributeValue) float64 {
	u := max(ItemWriteUnits(next), ItemWriteUnits(prev))
	_, in1 := next["GSI1PK"]
	_, in2 := prev["GSI1PK"]
	if in1 || in2 {
		u *= 2
	}
	return u
}

func (m *Migrator) getItem(ctx context.Context, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	var out *dynamodb.GetItemOutput
	err := m.Backoff.retry(ctx, "reading an item of table "+m.Table, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, CallTimeout)
		defer cancel()
		var err error
		out, err = m.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(m.Table), Key: key, ConsistentRead: aws.Bool(true)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s/%s of table %s: %w", stringOf(key[attrPK]), stringOf(key[attrSK]), m.Table, err)
	}
	return out.Item, nil
}

func equalValues(a, b types.AttributeValue) bool {
	ea, err1 := EncodeItem(map[string]types.AttributeValue{"v": a})
	eb, err2 := EncodeItem(map[string]types.AttributeValue{"v": b})
	return err1 == nil && err2 == nil && string(ea) == string(eb)
}

func stringOf(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return "?"
}

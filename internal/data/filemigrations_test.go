package data

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/ddbtest"
)

// writeMigrations writes files (name -> content) into a new migrations dir.
func writeMigrations(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), MigrationsDir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// guestbookMigrations is the example of docs/runbooks/migrate-data.md:
// an app that is not links gives its entries an index key, renames an
// attribute, drops another and adds a configuration item.
var guestbookMigrations = map[string]string{
	"001-site-config.yaml": `description: the page title, read at start
steps:
  - put:
      - {PK: CONFIG, SK: SITE, title: My guestbook, max_entries: 100}
`,
	"002-entries-newest-first.yaml": `steps:
  - set: {where: {pk_prefix: "ENTRY#", sk_prefix: ENTRY}, attribute: GSI1PK, value: ENTRIES, if_missing: true}
  - set: {where: {pk_prefix: "ENTRY#", sk_prefix: ENTRY}, attribute: GSI1SK, template: "{created_at}#{PK}", if_missing: true}
  - rename: {where: {pk_prefix: "ENTRY#"}, from: msg, to: message}
  - remove: {where: {pk_prefix: "ENTRY#"}, attribute: legacy}
  - set: {where: {pk_prefix: "ENTRY#"}, attribute: status, value: visible}
`,
	"README.md": "not a migration: ignored\n",
}

func testFileMigrations(t *testing.T, b ddbtest.Backend) {
	ctx := ddbtest.Context(t)
	table := newTable(t, b)
	entry := func(id, created, msg string) map[string]types.AttributeValue {
		item := map[string]types.AttributeValue{"PK": s("ENTRY#" + id), "SK": s("ENTRY"), "msg": s(msg), "legacy": s("x")}
		if created != "" {
			item["created_at"] = s(created)
		}
		return item
	}
	ddbtest.PutItem(t, b, table, entry("a", "2026-11-01T10:00:00Z", "first"))
	ddbtest.PutItem(t, b, table, entry("b", "2026-11-02T10:00:00Z", "second"))
	ddbtest.PutItem(t, b, table, entry("c", "", "no date")) // the template cannot fill GSI1SK
	other := map[string]types.AttributeValue{"PK": s("OTHER#1"), "SK": s("ENTRY"), "msg": s("untouched"), "legacy": s("y")}
	ddbtest.PutItem(t, b, table, other)

	list, err := LoadMigrations(writeMigrations(t, guestbookMigrations))
	if err != nil {
		t.Fatalf("LoadMigrations: %v", err)
	}
	if len(list) != 2 || list[0].Name != "site-config" || list[1].Name != "entries-newest-first" {
		t.Fatalf("loaded %+v", list)
	}
	var log strings.Builder
	m := &Migrator{DDB: b.Client, Table: table, Owner: "test", Log: &log}
	res, err := m.Migrate(ctx, list)
	if err != nil || res.To != 2 {
		t.Fatalf("Migrate = %+v, %v\n%s", res, err, log.String())
	}
	if !strings.Contains(log.String(), "ENTRY#c/ENTRY has no string or number created_at for the template of GSI1SK; left alone") {
		t.Errorf("no warning for the entry without created_at:\n%s", log.String())
	}

	if got := ddbtest.GetItem(t, b, table, "CONFIG", "SITE"); stringOf(got["title"]) != "My guestbook" {
		t.Errorf("config item = %v", got)
	}
	a := ddbtest.GetItem(t, b, table, "ENTRY#a", "ENTRY")
	if stringOf(a["GSI1PK"]) != "ENTRIES" || stringOf(a["GSI1SK"]) != "2026-11-01T10:00:00Z#ENTRY#a" ||
		stringOf(a["message"]) != "first" || a["msg"] != nil || a["legacy"] != nil || stringOf(a["status"]) != "visible" {
		t.Errorf("entry a after the migrations: %v", a)
	}
	c := ddbtest.GetItem(t, b, table, "ENTRY#c", "ENTRY")
	if c["GSI1SK"] != nil || stringOf(c["message"]) != "no date" {
		t.Errorf("entry c: %v", c)
	}
	if got := ddbtest.GetItem(t, b, table, "OTHER#1", "ENTRY"); stringOf(got["msg"]) != "untouched" || got["legacy"] == nil || got["status"] != nil {
		t.Errorf("an item outside the prefix was changed: %v", got)
	}
	// The index answers newest first, as the app would ask it.
	out, err := b.Client.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(table), IndexName: aws.String("GSI1"),
		KeyConditionExpression:    aws.String("GSI1PK = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("ENTRIES")},
		ScanIndexForward:          aws.Bool(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, it := range out.Items {
		order = append(order, stringOf(it["PK"]))
	}
	if !slices.Equal(order, []string{"ENTRY#b", "ENTRY#a"}) {
		t.Errorf("GSI1 newest first = %v, want [ENTRY#b ENTRY#a]", order)
	}

	// Again, and with the steps run a second time by hand (a run that
	// died before storing its version): nothing changes.
	after := dump(t, b.Client, table)
	if res, err := m.Migrate(ctx, list); err != nil || len(res.Applied) != 0 {
		t.Fatalf("second Migrate = %+v, %v", res, err)
	}
	for _, mg := range list {
		if err := mg.Up(ctx, m); err != nil {
			t.Fatalf("%s again: %v", mg.Name, err)
		}
	}
	if got := dump(t, b.Client, table); !slices.Equal(got, after) {
		t.Fatalf("running the steps again changed the table:\n got %q\nwant %q", got, after)
	}
}

func TestLoadMigrations(t *testing.T) {
	if list, err := LoadMigrations(filepath.Join(t.TempDir(), "missing")); list != nil || err != nil {
		t.Fatalf("a missing folder = %v, %v; want no migrations and no error", list, err)
	}
	ok := "steps:\n  - remove: {attribute: x}\n"
	for name, tt := range map[string]struct {
		files map[string]string
		want  string
	}{
		"bad name":       {map[string]string{"first.yaml": ok}, "first.yaml: a migration file is named NNN-name.yaml"},
		"gap":            {map[string]string{"001-a.yaml": ok, "003-c.yaml": ok}, "migration 3 (c) is number 2"},
		"repeat":         {map[string]string{"001-a.yaml": ok, "1-b.yaml": ok}, "is number 2"},
		"zero":           {map[string]string{"000-a.yaml": ok}, "1 or more"},
		"unknown field":  {map[string]string{"001-a.yaml": "steps:\n  - remove: {attribute: x, whre: {}}\n"}, "whre"},
		"unknown step":   {map[string]string{"001-a.yaml": "steps:\n  - delete: {attribute: x}\n"}, "delete"},
		"no steps":       {map[string]string{"001-a.yaml": "description: nothing\n"}, "no steps"},
		"two in one":     {map[string]string{"001-a.yaml": "steps:\n  - remove: {attribute: x}\n    rename: {from: a, to: b}\n"}, "step 1: a step is exactly one of"},
		"set a key":      {map[string]string{"001-a.yaml": "steps:\n  - set: {attribute: SK, value: x}\n"}, "key attributes cannot be changed"},
		"number index":   {map[string]string{"001-a.yaml": "steps:\n  - set: {attribute: GSI1SK, value: 3}\n"}, "GSI1SK must be a string"},
		"value and tmpl": {map[string]string{"001-a.yaml": "steps:\n  - set: {attribute: a, value: x, template: \"{b}\"}\n"}, "exactly one of value or template"},
		"bad template":   {map[string]string{"001-a.yaml": "steps:\n  - set: {attribute: a, template: \"{b\"}\n"}, "a { without its }"},
		"constant tmpl":  {map[string]string{"001-a.yaml": "steps:\n  - set: {attribute: a, template: \"b\"}\n"}, "use value for a constant"},
		"put no key":     {map[string]string{"001-a.yaml": "steps:\n  - put: [{PK: a}]\n"}, "put item 1: SK must be a string"},
		"put schema":     {map[string]string{"001-a.yaml": "steps:\n  - put: [{PK: SCHEMA, SK: x}]\n"}, "migrations' version"},
		"not yaml":       {map[string]string{"002-b.yaml": ok, "001-a.yaml": "steps: [\n"}, "001-a.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadMigrations(writeMigrations(t, tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

// An item the app changes between the migration's read and its write is
// not overwritten: the conditional put fails, the item is read again and
// changed again, and both changes survive.
func TestRewriteKeepsAConcurrentWrite(t *testing.T) {
	b := ddbtest.Minidyn(t)
	ctx := ddbtest.Context(t)
	table := newTable(t, b)
	ddbtest.PutItem(t, b, table, map[string]types.AttributeValue{"PK": s("ENTRY#1"), "SK": s("ENTRY"), "msg": s("hello"), "likes": &types.AttributeValueMemberN{Value: "1"}})
	m := &Migrator{DDB: b.Client, Table: table, Owner: "test"}
	calls := 0
	err := rewrite(ctx, m, "#pk <> :schema", map[string]string{"#pk": "PK"}, map[string]types.AttributeValue{":schema": s(schemaPK)},
		func(item map[string]types.AttributeValue) (map[string]types.AttributeValue, bool, string) {
			calls++
			if calls == 1 { // the app writes after the migration read
				ddbtest.PutItem(t, b, table, map[string]types.AttributeValue{"PK": s("ENTRY#1"), "SK": s("ENTRY"), "msg": s("hello"), "likes": &types.AttributeValueMemberN{Value: "2"}})
			}
			if _, done := item["status"]; done {
				return nil, false, ""
			}
			next := maps.Clone(item)
			next["status"] = s("visible")
			return next, true, ""
		})
	if err != nil {
		t.Fatal(err)
	}
	got := ddbtest.GetItem(t, b, table, "ENTRY#1", "ENTRY")
	if n, _ := got["likes"].(*types.AttributeValueMemberN); n == nil || n.Value != "2" || stringOf(got["status"]) != "visible" || calls != 2 {
		t.Fatalf("after a concurrent write: %v (transform ran %d times); want likes 2 and status visible, in two tries", got, calls)
	}
}

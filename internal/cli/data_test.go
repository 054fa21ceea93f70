package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/data"
	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
	"github.com/lowfare/lowfare/internal/stack"
)

// dataWorld is a minidyn endpoint with a seeded links table.
func dataWorld(t *testing.T, links int) (ddbtest.Backend, string) {
	t.Helper()
	b := ddbtest.Minidyn(t)
	ctx := ddbtest.Context(t)
	table := ddbtest.NewTable(t, b, store.CreateTable)
	st := store.New(b.Client, table, store.Options{FlushInterval: time.Hour})
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := range links {
		slug := fmt.Sprintf("l%03d", i)
		if err := st.Create(ctx, store.Link{Slug: slug, URL: "https://example.com/" + slug, CreatedAt: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
		st.RecordClick(slug, t0)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return b, table
}

func emptyTable(t *testing.T, b ddbtest.Backend) string {
	t.Helper()
	return ddbtest.NewTable(t, b, store.CreateTable)
}

func tableDump(t *testing.T, c *dynamodb.Client, table string) []string {
	t.Helper()
	return ddbtest.Dump(t, c, table, data.EncodeItem)
}

func TestDataExportImportCommands(t *testing.T) {
	b, src := dataWorld(t, 30)
	want := tableDump(t, b.Client, src)
	dir := t.TempDir()
	file := filepath.Join(dir, "links.jsonl")

	code, out, errOut := runCmdInput(t, "", "data", "export", "--dynamodb-endpoint", b.Endpoint, "--table", src, "-o", file, "--rate", "unlimited")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	if out != "" || !strings.Contains(errOut, fmt.Sprintf("Exported %d items of table %s to %s (scan segments: 1 of the 4 asked for: this endpoint does not split a Scan into segments).", len(want), src, file)) {
		t.Fatalf("export: stdout %q, stderr %q", out, errOut)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*tmp")); len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}

	// To standard output, the same items.
	code, stdout, errOut := runCmdInput(t, "", "data", "export", "--dynamodb-endpoint", b.Endpoint, "--table", src, "--rate", "5")
	if code != 0 || !strings.HasPrefix(stdout, `{"lowfare_export":1,`) || !strings.Contains(errOut, "5 RCU/s") {
		t.Fatalf("export to stdout: exit %d, stderr %s, stdout %.80s", code, errOut, stdout)
	}
	if sum, err := data.Verify(strings.NewReader(stdout)); err != nil || sum.Items != int64(len(want)) {
		t.Fatalf("stdout export: %+v, %v", sum, err)
	}

	dst := emptyTable(t, b)
	code, out, errOut = runCmdInput(t, "", "data", "import", "--dynamodb-endpoint", b.Endpoint, "--table", dst, "--rate", "unlimited", file)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, fmt.Sprintf("Imported %d items into table %s; skipped 0 already there", len(want), dst)) ||
		!strings.Contains(errOut, "checked.") || !strings.Contains(errOut, "imported ") {
		t.Fatalf("import: stdout %q, stderr %q", out, errOut)
	}
	if got := tableDump(t, b.Client, dst); !slices.Equal(got, want) {
		t.Fatalf("imported table differs:\n got %q\nwant %q", got, want)
	}
	code, out, _ = runCmdInput(t, "", "data", "import", "--dynamodb-endpoint", b.Endpoint, "--table", dst, "--rate", "unlimited", file)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("Imported 0 items into table %s; skipped %d already there", dst, len(want))) {
		t.Fatalf("second import (skip-existing): exit %d, %q", code, out)
	}
	code, out, _ = runCmdInput(t, "", "data", "import", "--dynamodb-endpoint", b.Endpoint, "--table", dst, "--rate", "unlimited", "--mode", "overwrite", file)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("Imported %d items", len(want))) {
		t.Fatalf("import --mode overwrite: exit %d, %q", code, out)
	}

	// From standard input.
	dst2 := emptyTable(t, b)
	code, out, errOut = runCmdInput(t, stdout, "data", "import", "--dynamodb-endpoint", b.Endpoint, "--table", dst2, "--rate", "unlimited", "-")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("Imported %d items", len(want))) {
		t.Fatalf("import -: exit %d, %q, %s", code, out, errOut)
	}
}

func TestDataImportBadFileWritesNothing(t *testing.T) {
	b, src := dataWorld(t, 20) // 20 META + 20 TOTAL + 20 DAY = 60 items: three batches
	file := filepath.Join(t.TempDir(), "links.jsonl")
	if code, _, errOut := runCmdInput(t, "", "data", "export", "--dynamodb-endpoint", b.Endpoint, "--table", src, "-o", file, "--rate", "unlimited"); code != 0 {
		t.Fatal(errOut)
	}
	good, _ := os.ReadFile(file)
	lines := strings.SplitAfter(string(good), "\n")
	edit := func(n int, with string) string {
		l := slices.Clone(lines)
		l[n-1] = with + "\n"
		return strings.Join(l, "")
	}
	for name, tt := range map[string]struct{ content, want string }{
		"bad line in the last batch": {edit(55, `{"PK":{"S":"LINK#x"},"SK":{"N":"1"}}`), "line 55: key attribute SK is N"},
		"valid line edited":          {edit(3, `{"PK":{"S":"LINK#x"},"SK":{"S":"META"}}`), "checksum does not match"},
		"truncated":                  {strings.Join(lines[:40], ""), "truncated"},
		"not json":                   {edit(2, `PK=LINK#x`), "line 2: not a JSON object"},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.jsonl")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			dst := emptyTable(t, b)
			code, _, errOut := runCmdInput(t, "", "data", "import", "--dynamodb-endpoint", b.Endpoint, "--table", dst, "--rate", "unlimited", "--mode", "overwrite", p)
			if code != ExitUsage || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "nothing was written") {
				t.Fatalf("exit %d, stderr %q; want 2 naming %q", code, errOut, tt.want)
			}
			if n := len(tableDump(t, b.Client, dst)); n != 0 {
				t.Fatalf("%d items written from a bad file, want 0", n)
			}
		})
	}

	// Streamed from standard input a file cannot be read twice: the
	// batches before the bad line's are written, nothing of its own.
	dst := emptyTable(t, b)
	code, _, errOut := runCmdInput(t, edit(30, `{"PK":{"S":"LINK#x"}}`), "data", "import", "--dynamodb-endpoint", b.Endpoint, "--table", dst, "--rate", "unlimited", "-")
	if code != ExitUsage || !strings.Contains(errOut, "line 30: item has no key attribute SK") || !strings.Contains(errOut, "the 25 items before its batch were imported (25 written, 0 skipped)") {
		t.Fatalf("stdin with a bad line 30: exit %d, %s", code, errOut)
	}
	if n := len(tableDump(t, b.Client, dst)); n != 25 {
		t.Fatalf("%d items written, want the first batch of 25", n)
	}
}

func TestDataBadInputMakesNoCall(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no calls expected", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ep := []string{"--dynamodb-endpoint", srv.URL}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"data"}, "needs a subcommand"},
		{append([]string{"data", "export", "--rate", "-3"}, ep...), "--rate"},
		{append([]string{"data", "export", "--rate", "fast"}, ep...), "--rate"},
		{append([]string{"data", "export", "--segments", "0"}, ep...), "--segments"},
		{append([]string{"data", "export", "-o", "/nonexistent/dir/x.jsonl"}, ep...), "does not exist"},
		{append([]string{"data", "export", "--table", "a"}, ep...), "--table"},
		{[]string{"data", "export", "--dynamodb-endpoint", "localhost:4567"}, "not an http(s) URL"},
		{append([]string{"data", "import", "--mode", "merge", "x.jsonl"}, ep...), "--mode"},
		{append([]string{"data", "import"}, ep...), "accepts 1 arg"},
		{append([]string{"data", "import", "/nonexistent.jsonl"}, ep...), "no such file"},
		{append([]string{"data", "import", empty}, ep...), "line 1: the file is empty"},
		{append([]string{"data", "migrate", "extra"}, ep...), "unknown command"},
		{[]string{"data", "export", "-f", "/nonexistent/lowfare.yaml"}, "lowfare.yaml"},
	} {
		code, _, errOut := runCmdInput(t, "", tt.args...)
		if code != ExitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("bad input made %d calls to the endpoint", n)
	}
}

// notesSpec is an app that is not links: data finds its table from it.
const notesSpec = "app: notes\nenv: dev\nregion: us-east-1\n"

// data migrate applies the migration files beside the spec, and only
// them: a table whose app wrote none is not touched, not even read.
func TestDataMigrateCommand(t *testing.T) {
	b, table := dataWorld(t, 3)
	before := tableDump(t, b.Client, table)
	spec := specFile(t, notesSpec)
	dir := filepath.Join(filepath.Dir(spec), "migrations")

	// No migration files: no call to the endpoint, nothing written.
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no calls expected", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	for _, ep := range []string{srv.URL, b.Endpoint} {
		for _, extra := range [][]string{nil, {"--dry-run"}} {
			code, out, errOut := runCmdInput(t, "", append([]string{"data", "migrate", "-f", spec, "--dynamodb-endpoint", ep, "--table", table}, extra...)...)
			if code != 0 || !strings.Contains(out, "No migrations in "+dir+": nothing to apply, and the table was not touched.") ||
				!strings.Contains(out, "docs/runbooks/migrate-data.md") {
				t.Fatalf("without migrations %v: exit %d, %q, %s", extra, code, out, errOut)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("data migrate without migrations made %d calls", n)
	}
	if got := tableDump(t, b.Client, table); !slices.Equal(got, before) {
		t.Fatalf("data migrate without migrations changed the table:\n got %q\nwant %q", got, before)
	}

	// With the app's own files: applied once, with the bookkeeping.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"001-site.yaml":   "steps:\n  - put: [{PK: CONFIG, SK: SITE, title: Notes}]\n",
		"002-status.yaml": "steps:\n  - set: {where: {pk_prefix: \"LINK#\", sk_prefix: META}, attribute: status, value: active, if_missing: true}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"data", "migrate", "-f", spec, "--dynamodb-endpoint", b.Endpoint, "--table", table, "--rate", "unlimited"}
	code, out, errOut := runCmdInput(t, "", append(args, "--dry-run")...)
	if code != 0 || !strings.Contains(out, "is at version 0; the migration files go to 2.") || !strings.Contains(out, "  1 site") ||
		!strings.Contains(out, "Dry run: nothing was changed") {
		t.Fatalf("dry run: exit %d, %q, %s", code, out, errOut)
	}
	if got := tableDump(t, b.Client, table); !slices.Equal(got, before) {
		t.Fatal("a dry run changed the table")
	}
	code, out, errOut = runCmdInput(t, "", args...)
	if code != 0 || !strings.Contains(out, "migrated from version 0 to 2") || !strings.Contains(errOut, "applied  2 status (3 items changed)") {
		t.Fatalf("migrate: exit %d, %q, %s", code, out, errOut)
	}
	if got := ddbtest.GetItem(t, b, table, "CONFIG", "SITE"); got == nil || ddbtest.GetItem(t, b, table, "SCHEMA", "VERSION") == nil {
		t.Fatalf("after migrate: config item %v, and a version item expected", got)
	}
	code, out, _ = runCmdInput(t, "", args...)
	if code != 0 || !strings.Contains(out, "is at version 2: nothing to apply") {
		t.Fatalf("second migrate: exit %d, %q", code, out)
	}
	// --migrations names another folder; a bad file is bad input, before any call.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "1-x.yaml"), []byte("steps:\n  - set: {attribute: PK, value: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCmdInput(t, "", "data", "migrate", "--migrations", bad, "--dynamodb-endpoint", srv.URL, "--table", table)
	if code != ExitUsage || !strings.Contains(errOut, "1-x.yaml: step 1: set PK: the table's key attributes cannot be changed") {
		t.Fatalf("bad migration file: exit %d, %s", code, errOut)
	}
	// A missing table is a failure (1) that says which.
	code, _, errOut = runCmdInput(t, "", "data", "migrate", "-f", spec, "--dynamodb-endpoint", b.Endpoint, "--table", "nope-"+table)
	if code != 1 || !strings.Contains(errOut, "does not exist at this endpoint") {
		t.Fatalf("missing table: exit %d, %s", code, errOut)
	}
}

// An app that is not links: export and import find its table from its
// spec, the deployed stack's output or, on a local endpoint, the table
// lowfare dev gives it.
func TestDataFindsTheAppsTable(t *testing.T) {
	b := ddbtest.Minidyn(t)
	ctx := ddbtest.Context(t)
	if err := store.CreateTable(ctx, b.Client, "notes-dev"); err != nil {
		t.Fatal(err)
	}
	ddbtest.PutItem(t, b, "notes-dev", map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "NOTE#1"}, "SK": &types.AttributeValueMemberS{Value: "NOTE"}})
	spec := specFile(t, notesSpec)
	file := filepath.Join(t.TempDir(), "notes.jsonl")
	code, _, errOut := runCmdInput(t, "", "data", "export", "-f", spec, "--dynamodb-endpoint", b.Endpoint, "-o", file)
	if code != 0 || !strings.Contains(errOut, "Exported 1 items of table notes-dev") {
		t.Fatalf("export from lowfare dev's table: exit %d, %s", code, errOut)
	}
	code, _, errOut = runCmdInput(t, "", "data", "export", "-f", filepath.Join(t.TempDir(), "lowfare.yaml"), "--dynamodb-endpoint", b.Endpoint)
	if code != ExitUsage || !strings.Contains(errOut, "--table") {
		t.Fatalf("no spec and no --table: exit %d, %s", code, errOut)
	}

	deployed := ddbtest.NewTable(t, b, store.CreateTable)
	cfn := awsfake.NewCloudFormation()
	cfn.PutStack("lowfare-notes-dev", "CREATE_COMPLETE", map[string]string{stack.OutputTable: deployed})
	awsfake.UseEndpoints(t, map[string]string{"CLOUDFORMATION": awsfake.Serve(t, cfn), "DYNAMODB": b.Endpoint})
	code, out, errOut := runCmdInput(t, "", "data", "import", "-f", spec, "--rate", "unlimited", file)
	if code != 0 || !strings.Contains(out, "Imported 1 items into table "+deployed) {
		t.Fatalf("import into the stack's table: exit %d, %q, %s", code, out, errOut)
	}
	code, out, errOut = runCmdInput(t, "", "data", "export", "-f", spec, "--rate", "unlimited")
	if sum, err := data.Verify(strings.NewReader(out)); code != 0 || err != nil || sum.Header.Table != deployed || sum.Items != 1 {
		t.Fatalf("export of the stack's table: exit %d, %+v, %v, %s", code, sum, err, errOut)
	}
}

// The default table is the deployed stack's TableName output, found the
// way the other day-2 commands find their resources.
func TestDataUsesTheStackTable(t *testing.T) {
	b, table := dataWorld(t, 2)
	cfn := awsfake.NewCloudFormation()
	cfn.PutStack("lowfare-links-dev", "CREATE_COMPLETE", map[string]string{stack.OutputTable: table})
	awsfake.UseEndpoints(t, map[string]string{"CLOUDFORMATION": awsfake.Serve(t, cfn), "DYNAMODB": b.Endpoint})
	spec := specFile(t, opsSpec)

	code, out, errOut := runCmdInput(t, "", "data", "export", "-f", spec, "--rate", "unlimited")
	if code != 0 || !strings.Contains(errOut, "Exported 6 items of table "+table) {
		t.Fatalf("export: exit %d, %s", code, errOut)
	}
	if sum, err := data.Verify(strings.NewReader(out)); err != nil || sum.Header.Table != table {
		t.Fatalf("export: %+v, %v", sum, err)
	}

	other := specFile(t, strings.Replace(opsSpec, "env: dev", "env: prod", 1))
	if err := os.Mkdir(filepath.Join(filepath.Dir(other), "migrations"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(other), "migrations", "001-a.yaml"), []byte("steps:\n  - remove: {attribute: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCmdInput(t, "", "data", "migrate", "--dry-run", "-f", other)
	if code != 1 || !strings.Contains(errOut, "lowfare-links-prod does not exist") || !strings.Contains(errOut, "lowfare deploy") {
		t.Fatalf("undeployed app: exit %d, %s", code, errOut)
	}
}

func TestDataRate(t *testing.T) {
	for _, tt := range []struct {
		flag        string
		provisioned int64
		want        string
	}{
		{"auto", 5, "2.5"}, // half the spec's default 5 RCU/WCU
		{"auto", 1, "1"},   // never below 1
		{"auto", 0, "20"},  // on-demand or a local endpoint
		{"7.5", 5, "7.5"},  // explicit
		{"unlimited", 5, "unlimited"},
	} {
		f := &dataFlags{rate: tt.flag}
		if err := f.check(); err != nil {
			t.Fatalf("--rate %s: %v", tt.flag, err)
		}
		if got := rateString(f.limiter(tt.provisioned)); got != tt.want {
			t.Errorf("--rate %s with %d provisioned = %s, want %s", tt.flag, tt.provisioned, got, tt.want)
		}
	}
	for _, bad := range []string{"0", "-1", "x", "1e9", "NaN"} {
		if _, _, err := parseRate(bad); err == nil {
			t.Errorf("--rate %s accepted", bad)
		}
	}
}

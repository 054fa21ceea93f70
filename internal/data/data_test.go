package data

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// newTable creates an empty links table on b.
func newTable(t *testing.T, b ddbtest.Backend) string {
	t.Helper()
	return ddbtest.NewTable(t, b, store.CreateTable)
}

// seed fills table with n links written by the links store itself (META,
// TOTAL, DAY items), plus one item of every attribute type.
func seed(t *testing.T, b ddbtest.Backend, table string, n int) {
	t.Helper()
	ctx := ddbtest.Context(t)
	st := store.New(b.Client, table, store.Options{FlushInterval: time.Hour, CacheTTL: -1})
	defer st.Close(ctx)
	for i := range n {
		slug := fmt.Sprintf("s%03d", i)
		if err := st.Create(ctx, store.Link{Slug: slug, URL: "https://example.com/" + slug + "?a=1&b=<2>", CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}); err != nil {
			t.Fatalf("Create: %v", err)
		}
		for d := range i % 3 {
			st.RecordClick(slug, t0.AddDate(0, 0, -d))
		}
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	odd := everyType()
	if b.Name == "minidyn" {
		// minidyn hands an empty map or list back as a value of no type
		// (the SDK decodes it to nil), wherever it is nested; DynamoDB
		// and dynalite keep them, and so does the export.
		odd["m"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"inner": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "1"}}}}}
	}
	ddbtest.PutItem(t, b, table, odd)
}

// dump returns every item of the table, encoded and sorted.
func dump(t *testing.T, c *dynamodb.Client, table string) []string {
	t.Helper()
	return ddbtest.Dump(t, c, table, EncodeItem)
}

func export(t *testing.T, b ddbtest.Backend, table string, o ExportOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	o.Table = table
	if _, err := Export(ddbtest.Context(t), b.Client, &buf, o); err != nil {
		t.Fatalf("Export: %v", err)
	}
	return buf.Bytes()
}

func TestData(t *testing.T) {
	ddbtest.ForEach(t, func(t *testing.T, b ddbtest.Backend) {
		t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, b) })
		t.Run("CorruptLine", func(t *testing.T) { testCorruptLine(t, b) })
		t.Run("Truncated", func(t *testing.T) { testTruncated(t, b) })
		t.Run("Modes", func(t *testing.T) { testModes(t, b) })
		t.Run("KeySchemaMismatch", func(t *testing.T) { testKeySchemaMismatch(t, b) })
		t.Run("MissingTable", func(t *testing.T) { testMissingTable(t, b) })
		t.Run("Migrate", func(t *testing.T) { testMigrate(t, b) })
		t.Run("MigrateLock", func(t *testing.T) { testMigrateLock(t, b) })
		t.Run("FileMigrations", func(t *testing.T) { testFileMigrations(t, b) })
	})
}

func testRoundTrip(t *testing.T, b ddbtest.Backend) {
	src := newTable(t, b)
	seed(t, b, src, 60)
	want := dump(t, b.Client, src)

	var progress []Progress
	file := export(t, b, src, ExportOptions{PageSize: 7, Progress: func(p Progress) { progress = append(progress, p) }})
	lines := strings.Split(strings.TrimSuffix(string(file), "\n"), "\n")
	if len(lines) != len(want)+2 {
		t.Fatalf("export has %d lines, want header + %d items + trailer", len(lines), len(want))
	}
	if !strings.HasPrefix(lines[0], `{"lowfare_export":1,"table":"`+src+`","key_schema":[{"name":"PK","type":"S","role":"HASH"},{"name":"SK","type":"S","role":"RANGE"}]`) {
		t.Errorf("header: %s", lines[0])
	}
	if !strings.HasPrefix(lines[len(lines)-1], fmt.Sprintf(`{"lowfare_export_end":1,"items":%d,"sha256":"`, len(want))) {
		t.Errorf("trailer: %s", lines[len(lines)-1])
	}
	if got := slices.Sorted(slices.Values(lines[1 : len(lines)-1])); !slices.Equal(got, want) {
		t.Fatalf("exported items differ from the table's:\n got %q\nwant %q", got, want)
	}
	if len(progress) == 0 || progress[len(progress)-1].Items != int64(len(want)) {
		t.Errorf("final progress %v, want %d items", progress, len(want))
	}
	sum, err := Verify(bytes.NewReader(file))
	if err != nil || sum.Items != int64(len(want)) {
		t.Fatalf("Verify = %+v, %v", sum, err)
	}

	for _, mode := range []Mode{ModeOverwrite, ModeSkipExisting} {
		dst := newTable(t, b)
		res, err := Import(ddbtest.Context(t), b.Client, bytes.NewReader(file), ImportOptions{Table: dst, Mode: mode})
		if err != nil {
			t.Fatalf("Import %s: %v", mode, err)
		}
		if res.Written != int64(len(want)) || res.Skipped != 0 {
			t.Errorf("Import %s: %+v, want %d written", mode, res, len(want))
		}
		if got := dump(t, b.Client, dst); !slices.Equal(got, want) {
			t.Fatalf("after import (%s) the table differs:\n got %q\nwant %q", mode, got, want)
		}
		// The imported links work through the store: the listing (GSI1) and stats.
		st := store.New(b.Client, dst, store.Options{FlushInterval: time.Hour})
		page, err := st.List(ddbtest.Context(t), 5, "")
		if err != nil || len(page.Links) != 5 || page.Links[0].Slug != "s059" {
			t.Fatalf("List after import = %+v, %v", page, err)
		}
		stats, err := st.Stats(ddbtest.Context(t), "s002", t0, 7)
		if err != nil || stats.Total != 2 {
			t.Fatalf("Stats after import = %+v, %v; want 2 clicks", stats, err)
		}
		_ = st.Close(ddbtest.Context(t))
	}
}

// corrupt returns file with line n (1-based) replaced.
func corrupt(file []byte, n int, with string) []byte {
	lines := strings.SplitAfter(string(file), "\n")
	lines[n-1] = with + "\n"
	return []byte(strings.Join(lines, ""))
}

func testCorruptLine(t *testing.T, b ddbtest.Backend) {
	src := newTable(t, b)
	seed(t, b, src, 30) // 30 META + 30 TOTAL + days + 1 = 91 items
	file := export(t, b, src, ExportOptions{})

	tests := []struct {
		name    string
		line    int
		with    string
		want    string
		written int64 // batches of 25 before the bad line's batch
		// lineWritten: the edit is a valid item, which only the trailer's
		// checksum catches; streaming, its batch went out before the
		// trailer was read (the CLI verifies a file first; see cli tests).
		lineWritten bool
	}{
		{"bad JSON in the first batch", 10, `{"PK":{"S":"LINK#x"},`, "line 10: not a JSON object", 0, false},
		{"bad type in the third batch", 60, `{"PK":{"S":"LINK#x"},"SK":{"S":"y"},"n":{"N":"abc"}}`, `line 60: attribute "n": N`, 50, false},
		{"missing sort key", 30, `{"PK":{"S":"LINK#x"}}`, "line 30: item has no key attribute SK", 25, false},
		{"number key", 40, `{"PK":{"N":"1"},"SK":{"S":"y"}}`, "line 40: key attribute PK is N", 25, false},
		{"valid item, wrong checksum", 5, `{"PK":{"S":"LINK#zz"},"SK":{"S":"META"}}`, "checksum does not match", 75, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := corrupt(file, tt.line, tt.with)
			if _, err := Verify(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), strings.SplitN(tt.want, ": ", 2)[len(strings.SplitN(tt.want, ": ", 2))-1]) {
				t.Fatalf("Verify: err = %v, want %q", err, tt.want)
			}
			dst := newTable(t, b)
			res, err := Import(ddbtest.Context(t), b.Client, bytes.NewReader(bad), ImportOptions{Table: dst, Mode: ModeOverwrite})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Import: err = %v, want one containing %q", err, tt.want)
			}
			var le *LineError
			if tt.line != 5 && (!errors.As(err, &le) || le.Line != tt.line) {
				t.Fatalf("Import error %v does not name line %d", err, tt.line)
			}
			items := dump(t, b.Client, dst)
			if res.Written != tt.written || int64(len(items)) != tt.written {
				t.Fatalf("written %d, table holds %d items; want exactly the %d before the bad line's batch", res.Written, len(items), tt.written)
			}
			for _, it := range items {
				if tt.lineWritten {
					break
				}
				if strings.Contains(it, "LINK#x") || strings.Contains(it, "LINK#zz") {
					t.Fatalf("the bad line was written: %s", it)
				}
			}
		})
	}
}

func testTruncated(t *testing.T, b ddbtest.Backend) {
	src := newTable(t, b)
	seed(t, b, src, 5)
	file := export(t, b, src, ExportOptions{})
	lines := strings.SplitAfter(string(file), "\n")
	cases := map[string]string{
		"no trailer":      strings.Join(lines[:len(lines)-2], ""),
		"cut mid-line":    strings.Join(lines[:len(lines)-3], "") + lines[len(lines)-3][:10],
		"header only":     lines[0],
		"empty":           "",
		"not an export":   `{"PK":{"S":"a"},"SK":{"S":"b"}}` + "\n",
		"after trailer":   string(file) + `{"PK":{"S":"a"},"SK":{"S":"b"}}` + "\n",
		"future version":  strings.Replace(string(file), `"lowfare_export":1`, `"lowfare_export":9`, 1),
		"count too small": strings.Replace(string(file), fmt.Sprintf(`"items":%d`, len(lines)-3), `"items":1`, 1),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			dst := newTable(t, b)
			if _, err := Verify(strings.NewReader(content)); err == nil {
				t.Fatalf("Verify accepted it")
			}
			_, err := Import(ddbtest.Context(t), b.Client, strings.NewReader(content), ImportOptions{Table: dst})
			if err == nil {
				t.Fatal("Import accepted it")
			}
			t.Log(err)
			if n := len(dump(t, b.Client, dst)); n != 0 {
				t.Fatalf("%d items written from a small damaged file (all in its last batch), want 0", n)
			}
		})
	}
}

func testModes(t *testing.T, b ddbtest.Backend) {
	src := newTable(t, b)
	key := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "LINK#k"}, "SK": &types.AttributeValueMemberS{Value: "TOTAL"}}
	item := func(clicks string) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{"clicks": &types.AttributeValueMemberN{Value: clicks}}
		for k, v := range key {
			m[k] = v
		}
		return m
	}
	ddbtest.PutItem(t, b, src, item("100"))
	ddbtest.PutItem(t, b, src, map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "LINK#new"}, "SK": &types.AttributeValueMemberS{Value: "TOTAL"}})
	file := export(t, b, src, ExportOptions{})

	clicks := func(table string) string {
		out, err := b.Client.GetItem(ddbtest.Context(t), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item["clicks"].(*types.AttributeValueMemberN).Value
	}

	dst := newTable(t, b)
	ddbtest.PutItem(t, b, dst, item("7")) // the live table moved on since the export
	res, err := Import(ddbtest.Context(t), b.Client, bytes.NewReader(file), ImportOptions{Table: dst, Mode: ModeSkipExisting})
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 1 || res.Skipped != 1 || clicks(dst) != "7" {
		t.Fatalf("skip-existing: %+v, clicks %s; want 1 written, 1 skipped, the live 7 kept", res, clicks(dst))
	}
	res, err = Import(ddbtest.Context(t), b.Client, bytes.NewReader(file), ImportOptions{Table: dst, Mode: ModeOverwrite})
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 2 || clicks(dst) != "100" {
		t.Fatalf("overwrite: %+v, clicks %s; want both written, the exported 100 back", res, clicks(dst))
	}
	if got, want := dump(t, b.Client, dst), dump(t, b.Client, src); !slices.Equal(got, want) {
		t.Fatalf("after overwrite:\n got %q\nwant %q", got, want)
	}
	if _, err := ParseMode("merge"); err == nil {
		t.Fatal("ParseMode accepted merge")
	}
}

func testKeySchemaMismatch(t *testing.T, b ddbtest.Backend) {
	src := newTable(t, b)
	seed(t, b, src, 1)
	file := export(t, b, src, ExportOptions{})
	other := ddbtest.TableName(t)
	_, err := b.Client.CreateTable(ddbtest.Context(t), &dynamodb.CreateTableInput{
		TableName:            aws.String(other),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Import(ddbtest.Context(t), b.Client, bytes.NewReader(file), ImportOptions{Table: other})
	if err == nil || !strings.Contains(err.Error(), "key schema HASH id (") || !strings.Contains(err.Error(), "the export has HASH PK (S), RANGE SK (S)") {
		t.Fatalf("Import into a table with other keys: %v", err)
	}
}

func testMissingTable(t *testing.T, b ddbtest.Backend) {
	_, err := Export(ddbtest.Context(t), b.Client, io.Discard, ExportOptions{Table: "nope-" + ddbtest.TableName(t)})
	if !errors.Is(err, ErrNoTable) {
		t.Fatalf("Export of a missing table: %v, want ErrNoTable", err)
	}
}

func TestExportSegments(t *testing.T) {
	// dynalite honours Segment/TotalSegments; minidyn ignores them, and
	// Export must notice rather than export every item four times.
	ddbtest.ForEach(t, func(t *testing.T, b ddbtest.Backend) {
		src := newTable(t, b)
		seed(t, b, src, 40)
		want := dump(t, b.Client, src)
		for _, segs := range []int{1, 3, 8} {
			var buf bytes.Buffer
			sum, err := Export(ddbtest.Context(t), b.Client, &buf, ExportOptions{Table: src, Segments: segs, PageSize: 5})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Items != int64(len(want)) {
				t.Fatalf("%d segments: %d items exported, want %d", segs, sum.Items, len(want))
			}
			wantSegs := segs
			if b.Name == "minidyn" {
				wantSegs = 1
			}
			if sum.Header.Segments != wantSegs {
				t.Errorf("%s, %d segments asked: header says %d, want %d", b.Name, segs, sum.Header.Segments, wantSegs)
			}
		}
	})
}

func TestExportRateLimited(t *testing.T) {
	b := ddbtest.Minidyn(t)
	src := newTable(t, b)
	seed(t, b, src, 50)
	clock := newFakeClock()
	// minidyn reports no consumed capacity, so pages are charged by size;
	// a rate of 0.5 RCU/s makes every page after the first wait.
	var buf bytes.Buffer
	sum, err := Export(ddbtest.Context(t), b.Client, &buf, ExportOptions{Table: src, PageSize: 10, Limiter: NewLimiter(0.5, clock), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	pages := int((sum.Items + 9) / 10)
	if got := len(clock.slept); got < pages-2 {
		t.Fatalf("%d waits for %d pages at 0.5 RCU/s, want one per page after the burst", got, pages)
	}
	if clock.total() < time.Duration(pages-2)*time.Second {
		t.Fatalf("waited %s in total for %d pages of at least 0.5 RCU at 0.5 RCU/s", clock.total(), pages)
	}
}

func TestExportStopsOnCancel(t *testing.T) {
	b := ddbtest.Minidyn(t)
	src := newTable(t, b)
	seed(t, b, src, 30)
	ctx, cancel := context.WithCancel(ddbtest.Context(t))
	var buf bytes.Buffer
	_, err := Export(ctx, b.Client, &buf, ExportOptions{Table: src, PageSize: 5, ProgressEvery: time.Nanosecond,
		Progress: func(Progress) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Export after cancel: %v, want context.Canceled", err)
	}
	if strings.Contains(buf.String(), trailerKey) {
		t.Fatal("a cancelled export wrote a trailer")
	}
	if _, err := Verify(&buf); err == nil {
		t.Fatal("a cancelled export verifies as complete")
	}
}

func TestImportSameKeyTwice(t *testing.T) {
	b := ddbtest.Minidyn(t)
	table := newTable(t, b)
	items := `{"PK":{"S":"LINK#a"},"SK":{"S":"TOTAL"},"clicks":{"N":"1"}}` + "\n" +
		`{"PK":{"S":"LINK#a"},"SK":{"S":"TOTAL"},"clicks":{"N":"2"}}` + "\n"
	sum := sha256.Sum256([]byte(items))
	file := `{"lowfare_export":1,"table":"links","key_schema":[{"name":"PK","type":"S","role":"HASH"},{"name":"SK","type":"S","role":"RANGE"}],"exported_at":"2026-11-25T00:00:00Z"}` + "\n" +
		items + fmt.Sprintf(`{"lowfare_export_end":1,"items":2,"sha256":"%x"}`+"\n", sum)
	// BatchWriteItem refuses one key twice in a call; the import splits the batch.
	res, err := Import(ddbtest.Context(t), b.Client, strings.NewReader(file), ImportOptions{Table: table, Mode: ModeOverwrite})
	if err != nil || res.Written != 2 {
		t.Fatalf("Import = %+v, %v", res, err)
	}
	if got := dump(t, b.Client, table); len(got) != 1 || !strings.Contains(got[0], `"clicks":{"N":"2"}`) {
		t.Fatalf("table = %q, want the later line to win", got)
	}
}

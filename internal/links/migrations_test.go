package links

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/data"
	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
)

var migrationT0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// migSeed writes n links through the store itself (META, TOTAL, DAY items).
func migSeed(t *testing.T, b ddbtest.Backend, table string, n int) {
	t.Helper()
	ctx := ddbtest.Context(t)
	st := store.New(b.Client, table, store.Options{FlushInterval: time.Hour, CacheTTL: -1})
	defer st.Close(ctx)
	for i := range n {
		slug := fmt.Sprintf("s%03d", i)
		if err := st.Create(ctx, store.Link{Slug: slug, URL: "https://example.com/" + slug, CreatedAt: migrationT0.Add(time.Duration(i) * time.Millisecond)}); err != nil {
			t.Fatalf("Create: %v", err)
		}
		for d := range i % 3 {
			st.RecordClick(slug, migrationT0.AddDate(0, 0, -d))
		}
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func TestMigrations(t *testing.T) {
	ddbtest.ForEach(t, testMigrations)
}

func testMigrations(t *testing.T, b ddbtest.Backend) {
	ctx := ddbtest.Context(t)
	table := ddbtest.NewTable(t, b, store.CreateTable)
	migSeed(t, b, table, 3)
	// Items the current store never writes but older tools or hand edits did.
	ddbtest.PutItem(t, b, table, map[string]types.AttributeValue{"PK": sAttr("LINK#legacy"), "SK": sAttr("META"), "type": sAttr("link"),
		"slug": sAttr("legacy"), "url": sAttr("https://example.com/old"), "created_at": sAttr("2020-01-02T03:04:05.5Z")})
	ddbtest.PutItem(t, b, table, map[string]types.AttributeValue{"PK": sAttr("LINK#broken"), "SK": sAttr("META"), "slug": sAttr("broken"), "url": sAttr("https://x.example")})
	ddbtest.PutItem(t, b, table, map[string]types.AttributeValue{"PK": sAttr("LINK#legacy"), "SK": sAttr("DAY#2020-01-02"), "type": sAttr("day"),
		"day": sAttr("2020-01-02"), "clicks": &types.AttributeValueMemberN{Value: "4"}})

	// The keys the migrations write match what the store writes.
	meta := ddbtest.GetItem(t, b, table, "LINK#s000", "META")
	if got, want := meta["GSI1SK"].(*types.AttributeValueMemberS).Value, store.GSI1SortKey(migrationT0, "s000"); got != want {
		t.Fatalf("store writes GSI1SK %q, the migration would write %q", got, want)
	}
	if got := meta["GSI1PK"].(*types.AttributeValueMemberS).Value; got != store.GSI1PartitionKey {
		t.Fatalf("store writes GSI1PK %q, the migration %q", got, store.GSI1PartitionKey)
	}
	day := ddbtest.GetItem(t, b, table, "LINK#s001", linksDayPrefix+migrationT0.Format(linksDayLayout))
	if got, want := day[linksExpiresAttr].(*types.AttributeValueMemberN).Value, strconv.FormatInt(migrationT0.Truncate(24*time.Hour).Add(store.ClickRetention).Unix(), 10); got != want {
		t.Fatalf("store writes %s %s, the migration would write %s", linksExpiresAttr, got, want)
	}

	var log strings.Builder
	m := &data.Migrator{DDB: b.Client, Table: table, Owner: "test", Log: &log}
	plan, err := m.Plan(ctx, Migrations())
	if err != nil || plan.Current != 0 || len(plan.Pending) != 2 {
		t.Fatalf("Plan = %+v, %v; want version 0 and 2 pending", plan, err)
	}
	before := ddbtest.Dump(t, b.Client, table, data.EncodeItem)
	res, err := m.Migrate(ctx, Migrations())
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if res.From != 0 || res.To != 2 || len(res.Applied) != 2 {
		t.Fatalf("Migrate = %+v", res)
	}
	if !strings.Contains(log.String(), "applied  1 backfill-gsi1-keys (1 items changed)") ||
		!strings.Contains(log.String(), "applied  2 backfill-day-expiry (1 items changed)") ||
		!strings.Contains(log.String(), `warning: link "broken" has no valid created_at`) {
		t.Errorf("log:\n%s", log.String())
	}
	// The legacy link now shows in the listing, in created order (oldest).
	st := store.New(b.Client, table, store.Options{FlushInterval: time.Hour})
	defer st.Close(ctx)
	page, err := st.List(ctx, 10, "")
	if err != nil || len(page.Links) != 4 || page.Links[3].Slug != "legacy" {
		t.Fatalf("List after migrating = %+v, %v; want the 3 seeded links then legacy", page.Links, err)
	}
	exp := ddbtest.GetItem(t, b, table, "LINK#legacy", "DAY#2020-01-02")[linksExpiresAttr]
	if exp == nil || exp.(*types.AttributeValueMemberN).Value != strconv.FormatInt(time.Date(2021, 2, 5, 0, 0, 0, 0, time.UTC).Unix(), 10) {
		t.Fatalf("expires_at of the legacy day bucket = %v, want 2020-01-02 + 400 days", exp)
	}
	after := ddbtest.Dump(t, b.Client, table, data.EncodeItem)
	if changed := len(slices.DeleteFunc(slices.Clone(after), func(x string) bool { return slices.Contains(before, x) })); changed != 3 {
		t.Fatalf("%d items new or changed, want 3 (GSI1 keys, expiry, version item)", changed)
	}
	// Each Up is idempotent on its own: as after a crash before the version was stored.
	for _, mg := range Migrations() {
		if err := mg.Up(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if got := ddbtest.Dump(t, b.Client, table, data.EncodeItem); !slices.Equal(got, after) {
		t.Fatal("running the migrations again changed the table")
	}
	if _, err := m.Migrate(ctx, Migrations()[:1]); !errors.Is(err, data.ErrAhead) {
		t.Fatalf("Migrate with a shorter history: %v, want ErrAhead", err)
	}
}

func TestMigrationsAreWellFormed(t *testing.T) {
	if err := data.CheckMigrations(Migrations()); err != nil {
		t.Fatalf("the shipped migrations: %v", err)
	}
}

// TestHandWrittenFile follows docs/runbooks/migrate-from-copilot.md: item
// lines mapped by a script, a header written by hand, a trailer of `wc -l`
// and `sha256sum` over the item lines; import, then migrate backfills the
// listing keys.
func TestHandWrittenFile(t *testing.T) {
	b := ddbtest.Minidyn(t)
	table := ddbtest.NewTable(t, b, store.CreateTable)
	items := `{"PK":{"S":"LINK#a"},"SK":{"S":"META"},"type":{"S":"link"},"slug":{"S":"a"},"url":{"S":"https://a.example"},"created_at":{"S":"2025-01-02T03:04:05Z"}}` + "\n" +
		`{"PK":{"S":"LINK#b"},"SK":{"S":"META"},"type":{"S":"link"},"slug":{"S":"b"},"url":{"S":"https://b.example"},"created_at":{"S":"2025-02-02T03:04:05Z"}}` + "\n"
	sum := sha256.Sum256([]byte(items))
	file := `{"lowfare_export":1,"table":"links","key_schema":[{"name":"PK","type":"S","role":"HASH"},{"name":"SK","type":"S","role":"RANGE"}],"exported_at":"2026-11-25T00:00:00Z"}` + "\n" +
		items + fmt.Sprintf(`{"lowfare_export_end":1,"items":%d,"sha256":"%s"}`+"\n", 2, hex.EncodeToString(sum[:]))
	ctx := ddbtest.Context(t)
	res, err := data.Import(ctx, b.Client, strings.NewReader(file), data.ImportOptions{Table: table})
	if err != nil || res.Written != 2 {
		t.Fatalf("Import of a hand-written file = %+v, %v", res, err)
	}
	m := &data.Migrator{DDB: b.Client, Table: table}
	if _, err := m.Migrate(ctx, Migrations()); err != nil {
		t.Fatal(err)
	}
	st := store.New(b.Client, table, store.Options{FlushInterval: time.Hour})
	defer st.Close(context.Background())
	page, err := st.List(ctx, 10, "")
	if err != nil || len(page.Links) != 2 || page.Links[0].Slug != "b" {
		t.Fatalf("List = %+v, %v; want b then a", page.Links, err)
	}
}

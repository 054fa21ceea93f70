package data

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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func getItem(t *testing.T, b ddbtest.Backend, table, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := b.Client.GetItem(ddbtest.Context(t), &dynamodb.GetItemInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": s(pk), "SK": s(sk)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func testMigrate(t *testing.T, b ddbtest.Backend) {
	ctx := ddbtest.Context(t)
	table := newTable(t, b)
	seed(t, b, table, 3)
	// Items the current store never writes but older tools or hand edits did.
	put(t, b, table, map[string]types.AttributeValue{"PK": s("LINK#legacy"), "SK": s("META"), "type": s("link"),
		"slug": s("legacy"), "url": s("https://example.com/old"), "created_at": s("2020-01-02T03:04:05.5Z")})
	put(t, b, table, map[string]types.AttributeValue{"PK": s("LINK#broken"), "SK": s("META"), "slug": s("broken"), "url": s("https://x.example")})
	put(t, b, table, map[string]types.AttributeValue{"PK": s("LINK#legacy"), "SK": s("DAY#2020-01-02"), "type": s("day"),
		"day": s("2020-01-02"), "clicks": &types.AttributeValueMemberN{Value: "4"}})

	// The keys the migrations write match what the store writes.
	meta := getItem(t, b, table, "LINK#s000", "META")
	if got, want := meta["GSI1SK"].(*types.AttributeValueMemberS).Value, store.GSI1SortKey(t0, "s000"); got != want {
		t.Fatalf("store writes GSI1SK %q, the migration would write %q", got, want)
	}
	if got := meta["GSI1PK"].(*types.AttributeValueMemberS).Value; got != store.GSI1PartitionKey {
		t.Fatalf("store writes GSI1PK %q, the migration %q", got, store.GSI1PartitionKey)
	}
	day := getItem(t, b, table, "LINK#s001", "DAY#"+t0.Format(linksDayLayout))
	if got, want := day["expires_at"].(*types.AttributeValueMemberN).Value, strconv.FormatInt(t0.Truncate(24*time.Hour).Add(store.ClickRetention).Unix(), 10); got != want {
		t.Fatalf("store writes expires_at %s, the migration would write %s", got, want)
	}

	var log strings.Builder
	m := &Migrator{DDB: b.Client, Table: table, Owner: "test", Log: &log}
	plan, err := m.Plan(ctx, Migrations())
	if err != nil || plan.Current != 0 || len(plan.Pending) != 2 {
		t.Fatalf("Plan = %+v, %v; want version 0 and 2 pending", plan, err)
	}
	before := dump(t, b.Client, table)
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
	exp := getItem(t, b, table, "LINK#legacy", "DAY#2020-01-02")["expires_at"]
	if exp == nil || exp.(*types.AttributeValueMemberN).Value != strconv.FormatInt(time.Date(2021, 2, 5, 0, 0, 0, 0, time.UTC).Unix(), 10) {
		t.Fatalf("expires_at of the legacy day bucket = %v, want 2020-01-02 + 400 days", exp)
	}
	if v, err := m.Version(ctx); err != nil || v != 2 {
		t.Fatalf("Version = %d, %v; want 2", v, err)
	}
	if getItem(t, b, table, schemaPK, lockSK) != nil {
		t.Fatal("the lock is still held after Migrate")
	}
	after := dump(t, b.Client, table)
	if changed := len(slices.DeleteFunc(slices.Clone(after), func(x string) bool { return slices.Contains(before, x) })); changed != 3 {
		t.Fatalf("%d items new or changed, want 3 (GSI1 keys, expiry, version item)", changed)
	}

	// Again: nothing pending, nothing written.
	res, err = m.Migrate(ctx, Migrations())
	if err != nil || len(res.Applied) != 0 || res.To != 2 {
		t.Fatalf("second Migrate = %+v, %v", res, err)
	}
	if got := dump(t, b.Client, table); !slices.Equal(got, after) {
		t.Fatal("a second Migrate changed the table")
	}
	// Each Up is idempotent on its own: as after a crash before the version was stored.
	for _, mg := range Migrations() {
		if err := mg.Up(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if got := dump(t, b.Client, table); !slices.Equal(got, after) {
		t.Fatal("running the migrations again changed the table")
	}

	// A table migrated by a newer lowfare is refused.
	put(t, b, table, map[string]types.AttributeValue{"PK": s(schemaPK), "SK": s(versionSK), "version": &types.AttributeValueMemberN{Value: "9"}})
	if _, err := m.Migrate(ctx, Migrations()); !errors.Is(err, ErrAhead) {
		t.Fatalf("Migrate of a newer table: %v, want ErrAhead", err)
	}
}

func testMigrateLock(t *testing.T, b ddbtest.Backend) {
	ctx := ddbtest.Context(t)
	table := newTable(t, b)
	clock := newFakeClock()

	// Run one migration that blocks until released; a second run meanwhile is refused.
	entered, release := make(chan struct{}), make(chan struct{})
	list := []Migration{{ID: 1, Name: "slow", Up: func(ctx context.Context, m *Migrator) error {
		close(entered)
		<-release
		return nil
	}}}
	first := &Migrator{DDB: b.Client, Table: table, Owner: "first", Clock: clock}
	done := make(chan error, 1)
	go func() { _, err := first.Migrate(ctx, list); done <- err }()
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("first Migrate ended before its migration ran: %v", err)
	}

	second := &Migrator{DDB: b.Client, Table: table, Owner: "second", Clock: clock}
	_, err := second.Migrate(ctx, list)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "first holds it") {
		t.Fatalf("concurrent Migrate: %v, want ErrLocked naming first", err)
	}
	if plan, err := second.Plan(ctx, list); err != nil || len(plan.Pending) != 1 {
		t.Fatalf("a dry run while locked = %+v, %v; want it to list the pending migration", plan, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if v, _ := second.Version(ctx); v != 1 {
		t.Fatalf("version %d, want 1", v)
	}

	// A lock left by a run that died expires, and the next run takes it over;
	// the dead run, should it wake, finds it lost.
	list = append(list, Migration{ID: 2, Name: "noop", Up: func(context.Context, *Migrator) error { return nil }})
	first.init()
	if err := first.lock(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Migrate(ctx, list); !errors.Is(err, ErrLocked) {
		t.Fatalf("Migrate before the lock expired: %v", err)
	}
	clock.advance(DefaultLockTTL + time.Second)
	if res, err := second.Migrate(ctx, list); err != nil || res.To != 2 {
		t.Fatalf("Migrate after the lock expired = %+v, %v", res, err)
	}
	if err := first.renew(ctx); !errors.Is(err, ErrLockLost) {
		t.Fatalf("renew of a lock taken over: %v, want ErrLockLost", err)
	}
}

func TestCheckMigrations(t *testing.T) {
	up := func(context.Context, *Migrator) error { return nil }
	if err := CheckMigrations(Migrations()); err != nil {
		t.Fatalf("the shipped migrations: %v", err)
	}
	for name, list := range map[string][]Migration{
		"gap":          {{ID: 1, Name: "a", Up: up}, {ID: 3, Name: "b", Up: up}},
		"from zero":    {{ID: 0, Name: "a", Up: up}},
		"no name":      {{ID: 1, Up: up}},
		"no up":        {{ID: 1, Name: "a"}},
		"out of order": {{ID: 2, Name: "b", Up: up}, {ID: 1, Name: "a", Up: up}},
	} {
		if err := CheckMigrations(list); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestHandWrittenFile follows docs/runbooks/migrate-from-copilot.md: item
// lines mapped by a script, a header written by hand, a trailer of `wc -l`
// and `sha256sum` over the item lines; import, then migrate backfills the
// listing keys.
func TestHandWrittenFile(t *testing.T) {
	b := ddbtest.Minidyn(t)
	table := newTable(t, b)
	items := `{"PK":{"S":"LINK#a"},"SK":{"S":"META"},"type":{"S":"link"},"slug":{"S":"a"},"url":{"S":"https://a.example"},"created_at":{"S":"2025-01-02T03:04:05Z"}}` + "\n" +
		`{"PK":{"S":"LINK#b"},"SK":{"S":"META"},"type":{"S":"link"},"slug":{"S":"b"},"url":{"S":"https://b.example"},"created_at":{"S":"2025-02-02T03:04:05Z"}}` + "\n"
	sum := sha256.Sum256([]byte(items))
	file := `{"lowfare_export":1,"table":"links","key_schema":[{"name":"PK","type":"S","role":"HASH"},{"name":"SK","type":"S","role":"RANGE"}],"exported_at":"2026-11-25T00:00:00Z"}` + "\n" +
		items + fmt.Sprintf(`{"lowfare_export_end":1,"items":%d,"sha256":"%s"}`+"\n", 2, hex.EncodeToString(sum[:]))
	res, err := Import(ddbtest.Context(t), b.Client, strings.NewReader(file), ImportOptions{Table: table})
	if err != nil || res.Written != 2 {
		t.Fatalf("Import of a hand-written file = %+v, %v", res, err)
	}
	m := &Migrator{DDB: b.Client, Table: table}
	if _, err := m.Migrate(ddbtest.Context(t), Migrations()); err != nil {
		t.Fatal(err)
	}
	st := store.New(b.Client, table, store.Options{FlushInterval: time.Hour})
	defer st.Close(ddbtest.Context(t))
	page, err := st.List(ddbtest.Context(t), 10, "")
	if err != nil || len(page.Links) != 2 || page.Links[0].Slug != "b" {
		t.Fatalf("List = %+v, %v; want b then a", page.Links, err)
	}
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
)

// newStore creates a fresh table on b and a Store on it, closed at the end.
func newStore(t *testing.T, b ddbtest.Backend, opts store.Options) (*store.Store, string) {
	t.Helper()
	table := ddbtest.NewTable(t, b, store.CreateTable)
	if opts.FlushInterval == 0 {
		opts.FlushInterval = time.Hour // tests flush explicitly
	}
	st := store.New(b.Client, table, opts)
	t.Cleanup(func() {
		if err := st.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st, table
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestStore(t *testing.T) {
	ddbtest.ForEach(t, func(t *testing.T, b ddbtest.Backend) {
		t.Run("CreateGetResolve", func(t *testing.T) { testCreateGetResolve(t, b) })
		t.Run("ListNewestFirst", func(t *testing.T) { testList(t, b) })
		t.Run("ConcurrentCreate", func(t *testing.T) { testConcurrentCreate(t, b) })
		t.Run("ConcurrentClicks", func(t *testing.T) { testConcurrentClicks(t, b) })
		t.Run("ClicksFromTwoTasks", func(t *testing.T) { testTwoTasks(t, b) })
		t.Run("Stats", func(t *testing.T) { testStats(t, b) })
		t.Run("DeleteRemovesClickItems", func(t *testing.T) { testDelete(t, b) })
		t.Run("BadCursor", func(t *testing.T) { testBadCursor(t, b) })
		t.Run("CreateTableIdempotent", func(t *testing.T) { testCreateTableTwice(t, b) })
		t.Run("Ping", func(t *testing.T) { testPing(t, b) })
	})
}

func testCreateGetResolve(t *testing.T, b ddbtest.Backend) {
	st, _ := newStore(t, b, store.Options{})
	ctx := ddbtest.Context(t)
	if _, err := st.Resolve(ctx, "abc"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Resolve of a missing slug: err = %v, want ErrNotFound", err)
	}
	l := store.Link{Slug: "abc", URL: "https://example.com/x", CreatedAt: t0}
	if err := st.Create(ctx, l); err != nil {
		t.Fatalf("Create: %v", err)
	}
	// The cached miss above must not hide the new link.
	got, err := st.Resolve(ctx, "abc")
	if err != nil || got != l.URL {
		t.Fatalf("Resolve = %q, %v; want %q", got, err, l.URL)
	}
	g, err := st.Get(ctx, "abc")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if g.Slug != l.Slug || g.URL != l.URL || !g.CreatedAt.Equal(l.CreatedAt) {
		t.Fatalf("Get = %+v, want %+v", g, l)
	}
	if err := st.Create(ctx, store.Link{Slug: "abc", URL: "https://other.example/", CreatedAt: t0}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second Create: err = %v, want ErrExists", err)
	}
	g, _ = st.Get(ctx, "abc")
	if g.URL != l.URL {
		t.Fatalf("second Create overwrote the URL: %q", g.URL)
	}
	if _, err := st.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get missing: err = %v, want ErrNotFound", err)
	}
}

func testList(t *testing.T, b ddbtest.Backend) {
	st, _ := newStore(t, b, store.Options{})
	ctx := ddbtest.Context(t)
	const total = 23
	for i := range total {
		// Created out of order, so the listing order comes from the index.
		j := (i * 7) % total
		l := store.Link{Slug: fmt.Sprintf("link%02d", j), URL: "https://example.com/", CreatedAt: t0.Add(time.Duration(j) * time.Second)}
		if err := st.Create(ctx, l); err != nil {
			t.Fatalf("Create %s: %v", l.Slug, err)
		}
	}
	var got []string
	cursor := ""
	pages := 0
	for {
		p, err := st.List(ctx, 5, cursor)
		if err != nil {
			t.Fatalf("List page %d: %v", pages, err)
		}
		pages++
		if len(p.Links) > 5 {
			t.Fatalf("page %d has %d links, limit 5", pages, len(p.Links))
		}
		for _, l := range p.Links {
			got = append(got, l.Slug)
		}
		if p.Cursor == "" {
			break
		}
		if pages > total {
			t.Fatal("pagination does not end")
		}
		cursor = p.Cursor
	}
	if pages != 5 {
		t.Errorf("pages = %d, want 5 (23 links, 5 a page, no empty last page)", pages)
	}
	if len(got) != total {
		t.Fatalf("listed %d links, want %d: %v", len(got), total, got)
	}
	for i, slug := range got {
		if want := fmt.Sprintf("link%02d", total-1-i); slug != want {
			t.Fatalf("position %d: %s, want %s (newest first); all: %v", i, slug, want, got)
		}
	}
	// An exact multiple of the page size ends without an empty page.
	p, err := st.List(ctx, total, "")
	if err != nil || len(p.Links) != total || p.Cursor != "" {
		t.Fatalf("List(%d) = %d links, cursor %q, err %v; want all, no cursor", total, len(p.Links), p.Cursor, err)
	}
}

// skipConcurrentOnMoto skips a test of concurrent writes to one item on
// moto: moto 5.2.1 does not serialise them. Of 400 concurrent "ADD c :n"
// on one key it kept 396, and of 50 concurrent conditional PutItems
// (attribute_not_exists) two succeeded. DynamoDB serialises writes to an
// item, and minidyn and dynalite do too; on moto such a test cannot tell
// right from wrong.
func skipConcurrentOnMoto(t *testing.T, b ddbtest.Backend) {
	t.Helper()
	if b.Name == "moto" {
		t.Skip("moto does not serialise concurrent writes to one item (lost updates, two winners of a conditional put)")
	}
}

func testConcurrentCreate(t *testing.T, b ddbtest.Backend) {
	skipConcurrentOnMoto(t, b)
	st, _ := newStore(t, b, store.Options{})
	ctx := ddbtest.Context(t)
	const n = 50
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		ok, exists int
		other      []error
		winner     string
	)
	for i := range n {
		wg.Go(func() {
			u := fmt.Sprintf("https://example.com/%d", i)
			err := st.Create(ctx, store.Link{Slug: "same", URL: u, CreatedAt: t0})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
				winner = u
			case errors.Is(err, store.ErrExists):
				exists++
			default:
				other = append(other, err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || exists != n-1 || len(other) > 0 {
		t.Fatalf("%d concurrent creates: %d ok, %d ErrExists, other errors %v; want 1 and %d", n, ok, exists, other, n-1)
	}
	l, err := st.Get(ctx, "same")
	if err != nil || l.URL != winner {
		t.Fatalf("Get = %+v, %v; want the winner's URL %s", l, err, winner)
	}
}

func testConcurrentClicks(t *testing.T, b ddbtest.Backend) {
	st, table := newStore(t, b, store.Options{})
	ctx := ddbtest.Context(t)
	if err := st.Create(ctx, store.Link{Slug: "hot", URL: "https://example.com/", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := st.Resolve(ctx, "hot"); err != nil {
				t.Errorf("Resolve: %v", err)
				return
			}
			st.RecordClick("hot", t0.Add(time.Duration(i)*time.Millisecond))
			if i%100 == 0 { // flushes racing the clicks
				if err := st.Flush(ctx); err != nil {
					t.Errorf("Flush: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if err := st.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	// A second store reads the table alone: nothing buffered can help.
	other := store.New(b.Client, table, store.Options{})
	defer other.Close(ctx)
	s, err := other.Stats(ctx, "hot", t0, 7)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if s.Total != n {
		t.Errorf("total = %d, want %d", s.Total, n)
	}
	if last := s.Days[len(s.Days)-1]; last.Day != "2026-11-25" || last.Clicks != n {
		t.Errorf("today's bucket = %+v, want 2026-11-25 with %d", last, n)
	}
}

func testStats(t *testing.T, b ddbtest.Backend) {
	st, table := newStore(t, b, store.Options{})
	ctx := ddbtest.Context(t)
	if err := st.Create(ctx, store.Link{Slug: "stat", URL: "https://example.com/", CreatedAt: t0.AddDate(0, 0, -10)}); err != nil {
		t.Fatal(err)
	}
	clicks := map[int]int{0: 3, -1: 2, -6: 1, -7: 4, -9: 5} // day offset -> clicks
	want := int64(0)
	for off, c := range clicks {
		for range c {
			st.RecordClick("stat", t0.AddDate(0, 0, off))
		}
		want += int64(c)
	}
	// Buffered clicks already count on this store.
	s, err := st.Stats(ctx, "stat", t0, 7)
	if err != nil {
		t.Fatalf("Stats before flush: %v", err)
	}
	if s.Total != want || s.Days[6].Clicks != 3 {
		t.Fatalf("Stats before flush: total %d, today %d; want %d, 3", s.Total, s.Days[6].Clicks, want)
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	other := store.New(b.Client, table, store.Options{})
	defer other.Close(ctx)
	s, err = other.Stats(ctx, "stat", t0, 7)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if s.Slug != "stat" || s.URL != "https://example.com/" {
		t.Errorf("Stats link = %+v", s.Link)
	}
	if s.Total != want {
		t.Errorf("total = %d, want %d (all days, not only the window)", s.Total, want)
	}
	wantDays := []store.DayCount{
		{"2026-11-19", 1}, {"2026-11-20", 0}, {"2026-11-21", 0}, {"2026-11-22", 0},
		{"2026-11-23", 0}, {"2026-11-24", 2}, {"2026-11-25", 3},
	}
	if fmt.Sprint(s.Days) != fmt.Sprint(wantDays) {
		t.Errorf("days = %v\nwant   %v", s.Days, wantDays)
	}
	// Day buckets carry their TTL: 400 days after the day.
	day, err := b.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "LINK#stat"},
			"SK": &types.AttributeValueMemberS{Value: "DAY#2026-11-25"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantExp := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 400).Unix()
	if e, ok := day.Item["expires_at"].(*types.AttributeValueMemberN); !ok || e.Value != fmt.Sprint(wantExp) {
		t.Errorf("day bucket expires_at = %v, want %d", day.Item["expires_at"], wantExp)
	}
	s, err = other.Stats(ctx, "stat", t0, 1)
	if err != nil || len(s.Days) != 1 || s.Days[0].Clicks != 3 {
		t.Errorf("Stats(1 day) = %v, %v; want today's 3", s.Days, err)
	}
	if _, err := other.Stats(ctx, "missing", t0, 7); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Stats of a missing link: err = %v, want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, b ddbtest.Backend) {
	st, table := newStore(t, b, store.Options{})
	ctx := ddbtest.Context(t)
	for _, slug := range []string{"gone", "kept"} {
		if err := st.Create(ctx, store.Link{Slug: slug, URL: "https://example.com/" + slug, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		for d := range 30 { // more day items than one batch of 25
			st.RecordClick(slug, t0.AddDate(0, 0, -d))
		}
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Resolve(ctx, "gone"); err != nil { // now cached
		t.Fatal(err)
	}
	if n := countItems(t, b, table, "LINK#gone"); n != 32 {
		t.Fatalf("before delete: %d items under LINK#gone, want 32 (META, TOTAL, 30 days)", n)
	}
	if err := st.Delete(ctx, "gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n := countItems(t, b, table, "LINK#gone"); n != 0 {
		t.Errorf("after delete: %d items under LINK#gone, want 0", n)
	}
	if n := countItems(t, b, table, "LINK#kept"); n != 32 {
		t.Errorf("after delete: %d items under LINK#kept, want 32", n)
	}
	if _, err := st.Resolve(ctx, "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Resolve after Delete on the same store: err = %v, want ErrNotFound (no stale cache)", err)
	}
	if err := st.Delete(ctx, "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Delete: err = %v, want ErrNotFound", err)
	}
	p, err := st.List(ctx, 10, "")
	if err != nil || len(p.Links) != 1 || p.Links[0].Slug != "kept" {
		t.Errorf("List after delete = %+v, %v; want only kept", p.Links, err)
	}
	// Clicks recorded after a delete (a redirect that raced it) are dropped,
	// not written as orphans.
	st.RecordClick("gone", t0)
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countItems(t, b, table, "LINK#gone"); n != 0 {
		t.Errorf("a click after delete left %d items", n)
	}
	// The slug can be taken again, with fresh counters.
	if err := st.Create(ctx, store.Link{Slug: "gone", URL: "https://example.com/new", CreatedAt: t0}); err != nil {
		t.Fatalf("re-Create: %v", err)
	}
	s, err := st.Stats(ctx, "gone", t0, 7)
	if err != nil || s.Total != 0 || s.URL != "https://example.com/new" {
		t.Errorf("re-created link stats = %+v, %v; want 0 clicks, new URL", s, err)
	}
}

func testBadCursor(t *testing.T, b ddbtest.Backend) {
	st, _ := newStore(t, b, store.Options{})
	ctx := ddbtest.Context(t)
	for _, c := range []string{"!!!", "e30", "eyJ2IjoxLCJrIjoiIn0", "eyJ2IjoyLCJrIjoiMjAyNi0xMS0yNVQxMjowMDowMC4wMDAwMDAwMDBaI2FiYyJ9", "x"} {
		if _, err := st.List(ctx, 5, c); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("List(cursor %q): err = %v, want ErrBadCursor", c, err)
		}
	}
}

func testCreateTableTwice(t *testing.T, b ddbtest.Backend) {
	_, table := newStore(t, b, store.Options{})
	if err := store.CreateTable(ddbtest.Context(t), b.Client, table); err != nil {
		t.Fatalf("CreateTable on an existing table: %v", err)
	}
}

func testPing(t *testing.T, b ddbtest.Backend) {
	st, _ := newStore(t, b, store.Options{})
	ctx := ddbtest.Context(t)
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	missing := store.New(b.Client, "no_such_table", store.Options{})
	defer missing.Close(ctx)
	if err := missing.Ping(ctx); err == nil {
		t.Fatal("Ping of a missing table succeeded")
	}
}

// countItems counts the items under one partition key, straight from the table.
func countItems(t *testing.T, b ddbtest.Backend, table, pk string) int {
	t.Helper()
	out, err := b.Client.Query(ddbtest.Context(t), &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("Query %s: %v", pk, err)
	}
	return len(out.Items)
}

// Two tasks (two Stores on one table) count clicks of one link at once;
// their ADDs merge exactly.
func testTwoTasks(t *testing.T, b ddbtest.Backend) {
	skipConcurrentOnMoto(t, b)
	a, table := newStore(t, b, store.Options{})
	ctx := ddbtest.Context(t)
	other := store.New(b.Client, table, store.Options{FlushInterval: time.Hour})
	defer other.Close(ctx)
	if err := a.Create(ctx, store.Link{Slug: "both", URL: "https://example.com/", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, st := range []*store.Store{a, other} {
		wg.Go(func() {
			for j := range 500 {
				st.RecordClick("both", t0)
				if j%50 == i*25 {
					if err := st.Flush(ctx); err != nil {
						t.Errorf("Flush: %v", err)
					}
				}
			}
			if err := st.Flush(ctx); err != nil {
				t.Errorf("Flush: %v", err)
			}
		})
	}
	wg.Wait()
	s, err := a.Stats(ctx, "both", t0, 1)
	if err != nil || s.Total != 1000 || s.Days[0].Clicks != 1000 {
		t.Fatalf("Stats = total %d, days %v, err %v; want 1000 and 1000", s.Total, s.Days, err)
	}
}

// Package store is the links service's storage: one DynamoDB table in a
// single-table design, used through aws-sdk-go-v2 only, so the same code runs
// against DynamoDB, minidyn (lowfare dev, tests) and dynalite (tests).
//
// # Items
//
//	PK            SK                 other attributes
//	LINK#<slug>   META               type=link, slug, url, created_at, GSI1PK=LINKS, GSI1SK=<created_at>#<slug>
//	LINK#<slug>   TOTAL              type=total, clicks (N)
//	LINK#<slug>   DAY#<2006-01-02>   type=day, day, clicks (N), expires_at (epoch seconds, day + 400 days)
//
// The META item never changes after it is written, so the GSI (projection
// ALL) is written once per link and never by a click. The click counters
// live in their own items for that reason: an ADD on the META item would
// also rewrite its GSI copy and double the write cost of every flush.
//
// # Access patterns
//
//   - Create a link: PutItem META with attribute_not_exists(PK), then PutItem
//     TOTAL with clicks=0 (which also resets a counter left behind by an
//     earlier link of the same slug).
//   - Resolve a slug for a redirect: GetItem META (eventually consistent),
//     behind an in-process LRU cache that serves a known target when the
//     table fails (see Options.CacheTTL, cache.go).
//   - Count a click: buffered in memory; every FlushInterval one UpdateItem
//     ADD on TOTAL (conditional on TOTAL existing) and one on DAY#<day> per
//     slug and day clicked, each carrying this Store's token so a retry
//     is never applied twice (clicks.go).
//   - Get a link: GetItem META (strongly consistent).
//   - Stats of a link for the last N days: one Query PK=LINK#<slug> AND
//     SK >= DAY#<first day>, which returns the DAY items of the window, META
//     and TOTAL together ("D" < "M" < "T").
//   - List links newest first: Query GSI1 GSI1PK=LINKS, ScanIndexForward=false,
//     paged with an opaque cursor (base64url of the last key).
//   - Delete a link: DeleteItem META with attribute_exists(PK), then Query
//     PK=LINK#<slug> (keys only) and BatchWriteItem the deletes.
//   - Readiness: GetItem of a key that never exists.
//
// No transactions are used: dynalite and minidyn, two of the
// implementations the tests run against, have none, and a transactional
// write costs twice the WCU. Every table call goes through one limit
// (Options.MaxCalls). docs/data-model.md has the capacity math and exactly
// what a fault can lose.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors callers branch on.
var (
	ErrExists    = errors.New("slug already exists")
	ErrNotFound  = errors.New("link not found")
	ErrBadCursor = errors.New("bad cursor")
	// ErrBusy is a cache miss that found every table call in use for
	// Options.BusyWait: answer 503 and let the client retry.
	ErrBusy = errors.New("store busy: every table call is in use")
)

// Link is one short link.
type Link struct {
	Slug      string
	URL       string
	CreatedAt time.Time
}

// DayCount is the clicks of one UTC day (Day as 2006-01-02).
type DayCount struct {
	Day    string
	Clicks int64
}

// Stats is a link with its total clicks and the clicks of the last days,
// oldest first, one entry per day including days without clicks.
type Stats struct {
	Link
	Total int64
	Days  []DayCount
}

// Page is one page of the newest-first listing. Cursor is empty on the last page.
type Page struct {
	Links  []Link
	Cursor string
}

// API is what the links service needs from storage. *Store implements it.
type API interface {
	Create(ctx context.Context, l Link) error                 // ErrExists when taken; never overwrites
	Resolve(ctx context.Context, slug string) (string, error) // target URL, cached; ErrNotFound
	RecordClick(slug string, at time.Time)                    // buffered; flushed in the background
	Flush(ctx context.Context) error                          // writes buffered clicks now
	Get(ctx context.Context, slug string) (Link, error)       // ErrNotFound
	Stats(ctx context.Context, slug string, now time.Time, days int) (Stats, error)
	List(ctx context.Context, limit int, cursor string) (Page, error) // ErrBadCursor
	Delete(ctx context.Context, slug string) error                    // link and its click items; ErrNotFound
	Ping(ctx context.Context) error                                   // the table answers
}

var _ API = (*Store)(nil)

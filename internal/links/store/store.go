// Package store is the links single-table design on DynamoDB (contract stub:
// the store issue fills in the implementation and the access-pattern doc).
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

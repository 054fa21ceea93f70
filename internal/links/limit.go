package links

import (
	"context"
	"fmt"
	"time"

	"github.com/lowfare/lowfare/internal/links/store"
)

// maxStoreCalls bounds the store calls in flight at once. Each DynamoDB
// call holds tens of KB (request, signing, response decoding) while it
// waits; with 200 connections creating links at once that was 65 MB of
// RSS (bench/linksbench). Requests beyond the bound wait in their
// goroutine, which costs a few KB. A free-tier table (25 WCU) cannot take
// more parallel writes than this anyway.
const maxStoreCalls = 16

// limitedStore is a store.API that lets at most cap(slots) calls reach the
// table at once. Resolve passes straight through: it is almost always a
// cache hit, and a redirect must not queue behind slow writes. Clicks are
// only buffered in memory and pass through too.
type limitedStore struct {
	store.API
	slots chan struct{}
}

func newLimitedStore(st store.API, n int) *limitedStore {
	return &limitedStore{API: st, slots: make(chan struct{}, n)}
}

func (l *limitedStore) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for a free store slot: %w", ctx.Err())
	}
}

func (l *limitedStore) release() { <-l.slots }

func (l *limitedStore) Create(ctx context.Context, link store.Link) error {
	if err := l.acquire(ctx); err != nil {
		return err
	}
	defer l.release()
	return l.API.Create(ctx, link)
}

func (l *limitedStore) Get(ctx context.Context, slug string) (store.Link, error) {
	if err := l.acquire(ctx); err != nil {
		return store.Link{}, err
	}
	defer l.release()
	return l.API.Get(ctx, slug)
}

func (l *limitedStore) Stats(ctx context.Context, slug string, now time.Time, days int) (store.Stats, error) {
	if err := l.acquire(ctx); err != nil {
		return store.Stats{}, err
	}
	defer l.release()
	return l.API.Stats(ctx, slug, now, days)
}

func (l *limitedStore) List(ctx context.Context, limit int, cursor string) (store.Page, error) {
	if err := l.acquire(ctx); err != nil {
		return store.Page{}, err
	}
	defer l.release()
	return l.API.List(ctx, limit, cursor)
}

func (l *limitedStore) Delete(ctx context.Context, slug string) error {
	if err := l.acquire(ctx); err != nil {
		return err
	}
	defer l.release()
	return l.API.Delete(ctx, slug)
}

func (l *limitedStore) Ping(ctx context.Context) error {
	if err := l.acquire(ctx); err != nil {
		return err
	}
	defer l.release()
	return l.API.Ping(ctx)
}

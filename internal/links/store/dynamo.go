package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/lowfare/lowfare/internal/wait"
)

// Defaults for Options.
const (
	DefaultFlushInterval = time.Second
	DefaultCacheTTL      = 15 * time.Second
	DefaultCacheSize     = 20000
	// DefaultFlushTimeout bounds one background flush, so a hung endpoint
	// cannot stall the flusher; what it could not write is retried.
	DefaultFlushTimeout = 10 * time.Second
	// DefaultMaxCalls bounds the table calls in flight at once. Each
	// DynamoDB call holds tens of KB (request, signing, response
	// decoding) while it waits; a free-tier table (25 WCU) cannot take
	// more parallel writes than this anyway.
	DefaultMaxCalls = 16
	// DefaultBusyWait is how long a cache miss waits for a free call
	// before it gives up with ErrBusy: a redirect answers 503 at once
	// instead of piling up goroutines and memory behind a slow table.
	DefaultBusyWait = 100 * time.Millisecond

	// missTTL bounds how long "no such slug" is remembered, so a link
	// created on another task redirects within this time.
	defaultMissTTL = 2 * time.Second
	// staleRetry is how long a cached target is served without asking
	// the table again after a refresh failed (stale on error).
	staleRetry = time.Second
	// staleWait is how long a Resolve of a cached target waits for its
	// refresh before it serves the cached one.
	staleWait = 250 * time.Millisecond

	// resolveTimeout bounds the read behind a cache miss.
	resolveTimeout = 5 * time.Second

	// closeMargin is the part of Close's deadline kept for counting and
	// logging what could not be written, after the last attempt.
	closeMargin = 250 * time.Millisecond

	defaultListLimit = 20
	maxListLimit     = 100
	maxStatsDays     = 366
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// FlushInterval is how often buffered clicks are written; 0 means
	// DefaultFlushInterval. A crash loses at most this much of clicks.
	FlushInterval time.Duration
	// FlushTimeout bounds one background flush; 0 means DefaultFlushTimeout.
	FlushTimeout time.Duration
	// CacheTTL is how long a resolved slug is served from memory without
	// asking the table; 0 means DefaultCacheTTL, negative disables the
	// cache. It bounds how long a delete made on another task keeps
	// redirecting. After it, a target the table cannot be asked about
	// (an error, ErrBusy) is still served (stale on error).
	CacheTTL time.Duration
	// CacheSize bounds the number of cached targets; 0 means
	// DefaultCacheSize. Unknown slugs are remembered apart, up to a
	// quarter of this, so a scan of random slugs cannot push out targets.
	CacheSize int
	// MaxCalls bounds the table calls in flight at once, for every
	// method and the flusher together; 0 means DefaultMaxCalls.
	MaxCalls int
	// BusyWait is how long a cache miss waits for one of MaxCalls before
	// Resolve returns ErrBusy; 0 means DefaultBusyWait.
	BusyWait time.Duration
	// Now is the clock for cache expiry and default creation times; nil
	// means time.Now.
	Now func() time.Time
	// Logger receives flush failures and, on Close, the clicks that
	// could not be saved; nil discards.
	Logger *slog.Logger
}

// Store is the DynamoDB implementation of API. It is safe for concurrent
// use. Close it to stop the background flusher and write the last clicks.
type Store struct {
	ddb      *dynamodb.Client
	table    string
	now      func() time.Time
	log      *slog.Logger
	cache    *resolveCache
	slots    chan struct{} // one per table call in flight (Options.MaxCalls)
	busyWait time.Duration

	clicks       *clickBuffer
	flushMu      sync.Mutex // one flush at a time
	flushTimeout time.Duration
	writerAttr   string // this Store's token attribute on counter items (clicks.go)
	seqMu        sync.Mutex
	seq          int64

	// runCtx is the background flush's parent; Close cancels it when its
	// own deadline passes, so a flush never outlives the stop budget.
	runCtx    context.Context
	cancelRun context.CancelFunc
	stop      chan struct{}
	flusherWG sync.WaitGroup
	closeOnce sync.Once
}

// New returns a Store on table and starts its click flusher.
func New(ddb *dynamodb.Client, table string, opts Options) *Store {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = DefaultFlushTimeout
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.MaxCalls <= 0 {
		opts.MaxCalls = DefaultMaxCalls
	}
	if opts.BusyWait <= 0 {
		opts.BusyWait = DefaultBusyWait
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	missTTL := min(defaultMissTTL, opts.CacheTTL)
	runCtx, cancelRun := context.WithCancel(context.Background())
	st := &Store{
		ddb:          ddb,
		table:        table,
		now:          opts.Now,
		log:          opts.Logger,
		cache:        newResolveCache(opts.CacheSize, opts.CacheTTL, missTTL),
		slots:        make(chan struct{}, opts.MaxCalls),
		busyWait:     opts.BusyWait,
		clicks:       newClickBuffer(),
		flushTimeout: opts.FlushTimeout,
		writerAttr:   "w" + newWriterID(),
		runCtx:       runCtx,
		cancelRun:    cancelRun,
		stop:         make(chan struct{}),
	}
	st.flusherWG.Add(1)
	go st.flushLoop(opts.FlushInterval)
	return st
}

// Close stops the background flusher and writes the buffered clicks,
// retrying with backoff until everything is in or ctx ends: give it the
// stop budget (on ECS, what is left of the task's 30 s stop timeout, with
// margin). In order: the flusher stops taking new clicks (a tick that
// comes with the stop is not started), the running flush finishes (or is
// cut when ctx ends), then the rest is written. What could not be written
// is logged as an error with its count and returned as an error of type
// *UnsavedError. Calling Close again flushes again.
func (st *Store) Close(ctx context.Context) error {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(DefaultFlushTimeout) // retrying forever would hang the caller
	}
	st.closeOnce.Do(func() { close(st.stop) })
	// The running background flush gets at most half of the budget, so
	// the retries below always have the other half. Cutting it is safe:
	// its unanswered writes are retried with their tokens.
	cut := time.AfterFunc(time.Until(d)/2, st.cancelRun)
	defer cut.Stop()
	st.flusherWG.Wait()

	fctx, cancel := context.WithDeadline(ctx, d.Add(-closeMargin))
	defer cancel()
	var lastErr error
	for pause := 50 * time.Millisecond; ; pause = min(2*pause, 2*time.Second) {
		lastErr = st.Flush(fctx)
		if st.clicks.empty() || fctx.Err() != nil {
			break
		}
		if wait.Sleep(fctx, pause) != nil {
			break
		}
	}
	u := st.clicks.unsaved()
	if u.zero() {
		return nil
	}
	err := &UnsavedError{Unsaved: u, Table: st.table, Err: lastErr}
	st.log.Error("clicks could not be saved before shutdown",
		"table", st.table,
		"clicks_lost", u.LostTotal, "day_clicks_lost", u.LostDay,
		"clicks_in_doubt", u.InDoubtTotal, "day_clicks_in_doubt", u.InDoubtDay,
		"err", fmt.Sprint(lastErr))
	return err
}

// UnsavedError is Close's error when clicks could not be written.
type UnsavedError struct {
	Unsaved
	Table string
	Err   error // the last write error
}

func (e *UnsavedError) Error() string {
	return fmt.Sprintf("%d clicks (%d of day buckets) not saved to table %s and %d (%d) in doubt: %v",
		e.LostTotal, e.LostDay, e.Table, e.InDoubtTotal, e.InDoubtDay, e.Err)
}

func (e *UnsavedError) Unwrap() error { return e.Err }

// acquire takes one of the Store's call slots, waiting as long as ctx allows.
func (st *Store) acquire(ctx context.Context) error {
	select {
	case st.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case st.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for a free table call: %w", ctx.Err())
	}
}

func (st *Store) release() { <-st.slots }

// Create writes a new link. It never overwrites: a taken slug is ErrExists.
func (st *Store) Create(ctx context.Context, l Link) error {
	if l.Slug == "" || l.URL == "" {
		return errors.New("store: create needs a slug and a url")
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = st.now()
	}
	if err := st.acquire(ctx); err != nil {
		return err
	}
	defer st.release()
	_, err := st.ddb.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &st.table,
		Item:                metaItem(l),
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if isConditionFailed(err) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("creating link %q in table %s: %w", l.Slug, st.table, err)
	}
	st.cache.evict(l.Slug) // drop a cached miss; the next Resolve reads the new target
	// The counter item. If this write fails the link still exists and the
	// flusher creates the counter on the first click (see writeClicks).
	if _, err := st.ddb.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &st.table,
		Item: map[string]types.AttributeValue{
			attrPK: s(linkPK(l.Slug)), attrSK: s(skTotal), attrType: s("total"), attrClicks: n(0),
		},
	}); err != nil {
		st.log.Warn("link created without its click counter; the first flush creates it",
			"slug", l.Slug, "err", err)
	}
	return nil
}

// Resolve returns the target of slug, from the cache when it can. A miss
// reads the table through the Store's call limit; when no call is free
// within Options.BusyWait it is ErrBusy. When the table does not answer
// (an error, ErrBusy, ctx ending) a target this Store has resolved before
// and not seen deleted is still returned: a slug's target never changes.
func (st *Store) Resolve(ctx context.Context, slug string) (string, error) {
	url, state := st.cache.get(slug, st.now())
	switch state {
	case cacheFresh:
		return url, nil
	case cacheMissing:
		return "", ErrNotFound
	}
	l, leader := st.cache.join(slug)
	if leader {
		gen := st.cache.generation()
		// The slot is taken here, so a miss that finds none costs no
		// goroutine (2,000 concurrent misses must stay cheap).
		wctx, cancel := context.WithTimeout(ctx, st.busyWait)
		err := st.acquire(wctx)
		cancel()
		if err != nil {
			l.err = ErrBusy
			st.cache.finish(slug, l)
		} else {
			// Other requests wait on this read: one client going away
			// must not fail them, so the read runs on its own with its
			// own deadline (context values such as traces are kept).
			go st.lookup(context.WithoutCancel(ctx), slug, l, gen)
		}
	}
	// A target already cached waits for its refresh only briefly: a table
	// this slow is a table that does not answer.
	var slow <-chan time.Time
	if state == cacheStale {
		t := time.NewTimer(staleWait)
		defer t.Stop()
		slow = t.C
	}
	var err error
	select {
	case <-slow:
		err = fmt.Errorf("reading link %q: no answer within %s", slug, staleWait)
	case <-l.done:
		if l.err == nil || errors.Is(l.err, ErrNotFound) {
			return l.url, l.err
		}
		err = l.err
	case <-ctx.Done():
		err = ctx.Err()
	}
	if u, ok := st.cache.stale(slug, st.now()); ok {
		st.log.Debug("serving a cached target while the table does not answer", "slug", slug, "err", err)
		return u, nil
	}
	return "", err
}

// lookup reads slug's target for the Resolves waiting on l, in a call
// slot the caller took, and caches the answer.
func (st *Store) lookup(ctx context.Context, slug string, l *lookup, gen uint64) {
	defer st.cache.finish(slug, l)
	defer st.release()
	rctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	l.url, l.err = st.readTarget(rctx, slug)
	switch {
	case l.err == nil:
		st.cache.put(slug, l.url, st.now(), gen)
	case errors.Is(l.err, ErrNotFound):
		st.cache.put(slug, "", st.now(), gen)
	}
}

func (st *Store) readTarget(ctx context.Context, slug string) (string, error) {
	out, err := st.ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            &st.table,
		Key:                  key(linkPK(slug), skMeta),
		ProjectionExpression: aws.String("#u"),
		ExpressionAttributeNames: map[string]string{
			"#u": attrURL,
		},
	})
	if err != nil {
		return "", fmt.Errorf("reading link %q from table %s: %w", slug, st.table, err)
	}
	u, ok := getS(out.Item, attrURL)
	if !ok {
		return "", ErrNotFound
	}
	return u, nil
}

// Get reads a link (strongly consistent).
func (st *Store) Get(ctx context.Context, slug string) (Link, error) {
	if err := st.acquire(ctx); err != nil {
		return Link{}, err
	}
	defer st.release()
	return st.get(ctx, slug)
}

// get is Get inside a call slot the caller holds.
func (st *Store) get(ctx context.Context, slug string) (Link, error) {
	out, err := st.ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &st.table,
		Key:            key(linkPK(slug), skMeta),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Link{}, fmt.Errorf("reading link %q from table %s: %w", slug, st.table, err)
	}
	if len(out.Item) == 0 {
		return Link{}, ErrNotFound
	}
	return linkFromItem(out.Item)
}

// Stats returns the link, its total clicks and the clicks of the days
// days ending with now's UTC day (days <= 0 means 7). Clicks still buffered
// in this Store count too, so a click is visible here at once.
func (st *Store) Stats(ctx context.Context, slug string, now time.Time, days int) (Stats, error) {
	if days <= 0 {
		days = 7
	}
	days = min(days, maxStatsDays)
	if err := st.acquire(ctx); err != nil {
		return Stats{}, err
	}
	defer st.release()
	last := now.UTC()
	first := last.AddDate(0, 0, -(days - 1))
	in := &dynamodb.QueryInput{
		TableName:              &st.table,
		KeyConditionExpression: aws.String("PK = :pk AND SK >= :from"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   s(linkPK(slug)),
			":from": s(dayPrefix + dayOf(first)),
		},
		ConsistentRead: aws.Bool(true),
	}
	var (
		found  bool
		byDay  = make(map[string]int64, days)
		result Stats
	)
	for {
		out, err := st.ddb.Query(ctx, in)
		if err != nil {
			return Stats{}, fmt.Errorf("reading stats of %q from table %s: %w", slug, st.table, err)
		}
		for _, item := range out.Items {
			sk, _ := getS(item, attrSK)
			switch {
			case sk == skMeta:
				l, err := linkFromItem(item)
				if err != nil {
					return Stats{}, err
				}
				result.Link, found = l, true
			case sk == skTotal:
				c, err := getN(item, attrClicks)
				if err != nil {
					return Stats{}, fmt.Errorf("link %q total: %w", slug, err)
				}
				result.Total = c
			case strings.HasPrefix(sk, dayPrefix):
				c, err := getN(item, attrClicks)
				if err != nil {
					return Stats{}, fmt.Errorf("link %q %s: %w", slug, sk, err)
				}
				byDay[strings.TrimPrefix(sk, dayPrefix)] = c
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if !found {
		return Stats{}, ErrNotFound
	}
	pendingTotal, pendingDays := st.clicks.pending(slug)
	result.Total += pendingTotal
	result.Days = make([]DayCount, 0, days)
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		day := dayOf(d)
		result.Days = append(result.Days, DayCount{Day: day, Clicks: byDay[day] + pendingDays[day]})
	}
	return result, nil
}

// List returns links newest first. limit <= 0 means 20; at most 100.
func (st *Store) List(ctx context.Context, limit int, cursor string) (Page, error) {
	start, err := decodeCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	if err := st.acquire(ctx); err != nil {
		return Page{}, err
	}
	defer st.release()
	// Ask for one more than a page, so the last page has no cursor.
	out, err := st.ddb.Query(ctx, &dynamodb.QueryInput{
		TableName:              &st.table,
		IndexName:              aws.String(IndexGSI1),
		KeyConditionExpression: aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(GSI1PartitionKey),
		},
		ScanIndexForward:  aws.Bool(false),
		Limit:             aws.Int32(int32(limit + 1)),
		ExclusiveStartKey: start,
	})
	if err != nil {
		return Page{}, fmt.Errorf("listing links in table %s: %w", st.table, err)
	}
	items := out.Items
	more := len(out.LastEvaluatedKey) > 0
	if len(items) > limit {
		items, more = items[:limit], true
	}
	page := Page{Links: make([]Link, 0, len(items))}
	for _, item := range items {
		l, err := linkFromItem(item)
		if err != nil {
			return Page{}, err
		}
		page.Links = append(page.Links, l)
	}
	if more && len(items) > 0 {
		k, _ := getS(items[len(items)-1], attrGSI1SK)
		page.Cursor = encodeCursor(k)
	}
	return page, nil
}

// Delete removes the link and every click item under it. It evicts the
// slug from this Store's cache at once; its buffered clicks are dropped
// only once DeleteItem has succeeded, so a delete that fails loses no
// clicks. On ErrNotFound it still removes click items left behind by an
// earlier, interrupted delete, so retrying a failed delete cleans up.
func (st *Store) Delete(ctx context.Context, slug string) error {
	if err := st.acquire(ctx); err != nil {
		return err
	}
	defer st.release()
	st.cache.evict(slug)
	_, err := st.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           &st.table,
		Key:                 key(linkPK(slug), skMeta),
		ConditionExpression: aws.String("attribute_exists(PK)"),
	})
	notFound := isConditionFailed(err)
	if err != nil && !notFound {
		return fmt.Errorf("deleting link %q from table %s: %w", slug, st.table, err)
	}
	st.cache.evict(slug) // a Resolve that raced the delete may have cached it again
	st.clicks.drop(slug)
	if err := st.deleteRest(ctx, slug); err != nil {
		return fmt.Errorf("deleting the click items of %q (retry the delete to finish): %w", slug, err)
	}
	if notFound {
		return ErrNotFound
	}
	return nil
}

// deleteRest deletes every item under the slug's partition key.
func (st *Store) deleteRest(ctx context.Context, slug string) error {
	in := &dynamodb.QueryInput{
		TableName:                 &st.table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(linkPK(slug))},
		ProjectionExpression:      aws.String("PK, SK"),
		ConsistentRead:            aws.Bool(true),
	}
	for {
		out, err := st.ddb.Query(ctx, in)
		if err != nil {
			return err
		}
		keys := make([]map[string]types.AttributeValue, 0, len(out.Items))
		for _, item := range out.Items {
			pk, _ := getS(item, attrPK)
			sk, _ := getS(item, attrSK)
			keys = append(keys, key(pk, sk))
		}
		if err := st.batchDelete(ctx, keys); err != nil {
			return err
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// batchDelete deletes keys 25 at a time, retrying unprocessed items with
// a growing pause (they come back when the table is throttled).
func (st *Store) batchDelete(ctx context.Context, keys []map[string]types.AttributeValue) error {
	const batch = 25
	for len(keys) > 0 {
		n := min(batch, len(keys))
		reqs := make([]types.WriteRequest, 0, n)
		for _, k := range keys[:n] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		keys = keys[n:]
		pending := map[string][]types.WriteRequest{st.table: reqs}
		for attempt := 0; len(pending[st.table]) > 0; attempt++ {
			if attempt > 0 {
				if attempt > 8 {
					return fmt.Errorf("%d deletes still unprocessed after %d attempts (table throttled?)", len(pending[st.table]), attempt)
				}
				if err := wait.Sleep(ctx, time.Duration(50<<attempt)*time.Millisecond); err != nil {
					return err
				}
			}
			out, err := st.ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// Ping checks that the table answers, with the cheapest read there is: a
// GetItem of a key no item has (0.5 RCU, and only the GetItem permission
// the service already needs).
func (st *Store) Ping(ctx context.Context) error {
	if err := st.acquire(ctx); err != nil {
		return err
	}
	defer st.release()
	_, err := st.ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &st.table,
		Key:       key("PING", "PING"),
	})
	if err != nil {
		return fmt.Errorf("table %s does not answer: %w", st.table, err)
	}
	return nil
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

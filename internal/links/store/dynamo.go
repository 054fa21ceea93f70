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
)

// Defaults for Options.
const (
	DefaultFlushInterval = time.Second
	DefaultCacheTTL      = 15 * time.Second
	DefaultCacheSize     = 10000
	// missTTL bounds how long "no such slug" is remembered, so a link
	// created on another task redirects within this time.
	defaultMissTTL = 2 * time.Second

	// resolveTimeout bounds the read behind a cache miss.
	resolveTimeout = 5 * time.Second

	defaultListLimit = 20
	maxListLimit     = 100
	maxStatsDays     = 366
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// FlushInterval is how often buffered clicks are written; 0 means
	// DefaultFlushInterval. A crash loses at most this much of clicks.
	FlushInterval time.Duration
	// CacheTTL is how long a resolved slug is served from memory; 0 means
	// DefaultCacheTTL, negative disables the cache. It bounds how long a
	// delete made on another task keeps redirecting.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached slugs; 0 means DefaultCacheSize.
	CacheSize int
	// Now is the clock for cache expiry and default creation times; nil
	// means time.Now.
	Now func() time.Time
	// Logger receives flush failures; nil discards.
	Logger *slog.Logger
}

// Store is the DynamoDB implementation of API. It is safe for concurrent
// use. Close it to stop the background flusher and write the last clicks.
type Store struct {
	ddb   *dynamodb.Client
	table string
	now   func() time.Time
	log   *slog.Logger
	cache *resolveCache

	clicks  *clickBuffer
	flushMu sync.Mutex // one flush at a time

	stop      chan struct{}
	flusherWG sync.WaitGroup
	closeOnce sync.Once
}

// New returns a Store on table and starts its click flusher.
func New(ddb *dynamodb.Client, table string, opts Options) *Store {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	missTTL := min(defaultMissTTL, opts.CacheTTL)
	st := &Store{
		ddb:    ddb,
		table:  table,
		now:    opts.Now,
		log:    opts.Logger,
		cache:  newResolveCache(opts.CacheSize, opts.CacheTTL, missTTL),
		clicks: newClickBuffer(),
		stop:   make(chan struct{}),
	}
	st.flusherWG.Add(1)
	go st.flushLoop(opts.FlushInterval)
	return st
}

// Close stops the background flusher and writes the buffered clicks. Clicks
// that cannot be written before ctx ends are lost; the error says how many.
func (st *Store) Close(ctx context.Context) error {
	st.closeOnce.Do(func() { close(st.stop) })
	st.flusherWG.Wait()
	return st.Flush(ctx)
}

// Create writes a new link. It never overwrites: a taken slug is ErrExists.
func (st *Store) Create(ctx context.Context, l Link) error {
	if l.Slug == "" || l.URL == "" {
		return errors.New("store: create needs a slug and a url")
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = st.now()
	}
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

// Resolve returns the target of slug, from the cache when it can.
func (st *Store) Resolve(ctx context.Context, slug string) (string, error) {
	if url, ok := st.cache.get(slug, st.now()); ok {
		if url == "" {
			return "", ErrNotFound
		}
		return url, nil
	}
	l, leader := st.cache.join(slug)
	if !leader {
		select {
		case <-l.done:
			return l.url, l.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	gen := st.cache.generation()
	// Other requests wait on this read: one client going away must not
	// fail them, so the read has its own deadline instead of ctx's.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resolveTimeout)
	l.url, l.err = st.readTarget(rctx, slug)
	cancel()
	switch {
	case l.err == nil:
		st.cache.put(slug, l.url, st.now(), gen)
	case errors.Is(l.err, ErrNotFound):
		st.cache.put(slug, "", st.now(), gen)
	}
	st.cache.finish(slug, l)
	return l.url, l.err
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
// slug from this Store's cache and drops its buffered clicks at once. On
// ErrNotFound it still removes click items left behind by an earlier,
// interrupted delete, so retrying a failed delete cleans up.
func (st *Store) Delete(ctx context.Context, slug string) error {
	st.cache.evict(slug)
	st.clicks.drop(slug)
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
				if err := sleep(ctx, time.Duration(50<<attempt)*time.Millisecond); err != nil {
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

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Clicks are counted in memory and written in the background: one
// UpdateItem ADD for the link's total and one per day clicked, per flush,
// however many clicks arrived. That keeps a redirect free of writes and
// keeps the table within its 25 WCU (docs/data-model.md has the math).

// pendingClicks are the unwritten clicks of one slug. total and the day
// counts are kept apart so a flush that wrote the total but failed on a
// day re-queues only the day, and the total is never added twice.
type pendingClicks struct {
	total int64
	days  map[string]int64
}

type clickBuffer struct {
	mu    sync.Mutex
	slugs map[string]*pendingClicks
}

func newClickBuffer() *clickBuffer {
	return &clickBuffer{slugs: make(map[string]*pendingClicks)}
}

func (b *clickBuffer) addLocked(slug string, total int64, days map[string]int64) {
	p, ok := b.slugs[slug]
	if !ok {
		p = &pendingClicks{days: make(map[string]int64, len(days))}
		b.slugs[slug] = p
	}
	p.total += total
	for d, c := range days {
		p.days[d] += c
	}
}

func (b *clickBuffer) record(slug, day string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.slugs[slug]
	if !ok {
		p = &pendingClicks{days: make(map[string]int64, 1)}
		b.slugs[slug] = p
	}
	p.total++
	p.days[day]++
}

// take empties the buffer and returns what it held.
func (b *clickBuffer) take() map[string]*pendingClicks {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.slugs
	b.slugs = make(map[string]*pendingClicks, len(out))
	return out
}

// requeue puts back clicks a flush could not write.
func (b *clickBuffer) requeue(slug string, p *pendingClicks) {
	if p.total == 0 && len(p.days) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.addLocked(slug, p.total, p.days)
}

// pending returns a copy of the buffered clicks of slug.
func (b *clickBuffer) pending(slug string) (int64, map[string]int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.slugs[slug]
	if !ok {
		return 0, nil
	}
	days := make(map[string]int64, len(p.days))
	for d, c := range p.days {
		days[d] = c
	}
	return p.total, days
}

func (b *clickBuffer) drop(slug string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.slugs, slug)
}

// RecordClick counts one click of slug at time at (its UTC day). It never
// blocks on the network; the flusher writes the count within FlushInterval.
func (st *Store) RecordClick(slug string, at time.Time) {
	st.clicks.record(slug, dayOf(at))
}

// flushTimeout bounds one background flush, so a hung endpoint cannot stall
// the flusher forever; what it could not write is re-queued.
const flushTimeout = 10 * time.Second

func (st *Store) flushLoop(every time.Duration) {
	defer st.flusherWG.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-st.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
			if err := st.Flush(ctx); err != nil {
				st.log.Warn("click flush failed; clicks kept for the next flush", "table", st.table, "err", err)
			}
			cancel()
		}
	}
}

// flushWorkers bounds concurrent writes of one flush.
const flushWorkers = 8

// Flush writes the buffered clicks now. Clicks it cannot write stay
// buffered for the next flush, and the error says how many links failed.
func (st *Store) Flush(ctx context.Context) error {
	st.flushMu.Lock()
	defer st.flushMu.Unlock()
	batch := st.clicks.take()
	if len(batch) == 0 {
		return nil
	}
	type job struct {
		slug string
		p    *pendingClicks
	}
	jobs := make(chan job)
	var (
		mu       sync.Mutex
		failed   int
		firstErr error
		wg       sync.WaitGroup
	)
	for range min(flushWorkers, len(batch)) {
		wg.Go(func() {
			for j := range jobs {
				left, err := st.writeClicks(ctx, j.slug, j.p)
				if err == nil {
					continue
				}
				st.clicks.requeue(j.slug, left)
				mu.Lock()
				failed++
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for slug, p := range batch {
		jobs <- job{slug, p}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("writing clicks of %d of %d links to table %s (kept for the next flush): %w",
			failed, len(batch), st.table, firstErr)
	}
	return nil
}

// writeClicks writes one slug's clicks and returns what is left unwritten
// when it fails.
func (st *Store) writeClicks(ctx context.Context, slug string, p *pendingClicks) (*pendingClicks, error) {
	if p.total > 0 {
		ok, err := st.addTotal(ctx, slug, p.total, true)
		if err != nil {
			return p, err
		}
		if !ok {
			// No counter: either the link is gone (drop its clicks) or
			// the counter write of Create failed (create it now).
			if _, err := st.Get(ctx, slug); errors.Is(err, ErrNotFound) {
				st.log.Debug("dropping clicks of a deleted link", "slug", slug, "clicks", p.total)
				return nil, nil
			} else if err != nil {
				return p, err
			}
			if _, err := st.addTotal(ctx, slug, p.total, false); err != nil {
				return p, err
			}
		}
	}
	left := &pendingClicks{days: map[string]int64{}}
	var firstErr error
	for day, c := range p.days {
		if err := st.addDay(ctx, slug, day, c); err != nil {
			left.days[day] = c
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return left, firstErr
}

// addTotal adds c to the TOTAL item; with onlyIfExists it reports false
// instead of creating a missing counter.
func (st *Store) addTotal(ctx context.Context, slug string, c int64, onlyIfExists bool) (bool, error) {
	in := &dynamodb.UpdateItemInput{
		TableName:                 &st.table,
		Key:                       key(linkPK(slug), skTotal),
		UpdateExpression:          aws.String("ADD #c :n SET #t = :t"),
		ExpressionAttributeNames:  map[string]string{"#c": attrClicks, "#t": attrType},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": n(c), ":t": s("total")},
	}
	if onlyIfExists {
		in.ConditionExpression = aws.String("attribute_exists(PK)")
	}
	_, err := st.ddb.UpdateItem(ctx, in)
	if onlyIfExists && isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("adding %d clicks to the total of %q: %w", c, slug, err)
	}
	return true, nil
}

func (st *Store) addDay(ctx context.Context, slug, day string, c int64) error {
	d, err := time.Parse(dayLayout, day)
	if err != nil {
		return fmt.Errorf("click day %q: %w", day, err) // cannot happen: dayOf made it
	}
	expires := d.Add(ClickRetention).Unix()
	_, err = st.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &st.table,
		Key:                      key(linkPK(slug), dayPrefix+day),
		UpdateExpression:         aws.String("ADD #c :n SET #t = :t, #d = :d, #e = :e"),
		ExpressionAttributeNames: map[string]string{"#c": attrClicks, "#t": attrType, "#d": attrDay, "#e": attrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": n(c), ":t": s("day"), ":d": s(day),
			":e": &types.AttributeValueMemberN{Value: strconv.FormatInt(expires, 10)},
		},
	})
	if err != nil {
		return fmt.Errorf("adding %d clicks to %q on %s: %w", c, slug, day, err)
	}
	return nil
}

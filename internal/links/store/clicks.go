package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// Clicks are counted in memory and written in the background: one
// UpdateItem ADD for the link's total and one per day clicked, per flush,
// however many clicks arrived. That keeps a redirect free of writes and
// keeps the table within its 25 WCU (docs/data-model.md has the math).
//
// # Exactly once
//
// An ADD is not idempotent, and a write whose answer never came (a
// deadline, a cancelled context, a connection cut after the request went
// out) may or may not have been applied. Replaying it blindly counts the
// clicks twice; dropping it may lose them. So every counter write carries
// a token the item keeps: each Store is a writer with a random ID, and each
// write of a counter sets the item's attribute w<writer ID> to the write's
// sequence number, on the condition that the attribute is absent or
// smaller. A write whose outcome is unknown is retried with the same
// sequence number and the same count, and until it is resolved no newer
// clicks of that counter are written (they wait in the buffer). If the
// first attempt was applied, the retry fails its condition, which proves
// the count is in; if it was not, the retry applies it. Other writers use
// other attributes, so they never disturb the proof.
//
// This runs on every implementation the tests use (DynamoDB, minidyn,
// dynalite, moto). TransactWriteItems with a ClientRequestToken would be
// idempotent for 10 minutes too, but dynalite and minidyn have no
// transactions, the token's window is bounded, and a transactional write
// costs twice the WCU of a plain one ("Transactional write requests
// require 2 WCUs per item": DynamoDB Developer Guide, "Read/write capacity
// mode"), which a free-tier table cannot spare.

// counter is one counter item: the slug's TOTAL (day "") or a DAY bucket.
type counter struct {
	slug, day string
}

// write is one counter write: sent with seq until it is known to be
// applied (or its link is known deleted). Its count never changes once it
// has been sent, since a retry must be the same write.
type write struct {
	clicks int64
	seq    int64
	// maybeApplied is set once an attempt failed in a way that leaves its
	// outcome unknown (no answer, a server fault); a write that only ever
	// got definite rejections (throttling, validation) is certainly not
	// in the table.
	maybeApplied bool
}

// slugClicks are the clicks of one slug not yet in any write.
type slugClicks struct {
	total int64
	days  map[string]int64
}

type clickBuffer struct {
	mu sync.Mutex
	// fresh are clicks not yet given to a write.
	fresh map[string]*slugClicks
	// writes are counter writes made by a flush and not yet resolved.
	// While a counter has one, its fresh clicks wait.
	writes map[counter]*write
	// bySlug indexes writes, so Stats and Delete find a slug's writes
	// without scanning every counter.
	bySlug map[string]map[counter]struct{}
}

func newClickBuffer() *clickBuffer {
	return &clickBuffer{
		fresh:  make(map[string]*slugClicks),
		writes: make(map[counter]*write),
		bySlug: make(map[string]map[counter]struct{}),
	}
}

func (b *clickBuffer) record(slug, day string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.fresh[slug]
	if !ok {
		p = &slugClicks{days: make(map[string]int64, 1)}
		b.fresh[slug] = p
	}
	p.total++
	p.days[day]++
}

// slugJob is what one flush writes for one slug: its TOTAL write (if any)
// first, then its DAY writes.
type slugJob struct {
	slug  string
	total *write
	days  map[string]*write
}

// plan returns the writes of a flush: every unresolved write again, and a
// new write with seq for every counter that has fresh clicks and no
// unresolved write.
func (b *clickBuffer) plan(seq int64) ([]*slugJob, Unsaved) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var abandoned Unsaved
	for c, w := range b.writes {
		if seq-w.seq > maxRetryAge.Milliseconds() {
			abandoned.add(c, w)
			b.removeWriteLocked(c)
		}
	}
	jobs := make(map[string]*slugJob, len(b.fresh)+len(b.bySlug))
	job := func(slug string) *slugJob {
		j, ok := jobs[slug]
		if !ok {
			j = &slugJob{slug: slug, days: map[string]*write{}}
			jobs[slug] = j
		}
		return j
	}
	add := func(c counter, w *write) {
		j := job(c.slug)
		if c.day == "" {
			j.total = w
		} else {
			j.days[c.day] = w
		}
	}
	for c, w := range b.writes {
		add(c, w)
	}
	for slug, p := range b.fresh {
		if p.total > 0 {
			if c := (counter{slug, ""}); b.writes[c] == nil {
				b.addWriteLocked(c, &write{clicks: p.total, seq: seq})
				add(c, b.writes[c])
				p.total = 0
			}
		}
		for day, n := range p.days {
			if c := (counter{slug, day}); b.writes[c] == nil {
				b.addWriteLocked(c, &write{clicks: n, seq: seq})
				add(c, b.writes[c])
				delete(p.days, day)
			}
		}
		if p.total == 0 && len(p.days) == 0 {
			delete(b.fresh, slug)
		}
	}
	out := make([]*slugJob, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, j)
	}
	return out, abandoned
}

func (b *clickBuffer) addWriteLocked(c counter, w *write) {
	b.writes[c] = w
	s, ok := b.bySlug[c.slug]
	if !ok {
		s = make(map[counter]struct{}, 2)
		b.bySlug[c.slug] = s
	}
	s[c] = struct{}{}
}

func (b *clickBuffer) removeWriteLocked(c counter) {
	delete(b.writes, c)
	if s := b.bySlug[c.slug]; s != nil {
		delete(s, c)
		if len(s) == 0 {
			delete(b.bySlug, c.slug)
		}
	}
}

// resolved forgets a write that is in the table.
func (b *clickBuffer) resolved(c counter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.removeWriteLocked(c)
}

// failed records a failed attempt of w.
func (b *clickBuffer) failed(w *write, maybeApplied bool) {
	if !maybeApplied {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	w.maybeApplied = true
}

// pending returns what this buffer holds for slug and the table may not
// have yet: its fresh clicks and its unresolved writes.
func (b *clickBuffer) pending(slug string) (int64, map[string]int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var total int64
	days := map[string]int64{}
	if p, ok := b.fresh[slug]; ok {
		total = p.total
		for d, c := range p.days {
			days[d] = c
		}
	}
	for c := range b.bySlug[slug] {
		if c.day == "" {
			total += b.writes[c].clicks
		} else {
			days[c.day] += b.writes[c].clicks
		}
	}
	return total, days
}

// drop forgets every click of slug (its link is deleted).
func (b *clickBuffer) drop(slug string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.fresh, slug)
	for c := range b.bySlug[slug] {
		delete(b.writes, c)
	}
	delete(b.bySlug, slug)
}

// empty reports whether nothing is left to write.
func (b *clickBuffer) empty() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.fresh) == 0 && len(b.writes) == 0
}

// Unsaved counts the clicks a Store could not write: Lost are certainly
// not in the table, InDoubt were sent without an answer and may be.
// Totals are the clicks of TOTAL counters, Day those of DAY buckets (one
// click is one of each).
type Unsaved struct {
	LostTotal, LostDay       int64
	InDoubtTotal, InDoubtDay int64
}

func (u Unsaved) zero() bool { return u == Unsaved{} }

func (b *clickBuffer) unsaved() Unsaved {
	b.mu.Lock()
	defer b.mu.Unlock()
	var u Unsaved
	for _, p := range b.fresh {
		u.LostTotal += p.total
		for _, c := range p.days {
			u.LostDay += c
		}
	}
	for c, w := range b.writes {
		u.add(c, w)
	}
	return u
}

func (u *Unsaved) add(c counter, w *write) {
	switch {
	case c.day == "" && w.maybeApplied:
		u.InDoubtTotal += w.clicks
	case c.day == "":
		u.LostTotal += w.clicks
	case w.maybeApplied:
		u.InDoubtDay += w.clicks
	default:
		u.LostDay += w.clicks
	}
}

// RecordClick counts one click of slug at time at (its UTC day). It never
// blocks on the network; the flusher writes the count within FlushInterval.
func (st *Store) RecordClick(slug string, at time.Time) {
	st.clicks.record(slug, dayOf(at))
}

// newWriterID is this Store's name on the counter items it writes: 50
// random bits, base32 (10 characters, so the attribute costs 11 bytes
// plus the number).
func newWriterID() string {
	var b [7]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:writerIDLen]
}

// nextSeq returns a sequence number above every one this Store has used.
// It starts from the clock in milliseconds so it also says when a write
// was made (for docs/data-model.md's clean-up rule).
func (st *Store) nextSeq() int64 {
	st.seqMu.Lock()
	defer st.seqMu.Unlock()
	st.seq = max(st.seq+1, time.Now().UnixMilli())
	return st.seq
}

func (st *Store) flushLoop(every time.Duration) {
	defer st.flusherWG.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-st.stop:
			return
		case <-t.C:
		}
		// Both may be ready at once, and select picks at random: stop
		// wins, so a closing Store never starts a background flush that
		// Close would then have to wait for.
		select {
		case <-st.stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(st.runCtx, st.flushTimeout)
		if err := st.Flush(ctx); err != nil {
			st.log.Warn("click flush failed; the clicks stay buffered and the next flush retries them",
				"table", st.table, "err", err)
		}
		cancel()
	}
}

// flushWorkers bounds concurrent writes of one flush.
const flushWorkers = 8

// Flush writes the buffered clicks now. Clicks it cannot write stay
// buffered for the next flush, and the error says how many links failed.
func (st *Store) Flush(ctx context.Context) error {
	st.flushMu.Lock()
	defer st.flushMu.Unlock()
	jobs, abandoned := st.clicks.plan(st.nextSeq())
	if !abandoned.zero() {
		st.log.Error("clicks given up: their writes kept failing for "+maxRetryAge.String(),
			"table", st.table,
			"clicks_lost", abandoned.LostTotal, "day_clicks_lost", abandoned.LostDay,
			"clicks_in_doubt", abandoned.InDoubtTotal, "day_clicks_in_doubt", abandoned.InDoubtDay)
	}
	if len(jobs) == 0 {
		return nil
	}
	ch := make(chan *slugJob)
	var (
		mu       sync.Mutex
		failed   int
		firstErr error
		wg       sync.WaitGroup
	)
	for range min(flushWorkers, len(jobs)) {
		wg.Go(func() {
			for j := range ch {
				if err := st.writeSlug(ctx, j); err != nil {
					mu.Lock()
					failed++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("writing clicks of %d of %d links to table %s: %w",
			failed, len(jobs), st.table, firstErr)
	}
	return nil
}

// writeSlug writes one slug's counters: TOTAL first, since it also tells
// whether the link still exists, then the DAY buckets.
func (st *Store) writeSlug(ctx context.Context, j *slugJob) error {
	if err := st.acquire(ctx); err != nil {
		return err
	}
	defer st.release()
	if j.total != nil {
		c := counter{j.slug, ""}
		err := st.writeTotal(ctx, j.slug, j.total)
		switch {
		case errors.Is(err, ErrNotFound):
			st.log.Debug("dropping clicks of a deleted link", "slug", j.slug, "clicks", j.total.clicks)
			st.clicks.drop(j.slug)
			return nil
		case err != nil:
			st.clicks.failed(j.total, maybeApplied(err))
			return err // the days wait for the next flush too
		}
		st.clicks.resolved(c)
	}
	var firstErr error
	for day, w := range j.days {
		if err := st.writeDay(ctx, j.slug, day, w); err != nil {
			st.clicks.failed(w, maybeApplied(err))
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		st.clicks.resolved(counter{j.slug, day})
	}
	return firstErr
}

// maybeApplied tells whether a failed write may still have been applied.
// A ConditionalCheckFailedException never reaches here. DynamoDB rejects
// a throttled or invalid request before applying it (client faults, 4xx);
// anything else (no answer, a deadline, a 500) leaves it unknown.
func maybeApplied(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultClient {
		return false
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500 {
		return false
	}
	return true
}

// oneAttempt makes an SDK call a single attempt: the SDK's own retries
// would hide whether an earlier attempt went unanswered (maybeApplied
// needs every attempt's error), and the flusher retries anyway.
func oneAttempt(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }

// Writer attributes stay on an item after their writer is gone. A TOTAL
// item is written by every task that ever counts a click of the link, so
// without clean-up it would grow by about 20 bytes per task lifetime and
// cost more WCU per write once past 1 KB. A write that is still
// unresolved after maxRetryAge is given up (and logged), so no writer
// ever retries a sequence number older than that; an attribute older
// than pruneAge can therefore never again be the proof of a retry, and
// any writer may remove it. DAY items need none of this: only the tasks
// of one day write them.
const (
	maxRetryAge = 6 * time.Hour
	pruneAge    = 2 * maxRetryAge
	// writerIDLen is the length of newWriterID's IDs.
	writerIDLen = 10
)

// isWriterAttr tells a writer attribute (w + writer ID) from the item's
// other attributes.
func isWriterAttr(name string) bool {
	if len(name) != 1+writerIDLen || name[0] != 'w' {
		return false
	}
	for _, r := range name[1:] {
		if (r < 'a' || r > 'z') && (r < '2' || r > '7') {
			return false
		}
	}
	return true
}

// pruneWriters removes the attributes of writers older than pruneAge from
// a TOTAL item (as the write that returned item left it), each on the
// condition that it is unchanged. Best effort: it costs one write per
// item and departed writer, and a failure only leaves them for later.
func (st *Store) pruneWriters(ctx context.Context, slug string, item map[string]types.AttributeValue) {
	cutoff := time.Now().Add(-pruneAge).UnixMilli()
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	var removes, conds []string
	for name, v := range item {
		if name == st.writerAttr || !isWriterAttr(name) {
			continue
		}
		if seq, err := getN(item, name); err != nil || seq >= cutoff {
			continue
		}
		i := len(removes)
		names[fmt.Sprintf("#p%d", i)] = name
		values[fmt.Sprintf(":p%d", i)] = v
		removes = append(removes, fmt.Sprintf("#p%d", i))
		conds = append(conds, fmt.Sprintf("#p%d = :p%d", i, i))
		if len(removes) == 20 {
			break // the rest on a later write
		}
	}
	if len(removes) == 0 {
		return
	}
	_, err := st.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &st.table,
		Key:                       key(linkPK(slug), skTotal),
		UpdateExpression:          aws.String("REMOVE " + strings.Join(removes, ", ")),
		ConditionExpression:       aws.String(strings.Join(conds, " AND ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}, oneAttempt)
	if err != nil && !isConditionFailed(err) {
		st.log.Debug("removing departed writers from a click counter failed", "slug", slug, "err", err)
	}
}

// tokenCondition is true when the item has not yet seen write #q of
// writer #w: the proof that a retry does not apply a count twice.
const tokenCondition = "(attribute_not_exists(#w) OR #w < :q)"

// writeTotal adds w to the TOTAL item, which must exist: ErrNotFound when
// the link is gone. A missing counter of a live link (Create's second
// write failed) is created.
func (st *Store) writeTotal(ctx context.Context, slug string, w *write) error {
	item, err := st.addTotal(ctx, slug, w, true)
	if err == nil {
		st.pruneWriters(ctx, slug, item)
	}
	if !isConditionFailed(err) {
		return err
	}
	// Either the counter is missing, or this write is already in.
	out, err := st.ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &st.table,
		Key:                      key(linkPK(slug), skTotal),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("PK, #w"),
		ExpressionAttributeNames: map[string]string{"#w": st.writerAttr},
	}, oneAttempt)
	if err != nil {
		return fmt.Errorf("reading the click counter of %q: %w", slug, err)
	}
	if len(out.Item) > 0 {
		applied, err := getN(out.Item, st.writerAttr)
		if err != nil {
			return err
		}
		if applied >= w.seq {
			return nil
		}
		return fmt.Errorf("click counter of %q: condition failed but write %d is not in (have %d)", slug, w.seq, applied)
	}
	if _, err := st.get(ctx, slug); err != nil {
		return err // ErrNotFound: the link is gone
	}
	_, err = st.addTotal(ctx, slug, w, false)
	if isConditionFailed(err) {
		return nil // applied by an attempt whose answer was lost
	}
	return err
}

// addTotal adds w's clicks to the TOTAL item and returns the item as the
// write left it; with onlyIfExists it fails its condition instead of
// creating a missing counter.
func (st *Store) addTotal(ctx context.Context, slug string, w *write, onlyIfExists bool) (map[string]types.AttributeValue, error) {
	cond := tokenCondition
	if onlyIfExists {
		cond = "attribute_exists(PK) AND " + cond
	}
	out, err := st.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		ReturnValues:             types.ReturnValueAllNew, // to see departed writers (pruneWriters)
		TableName:                &st.table,
		Key:                      key(linkPK(slug), skTotal),
		UpdateExpression:         aws.String("ADD #c :n SET #t = :t, #w = :q"),
		ConditionExpression:      aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#c": attrClicks, "#t": attrType, "#w": st.writerAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": n(w.clicks), ":t": s("total"), ":q": n(w.seq),
		},
	}, oneAttempt)
	if err != nil && !isConditionFailed(err) {
		return nil, fmt.Errorf("adding %d clicks to the total of %q: %w", w.clicks, slug, err)
	}
	if err != nil {
		return nil, err
	}
	return out.Attributes, nil
}

// writeDay adds w to a DAY bucket, creating it when needed. A failed
// condition means an earlier attempt of this write is in.
func (st *Store) writeDay(ctx context.Context, slug, day string, w *write) error {
	d, err := time.Parse(dayLayout, day)
	if err != nil {
		return fmt.Errorf("click day %q: %w", day, err) // cannot happen: dayOf made it
	}
	expires := d.Add(ClickRetention).Unix()
	_, err = st.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &st.table,
		Key:                 key(linkPK(slug), dayPrefix+day),
		UpdateExpression:    aws.String("ADD #c :n SET #t = :t, #d = :d, #e = :e, #w = :q"),
		ConditionExpression: aws.String(tokenCondition),
		ExpressionAttributeNames: map[string]string{
			"#c": attrClicks, "#t": attrType, "#d": attrDay, "#e": attrExpiresAt, "#w": st.writerAttr,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": n(w.clicks), ":t": s("day"), ":d": s(day), ":q": n(w.seq),
			":e": &types.AttributeValueMemberN{Value: strconv.FormatInt(expires, 10)},
		},
	}, oneAttempt)
	if isConditionFailed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("adding %d clicks to %q on %s: %w", w.clicks, slug, day, err)
	}
	return nil
}

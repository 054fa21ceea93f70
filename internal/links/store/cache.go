package store

import (
	"sync"
	"time"
)

// resolveCache remembers slug -> target. A slug's target never changes, so
// the only staleness is a delete made by another task: the TTL bounds it on
// the normal path, and a delete made through this Store evicts at once.
// After the TTL an entry is asked about again, but it is kept: when the
// table cannot answer, the last known target is still right unless the
// link was deleted, so it is served (stale on error). Only eviction, an
// answer "not found" or a delete through this Store forget it.
//
// Unknown slugs are remembered for a shorter time (a negative cache), so
// a scan of random slugs does not become one read per request, while a
// link created on another task appears quickly. They live in their own,
// smaller list, so such a scan cannot push the targets out.
//
// Both lists are LRU, with O(1) get, put and eviction.
type resolveCache struct {
	mu       sync.Mutex
	hits     *lru // slug -> target
	misses   *lru // slugs known not to exist
	ttl      time.Duration
	missTTL  time.Duration
	inflight map[string]*lookup // one read per slug at a time
	// gen counts evictions, so a read that started before a Delete does
	// not put the deleted target back into the cache when it finishes.
	gen uint64
}

// cacheState is what the cache knows about a slug.
type cacheState int

const (
	cacheNone    cacheState = iota // nothing: ask the table
	cacheFresh                     // the target, within its TTL
	cacheStale                     // the target, past its TTL: ask the table, serve it if that fails
	cacheMissing                   // known not to exist, within missTTL
)

// lookup is one in-flight read that concurrent Resolves of the same slug wait on.
type lookup struct {
	done chan struct{}
	url  string
	err  error
}

func newResolveCache(max int, ttl, missTTL time.Duration) *resolveCache {
	if ttl < 0 {
		max = 0
	}
	return &resolveCache{
		hits:     newLRU(max),
		misses:   newLRU(max / 4),
		inflight: make(map[string]*lookup),
		ttl:      ttl,
		missTTL:  missTTL,
	}
}

// get returns what the cache knows about slug and the cached target.
func (c *resolveCache) get(slug string, now time.Time) (string, cacheState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.hits.get(slug); e != nil {
		if now.Before(e.fresh) {
			return e.url, cacheFresh
		}
		return e.url, cacheStale
	}
	if e := c.misses.get(slug); e != nil {
		if now.Before(e.fresh) {
			return "", cacheMissing
		}
		c.misses.remove(e)
	}
	return "", cacheNone
}

// stale returns the kept target of slug after a failed read and serves it
// without asking again for staleRetry, so an outage costs one read per
// slug per staleRetry instead of one per request.
func (c *resolveCache) stale(slug string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.hits.get(slug)
	if e == nil {
		return "", false
	}
	if e.fresh.Before(now.Add(staleRetry)) {
		e.fresh = now.Add(staleRetry)
	}
	return e.url, true
}

// generation is read before a lookup and passed to put.
func (c *resolveCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores a hit (url != "") or a miss (url == ""), unless an eviction
// happened since gen was read.
func (c *resolveCache) put(slug, url string, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if url == "" {
		if e := c.hits.lookup(slug); e != nil {
			c.hits.remove(e) // known deleted: no more stale serving
		}
		c.misses.set(slug, "", now.Add(c.missTTL))
		return
	}
	if e := c.misses.lookup(slug); e != nil {
		c.misses.remove(e)
	}
	c.hits.set(slug, url, now.Add(c.ttl))
}

func (c *resolveCache) evict(slug string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if e := c.hits.lookup(slug); e != nil {
		c.hits.remove(e)
	}
	if e := c.misses.lookup(slug); e != nil {
		c.misses.remove(e)
	}
}

// join returns the in-flight lookup of slug and whether the caller leads
// it (and must call finish).
func (c *resolveCache) join(slug string) (*lookup, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.inflight[slug]; ok {
		return l, false
	}
	l := &lookup{done: make(chan struct{})}
	c.inflight[slug] = l
	return l, true
}

func (c *resolveCache) finish(slug string, l *lookup) {
	c.mu.Lock()
	delete(c.inflight, slug)
	c.mu.Unlock()
	close(l.done)
}

// lru is a bounded map whose least recently used entry goes first: a map
// for lookups and a doubly linked list for the order, both O(1). Not safe
// for concurrent use (resolveCache locks).
type lru struct {
	m    map[string]*cacheEntry
	root cacheEntry // sentinel: root.next is the most recent, root.prev the least
	max  int
}

type cacheEntry struct {
	slug       string
	url        string
	fresh      time.Time // served without asking the table until then
	prev, next *cacheEntry
}

func newLRU(max int) *lru {
	l := &lru{m: make(map[string]*cacheEntry), max: max}
	l.root.next, l.root.prev = &l.root, &l.root
	return l
}

// lookup returns the entry of slug without touching the order.
func (l *lru) lookup(slug string) *cacheEntry { return l.m[slug] }

// get returns the entry of slug and marks it most recently used.
func (l *lru) get(slug string) *cacheEntry {
	e := l.m[slug]
	if e != nil {
		l.unlink(e)
		l.pushFront(e)
	}
	return e
}

// set stores slug's entry as the most recently used, evicting the least
// recently used one when full.
func (l *lru) set(slug, url string, fresh time.Time) {
	if l.max <= 0 {
		return
	}
	if e := l.m[slug]; e != nil {
		e.url, e.fresh = url, fresh
		l.unlink(e)
		l.pushFront(e)
		return
	}
	var e *cacheEntry
	if len(l.m) >= l.max {
		e = l.root.prev // reuse the evicted entry: no garbage per put
		l.remove(e)
		*e = cacheEntry{}
	} else {
		e = new(cacheEntry)
	}
	e.slug, e.url, e.fresh = slug, url, fresh
	l.m[slug] = e
	l.pushFront(e)
}

func (l *lru) remove(e *cacheEntry) {
	l.unlink(e)
	delete(l.m, e.slug)
}

func (l *lru) len() int { return len(l.m) }

func (l *lru) unlink(e *cacheEntry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (l *lru) pushFront(e *cacheEntry) {
	e.prev = &l.root
	e.next = l.root.next
	l.root.next.prev = e
	l.root.next = e
}

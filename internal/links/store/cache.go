package store

import (
	"sync"
	"time"
)

// resolveCache remembers slug -> target for a short time. A slug's target
// never changes, so the only staleness is a delete made by another task,
// bounded by the TTL; a delete made through this Store evicts at once.
// Misses are remembered for a shorter time so a scan of random slugs does
// not become one read per request, while a link created on another task
// appears quickly.
type resolveCache struct {
	mu       sync.Mutex
	entries  map[string]cacheEntry
	max      int
	ttl      time.Duration
	missTTL  time.Duration
	inflight map[string]*lookup // one read per slug at a time
	// gen counts evictions, so a read that started before a Delete does
	// not put the deleted target back into the cache when it finishes.
	gen uint64
}

type cacheEntry struct {
	url     string // "" for a cached miss
	expires time.Time
}

// lookup is one in-flight read that concurrent Resolves of the same slug wait on.
type lookup struct {
	done chan struct{}
	url  string
	err  error
}

func newResolveCache(max int, ttl, missTTL time.Duration) *resolveCache {
	return &resolveCache{
		entries:  make(map[string]cacheEntry),
		inflight: make(map[string]*lookup),
		max:      max,
		ttl:      ttl,
		missTTL:  missTTL,
	}
}

// get returns the cached target ("" with found=true is a cached miss).
func (c *resolveCache) get(slug string, now time.Time) (url string, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[slug]
	if !ok {
		return "", false
	}
	if !now.Before(e.expires) {
		delete(c.entries, slug)
		return "", false
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
	ttl := c.ttl
	if url == "" {
		ttl = c.missTTL
	}
	if ttl <= 0 || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if _, ok := c.entries[slug]; !ok && len(c.entries) >= c.max {
		c.evictLocked(now)
	}
	c.entries[slug] = cacheEntry{url: url, expires: now.Add(ttl)}
}

// evictLocked makes room: expired entries first, then an arbitrary one
// (map order is randomised, which is good enough for a cache this small
// whose entries all expire within seconds anyway).
func (c *resolveCache) evictLocked(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max {
			return
		}
		delete(c.entries, k)
	}
}

func (c *resolveCache) evict(slug string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, slug)
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

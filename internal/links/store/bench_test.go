package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lowfare/lowfare/internal/ddbtest"
)

// bench/cache.sh runs these and writes the ratios; docs/benchmarks.md has
// the figures.

// The redirect path's storage cost: a cached Resolve and a buffered click,
// no network. "warm" is 100 links in a cache with room to spare; "full"
// is 20,000 distinct links filling the cache to its capacity, each
// Resolve reordering the LRU list. The cpu-ns/op metric is the process's
// CPU time (user + system) per redirect.
func BenchmarkRedirect(b *testing.B) {
	for _, tc := range []struct {
		name  string
		links int
	}{
		{"warm", 100},
		{"full", 20000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			st := benchStore(b, tc.links, Options{CacheSize: 20000, CacheTTL: time.Hour, FlushInterval: time.Hour})
			slugs := make([]string, tc.links)
			for i := range slugs {
				slugs[i] = benchSlug(i)
			}
			now := time.Now()
			ctx := context.Background()
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
				for pb.Next() {
					slug := slugs[r.IntN(len(slugs))]
					if _, err := st.Resolve(ctx, slug); err != nil {
						b.Fatal(err)
					}
					st.RecordClick(slug, now)
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			if n := st.cache.hits.len(); n != tc.links {
				b.Fatalf("cache holds %d targets, want %d", n, tc.links)
			}
		})
	}
}

// A put into a full cache evicts one entry in O(1): the cost per put is
// the same whatever the cache size (it was a scan of every entry).
func BenchmarkCachePutFull(b *testing.B) {
	for _, size := range []int{1000, 20000, 200000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			c := newResolveCache(size, time.Minute, time.Second)
			now := time.Now()
			keys := make([]string, 2*size)
			for i := range keys {
				keys[i] = "k" + strconv.Itoa(i)
			}
			for _, k := range keys[:size] {
				c.put(k, "https://example.com/", now, 0)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				c.put(keys[(size+i)%len(keys)], "https://example.com/", now, 0)
			}
			if c.hits.len() != size {
				b.Fatalf("cache holds %d, want %d", c.hits.len(), size)
			}
		})
	}
}

// 2,000 concurrent misses of distinct slugs (not in the table: a miss
// costs the same read either way) against a table that takes
// 2 s to answer: the call limit keeps at most DefaultMaxCalls reads in
// flight and answers the rest ErrBusy after DefaultBusyWait, so memory
// does not grow with the misses. peak-rss-MB is the whole test process's
// peak (minidyn and the proxy included), measured from
// a reset of the high-water mark; busy/op counts the ErrBusy answers.
func BenchmarkConcurrentMisses(b *testing.B) {
	const misses = 2000
	be := ddbtest.Minidyn(b)
	table := ddbtest.NewTable(b, be, CreateTable)
	p := ddbtest.NewFaultProxy(b, be)
	p.Set("GetItem", ddbtest.Fault{Slow: 2 * time.Second})
	var peak, busy int64
	for range b.N {
		st := New(p.Client, table, Options{FlushInterval: time.Hour})
		resetPeakRSS(b)
		var wg sync.WaitGroup
		var mu sync.Mutex
		start := make(chan struct{})
		for i := range misses {
			wg.Go(func() {
				<-start
				_, err := st.Resolve(context.Background(), benchSlug(i))
				switch {
				case errors.Is(err, ErrBusy):
					mu.Lock()
					busy++
					mu.Unlock()
				case !errors.Is(err, ErrNotFound):
					b.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		peak = max(peak, peakRSS(b))
		_ = st.Close(context.Background())
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MB")
	b.ReportMetric(float64(busy)/float64(b.N), "busy/op")
	b.ReportMetric(float64(p.PeakInFlight("GetItem")), "max-reads-in-flight")
}

func benchSlug(i int) string { return fmt.Sprintf("b%05d", i) }

// benchStore is a Store on a fresh minidyn table with n links, all in
// its cache (put there directly, as n Resolves would; the first link is
// in the table too and is checked to resolve through it).
func benchStore(b *testing.B, n int, opts Options) *Store {
	b.Helper()
	be := ddbtest.Minidyn(b)
	table := ddbtest.NewTable(b, be, CreateTable)
	seedLinks(b, be.Client, table, 1)
	st := New(be.Client, table, opts)
	b.Cleanup(func() { _ = st.Close(context.Background()) })
	if u, err := st.Resolve(context.Background(), benchSlug(0)); err != nil || u != "https://example.com/"+benchSlug(0) {
		b.Fatalf("Resolve = %q, %v", u, err)
	}
	now := st.now()
	for i := range n {
		st.cache.put(benchSlug(i), "https://example.com/"+benchSlug(i), now, st.cache.generation())
	}
	return st
}

// seedLinks writes n META items straight to the table, 25 a batch.
func seedLinks(b *testing.B, c *dynamodb.Client, table string, n int) {
	b.Helper()
	now := time.Now()
	for i := 0; i < n; i += 25 {
		var reqs []types.WriteRequest
		for j := i; j < min(n, i+25); j++ {
			item := metaItem(Link{Slug: benchSlug(j), URL: "https://example.com/" + benchSlug(j), CreatedAt: now})
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		out, err := c.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil || len(out.UnprocessedItems) > 0 {
			b.Fatalf("seeding links: %v (unprocessed %d)", err, len(out.UnprocessedItems))
		}
	}
}

// cpuTime is this process's user + system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// resetPeakRSS resets the kernel's high-water mark of this process's RSS
// (Linux: "5" to /proc/self/clear_refs), so peakRSS measures from here.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak RSS: %v", err)
	}
}

// peakRSS is VmHWM from /proc/self/status, in bytes.
func peakRSS(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Skip("no VmHWM in /proc/self/status")
	return 0
}

// Command cachebench measures the links service's resolve cache from the
// outside: the process's own CPU per redirect with 20,000
// distinct links filling the cache, against the cache-warm figure (100
// links) of a second process measured in turns in the same run, and its
// peak RSS while
// 2,000 distinct slugs miss the cache at once against a table that takes
// 2 s to answer.
//
// It builds cmd/links, starts minidyn in this process (plus a
// ddbtest.FaultProxy that delays GetItem for the miss phase), seeds the
// links through the store, drives load with its own HTTP client, and reads
// the links process's utime+stime from /proc/<pid>/stat and VmHWM from
// /proc/<pid>/status, so neither the load generator's nor minidyn's CPU
// or memory is counted.
//
//	go run ./bench/cachebench                 # or bench/cache.sh
//	go run ./bench/cachebench -n 100000 -c 32
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	miniserver "github.com/truora/minidyn/server"

	"github.com/lowfare/lowfare/bench/internal/procstat"
	"github.com/lowfare/lowfare/internal/ddblocal"
	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
)

const table = "links"

func main() {
	links := flag.Int("links", 20000, "distinct links of the full-cache phase (the cache holds store.DefaultCacheSize)")
	warmLinks := flag.Int("warm-links", 100, "distinct links of the cache-warm phase")
	n := flag.Int("n", 200000, "redirects per measured phase")
	conns := flag.Int("c", 32, "concurrent connections")
	misses := flag.Int("misses", 2000, "concurrent distinct misses of the memory phase")
	delay := flag.Duration("delay", 2*time.Second, "how long the table takes to answer GetItem in the memory phase")
	rounds := flag.Int("rounds", 2, "measure warm and full this many times, interleaved")
	flag.Parse()
	if err := run(*links, *warmLinks, *n, *conns, *misses, *delay, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "cachebench:", err)
		os.Exit(1)
	}
}

// run builds cmd/links, seeds a local table and prints the CPU and the
// memory tables.
func run(nLinks, warmLinks, n, conns, misses int, delay time.Duration, rounds int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "cachebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := buildLinks(dir)
	if err != nil {
		return err
	}
	endpoint, stopMini, err := startMinidyn()
	if err != nil {
		return err
	}
	defer stopMini()
	slugs, err := seedTable(ctx, endpoint, nLinks)
	if err != nil {
		return err
	}

	fmt.Printf("date: %s\nmachine: %s/%s, %d CPUs\ncommand: bench/cache.sh %s\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), strings.Join(os.Args[1:], " "))
	if err := measureCPU(bin, endpoint, slugs, slugs[:warmLinks], n, conns, rounds); err != nil {
		return err
	}
	return measureMisses(bin, endpoint, misses, delay)
}

// buildLinks builds cmd/links into dir and returns the binary's path.
func buildLinks(dir string) (string, error) {
	bin := filepath.Join(dir, "links")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/links").CombinedOutput(); err != nil {
		return "", fmt.Errorf("building cmd/links: %v\n%s", err, out)
	}
	return bin, nil
}

// seedTable creates the table at endpoint and nLinks links in it, and
// returns their slugs.
func seedTable(ctx context.Context, endpoint string, nLinks int) ([]string, error) {
	ddb := ddblocal.NewClient(endpoint)
	if err := store.CreateTable(ctx, ddb, table); err != nil {
		return nil, err
	}
	slugs := make([]string, nLinks)
	for i := range slugs {
		slugs[i] = fmt.Sprintf("c%05d", i)
	}
	t0 := time.Now()
	if err := seed(ctx, ddb, slugs); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "seeded %d links in %s\n", nLinks, time.Since(t0).Round(time.Second))
	return slugs, nil
}

// measureCPU measures the CPU per redirect. Two links processes side by
// side, measured in turns so both see the same machine load: "warm" has
// only the 100 links it serves (hot) in its cache; "full" has all 20,000
// resolved (its cache at capacity) and serves the same 100 hot links
// ("full, hot": the cost of a full cache) and then all 20,000 at random
// ("full, all": past the 15 s TTL every link is read again, so this adds
// one GetItem per link per 15 s whatever the cache does, and clicks on
// distinct links are distinct writes). Both talk to minidyn through a
// proxy that only counts calls. Before each phase the click flushes of
// the previous one are left to finish (settle).
func measureCPU(bin, endpoint string, slugs, hot []string, n, conns, rounds int) error {
	counter, stopCounter := ddbtest.StartFaultProxy(endpoint)
	defer stopCounter()
	warmSrv, err := startLinks(bin, counter.URL)
	if err != nil {
		return err
	}
	defer warmSrv.stop()
	fullSrv, err := startLinks(bin, counter.URL)
	if err != nil {
		return err
	}
	defer fullSrv.stop()
	cb := &cpuBench{counter: counter, client: newClient(conns), n: n, conns: conns}
	if _, err := load(cb.client, warmSrv.url, hot, len(hot), 4, true); err != nil {
		return err
	}
	// Fill the cache: every link resolved once, by fewer connections than
	// the store's call limit (more would be answered 503, by design).
	if _, err := load(cb.client, fullSrv.url, slugs, len(slugs), min(conns, store.DefaultMaxCalls/2), true); err != nil {
		return err
	}
	if err := cb.measureRounds(warmSrv, fullSrv, hot, slugs, rounds); err != nil {
		return err
	}
	warmSrv.stop()
	fullSrv.stop()
	return nil
}

// cpuBench measures redirects: n of them per phase from conns
// connections, the GetItem calls counted by counter.
type cpuBench struct {
	counter  *ddbtest.FaultProxy
	client   *http.Client
	n, conns int
}

// measureRounds measures warm, full with the hot links and full with all links,
// rounds times in turns, and prints a table row per phase and the means.
func (cb *cpuBench) measureRounds(warmSrv, fullSrv *server, hot, all []string, rounds int) error {
	fmt.Println("| round | phase | links served | cache holds | CPU per redirect | GetItem per redirect | ratio to warm |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
	var sumWarm, sumHot, sumAll float64
	for r := range rounds {
		warm, wr, err := cb.measure(warmSrv, hot)
		if err != nil {
			return err
		}
		full, fr, err := cb.measure(fullSrv, hot)
		if err != nil {
			return err
		}
		everyLink, ar, err := cb.measure(fullSrv, all)
		if err != nil {
			return err
		}
		sumWarm, sumHot, sumAll = sumWarm+warm, sumHot+full, sumAll+everyLink
		fmt.Printf("| %d | warm | %d | %d | %.1f µs | %.3f | 1.00 |\n", r+1, len(hot), len(hot), warm/1e3, wr)
		fmt.Printf("| %d | full, hot | %d | %d | %.1f µs | %.3f | %.2f |\n", r+1, len(hot), len(all), full/1e3, fr, full/warm)
		fmt.Printf("| %d | full, all | %d | %d | %.1f µs | %.3f | %.2f |\n", r+1, len(all), len(all), everyLink/1e3, ar, everyLink/warm)
	}
	fmt.Printf("\nAll rounds: warm %.1f µs, full (hot) %.1f µs = **%.2f × warm**; full (all links) %.1f µs = %.2f × warm.\n\n",
		sumWarm/float64(rounds)/1e3, sumHot/float64(rounds)/1e3, sumHot/sumWarm, sumAll/float64(rounds)/1e3, sumAll/sumWarm)
	return nil
}

// measure sends cb.n redirects over set to srv once the clicks are
// flushed, and returns srv's CPU nanoseconds and the GetItem calls per
// redirect.
func (cb *cpuBench) measure(srv *server, set []string) (cpu, reads float64, err error) {
	settle(cb.counter)
	cpu0, err := cpuNanos(srv.pid())
	if err != nil {
		return 0, 0, err
	}
	reads0 := cb.counter.Calls("GetItem")
	got, err := load(cb.client, srv.url, set, cb.n, cb.conns, false)
	if err != nil {
		return 0, 0, err
	}
	cpu1, _ := cpuNanos(srv.pid())
	return float64(cpu1-cpu0) / float64(got), float64(cb.counter.Calls("GetItem")-reads0) / float64(got), nil
}

// measureMisses measures the peak RSS: misses distinct misses at once
// against a table that takes delay to answer.
func measureMisses(bin, endpoint string, misses int, delay time.Duration) error {
	proxy, stopProxy := ddbtest.StartFaultProxy(endpoint)
	defer stopProxy()
	proxy.Set("GetItem", ddbtest.Fault{Slow: delay})
	srv, err := startLinks(bin, proxy.URL)
	if err != nil {
		return err
	}
	defer srv.stop()
	rssBefore, err := procstat.PeakRSS(srv.pid())
	if err != nil {
		return err
	}
	statuses := concurrentMisses(newClient(misses), srv.url, misses)
	rss, err := procstat.PeakRSS(srv.pid())
	if err != nil {
		return err
	}
	fmt.Println("| phase | concurrent misses | table delay | answers | GetItem calls (peak in flight) | peak RSS |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	fmt.Printf("| misses | %d | %s | %s | %d (%d) | %.1f MB (%.1f MB idle) |\n",
		misses, delay, statuses, proxy.Calls("GetItem"), proxy.PeakInFlight("GetItem"), float64(rss)/(1<<20), float64(rssBefore)/(1<<20))
	return nil
}

// settle waits until no process writes clicks any more (no UpdateItem
// through the proxy for 2 s, at most 3 minutes), so a phase's CPU does
// not include flushing the clicks of the phase before (20,000 distinct
// links clicked are 40,000 writes).
func settle(p *ddbtest.FaultProxy) {
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); {
		n := p.Calls("UpdateItem")
		time.Sleep(2 * time.Second)
		if p.Calls("UpdateItem") == n {
			return
		}
	}
}

func startMinidyn() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: miniserver.NewServer(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// seed creates the links through the store (so the items are exactly
// what the service writes), 16 at a time.
func seed(ctx context.Context, ddb *dynamodb.Client, slugs []string) error {
	st := store.New(ddb, table, store.Options{})
	defer st.Close(ctx)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range store.DefaultMaxCalls {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(slugs); i = int(next.Add(1) - 1) {
				l := store.Link{Slug: slugs[i], URL: "https://example.com/" + slugs[i]}
				if err := st.Create(ctx, l); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

type server struct {
	cmd *exec.Cmd
	url string
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(35 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

func startLinks(bin, endpoint string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"PORT="+strconv.Itoa(port), "TABLE_NAME="+table,
		"AWS_ENDPOINT_URL_DYNAMODB="+endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local")
	cmd.Stdout = io.Discard // the request log is written, as in production
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: "http://127.0.0.1:" + strconv.Itoa(port)}
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("links did not answer /healthz on port %d", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// load sends n redirects over slugs from conns goroutines (in order when
// sequential, at random otherwise) and returns how many were 302.
func load(c *http.Client, base string, slugs []string, n, conns int, sequential bool) (int, error) {
	var (
		next, ok atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range conns {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				slug := slugs[i%len(slugs)]
				if !sequential {
					slug = slugs[r.IntN(len(slugs))]
				}
				resp, err := c.Get(base + "/" + slug)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusFound {
					errOnce.Do(func() { firstErr = fmt.Errorf("GET /%s: %s", slug, resp.Status) })
					return
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return int(ok.Load()), firstErr
}

// concurrentMisses sends n requests for distinct unknown slugs at once
// and summarises the answers.
func concurrentMisses(c *http.Client, base string, n int) string {
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			status := "error"
			resp, err := c.Get(fmt.Sprintf("%s/miss%05d", base, i))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status = strconv.Itoa(resp.StatusCode)
			}
			mu.Lock()
			counts[status]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	var parts []string
	for _, s := range []string{"302", "404", "503", "error"} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d × %s", counts[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

// cpuNanos is the server's CPU time so far, in nanoseconds.
func cpuNanos(pid int) (int64, error) {
	d, err := procstat.CPU(pid)
	return int64(d), err
}

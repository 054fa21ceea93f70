// Command linksbench measures the links service's own CPU time per request
// and its peak memory under 200 concurrent connections, next to baselines
// measured in the same run: the floor (bench/floorlinks, a minimal net/http
// server answering 302 from a map) and optionally the plain implementation
// (bench/plainlinks, GetItem + 2 UpdateItem per redirect).
//
// It builds the servers, starts a DynamoDB-compatible
// endpoint (dynalite, the independent Node implementation, when found),
// preloads a link, drives load with its own HTTP load generator, and reads
// the server process's utime+stime from /proc/<pid>/stat before and after
// each phase (so neither the load generator's nor the endpoint's CPU is
// counted) and VmHWM from /proc/<pid>/status.
//
//	go run ./bench/linksbench -c 200 -duration 15s
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
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
	"syscall"
	"time"

	"github.com/lowfare/lowfare/bench/internal/procstat"
)

type options struct {
	conns    int
	duration time.Duration
	warmup   time.Duration
	endpoint string
	dynalite string
	variants string
	rounds   int
	rate     int
}

func main() {
	var o options
	flag.IntVar(&o.conns, "c", 200, "concurrent connections")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "measured time per phase")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured load before each measured phase")
	flag.StringVar(&o.endpoint, "dynamodb", "", "DynamoDB endpoint URL (default: start dynalite)")
	flag.StringVar(&o.dynalite, "dynalite", "", "dynalite binary (default: $DYNALITE_BIN, PATH, /tmp/npmdyn/node_modules/.bin/dynalite)")
	flag.StringVar(&o.variants, "variants", "links,floor", "servers to measure, comma-separated: links (cmd/links), links-nolog (cmd/links with LOG_LEVEL=warn: no request log), floor (302 from a map), plain (GetItem + 2 UpdateItem per redirect)")
	flag.IntVar(&o.rate, "rate", 2000, "redirects per second offered to each server (paced, the same for all, so their CPU per request compares like for like); 0 = as fast as the connections go")
	flag.IntVar(&o.rounds, "rounds", 1, "measure every variant this many times, interleaved, to show the spread on a loaded machine")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "linksbench:", err)
		os.Exit(1)
	}
}

type result struct {
	Variant         string  `json:"variant"`
	Round           int     `json:"round"`
	RedirectReqs    int64   `json:"redirect_requests"`
	RedirectErrors  int64   `json:"redirect_errors"`
	RedirectRPS     float64 `json:"redirect_rps"`
	RedirectCPUus   float64 `json:"redirect_cpu_us_per_request"`
	CreateReqs      int64   `json:"create_requests"`
	CreateErrors    int64   `json:"create_errors"`
	CreateRPS       float64 `json:"create_rps"`
	CreateCPUus     float64 `json:"create_cpu_us_per_request"`
	PeakRSSMB       float64 `json:"peak_rss_mb"`
	RSSAfterRedirMB float64 `json:"peak_rss_mb_after_redirects"`
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "linksbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bins := map[string]string{"links": "./cmd/links", "plain": "./bench/plainlinks", "floor": "./bench/floorlinks"}
	for name, pkg := range bins {
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building %s (run from the module root): %w", pkg, err)
		}
		bins[name] = out
	}
	endpoint := o.endpoint
	backend := "given endpoint " + endpoint
	if endpoint == "" {
		bin, err := findDynalite(o.dynalite)
		if err != nil {
			return err
		}
		u, stop, err := startDynalite(bin)
		if err != nil {
			return err
		}
		defer stop()
		endpoint, backend = u, "dynalite (in memory)"
	}
	fmt.Fprintf(os.Stderr, "endpoint: %s (%s)\n", endpoint, backend)

	variants := strings.Split(o.variants, ",")
	for _, v := range variants {
		if _, ok := bins[binFor(v)]; !ok {
			return fmt.Errorf("unknown variant %q", v)
		}
	}
	var results []result
	for round := 1; round <= max(o.rounds, 1); round++ {
		fmt.Fprintf(os.Stderr, "round %d: %s\n", round, o.variants)
		rs, err := measureRound(o, variants, bins, endpoint, round)
		if err != nil {
			return err
		}
		results = append(results, rs...)
	}
	printReport(o, backend, results)
	return nil
}

// binFor is the server binary a variant runs.
func binFor(variant string) string {
	if variant == "links-nolog" {
		return "links"
	}
	return variant
}

// measureRound starts every variant's server and drives the redirect
// phase against all of them at the same time, each at the same paced rate
// over its own connections, so background load on a shared machine falls
// on all servers alike within the same seconds. The create phases follow,
// one server at a time.
func measureRound(o options, variants []string, bins map[string]string, endpoint string, round int) ([]result, error) {
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for i, v := range variants {
		s, err := startServer(o, v, bins[binFor(v)], endpoint, fmt.Sprintf("bench_%s_%d_%d_%d", strings.ReplaceAll(v, "-", "_"), round, i, time.Now().Unix()))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v, err)
		}
		servers = append(servers, s)
	}
	all := func(d time.Duration, measure bool) error {
		var wg sync.WaitGroup
		errs := make([]error, len(servers))
		for i, s := range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.redirectPhase(o, d, measure)
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	if err := all(o.warmup, false); err != nil {
		return nil, err
	}
	if err := all(o.duration, true); err != nil {
		return nil, err
	}
	var out []result
	for _, s := range servers {
		if s.r.Variant != "floor" { // the floor has no store: its creates would measure nothing
			if err := s.createPhase(o); err != nil {
				return nil, fmt.Errorf("%s: %w", s.r.Variant, err)
			}
		} else {
			s.r.PeakRSSMB = s.r.RSSAfterRedirMB
		}
		s.r.Round = round
		out = append(out, s.r)
	}
	return out, nil
}

// server is one running variant.
type server struct {
	r      result
	pid    int
	base   string
	client *http.Client
	stop   func()
}

func startServer(o options, variant, bin, endpoint, table string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + port
	args := []string{}
	logLevel := "info"
	switch variant {
	case "links":
		args = append(args, "--create-table")
	case "links-nolog":
		args = append(args, "--create-table")
		logLevel = "warn" // request lines are info
	case "plain":
		if err := createTableWith(filepath.Join(filepath.Dir(bin), "links"), endpoint, table); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin, args...)
	// CREATE_RATE_LIMIT=0: the create phase is one client creating as fast
	// as it can, which the per-client limit exists to refuse.
	cmd.Env = append(os.Environ(), "PORT="+port, "TABLE_NAME="+table,
		"AWS_ENDPOINT_URL_DYNAMODB="+endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "LOG_LEVEL="+logLevel,
		"CREATE_RATE_LIMIT=0")
	// The request log goes to a pipe we drain, as it would to awslogs.
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go io.Copy(io.Discard, stdout)
	s := &server{r: result{Variant: variant}, pid: cmd.Process.Pid, base: base, client: newClient(o.conns),
		stop: func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }}
	if err := waitReady(s.client, base+"/readyz", 60*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w; stderr: %s", err, stderr.String())
	}
	body := `{"url":"https://example.com/benchmark/target","slug":"bench"}`
	if code, err := post(s.client, base+"/api/links", body); err != nil || code != http.StatusCreated {
		s.stop()
		return nil, fmt.Errorf("preloading the link: %d %v", code, err)
	}
	return s, nil
}

func (s *server) redirect(c *http.Client) bool {
	resp, err := c.Get(s.base + "/bench")
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusFound
}

// redirectPhase drives paced redirects for d; with measure it records the
// server's CPU per redirect over exactly that time.
func (s *server) redirectPhase(o options, d time.Duration, measure bool) error {
	if !measure {
		paced(s.client, o.conns, o.rate, d, s.redirect)
		return nil
	}
	cpu0, err := procstat.CPU(s.pid)
	if err != nil {
		return err
	}
	ok, bad, elapsed := paced(s.client, o.conns, o.rate, d, s.redirect)
	cpu1, err := procstat.CPU(s.pid)
	if err != nil {
		return err
	}
	s.r.RedirectReqs, s.r.RedirectErrors = ok, bad
	s.r.RedirectRPS = float64(ok) / elapsed.Seconds()
	s.r.RedirectCPUus = perRequest(cpu1-cpu0, ok+bad)
	s.r.RSSAfterRedirMB, err = peakRSSMB(s.pid)
	return err
}

func (s *server) createPhase(o options) error {
	var seq atomic.Int64
	create := func(c *http.Client) bool {
		n := seq.Add(1)
		code, err := post(c, s.base+"/api/links", `{"url":"https://example.com/benchmark/`+strconv.FormatInt(n, 10)+`"}`)
		return err == nil && code == http.StatusCreated
	}
	load(s.client, o.conns, o.warmup, create)
	cpu0, err := procstat.CPU(s.pid)
	if err != nil {
		return err
	}
	ok, bad, elapsed := load(s.client, o.conns, o.duration, create)
	cpu1, err := procstat.CPU(s.pid)
	if err != nil {
		return err
	}
	s.r.CreateReqs, s.r.CreateErrors = ok, bad
	s.r.CreateRPS = float64(ok) / elapsed.Seconds()
	s.r.CreateCPUus = perRequest(cpu1-cpu0, ok+bad)
	s.r.PeakRSSMB, err = peakRSSMB(s.pid)
	return err
}

// createTableWith creates the baseline's table by running links
// --create-table until it is ready, then stopping it: one definition of
// the key schema for both servers.
func createTableWith(linksBin, endpoint, table string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(linksBin, "--create-table")
	cmd.Env = append(os.Environ(), "PORT="+port, "TABLE_NAME="+table,
		"AWS_ENDPOINT_URL_DYNAMODB="+endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	err = waitReady(newClient(1), "http://127.0.0.1:"+port+"/readyz", 60*time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if err != nil {
		return fmt.Errorf("creating table %s: %w: %s", table, err, out.String())
	}
	return nil
}

// perRequest is CPU time per request in µs.
func perRequest(cpu time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return cpu.Seconds() * 1e6 / float64(n)
}

// peakRSSMB is the server's peak resident set in MB (10^6 bytes).
func peakRSSMB(pid int) (float64, error) {
	b, err := procstat.PeakRSS(pid)
	return float64(b) / 1e6, err
}

func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns * 2,
			MaxIdleConnsPerHost: conns * 2,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func post(c *http.Client, url, body string) (int, error) {
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// paced is load at a fixed total rate: with a closed loop, per-request CPU
// depends on the throughput a server happens to get on a shared machine
// (more requests per wake-up at higher rates), so two servers must see the
// same offered load to compare. A worker that falls behind does not burst
// to catch up. rate 0 is load.
func paced(c *http.Client, conns, rate int, d time.Duration, fn func(*http.Client) bool) (ok, bad int64, elapsed time.Duration) {
	if rate <= 0 {
		return load(c, conns, d, fn)
	}
	var okN, badN atomic.Int64
	interval := time.Duration(conns) * time.Second / time.Duration(rate)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := start.Add(interval * time.Duration(i) / time.Duration(conns))
			for {
				now := time.Now()
				if next.After(deadline) {
					return
				}
				if wait := next.Sub(now); wait > 0 {
					time.Sleep(wait)
				} else if -wait > interval {
					next = now // behind: no burst
				}
				if fn(c) {
					okN.Add(1)
				} else {
					badN.Add(1)
				}
				next = next.Add(interval)
			}
		}()
	}
	wg.Wait()
	return okN.Load(), badN.Load(), time.Since(start)
}

// load runs fn from conns goroutines for d and counts successes and failures.
func load(c *http.Client, conns int, d time.Duration, fn func(*http.Client) bool) (ok, bad int64, elapsed time.Duration) {
	var okN, badN atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if fn(c) {
					okN.Add(1)
				} else {
					badN.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return okN.Load(), badN.Load(), time.Since(start)
}

func waitReady(c *http.Client, url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s", url, d)
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

func findDynalite(flagged string) (string, error) {
	for _, p := range []string{flagged, os.Getenv("DYNALITE_BIN")} {
		if p != "" {
			return p, nil
		}
	}
	if p, err := exec.LookPath("dynalite"); err == nil {
		return p, nil
	}
	const fallback = "/tmp/npmdyn/node_modules/.bin/dynalite"
	if _, err := os.Stat(fallback); err == nil {
		return fallback, nil
	}
	return "", errors.New("dynalite not found: npm install --prefix /tmp/npmdyn dynalite, or pass -dynamodb URL")
}

func startDynalite(bin string) (string, func(), error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", port, "--createTableMs", "0")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	addr := "127.0.0.1:" + port
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr, stop, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return "", nil, errors.New("dynalite did not start listening")
}

func printReport(o options, backend string, rs []result) {
	host, _ := os.Hostname()
	fmt.Printf("date: %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("machine: %s, %d CPUs (nproc), %s, %s/%s, load average %s\n", host, runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, loadAvg())
	offered := "as fast as they go"
	if o.rate > 0 {
		offered = fmt.Sprintf("paced at %d/s to each server, all servers at once", o.rate)
	}
	fmt.Printf("endpoint: %s; %d connections; redirects %s, creates as fast as they go; %s measured per phase after %s warm-up\n\n", backend, o.conns, offered, o.duration, o.warmup)
	fmt.Println("| round | server | redirect CPU/req | redirects/s | redirect errors | create CPU/req | creates/s | create errors | peak RSS after redirects | peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		create := fmt.Sprintf("%.0f µs | %.0f | %d", r.CreateCPUus, r.CreateRPS, r.CreateErrors)
		if r.Variant == "floor" {
			create = "- | - | -"
		}
		fmt.Printf("| %d | %s | %.1f µs | %.0f | %d | %s | %.1f MB | %.1f MB |\n",
			r.Round, r.Variant, r.RedirectCPUus, r.RedirectRPS, r.RedirectErrors, create, r.RSSAfterRedirMB, r.PeakRSSMB)
	}
	// Ratios within each round: the redirect phases of one round ran in
	// the same seconds, under the same background load.
	fmt.Println()
	for round := 1; round <= max(o.rounds, 1); round++ {
		byName := map[string]float64{}
		for _, r := range rs {
			if r.Round == round {
				byName[r.Variant] = r.RedirectCPUus
			}
		}
		floor := byName["floor"]
		for _, v := range []string{"links", "links-nolog"} {
			if c, ok := byName[v]; ok && floor > 0 {
				fmt.Printf("round %d: redirect CPU %s/floor: %.2fx\n", round, v, c/floor)
			}
		}
		if p, l := byName["plain"], byName["links"]; p > 0 && l > 0 {
			fmt.Printf("round %d: redirect CPU plain/links: %.1fx\n", round, p/l)
		}
	}
	b, _ := json.Marshal(rs)
	fmt.Printf("\njson: %s\n", b)
}

// loadAvg is the 1-, 5- and 15-minute load average, to say how shared the
// machine was.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

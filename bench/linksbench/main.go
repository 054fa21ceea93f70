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
	"bufio"
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
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

type options struct {
	conns    int
	duration time.Duration
	warmup   time.Duration
	endpoint string
	dynalite string
	variants string
	rounds   int
}

func main() {
	var o options
	flag.IntVar(&o.conns, "c", 200, "concurrent connections")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "measured time per phase")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured load before each measured phase")
	flag.StringVar(&o.endpoint, "dynamodb", "", "DynamoDB endpoint URL (default: start dynalite)")
	flag.StringVar(&o.dynalite, "dynalite", "", "dynalite binary (default: $DYNALITE_BIN, PATH, /tmp/npmdyn/node_modules/.bin/dynalite)")
	flag.StringVar(&o.variants, "variants", "links,floor", "servers to measure, comma-separated: links (cmd/links), links-nolog (cmd/links with LOG_LEVEL=warn: no request log), floor (302 from a map), plain (GetItem + 2 UpdateItem per redirect)")
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
		for i, v := range variants {
			fmt.Fprintf(os.Stderr, "round %d: %s\n", round, v)
			r, err := measure(o, v, bins[binFor(v)], endpoint, fmt.Sprintf("bench_%s_%d_%d_%d", strings.ReplaceAll(v, "-", "_"), round, i, time.Now().Unix()))
			if err != nil {
				return fmt.Errorf("%s: %w", v, err)
			}
			r.Round = round
			results = append(results, r)
		}
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

func measure(o options, variant, bin, endpoint, table string) (result, error) {
	port, err := freePort()
	if err != nil {
		return result{}, err
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
			return result{}, err
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
		return result{}, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	go io.Copy(io.Discard, stdout)
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	pid := cmd.Process.Pid

	client := newClient(o.conns)
	if err := waitReady(client, base+"/readyz", 60*time.Second); err != nil {
		return result{}, fmt.Errorf("%w; stderr: %s", err, stderr.String())
	}
	body := `{"url":"https://example.com/benchmark/target","slug":"bench"}`
	if code, err := post(client, base+"/api/links", body); err != nil || code != http.StatusCreated {
		return result{}, fmt.Errorf("preloading the link: %d %v", code, err)
	}

	r := result{Variant: variant}
	redirect := func(c *http.Client) bool {
		resp, err := c.Get(base + "/bench")
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusFound
	}
	var seq atomic.Int64
	create := func(c *http.Client) bool {
		n := seq.Add(1)
		code, err := post(c, base+"/api/links", `{"url":"https://example.com/benchmark/`+strconv.FormatInt(n, 10)+`"}`)
		return err == nil && code == http.StatusCreated
	}

	load(client, o.conns, o.warmup, redirect)
	cpu0, err := cpuTicks(pid)
	if err != nil {
		return result{}, err
	}
	ok, bad, elapsed := load(client, o.conns, o.duration, redirect)
	cpu1, _ := cpuTicks(pid)
	r.RedirectReqs, r.RedirectErrors = ok, bad
	r.RedirectRPS = float64(ok) / elapsed.Seconds()
	r.RedirectCPUus = perRequest(cpu1-cpu0, ok+bad)
	r.RSSAfterRedirMB, _ = peakRSSMB(pid)
	if variant == "floor" {
		// The floor has no store: its creates would measure nothing.
		r.PeakRSSMB = r.RSSAfterRedirMB
		return r, nil
	}

	load(client, o.conns, o.warmup, create)
	cpu0, _ = cpuTicks(pid)
	ok, bad, elapsed = load(client, o.conns, o.duration, create)
	cpu1, _ = cpuTicks(pid)
	r.CreateReqs, r.CreateErrors = ok, bad
	r.CreateRPS = float64(ok) / elapsed.Seconds()
	r.CreateCPUus = perRequest(cpu1-cpu0, ok+bad)
	r.PeakRSSMB, err = peakRSSMB(pid)
	if err != nil {
		return result{}, err
	}
	return r, nil
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

func perRequest(ticks int64, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(ticks) * (1e6 / clockTicks) / float64(n)
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

// cpuTicks is utime+stime of pid (fields 14 and 15 of /proc/<pid>/stat).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces; fields after ')' are fixed.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc/<pid>/stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc/<pid>/stat")
	}
	return u + st, nil
}

// peakRSSMB is VmHWM of pid in MB (10^6 bytes).
func peakRSSMB(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb * 1024 / 1e6, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/<pid>/status")
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
	fmt.Printf("endpoint: %s; %d connections; %s measured per phase after %s warm-up\n\n", backend, o.conns, o.duration, o.warmup)
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
	// Ratios within each round: the variants of one round ran minutes apart
	// at most, under the same background load.
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

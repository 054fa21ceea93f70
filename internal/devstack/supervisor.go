package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// appState is what the front server knows of the app.
type appState int

const (
	stateStarting   appState = iota // building done, process started, health not yet 2xx
	stateAwake                      // health answered 2xx: requests are forwarded
	stateAsleep                     // stopped after idle: the next request wakes it
	stateRestarting                 // exited: it is started again
	stateDown                       // failed to start: it is started again after an edit
)

func (a appState) String() string {
	return [...]string{"starting", "awake", "asleep", "restarting", "down"}[a]
}

// supervisor runs the app process: starts it, waits for its health path,
// restarts it when it exits, swaps in a rebuilt binary, and puts it to
// sleep after idle. Only run's goroutine starts and stops processes; the
// front server reads the state and asks for a wake.
type supervisor struct {
	env         []string
	port        int
	healthPath  string
	out         io.Writer
	log         *slog.Logger
	idle        time.Duration
	stopTimeout time.Duration
	// startTimeout bounds one start until the health path answers 2xx.
	startTimeout time.Duration

	bins chan string   // a rebuilt binary (capacity 1: the newest wins)
	wake chan struct{} // a request arrived while asleep (capacity 1)

	// serve: app: while not awake, requests go to fn, the app through the
	// Lambda adapter, shaped as ingress sends them; the service wakes
	// when busy counts wakePerMinute requests in a minute.
	serveApp      bool
	fn            *lambdaFunc
	ingress       ingressEvent
	busy          busyMeter
	wakePerMinute float64
	busyMinutes   int

	mu       sync.Mutex
	state    appState
	lastSeen time.Time // the last request's start or end
	inFlight int
	first    chan error // the first start's outcome, once
	// elsewhere: the starting app listens on other ports than $PORT, so
	// a saved fix is wanted (and rebuilt) even without --watch.
	elsewhere bool
}

// replace hands run a rebuilt binary, dropping one not yet picked up.
func (s *supervisor) replace(bin string) {
	for {
		select {
		case s.bins <- bin:
			return
		default:
			select {
			case <-s.bins:
			default:
			}
		}
	}
}

func (s *supervisor) set(st appState) {
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
}

func (s *supervisor) get() appState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// waitsForEdit says whether the app is down or restarting after an exit,
// when a saved fix should rebuild it even without --watch.
func (s *supervisor) waitsForEdit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateDown || s.state == stateRestarting || s.elsewhere
}

// setEnv gives the next start env: the app's secrets changed.
func (s *supervisor) setEnv(env []string) {
	s.mu.Lock()
	s.env = env
	s.mu.Unlock()
}

func (s *supervisor) setElsewhere(b bool) {
	s.mu.Lock()
	s.elsewhere = b
	s.mu.Unlock()
}

// waitFirstStart returns once the app has answered its health path for the
// first time, or why it did not.
func (s *supervisor) waitFirstStart(ctx context.Context) error {
	select {
	case err := <-s.first:
		return err
	case <-ctx.Done():
		return nil
	}
}

// errNotBuilt is the first start of an app whose first build failed.
var errNotBuilt = errors.New("the app's first build failed")

// run supervises until ctx ends, then stops the app and returns. With bin
// "" (the first build failed) the app is down until a build arrives.
func (s *supervisor) run(ctx context.Context, bin string) error {
	backoff := time.Second
	first := true
	if bin == "" {
		s.set(stateDown)
		first = false
		s.first <- errNotBuilt
		select {
		case <-ctx.Done():
			return nil
		case bin = <-s.bins:
			s.log.Info("starting the new build")
		}
	}
	for {
		if s.get() == stateAsleep {
			select {
			case <-ctx.Done():
				return nil
			case <-s.wake:
				if !s.serveApp {
					s.log.Info("a request arrived: waking the app")
				}
			case bin = <-s.bins:
				continue // the next wake starts the new build
			}
		}
		s.set(stateStarting)
		p, err := s.start(ctx, bin)
		if err != nil && ctx.Err() != nil {
			return nil
		}
		var rb rebuiltError
		if errors.As(err, &rb) {
			s.log.Info("starting the new build")
			bin = rb.bin
			continue
		}
		if first {
			first = false
			s.first <- err
		}
		if err != nil {
			// Starting it again as it is would fail again: wait for a
			// fix (a rebuild), and say so.
			s.set(stateDown)
			s.log.Error("the app did not start")
			s.report(p, err.Error(), "lowfare dev keeps running: fix the app (or add a missing secret to secrets.env) and save; it rebuilds and starts it when a file it is built from, or secrets.env, changes (Ctrl-C stops)")
			select {
			case <-ctx.Done():
				return nil
			case bin = <-s.bins:
				s.log.Info("starting the new build")
			}
			backoff = time.Second
			continue
		}
		s.mu.Lock()
		s.state, s.lastSeen = stateAwake, time.Now() // idle counts from the wake
		s.mu.Unlock()
		began := time.Now()

		switch why, nb := s.until(ctx, p); why {
		case endCancelled:
			s.stop(p)
			return nil
		case endIdle:
			s.stop(p)
			if s.serveApp {
				s.log.Info("no request for a while: the app is asleep (stopped); requests go to the app through the Lambda adapter until they reach the wake rate", "idle", s.idle, "wake_per_minute", s.wakePerMinute)
			} else {
				s.log.Info("no request for a while: the app is asleep (stopped); the next request wakes it", "idle", s.idle)
			}
		case endRebuilt:
			s.set(stateRestarting)
			s.log.Info("restarting the app with the new build")
			s.stop(p)
			bin = nb
			backoff = time.Second
		case endExited:
			s.set(stateRestarting)
			if time.Since(began) > 10*time.Second {
				backoff = time.Second // it ran for a while: not a crash loop
			}
			s.log.Error("the app exited; restarting it", "status", exitStatus(p.err), "in", backoff)
			s.report(p, "", "lowfare dev keeps running; a fix saved meanwhile is rebuilt and started instead")
			select {
			case <-ctx.Done():
				return nil
			case bin = <-s.bins:
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
		}
	}
}

type ending int

const (
	endCancelled ending = iota
	endExited
	endIdle
	endRebuilt
)

// until waits while the app is awake and says why that ended.
func (s *supervisor) until(ctx context.Context, p *proc) (ending, string) {
	var tick <-chan time.Time
	if s.idle > 0 {
		t := time.NewTicker(min(max(s.idle/10, 50*time.Millisecond), time.Second))
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return endCancelled, ""
		case <-p.exited:
			return endExited, ""
		case nb := <-s.bins:
			return endRebuilt, nb
		case <-tick:
			s.mu.Lock()
			asleep := s.inFlight == 0 && time.Since(s.lastSeen) >= s.idle
			if asleep {
				// Decided under the lock: a request from now on sees
				// asleep and asks for a wake, which run takes once the
				// process has stopped.
				s.state = stateAsleep
			}
			s.mu.Unlock()
			if asleep {
				return endIdle, ""
			}
		}
	}
}

// proc is one run of the app.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error     // Wait's result, once exited is closed
	tail   *lineTail // its last lines of output, for the report when it stops
}

// reportLines is how many of its last lines of output report shows of an
// app that exited or did not start.
const reportLines = 20

// report writes, under the error lowfare dev has just logged, why (if
// not ""), p's last lines of output as the app wrote them, and next: what
// lowfare dev does now. It is plain text, not a log attribute, so nothing
// in it is quoted or escaped; it goes where the app's output goes, so -q
// keeps it.
func (s *supervisor) report(p *proc, why, next string) {
	var b strings.Builder
	if why != "" {
		fmt.Fprintf(&b, "  %s\n", why)
	}
	if p != nil {
		lines := p.tail.lines()
		switch len(lines) {
		case 0:
			b.WriteString("  it wrote no output\n")
		case 1:
			b.WriteString("  its last line of output:\n")
		default:
			fmt.Fprintf(&b, "  its last %d lines of output:\n", len(lines))
		}
		for _, l := range lines {
			fmt.Fprintf(&b, "  | %s\n", l)
		}
	}
	fmt.Fprintf(&b, "  %s\n", next)
	_, _ = io.WriteString(s.out, b.String())
}

// portGrace is how long the app may listen on other ports only before
// start says it does not listen on $PORT: an app may open, say, a metrics
// port a moment before its main one. It is only said, not acted on: such
// an app may still open $PORT before the start timeout.
const portGrace = 2 * time.Second

// rebuiltError ends a start because a new build arrived meanwhile.
type rebuiltError struct{ bin string }

func (rebuiltError) Error() string { return "a new build arrived while the app started" }

// start runs bin and waits until GET <health path> answers 2xx. On a
// failure it returns the process too (stopped), for its last lines. A
// new build arriving meanwhile stops it and returns a rebuiltError.
func (s *supervisor) start(ctx context.Context, bin string) (*proc, error) {
	cmd := exec.Command(bin) // not CommandContext: stop sends SIGTERM first, as ECS does
	s.mu.Lock()
	cmd.Env = s.env // setEnv may change it between starts
	s.mu.Unlock()
	tail := &lineTail{max: reportLines}
	out := io.MultiWriter(s.out, tail)
	cmd.Stdout, cmd.Stderr = out, out // one writer: one pipe, the lines in order
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{}), tail: tail}
	go func() { p.err = cmd.Wait(); close(p.exited) }()

	health := "http://127.0.0.1:" + strconv.Itoa(s.port) + s.healthPath
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.NewTimer(s.startTimeout)
	defer deadline.Stop()
	last := "no answer"
	var (
		since time.Time // since when it listens on other ports only
		said  error     // what was said about it, once
	)
	defer s.setElsewhere(false)
	for {
		if code, err := get(ctx, client, health); err == nil {
			if code >= 200 && code < 300 {
				return p, nil
			}
			last = "answered " + strconv.Itoa(code)
		} else {
			last = err.Error()
		}
		// Its sockets say within seconds when it listens somewhere else.
		if ports, ok := listeningPorts(cmd.Process.Pid); ok && len(ports) > 0 && !slices.Contains(ports, s.port) {
			if since.IsZero() {
				since = time.Now()
			} else if said == nil && time.Since(since) >= portGrace {
				said = wrongPort(ports, s.port)
				s.log.Warn("the app does not listen on $PORT")
				s.report(nil, said.Error(), fmt.Sprintf("lowfare dev waits for it on $PORT until the start timeout (%s); a fix you save meanwhile is rebuilt and started", s.startTimeout))
				s.setElsewhere(true)
			}
		} else {
			since = time.Time{}
		}
		select {
		case nb := <-s.bins:
			s.stop(p)
			return p, rebuiltError{nb}
		case <-p.exited:
			return p, fmt.Errorf("the app exited (%s) before GET %s answered 2xx; the app contract (docs/apps.md): listen on $PORT and answer service.health.path", exitStatus(p.err), health)
		case <-ctx.Done():
			s.stop(p)
			return p, ctx.Err()
		case <-deadline.C:
			s.stop(p)
			if said != nil {
				return p, fmt.Errorf("GET %s did not answer 2xx within %s: %w", health, s.startTimeout, said)
			}
			return p, fmt.Errorf("GET %s did not answer 2xx within %s (last: %s): the app must listen on $PORT (PORT=%d here) and answer service.health.path with 2xx (docs/apps.md)", health, s.startTimeout, last, s.port)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// wrongPort says that the app listens on ports, and not on $PORT.
func wrongPort(ports []int, port int) error {
	list := make([]string, len(ports))
	for i, p := range ports {
		list[i] = strconv.Itoa(p)
	}
	what := "port " + list[0]
	if len(list) > 1 {
		what = "ports " + strings.Join(list, ", ")
	}
	return fmt.Errorf("the app listens on %s, not on $PORT (PORT=%d here): lowfare dev, and on AWS the ingress and its health check, send requests to $PORT; make it listen there, such as http.ListenAndServe(\":\"+os.Getenv(\"PORT\"), nil)", what, port)
}

func get(ctx context.Context, c *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// stop sends SIGTERM, waits up to the stop timeout, then kills.
func (s *supervisor) stop(p *proc) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = terminate(p.cmd)
	select {
	case <-p.exited:
	case <-time.After(s.stopTimeout):
		s.log.Warn("the app did not exit after SIGTERM: killing it", "waited", s.stopTimeout)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func exitStatus(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "status 0"
	case errors.As(err, &ee):
		return ee.ProcessState.String()
	default:
		return err.Error()
	}
}

// front is the handler at the URL the user opens: it forwards to the app
// while it is awake, and otherwise answers as the deployed service's
// ingress does while the service sleeps or starts (the waking page), after
// asking for a wake if it was asleep.
func (s *supervisor) front() http.Handler {
	target := &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(s.port)}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the app sees the host the user typed, as behind the ALB
			r.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, _ error) {
			// The app went away between the state check and the request
			// (it exited, or is being replaced): as good as starting.
			switch {
			case !s.serveApp:
				answeredBy(w, "waking page", true)
				writeWaking(w, r)
			case r.ContentLength == 0:
				s.serveOnLambda(w, r) // nothing of the request was consumed
			default:
				s.ingress.writeFailure(w) // as the ingress does when a target goes away
			}
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		st := s.state
		s.inFlight++
		s.lastSeen = time.Now()
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.lastSeen = time.Now()
			s.mu.Unlock()
		}()
		if st == stateAwake {
			rp.ServeHTTP(w, r)
			return
		}
		if st == stateDown {
			answeredBy(w, "lowfare dev (the app is down)", true)
			http.Error(w, "the app is not running: it did not start, and lowfare dev's output says why; save a fix and lowfare dev rebuilds and starts it", http.StatusServiceUnavailable)
			return
		}
		if s.serveApp {
			// No waking page: the app answers through the adapter, and
			// only sustained traffic wakes the service (the busy alarm).
			if st == stateAsleep && s.busy.add(time.Now(), s.busyMinutes, s.wakePerMinute) {
				select {
				case s.wake <- struct{}{}:
					s.log.Info("busy: requests reached the wake rate; waking the service while the app on Lambda answers", "per_minute", s.wakePerMinute, "minutes", s.busyMinutes)
				default:
				}
			}
			s.serveOnLambda(w, r)
			return
		}
		if st == stateAsleep {
			select {
			case s.wake <- struct{}{}:
			default: // a wake is already asked for: one start, not two
			}
		}
		answeredBy(w, "waking page", true)
		writeWaking(w, r)
	})
}

package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lowfare/lowfare/internal/spec"
)

// Defaults of RunApp.
const (
	// DefaultStopTimeout is how long the app may take to exit after
	// SIGTERM before it is killed: ECS's default stopTimeout.
	DefaultStopTimeout = 30 * time.Second
	// DefaultStartTimeout bounds a start: the build is done, so this is the
	// app's own start-up until its health path answers 2xx.
	DefaultStartTimeout = time.Minute
	// DefaultWatchInterval is how often --watch looks at the sources.
	DefaultWatchInterval = 500 * time.Millisecond
)

// AppOptions configure RunApp.
type AppOptions struct {
	Spec     *spec.Spec
	SpecPath string // the spec file: service.image is relative to its directory
	Port     int    // the port the app is served at on 127.0.0.1; 0: any free one
	DataDir  string // "": DefaultDataDir
	Endpoint string // a DynamoDB-compatible endpoint; "": in-process minidyn with a snapshot
	// Idle stops the app after this long without a request; the next
	// request gets the waking page and starts it again. 0: never. With
	// the spec's service.idle serve: app the app answers through the
	// Lambda adapter instead, and the service wakes at WakePerMinute.
	Idle time.Duration
	// WakePerMinute is the requests a minute at which a serve: app service
	// wakes; 0: the break-even rate of the deployed service's busy alarm
	// (cost.WakePerMinute, the spec's region or us-east-1 prices).
	WakePerMinute float64
	// BusyMinutes is how many consecutive minutes at WakePerMinute wake
	// it; 0: 3, as the deployed busy alarm.
	BusyMinutes int
	// Watch rebuilds and restarts the app when the files it is built
	// from change: the Go files of its module's packages it imports and
	// the files they embed. Without it, they are watched only while the
	// app is down (it failed to start), to start it again after a fix.
	Watch bool
	// Getenv looks up secrets in the environment of lowfare dev; nil: os.Getenv.
	Getenv    func(string) string
	AppOutput io.Writer    // the app's stdout and stderr; nil: discarded
	Logger    *slog.Logger // lowfare dev's own messages; nil: discarded
	Ready     func(AppInfo)

	GoBin         string        // "": "go"
	StopTimeout   time.Duration // 0: DefaultStopTimeout
	StartTimeout  time.Duration // 0: DefaultStartTimeout
	WatchInterval time.Duration // 0: DefaultWatchInterval
}

// AppInfo describes a running app for the banner.
type AppInfo struct {
	App         string // spec.App
	URL         string // where the app is served, e.g. http://127.0.0.1:9090
	Package     string // the package directory built
	Endpoint    string // the DynamoDB endpoint
	Table       string // TABLE_NAME
	Snapshot    string // "" with an external endpoint
	SecretsFile string // where secrets not in the environment are read from
	Missing     []string
	Idle        time.Duration
	// ServeApp: while asleep the app answers through the Lambda adapter;
	// it wakes at WakePerMinute requests a minute.
	ServeApp      bool
	WakePerMinute float64
	BusyMinutes   int
	Watch         bool
	// Down: the app's first build or start failed (the output above
	// says why); lowfare dev serves anyway and starts it after an edit.
	Down bool
}

// DevTable is the table name `lowfare dev` gives the spec's app.
func DevTable(s *spec.Spec) string { return s.App + "-" + s.Env }

// RunApp builds the spec's Go main package for this machine and runs it as
// a child process with the app contract's environment (docs/apps.md): PORT,
// TABLE_NAME on a DynamoDB endpoint on this machine, dummy credentials, the
// spec's env and its secrets. A front server on o.Port forwards to it,
// answers the waking page while it starts, restarts it when it exits and,
// with o.Idle, stops it when nobody asks for it. It returns nil once ctx is
// cancelled and everything has stopped.
func RunApp(ctx context.Context, o AppOptions) error {
	if err := o.fill(); err != nil {
		return err
	}
	s := o.Spec
	pkgDir, err := packageDir(o.SpecPath, s.Service.Image)
	if err != nil {
		return err
	}
	front, err := listenFront(o.Port)
	if err != nil {
		return err
	}
	defer front.Close()
	unlock, err := prepareDataDir(o.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	secrets, missing, err := devSecrets(s.Service.Secrets, o.DataDir, o.Getenv)
	if err != nil {
		return err
	}
	warnMissingSecrets(o.Logger, missing, filepath.Join(o.DataDir, SecretsFile))

	info := newAppInfo(o, pkgDir, front.Addr(), missing)
	db, err := openDB(ctx, o.Endpoint, o.DataDir, info.Table, DefaultSnapshotInterval, o.Logger)
	if err != nil {
		return err
	}
	defer db.close()
	info.Endpoint, info.Snapshot = db.endpoint, db.snapshotPath()
	pg, err := startDevPostgres(ctx, s, o.DataDir, o.Logger) // nil without a database (postgres.go)
	if err != nil {
		return err
	}
	defer pg.Stop() // after the app has stopped

	b := &builder{goBin: o.GoBin, pkgDir: pkgDir, out: filepath.Join(o.DataDir, "bin")}
	bin, err := buildApp(ctx, b, o.Logger)
	var be *buildError
	switch {
	case errors.As(err, &be):
		// The code does not compile: say where, and wait for a fix as
		// for an app that does not start (bin "": it starts down).
		o.Logger.Error("the build failed")
		fmt.Fprintf(o.AppOutput, "%v\n  lowfare dev keeps running: fix the error and save; it builds and starts the app when a file it is built from changes (Ctrl-C stops)\n", err)
	case err != nil:
		return err
	}
	env, appPort, err := appEnv(s, info, secrets)
	if err != nil {
		return err
	}
	env = append(env, pg.Env()...)
	sup := newSupervisor(o, env, appPort)
	if info.ServeApp {
		fn, err := newLambdaFunc(ctx, o, env, bin)
		if err != nil {
			return err
		}
		defer fn.stop()
		sup.answerAsleepThrough(fn, o)
		info.WakePerMinute, info.BusyMinutes = sup.wakePerMinute, sup.busyMinutes
	}
	return superviseAndServe(ctx, o, info, front, sup, b, bin, db)
}

// warnMissingSecrets names, before the app starts, each secret of
// service.secrets that is neither in the environment nor in the secrets
// file, and the line that sets it: an app that needs one may stop at
// start, and its own message may not say which.
func warnMissingSecrets(log *slog.Logger, missing []string, file string) {
	for _, name := range missing {
		log.Warn(fmt.Sprintf("secret %s (service.secrets) is not set, so the app starts without it: add the line %s=<value> to %s, or export %s before lowfare dev", name, name, file, name))
	}
}

// reloadSecrets reads the spec's secrets again (the environment, then
// secrets.env) and gives them to the app's next start, and to its Lambda
// function's; it names those still missing.
func reloadSecrets(o AppOptions, sup *supervisor) {
	names := o.Spec.Service.Secrets
	if len(names) == 0 {
		return
	}
	values, missing, err := devSecrets(names, o.DataDir, o.Getenv)
	if err != nil {
		o.Logger.Error("reading the secrets again: " + err.Error())
		return
	}
	warnMissingSecrets(o.Logger, missing, filepath.Join(o.DataDir, SecretsFile))
	sup.mu.Lock()
	env := withSecrets(sup.env, names, values)
	sup.mu.Unlock()
	sup.setEnv(env)
	if sup.fn != nil {
		sup.fn.setEnv(env)
	}
}

// withSecrets is env with the secrets names set to values: the old
// entries of names dropped, the values found appended.
func withSecrets(env, names []string, values map[string]string) []string {
	out := make([]string, 0, len(env)+len(values))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, k) {
			out = append(out, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		out = append(out, k+"="+values[k])
	}
	return out
}

// listenFront takes the port the app is served at.
func listenFront(port int) (net.Listener, error) {
	front, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("port %d is not free (%w): choose another with --port, or --port 0 for any free one", port, err)
	}
	return front, nil
}

// newAppInfo is the banner's description, less what the database and the
// serve: app settings fill in.
func newAppInfo(o AppOptions, pkgDir string, front net.Addr, missing []string) AppInfo {
	s := o.Spec
	return AppInfo{
		App: s.App, URL: "http://" + front.String(), Package: pkgDir,
		Endpoint: o.Endpoint, Table: DevTable(s), SecretsFile: filepath.Join(o.DataDir, SecretsFile),
		Missing: missing, Idle: o.Idle, Watch: o.Watch,
		ServeApp: o.Idle > 0 && s.Service.Idle.ServesApp(),
	}
}

// buildApp builds the app's binary, saying how long it took.
func buildApp(ctx context.Context, b *builder, log *slog.Logger) (string, error) {
	log.Info("building the app", "package", b.pkgDir)
	began := time.Now()
	bin, err := b.build(ctx)
	if err != nil {
		return "", err
	}
	log.Info("built", "package", b.pkgDir, "took", time.Since(began).Round(time.Millisecond))
	return bin, nil
}

// newSupervisor is the supervisor of the app that listens on port with env.
func newSupervisor(o AppOptions, env []string, port int) *supervisor {
	return &supervisor{
		env: env, port: port, healthPath: o.Spec.Service.Health.Path,
		out: o.AppOutput, log: o.Logger, idle: o.Idle,
		stopTimeout: o.StopTimeout, startTimeout: o.StartTimeout,
		bins: make(chan string, 1), wake: make(chan struct{}, 1), first: make(chan error, 1),
	}
}

// answerAsleepThrough has the app answer through fn, its Lambda function,
// while it is not awake (serve: app), and sets the rate that wakes it: o's,
// or by default the deployed service's busy alarm's.
func (s *supervisor) answerAsleepThrough(fn *lambdaFunc, o AppOptions) {
	s.serveApp, s.fn = true, fn
	s.ingress = ingressEvent{alb: o.Spec.Ingress.Kind != spec.IngressAPIGW}
	s.wakePerMinute = o.WakePerMinute
	if s.wakePerMinute <= 0 {
		s.wakePerMinute = wakeRate(o.Spec)
	}
	s.busyMinutes = o.BusyMinutes
	if s.busyMinutes <= 0 {
		s.busyMinutes = devBusyMinutes
	}
}

// superviseAndServe runs the built app under sup (and, with o.Watch,
// rebuilds it when its sources change), serves the front server once the
// app's first start is done, and on ctx's end stops both and takes the
// last snapshot.
func superviseAndServe(ctx context.Context, o AppOptions, info AppInfo, front net.Listener, sup *supervisor, b *builder, bin string, db *devDB) error {
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	supDone := make(chan error, 1)
	go func() { supDone <- sup.run(runCtx, bin) }()
	var wg sync.WaitGroup
	defer wg.Wait()
	// Without --watch the sources are still watched while the app is
	// down: a fix rebuilds and starts it.
	// secrets.env counts as a source: a secret added to it reaches the
	// app at its next start.
	secretsFile := filepath.Join(o.DataDir, SecretsFile)
	w := &watcher{
		goBin: b.goBin, pkgDir: b.pkgDir, interval: o.WatchInterval, built: b.began, log: o.Logger,
		extra:  []string{secretsFile},
		wanted: func() bool { return o.Watch || sup.waitsForEdit() },
		changed: func() {
			reloadSecrets(o, sup)
			rebuild(runCtx, b, sup, o.Logger)
		},
	}
	wg.Go(func() { w.run(runCtx) })
	// A failed first start is reported by the supervisor, which then
	// waits for an edit: lowfare dev keeps serving meanwhile.
	info.Down = sup.waitFirstStart(ctx) != nil

	if ctx.Err() == nil {
		if err := serveFront(ctx, front, logRequests(o.Logger, sup.front()), info, o.Ready); err != nil {
			stopRun()
			return errors.Join(err, <-supDone)
		}
	} // else: stopped before the first start ended; no banner
	stopRun()
	runErr := <-supDone // the app has stopped (SIGTERM, then its stop budget)
	return errors.Join(runErr, db.finalSnapshot(ctx))
}

// rebuild builds the changed sources and hands the binary to the app and
// its Lambda function; a failed build leaves the running app as it was.
func rebuild(ctx context.Context, b *builder, sup *supervisor, log *slog.Logger) {
	log.Info("sources changed: rebuilding", "package", b.pkgDir)
	nb, err := b.build(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		if sup.waitsForEdit() {
			log.Error("rebuild failed; fix the error and save again")
		} else {
			log.Error("rebuild failed; the running app stays as it was")
		}
		fmt.Fprintln(sup.out, err) // the compiler's lines as it wrote them, indented
		return
	}
	sup.replace(nb)
	if sup.fn != nil {
		sup.fn.replace(nb)
	}
}

// serveFront serves h on front, calls ready once it listens, and returns
// nil after a graceful shutdown once ctx is done, or the error that
// stopped the server before.
func serveFront(ctx context.Context, front net.Listener, h http.Handler, info AppInfo, ready func(AppInfo)) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(front) }()
	if ready != nil {
		ready(info)
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serving %s: %w", info.URL, err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

// fill sets the defaults and checks what cannot run.
func (o *AppOptions) fill() error {
	if o.Spec == nil {
		return errors.New("devstack: AppOptions.Spec is nil")
	}
	if !o.Spec.Service.LocalPackage() {
		return fmt.Errorf("service.image %q is an image reference: lowfare dev builds and runs a Go main package (such as . or ./cmd/server)", o.Spec.Service.Image)
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("port %d is out of range 0-65535", o.Port)
	}
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.AppOutput == nil {
		o.AppOutput = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.GoBin == "" {
		o.GoBin = "go"
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.WatchInterval <= 0 {
		o.WatchInterval = DefaultWatchInterval
	}
	return nil
}

// packageDir resolves service.image from the spec's directory, as the
// image build does, and checks that it is a directory.
func packageDir(specPath, image string) (string, error) {
	dir := image
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(specPath), image)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("service.image %q: %s is not a directory (it is resolved from the spec's directory): set service.image to the Go main package, such as . or ./cmd/server", image, dir)
	}
	return dir, nil
}

// appEnv is the app's environment: this process's, less anything that
// could reach a real AWS account, plus the app contract's variables. It
// returns the port the app listens on: PORT from the spec's env when it
// sets one (the contract lets it), otherwise a free port of this machine.
func appEnv(s *spec.Spec, info AppInfo, secrets map[string]string) ([]string, int, error) {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID=lowfare-dev", "AWS_SECRET_ACCESS_KEY=lowfare-dev",
		"AWS_REGION="+s.Region, "AWS_DEFAULT_REGION="+s.Region,
		"AWS_ENDPOINT_URL_DYNAMODB="+info.Endpoint,
		"AWS_EC2_METADATA_DISABLED=true",
		"TABLE_NAME="+info.Table,
	)
	for _, k := range slices.Sorted(maps.Keys(s.Service.Env)) {
		env = append(env, k+"="+s.Service.Env[k])
	}
	for _, k := range slices.Sorted(maps.Keys(secrets)) {
		env = append(env, k+"="+secrets[k])
	}
	if p, ok := s.Service.Env["PORT"]; ok {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return nil, 0, fmt.Errorf("service.env.PORT %q is not a port number", p)
		}
		return env, port, nil
	}
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	return append(env, "PORT="+strconv.Itoa(port)), port, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port for the app: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// PrintAppInfo writes the banner `lowfare dev` shows once the app is up.
func PrintAppInfo(w io.Writer, i AppInfo) {
	if i.Down {
		fmt.Fprintf(w, "%s is not running (see above why); lowfare dev serves %s and builds and starts it when you save a fix\n", i.App, i.URL)
	} else {
		fmt.Fprintf(w, "%s is running at %s\n", i.App, i.URL)
	}
	fmt.Fprintf(w, "  app:         %s (restarted when it exits; rebuilt and started when a fix is saved after it failed to start)\n", i.Package)
	if i.Snapshot != "" {
		fmt.Fprintf(w, "  data:        %s (saved every few seconds and on exit)\n", i.Snapshot)
	}
	fmt.Fprintf(w, "  DynamoDB:    %s (TABLE_NAME=%s)\n", i.Endpoint, i.Table)
	if len(i.Missing) > 0 {
		fmt.Fprintf(w, "  secrets:     %s not set: export them, or add NAME=value lines to %s\n", strings.Join(i.Missing, ", "), i.SecretsFile)
	}
	switch {
	case i.Idle > 0 && i.ServeApp:
		fmt.Fprintf(w, "  idle:        stops after %s without a request; then the app answers through the Lambda adapter (serve: app), and %.0f requests a minute for %d minutes wake it\n", i.Idle, i.WakePerMinute, i.BusyMinutes)
	case i.Idle > 0:
		fmt.Fprintf(w, "  idle:        stops after %s without a request; the next request wakes it\n", i.Idle)
	}
	if i.Watch {
		fmt.Fprintln(w, "  watch:       rebuilds and restarts when a Go file of a package it builds from, or a file it embeds, changes")
	}
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}

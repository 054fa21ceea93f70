// Command lambdainit measures what the first request after sleep costs on
// Lambda with service.idle serve: app, on this machine: the serverless
// image's init under AWS's Lambda Runtime Interface Emulator (the RIE,
// github.com/aws/aws-lambda-runtime-interface-emulator, built with CGO off
// as AWS ships it), and the adapter plus app start, for links (cmd/links)
// and guestbook (examples/guestbook). Baselines from the same run:
//
//   - floor-runtime: the RIE with the smallest Go custom runtime (polls
//     /next, answers a constant): what any Go function's init costs here;
//   - floor-http: a ten-line net/http server, start to its first 200: what
//     any Go web app's start costs here.
//
// For each app it builds the image lowfare deploys (internal/image, profile
// serverless: the adapter is the entrypoint, the app its argument),
// flattens its layers into a directory and, each run, starts a fresh RIE
// on that entrypoint and sends one event (GET of the health path), so
// every run is a cold start. It reports the RIE's init phase ("INIT
// REPORT", the adapter's exec to its first /next: the adapter and the app
// start) and the wall time from starting the RIE to the answer;
// and, separately, the app binary alone from exec to its health path's
// first 200.
//
// With -base REV it also builds the adapter's sources at git revision REV
// and runs the same image tree with that adapter, interleaved run by run
// with the current one, so a change to the adapter is measured against
// its predecessor on the same loaded machine.
//
//	go run ./bench/lambdainit -runs 10
//	go run ./bench/lambdainit -runs 15 -base HEAD~1
package main

import (
	"archive/tar"
	"bytes"
	"context"
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
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/lowfare/lowfare/internal/image"
)

// rieVersion is the RIE commit internal/image's tests run (they publish no
// tagged Go module versions).
const rieVersion = "v0.0.0-20261030222936-bef5c4ba774d"

var showRIE = flag.Bool("show-rie", false, "print the RIE's output of each run")

type app struct {
	name, dir, pkg, health string
	env                    []string
}

func main() {
	runs := flag.Int("runs", 10, "cold starts per measurement")
	base := flag.String("base", "", "also measure the adapter built from this git revision's internal/image/adapter")
	flag.Parse()
	root, err := os.Getwd()
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "lambdainit-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)

	t, err := buildTools(ctx, tmp, *base)
	if err != nil {
		fail(err)
	}
	fmt.Printf("machine: %d CPUs, %s, load %s; %s; %d cold starts each\n",
		runtime.NumCPU(), cpuModel(), loadavg(), runtime.Version(), *runs)
	fmt.Printf("%-34s %10s %10s %10s\n", "", "median", "min", "max")
	f := measureFloors(ctx, *runs, t)
	for _, a := range benchApps(root) {
		measureImage(ctx, *runs, tmp, a, t, f)
	}
}

// tools are the binaries the measurements run besides the apps' images.
type tools struct {
	rie          string // the Lambda Runtime Interface Emulator
	floorRuntime string // the smallest Go custom runtime
	floorHTTP    string // the ten-line net/http server
	base         string // -base: the revision; "" measures no other adapter
	baseAdapter  string // the adapter built at base
}

// buildTools builds the RIE, the two floors and, with a base revision,
// the adapter at that revision.
func buildTools(ctx context.Context, tmp, base string) (tools, error) {
	t := tools{base: base}
	var err error
	if t.rie, err = rieBinary(ctx); err != nil {
		return t, err
	}
	if t.floorRuntime, err = goBuild(ctx, tmp, "floorruntime", floorRuntimeSrc); err != nil {
		return t, err
	}
	if t.floorHTTP, err = goBuild(ctx, tmp, "floorhttp", floorHTTPSrc); err != nil {
		return t, err
	}
	if base != "" {
		if t.baseAdapter, err = adapterAt(ctx, tmp, base); err != nil {
			return t, err
		}
	}
	return t, nil
}

// benchApps are the apps measured: links and guestbook, each with the
// environment its start needs.
func benchApps(root string) []app {
	common := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "TABLE_NAME=bench"}
	return []app{
		{"links", root, "./cmd/links", "/healthz", append([]string{"ADMIN_TOKEN=bench"}, common...)},
		{"guestbook", filepath.Join(root, "examples/guestbook"), ".", "/health", common},
	}
}

// floors are the baselines' medians, which the apps' figures are compared
// with.
type floors struct {
	init, wall, app time.Duration
}

func measureFloors(ctx context.Context, runs int, t tools) floors {
	fi, fw := measureRIE(ctx, runs, t.rie, []string{t.floorRuntime}, nil, "/")
	var f floors
	f.init = report("floor-runtime: RIE init", fi)
	f.wall = report("floor-runtime: RIE start to answer", fw)
	f.app = report("floor-http: exec to first 200", measureApp(runs, t.floorHTTP, nil, "/"))
	return f
}

// measureImage builds the app's serverless image and reports its cold
// starts under the RIE (and with the base adapter), and the app alone,
// against the floors.
func measureImage(ctx context.Context, runs int, tmp string, a app, t tools, f floors) {
	dir := filepath.Join(tmp, a.name)
	entry, appBin, size, err := buildFlat(ctx, a, dir)
	if err != nil {
		fail(err)
	}
	fmt.Printf("%s: serverless image %.1f MB compressed, entrypoint %s\n", a.name, float64(size)/1e6, strings.Join(entry, " "))
	ini, wall, bini, bwall := coldStarts(ctx, runs, t, rooted(dir, entry), a)
	mi := report(a.name+": RIE init (adapter + app)", ini)
	mw := report(a.name+": RIE start to answer", wall)
	if t.baseAdapter != "" {
		bi := report(a.name+": same, adapter at "+t.base, bini)
		report(a.name+": start to answer, adapter at "+t.base, bwall)
		fmt.Printf("  init with this adapter / with the one at %s: %.2f\n", t.base, ratio(mi, bi))
	}
	ma := report(a.name+": app alone, exec to first 200", measureApp(runs, filepath.Join(dir, appBin), a.env, a.health))
	fmt.Printf("  init %.1fx floor-runtime's; start-to-answer %.1fx; app alone %.1fx floor-http's; adapter and RIE over the app alone: %s\n",
		ratio(mi, f.init), ratio(mw, f.wall), ratio(ma, f.app), ms(mw-ma))
}

// coldStarts runs the image's entry under a fresh RIE runs times, and as
// often with the base adapter in its place when there is one, interleaved
// so both adapters see the same load.
func coldStarts(ctx context.Context, runs int, t tools, entry []string, a app) (ini, wall, bini, bwall []time.Duration) {
	for range runs {
		i, w := measureRIE(ctx, 1, t.rie, entry, a.env, a.health)
		ini, wall = append(ini, i...), append(wall, w...)
		if t.baseAdapter != "" {
			be := append([]string{t.baseAdapter}, entry[1:]...)
			i, w := measureRIE(ctx, 1, t.rie, be, a.env, a.health)
			bini, bwall = append(bini, i...), append(bwall, w...)
		}
	}
	return ini, wall, bini, bwall
}

// report prints the median, minimum and maximum of d (which it sorts) and
// returns the median.
func report(label string, d []time.Duration) time.Duration {
	slices.Sort(d)
	med := d[len(d)/2]
	fmt.Printf("%-34s %10s %10s %10s\n", label, ms(med), ms(d[0]), ms(d[len(d)-1]))
	return med
}

// buildFlat builds the app's serverless image and writes its flattened
// filesystem to dir; it returns the entrypoint, the app's path and the
// image's compressed size.
func buildFlat(ctx context.Context, a app, dir string) ([]string, string, int64, error) {
	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	b, err := image.Build(ctx, image.Options{Dir: a.dir, Package: a.pkg, Arch: arch, Revision: "bench", Serverless: true})
	if err != nil {
		return nil, "", 0, fmt.Errorf("building %s: %w", a.name, err)
	}
	cf, err := b.Image.ConfigFile()
	if err != nil {
		return nil, "", 0, err
	}
	rc := mutate.Extract(b.Image)
	defer rc.Close()
	if err := untar(rc, dir); err != nil {
		return nil, "", 0, err
	}
	entry := cf.Config.Entrypoint
	if len(entry) < 2 {
		return nil, "", 0, fmt.Errorf("%s: entrypoint %q is not the adapter and the app", a.name, entry)
	}
	return entry, entry[len(entry)-1], b.Size, nil
}

// rooted maps the image's absolute paths into its flattened tree (the
// binaries are static and read nothing else from the filesystem).
func rooted(dir string, args []string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		if strings.HasPrefix(a, "/") {
			out[i] = filepath.Join(dir, a)
		}
	}
	return out
}

// initRe is the RIE's init phase: from the runtime's exec (the adapter) to
// its first /next, which the adapter makes once the app listens. (The
// REPORT line's "Init Duration" is not it: the RIE runs init on demand,
// inside the first invoke, and counts it in that invoke's Duration.)
var initRe = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// measureRIE starts a fresh RIE on entry for each run, sends one GET event
// and returns the RIE's Init Duration and the wall time to the answer.
func measureRIE(ctx context.Context, runs int, rie string, entry, env []string, path string) (inits, walls []time.Duration) {
	event, _ := json.Marshal(map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
		"headers": map[string]string{"host": "bench.example"},
		"requestContext": map[string]any{"domainName": "bench.example", "requestId": "bench",
			"http": map[string]string{"method": "GET", "path": path, "sourceIp": "203.0.113.1"}},
		"isBase64Encoded": false,
	})
	for range runs {
		invoke := "127.0.0.1:" + freePort()
		args := append([]string{"--runtime-api-address", "127.0.0.1:" + freePort(), "--runtime-interface-emulator-address", invoke}, entry...)
		cmd := exec.CommandContext(ctx, rie, args...)
		cmd.Env = append(append(os.Environ(), env...), "PORT="+freePort())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		began := time.Now()
		if err := cmd.Start(); err != nil {
			fail(err)
		}
		url := "http://" + invoke + "/2015-03-31/functions/function/invocations"
		var body []byte
		for {
			resp, err := http.Post(url, "application/json", bytes.NewReader(event))
			if err == nil {
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				break
			}
			if time.Since(began) > time.Minute {
				fail(fmt.Errorf("the RIE did not answer: %v\n%s", err, out.String()))
			}
			time.Sleep(time.Millisecond)
		}
		wall := time.Since(began)
		if !bytes.Contains(body, []byte(`"statusCode":200`)) && !bytes.Equal(bytes.TrimSpace(body), []byte(`"ok"`)) {
			fail(fmt.Errorf("%s answered %s\n%s", entry[0], body, out.String()))
		}
		// The REPORT line follows the response; give it a moment.
		var m []string
		for deadline := time.Now().Add(2 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			m = initRe.FindStringSubmatch(out.String())
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if *showRIE {
			fmt.Printf("--- RIE output, %s:\n%s---\n", strings.Join(entry, " "), out.String())
		}
		if m == nil {
			fail(fmt.Errorf("no INIT REPORT in the RIE's output:\n%s", out.String()))
		}
		f, _ := strconv.ParseFloat(m[1], 64)
		inits = append(inits, time.Duration(f*float64(time.Millisecond)))
		walls = append(walls, wall)
	}
	return inits, walls
}

// measureApp starts bin with PORT and times exec to the first 200 on path.
func measureApp(runs int, bin string, env []string, path string) []time.Duration {
	var out []time.Duration
	client := &http.Client{Timeout: time.Second}
	for range runs {
		port := freePort()
		cmd := exec.Command(bin)
		cmd.Env = append(append(os.Environ(), env...), "PORT="+port)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		began := time.Now()
		if err := cmd.Start(); err != nil {
			fail(err)
		}
		for {
			resp, err := client.Get("http://127.0.0.1:" + port + path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Since(began) > time.Minute {
				fail(fmt.Errorf("%s did not answer %s: %v", bin, path, err))
			}
			time.Sleep(time.Millisecond)
		}
		out = append(out, time.Since(began))
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	return out
}

func rieBinary(ctx context.Context) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	gobin := filepath.Join(cache, "lowfare-test", "aws-lambda-rie-"+rieVersion)
	bin := filepath.Join(gobin, "aws-lambda-rie")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@"+rieVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOBIN="+gobin, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the RIE: %v\n%s", err, out)
	}
	return bin, nil
}

// adapterAt builds internal/image/adapter as it was at git revision rev,
// in a throwaway module like the image build's.
func adapterAt(ctx context.Context, tmp, rev string) (string, error) {
	ls, err := exec.CommandContext(ctx, "git", "ls-tree", "--name-only", rev, "internal/image/adapter/").Output()
	if err != nil {
		return "", fmt.Errorf("git ls-tree %s: %w", rev, err)
	}
	dir := filepath.Join(tmp, "base-adapter")
	if err := os.MkdirAll(filepath.Join(dir, "adapter"), 0o755); err != nil {
		return "", err
	}
	for _, f := range strings.Fields(string(ls)) {
		if !strings.HasSuffix(f, ".go") || strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := exec.CommandContext(ctx, "git", "show", rev+":"+f).Output()
		if err != nil {
			return "", fmt.Errorf("git show %s:%s: %w", rev, f, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "adapter", filepath.Base(f)), src, 0o644); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module lowfare.invalid/imagehelpers\n\ngo 1.22\n"), 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(tmp, "lambda-adapter-"+strings.ReplaceAll(rev, "/", "_"))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", bin, "./adapter")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the adapter at %s: %v\n%s", rev, err, out)
	}
	return bin, nil
}

// goBuild compiles one standard-library main package (CGO off, static).
func goBuild(ctx context.Context, tmp, name, src string) (string, error) {
	dir := filepath.Join(tmp, name+"-src")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+name+"\n\ngo 1.22\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(tmp, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", name, err, out)
	}
	return bin, nil
}

const floorRuntimeSrc = `package main

import (
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	for {
		resp, err := http.Get(api + "next")
		if err != nil {
			os.Exit(1)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		r, err := http.Post(api+id+"/response", "application/json", strings.NewReader(` + "`" + `"ok"` + "`" + `))
		if err != nil {
			os.Exit(1)
		}
		r.Body.Close()
	}
}
`

const floorHTTPSrc = `package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)
}
`

func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return fmt.Errorf("layer entry %q escapes the root", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				var f *os.File
				if f, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm()|0o600); err == nil {
					_, err = io.Copy(f, tr)
					f.Close()
				}
			}
		}
		if err != nil {
			return err
		}
	}
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			_, v, _ := strings.Cut(l, ":")
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "lambdainit:", err)
	os.Exit(1)
}

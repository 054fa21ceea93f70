package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/spec"
)

// initDefault is the seed design as init writes it: no placeholder email.
func initDefault() *spec.Spec {
	s := spec.Default()
	s.Budget.Emails, s.Alarms.Emails = []string{}, []string{}
	return s
}

func TestInitWritesALoadableFile(t *testing.T) {
	tests := []struct {
		args []string
		want func() *spec.Spec
	}{
		{nil, func() *spec.Spec {
			s := initDefault()
			s.App = fallbackApp // the temporary directory's name (001) makes no name
			s.Ingress.Kind = spec.IngressAPIGW
			s.Service.Idle = &spec.Idle{After: "15m", Serve: spec.ServeApp}
			s.Service.Count.Max = 1 // no target tracking: 10 alarm metrics
			return s
		}},
		{[]string{"--app", "shop", "--ingress", "apigw"}, func() *spec.Spec {
			s := initDefault()
			s.App, s.Ingress.Kind = "shop", spec.IngressAPIGW
			return s
		}},
		{[]string{"--app", "shop", "--profile", "ha"}, func() *spec.Spec {
			s := initDefault()
			s.App, s.Profile = "shop", spec.ProfileHA
			s.Service.Count = spec.Count{Desired: 2, Min: 2, Max: 2}
			s.Table.PITR = true
			return s
		}},
		{[]string{"--profile", "serverless", "--region", "eu-west-1"}, func() *spec.Spec {
			s := initDefault()
			s.App = fallbackApp
			s.Profile, s.Ingress.Kind, s.Region = spec.ProfileServerless, spec.IngressURL, "eu-west-1"
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lowfare.yaml")
			code, stdout, stderr := runCmd(t, append([]string{"init", "-f", path}, tt.args...)...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "wrote "+path) {
				t.Errorf("stdout %q", stdout)
			}
			got, err := spec.Load(path)
			if err != nil {
				t.Fatalf("written file does not load: %v", err)
			}
			if want := tt.want(); !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
			text, _ := os.ReadFile(path)
			if !strings.Contains(string(text), "# free | ha | serverless") {
				t.Errorf("file has no comments:\n%s", text)
			}
		})
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lowfare.yaml")
	if err := os.WriteFile(path, []byte("app: mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "init", "-f", path)
	if code != ExitUsage || !strings.Contains(stderr, "--force") {
		t.Fatalf("exit %d, stderr %q; want 2 and a hint to use --force", code, stderr)
	}
	if b, _ := os.ReadFile(path); string(b) != "app: mine\n" {
		t.Fatalf("file changed: %q", b)
	}
	code, _, stderr = runCmd(t, "init", "-f", path, "--force", "--app", "theirs")
	if code != ExitOK {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if s, err := spec.Load(path); err != nil || s.App != "theirs" {
		t.Fatalf("after --force: %+v, %v", s, err)
	}
}

func TestInitBadFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--app", "Shop"}, "--app:"},
		{[]string{"--profile", "prod"}, "--profile:"},
		{[]string{"--ingress", "url"}, "--ingress:"},
		{[]string{"--profile", "serverless", "--ingress", "alb"}, "--ingress:"},
		{[]string{"--region", "mars"}, "--region:"},
		{[]string{"extra-arg"}, "unknown command"},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "lowfare.yaml")
		code, _, stderr := runCmd(t, append([]string{"init", "-f", path}, tt.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: wrote a file despite the error", tt.args)
		}
	}
}

func TestInitToStdout(t *testing.T) {
	code, stdout, stderr := runCmd(t, "init", "-f", "-", "--app", "shop")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if s, err := spec.Parse("stdout", []byte(stdout)); err != nil || s.App != "shop" {
		t.Fatalf("%v\n%s", err, stdout)
	}
}

// TestLoadProblemsExitTwo runs a bad spec through loadSpec in a tiny
// command, the way every spec-reading command does: exit 2, every problem
// on stderr with its position.
func TestLoadProblemsExitTwo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lowfare.yaml")
	bad := "app: links\nservice:\n  cpu: 300\n  spot: yes\nregoin: us-east-1\n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	root := NewRoot(strings.NewReader(""), &bytes.Buffer{}, &stderr)
	var file string
	probe := &cobra.Command{Use: "probe", RunE: func(*cobra.Command, []string) error {
		_, err := loadSpec(&rootOptions{}, file)
		return err
	}}
	addSpecFlag(probe, &file)
	root.AddCommand(probe)
	root.SetArgs([]string{"probe", "-f", path})
	err := root.ExecuteContext(context.Background())
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != ExitUsage {
		t.Fatalf("error %v, want exit 2", err)
	}
	var probs *spec.Problems
	if !errors.As(err, &probs) || len(probs.List) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	for _, want := range []string{path + ":3:8 service.cpu:", path + ":4:9 service.spot:", path + ":5:1 regoin: unknown key \"regoin\"; did you mean \"region\"?"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in\n%v", want, err)
		}
	}
	// A missing file is bad input too (exit 2), not a crash.
	root = NewRoot(strings.NewReader(""), &bytes.Buffer{}, &stderr)
	root.AddCommand(probe)
	root.SetArgs([]string{"probe", "-f", filepath.Join(t.TempDir(), "none.yaml")})
	if err := root.ExecuteContext(context.Background()); !errors.As(err, &ee) || ee.code != ExitUsage {
		t.Errorf("missing file: %v, want exit 2", err)
	}
}

// writeGo writes a Go file into dir/name (made as needed) and returns dir.
func writeGo(t *testing.T, dir, file, src string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const guestbookLike = `package main

import (
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	http.HandleFunc("GET /health", func(http.ResponseWriter, *http.Request) {})
	http.ListenAndServe(":"+port, nil)
}
`

func TestGuessApp(t *testing.T) {
	tests := []struct {
		name, file, src string
		want            appGuess // notes: each must appear in some note
	}{
		{"shop", "main.go", guestbookLike, appGuess{image: ".", app: "shop", port: 3000, healthPath: "/health",
			notes: []string{"package main in main.go", "app: shop", "main.go:11: the default it gives $PORT", "main.go:13"}}},
		{"fixed-port", "server.go", "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.HandleFunc(\"/healthz\", nil)\n\thttp.ListenAndServe(\":9000\", nil)\n}\n",
			appGuess{image: ".", app: "fixed-port", port: 9000, healthPath: "/healthz", notes: []string{`server.go:7 listens on ":9000"; it does not read $PORT`}}},
		{"Not_A_Name", "main.go", "package main\n\nfunc main() {}\n",
			appGuess{image: ".", app: "not-a-name", notes: []string{`app: not-a-name (from the directory's name "Not_A_Name")`, "service.port stays 8080", "service.health.path stays /healthz"}}},
		{"library", "lib.go", "package lib\n\nconst addr = \":9000\"\n", appGuess{app: "library", notes: []string{"no Go main package"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeGo(t, filepath.Join(t.TempDir(), tt.name), tt.file, tt.src)
			writeGo(t, dir, "main_test.go", "package main\n\nconst testPort = \":1234\"\n")
			g := guessApp(dir)
			if g.image != tt.want.image || g.app != tt.want.app || g.port != tt.want.port || g.healthPath != tt.want.healthPath {
				t.Errorf("got %+v, want %+v", g, tt.want)
			}
			all := strings.Join(g.notes, "\n")
			for _, n := range tt.want.notes {
				if !strings.Contains(all, n) {
					t.Errorf("no note with %q in:\n%s", n, all)
				}
			}
		})
	}
}

// init in a directory with a Go main package writes a spec for it and
// says what it guessed; --app wins over the directory's name.
func TestInitGuessesFromTheDirectory(t *testing.T) {
	dir := writeGo(t, filepath.Join(t.TempDir(), "guestbook"), "main.go", guestbookLike)
	path := filepath.Join(dir, "lowfare.yaml")
	code, stdout, stderr := runCmd(t, "init", "-f", path)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s, err := spec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.App != "guestbook" || s.Service.Image != "." || s.Service.Port != 3000 || s.Service.Health.Path != "/health" || len(s.Service.Secrets) != 0 {
		t.Errorf("spec %+v", s.Service)
	}
	for _, want := range []string{"service.image: .", "service.port: 3000", "service.health.path: /health", "app: guestbook"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runCmd(t, "init", "-f", path, "--force", "--app", "book")
	if s, err := spec.Load(path); code != ExitOK || err != nil || s.App != "book" || s.Service.Port != 3000 || strings.Contains(stdout, "app: guestbook") {
		t.Errorf("--app: exit %d, %v, %+v\n%s", code, err, s, stdout)
	}
}

// init at the root of a module whose main package is in cmd/server (or in
// a folder with no Go at all) names the app after the module or the
// folder, finds the package, and never writes links.
func TestInitFindsMainsBelow(t *testing.T) {
	const plain = "package main\n\nfunc main() {}\n"
	tests := []struct {
		name      string
		files     map[string]string
		app       string
		image     string
		noteParts []string
	}{
		{"shopfront", map[string]string{"go.mod": "module example.com/acme/shopfront/v2\n", "cmd/server/main.go": guestbookLike, "internal/db/db.go": "package db\n"},
			"shopfront", "./cmd/server", []string{"service.image: ./cmd/server", "app: shopfront (the module example.com/acme/shopfront/v2)", "service.port: 3000"}},
		{"two-mains", map[string]string{"go.mod": "module tool\n", "cmd/api/main.go": plain, "cmd/migrate/main.go": plain},
			"tool", ".", []string{"./cmd/api, ./cmd/migrate", "set it to the one that serves HTTP"}},
		{"My_Python.App", map[string]string{"app.py": "print('hi')\n", "requirements.txt": "flask\n"},
			"my-python-app", ".", []string{`app: my-python-app (from the directory's name "My_Python.App")`, "no Go main package"}},
		{"empty", nil, "empty", ".", []string{"app: empty (the directory's name)"}},
		{"42", nil, "app", ".", []string{"app: app (neither"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tt.name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, body := range tt.files {
				writeGo(t, filepath.Dir(filepath.Join(dir, name)), filepath.Base(name), body)
			}
			path := filepath.Join(dir, "lowfare.yaml")
			code, stdout, stderr := runCmd(t, "init", "-f", path)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			s, err := spec.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if s.App != tt.app || s.Service.Image != tt.image {
				t.Errorf("app %q image %q, want %q %q\n%s", s.App, s.Service.Image, tt.app, tt.image, stdout)
			}
			for _, n := range tt.noteParts {
				if !strings.Contains(stdout, n) {
					t.Errorf("stdout lacks %q:\n%s", n, stdout)
				}
			}
			text, _ := os.ReadFile(path)
			if strings.Contains(strings.ToLower(string(text)), "links") {
				t.Errorf("the written spec names links:\n%s", text)
			}
		})
	}
}

// init keeps .lowfare/ (where dev keeps secrets.env) out of git: it
// creates .gitignore, appends to one once, and leaves one that already
// ignores it alone.
func TestInitIgnoresLowfareFolder(t *testing.T) {
	tests := []struct{ name, before, after string }{
		{"none", "", "# lowfare's local files: dev secrets and data, synth output\n.lowfare/\n"},
		{"other lines", "bin/\n*.log", "bin/\n*.log\n# lowfare's local files: dev secrets and data, synth output\n.lowfare/\n"},
		{"already", "bin/\n/.lowfare\n", "bin/\n/.lowfare\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ignore := filepath.Join(dir, ".gitignore")
			if tt.before != "" {
				if err := os.WriteFile(ignore, []byte(tt.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, "lowfare.yaml")
			for range 2 { // the second run appends nothing
				if code, _, stderr := runCmd(t, "init", "-f", path, "--force"); code != ExitOK {
					t.Fatalf("exit %d: %s", code, stderr)
				}
			}
			got, err := os.ReadFile(ignore)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.after {
				t.Errorf(".gitignore = %q, want %q", got, tt.after)
			}
		})
	}
}

// The first plan after init, for a fresh app that is neither links nor
// guestbook (main package in cmd/server, listening on $PORT), fits the
// budget init writes and shows no warning about a value init chose.
func TestInitThenPlanFitsTheBudget(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "notes")
	writeGo(t, dir, "go.mod", "module example.com/notes\n\ngo 1.22\n")
	writeGo(t, filepath.Join(dir, "cmd", "server"), "main.go", `package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	http.ListenAndServe(":"+os.Getenv("PORT"), nil)
}
`)
	path := filepath.Join(dir, "lowfare.yaml")
	if code, _, stderr := runCmd(t, "init", "-f", path); code != ExitOK {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	text, _ := os.ReadFile(path)
	if !strings.Contains(string(text), "kind: alb") {
		t.Errorf("the spec does not say how to get the ALB back:\n%s", text)
	}
	code, stdout, stderr := runCmd(t, "plan", "-f", path, "--format", "json")
	if code != ExitOK {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	var plan struct {
		Ingress  string `json:"ingress"`
		Warnings []struct {
			Part, Message string
		} `json:"warnings"`
		Estimate struct {
			TotalUSD   float64 `json:"total_usd"`
			FitsBudget bool    `json:"fits_budget"`
		} `json:"estimate"`
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatalf("plan JSON: %v\n%s", err, stdout)
	}
	for _, w := range plan.Warnings {
		t.Errorf("plan after init warns: %s: %s", w.Part, w.Message)
	}
	if !plan.Estimate.FitsBudget {
		t.Errorf("estimate $%.2f does not fit the budget init wrote", plan.Estimate.TotalUSD)
	}
	if plan.Ingress != spec.IngressAPIGW {
		t.Errorf("ingress %q, want apigw (the cheapest shape that keeps Fargate and fits)", plan.Ingress)
	}
}

// TestInitLeavesUserToTheImageKind: init pins neither service.user nor
// service.readonly_root, so pointing service.image at an image lowfare did
// not build (nginx) takes that kind's defaults, the image's own user on a
// writable root, and plan says so; the Go package init found runs as
// lowfare's user on a read-only root.
func TestInitLeavesUserToTheImageKind(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	writeGo(t, dir, "go.mod", "module example.com/site\n\ngo 1.22\n")
	writeGo(t, dir, "main.go", "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() { http.ListenAndServe(\":\"+os.Getenv(\"PORT\"), nil) }\n")
	path := filepath.Join(dir, "lowfare.yaml")
	if code, _, stderr := runCmd(t, "init", "-f", path); code != ExitOK {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, pinned := range []string{"\n  user:", "\n  readonly_root:"} {
		if strings.Contains(string(text), pinned) {
			t.Errorf("init pins %s:\n%s", strings.TrimSpace(pinned), text)
		}
	}
	task := func() planTask {
		t.Helper()
		code, stdout, stderr := runCmd(t, "plan", "-f", path, "--format", "json")
		if code != ExitOK {
			t.Fatalf("plan: exit %d: %s", code, stderr)
		}
		var plan struct{ Task planTask }
		if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
			t.Fatalf("plan JSON: %v\n%s", err, stdout)
		}
		return plan.Task
	}
	if got := task(); got.User != spec.BuiltUser || !got.ReadonlyRoot || got.Port != 8080 {
		t.Errorf("Go package: task %+v; want %s on a read-only root, port 8080", got, spec.BuiltUser)
	}
	const nginx = "public.ecr.aws/nginx/nginx:1.27"
	edited := strings.Replace(string(text), "image: .", "image: "+nginx, 1)
	if edited == string(text) {
		t.Fatalf("no image line to edit:\n%s", text)
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	got := task()
	if got.User != "" || got.ReadonlyRoot {
		t.Errorf("%s: task %+v; want the image's own user on a writable root", nginx, got)
	}
	if !strings.Contains(got.Text, "the image's own user") || !strings.Contains(got.Text, "writable root") || !strings.Contains(got.Text, "port 8080") {
		t.Errorf("plan's task line %q does not say the user, the root and the port", got.Text)
	}
	code, stdout, _ := runCmd(t, "plan", "-f", path)
	if code != ExitOK || !strings.Contains(stdout, "task: runs as the image's own user") {
		t.Errorf("plan (text): exit %d, no task line:\n%s", code, stdout)
	}
}

package devstack

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/spec"
)

// copyShelf copies testdata/shelf, a user's app that is neither links nor
// guestbook (an embedded template, a secret), into a fresh directory so a
// test can edit it, applies edits (file name -> new content), and loads
// its spec.
func copyShelf(t *testing.T, edits map[string]string) (dir string, s *spec.Spec) {
	t.Helper()
	dir = t.TempDir()
	src := filepath.Join("testdata", "shelf")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return writeFile(filepath.Join(dir, rel), string(data))
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range edits {
		if err := writeFile(filepath.Join(dir, name), body); err != nil {
			t.Fatal(err)
		}
	}
	s, err = spec.Load(filepath.Join(dir, "lowfare.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

func writeFile(path, body string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(body), 0o600)
}

// editSource rewrites dir's file name with old replaced by new, and fails
// the test when old is not there.
func editSource(t *testing.T, dir, name, old, new string) {
	t.Helper()
	path := filepath.Join(dir, name)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), old) {
		t.Fatalf("%s has no %q", name, old)
	}
	if err := writeFile(path, strings.Replace(string(src), old, new, 1)); err != nil {
		t.Fatal(err)
	}
}

func shelfMain(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "shelf", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func waitOut(t *testing.T, r runningApp, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.out.WaitFor(ctx, s); err != nil {
		t.Fatal(err)
	}
}

// A secret of service.secrets found neither in the environment nor in
// secrets.env is named before the app starts, with the file and the line
// that sets it.
func TestRunAppNamesMissingSecretsBeforeTheAppStarts(t *testing.T) {
	dir, s := copyShelf(t, nil)
	data := filepath.Join(dir, "data")
	r := startApp(t, dir, AppOptions{Spec: s, DataDir: data, Getenv: func(string) string { return "" }})
	out := r.out.String()
	warn := strings.Index(out, "SHELF_TOKEN")
	started := strings.Index(out, "shelf listening on")
	if warn < 0 || started < 0 || warn > started {
		t.Fatalf("the missing secret is not named before the app starts:\n%s", out)
	}
	for _, want := range []string{filepath.Join(data, SecretsFile), "SHELF_TOKEN=", "export SHELF_TOKEN"} {
		if !strings.Contains(out[:started], want) {
			t.Errorf("the warning lacks %q:\n%s", want, out[:started])
		}
	}
}

// --watch rebuilds when an embedded template changes, not only a .go file.
func TestRunAppWatchRebuildsOnEmbeddedFiles(t *testing.T) {
	dir, s := copyShelf(t, nil)
	r := startApp(t, dir, AppOptions{Spec: s, Watch: true, WatchInterval: 100 * time.Millisecond})
	if _, _, body := getBody(t, r.info.URL+"/"); !strings.Contains(body, "shelf page v1") {
		t.Fatalf("page %q, want v1", body)
	}
	editSource(t, dir, "templates/page.html", "v1", "v2")
	eventually(t, "the page from the edited template", func() bool {
		code, _, body := getBody(t, r.info.URL+"/")
		return code == 200 && strings.Contains(body, "shelf page v2")
	})
}

// Requests to a user's app are logged as for links: one line each at
// info; -q (warnings only) keeps the 5xx ones.
func TestRunAppLogsRequestsAsQuietSays(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		t.Run("quiet="+strconv.FormatBool(quiet), func(t *testing.T) {
			dir, s := copyShelf(t, nil)
			level := slog.LevelInfo
			if quiet {
				level = slog.LevelWarn
			}
			r := startAppLevel(t, dir, AppOptions{Spec: s}, level)
			getBody(t, r.info.URL+"/healthz")
			getBody(t, r.info.URL+"/fail")
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			out := r.out.String()
			ok := regexp.MustCompile(`msg=request method=GET path=/healthz status=200 `).MatchString(out)
			failed := regexp.MustCompile(`level=ERROR msg=request method=GET path=/fail status=500 `).MatchString(out)
			if ok == quiet || !failed {
				t.Errorf("quiet %v: logged the 200 %v, the 500 %v:\n%s", quiet, ok, failed, out)
			}
		})
	}
}

// An app that exits at start is reported with its last 20 lines; lowfare
// dev keeps running (without --watch too) and starts it again once its
// source is fixed.
func TestRunAppReportsAnExitAndRetriesAfterAnEdit(t *testing.T) {
	crash := "func main() {\n\tfor i := 1; i <= 30; i++ {\n\t\tfmt.Println(\"crash line\", i)\n\t}\n\tos.Exit(2)\n}\n\nfunc realMain() {"
	dir, s := copyShelf(t, map[string]string{"main.go": strings.Replace(shelfMain(t), "func main() {", crash, 1)})
	r := startApp(t, dir, AppOptions{Spec: s})
	if !r.info.Down {
		t.Errorf("info %+v: want the app reported down", r.info)
	}
	waitOut(t, r, "crash line 30\n")
	waitOut(t, r, "lowfare dev keeps running")
	out := r.out.String()
	for i := 11; i <= 30; i++ {
		if !strings.Contains(out, "  | crash line "+strconv.Itoa(i)+"\n") {
			t.Errorf("the report lacks line %d:\n%s", i, out)
		}
	}
	if strings.Contains(out, "  | crash line 10\n") {
		t.Errorf("the report has more than the last 20 lines:\n%s", out)
	}
	if code, _, body := getBody(t, r.info.URL+"/healthz"); code != 503 || !strings.Contains(body, "not running") {
		t.Errorf("while down: %d %q, want 503 saying it is not running", code, body)
	}
	if err := writeFile(filepath.Join(dir, "main.go"), shelfMain(t)); err != nil { // the fix
		t.Fatal(err)
	}
	eventually(t, "the fixed app answers", func() bool {
		code, _, _ := getBody(t, r.info.URL+"/healthz")
		return code == 200
	})
}

// A failed build prints the compiler's output as lines, indented, not as
// one quoted string.
func TestRunAppPrintsBuildErrorsAsLines(t *testing.T) {
	dir, s := copyShelf(t, nil)
	r := startApp(t, dir, AppOptions{Spec: s, Watch: true, WatchInterval: 100 * time.Millisecond})
	editSource(t, dir, "main.go", `fmt.Fprintln(w, "ok")`, `fmt.Fprintln(w, notDefined)`)
	waitOut(t, r, "rebuild failed")
	waitOut(t, r, "undefined: notDefined")
	out := r.out.String()
	if !regexp.MustCompile(`(?m)^    \./main\.go:\d+:\d+: undefined: notDefined$`).MatchString(out) {
		t.Errorf("the compiler's line is not shown as is, indented:\n%s", out)
	}
	if strings.Contains(out, `\n`) {
		t.Errorf("escaped newlines in the output:\n%s", out)
	}
}

// A first build that fails does not end lowfare dev either: the
// compiler's lines are shown, and a saved fix builds and starts the app.
func TestRunAppKeepsRunningAfterAFailedFirstBuild(t *testing.T) {
	dir, s := copyShelf(t, map[string]string{"main.go": strings.Replace(shelfMain(t), `fmt.Fprintln(w, "ok")`, `fmt.Fprintln(w, notYet)`, 1)})
	r := startApp(t, dir, AppOptions{Spec: s})
	if !r.info.Down {
		t.Errorf("info %+v: want the app reported down", r.info)
	}
	out := r.out.String()
	if !regexp.MustCompile(`(?m)^    \./main\.go:\d+:\d+: undefined: notYet$`).MatchString(out) || !strings.Contains(out, "lowfare dev keeps running") {
		t.Errorf("the failed build is not shown as lines with what happens next:\n%s", out)
	}
	editSource(t, dir, "main.go", "notYet", `"ok"`)
	eventually(t, "the fixed app answers", func() bool {
		code, _, _ := getBody(t, r.info.URL+"/healthz")
		return code == 200
	})
}

// An app that stops for want of a secret starts once the secret is added
// to secrets.env, without --watch and without restarting lowfare dev.
func TestRunAppStartsOnceTheSecretIsAdded(t *testing.T) {
	needsToken := "\tif os.Getenv(\"SHELF_TOKEN\") == \"\" {\n\t\tfmt.Fprintln(os.Stderr, \"shelf: SHELF_TOKEN is not set\")\n\t\tos.Exit(1)\n\t}\n\taddr :="
	dir, s := copyShelf(t, map[string]string{"main.go": strings.Replace(shelfMain(t), "\taddr :=", needsToken, 1)})
	data := filepath.Join(dir, "data")
	r := startApp(t, dir, AppOptions{Spec: s, DataDir: data, Getenv: func(string) string { return "" }})
	if !r.info.Down {
		t.Fatalf("info %+v: want the app down without its secret", r.info)
	}
	waitOut(t, r, "  | shelf: SHELF_TOKEN is not set\n")
	if err := writeFile(filepath.Join(data, SecretsFile), "SHELF_TOKEN=s3cret\n"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the app with its secret", func() bool {
		code, _, token := getBody(t, r.info.URL+"/token")
		return code == 200 && token == "s3cret"
	})
}

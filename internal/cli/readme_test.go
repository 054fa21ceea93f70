package cli

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tourBlock is the first ```sh block after the README's tour heading.
func tourBlock(t *testing.T, readme string) string {
	t.Helper()
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "## A five-minute tour")
	if i < 0 {
		t.Fatal("README has no '## A five-minute tour' section")
	}
	text = text[i:]
	start := strings.Index(text, "```sh\n")
	if start < 0 {
		t.Fatal("the tour has no ```sh block")
	}
	text = text[start+len("```sh\n"):]
	end := strings.Index(text, "\n```")
	if end < 0 {
		t.Fatal("the tour's sh block is not closed")
	}
	return text[:end+1]
}

// TestReadmeTour runs the README tour's shell lines with bash, against a
// 'lowfare dev' the test starts on a free port (the tour's own 'lowfare dev'
// line is the one it replaces), in a directory laid out like a clone. Any
// failing line fails the test (bash -e, curl -f).
func TestReadmeTour(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the tour builds lowfare and the links image")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: the README tour needs it", tool)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	block := tourBlock(t, filepath.Join(root, "README.md"))

	// The commands the tour names, as installed: lowfare on PATH.
	bin := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, "lowfare"), "./cmd/lowfare")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/lowfare: %v\n%s", err, out)
	}
	// A clone's layout without its state: cmd/ copied (init looks there
	// for the main package), the rest by link, and .lowfare fresh.
	work := t.TempDir()
	for _, name := range []string{"go.mod", "go.sum", "internal"} {
		if err := os.Symlink(filepath.Join(root, name), filepath.Join(work, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(filepath.Join(work, "cmd"), os.DirFS(filepath.Join(root, "cmd"))); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "ADMIN_TOKEN=")

	// Terminal 1.
	var script []string
	devLine := ""
	for _, line := range strings.Split(block, "\n") {
		cmd := strings.TrimSpace(strings.SplitN(line, " #", 2)[0])
		if devLine == "" && (cmd == "lowfare dev --demo" || cmd == "go run ./cmd/lowfare dev --demo") {
			devLine = line
			continue
		}
		script = append(script, line)
	}
	if devLine == "" {
		t.Fatal("the tour has no 'lowfare dev --demo' line to start the service with")
	}
	dev := exec.CommandContext(ctx, filepath.Join(bin, "lowfare"), "dev", "--demo", "--port", "0", "--quiet")
	dev.Dir, dev.Env = work, env
	stdout, err := dev.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var devErr bytes.Buffer
	dev.Stderr = &devErr
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = dev.Process.Signal(syscall.SIGINT)
		_ = dev.Wait()
	}()
	urlRE := regexp.MustCompile(`running at (http://127\.0\.0\.1:\d+)`)
	sc := bufio.NewScanner(stdout)
	url := ""
	for url == "" && sc.Scan() {
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("lowfare dev did not print its URL:\n%s", devErr.String())
	}
	go func() {
		for sc.Scan() {
		}
	}()

	// Terminal 2: the rest, line by line, stopping at the first failure.
	tour := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-x", "-c", strings.Join(script, "\n"))
	tour.Dir, tour.Env = work, append(env, "URL="+url)
	out, err := tour.CombinedOutput()
	if err != nil {
		t.Fatalf("a README tour line failed: %v\n%s\nlowfare dev:\n%s", err, out, devErr.String())
	}
	for _, want := range []string{`"slug":"golang"`, "302 -> https://go.dev", "diff: no differences", "Monthly estimate", "Image sha256:"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the tour's output lacks %q:\n%s", want, out)
		}
	}
}

// The README's Layout section names every package of the module (cmd/*,
// internal/*, tools/*, bench/*), so a new package cannot go unexplained
// and a removed one does not linger there.
func TestReadmeLayoutNamesEveryPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, layout, ok := strings.Cut(string(data), "\n## Layout\n")
	if !ok {
		t.Fatal("README has no '## Layout' section")
	}
	layout, _, _ = strings.Cut(layout, "\n## ")
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`((?:cmd|internal|tools|bench)/[a-z0-9/]+)`").FindAllStringSubmatch(layout, -1) {
		named[m[1]] = true
	}
	packages := map[string]bool{}
	for _, top := range []string{"cmd", "internal", "tools", "bench"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".go") {
				rel, _ := filepath.Rel(root, filepath.Dir(path))
				packages[filepath.ToSlash(rel)] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for p := range packages {
		if !named[p] {
			t.Errorf("README's Layout does not name package %s: add it with its job", p)
		}
	}
	for p := range named {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("README's Layout names %s, which does not exist", p)
		}
	}
}

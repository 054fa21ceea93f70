package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeApp writes a small Go app (not links) with the given main.go in
// cmd/server below a module, and a spec that points at it.
func writeApp(t *testing.T, mainGo, spec string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"go.mod":                "module example.com/shelf\n\ngo 1.24\n",
		"cmd/server/main.go":    mainGo,
		"lowfare.yaml":          spec,
		"cmd/server/version.go": "package main\n\nconst version = \"v1\"\n",
	} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "lowfare.yaml")
}

const literalPortMain = `package main

import "net/http"

func main() {
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {})
	http.ListenAndServe(":8081", nil)
}
`

// plan warns when the app's source listens on a literal port and never
// reads $PORT: where the literal is, what goes wrong and what to do. An
// app that reads $PORT gets no such warning.
func TestPlanWarnsOfALiteralPort(t *testing.T) {
	for name, tt := range map[string]struct {
		main, spec string
		want       []string // empty: no port warning
	}{
		"literal, other port": {literalPortMain, "app: shelf\nservice: {image: ./cmd/server, port: 8080, health: {path: /healthz}}\n",
			[]string{"main.go:7", `":8081"`, "$PORT", "port 8080", `os.Getenv("PORT")`}},
		"literal, same port": {literalPortMain, "app: shelf\nservice: {image: ./cmd/server, port: 8081, health: {path: /healthz}}\n",
			[]string{"main.go:7", `":8081"`, "$PORT", "lowfare dev", `os.Getenv("PORT")`}},
		"reads PORT": {strings.Replace(literalPortMain, `":8081"`, `":"+os.Getenv("PORT")`, 1), "app: shelf\nservice: {image: ./cmd/server, port: 8080, health: {path: /healthz}}\n", nil},
	} {
		code, stdout, stderr := runCmd(t, "plan", "-f", writeApp(t, tt.main, tt.spec))
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", name, code, stdout, stderr)
		}
		_, warnings, _ := strings.Cut(stdout, "\nWarnings:")
		var line string
		for l := range strings.SplitSeq(warnings, "\n") {
			if strings.Contains(l, "$PORT") {
				line = l
			}
		}
		if len(tt.want) == 0 {
			if line != "" {
				t.Errorf("%s: unexpected port warning %q", name, line)
			}
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: want %q in the port warning %q\nwarnings:%s", name, w, line, warnings)
			}
		}
	}
}

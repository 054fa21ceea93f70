package gosrc

import (
	"path/filepath"
	"slices"
	"testing"
)

const envDefault = `package main

import (
	"cmp"
	"net/http"
	"os"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(http.ResponseWriter, *http.Request) {})
	http.ListenAndServe(":"+cmp.Or(os.Getenv("PORT"), "3000"), mux)
}
`

func TestParseMainGuesses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		file  string // "" = no main package
		port  Port   // Number 0 = none found
		route string
		at    string // where the route is
	}{
		{"env default", map[string]string{"main.go": envDefault}, "main.go",
			Port{Number: 3000, At: "main.go:12", Literal: "3000", EnvDefault: true, ReadsEnv: true}, "/health", "main.go:11"},
		{"literal port", map[string]string{"server.go": "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.HandleFunc(\"/healthz\", nil)\n\thttp.ListenAndServe(\":9000\", nil)\n}\n"}, "server.go",
			Port{Number: 9000, At: "server.go:7", Literal: ":9000"}, "/healthz", "server.go:6"},
		{"lookupenv default with a colon", map[string]string{"main.go": "package main\n\nimport \"os\"\n\nfunc addr() string {\n\tif p, ok := os.LookupEnv(\"PORT\"); ok {\n\t\treturn \":\" + p\n\t}\n\treturn \":8081\"\n}\n"}, "main.go",
			Port{Number: 8081, At: "main.go:9", Literal: ":8081", EnvDefault: true, ReadsEnv: true}, "", ""},
		{"a default too far below is a listen address", map[string]string{"main.go": "package main\n\nimport \"os\"\n\nvar p = os.Getenv(\"PORT\")\n\n\n\n\n\n\nvar addr = \":7000\"\n"}, "main.go",
			Port{Number: 7000, At: "main.go:12", Literal: ":7000", ReadsEnv: true}, "", ""},
		{"a listen address with a local host", map[string]string{"main.go": "package main\n\nconst site = \"example.com:443\"\n\nfunc main() { listen(\"0.0.0.0:8081\") }\n"}, "main.go",
			Port{Number: 8081, At: "main.go:5", Literal: "0.0.0.0:8081"}, "", ""},
		{"out of range and not a number", map[string]string{"main.go": "package main\n\nconst a, b, c = \":70000\", \":0\", \":http\"\n\nfunc main() {}\n"}, "main.go",
			Port{}, "", ""},
		{"healthz wins over health", map[string]string{"a.go": "package main\n\nconst h = \"/health\"\n", "b.go": "package main\n\nconst z = \"/healthz\"\n\nfunc main() {}\n"}, "a.go",
			Port{}, "/healthz", "b.go:3"},
		{"test files and other packages do not count", map[string]string{"main.go": "package main\n\nfunc main() {}\n", "main_test.go": "package main\n\nconst p = \":1234\"\n", "gen.go": "//go:build ignore\n\npackage gen\n\nconst h = \"/health\"\n"}, "main.go",
			Port{}, "", ""},
		{"a library", map[string]string{"lib.go": "package lib\n\nconst addr = \":9000\"\n"}, "", Port{}, "", ""},
		{"no go files", map[string]string{"README": "hi\n"}, "", Port{}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMain(tree(t, tc.files))
			if err != nil {
				t.Fatal(err)
			}
			if tc.file == "" {
				if m != nil {
					t.Fatalf("ParseMain found a main package in %s", m.File())
				}
				return
			}
			if m == nil {
				t.Fatal("ParseMain found no main package")
			}
			if got := m.File(); got != tc.file {
				t.Errorf("File() = %q; want %q", got, tc.file)
			}
			p, ok := m.Port()
			if p != tc.port || ok != (tc.port.Number != 0) {
				t.Errorf("Port() = %+v, %v; want %+v", p, ok, tc.port)
			}
			route, at, ok := m.HealthPath()
			if route != tc.route || at != tc.at || ok != (tc.route != "") {
				t.Errorf("HealthPath() = %q, %q, %v; want %q at %q", route, at, ok, tc.route, tc.at)
			}
		})
	}
}

func TestParseMainUnreadable(t *testing.T) {
	if m, err := ParseMain(filepath.Join(t.TempDir(), "none")); err == nil || m != nil {
		t.Fatalf("ParseMain of a missing directory = %v, %v; want an error", m, err)
	}
}

func TestParseMainSecrets(t *testing.T) {
	src := "package main\n\nimport \"os\"\n\nfunc main() {\n" +
		"\t_ = os.Getenv(\"API_KEY\")\n" + // line 6
		"\t_, _ = os.LookupEnv(\"SESSION_SECRET\")\n" +
		"\t_ = os.Getenv(\"API_KEY\")\n" + // once
		"\t_ = os.Getenv(\"DB_PASSWORD\")\n" +
		"\t_ = os.Getenv(\"ADMIN_TOKEN\")\n" +
		"\t_ = os.Getenv(\"TABLE_NAME\")\n" + // not a secret's name
		"\t_ = os.Getenv(\"AWS_SECRET_ACCESS_KEY\")\n" + // the SDK's: the role gives it
		"\t_ = os.Getenv(\"PGPASSWORD\")\n" + // lowfare sets it with a database
		"\t_ = os.Getenv(\"KEYBOARD\")\n" +
		"\tname := \"X_TOKEN\"\n\t_ = os.Getenv(name)\n" + // not a literal: unknown
		"}\n"
	m, err := ParseMain(tree(t, map[string]string{"main.go": src}))
	if err != nil || m == nil {
		t.Fatal(m, err)
	}
	want := []Secret{{"API_KEY", "main.go:6"}, {"SESSION_SECRET", "main.go:7"}, {"DB_PASSWORD", "main.go:9"}, {"ADMIN_TOKEN", "main.go:10"}}
	if got := m.Secrets(); !slices.Equal(got, want) {
		t.Errorf("Secrets() = %v\nwant %v", got, want)
	}
}

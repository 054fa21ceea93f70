package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// project writes files under a fresh directory and returns the spec's path.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "lowfare.yaml")
}

const mainGo = "package main\n\nfunc main() {}\n"

// A service.image path that cannot be built is a plan
// warning that says what to do, and deploy refuses it before any AWS call.
func TestPlanWarnsAboutAnUnbuildableImagePath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // "" = no warning
	}{
		{"missing", map[string]string{"go.mod": "module x\n"}, "does not exist"},
		{"no go files", map[string]string{"go.mod": "module x\n", "cmd/app/README": "hi"}, "has no Go files"},
		{"not main", map[string]string{"go.mod": "module x\n", "cmd/app/lib.go": "package lib\n"}, "is package lib, not a main package"},
		{"no module", map[string]string{"cmd/app/main.go": mainGo}, "not inside a Go module"},
		{"buildable", map[string]string{"go.mod": "module x\n", "cmd/app/main.go": mainGo}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.files["lowfare.yaml"] = "app: links\nenv: dev\nservice:\n  image: ./cmd/app\n"
			file := project(t, tc.files)
			code, out, errOut := runCmd(t, "plan", "-f", file)
			if code != 0 {
				t.Fatalf("plan exit %d: %s", code, errOut)
			}
			warnings := out[strings.Index(out, "\nWarnings"):]
			if tc.want == "" {
				if strings.Contains(warnings, "service.image") {
					t.Errorf("a buildable package is warned about:\n%s", warnings)
				}
				return
			}
			if !strings.Contains(warnings, "service: service.image ./cmd/app") || !strings.Contains(warnings, tc.want) {
				t.Errorf("warnings lack %q:\n%s", tc.want, warnings)
			}
			isolateAWS(t)
			code, _, errOut = runCmd(t, "deploy", "-f", file)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("deploy: exit %d, %q; want exit 2 naming the problem", code, errOut)
			}
		})
	}
}

// isolateAWS leaves no credentials and no endpoint, so a command that
// called AWS would fail with exit 1, not 2.
func isolateAWS(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "c"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "k"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "",
	} {
		t.Setenv(k, v)
	}
}

// Over budget and placeholder emails are warnings in the
// list, so "Warnings: none" never precedes "OVER BUDGET".
func TestPlanWarningsIncludeBudgetAndPlaceholderEmails(t *testing.T) {
	file := project(t, map[string]string{
		"go.mod": "module x\n", "cmd/links/main.go": mainGo,
		"lowfare.yaml": "app: links\nenv: dev\n",
	})
	code, out, errOut := runCmd(t, "plan", "-f", file)
	if code != 0 {
		t.Fatalf("plan exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "Warnings: none") {
		t.Fatalf("the default spec plans with no warnings:\n%s", out)
	}
	for _, want := range []string{
		"budget: the estimate, $34.68 a month without free tier, is over budget.monthly_usd $10.00 (347% of it)",
		"budget.emails: ops@example.com is a placeholder address",
		"alarms.emails: ops@example.com is a placeholder address",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan warnings lack %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "Warnings:"), strings.Index(out, "is over budget"); i < 0 || j < i {
		t.Errorf("the budget warning is not in the warnings list")
	}
	// A real address is not a placeholder.
	for e, want := range map[string]bool{"ops@example.com": true, "a@mail.example.org": true, "me@test.test": true, "ops@lowfare.dev": false, "x@examples.com": false} {
		if got := placeholderEmail(e); got != want {
			t.Errorf("placeholderEmail(%q) = %v", e, got)
		}
	}
}

// --profile is the lowfare profile, only for init;
// elsewhere it is refused with a pointer to --aws-profile.
func TestProfileFlagMeansOneThing(t *testing.T) {
	file := specFile(t, "app: links\nenv: dev\n")
	for _, args := range [][]string{
		{"plan", "--profile", "serverless", "-f", file},
		{"cost", "--profile", "serverless", "-f", file},
		{"status", "--profile", "work", "-f", file},
		{"secrets", "list", "--profile", "work", "-f", file},
	} {
		code, _, errOut := runCmd(t, args...)
		if code != ExitUsage || !strings.Contains(errOut, "--aws-profile") || !strings.Contains(errOut, "'profile:' field") {
			t.Errorf("%v: exit %d, %q; want 2 pointing at --aws-profile and the spec field", args, code, errOut)
		}
	}
	code, out, errOut := runCmd(t, "init", "--profile", "serverless", "-f", "-")
	if code != 0 || !strings.Contains(out, "profile: serverless") {
		t.Errorf("init --profile serverless: exit %d %s", code, errOut)
	}
	isolateAWS(t)
	code, _, errOut = runCmd(t, "status", "--aws-profile", "nosuch", "-f", file)
	if code != ExitFailure || !strings.Contains(errOut, `AWS profile "nosuch" (--aws-profile) is not in ~/.aws/config`) {
		t.Errorf("status --aws-profile nosuch: exit %d, %q", code, errOut)
	}
}

// -f is the spec file in logs too; the old 'logs -f' use
// gets an error that names --follow.
func TestLogsDashFIsTheSpecFile(t *testing.T) {
	for _, args := range [][]string{{"logs", "-f"}, {"logs", "-f", "--since", "1h"}} {
		code, _, errOut := runCmd(t, args...)
		if code != ExitUsage || !strings.Contains(errOut, "-f is the spec file") || !strings.Contains(errOut, "--follow") {
			t.Errorf("%v: exit %d, %q; want 2 pointing at --follow", args, code, errOut)
		}
	}
	// -f FILE reaches the spec loader like everywhere else.
	code, _, errOut := runCmd(t, "logs", "-f", filepath.Join(t.TempDir(), "nothere.yaml"))
	if code != ExitUsage || !strings.Contains(errOut, "nothere.yaml does not exist") {
		t.Errorf("logs -f nothere.yaml: exit %d, %q", code, errOut)
	}
}

// A region without built-in prices says how to price it
// with this spec's path, without placeholders or source-tree paths.
func TestPlanUnpricedRegionHint(t *testing.T) {
	file := specFile(t, "app: links\nenv: dev\nregion: ap-south-2\n")
	code, out, errOut := runCmd(t, "plan", "-f", file)
	if code != 0 {
		t.Fatalf("plan exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "lowfare cost -f "+file+" --prices prices.json") || !strings.Contains(out, "lowfare cost --print-prices") {
		t.Errorf("plan's hint:\n%s", out)
	}
	for _, bad := range []string{"<spec>", "internal/cost"} {
		if strings.Contains(out, bad) {
			t.Errorf("plan's hint shows %q:\n%s", bad, out)
		}
	}
	code, out, _ = runCmd(t, "cost", "--print-prices")
	if code != 0 || !json.Valid([]byte(out)) || !strings.Contains(out, `"us-east-1"`) {
		t.Errorf("cost --print-prices: exit %d", code)
	}
	code, _, errOut = runCmd(t, "plan", "-f", specFile(t, "app: links\nenv: dev\nregion: us-east-9\n"))
	if code != ExitUsage || !strings.Contains(errOut, ":3:9 region:") || !strings.Contains(errOut, "did you mean us-east-1?") {
		t.Errorf("region us-east-9: exit %d, %q", code, errOut)
	}
}

// --format json on plan and version; completion of flag
// values.
func TestJSONFormatsAndCompletion(t *testing.T) {
	file := specFile(t, "app: links\nenv: dev\n")
	code, out, errOut := runCmd(t, "plan", "-f", file, "--format", "json")
	if code != 0 {
		t.Fatalf("plan --format json: exit %d %s", code, errOut)
	}
	var plan struct {
		App      string `json:"app"`
		Stacks   []struct{ Name string }
		Warnings []struct{ Part, Message string }
		Estimate *struct {
			TotalUSD float64 `json:"total_usd"`
		}
		Resources []struct {
			Type string `json:"type"`
		}
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("plan --format json is not JSON: %v\n%s", err, out)
	}
	if plan.App != "links" || len(plan.Stacks) != 2 || len(plan.Resources) < 10 || plan.Estimate == nil || plan.Estimate.TotalUSD < 30 || len(plan.Warnings) == 0 {
		t.Errorf("plan JSON: %+v", plan)
	}

	code, out, _ = runCmd(t, "version", "--format", "json")
	var v versionInfo
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Go == "" || v.Version == "" {
		t.Errorf("version --format json: exit %d %q", code, out)
	}
	if code, _, _ = runCmd(t, "plan", "--format", "yaml", "-f", file); code != ExitUsage {
		t.Errorf("plan --format yaml: exit %d, want 2", code)
	}

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"plan", "--format", ""}, []string{"text", "json"}},
		{[]string{"synth", "--format", ""}, []string{"json", "yaml"}},
		{[]string{"cost", "--free-tier", ""}, []string{"none", "legacy", "credits"}},
		{[]string{"data", "import", "--mode", ""}, []string{"skip-existing", "overwrite"}},
		{[]string{"init", "--profile", ""}, []string{"free", "ha", "serverless"}},
		{[]string{"plan", "--region", "eu-central"}, []string{"eu-central-1", "eu-central-2"}},
	} {
		_, out, _ := runCmd(t, append([]string{"__complete"}, tc.args...)...)
		for _, w := range tc.want {
			if !strings.Contains(out, w+"\n") {
				t.Errorf("completion of %v lacks %s:\n%s", tc.args, w, out)
			}
		}
	}
}

// init's schema pointer and 'lowfare schema': init
// writes a modeline that names lowfare.schema.json, writes that file beside
// the spec, and the spec it wrote validates against it.
func TestInitWritesTheSchemaBesideTheSpec(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "elsewhere", "app")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "lowfare.yaml")
	code, out, errOut := runCmd(t, "init", "-f", file)
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, filepath.Join(dir, "lowfare.schema.json")) {
		t.Errorf("init does not say where the schema went: %s", out)
	}
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(text), "\n")
	if first != "# yaml-language-server: $schema=lowfare.schema.json" {
		t.Fatalf("first line %q is not the modeline", first)
	}
	written, err := os.ReadFile(filepath.Join(dir, "lowfare.schema.json"))
	if err != nil {
		t.Fatalf("the modeline points at a file that does not exist: %v", err)
	}
	code, printed, _ := runCmd(t, "schema")
	if code != 0 || printed != string(written) {
		t.Errorf("lowfare schema (exit %d) differs from the file init wrote", code)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(printed))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("lowfare.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("lowfare.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(text, &v); err != nil {
		t.Fatal(err)
	}
	if j, _ := json.Marshal(v); json.Unmarshal(j, &v) == nil {
		if err := sch.Validate(v); err != nil {
			t.Errorf("the spec init wrote does not validate against the schema beside it: %v", err)
		}
	}
	// The examples point at the committed schema, a path that exists.
	examples, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	for _, ex := range examples {
		data, _ := os.ReadFile(ex)
		line, _, _ := strings.Cut(string(data), "\n")
		rel, ok := strings.CutPrefix(line, "# yaml-language-server: $schema=")
		if !ok {
			t.Errorf("%s has no modeline", ex)
			continue
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(ex), rel)); err != nil {
			t.Errorf("%s: the modeline points at %s: %v", ex, rel, err)
		}
	}
}

// The smaller first-run details.
func TestFirstRunDetails(t *testing.T) {
	b, src := dataWorld(t, 30)

	// export: the segments it scanned with, and a rate no higher than the
	// one it announced.
	code, _, errOut := runCmdInput(t, "", "data", "export", "--dynamodb-endpoint", b.Endpoint, "--table", src, "--segments", "4", "--rate", "20", "-o", filepath.Join(t.TempDir(), "x.jsonl"))
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "(20 RCU/s)") || !strings.Contains(errOut, "scan segments: 1 of the 4 asked for") {
		t.Errorf("export's messages:\n%s", errOut)
	}
	m := regexp.MustCompile(`exported \d+ items in \S+ \(\d+ items/s, ([\d.]+) RCU/s\)`).FindAllStringSubmatch(errOut, -1)
	if len(m) == 0 {
		t.Fatalf("export printed no progress line:\n%s", errOut)
	}
	for _, line := range m {
		if rate, _ := strconv.ParseFloat(line[1], 64); rate > 20.05 {
			t.Errorf("export announced 20 RCU/s and reports %s", line[0])
		}
	}

	// import: no progress line twice.
	file := filepath.Join(t.TempDir(), "links.jsonl")
	if code, _, errOut := runCmdInput(t, "", "data", "export", "--dynamodb-endpoint", b.Endpoint, "--table", src, "--rate", "unlimited", "-o", file); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	code, _, errOut = runCmdInput(t, "", "data", "import", "--dynamodb-endpoint", b.Endpoint, "--table", emptyTable(t, b), "--rate", "unlimited", file)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(line, "imported ") {
			if seen[line] {
				t.Errorf("import printed %q twice:\n%s", line, errOut)
			}
			seen[line] = true
		}
	}
	if len(seen) == 0 {
		t.Errorf("import printed no progress line:\n%s", errOut)
	}

	// secrets set with standard input from /dev/null: not a terminal.
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	var out, errb strings.Builder
	code = Execute(t.Context(), []string{"secrets", "set", "ADMIN_TOKEN", "-f", specFile(t, "app: links\nenv: dev\n")}, devnull, &out, &errb)
	if code != ExitUsage || strings.Contains(errb.String(), "terminal") || !strings.Contains(errb.String(), "is empty") {
		t.Errorf("secrets set < /dev/null: exit %d, %q", code, errb.String())
	}
	if isTTY(devnull) {
		t.Error("/dev/null is taken for a terminal")
	}

	// The serverless plan does not mention target tracking it lacks.
	code, plan, errOut := runCmd(t, "plan", "-f", specFile(t, "app: links\nenv: dev\nprofile: serverless\nservice:\n  image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/links:v1\n"))
	if code != 0 || strings.Contains(strings.ToLower(plan), "target tracking") {
		t.Errorf("serverless plan: exit %d %s\n%s", code, errOut, plan)
	}
	if _, plan, _ := runCmd(t, "plan", "-f", specFile(t, "app: links\nenv: dev\n")); !strings.Contains(plan, "target tracking counts 2") {
		t.Errorf("the ECS plan lost its target-tracking note:\n%s", plan)
	}
}

// Image build of a path that is not a main package says
// what to do, once, with exit 2, instead of go build's error twice.
func TestImageBuildRefusesAnUnbuildablePath(t *testing.T) {
	file := project(t, map[string]string{"go.mod": "module x\n", "lowfare.yaml": "app: links\nenv: dev\nservice:\n  image: ./cmd/nothere\n"})
	code, out, errOut := runCmd(t, "image", "build", "-f", file)
	if code != ExitUsage || !strings.Contains(errOut, "service.image ./cmd/nothere") || !strings.Contains(errOut, "does not exist") {
		t.Fatalf("image build: exit %d\n%s%s", code, out, errOut)
	}
	if n := strings.Count(out+errOut, "does not exist"); n != 1 {
		t.Errorf("the problem is said %d times:\n%s%s", n, out, errOut)
	}
}

// Version from the build information when there is no
// VCS stamp.
func TestReadVersion(t *testing.T) {
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "1d6b5603613771396fe0391c75f3a7795e863532"}, {Key: "vcs.time", Value: "2026-12-01T09:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"lowfare devel (1d6b5603613771396fe0391c75f3a7795e863532, modified, 2026-12-01T09:00:00Z), go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201095751-1d6b56036137"}},
			"lowfare v0.0.0-20261201095751-1d6b56036137 (1d6b56036137), go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}}, "lowfare v1.2.0, go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "lowfare devel (no VCS stamp: built outside a git checkout or with -buildvcs=false), go1.26.8"},
	} {
		if got := readVersion(tc.bi, true).String(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("version = %q, want %q...", got, tc.want)
		}
	}
}

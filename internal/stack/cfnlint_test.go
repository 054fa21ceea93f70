package stack

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/testutil"
)

// lintRegions are the regions of internal/cost's price table; the matrix
// spreads its specs over them, and each template is linted against its own.
var lintRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1"}

// knownInformational are the informational findings cfn-lint may report on
// the matrix, each explained in docs/architecture.md ("cfn-lint"). Errors
// and warnings are never allowed; a new informational finding fails the
// test until it is fixed or explained there.
var knownInformational = map[string]func(path []any) bool{
	// I3011 asks for explicit DeletionPolicy/UpdateReplacePolicy on
	// stateful resources; the log groups (LogGroup, the idle controller's
	// WakeLogGroup) are deleted with the stack on purpose: logs live for
	// logs.retention_days, not beyond the app.
	"I3011": func(path []any) bool {
		return len(path) >= 2 && path[0] == "Resources" && strings.HasSuffix(fmt.Sprint(path[1]), "LogGroup")
	},
}

// lintMatrix is every example plus specs generated over profile x ingress,
// each meeting every TLS kind (none, a certificate ARN, a hosted zone) and
// every sleep kind (none, schedule, idle, both; idle serving the page or
// the app: profile free only), with billing, arch/spot and region varied
// along the way, and one spec with the most tags a spec may have. (A
// function URL takes no domain: url meets only http.)
func lintMatrix(t *testing.T) []specCase {
	t.Helper()
	cases := exampleSpecs(t)
	type tls struct {
		name string
		set  func(*spec.Ingress)
	}
	tlsKinds := []tls{
		{"http", func(*spec.Ingress) {}},
		{"cert", func(in *spec.Ingress) {
			in.Domain = "links.example.com"
			in.CertificateARN = "arn:aws:acm:REGION:123456789012:certificate/0d7ba3e5-6b8c-4bd3-9a94-3f4c1f1b2f11"
		}},
		{"zone", func(in *spec.Ingress) { in.Domain, in.HostedZoneID = "links.example.com", "Z0123456789ABCDEFGHIJ" }},
	}
	type sleep struct {
		name            string
		schedule, idle  bool
		onlyFreeProfile bool
		serve           string // service.idle.serve
	}
	sleeps := []sleep{{name: "awake"}, {"schedule", true, false, true, ""}, {"idle", false, true, true, spec.ServePage},
		{"schedule-idle", true, true, true, spec.ServePage}, {"idle-app", false, true, true, spec.ServeApp},
		{"schedule-idle-app", true, true, true, spec.ServeApp}}
	profiles := []struct{ profile, ingress string }{
		{spec.ProfileFree, spec.IngressALB}, {spec.ProfileFree, spec.IngressAPIGW},
		{spec.ProfileHA, spec.IngressALB}, {spec.ProfileHA, spec.IngressAPIGW},
		{spec.ProfileServerless, spec.IngressURL}, {spec.ProfileServerless, spec.IngressAPIGW},
	}
	// Each profile and ingress meets every TLS kind and every sleep kind
	// (zipped, not multiplied: cfn-lint costs about half a second of CPU
	// per template, and the machine is shared).
	i := 0
	for _, p := range profiles {
		var sl []sleep
		for _, x := range sleeps {
			if !x.onlyFreeProfile || p.profile == spec.ProfileFree {
				sl = append(sl, x)
			}
		}
		tk := tlsKinds
		if p.ingress == spec.IngressURL {
			tk = tlsKinds[:1]
		}
		for j := range max(len(tk), len(sl)) {
			tk, sl := tk[j%len(tk)], sl[j%len(sl)]
			region := lintRegions[i%len(lintRegions)]
			s := variant(func(s *spec.Spec) {
				s.Region = region
				s.Profile = p.profile
				if p.profile == spec.ProfileHA {
					s.Service.Count = spec.Count{Desired: 2, Min: 2, Max: 4}
				}
				s.Ingress = spec.Ingress{Kind: p.ingress}
				tk.set(&s.Ingress)
				s.Ingress.CertificateARN = strings.Replace(s.Ingress.CertificateARN, "REGION", region, 1)
				if i%2 == 1 {
					s.Table.Billing = spec.BillingOnDemand
				}
				switch {
				case i%3 == 1:
					s.Service.Arch = spec.ArchX8664
				case i%3 == 2 && s.ECS():
					s.Service.Arch, s.Service.Spot = spec.ArchX8664, true
				}
				if sl.schedule {
					s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-20:00"}
				}
				if sl.idle {
					s.Service.Idle = &spec.Idle{After: "15m", Serve: sl.serve}
				}
			})
			cases = append(cases, specCase{name: fmt.Sprintf("%s-%s-%s-%s", p.profile, p.ingress, tk.name, sl.name), spec: s})
			i++
		}
	}
	cases = append(cases, specCase{name: "tags-most", spec: variant(func(s *spec.Spec) { s.Tags = manyTags(spec.MaxTags) })})
	return cases
}

// lintCanary is a template with one known error (a misspelt property,
// cfn-lint's E3002). Each cfn-lint process lints it beside the matrix and
// must report it, so a cfn-lint that checks nothing (no schemas, a changed
// output format, arguments it ignores) fails the test instead of passing
// it with zero findings.
const lintCanary = `{"AWSTemplateFormatVersion":"2010-09-09","Resources":{"Topic":{"Type":"AWS::SNS::Topic","Properties":{"DisplayNam":"x"}}}}`

// isCanaryFinding reports whether f is the finding lintCanary must raise.
func isCanaryFinding(f cfnLintFinding) bool {
	return f.Level == "Error" && f.Rule.Id == "E3002" && fmt.Sprint(f.Location.Path) == "[Resources Topic Properties DisplayNam]"
}

// cfnLintFinding is one entry of cfn-lint's JSON output.
type cfnLintFinding struct {
	Level    string
	Message  string
	Filename string
	Rule     struct{ Id string }
	Location struct{ Path []any }
}

// TestCfnLintMatrix runs AWS's CloudFormation linter (cfn-lint, with its
// own, newer resource schemas) over every template of the matrix: zero
// errors and zero warnings, and only the informational findings
// docs/architecture.md explains. Identical templates are linted once, and
// each region's files go to one cfn-lint process (about 1.5 s to start).
func TestCfnLintMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cfn-lint over 30 templates (about 25 s of CPU)")
	}
	lint := testutil.CfnLint(t)
	dir := t.TempDir()
	byRegion := map[string][]string{}
	seen := map[[32]byte]bool{}
	n := 0
	for _, c := range lintMatrix(t) {
		r, err := Build(c.spec)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		n++
		for kind, tmpl := range map[string]interface{ JSON() ([]byte, error) }{"bootstrap": r.Bootstrap, "main": r.Main} {
			if kind == "bootstrap" && r.Bootstrap == nil {
				continue // an image reference has no bootstrap stack
			}
			body, err := tmpl.JSON()
			if err != nil {
				t.Fatal(err)
			}
			key := sha256.Sum256(body) // the bootstrap templates are mostly alike
			if seen[key] {
				continue
			}
			seen[key] = true
			f := filepath.Join(dir, c.name+"."+kind+".json")
			if err := os.WriteFile(f, body, 0o644); err != nil {
				t.Fatal(err)
			}
			byRegion[c.spec.Region] = append(byRegion[c.spec.Region], f)
		}
	}
	for region := range byRegion {
		f := filepath.Join(dir, "lint-canary."+region+".json")
		if err := os.WriteFile(f, []byte(lintCanary), 0o644); err != nil {
			t.Fatal(err)
		}
		byRegion[region] = append(byRegion[region], f)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		findings []cfnLintFinding
		files    int
	)
	for region, list := range byRegion {
		files += len(list)
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append([]string{"--format", "json", "--include-checks", "I", "--regions", region, "--"}, list...)
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(lint, args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run() // non-zero whenever there are findings
			var got []cfnLintFinding
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Errorf("cfn-lint %s: %v (%v)\n%s\n%s", region, err, runErr, stdout.String(), stderr.String())
				return
			}
			mu.Lock()
			findings = append(findings, got...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("cfn-lint: %d specs, %d distinct templates over %d regions, %d findings", n, files, len(byRegion), len(findings))

	sort.Slice(findings, func(i, j int) bool { return findings[i].Filename < findings[j].Filename })
	informational := map[string][]string{}
	canaries := map[string]bool{}
	for _, f := range findings {
		if strings.HasPrefix(filepath.Base(f.Filename), "lint-canary.") {
			canaries[filepath.Base(f.Filename)] = canaries[filepath.Base(f.Filename)] || isCanaryFinding(f)
			continue
		}
		where := fmt.Sprintf("%s %v", filepath.Base(f.Filename), f.Location.Path)
		if known := knownInformational[f.Rule.Id]; f.Level == "Informational" && known != nil && known(f.Location.Path) {
			informational[f.Rule.Id] = append(informational[f.Rule.Id], where)
			continue
		}
		t.Errorf("cfn-lint %s %s at %s: %s", f.Level, f.Rule.Id, where, f.Message)
	}
	for id, at := range informational {
		t.Logf("informational %s (explained in docs/architecture.md) at %d places", id, len(at))
	}
	for region := range byRegion {
		if name := "lint-canary." + region + ".json"; !canaries[name] {
			t.Errorf("cfn-lint %s did not report the misspelt property in %s: it is not checking the templates (is its schema data installed?)", region, name)
		}
	}
}

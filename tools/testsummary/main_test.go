package main

import (
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"run","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"=== RUN   TestB\n"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: no chromium binary found (apt-get install chromium)\n"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"--- SKIP: TestB (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestB"}`,
		`{"Action":"run","Package":"p","Test":"TestC"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: got 1, want 2\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestC"}`,
		`{"Action":"fail","Package":"p","Elapsed":1.5}`,
		`{"Action":"skip","Package":"q"}`,
	}, "\n")
	var out strings.Builder
	if run(strings.NewReader(in), &out, false) {
		t.Error("a failed test did not fail the run")
	}
	got := out.String()
	for _, want := range []string{
		"--- FAIL p TestC\n    c_test.go:3: got 1, want 2\n",
		"FAIL: 3 tests ran: 1 passed, 1 failed, 1 skipped; failed packages: p (1× no chromium binary found (apt-get install chromium))\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	out.Reset()
	if !run(strings.NewReader(`{"Action":"pass","Package":"p","Test":"TestA"}`+"\n"+`{"Action":"pass","Package":"p","Elapsed":0.2}`), &out, false) {
		t.Errorf("a passing run failed:\n%s", out.String())
	}
	if !strings.HasSuffix(out.String(), "PASS: 1 tests ran: 1 passed, 0 failed, 0 skipped\n") {
		t.Errorf("summary: %q", out.String())
	}
	out.Reset()
	if run(strings.NewReader("# p\n./x.go:1:1: syntax error\nFAIL\tp [build failed]\n"), &out, false) {
		t.Error("a build failure passed")
	}
}

// skipped is the go test -json of one test that skipped with reason.
func skipped(test, reason string) string {
	return strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"` + test + `"}`,
		`{"Action":"output","Package":"p","Test":"` + test + `","Output":"    x_test.go:9: ` + reason + `\n"}`,
		`{"Action":"output","Package":"p","Test":"` + test + `","Output":"--- SKIP: ` + test + ` (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"` + test + `"}`,
	}, "\n")
}

// With -strict-skips, only the expected skips pass: a missing tool, an
// early-development skip or a -short skip in a full run fails it.
func TestStrictSkips(t *testing.T) {
	for _, c := range []struct {
		reason string
		strict bool
		ok     bool
	}{
		{"run by TestLiveLineOnATerminal", true, true},
		{"moto does not serialise concurrent writes to one item (lost updates, two winners of a conditional put)", true, true},
		{"no chromium binary found (apt-get install chromium)", true, false},
		{"cfn-lint not on PATH (set LOWFARE_REQUIRE_CFNLINT=1 to make this a failure)", true, false},
		{"-short: builds images and runs their binaries", true, false},
		{"internal/links/store not present", true, false},
		{"no chromium binary found (apt-get install chromium)", false, true},
	} {
		var out strings.Builder
		in := skipped("TestA", c.reason) + "\n" + `{"Action":"pass","Package":"p","Elapsed":0.1}`
		if got := run(strings.NewReader(in), &out, c.strict); got != c.ok {
			t.Errorf("strict %v, skip %q: ok = %v, want %v\n%s", c.strict, c.reason, got, c.ok, out.String())
		}
		if !c.ok && !strings.Contains(out.String(), "not expected in a full run: p TestA: "+c.reason) {
			t.Errorf("skip %q: the output does not name it:\n%s", c.reason, out.String())
		}
	}
	for reason, why := range expectedSkips {
		if why == "" {
			t.Errorf("expected skip %q has no reason", reason)
		}
	}
}

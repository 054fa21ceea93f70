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
	if run(strings.NewReader(in), &out) {
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
	if !run(strings.NewReader(`{"Action":"pass","Package":"p","Test":"TestA"}`+"\n"+`{"Action":"pass","Package":"p","Elapsed":0.2}`), &out) {
		t.Errorf("a passing run failed:\n%s", out.String())
	}
	if !strings.HasSuffix(out.String(), "PASS: 1 tests ran: 1 passed, 0 failed, 0 skipped\n") {
		t.Errorf("summary: %q", out.String())
	}
	out.Reset()
	if run(strings.NewReader("# p\n./x.go:1:1: syntax error\nFAIL\tp [build failed]\n"), &out) {
		t.Error("a build failure passed")
	}
}

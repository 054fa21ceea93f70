package testutil

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
)

// unittestRan is the line Python's unittest runner ends with: "Ran 7 tests
// in 0.123s" ("Ran 1 test in ...").
var unittestRan = regexp.MustCompile(`(?m)^Ran (\d+) tests? in `)

// UnittestRan returns how many tests a Python unittest run reports in its
// output, or an error when the output has no "Ran N tests" line.
func UnittestRan(out []byte) (int, error) {
	m := unittestRan.FindAllSubmatch(out, -1)
	if len(m) == 0 {
		return 0, fmt.Errorf("no %q line in the output: it is not a unittest run", "Ran N tests in")
	}
	return strconv.Atoi(string(m[len(m)-1][1]))
}

// RequireUnittestRan fails the test unless the output of a Python unittest
// run reports at least one test. Before Python 3.12 a run that collects no
// test ("Ran 0 tests", a renamed method, a typo in the class) exits 0, so
// the exit status alone would pass a script that checked nothing.
func RequireUnittestRan(t testing.TB, out []byte) int {
	t.Helper()
	n, err := UnittestRan(out)
	switch {
	case err != nil:
		t.Fatalf("python tests: %v\n%s", err, out)
	case n == 0:
		t.Fatalf("python tests: the run collected no test\n%s", out)
	}
	return n
}

package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestUnittestRan(t *testing.T) {
	for _, c := range []struct {
		out  string
		want int
		ok   bool
	}{
		{"test_a (__main__.T.test_a) ... ok\n\n----------------------------------------------------------------------\nRan 7 tests in 0.412s\n\nOK\n", 7, true},
		{"----------------------------------------------------------------------\nRan 1 test in 0.001s\n\nOK\n", 1, true},
		{"\n----------------------------------------------------------------------\nRan 0 tests in 0.000s\n\nOK\n", 0, true},
		{"Traceback (most recent call last):\nImportError: boto3\n", 0, false},
		{"the log said: Ran 3 tests in a row\n", 0, false}, // not at a line start
	} {
		n, err := UnittestRan([]byte(c.out))
		if n != c.want || (err == nil) != c.ok {
			t.Errorf("UnittestRan(%q) = %d, %v; want %d, ok %v", c.out, n, err, c.want, c.ok)
		}
	}
}

// The format UnittestRan reads is the one this machine's python3 prints,
// for a script with tests and for one that collects none.
func TestUnittestRanReadsPython(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	dir := t.TempDir()
	for body, want := range map[string]int{
		"import unittest\nclass T(unittest.TestCase):\n    def test_a(self): pass\n    def test_b(self): pass\nunittest.main(verbosity=2)\n": 2,
		"import unittest\nclass T(unittest.TestCase):\n    def tset_a(self): pass\nunittest.main(verbosity=2)\n":                             0,
	} {
		p := filepath.Join(dir, "t.py")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(python, p).CombinedOutput() // 3.12 exits 5 on no tests
		if n, err := UnittestRan(out); err != nil || n != want {
			t.Errorf("%d tests: UnittestRan = %d, %v\n%s", want, n, err, out)
		}
	}
}

// Command testsummary reads `go test -json` on standard input, prints each
// package's result as it finishes and the full output of every failed
// test, and ends with one line: how many tests ran, passed, failed and
// were skipped, and why they were skipped (the skip messages, counted).
// It exits 1 when a test or a package failed, so `make test` fails too.
//
// With -strict-skips (tools/test.sh sets it when any LOWFARE_REQUIRE_* is
// set, as CI does) a skip whose reason is not in expectedSkips fails the
// run too: in a full run a skipped test is a test that checked nothing.
//
//	go test -json ./... | go run ./tools/testsummary [-strict-skips]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type key struct{ pkg, test string }

// expectedSkips are the skip reasons a full run (every tool present, no
// -short) may still report, each for a reason that is not a gap in it.
var expectedSkips = map[string]string{
	// internal/cli: TestDeployChild is the half of TestLiveLineOnATerminal
	// that runs inside script(1); run directly, it has nothing to do.
	"run by TestLiveLineOnATerminal": "a child process's half of another test",
	// internal/links/store: the concurrency tests run on dynalite and
	// minidyn; moto 5 cannot tell right from wrong there.
	"moto does not serialise concurrent writes to one item (lost updates, two winners of a conditional put)": "a documented moto limitation; other backends run the test",
}

// summary accumulates the run.
type summary struct {
	out                  io.Writer
	output               map[key][]string
	passed, failed, skip int
	skipReasons          map[string]int
	failedTests          []string
	failedPkgs           []string
	noTests              int
	buildFailed          bool
	// strictSkips makes a skip outside expectedSkips a failure;
	// unexpected counts those skips by reason.
	strictSkips bool
	unexpected  map[string]int
}

// fileLine is the "x_test.go:12: " prefix of a t.Log/t.Skip line.
var fileLine = regexp.MustCompile(`^\s*[\w./-]+\.go:\d+: `)

func newSummary(out io.Writer) *summary {
	return &summary{out: out, output: map[key][]string{}, skipReasons: map[string]int{}, unexpected: map[string]int{}}
}

func (s *summary) add(e event) {
	k := key{e.Package, e.Test}
	switch e.Action {
	case "output":
		s.output[k] = append(s.output[k], e.Output)
		if e.Test == "" && (strings.HasPrefix(e.Output, "# ") || strings.Contains(e.Output, "[build failed]") || strings.Contains(e.Output, "[setup failed]")) {
			s.buildFailed = true
			fmt.Fprint(s.out, e.Output)
		}
	case "pass":
		if e.Test != "" {
			s.passed++
		} else {
			fmt.Fprintf(s.out, "ok   %s %.1fs\n", e.Package, e.Elapsed)
		}
		delete(s.output, k)
	case "skip":
		if e.Test == "" {
			s.noTests++
			break
		}
		s.skip++
		reason := skipReason(s.output[k])
		s.skipReasons[reason]++
		if _, ok := expectedSkips[reason]; s.strictSkips && !ok {
			s.unexpected[reason]++
			fmt.Fprintf(s.out, "--- SKIP not expected in a full run: %s %s: %s\n", e.Package, e.Test, reason)
		}
		delete(s.output, k)
	case "fail":
		if e.Test != "" {
			s.failed++
			s.failedTests = append(s.failedTests, e.Package+"."+e.Test)
			fmt.Fprintf(s.out, "--- FAIL %s %s\n%s", e.Package, e.Test, strings.Join(s.output[k], ""))
		} else {
			s.failedPkgs = append(s.failedPkgs, e.Package)
			// Package-level output (a panic, a timeout) says why.
			fmt.Fprintf(s.out, "FAIL %s %.1fs\n%s", e.Package, e.Elapsed, strings.Join(s.output[k], ""))
		}
		delete(s.output, k)
	}
}

// skipReason is the message a test skipped with: its last logged line
// before "--- SKIP", without the file:line prefix.
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- SKIP") || strings.HasPrefix(l, "=== ") {
			continue
		}
		return strings.TrimSpace(fileLine.ReplaceAllString(lines[i], ""))
	}
	return "no reason given"
}

// line is the closing one-line summary.
func (s *summary) line() string {
	status := "PASS"
	if !s.ok() {
		status = "FAIL"
	}
	msg := fmt.Sprintf("%s: %d tests ran: %d passed, %d failed, %d skipped", status, s.passed+s.failed+s.skip, s.passed, s.failed, s.skip)
	if len(s.failedPkgs) > 0 {
		msg += fmt.Sprintf("; failed packages: %s", strings.Join(s.failedPkgs, ", "))
	}
	if s.skip > 0 {
		var reasons []string
		for r, n := range s.skipReasons {
			reasons = append(reasons, fmt.Sprintf("%d× %s", n, r))
		}
		slices.Sort(reasons)
		msg += " (" + strings.Join(reasons, "; ") + ")"
	}
	if n := len(s.unexpected); n > 0 {
		msg += fmt.Sprintf("; %d skip reason(s) not expected in a full run (install the tool, or add the reason to expectedSkips in tools/testsummary with why)", n)
	}
	return msg
}

func (s *summary) ok() bool {
	return s.failed == 0 && len(s.failedPkgs) == 0 && !s.buildFailed && len(s.unexpected) == 0
}

func run(in io.Reader, out io.Writer, strictSkips bool) bool {
	s := newSummary(out)
	s.strictSkips = strictSkips
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// go test prints build errors as plain text beside the JSON.
			fmt.Fprintln(out, sc.Text())
			if strings.HasPrefix(sc.Text(), "FAIL") || strings.Contains(sc.Text(), "build failed") {
				s.buildFailed = true
			}
			continue
		}
		s.add(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testsummary: reading go test -json:", err)
		s.buildFailed = true
	}
	fmt.Fprintln(out, s.line())
	return s.ok()
}

func main() {
	strict := flag.Bool("strict-skips", false, "fail on a skip whose reason is not one a full run expects")
	flag.Parse()
	if !run(os.Stdin, os.Stdout, *strict) {
		os.Exit(1)
	}
}

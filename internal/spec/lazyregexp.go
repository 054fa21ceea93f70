package spec

import (
	"regexp"
	"sync"
)

// lazyRegexp compiles its expression on first use. Every lowfare command
// links this package, and compiling all its patterns at start-up cost
// milliseconds of the 50 ms budget of commands that never validate a field.
type lazyRegexp struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

func newLazyRegexp(expr string) *lazyRegexp { return &lazyRegexp{expr: expr} }

func (l *lazyRegexp) get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.expr) })
	return l.re
}

func (l *lazyRegexp) MatchString(s string) bool { return l.get().MatchString(s) }

func (l *lazyRegexp) FindStringSubmatch(s string) []string { return l.get().FindStringSubmatch(s) }

func (l *lazyRegexp) String() string { return l.expr }

package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lowfare/lowfare/internal/gosrc"
	"github.com/lowfare/lowfare/internal/spec"
)

// appGuess is what lowfare init can tell about the app in a directory by
// reading its Go source (never by running it). Every field it fills comes
// with a note saying where it came from; what it cannot tell stays at the
// default, and the notes say so.
type appGuess struct {
	image      string // "." when the directory holds a Go main package
	app        string // the module's or the directory's name, made valid
	port       int
	healthPath string
	secrets    []string // variables the source reads whose names say secret
	notes      []string
}

// guessApp reads the non-test .go files of dir, else of the main packages
// below it (cmd/server, cmd/<name>). Only a main package counts: a library
// has no port to guess. Several main packages below dir are listed, and
// none is picked: which one serves is the user's call. The app is named
// after the module (at a module's root) or the directory, whatever it
// holds, so that a Python app or an empty folder gets its own name too.
func guessApp(dir string) appGuess {
	var g appGuess
	abs, err := filepath.Abs(dir)
	if err != nil {
		return g
	}
	g.nameApp(abs)
	m, err := gosrc.ParseMain(abs)
	if err != nil {
		return g
	}
	if m != nil {
		g.image = "."
		g.notes = append(g.notes, fmt.Sprintf("service.image: . (package main in %s)", m.File()))
	} else if m = g.findMainBelow(abs, dir); m == nil {
		return g
	}
	g.notePort(m)
	g.noteHealth(m)
	g.noteSecrets(m)
	return g
}

// findMainBelow looks for main packages below abs: one becomes
// service.image; none or several leave it unset, with a note that says so.
func (g *appGuess) findMainBelow(abs, dir string) *gosrc.Main {
	mains, _ := gosrc.FindMains(abs)
	switch len(mains) {
	case 0:
		g.notes = append(g.notes, fmt.Sprintf("no Go main package in %s or below: service.image stays %q; set it to your main package (such as ./cmd/app) or an image reference", dir, spec.Default().Service.Image))
		return nil
	case 1:
	default:
		pkgs := make([]string, len(mains))
		for i, p := range mains {
			pkgs[i] = "./" + p
		}
		g.notes = append(g.notes, fmt.Sprintf("several Go main packages below %s (%s): service.image stays %q; set it to the one that serves HTTP", dir, strings.Join(pkgs, ", "), spec.Default().Service.Image))
		return nil
	}
	m, err := gosrc.ParseMain(filepath.Join(abs, filepath.FromSlash(mains[0])))
	if err != nil || m == nil {
		return nil
	}
	g.image = "./" + mains[0]
	g.notes = append(g.notes, fmt.Sprintf("service.image: %s (package main in %s/%s)", g.image, mains[0], m.File()))
	return m
}

// nameApp names the app after the module when abs is a module's root (its
// path's last element, without a major version suffix), else after the
// directory, made into a valid name if it is not one.
func (g *appGuess) nameApp(abs string) {
	if mod := gosrc.ModulePath(abs); mod != "" {
		parts := strings.Split(mod, "/")
		last := parts[len(parts)-1]
		if len(parts) > 1 && isMajorVersion(last) {
			last = parts[len(parts)-2]
		}
		if name := appNameFrom(last); name != "" {
			g.app = name
			g.notes = append(g.notes, fmt.Sprintf("app: %s (the module %s)", name, mod))
			return
		}
	}
	base := filepath.Base(abs)
	name := appNameFrom(base)
	switch {
	case name == "":
		name = fallbackApp
		g.notes = append(g.notes, fmt.Sprintf("app: %s (neither the module nor the directory's name %q makes a name; --app sets one)", name, base))
	case name == base:
		g.notes = append(g.notes, fmt.Sprintf("app: %s (the directory's name)", name))
	default:
		g.notes = append(g.notes, fmt.Sprintf("app: %s (from the directory's name %q)", name, base))
	}
	g.app = name
}

// fallbackApp names an app whose module and directory give no name.
const fallbackApp = "app"

func isMajorVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	_, err := strconv.Atoi(s[1:])
	return err == nil
}

// appNameFrom turns a module or directory name into an app name: lower
// case, runs of other characters as one '-', at most 21 characters, a
// letter first; "" when nothing valid is left.
func appNameFrom(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	name := b.String()
	if len(name) > 21 {
		name = strings.TrimRight(name[:21], "-")
	}
	if !validAppName(name) {
		return ""
	}
	return name
}

// notePort takes the port the source gives $PORT or listens on, and says
// where it found it.
func (g *appGuess) notePort(m *gosrc.Main) {
	p, ok := m.Port()
	switch {
	case !ok:
		g.notes = append(g.notes, fmt.Sprintf("service.port stays %d: no listen address or $PORT default found; the app must listen on $PORT", spec.Default().Service.Port))
		return
	case p.EnvDefault:
		g.notes = append(g.notes, fmt.Sprintf("service.port: %d (%s: the default it gives $PORT; lowfare sets PORT=%d)", p.Number, p.At, p.Number))
	default:
		caveat := ""
		if !p.ReadsEnv {
			caveat = "; it does not read $PORT, so keep service.port equal to it"
		}
		g.notes = append(g.notes, fmt.Sprintf("service.port: %d (%s listens on %q%s)", p.Number, p.At, p.Literal, caveat))
	}
	g.port = p.Number
}

// noteHealth takes the health route the source serves, and says where it
// found it.
func (g *appGuess) noteHealth(m *gosrc.Main) {
	path, at, ok := m.HealthPath()
	if !ok {
		g.notes = append(g.notes, fmt.Sprintf("service.health.path stays %s: no %s route found; the app must answer it with 2xx", spec.Default().Service.Health.Path, strings.Join(gosrc.HealthRoutes, " or ")))
		return
	}
	g.healthPath = path
	g.notes = append(g.notes, fmt.Sprintf("service.health.path: %s (%s)", path, at))
}

// noteSecrets takes the variables the source reads whose names say they
// hold secrets: init lists them in service.secrets, so plan, deploy and
// dev name a missing one before the app starts without it.
func (g *appGuess) noteSecrets(m *gosrc.Main) {
	for _, sec := range m.Secrets() {
		g.secrets = append(g.secrets, sec.Name)
		g.notes = append(g.notes, fmt.Sprintf("service.secrets: %s (%s reads it; store it with lowfare secrets set %s, and for lowfare dev in .lowfare/dev/secrets.env)", sec.Name, sec.At, sec.Name))
	}
}

// dropApp forgets the app name guess (--app was given).
func (g *appGuess) dropApp() {
	if g.app == "" {
		return
	}
	g.app = ""
	g.notes = slices.DeleteFunc(g.notes, func(n string) bool { return strings.HasPrefix(n, "app: ") })
}

// apply puts the guesses into s and checks the result as the loader would.
func (g *appGuess) apply(s *spec.Spec) error {
	if g.image == "" {
		return nil
	}
	s.Service.Image = g.image
	if g.port != 0 {
		s.Service.Port = g.port
	}
	if g.healthPath != "" {
		s.Service.Health.Path = g.healthPath
	}
	if len(g.secrets) > 0 {
		s.Service.Secrets = slices.Clone(g.secrets)
	}
	return recheck(s, "lowfare init")
}

func (g *appGuess) print(w io.Writer, dir string) {
	if len(g.notes) == 0 {
		return
	}
	fmt.Fprintf(w, "from %s:\n", dir)
	for _, n := range g.notes {
		fmt.Fprintln(w, "  "+n)
	}
}

// validAppName asks spec, which owns the rule.
func validAppName(name string) bool {
	_, err := spec.New(name, "", "")
	return err == nil
}

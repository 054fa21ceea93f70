package devstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lowfare/lowfare/internal/gosrc"
)

// watchSet is what a build of the app reads from the user's own code: the
// directories of the packages of the main module (and of modules replaced
// by a local directory) that the main package imports, their embed
// patterns, and their go.mod and go.sum. `go list -deps` says which; the
// set is listed again after each build, since an edit can add an import or
// an embed pattern. Only these are looked at, so files the app writes
// next to its sources (a log, a SQLite file) never cause a rebuild.
type watchSet struct {
	pkgDirs []string    // their source files (.go, cgo's, .syso), not _test.go
	embeds  []embedGlob // //go:embed patterns, resolved from their package
	files   []string    // go.mod, go.sum of each module
	root    string      // fallback when go list failed: every Go file of the module
	listErr error       // why go list gave nothing, for the log
}

// embedGlob is one //go:embed pattern of the package in dir.
type embedGlob struct {
	dir, pattern string
	all          bool // "all:" prefix: hidden and _ files in directories count too
}

// listedPackage is the part of `go list -json` a watch set needs.
type listedPackage struct {
	Dir           string
	Standard      bool
	EmbedPatterns []string
	Module        *struct {
		Dir, GoMod string
		Main       bool
		Replace    *struct{ Dir, Version string }
	}
}

// listWatchSet asks go which packages and files the package in pkgDir is
// built from. When go list fails it falls back to every Go file of the
// module (gosrc.SourceStamp), as before embed files were watched.
func listWatchSet(ctx context.Context, goBin, pkgDir string) watchSet {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "list", "-e", "-deps",
		"-json=Dir,Standard,EmbedPatterns,Module", ".")
	cmd.Dir = pkgDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ws watchSet
	if err == nil {
		ws, err = parseWatchSet(out)
	}
	if err != nil || len(ws.pkgDirs) == 0 {
		if err == nil {
			err = errors.New("no package of the main module")
		}
		return watchSet{root: gosrc.ModuleRoot(pkgDir), listErr: fmt.Errorf("go list: %w %s", err, strings.TrimSpace(stderr.String()))}
	}
	return ws
}

// parseWatchSet reads go list -json's stream of packages.
func parseWatchSet(out []byte) (watchSet, error) {
	var ws watchSet
	mods := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return watchSet{}, err
		}
		m := p.Module
		// The user's own code: the main module (or a workspace's), or a
		// module replaced by a directory. Not the standard library or
		// the module cache, which no edit changes.
		if p.Standard || p.Dir == "" || m == nil || !(m.Main || m.Replace != nil && m.Replace.Version == "") {
			continue
		}
		ws.pkgDirs = append(ws.pkgDirs, p.Dir)
		for _, pat := range p.EmbedPatterns {
			g := embedGlob{dir: p.Dir, pattern: pat}
			if rest, ok := strings.CutPrefix(pat, "all:"); ok {
				g.pattern, g.all = rest, true
			}
			ws.embeds = append(ws.embeds, g)
		}
		modDir := m.Dir
		if m.Replace != nil && m.Replace.Dir != "" {
			modDir = m.Replace.Dir
		}
		if modDir != "" && !mods[modDir] {
			mods[modDir] = true
			ws.files = append(ws.files, filepath.Join(modDir, "go.mod"), filepath.Join(modDir, "go.sum"))
		}
	}
	return ws, nil
}

// sourceExts are the files of a package directory that go build compiles.
var sourceExts = []string{".go", ".c", ".h", ".s", ".S", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".hxx", ".m", ".f", ".F", ".for", ".f90", ".swig", ".swigcxx", ".syso"}

// stamp fingerprints the set's files by path, size and mtime: any save,
// new file or removal changes it. newest is the latest mtime seen.
func (ws watchSet) stamp() (sum [32]byte, newest time.Time) {
	h := sha256.New()
	add := func(path string, info fs.FileInfo) {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", path, info.Size(), info.ModTime().UnixNano())
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
	}
	if ws.root != "" {
		root := gosrc.SourceStamp(ws.root)
		h.Write(root[:])
	}
	for _, dir := range ws.pkgDirs {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				strings.HasSuffix(name, "_test.go") || !slices.Contains(sourceExts, filepath.Ext(name)) {
				continue
			}
			if info, err := e.Info(); err == nil {
				add(filepath.Join(dir, name), info)
			}
		}
	}
	for _, g := range ws.embeds {
		g.walk(add)
	}
	for _, f := range ws.files {
		if info, err := os.Stat(f); err == nil {
			add(f, info)
		} else {
			fmt.Fprintf(h, "%s\x00none\n", f)
		}
	}
	copy(sum[:], h.Sum(nil))
	return sum, newest
}

// maxEmbedFiles bounds what one embed pattern's walk looks at.
const maxEmbedFiles = 20000

// walk calls add for each file the pattern embeds, as go:embed reads it:
// a matched file, or every file below a matched directory except, without
// "all:", those whose names start with . or _.
func (g embedGlob) walk(add func(string, fs.FileInfo)) {
	matches, _ := filepath.Glob(filepath.Join(g.dir, filepath.FromSlash(g.pattern)))
	n := 0
	for _, m := range matches {
		_ = filepath.WalkDir(m, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if path != m && !g.all && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if n++; n > maxEmbedFiles {
				return filepath.SkipAll
			}
			if info, err := d.Info(); err == nil {
				add(path, info)
			}
			return nil
		})
	}
}

// watcher polls the app's watch set and calls changed (a rebuild) when it
// changes. It looks only while wanted says so: always with --watch, and
// otherwise while the app is down, waiting for a fix.
type watcher struct {
	goBin, pkgDir string
	extra         []string // more files whose change counts, such as secrets.env
	interval      time.Duration
	built         time.Time // when the running binary's build began
	wanted        func() bool
	changed       func()
	log           interface{ Warn(string, ...any) }
}

// run watches until ctx ends. Several saves in one interval are one
// change: an editor that writes a file twice rebuilds once. The set is
// listed the first time it is wanted (without --watch: only once the app
// is down), and files saved after the running build began count as a
// change then.
func (w *watcher) run(ctx context.Context) {
	var (
		ws     watchSet
		listed bool
		last   [32]byte
	)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !w.wanted() {
			continue
		}
		if !listed {
			ws, listed = w.list(ctx), true
			var newest time.Time
			if last, newest = ws.stamp(); !newest.After(w.built) {
				continue // what is running is built from what is there
			}
			last = [32]byte{}
		}
		s, _ := ws.stamp()
		if s == last {
			continue
		}
		began := time.Now()
		w.changed()
		// The build may have added an import or an embed pattern: list
		// again. A file saved while it ran is newer than its start and
		// makes the next look rebuild again.
		ws = w.list(ctx)
		var newest time.Time
		last, newest = ws.stamp()
		if newest.After(began) {
			last = [32]byte{}
		}
	}
}

func (w *watcher) list(ctx context.Context) watchSet {
	ws := listWatchSet(ctx, w.goBin, w.pkgDir)
	if ws.listErr != nil && ctx.Err() == nil {
		w.log.Warn("watching every Go file of the module instead of the package's files and embedded files", "err", ws.listErr)
	}
	ws.files = append(ws.files, w.extra...)
	return ws
}

package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lowfare/lowfare/internal/devstack"
)

// lowfareIgnore is the .gitignore line that keeps lowfare's local files
// (.lowfare/dev/secrets.env, the dev snapshot, synth output) out of git.
const lowfareIgnore = ".lowfare/"

// ignoreLowfare makes sure dir's .gitignore ignores .lowfare/: it creates
// the file, or appends the line once. It reports whether it changed
// anything. A line that already ignores the folder (.lowfare, .lowfare/,
// /.lowfare/, ...) counts as done, and so does a git checkout that already
// ignores dir/.lowfare/dev/secrets.env by a rule elsewhere.
func ignoreLowfare(ctx context.Context, dir string) (changed bool, err error) {
	if abs, err := filepath.Abs(filepath.Join(dir, devstack.DefaultDataDir, "secrets.env")); err == nil {
		if ignored, _ := gitIgnores(ctx, abs); ignored {
			return false, nil
		}
	}
	path := filepath.Join(dir, ".gitignore")
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		switch strings.TrimSpace(sc.Text()) {
		case ".lowfare", ".lowfare/", "/.lowfare", "/.lowfare/", ".lowfare/*", "/.lowfare/*":
			return false, nil
		}
	}
	var add []byte
	if len(data) > 0 && data[len(data)-1] != '\n' {
		add = append(add, '\n')
	}
	add = append(add, "# lowfare's local files: dev secrets and data, synth output\n"+lowfareIgnore+"\n"...)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return false, err
	}
	if _, err := f.Write(add); err != nil {
		f.Close()
		return false, err
	}
	return true, f.Close()
}

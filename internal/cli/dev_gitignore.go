package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// secretsNotIgnored returns a warning when dataDir/secrets.env sits in a
// git checkout and git would not ignore it, so that a `git add .` would
// commit the app's secrets; "" when it is ignored, outside any checkout,
// or git is not installed (nothing to commit it with).
func secretsNotIgnored(ctx context.Context, dataDir string) string {
	secrets, err := filepath.Abs(filepath.Join(dataDir, "secrets.env"))
	if err != nil {
		return ""
	}
	if ignored, known := gitIgnores(ctx, secrets); known && !ignored {
		return fmt.Sprintf("%s is not ignored by git in this checkout: secrets put there could be committed; add .lowfare/ to .gitignore (lowfare init does)", secrets)
	}
	return ""
}

// gitIgnores asks git whether it ignores path (which need not exist).
// known is false outside a checkout or without git.
//
// git check-ignore exits 0 when the path is ignored, 1 when it is not, and
// 128 on a fatal error, such as a path outside any repository
// (https://git-scm.com/docs/git-check-ignore#_exit_status).
func gitIgnores(ctx context.Context, path string) (ignored, known bool) {
	dir := filepath.Dir(path)
	for { // git -C needs a directory that exists; the data dir may not yet
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false, false
		}
		dir = parent
	}
	err := exec.CommandContext(ctx, "git", "-C", dir, "check-ignore", "-q", "--", path).Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, true
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return false, true
	}
	return false, false
}

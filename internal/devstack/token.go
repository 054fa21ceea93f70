package devstack

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lowfare/lowfare/internal/atomicfile"
)

// adminToken returns the token to use and where it came from: the given
// one (ADMIN_TOKEN), the one kept in dir, or a new random one saved there
// with mode 0600 so the next run uses the same.
func adminToken(given, dir string) (token, source string, err error) {
	if given != "" {
		return given, "from ADMIN_TOKEN", nil
	}
	path := filepath.Join(dir, TokenFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		t := strings.TrimSpace(string(data))
		if t == "" {
			return "", "", fmt.Errorf("admin token file %s is empty: delete it to generate a new token", path)
		}
		return t, "kept in " + path, nil
	case !errors.Is(err, os.ErrNotExist):
		return "", "", fmt.Errorf("reading the admin token: %w", err)
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("generating an admin token: %w", err)
	}
	t := base64.RawURLEncoding.EncodeToString(b[:])
	if err := atomicfile.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("saving the admin token: %w", err)
	}
	return t, "generated, kept in " + path, nil
}

package devstack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SecretsFile holds the app's secrets for `lowfare dev`, one NAME=value a
// line (an .env file: # comments, blank lines, optional "export ", values
// optionally in single or double quotes). It lives in the data directory
// with mode 0600, beside the snapshot; on AWS the same names are SSM
// SecureString parameters (`lowfare secrets set`).
const SecretsFile = "secrets.env"

// maxEnvFile bounds what parseEnvFile reads: secrets, not data.
const maxEnvFile = 1 << 20

// parseEnvFile reads an .env file's NAME=value lines. A problem names its
// line, so the user can fix the file.
func parseEnvFile(name string, data []byte) (map[string]string, error) {
	if len(data) > maxEnvFile {
		return nil, fmt.Errorf("%s is %d bytes; an env file of secrets is at most %d", name, len(data), maxEnvFile)
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxEnvFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validEnvName(key) {
			return nil, fmt.Errorf("%s:%d: want NAME=value with NAME like ADMIN_TOKEN", name, n)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		vars[key] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return vars, nil
}

// validEnvName accepts the names a POSIX shell does: [A-Za-z_][A-Za-z0-9_]*.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// devSecrets resolves each of the spec's secrets: from the environment of
// `lowfare dev` first, then from the data directory's secrets file. It
// returns the values found and the names found nowhere.
func devSecrets(names []string, dataDir string, getenv func(string) string) (values map[string]string, missing []string, err error) {
	path := filepath.Join(dataDir, SecretsFile)
	file := map[string]string{}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if file, err = parseEnvFile(path, data); err != nil {
			return nil, nil, err
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, nil, fmt.Errorf("reading the dev secrets: %w", err)
	}
	values = map[string]string{}
	for _, n := range names {
		if v := getenv(n); v != "" {
			values[n] = v
		} else if v, ok := file[n]; ok {
			values[n] = v
		} else {
			missing = append(missing, n)
		}
	}
	return values, missing, nil
}

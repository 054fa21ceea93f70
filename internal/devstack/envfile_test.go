package devstack

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseEnvFile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		err      string
	}{
		{"empty", "", map[string]string{}, ""},
		{"plain", "A=1\nB_2=two words\n", map[string]string{"A": "1", "B_2": "two words"}, ""},
		{"comments and export", "# c\n\nexport TOKEN=abc\n", map[string]string{"TOKEN": "abc"}, ""},
		{"quotes", "A=\"x y\"\nB='z'\nC=\"unclosed\n", map[string]string{"A": "x y", "B": "z", "C": "\"unclosed"}, ""},
		{"equals in value", "URL=a=b=c", map[string]string{"URL": "a=b=c"}, ""},
		{"no equals", "A=1\nNOPE\n", nil, "f:2:"},
		{"bad name", "1A=x", nil, "f:1:"},
		{"dash name", "A-B=x", nil, "f:1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseEnvFile("f", []byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDevSecretsEnvironmentWinsOverFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SecretsFile), []byte("A=file\nB=file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"A": "env"}
	got, missing, err := devSecrets([]string{"A", "B", "C"}, dir, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"A": "env", "B": "file"}; !reflect.DeepEqual(got, want) {
		t.Errorf("values %v, want %v", got, want)
	}
	if !reflect.DeepEqual(missing, []string{"C"}) {
		t.Errorf("missing %v, want [C]", missing)
	}
}

func FuzzParseEnvFile(f *testing.F) {
	for _, s := range []string{"A=1\n", "# x\nexport B='y'\n", "=\n", "A=\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := parseEnvFile("f", data)
		if err != nil {
			return
		}
		for k := range vars {
			if !validEnvName(k) {
				t.Fatalf("accepted name %q", k)
			}
		}
	})
}

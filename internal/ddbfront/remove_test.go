package ddbfront

import (
	"slices"
	"testing"
)

func TestRemovedNames(t *testing.T) {
	names := map[string]string{"#s": "status", "#n": "name"}
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{"REMOVE a", []string{"a"}},
		{"REMOVE a, #s", []string{"a", "status"}},
		{"SET v = :v REMOVE a, b", []string{"a", "b"}},
		{"remove a SET v = :v", []string{"a"}},
		{"REMOVE a ADD c :one", []string{"a"}},
		{"REMOVE a.b, c[0], d", []string{"d"}}, // nested paths are minidyn's
		{"SET removed = :v", nil},
		{"REMOVE #unknown", nil},
	} {
		if got := removedNames(tc.expr, names); !slices.Equal(got, tc.want) {
			t.Errorf("removedNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

package spec

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile("../../examples/free-alb.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("free-alb.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseHostile measures the slowest shapes still under the token
// limit (the parser is quadratic in keys per mapping) and one just over it:
// how long a hostile file can hold the loader.
func BenchmarkParseHostile(b *testing.B) {
	keys := func(n int) []byte {
		var sb strings.Builder
		sb.WriteString("app: links\ntags:\n")
		for i := range n {
			fmt.Fprintf(&sb, "  k%d: v\n", i)
		}
		return []byte(sb.String())
	}
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"keys-under-limit", keys(maxTokens/3 - 10)},
		{"keys-over-limit", keys(maxTokens)},
		{"flow-list-under-limit", []byte("app: links\nalarms: {emails: [" + strings.Repeat("a@b.co, ", maxTokens/2-20) + "]}\n")},
		{"nesting-at-limit", []byte("app: links\ntags: " + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + "\n")},
		{"one-mebibyte", []byte("app: links\n# " + strings.Repeat("x", MaxFileSize-20) + "\n")},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(tt.data)))
			for b.Loop() {
				_, _ = Parse(tt.name, tt.data)
			}
		})
	}
}

package spec

import (
	"strings"
	"unicode/utf8"
)

// suggest returns the known name closest to got, or "" when none is close
// enough to be a plausible typo.
func suggest(got string, known []string) string {
	got = strings.ToLower(got)
	best, bestDist := "", 1<<30
	for _, k := range known {
		d := editDistance(got, strings.ToLower(k))
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	// Short names allow fewer edits, so "cpus" finds "cpu" but "cpu"
	// does not find "app".
	n := utf8.RuneCountInString(got)
	limit := 3
	switch {
	case n <= 3:
		limit = 1
	case n <= 6:
		limit = 2
	}
	if bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b,
// in runes: Levenshtein plus the swap of two neighbours ("arhc" -> "arch").
// Inputs are keys of a file already capped at 1 MiB; keys longer than 64
// runes are not typos of ours, so they are cut to keep this cheap.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 {
		ra = ra[:64]
	}
	if len(rb) > 64 {
		rb = rb[:64]
	}
	// Three rows: the one before the previous is needed for swaps.
	older := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], older[j-2]+1)
			}
		}
		older, prev, cur = prev, cur, older
	}
	return prev[len(rb)]
}

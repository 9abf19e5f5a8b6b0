// Package suggest finds the name a user most likely meant, for "did you
// mean" hints in configuration errors.
package suggest

import "strings"

// Closest returns the candidate nearest to s by edit distance (ignoring
// case, "-" and "_", so clientId finds client_id), or "" when none is close
// enough to be a plausible typo: one edit per four characters of the
// candidate, at most two ("gitlab" is a product, not a typo of "github").
// A prefix of at least three characters counts as close ("sha" for "sha256").
func Closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		ns, nc := normalize(s), normalize(c)
		d := min(editDistance(s, c), editDistance(ns, nc))
		switch {
		case d <= min(2, len(c)/4):
		case len(ns) >= 3 && strings.HasPrefix(nc, ns):
			d = 2
		default:
			continue
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func normalize(s string) string {
	return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(s))
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent characters (so
// "pcke" is one edit from "pkce").
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

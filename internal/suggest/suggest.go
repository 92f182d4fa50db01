// Package suggest finds the word a misspelt one was probably meant to be,
// for "did you mean ...?" hints in error messages.
package suggest

import "strings"

// Distance is the optimal string alignment distance between a and b: the
// number of single-rune insertions, deletions, substitutions and swaps of
// two adjacent runes that turn one into the other ("tll" and "ttl" are one
// swap apart).
func Distance(a, b string) int {
	s, t := []rune(a), []rune(b)
	// Three rows of the dynamic-programming table: two back, one back, now.
	prev2 := make([]int, len(t)+1)
	prev := make([]int, len(t)+1)
	cur := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}

// Closest returns the candidate that word was most likely meant to be, or
// "" when none is near enough. Case is ignored; a candidate qualifies when
// it is at most a third of its length away (at least one edit), so "tll"
// finds "ttl" and "userid" finds "user_id", but "json" finds nothing among
// "nest" and "ttl". Ties go to the earlier candidate.
func Closest(word string, candidates []string) string {
	w := strings.ToLower(word)
	best, bestD := "", -1
	for _, c := range candidates {
		d := Distance(w, strings.ToLower(c))
		if d > max(1, len([]rune(c))/3) {
			continue
		}
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

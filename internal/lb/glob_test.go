package lb

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzWildcard checks the wildcard matcher against a regular expression
// built from the same pattern.
func FuzzWildcard(f *testing.F) {
	for _, s := range [][2]string{{"/api/*", "/api/v1"}, {"*.example.com", "a.example.com"}, {"a*b?c", "aXXbYc"}, {"**", ""}, {"?", ""}, {"*a*a*", "banana"}} {
		f.Add(s[0], s[1], false)
	}
	f.Fuzz(func(t *testing.T, pattern, s string, fold bool) {
		var re strings.Builder
		re.WriteString("(?s)^")
		if fold {
			re.WriteString("(?i)")
		}
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString("$")
		want := regexp.MustCompile(re.String()).MatchString(s)
		// The matcher works on bytes and folds ASCII only: compare on
		// inputs where that agrees with the regexp.
		if !isASCII(pattern) || !isASCII(s) {
			return
		}
		if got := newGlob(pattern, fold).match(s); got != want {
			t.Fatalf("match(%q, %q, fold=%v) = %v, want %v", pattern, s, fold, got, want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

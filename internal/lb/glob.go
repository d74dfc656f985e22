package lb

// glob is a compiled ELB wildcard pattern: * matches any run of characters
// (also none), ? exactly one. With fold, ASCII letters compare without case
// (the pattern is lowered when compiled).
type glob struct {
	pattern string
	fold    bool
	literal bool // no wildcard: plain comparison
}

func newGlob(p string, fold bool) glob {
	if fold {
		p = lowerASCII(p)
	}
	lit := true
	for i := 0; i < len(p); i++ {
		if p[i] == '*' || p[i] == '?' {
			lit = false
			break
		}
	}
	return glob{pattern: p, fold: fold, literal: lit}
}

func (g glob) match(s string) bool {
	if g.literal {
		if g.fold {
			return equalFoldASCII(g.pattern, s)
		}
		return g.pattern == s
	}
	return wildcardMatch(g.pattern, s, g.fold)
}

// wildcardMatch is the linear-time greedy matcher with one backtrack point
// (the last star), enough for * and ?.
func wildcardMatch(p, s string, fold bool) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(p) {
			c := p[pi]
			if c == '*' {
				star, mark = pi, si
				pi++
				continue
			}
			sc := s[si]
			if fold {
				sc = lowerByte(sc)
			}
			if c == '?' || c == sc {
				pi++
				si++
				continue
			}
		}
		if star < 0 {
			return false
		}
		pi = star + 1
		mark++
		si = mark
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerByte(b[j])
			}
			return string(b)
		}
	}
	return s
}

// equalFoldASCII reports whether s equals the lower-case lower, ignoring
// ASCII case in s.
func equalFoldASCII(lower, s string) bool {
	if len(lower) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerByte(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

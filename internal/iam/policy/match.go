package policy

import "strings"

// token is one character of a pattern: a literal rune, or a wildcard ('*'
// for any run of characters, '?' for exactly one). A literal that came from
// a policy variable (${*}, or a value from the request) is never a wildcard.
type token struct {
	r    rune
	wild bool
}

// pattern is a compiled glob.
type pattern []token

// globOf compiles s with '*' and '?' as wildcards.
func globOf(s string) pattern {
	p := make(pattern, 0, len(s))
	for _, r := range s {
		p = append(p, token{r: r, wild: r == '*' || r == '?'})
	}
	return p
}

// literalOf compiles s with no wildcards.
func literalOf(s string) pattern {
	p := make(pattern, 0, len(s))
	for _, r := range s {
		p = append(p, token{r: r})
	}
	return p
}

// String is the pattern's text; wildcards print as themselves.
func (p pattern) String() string {
	var b strings.Builder
	for _, t := range p {
		b.WriteRune(t.r)
	}
	return b.String()
}

func (p pattern) isStar(i int) bool  { return p[i].wild && p[i].r == '*' }
func (p pattern) isQuest(i int) bool { return p[i].wild && p[i].r == '?' }

// matchGlob says whether p matches all of s, '*' and '?' matching any
// character (StringLike, Action, and each segment of ArnLike).
func matchGlob(p pattern, s string) bool {
	v := []rune(s)
	pi, vi := 0, 0
	star, mark := -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && p.isStar(pi):
			star, mark = pi, vi
			pi++
		case pi < len(p) && (p.isQuest(pi) || p[pi].r == v[vi]):
			pi++
			vi++
		case star >= 0:
			pi = star + 1
			mark++
			vi = mark
		default:
			return false
		}
	}
	for pi < len(p) && p.isStar(pi) {
		pi++
	}
	return pi == len(p)
}

// matchAction says whether an Action pattern names the action, ignoring
// case as AWS does ("ecs:describe*" names "ecs:DescribeClusters").
func matchAction(pat, action string) bool {
	if pat == "*" {
		return true
	}
	return matchGlob(globOf(strings.ToLower(pat)), strings.ToLower(action))
}

// matchResource says whether a Resource pattern names the resource ARN, case
// sensitively. Wildcards stay within the colon-separated segment they are
// written in, as the IAM User Guide says, with two exceptions it also
// documents: a '*' that is the last character of a segment can expand
// beyond the colon boundaries ("arn:aws:ec2:*" names every EC2 ARN), and
// within the resource segment (everything after the fifth colon) a colon is
// an ordinary character.
func matchResource(p pattern, arn string) bool {
	if len(p) == 1 && p.isStar(0) {
		return true
	}
	v := []rune(arn)
	// inResource[j]: v[j] lies after the fifth colon.
	inResource := make([]bool, len(v))
	colons := 0
	for j, r := range v {
		inResource[j] = colons >= 5
		if r == ':' {
			colons++
		}
	}
	free := func(j int) bool { return v[j] != ':' || inResource[j] }
	segmentEnd := func(i int) bool { return i+1 == len(p) || (!p[i+1].wild && p[i+1].r == ':') }
	// dp[i][j]: p[i:] matches v[j:]; filled from the end.
	w := len(v) + 1
	dp := make([]bool, (len(p)+1)*w)
	dp[len(p)*w+len(v)] = true
	for i := len(p) - 1; i >= 0; i-- {
		for j := len(v); j >= 0; j-- {
			var m bool
			switch {
			case p.isStar(i):
				m = dp[(i+1)*w+j] || (j < len(v) && (free(j) || segmentEnd(i)) && dp[i*w+j+1])
			case p.isQuest(i):
				m = j < len(v) && free(j) && dp[(i+1)*w+j+1]
			default:
				m = j < len(v) && v[j] == p[i].r && dp[(i+1)*w+j+1]
			}
			dp[i*w+j] = m
		}
	}
	return dp[0]
}

// matchARN is the ARN condition operators' test: both must have the six
// colon-separated parts, and each part of the pattern must match the same
// part of the value, case sensitively, with '*' and '?' within the part.
func matchARN(p pattern, arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return false
	}
	segs := make([]pattern, 0, 6)
	start := 0
	for i, t := range p {
		if len(segs) < 5 && !t.wild && t.r == ':' {
			segs = append(segs, p[start:i])
			start = i + 1
		}
	}
	segs = append(segs, p[start:])
	if len(segs) != 6 {
		return false
	}
	for i := range segs {
		if !matchGlob(segs[i], parts[i]) {
			return false
		}
	}
	return true
}

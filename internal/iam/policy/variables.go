package policy

import "strings"

// expand compiles a Resource or condition value into a pattern. With
// variables off (a 2008-10-17 policy, or an operator that takes none) the
// text is taken as written, '*' and '?' being wildcards where the operator
// has them. With variables on, each ${...} is replaced once, as the IAM User
// Guide describes:
//
//   - ${*}, ${?} and ${$} are a literal '*', '?' and '$';
//   - ${key} is the value of the context key (names ignore case), taken
//     literally; a key that is missing or has several values does not
//     resolve;
//   - ${key, 'default'} is the key's value, or else the default text (in
//     which ” is a quote); spaces around the key and before the quote are
//     ignored.
//
// ok is false when a variable does not resolve (or a "${" is not closed):
// that value then matches nothing.
func expand(s string, vars bool, ctx *reqContext) (p pattern, ok bool) {
	if !vars || !strings.Contains(s, "${") {
		return globOf(s), true
	}
	p = make(pattern, 0, len(s))
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return append(p, globOf(s)...), true
		}
		p = append(p, globOf(s[:i])...)
		body, rest, closed := cutVariable(s[i+2:])
		if !closed {
			return nil, false
		}
		val, resolved := resolve(body, ctx)
		if !resolved {
			return nil, false
		}
		p = append(p, literalOf(val)...)
		s = rest
	}
}

// cutVariable splits "body}rest" at the brace that closes the variable,
// skipping braces inside a quoted default.
func cutVariable(s string) (body, rest string, ok bool) {
	quoted := false
	for i, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '}' && !quoted:
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

// resolve gives the text of one variable's body (what is between the braces).
func resolve(body string, ctx *reqContext) (string, bool) {
	key, def, hasDefault := strings.Cut(body, ",")
	key = strings.TrimSpace(key)
	if !hasDefault {
		switch key {
		case "*", "?", "$":
			return key, true
		}
	}
	if key == "" {
		return "", false
	}
	if vals := ctx.values(key); len(vals) == 1 {
		return vals[0], true
	}
	if !hasDefault {
		return "", false
	}
	return defaultValue(def)
}

// defaultValue reads " 'text'" with ” standing for a quote.
func defaultValue(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return "", false
	}
	inner := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\'' {
			if i+1 < len(inner) && inner[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return "", false
		}
		b.WriteByte(inner[i])
	}
	return b.String(), true
}

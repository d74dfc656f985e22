package placement

import (
	"fmt"
	"strings"
	"unicode"
)

// token kinds of the cluster query language.
type tokenKind int

const (
	tEOF tokenKind = iota
	tWord
	tString // quoted
	tLParen
	tRParen
	tLBracket
	tRBracket
	tComma
	tOp // ==, !=, >, >=, <, <=, =~, !~
	tAnd
	tOr
	tBang
)

type token struct {
	kind tokenKind
	text string
	pos  int
}

func (t token) String() string {
	if t.kind == tEOF {
		return "the end of the expression"
	}
	return fmt.Sprintf("%q at position %d", t.text, t.pos+1)
}

// lex splits an expression into tokens.
func lex(src string) ([]token, error) {
	var out []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tLParen, "(", i})
			i++
		case c == ')':
			out = append(out, token{tRParen, ")", i})
			i++
		case c == '[':
			out = append(out, token{tLBracket, "[", i})
			i++
		case c == ']':
			out = append(out, token{tRBracket, "]", i})
			i++
		case c == ',':
			out = append(out, token{tComma, ",", i})
			i++
		case c == '\'' || c == '"':
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted value starting at position %d", i+1)
			}
			out = append(out, token{tString, src[i+1 : i+1+end], i})
			i += end + 2
		case strings.HasPrefix(src[i:], "&&"):
			out = append(out, token{tAnd, "&&", i})
			i += 2
		case strings.HasPrefix(src[i:], "||"):
			out = append(out, token{tOr, "||", i})
			i += 2
		case strings.HasPrefix(src[i:], "=="), strings.HasPrefix(src[i:], "!="), strings.HasPrefix(src[i:], ">="),
			strings.HasPrefix(src[i:], "<="), strings.HasPrefix(src[i:], "=~"), strings.HasPrefix(src[i:], "!~"):
			out = append(out, token{tOp, src[i : i+2], i})
			i += 2
		case c == '>' || c == '<':
			out = append(out, token{tOp, src[i : i+1], i})
			i++
		case c == '!':
			out = append(out, token{tBang, "!", i})
			i++
		default:
			start := i
			for i < len(src) && isWordByte(src[i]) {
				i++
			}
			if i == start {
				return nil, fmt.Errorf("unexpected character %q at position %d", rune(c), i+1)
			}
			out = append(out, token{tWord, src[start:i], start})
		}
	}
	return append(out, token{tEOF, "", len(src)}), nil
}

func isWordByte(c byte) bool {
	if c >= 0x80 {
		return true
	}
	r := rune(c)
	if unicode.IsSpace(r) {
		return false
	}
	switch c {
	case '(', ')', '[', ']', ',', '\'', '"', '=', '!', '<', '>', '&', '|':
		return false
	}
	return true
}

package route53

import (
	"errors"
	"fmt"
	"strings"
)

// Names as Route 53 keeps them: lower case, fully qualified (a trailing
// dot), and in its presentation, where every character other than a-z,
// 0-9, '-' and '_' within a label is a three-digit octal escape ("*" is
// "\052"). Clients may send a name with or without the trailing dot, in
// any case, with such escapes or the characters themselves.

// normalizeName reads a domain name into Route 53's form. The error says
// what is wrong with it, in words for a message.
func normalizeName(in string) (string, error) {
	s := strings.TrimSpace(in)
	if s == "" {
		return "", errors.New("the domain name is empty")
	}
	if s == "." {
		return "", errors.New("the root domain is not a valid name here")
	}
	s = strings.TrimSuffix(s, ".")
	var labels [][]byte
	var cur []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
				v := (int(s[i+1]-'0') << 6) | (int(s[i+2]-'0') << 3) | int(s[i+3]-'0')
				if v > 255 {
					return "", fmt.Errorf("the escape %s is out of range", s[i:i+4])
				}
				cur = append(cur, byte(v))
				i += 3
			} else if i+1 < len(s) {
				cur = append(cur, s[i+1])
				i++
			} else {
				return "", errors.New("the name ends with a backslash")
			}
		case c == '.':
			if len(cur) == 0 {
				return "", errors.New("the domain name has an empty label")
			}
			labels = append(labels, cur)
			cur = nil
		default:
			cur = append(cur, c)
		}
	}
	if len(cur) == 0 {
		return "", errors.New("the domain name has an empty label")
	}
	labels = append(labels, cur)
	wire := 1
	var b strings.Builder
	for _, l := range labels {
		if len(l) > 63 {
			return "", fmt.Errorf("the label %q is longer than 63 characters", string(l))
		}
		wire += 1 + len(l)
		for _, c := range l {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "\\%03o", c)
			}
		}
		b.WriteByte('.')
	}
	if wire > 255 {
		return "", errors.New("the domain name is longer than 255 bytes")
	}
	return b.String(), nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// within says whether name is zone or a name under it (both normalized).
func within(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// hostname checks a host name in RDATA (a CNAME's, an MX's exchange, an
// SRV's target): letters, digits, '-', '_', '*' and '.', labels of at most
// 63 characters.
func hostname(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	if s == "." {
		return true
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '*') {
				return false
			}
		}
	}
	return true
}

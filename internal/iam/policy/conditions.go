package policy

import (
	"bytes"
	"encoding/base64"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// family is what a condition operator compares.
type family int

const (
	famString family = iota
	famStringIgnoreCase
	famStringLike
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

// comparison is how an ordered family compares.
type comparison int

const (
	cmpEq comparison = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// setOp is a condition's set qualifier.
type setOp int

const (
	setNone setOp = iota
	setForAllValues
	setForAnyValue
)

// operator is a parsed condition operator.
type operator struct {
	family   family
	cmp      comparison
	negated  bool
	ifExists bool
	set      setOp
}

// baseOperators are IAM's condition operators without qualifier or suffix.
var baseOperators = map[string]operator{
	"StringEquals":              {family: famString},
	"StringNotEquals":           {family: famString, negated: true},
	"StringEqualsIgnoreCase":    {family: famStringIgnoreCase},
	"StringNotEqualsIgnoreCase": {family: famStringIgnoreCase, negated: true},
	"StringLike":                {family: famStringLike},
	"StringNotLike":             {family: famStringLike, negated: true},
	"NumericEquals":             {family: famNumeric},
	"NumericNotEquals":          {family: famNumeric, negated: true},
	"NumericLessThan":           {family: famNumeric, cmp: cmpLt},
	"NumericLessThanEquals":     {family: famNumeric, cmp: cmpLe},
	"NumericGreaterThan":        {family: famNumeric, cmp: cmpGt},
	"NumericGreaterThanEquals":  {family: famNumeric, cmp: cmpGe},
	"DateEquals":                {family: famDate},
	"DateNotEquals":             {family: famDate, negated: true},
	"DateLessThan":              {family: famDate, cmp: cmpLt},
	"DateLessThanEquals":        {family: famDate, cmp: cmpLe},
	"DateGreaterThan":           {family: famDate, cmp: cmpGt},
	"DateGreaterThanEquals":     {family: famDate, cmp: cmpGe},
	"Bool":                      {family: famBool},
	"BinaryEquals":              {family: famBinary},
	"IpAddress":                 {family: famIP},
	"NotIpAddress":              {family: famIP, negated: true},
	"ArnEquals":                 {family: famARN},
	"ArnLike":                   {family: famARN},
	"ArnNotEquals":              {family: famARN, negated: true},
	"ArnNotLike":                {family: famARN, negated: true},
	"Null":                      {family: famNull},
}

// parseOperator reads "[ForAllValues:|ForAnyValue:]Name[IfExists]". Null
// takes neither a qualifier nor IfExists.
func parseOperator(s string) (operator, bool) {
	set := setNone
	switch {
	case strings.HasPrefix(s, "ForAllValues:"):
		set, s = setForAllValues, strings.TrimPrefix(s, "ForAllValues:")
	case strings.HasPrefix(s, "ForAnyValue:"):
		set, s = setForAnyValue, strings.TrimPrefix(s, "ForAnyValue:")
	}
	ifExists := false
	if base, ok := strings.CutSuffix(s, "IfExists"); ok {
		ifExists, s = true, base
	}
	op, ok := baseOperators[s]
	if !ok || (op.family == famNull && (ifExists || set != setNone)) {
		return operator{}, false
	}
	op.set, op.ifExists = set, ifExists
	return op, true
}

// takesVariables: the IAM User Guide supports policy variables in the
// string, ARN and Bool operators' values only.
func (o operator) takesVariables() bool {
	switch o.family {
	case famString, famStringIgnoreCase, famStringLike, famARN, famBool:
		return true
	}
	return false
}

// holds evaluates the condition against the request. The rules, from the
// IAM User Guide's condition operator and multivalued key pages:
//
//   - Null: "true" holds when the key is missing, "false" when present.
//   - A missing key: ...IfExists holds; ForAllValues holds (an empty set is
//     a subset of anything); ForAnyValue does not; a negated operator holds
//     (the key matches none of the values); any other operator does not.
//   - Several policy values are ORed: a request value matches the operator
//     when it matches any of them, and a negated operator's request value
//     matches when it matches none of them.
//   - ForAllValues: every request value matches; ForAnyValue: at least one.
//     Without a qualifier a positive operator needs one request value to
//     match, a negated one needs all of them to.
//   - A request value that cannot be read as the operator's type (a number,
//     a date, an address...) matches neither the operator nor its negation.
func (c *Condition) holds(ctx *reqContext, vars bool) bool {
	present := ctx.values(c.Key)
	if c.op.family == famNull {
		for _, v := range c.Values {
			switch strings.ToLower(v) {
			case "true":
				if len(present) == 0 {
					return true
				}
			case "false":
				if len(present) > 0 {
					return true
				}
			}
		}
		return false
	}
	if len(present) == 0 {
		switch {
		case c.op.ifExists, c.op.set == setForAllValues:
			return true
		case c.op.set == setForAnyValue:
			return false
		}
		return c.op.negated
	}
	want := c.policyValues(ctx, vars)
	each := func(v string) bool {
		matched, readable := c.op.matchAny(v, want)
		if !readable {
			return false
		}
		return matched != c.op.negated
	}
	all := c.op.set == setForAllValues || (c.op.set == setNone && c.op.negated)
	for _, v := range present {
		if ok := each(v); ok != all {
			return ok
		}
	}
	return all
}

// policyValues expands the condition's values; those that do not resolve
// are dropped (they match nothing).
func (c *Condition) policyValues(ctx *reqContext, vars bool) []pattern {
	vars = vars && c.op.takesVariables()
	out := make([]pattern, 0, len(c.Values))
	for _, v := range c.Values {
		if p, ok := expand(v, vars, ctx); ok {
			out = append(out, p)
		}
	}
	return out
}

// matchAny compares one request value with the policy's values. readable is
// false when the request value is not of the operator's type.
func (o operator) matchAny(v string, want []pattern) (matched, readable bool) {
	switch o.family {
	case famString:
		return containsFunc(want, func(p pattern) bool { return p.String() == v }), true
	case famStringIgnoreCase:
		return containsFunc(want, func(p pattern) bool { return strings.EqualFold(p.String(), v) }), true
	case famStringLike:
		return containsFunc(want, func(p pattern) bool { return matchGlob(p, v) }), true
	case famARN:
		return containsFunc(want, func(p pattern) bool { return matchARN(p, v) }), true
	case famBool:
		if !isBool(v) {
			return false, false
		}
		return containsFunc(want, func(p pattern) bool { return strings.EqualFold(p.String(), v) }), true
	case famNumeric:
		n, ok := parseNumber(v)
		if !ok {
			return false, false
		}
		return containsFunc(want, func(p pattern) bool {
			m, ok := parseNumber(p.String())
			return ok && o.cmp.holds(compareFloat(n, m))
		}), true
	case famDate:
		t, ok := parseDate(v)
		if !ok {
			return false, false
		}
		return containsFunc(want, func(p pattern) bool {
			u, ok := parseDate(p.String())
			return ok && o.cmp.holds(t.Compare(u))
		}), true
	case famBinary:
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return false, false
		}
		return containsFunc(want, func(p pattern) bool {
			w, err := base64.StdEncoding.DecodeString(p.String())
			return err == nil && bytes.Equal(b, w)
		}), true
	case famIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false, false
		}
		a = a.Unmap()
		return containsFunc(want, func(p pattern) bool {
			r, ok := parseRange(p.String())
			return ok && r.Contains(a)
		}), true
	}
	return false, false
}

func containsFunc(want []pattern, f func(pattern) bool) bool {
	for _, p := range want {
		if f(p) {
			return true
		}
	}
	return false
}

// holds reads a three-way comparison of request value against policy value.
func (c comparison) holds(order int) bool {
	switch c {
	case cmpLt:
		return order < 0
	case cmpLe:
		return order <= 0
	case cmpGt:
		return order > 0
	case cmpGe:
		return order >= 0
	}
	return order == 0
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func isBool(s string) bool { return strings.EqualFold(s, "true") || strings.EqualFold(s, "false") }

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// dateLayouts are the ISO 8601 forms the date operators read; a value of
// digits alone is POSIX epoch seconds.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"20060102T150405Z07:00",
	"20060102T150405",
	"2006-01-02",
}

func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseRange reads a CIDR block or a single address, IPv4 or IPv6.
func parseRange(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

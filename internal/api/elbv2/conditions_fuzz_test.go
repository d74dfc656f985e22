package elbv2

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzConditions: whatever a client sends as a rule condition, the check
// never panics, and what it accepts keeps ELB's limits (a known field,
// values of at most 128 characters, at most 5 values, CIDRs that parse).
func FuzzConditions(f *testing.F) {
	for _, seed := range [][3]string{
		{"path-pattern", "/api/*", ""}, {"host-header", "*.example.com", ""}, {"http-header", "yes", "X-Canary"},
		{"source-ip", "10.0.0.0/8", ""}, {"http-request-method", "GET", ""}, {"query-string", "v", "2"},
		{"path-pattern", "/a b", ""}, {"source-ip", "10.0.0.300/8", ""}, {"cookie", "x", ""}, {"", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, field, value, extra string) {
		in := conditionIn{Field: field, Values: strings.Split(value, ",")}
		switch field {
		case "http-header":
			in.Values = nil
			in.HTTPHeaderConfig = &struct {
				HTTPHeaderName string `query:"HttpHeaderName"`
				Values         []string
			}{HTTPHeaderName: extra, Values: []string{value}}
		case "source-ip":
			in.Values, in.SourceIPConfig = nil, &valuesIn{Values: strings.Split(value, ",")}
		}
		out, err := conditions([]conditionIn{in})
		if err != nil {
			return
		}
		total := 0
		for _, c := range out {
			total += len(c.Values) + len(c.QueryStrings)
			for _, v := range c.Values {
				if len(v) > 128 {
					t.Fatalf("accepted a value of %d characters", len(v))
				}
				if c.Field == "source-ip" {
					if _, err := netip.ParsePrefix(v); err != nil {
						t.Fatalf("accepted source-ip %q", v)
					}
				}
			}
		}
		if total > MaxConditionValues || total == 0 {
			t.Fatalf("accepted %d values", total)
		}
	})
}

package lb

import (
	"fmt"
	"net/http/httptest"
	"testing"
)

func fixed(body string) []Action {
	return []Action{{Type: ActionFixedResponse, FixedResponse: &FixedResponse{StatusCode: "200", MessageBody: body}}}
}

func tableOf(t testing.TB, rules ...Rule) *routeTable {
	t.Helper()
	l := Listener{ARN: "l", DefaultActions: fixed("default"), Rules: rules}
	rt, err := compileRoutes(l, func(a Action) (*action, error) { return compileAction(a, nil) })
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func rule(prio int, body string, conds ...Condition) Rule {
	return Rule{ARN: body, Priority: prio, Conditions: conds, Actions: fixed(body)}
}

func TestRuleConditions(t *testing.T) {
	path := func(v ...string) Condition { return Condition{Field: FieldPathPattern, Values: v} }
	host := func(v ...string) Condition { return Condition{Field: FieldHostHeader, Values: v} }
	cases := []struct {
		name   string
		cond   Condition
		method string
		target string
		host   string
		header [2]string
		remote string
		want   bool
	}{
		{name: "path exact", cond: path("/api"), target: "/api", want: true},
		{name: "path exact other", cond: path("/api"), target: "/apix", want: false},
		{name: "path star", cond: path("/api/*"), target: "/api/v1/users", want: true},
		{name: "path star empty", cond: path("/api/*"), target: "/api/", want: true},
		{name: "path star needs slash", cond: path("/api/*"), target: "/api", want: false},
		{name: "path question", cond: path("/v?/x"), target: "/v2/x", want: true},
		{name: "path question one char", cond: path("/v?/x"), target: "/v10/x", want: false},
		{name: "path case sensitive", cond: path("/API/*"), target: "/api/x", want: false},
		{name: "path ignores query", cond: path("/a"), target: "/a?b=c", want: true},
		{name: "path values OR", cond: path("/a", "/b/*"), target: "/b/c", want: true},
		{name: "path middle star", cond: path("/img/*.png"), target: "/img/a/b.png", want: true},
		{name: "path middle star miss", cond: path("/img/*.png"), target: "/img/a/b.jpg", want: false},
		{name: "host exact", cond: host("example.com"), target: "/", host: "example.com", want: true},
		{name: "host case insensitive", cond: host("Example.COM"), target: "/", host: "EXAMPLE.com", want: true},
		{name: "host port ignored", cond: host("example.com"), target: "/", host: "example.com:8080", want: true},
		{name: "host wildcard", cond: host("*.example.com"), target: "/", host: "api.Example.com", want: true},
		{name: "host wildcard miss", cond: host("*.example.com"), target: "/", host: "example.com", want: false},
		{name: "host question", cond: host("api?.example.com"), target: "/", host: "api1.example.com", want: true},
		{name: "header", cond: Condition{Field: FieldHTTPHeader, HTTPHeaderName: "user-agent", Values: []string{"*Mobile*"}}, target: "/", header: [2]string{"User-Agent", "x mobile y"}, want: true},
		{name: "header missing", cond: Condition{Field: FieldHTTPHeader, HTTPHeaderName: "X-Env", Values: []string{"*"}}, target: "/", want: false},
		{name: "header value miss", cond: Condition{Field: FieldHTTPHeader, HTTPHeaderName: "X-Env", Values: []string{"blue", "green"}}, target: "/", header: [2]string{"X-Env", "red"}, want: false},
		{name: "query key value", cond: Condition{Field: FieldQueryString, QueryString: []QueryPair{{Key: "version", Value: "v1"}}}, target: "/?version=V1", want: true},
		{name: "query any key", cond: Condition{Field: FieldQueryString, QueryString: []QueryPair{{Value: "beta*"}}}, target: "/?x=1&y=beta2", want: true},
		{name: "query wildcard key", cond: Condition{Field: FieldQueryString, QueryString: []QueryPair{{Key: "v?", Value: "*"}}}, target: "/?v2=a", want: true},
		{name: "query miss", cond: Condition{Field: FieldQueryString, QueryString: []QueryPair{{Key: "version", Value: "v1"}}}, target: "/?version=v2", want: false},
		{name: "query pairs OR", cond: Condition{Field: FieldQueryString, QueryString: []QueryPair{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}}, target: "/?b=2", want: true},
		{name: "method", cond: Condition{Field: FieldHTTPRequestMethod, Values: []string{"GET", "HEAD"}}, method: "HEAD", target: "/", want: true},
		{name: "method case sensitive", cond: Condition{Field: FieldHTTPRequestMethod, Values: []string{"POST"}}, method: "post", target: "/", want: false},
		{name: "source ip in", cond: Condition{Field: FieldSourceIP, Values: []string{"10.0.0.0/8", "192.168.1.7/32"}}, target: "/", remote: "192.168.1.7:5555", want: true},
		{name: "source ip out", cond: Condition{Field: FieldSourceIP, Values: []string{"10.0.0.0/8"}}, target: "/", remote: "11.0.0.1:5555", want: false},
		{name: "source ip v6", cond: Condition{Field: FieldSourceIP, Values: []string{"2001:db8::/32"}}, target: "/", remote: "[2001:db8::1]:80", want: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt := tableOf(t, rule(1, "hit", c.cond))
			m := c.method
			if m == "" {
				m = "GET"
			}
			r := httptest.NewRequest(m, "http://"+firstNonEmpty(c.host, "h.test")+c.target, nil)
			if c.header[0] != "" {
				r.Header.Set(c.header[0], c.header[1])
			}
			if c.remote != "" {
				r.RemoteAddr = c.remote
			}
			got := rt.match(&reqView{r: r}).fixed.body == "hit"
			if got != c.want {
				t.Fatalf("match = %v, want %v", got, c.want)
			}
		})
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestRulesByPriority: conditions AND within a rule, the lowest priority
// that matches wins whatever the order given, and the default comes last.
func TestRulesByPriority(t *testing.T) {
	rt := tableOf(t,
		rule(30, "any-api", Condition{Field: FieldPathPattern, Values: []string{"/api/*"}}),
		rule(10, "api-post", Condition{Field: FieldPathPattern, Values: []string{"/api/*"}}, Condition{Field: FieldHTTPRequestMethod, Values: []string{"POST"}}),
		rule(20, "host", Condition{Field: FieldHostHeader, Values: []string{"admin.test"}}),
		rule(5, "wild", Condition{Field: FieldPathPattern, Values: []string{"*/secret"}}),
	)
	for _, c := range []struct{ method, url, want string }{
		{"POST", "http://x.test/api/a", "api-post"},
		{"GET", "http://x.test/api/a", "any-api"},
		{"GET", "http://admin.test/api/a", "host"},
		{"GET", "http://admin.test/api/secret", "wild"},
		{"GET", "http://x.test/other", "default"},
	} {
		got := rt.match(&reqView{r: httptest.NewRequest(c.method, c.url, nil)}).fixed.body
		if got != c.want {
			t.Errorf("%s %s -> %s, want %s", c.method, c.url, got, c.want)
		}
	}
}

func TestRulesRefused(t *testing.T) {
	for name, r := range map[string]Rule{
		"priority 0":     rule(0, "x", Condition{Field: FieldPathPattern, Values: []string{"/"}}),
		"priority 50001": rule(50001, "x", Condition{Field: FieldPathPattern, Values: []string{"/"}}),
		"no condition":   rule(1, "x"),
		"bad field":      rule(1, "x", Condition{Field: "cookie", Values: []string{"a"}}),
		"bad cidr":       rule(1, "x", Condition{Field: FieldSourceIP, Values: []string{"10.0.0.1"}}),
		"bad method":     rule(1, "x", Condition{Field: FieldHTTPRequestMethod, Values: []string{"G*T"}}),
		"header no name": rule(1, "x", Condition{Field: FieldHTTPHeader, Values: []string{"a"}}),
	} {
		l := Listener{ARN: "l", DefaultActions: fixed("d"), Rules: []Rule{r}}
		if _, err := compileRoutes(l, func(a Action) (*action, error) { return compileAction(a, nil) }); err == nil {
			t.Errorf("%s: compiled, want an error", name)
		}
	}
}

// rules1000 is a listener with 1,000 rules as a large ALB has them: by host
// for some, by path prefix for most, and a few that cannot be indexed.
func rules1000() []Rule {
	var rs []Rule
	for i := 1; i <= 1000; i++ {
		var c []Condition
		switch {
		case i%10 == 0:
			c = []Condition{{Field: FieldHostHeader, Values: []string{fmt.Sprintf("svc%d.example.com", i)}}}
		case i%97 == 0:
			c = []Condition{{Field: FieldPathPattern, Values: []string{fmt.Sprintf("*/legacy%d", i)}}}
		default:
			c = []Condition{
				{Field: FieldPathPattern, Values: []string{fmt.Sprintf("/svc%d/*", i), fmt.Sprintf("/v2/svc%d/*", i)}},
				{Field: FieldHTTPRequestMethod, Values: []string{"GET", "POST"}},
			}
		}
		rs = append(rs, rule(i, fmt.Sprint(i), c...))
	}
	return rs
}

func TestRouteTable1000(t *testing.T) {
	rt := tableOf(t, rules1000()...)
	for url, want := range map[string]string{
		"http://a.test/svc999/x":         "999",
		"http://svc990.example.com/x":    "990",
		"http://a.test/old/legacy291":    "291",
		"http://a.test/v2/svc3/x":        "3",
		"http://a.test/nothing/here":     "default",
		"http://SVC20.example.com/svc1/": "1",
	} {
		if got := rt.match(&reqView{r: httptest.NewRequest("GET", url, nil)}).fixed.body; got != want {
			t.Errorf("%s -> %s, want %s", url, got, want)
		}
	}
}

// BenchmarkRouteTable1000 matches requests against 1,000 rules: the last
// path rule, a host rule, and a request that falls through to the default.
func BenchmarkRouteTable1000(b *testing.B) {
	rt := tableOf(b, rules1000()...)
	reqs := []*reqView{
		{r: httptest.NewRequest("GET", "http://a.test/svc999/items/1", nil)},
		{r: httptest.NewRequest("GET", "http://svc500.example.com/x", nil)},
		{r: httptest.NewRequest("GET", "http://a.test/nothing/here", nil)},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := reqs[i%len(reqs)]
		v := reqView{r: r.r}
		if rt.match(&v) == nil {
			b.Fatal("no action")
		}
	}
}

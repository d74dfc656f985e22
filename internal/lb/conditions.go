package lb

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// condition is one compiled rule condition.
type condition interface {
	match(v *reqView) bool
}

// reqView is a request as conditions see it; the parts that cost something
// to work out (host without port, parsed query, client IP) are computed once
// and only when a condition asks.
type reqView struct {
	r        *http.Request
	host     string
	hostDone bool
	query    url.Values
	qDone    bool
	ip       netip.Addr
	ipDone   bool
}

func (v *reqView) hostName() string {
	if !v.hostDone {
		h := v.r.Host
		if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
			h = h[:i]
		}
		v.host, v.hostDone = h, true
	}
	return v.host
}

func (v *reqView) queryValues() url.Values {
	if !v.qDone {
		v.query, _ = url.ParseQuery(v.r.URL.RawQuery)
		v.qDone = true
	}
	return v.query
}

func (v *reqView) clientIP() netip.Addr {
	if !v.ipDone {
		if ap, err := netip.ParseAddrPort(v.r.RemoteAddr); err == nil {
			v.ip = ap.Addr().Unmap()
		} else if h, _, err := net.SplitHostPort(v.r.RemoteAddr); err == nil {
			v.ip, _ = netip.ParseAddr(h)
		}
		v.ipDone = true
	}
	return v.ip
}

type pathCond []glob

func (c pathCond) match(v *reqView) bool {
	for _, g := range c {
		if g.match(v.r.URL.Path) {
			return true
		}
	}
	return false
}

type hostCond []glob

func (c hostCond) match(v *reqView) bool {
	h := v.hostName()
	for _, g := range c {
		if g.match(h) {
			return true
		}
	}
	return false
}

type headerCond struct {
	name   string // canonical
	values []glob
}

func (c headerCond) match(v *reqView) bool {
	for _, hv := range v.r.Header[c.name] {
		for _, g := range c.values {
			if g.match(hv) {
				return true
			}
		}
	}
	return false
}

type queryPair struct {
	key    glob
	anyKey bool
	value  glob
}

type queryCond []queryPair

func (c queryCond) match(v *reqView) bool {
	q := v.queryValues()
	for _, p := range c {
		for k, vals := range q {
			if !p.anyKey && !p.key.match(k) {
				continue
			}
			for _, val := range vals {
				if p.value.match(val) {
					return true
				}
			}
		}
	}
	return false
}

type methodCond []string

func (c methodCond) match(v *reqView) bool {
	for _, m := range c {
		if v.r.Method == m {
			return true
		}
	}
	return false
}

type sourceCond []netip.Prefix

func (c sourceCond) match(v *reqView) bool {
	ip := v.clientIP()
	if !ip.IsValid() {
		return false
	}
	for _, p := range c {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// compileCondition checks one condition as ELB would and compiles it.
func compileCondition(c Condition) (condition, error) {
	switch c.Field {
	case FieldPathPattern:
		if len(c.Values) == 0 {
			return nil, fmt.Errorf("path-pattern needs at least one value")
		}
		out := make(pathCond, 0, len(c.Values))
		for _, p := range c.Values {
			if p == "" || len(p) > 128 {
				return nil, fmt.Errorf("path-pattern %q must be 1-128 characters", p)
			}
			out = append(out, newGlob(p, false))
		}
		return out, nil
	case FieldHostHeader:
		if len(c.Values) == 0 {
			return nil, fmt.Errorf("host-header needs at least one value")
		}
		out := make(hostCond, 0, len(c.Values))
		for _, h := range c.Values {
			if h == "" || len(h) > 128 {
				return nil, fmt.Errorf("host-header %q must be 1-128 characters", h)
			}
			out = append(out, newGlob(h, true))
		}
		return out, nil
	case FieldHTTPHeader:
		if c.HTTPHeaderName == "" || len(c.Values) == 0 {
			return nil, fmt.Errorf("http-header needs HttpHeaderName and at least one value")
		}
		hc := headerCond{name: http.CanonicalHeaderKey(c.HTTPHeaderName)}
		for _, val := range c.Values {
			hc.values = append(hc.values, newGlob(val, true))
		}
		return hc, nil
	case FieldQueryString:
		if len(c.QueryString) == 0 {
			return nil, fmt.Errorf("query-string needs at least one key/value pair")
		}
		var qc queryCond
		for _, p := range c.QueryString {
			if p.Value == "" {
				return nil, fmt.Errorf("query-string pair %q needs a value", p.Key)
			}
			qc = append(qc, queryPair{key: newGlob(p.Key, true), anyKey: p.Key == "", value: newGlob(p.Value, true)})
		}
		return qc, nil
	case FieldHTTPRequestMethod:
		if len(c.Values) == 0 {
			return nil, fmt.Errorf("http-request-method needs at least one value")
		}
		for _, m := range c.Values {
			if m == "" || strings.Trim(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != "" {
				return nil, fmt.Errorf("http-request-method %q may hold only A-Z, - and _", m)
			}
		}
		return methodCond(append([]string(nil), c.Values...)), nil
	case FieldSourceIP:
		if len(c.Values) == 0 {
			return nil, fmt.Errorf("source-ip needs at least one CIDR")
		}
		var sc sourceCond
		for _, s := range c.Values {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("source-ip %q is not a CIDR block", s)
			}
			sc = append(sc, p.Masked())
		}
		return sc, nil
	}
	return nil, fmt.Errorf("unknown condition field %q", c.Field)
}

package lb

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

type actionKind uint8

const (
	kindForward actionKind = iota
	kindFixed
	kindRedirect
)

// action is a compiled terminal action.
type action struct {
	kind     actionKind
	forward  *forwardAction
	fixed    *fixedAction
	redirect *redirectAction
}

// forwardAction spreads requests over weighted target groups with smooth
// weighted round robin, which is exact over any window of sum(weights)
// requests and deterministic (no random numbers).
type forwardAction struct {
	groups    []*fwdGroup
	stickyFor time.Duration // AWSALBTG; 0 when off

	mu    sync.Mutex
	total int
}

// fwdGroup is one target group of a forward action, with the metrics it
// feeds for the load balancer it serves.
type fwdGroup struct {
	g      *group
	weight int
	cw     int
	cookie string // AWSALBTG value
	m      *groupMetrics
}

// choose picks the target group for a request; sticky is the AWSALBTG
// cookie's value, if any.
func (f *forwardAction) choose(sticky string) *fwdGroup {
	if len(f.groups) == 1 {
		return f.groups[0]
	}
	if sticky != "" {
		for _, fg := range f.groups {
			if fg.cookie == sticky && fg.weight > 0 {
				return fg
			}
		}
	}
	f.mu.Lock()
	var best *fwdGroup
	for _, fg := range f.groups {
		fg.cw += fg.weight
		if best == nil || fg.cw > best.cw {
			best = fg
		}
	}
	best.cw -= f.total
	f.mu.Unlock()
	return best
}

// fixedAction answers from the load balancer.
type fixedAction struct {
	code        int
	contentType string
	body        string
}

func (f *fixedAction) serve(w http.ResponseWriter) {
	if f.contentType != "" {
		w.Header().Set("Content-Type", f.contentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(f.body)))
	w.WriteHeader(f.code)
	_, _ = w.Write([]byte(f.body))
}

// redirectAction builds a Location from the request.
type redirectAction struct {
	code                              int
	protocol, host, port, path, query string
}

func (ra *redirectAction) location(r *http.Request, scheme, listenerPort string) string {
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	repl := strings.NewReplacer(
		"#{protocol}", scheme,
		"#{host}", host,
		"#{port}", listenerPort,
		"#{path}", strings.TrimPrefix(r.URL.EscapedPath(), "/"),
		"#{query}", r.URL.RawQuery,
	)
	proto := strings.ToLower(repl.Replace(ra.protocol))
	port := repl.Replace(ra.port)
	var b strings.Builder
	b.WriteString(proto)
	b.WriteString("://")
	b.WriteString(repl.Replace(ra.host))
	if !(proto == "http" && port == "80") && !(proto == "https" && port == "443") {
		b.WriteString(":")
		b.WriteString(port)
	}
	b.WriteString(repl.Replace(ra.path))
	if q := repl.Replace(ra.query); q != "" {
		b.WriteString("?")
		b.WriteString(q)
	}
	return b.String()
}

func (ra *redirectAction) serve(w http.ResponseWriter, r *http.Request, scheme, port string) {
	w.Header().Set("Location", ra.location(r, scheme, port))
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(ra.code)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// compileAction checks an action; group finds the live target group an ARN
// names and the metrics it feeds.
func compileAction(a Action, group func(arn string) (*group, *groupMetrics, error)) (*action, error) {
	switch a.Type {
	case ActionForward:
		if a.Forward == nil || len(a.Forward.TargetGroups) == 0 {
			return nil, fmt.Errorf("forward action needs a target group")
		}
		fa := &forwardAction{}
		if a.Forward.StickinessSeconds > 0 {
			fa.stickyFor = time.Duration(a.Forward.StickinessSeconds) * time.Second
		}
		for _, wg := range a.Forward.TargetGroups {
			if wg.Weight < 0 || wg.Weight > 999 {
				return nil, fmt.Errorf("target group %s: weight %d is not 0-999", wg.ARN, wg.Weight)
			}
			g, m, err := group(wg.ARN)
			if err != nil {
				return nil, err
			}
			w := wg.Weight
			if len(a.Forward.TargetGroups) == 1 {
				w = 1
			}
			fa.total += w
			fa.groups = append(fa.groups, &fwdGroup{g: g, weight: w, cookie: cookieFor(wg.ARN), m: m})
		}
		if fa.total == 0 {
			return nil, fmt.Errorf("forward action: at least one target group needs a weight above 0")
		}
		return &action{kind: kindForward, forward: fa}, nil
	case ActionFixedResponse:
		f := a.FixedResponse
		if f == nil {
			return nil, fmt.Errorf("fixed-response action needs its configuration")
		}
		code, err := strconv.Atoi(f.StatusCode)
		if err != nil || code < 200 || code > 599 || (code >= 300 && code < 400) {
			return nil, fmt.Errorf("fixed-response status code %q is not 2XX, 4XX or 5XX", f.StatusCode)
		}
		if len(f.MessageBody) > 1024 {
			return nil, fmt.Errorf("fixed-response message body is longer than 1024 characters")
		}
		return &action{kind: kindFixed, fixed: &fixedAction{code: code, contentType: f.ContentType, body: f.MessageBody}}, nil
	case ActionRedirect:
		rd := a.Redirect
		if rd == nil {
			return nil, fmt.Errorf("redirect action needs its configuration")
		}
		ra := &redirectAction{
			protocol: orDefault(rd.Protocol, "#{protocol}"),
			host:     orDefault(rd.Host, "#{host}"),
			port:     orDefault(rd.Port, "#{port}"),
			path:     orDefault(rd.Path, "/#{path}"),
			query:    orDefault(rd.Query, "#{query}"),
		}
		switch rd.StatusCode {
		case "HTTP_301":
			ra.code = http.StatusMovedPermanently
		case "HTTP_302":
			ra.code = http.StatusFound
		default:
			return nil, fmt.Errorf("redirect status code %q is not HTTP_301 or HTTP_302", rd.StatusCode)
		}
		if p := strings.ToUpper(ra.protocol); p != "HTTP" && p != "HTTPS" && p != "#{PROTOCOL}" {
			return nil, fmt.Errorf("redirect protocol %q is not HTTP, HTTPS or #{protocol}", rd.Protocol)
		}
		if !strings.HasPrefix(ra.path, "/") {
			return nil, fmt.Errorf("redirect path %q must start with /", rd.Path)
		}
		return &action{kind: kindRedirect, redirect: ra}, nil
	}
	return nil, fmt.Errorf("unknown action type %q", a.Type)
}

package lb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// httpState is what one HTTP or HTTPS listener serves; Apply swaps it whole,
// so a request sees one configuration from start to end.
type httpState struct {
	routes *routeTable
	lb     *lbMetrics
	scheme string // http or https: the client's protocol
	port   string
	rp     *httputil.ReverseProxy
	h1     *h1Pool
}

// httpHandler is an application listener's request path.
type httpHandler struct {
	b     *Balancer
	state atomic.Pointer[httpState]
}

// ServeHTTP routes one request and carries out the action it matched.
func (h *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := h.state.Load()
	st.lb.requests.Inc()
	v := reqView{r: r}
	act := st.routes.match(&v)
	switch act.kind {
	case kindFixed:
		act.fixed.serve(w)
		st.lb.elbCode(act.fixed.code)
	case kindRedirect:
		act.redirect.serve(w, r, st.scheme, st.port)
		st.lb.elbCode(act.redirect.code)
	case kindForward:
		h.forward(st, act.forward, w, r)
	}
}

func (h *httpHandler) forward(st *httpState, fa *forwardAction, w http.ResponseWriter, r *http.Request) {
	var tgCookie string
	if fa.stickyFor > 0 {
		if c, err := r.Cookie("AWSALBTG"); err == nil {
			tgCookie = c.Value
		}
	}
	fg := fa.choose(tgCookie)
	if fa.stickyFor > 0 {
		h.setCookie(w, "AWSALBTG", fg.cookie, fa.stickyFor)
	}
	cfg := fg.g.set.Load().cfg
	var tCookie string
	if cfg.stickyFor > 0 {
		if c, err := r.Cookie("AWSALB"); err == nil {
			tCookie = c.Value
		}
	}
	fg.m.requests.Inc()
	if fastPath(r, cfg.scheme) {
		// A target that cannot be connected to (its container just died)
		// never saw the request: send it to another, and pass that target
		// over until it answers again.
		for attempt := 0; attempt < maxUnreached; attempt++ {
			t := fg.g.acquire(tCookie)
			if t == nil {
				break
			}
			cookies := w.Header()["Set-Cookie"]
			if cfg.stickyFor > 0 {
				h.setCookie(w, "AWSALB", t.cookie, cfg.stickyFor)
			}
			start := h.b.clock.Now()
			code, headerAt, elb, unreached := st.h1.serve(w, r, t.addr, st.scheme, st.port, h.b.clock)
			fg.g.release(t)
			if unreached {
				fg.g.markUnreachable(t)
				tCookie = ""
				if cfg.stickyFor > 0 { // nothing was written: stick to the next one instead
					w.Header()["Set-Cookie"] = cookies
				}
				continue
			}
			h.count(st, fg, code, elb, headerAt.Sub(start))
			return
		}
		code := http.StatusServiceUnavailable
		if fg.g.set.Load().all != nil {
			code = http.StatusBadGateway
		}
		writeELBError(w, code)
		st.lb.elbCode(code)
		return
	}
	t := fg.g.acquire(tCookie)
	if t == nil {
		writeELBError(w, http.StatusServiceUnavailable)
		st.lb.elbCode(http.StatusServiceUnavailable)
		return
	}
	defer fg.g.release(t)
	if cfg.stickyFor > 0 {
		h.setCookie(w, "AWSALB", t.cookie, cfg.stickyFor)
	}
	out := *r
	u := *r.URL
	u.Scheme, u.Host = cfg.scheme, t.addr
	out.URL = &u
	pw := writerPool.Get().(*proxyWriter)
	*pw = proxyWriter{ResponseWriter: w, clock: h.b.clock}
	start := h.b.clock.Now()
	st.rp.ServeHTTP(pw, &out)
	h.count(st, fg, pw.code, pw.elb, pw.headerAt.Sub(start))
	*pw = proxyWriter{}
	writerPool.Put(pw)
}

// maxUnreached is how many targets one request tries when it cannot connect
// to them.
const maxUnreached = 3

// count records one forwarded request's outcome.
func (h *httpHandler) count(st *httpState, fg *fwdGroup, code int, elb bool, rt time.Duration) {
	switch {
	case elb:
		st.lb.elbCode(code)
	case code >= 200:
		if c := code/100 - 2; c < 4 {
			fg.m.codes[c].Inc()
		}
		fg.m.respTime.Observe(rt.Seconds())
	}
}

func (h *httpHandler) setCookie(w http.ResponseWriter, name, value string, d time.Duration) {
	c := http.Cookie{Name: name, Value: value, Path: "/", Expires: h.b.clock.Now().Add(d)}
	w.Header().Add("Set-Cookie", c.String())
}

// newReverseProxy makes the proxy of one listener configuration.
func (b *Balancer) newReverseProxy(scheme, port string, tr http.RoundTripper) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Director: func(out *http.Request) {
			// ReverseProxy appends the client address to X-Forwarded-For
			// after this; ALB sets Proto and Port to the listener's.
			out.Header["X-Forwarded-Proto"] = []string{scheme}
			out.Header["X-Forwarded-Port"] = []string{port}
		},
		Transport:    tr,
		BufferPool:   bufferPool{},
		ErrorLog:     b.errLog,
		ErrorHandler: proxyError,
	}
}

// proxyError answers as ALB does when a target fails: 504 when it timed
// out, 502 when the connection failed or broke.
func proxyError(w http.ResponseWriter, r *http.Request, err error) {
	pw := w.(*proxyWriter)
	pw.elb = true
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		pw.code = 460 // ALB's code for a client that went away
		return
	}
	pw.code = http.StatusBadGateway
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		pw.code = http.StatusGatewayTimeout
	}
	writeELBError(pw.ResponseWriter, pw.code)
}

// writeELBError writes an error page of the load balancer's own.
func writeELBError(w http.ResponseWriter, code int) {
	text := http.StatusText(code)
	body := fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n</body>\r\n</html>\r\n", code, text, code, text)
	hd := w.Header()
	hd.Del("Set-Cookie")
	hd.Set("Server", "awselb/2.0")
	hd.Set("Content-Type", "text/html")
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// proxyWriter notes the status a target answered and when its headers
// came. Flush and Hijack reach the connection through Unwrap.
type proxyWriter struct {
	http.ResponseWriter
	clock    Clock
	code     int
	elb      bool
	headerAt time.Time
}

var writerPool = sync.Pool{New: func() any { return new(proxyWriter) }}

// WriteHeader notes the first final status and when it came.
func (p *proxyWriter) WriteHeader(code int) {
	if p.code == 0 && code >= 200 {
		p.code, p.headerAt = code, p.clock.Now()
	}
	p.ResponseWriter.WriteHeader(code)
}

// Write notes an implicit 200.
func (p *proxyWriter) Write(b []byte) (int, error) {
	if p.code == 0 {
		p.code, p.headerAt = http.StatusOK, p.clock.Now()
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController find Flush and Hijack.
func (p *proxyWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// bufferPool recycles ReverseProxy's copy buffers.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// Get and Put implement httputil.BufferPool.
func (bufferPool) Get() []byte  { return *(buffers.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }

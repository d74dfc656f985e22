package lb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"time"
)

// h1Pool is the HTTP/1.1 path to plain-HTTP targets, the common case. The
// request goroutine writes the request and reads the response on a pooled
// keep-alive connection itself; net/http's Transport would hand both to two
// goroutines of its own per connection, which on a loaded machine costs
// more than the proxying. Upgrades, h2c and https targets go through
// httputil.ReverseProxy instead.
type h1Pool struct {
	idleTimeout time.Duration // wait for response headers; then 504
	dialer      net.Dialer

	mu   sync.Mutex
	idle map[string][]*h1Conn
}

// maxIdlePerTarget bounds the idle connections kept per target.
const maxIdlePerTarget = 1024

type h1Conn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// alive reports whether an idle connection is still open: the target has
// neither closed it nor sent anything unasked.
func (c *h1Conn) alive() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	return peekAlive(c.c)
}

func newH1Pool(idle time.Duration) *h1Pool {
	return &h1Pool{
		idleTimeout: idle,
		dialer:      net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
		idle:        map[string][]*h1Conn{},
	}
}

func (p *h1Pool) get(ctx context.Context, addr string) (*h1Conn, bool, error) {
	p.mu.Lock()
	if l := p.idle[addr]; len(l) > 0 {
		c := l[len(l)-1]
		p.idle[addr] = l[:len(l)-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
	nc, err := p.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	return &h1Conn{c: nc, br: bufio.NewReaderSize(nc, 16<<10), bw: bufio.NewWriterSize(nc, 8<<10)}, false, nil
}

func (p *h1Pool) put(addr string, c *h1Conn) {
	p.mu.Lock()
	if len(p.idle[addr]) < maxIdlePerTarget {
		p.idle[addr] = append(p.idle[addr], c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	c.c.Close()
}

func (p *h1Pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.idle {
		for _, c := range l {
			c.c.Close()
		}
	}
	p.idle = map[string][]*h1Conn{}
}

// fastPath reports whether a request can take the h1Pool path.
func fastPath(r *http.Request, scheme string) bool {
	return scheme == "http" && r.Header.Get("Upgrade") == ""
}

// hopHeaders are the hop-by-hop headers a proxy does not pass on.
var hopHeaders = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// errRetry marks a failure on a reused connection before the target could
// have seen the request: a new connection may try again.
var errRetry = errors.New("stale keep-alive connection")

// errNoAnswer marks a target that closed the connection without a word of
// answer: its process died (a port proxy accepted for it), or it did.
var errNoAnswer = errors.New("the target closed the connection without answering")

// idempotent says whether a request may be sent again to another target
// when the first one closed without answering: as nginx, every method but
// POST, PATCH and LOCK, and only with a body that can be sent again.
func idempotent(r *http.Request, replayable bool) bool {
	switch r.Method {
	case http.MethodPost, http.MethodPatch, "LOCK":
		return false
	}
	return replayable
}

// serve proxies r to addr and writes the answer to w. It returns the
// target's status, or the load balancer's own (502, 504) with elb set; or,
// with unreached set and nothing written, that no connection to the target
// could be made, so that the caller may send the request elsewhere.
func (p *h1Pool) serve(w http.ResponseWriter, r *http.Request, addr, proto, port string, clock Clock) (code int, headerAt time.Time, elb, unreached bool) {
	replayable := r.Body == nil || r.Body == http.NoBody
	var (
		c    *h1Conn
		resp *http.Response
		err  error
		stop func() bool
	)
	for attempt := 0; ; attempt++ {
		var reused bool
		c, reused, err = p.get(r.Context(), addr)
		if err != nil && r.Context().Err() == nil {
			return 0, time.Time{}, false, true // not even a connection: the target never saw it
		}
		if err == nil && reused && !replayable && !c.alive() {
			c.c.Close() // a body cannot be sent twice: do not bet it on a stale connection
			continue
		}
		if err == nil {
			// A client that goes away unblocks whatever waits on c.
			cc := c.c
			stop = context.AfterFunc(r.Context(), func() { _ = cc.SetDeadline(time.Unix(1, 0)) })
			resp, err = p.roundTrip(c, r, reused && replayable && attempt == 0, proto, port)
		}
		if err == nil {
			break
		}
		if c != nil {
			stop()
			c.c.Close()
		}
		if errors.Is(err, errRetry) {
			continue
		}
		if errors.Is(err, errNoAnswer) && idempotent(r, replayable) && r.Context().Err() == nil {
			return 0, time.Time{}, false, true // nothing written: another target may answer
		}
		if r.Context().Err() != nil {
			return 460, time.Time{}, true, false
		}
		code := http.StatusBadGateway
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			code = http.StatusGatewayTimeout
		}
		writeELBError(w, code)
		return code, time.Time{}, true, false
	}
	headerAt = clock.Now()
	h := w.Header()
	for k, v := range resp.Header {
		if !hopHeaders[k] {
			h[k] = v
		}
	}
	if len(resp.Trailer) > 0 {
		names := make([]string, 0, len(resp.Trailer))
		for k := range resp.Trailer {
			names = append(names, k)
		}
		h["Trailer"] = []string{strings.Join(names, ", ")}
	}
	if resp.ContentLength >= 0 && resp.Request.Method != http.MethodHead {
		h["Content-Length"] = []string{strconv.FormatInt(resp.ContentLength, 10)}
	}
	w.WriteHeader(resp.StatusCode)
	err = copyBody(w, resp.Body, resp.ContentLength < 0)
	resp.Body.Close()
	if !stop() {
		resp.Close = true // the deadline is spoilt: do not reuse c
	}
	if err != nil {
		c.c.Close()
		panic(http.ErrAbortHandler) // as ReverseProxy: the client sees the cut
	}
	for k, v := range resp.Trailer {
		h[http.TrailerPrefix+k] = v
	}
	if resp.Close {
		c.c.Close()
	} else {
		p.put(addr, c)
	}
	return resp.StatusCode, headerAt, false, false
}

// roundTrip writes r on c and reads the response headers.
func (p *h1Pool) roundTrip(c *h1Conn, r *http.Request, retryable bool, proto, port string) (*http.Response, error) {
	if err := writeRequest(c.bw, r, proto, port); err != nil {
		if retryable {
			return nil, errRetry
		}
		return nil, err
	}
	_ = c.c.SetReadDeadline(time.Now().Add(p.idleTimeout))
	resp, err := http.ReadResponse(c.br, r)
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 {
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return nil, errors.New("target switched protocols unasked")
		}
		resp, err = http.ReadResponse(c.br, r)
	}
	if err != nil {
		closed := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)
		if retryable && closed {
			return nil, errRetry
		}
		if closed {
			return nil, fmt.Errorf("%w: %w", errNoAnswer, err)
		}
		return nil, err
	}
	_ = c.c.SetReadDeadline(time.Time{})
	return resp, nil
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && strings.Contains(oe.Err.Error(), "reset")
}

// writeRequest writes r as HTTP/1.1 without its hop-by-hop headers, with
// X-Forwarded-For appended to and X-Forwarded-Proto and -Port set.
func writeRequest(bw *bufio.Writer, r *http.Request, proto, port string) error {
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' {
		uri = r.URL.RequestURI()
	}
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(uri)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(r.Host)
	bw.WriteString("\r\n")
	var dropped []string
	for _, v := range r.Header["Connection"] {
		for _, f := range strings.Split(v, ",") {
			dropped = append(dropped, http.CanonicalHeaderKey(strings.TrimSpace(f)))
		}
	}
	for k, vs := range r.Header {
		if hopHeaders[k] || k == "X-Forwarded-For" || k == "X-Forwarded-Proto" || k == "X-Forwarded-Port" || k == "Content-Length" || k == "Expect" || contains(dropped, k) {
			continue
		}
		for _, v := range vs {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	if te := r.Header.Get("Te"); strings.Contains(te, "trailers") {
		bw.WriteString("Te: trailers\r\n")
	}
	bw.WriteString("X-Forwarded-For: ")
	for _, v := range r.Header["X-Forwarded-For"] {
		bw.WriteString(v)
		bw.WriteString(", ")
	}
	bw.WriteString(clientIP(r.RemoteAddr))
	bw.WriteString("\r\nX-Forwarded-Proto: ")
	bw.WriteString(proto)
	bw.WriteString("\r\nX-Forwarded-Port: ")
	bw.WriteString(port)
	bw.WriteString("\r\n")
	hasBody := r.Body != nil && r.Body != http.NoBody
	switch {
	case !hasBody:
		bw.WriteString("\r\n")
	case r.ContentLength > 0:
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.FormatInt(r.ContentLength, 10))
		bw.WriteString("\r\n\r\n")
		if _, err := io.Copy(bw, io.LimitReader(r.Body, r.ContentLength)); err != nil {
			return err
		}
	default:
		bw.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		cw := httputil.NewChunkedWriter(bw)
		if _, err := io.Copy(cw, r.Body); err != nil {
			return err
		}
		cw.Close()
		bw.WriteString("\r\n")
	}
	return bw.Flush()
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func clientIP(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}

// copyBody copies a response body to the client, flushing each chunk of a
// body of unknown length at once so that streams stream.
func copyBody(w http.ResponseWriter, body io.Reader, stream bool) error {
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	buf := *bp
	rc := http.NewResponseController(w)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if stream {
				_ = rc.Flush()
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

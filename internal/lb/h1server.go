package lb

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// h1Server serves the HTTP/1 connections of a plain-HTTP listener with a
// loop of its own: read a request, hand it to the handler, write the answer
// on the same goroutine, read the next. net/http's server costs more per
// request on a loaded machine than the proxying itself: it starts a
// goroutine reading in the background for every request without a body (to
// notice a client that goes away) and stops it again after the handler,
// and sniffs, buffers and re-frames every response. Here the background
// read starts only for a request still unanswered after bgReadDelay, which
// a proxy that answers in microseconds never reaches.
//
// Connections that open with HTTP/2's preface (h2c with prior knowledge)
// are handed to net/http's server, which speaks HTTP/2. HTTPS listeners use
// net/http's server throughout.
type h1Server struct {
	h           http.Handler
	h2          *http.Server // h2c connections
	h2ln        *chanListener
	errLog      *log.Logger
	idleTimeout time.Duration // between requests, and to read a request's headers

	closing atomic.Bool
	mu      sync.Mutex
	conns   map[*srvConn]struct{}
	wg      sync.WaitGroup // serveConn goroutines
}

// bgReadDelay is how long a request without a body runs before its
// connection is watched for the client going away.
const bgReadDelay = 50 * time.Millisecond

// maxHeaderBytes bounds a request's line and headers, as net/http's
// DefaultMaxHeaderBytes.
const maxHeaderBytes = 1 << 20

// maxDrain is how much of an unread request body is read and thrown away
// to keep the connection; with more left, the connection is closed.
const maxDrain = 256 << 10

func newH1Server(h http.Handler, errLog *log.Logger, idle time.Duration) *h1Server {
	protos := new(http.Protocols)
	protos.SetUnencryptedHTTP2(true)
	s := &h1Server{
		h: h, errLog: errLog, idleTimeout: idle,
		conns: map[*srvConn]struct{}{},
		h2ln:  newChanListener(),
	}
	s.h2 = &http.Server{Handler: h, ErrorLog: errLog, Protocols: protos, IdleTimeout: idle, ReadHeaderTimeout: idle}
	go func() { _ = s.h2.Serve(s.h2ln) }()
	return s
}

// serve accepts connections from ln until it is closed.
func (s *h1Server) serve(ln net.Listener) {
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !s.closing.Load() {
				// Out of descriptors and the like: wait, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return
		}
		backoff = 0
		c := s.newConn(nc)
		if c == nil {
			continue
		}
		go c.serve()
	}
}

func (s *h1Server) newConn(nc net.Conn) *srvConn {
	c := &srvConn{s: s, nc: nc, remote: nc.RemoteAddr().String(), bgDone: make(chan struct{}, 1)}
	c.cr.c = c
	c.br = bufio.NewReaderSize(&c.cr, 4<<10)
	c.bw = bufio.NewWriterSize(nc, 4<<10)
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		nc.Close()
		return nil
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	return c
}

func (s *h1Server) forget(c *srvConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// shutdown lets the requests in flight finish and closes every connection
// once it is idle; when ctx ends first, it closes them all.
func (s *h1Server) shutdown(ctx context.Context) {
	s.closing.Store(true)
	s.h2ln.Close()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	go func() { _ = s.h2.Shutdown(ctx) }()
	s.closeIdle()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			s.close()
			return
		case <-tick.C:
			s.closeIdle()
		}
	}
}

// closeIdle closes the connections that wait for a request.
func (s *h1Server) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(connIdle, connClosed) {
			_ = c.nc.SetReadDeadline(aLongTimeAgo)
		}
	}
}

// close drops every connection at once.
func (s *h1Server) close() {
	s.closing.Store(true)
	s.h2ln.Close()
	_ = s.h2.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.Swap(connClosed) != connHijacked {
			c.nc.Close()
		}
	}
}

var aLongTimeAgo = time.Unix(1, 0)

// Connection states.
const (
	connIdle     = iota // waiting for a request
	connActive          // reading or serving one
	connHijacked        // the handler took it
	connClosed
)

// srvConn is one client connection.
type srvConn struct {
	s      *h1Server
	nc     net.Conn
	remote string
	cr     connReader
	br     *bufio.Reader
	bw     *bufio.Writer
	state  atomic.Int32

	// The background read: it holds a byte it read (the client's next
	// request began) or cancels the request's context (the client went).
	bgAbort  atomic.Bool
	bgDone   chan struct{}
	bgCancel context.CancelFunc
	pending  []byte
	bgByte   [1]byte
}

// connReader is the connection as the request reader sees it: a byte the
// background read took comes first, and a request's headers may use at most
// budget bytes.
type connReader struct {
	c       *srvConn
	limited bool
	budget  int
}

var errHeaderTooLarge = errors.New("request headers too large")

func (r *connReader) Read(p []byte) (int, error) {
	if len(r.c.pending) > 0 {
		n := copy(p, r.c.pending)
		r.c.pending = r.c.pending[n:]
		return n, nil
	}
	if r.limited {
		if r.budget <= 0 {
			return 0, errHeaderTooLarge
		}
		if len(p) > r.budget {
			p = p[:r.budget]
		}
	}
	n, err := r.c.nc.Read(p)
	if r.limited {
		r.budget -= n
	}
	return n, err
}

func (c *srvConn) serve() {
	defer c.s.forget(c)
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.s.errLog.Printf("lb: panic serving %s: %v\n%s", c.remote, v, buf)
			}
			if c.state.Load() != connHijacked {
				c.nc.Close()
			}
		}
	}()
	first := true
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(c.s.idleTimeout))
		if _, err := c.br.Peek(1); err != nil {
			c.nc.Close()
			return
		}
		if !c.state.CompareAndSwap(connIdle, connActive) {
			c.nc.Close() // shutting down
			return
		}
		if first {
			first = false
			if c.h2Preface() {
				_ = c.nc.SetReadDeadline(time.Time{})
				c.s.mu.Lock()
				delete(c.s.conns, c)
				c.s.mu.Unlock()
				c.s.h2ln.push(&prefixConn{Conn: c.nc, r: c.br})
				return
			}
		}
		keep := c.serveOne()
		if !keep || c.s.closing.Load() {
			if c.state.Load() != connHijacked {
				c.nc.Close()
			}
			return
		}
		if !c.state.CompareAndSwap(connActive, connIdle) {
			c.nc.Close()
			return
		}
	}
}

const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// h2Preface reports whether the connection opens with HTTP/2's preface;
// it waits for more bytes only while what came could still be one.
func (c *srvConn) h2Preface() bool {
	b, _ := c.br.Peek(c.br.Buffered())
	if len(b) > len(h2Preface) {
		b = b[:len(h2Preface)]
	}
	if !strings.HasPrefix(h2Preface, string(b)) {
		return false
	}
	b, _ = c.br.Peek(len(h2Preface))
	return string(b) == h2Preface
}

// serveOne reads and answers one request; it reports whether the
// connection may carry another.
func (c *srvConn) serveOne() bool {
	c.cr.limited, c.cr.budget = true, maxHeaderBytes+4096
	req, err := http.ReadRequest(c.br)
	c.cr.limited = false
	if err != nil {
		switch {
		case errors.Is(err, errHeaderTooLarge):
			c.reject(http.StatusRequestHeaderFieldsTooLarge, "Request Header Fields Too Large")
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), isTimeout(err), isNetErr(err):
		default:
			c.reject(http.StatusBadRequest, "Bad Request")
		}
		return false
	}
	if msg := badRequest(req); msg != "" {
		c.reject(http.StatusBadRequest, msg)
		return false
	}
	req.RemoteAddr = c.remote
	hasBody := req.Body != http.NoBody
	// A body may take its time, and the watch for the client going away
	// must not end with the deadline for the headers.
	_ = c.nc.SetReadDeadline(time.Time{})
	w := &respWriter{c: c, req: req, header: make(http.Header, 8), contentLength: -1}
	var expect *expectContinue
	if hasBody && strings.EqualFold(req.Header.Get("Expect"), "100-continue") && req.ProtoAtLeast(1, 1) {
		expect = &expectContinue{ReadCloser: req.Body, w: w}
		req.Body = expect
	}
	ctx, cancel := context.WithCancel(context.Background())
	req = req.WithContext(ctx)
	c.bgCancel = cancel
	var bg *time.Timer
	if !hasBody && req.Header.Get("Upgrade") == "" && c.br.Buffered() == 0 {
		bg = time.AfterFunc(bgReadDelay, c.backgroundRead)
	}

	c.s.h.ServeHTTP(w, req)

	if bg != nil && !bg.Stop() {
		c.endBackgroundRead()
	}
	cancel()
	if c.state.Load() == connHijacked {
		return false
	}
	keep := w.finish()
	if hasBody && keep {
		if expect != nil && !expect.sent {
			keep = false // the client may or may not send the body now
		} else if n, err := io.CopyN(io.Discard, req.Body, maxDrain+1); n > maxDrain || (err != nil && err != io.EOF) {
			keep = false
		}
	}
	if err := c.bw.Flush(); err != nil {
		return false
	}
	return keep && !w.closeAfter
}

// badRequest checks what net/http's server checks beyond parsing
// (http.ReadRequest has moved the Host header to r.Host).
func badRequest(r *http.Request) string {
	if r.ProtoAtLeast(1, 1) && r.Host == "" && r.Method != http.MethodConnect {
		return "missing required Host header"
	}
	if !httpguts.ValidHostHeader(r.Host) {
		return "malformed Host header"
	}
	for k, vv := range r.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return "invalid header name"
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return "invalid header value"
			}
		}
	}
	return ""
}

// reject answers a request that cannot be served and closes the
// connection, as net/http's server does.
func (c *srvConn) reject(code int, msg string) {
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	body := strconv.Itoa(code) + " " + msg
	_, _ = io.WriteString(c.bw, "HTTP/1.1 "+strconv.Itoa(code)+" "+http.StatusText(code)+
		"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "+
		strconv.Itoa(len(body))+"\r\n\r\n"+body)
	_ = c.bw.Flush()
}

// backgroundRead waits for the client while the handler runs: a byte is
// the next request (kept), an error is the client gone (the request's
// context ends).
func (c *srvConn) backgroundRead() {
	n, err := c.nc.Read(c.bgByte[:])
	if n == 1 {
		c.pending = c.bgByte[:1]
	}
	if err != nil && !c.bgAbort.Load() {
		c.bgCancel()
	}
	c.bgDone <- struct{}{}
}

// endBackgroundRead stops a background read that started and waits for it.
func (c *srvConn) endBackgroundRead() {
	c.bgAbort.Store(true)
	_ = c.nc.SetReadDeadline(aLongTimeAgo)
	<-c.bgDone
	c.bgAbort.Store(false)
	_ = c.nc.SetReadDeadline(time.Time{})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isNetErr(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe)
}

// expectContinue sends "100 Continue" when the handler first reads the
// body of a request that asked for it.
type expectContinue struct {
	io.ReadCloser
	w    *respWriter
	sent bool
}

func (e *expectContinue) Read(p []byte) (int, error) {
	if !e.sent {
		e.sent = true
		if !e.w.wroteHeader {
			_, _ = e.w.c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			if err := e.w.c.bw.Flush(); err != nil {
				return 0, err
			}
		}
	}
	return e.ReadCloser.Read(p)
}

// respWriter is the http.ResponseWriter of srvConn: the header is written
// on the first Write or Flush, the body with the length the handler set or
// chunked.
type respWriter struct {
	c             *srvConn
	req           *http.Request
	header        http.Header
	wroteHeader   bool
	code          int
	contentLength int64 // -1: unknown
	written       int64
	chunked       bool
	noBody        bool
	closeAfter    bool
}

func (w *respWriter) Header() http.Header { return w.header }

func (w *respWriter) WriteHeader(code int) {
	if w.wroteHeader || w.c.state.Load() == connHijacked {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// An interim answer (103 Early Hints): written at once.
		w.c.bw.WriteString("HTTP/1.1 ")
		w.c.bw.WriteString(statusLine(code))
		w.writeHeaderFields()
		w.c.bw.WriteString("\r\n")
		_ = w.c.bw.Flush()
		return
	}
	w.wroteHeader, w.code = true, code
	h := w.header
	w.noBody = w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified || code < 200
	if cl := h["Content-Length"]; len(cl) == 1 {
		if n, err := strconv.ParseInt(cl[0], 10, 64); err == nil && n >= 0 {
			w.contentLength = n
		} else {
			delete(h, "Content-Length")
		}
	}
	if w.req.Close || hasToken(h["Connection"], "close") || (w.req.ProtoMajor == 1 && w.req.ProtoMinor == 0 && !hasToken(w.req.Header["Connection"], "keep-alive")) {
		w.closeAfter = true
	}
	delete(h, "Transfer-Encoding")
	if !w.noBody && w.contentLength < 0 {
		if w.req.ProtoAtLeast(1, 1) {
			w.chunked = true
		} else {
			w.closeAfter = true // the end of the body is the end of the connection
		}
	}
	bw := w.c.bw
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(statusLine(code))
	w.writeHeaderFields()
	if _, ok := h["Date"]; !ok {
		bw.WriteString("Date: ")
		bw.WriteString(httpDate())
		bw.WriteString("\r\n")
	}
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	switch {
	case w.closeAfter && !hasToken(h["Connection"], "close"):
		bw.WriteString("Connection: close\r\n")
	case !w.closeAfter && w.req.ProtoMinor == 0 && w.req.ProtoMajor == 1:
		bw.WriteString("Connection: keep-alive\r\n")
	}
	bw.WriteString("\r\n")
}

// writeHeaderFields writes the header but for trailers, with no line
// breaks inside values.
func (w *respWriter) writeHeaderFields() {
	bw := w.c.bw
	for k, vv := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) || !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		if k == "Connection" && w.closeAfter {
			continue // written once, as close
		}
		for _, v := range vv {
			bw.WriteString(k)
			bw.WriteString(": ")
			if strings.ContainsAny(v, "\r\n") {
				v = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(v)
			}
			bw.WriteString(strings.TrimSpace(v))
			bw.WriteString("\r\n")
		}
	}
}

func (w *respWriter) Write(p []byte) (int, error) {
	if w.c.state.Load() == connHijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if w.noBody {
		if w.req.Method == http.MethodHead {
			return len(p), nil
		}
		return 0, http.ErrBodyNotAllowed
	}
	if w.contentLength >= 0 && w.written+int64(len(p)) > w.contentLength {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	bw := w.c.bw
	if w.chunked {
		bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
		bw.WriteString("\r\n")
		n, err := bw.Write(p)
		if err == nil {
			_, err = bw.WriteString("\r\n")
		}
		return n, err
	}
	return bw.Write(p)
}

// FlushError sends what is buffered; http.ResponseController finds it.
func (w *respWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.c.bw.Flush()
}

func (w *respWriter) Flush() { _ = w.FlushError() }

// Hijack hands the connection to the handler (protocol upgrades).
func (w *respWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.wroteHeader {
		return nil, nil, errors.New("lb: hijack after the response began")
	}
	if !w.c.state.CompareAndSwap(connActive, connHijacked) {
		return nil, nil, http.ErrHijacked
	}
	_ = w.c.nc.SetDeadline(time.Time{})
	return w.c.nc, bufio.NewReadWriter(w.c.br, w.c.bw), nil
}

// finish ends the response; it reports whether the connection is still
// in step with the client.
func (w *respWriter) finish() bool {
	if !w.wroteHeader {
		if w.contentLength < 0 {
			w.header["Content-Length"] = []string{"0"}
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.chunked {
		bw := w.c.bw
		bw.WriteString("0\r\n")
		for k, vv := range w.header {
			name, isTrailer := strings.CutPrefix(k, http.TrailerPrefix)
			if !isTrailer {
				continue
			}
			for _, v := range vv {
				bw.WriteString(name)
				bw.WriteString(": ")
				bw.WriteString(v)
				bw.WriteString("\r\n")
			}
		}
		for _, decl := range w.header["Trailer"] {
			for _, name := range strings.Split(decl, ",") {
				name = http.CanonicalHeaderKey(strings.TrimSpace(name))
				for _, v := range w.header[name] {
					bw.WriteString(name)
					bw.WriteString(": ")
					bw.WriteString(v)
					bw.WriteString("\r\n")
				}
			}
		}
		bw.WriteString("\r\n")
	}
	if !w.noBody && w.contentLength >= 0 && w.written < w.contentLength {
		return false // the client waits for bytes that will not come
	}
	return true
}

func hasToken(vv []string, token string) bool {
	for _, v := range vv {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), token) {
				return true
			}
		}
	}
	return false
}

// statusLines caches "200 OK\r\n" and its kind.
var statusLines sync.Map

func statusLine(code int) string {
	if v, ok := statusLines.Load(code); ok {
		return v.(string)
	}
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	line := strconv.Itoa(code) + " " + text + "\r\n"
	if code >= 100 && code < 600 {
		statusLines.Store(code, line)
	}
	return line
}

// dateCache holds the Date header of the current second.
var dateCache atomic.Pointer[struct {
	sec  int64
	text string
}]

func httpDate() string {
	now := time.Now()
	if d := dateCache.Load(); d != nil && d.sec == now.Unix() {
		return d.text
	}
	d := &struct {
		sec  int64
		text string
	}{now.Unix(), now.UTC().Format(http.TimeFormat)}
	dateCache.Store(d)
	return d.text
}

// prefixConn is a connection whose first bytes were read already.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (p *prefixConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// chanListener hands connections to an http.Server.
type chanListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener() *chanListener {
	return &chanListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) push(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{} }

// Package connlimit keeps the API's connections within what the process can
// afford, so that no client load can starve the server (or the store it
// embeds) of file descriptors.
//
// A Limiter caps the connections an http.Server holds. When a new connection
// arrives at the cap, the Limiter makes room by closing the connection that
// does the least good: first one that has spent longer than MinAge sending a
// request (a slow client holding a descriptor), then one that never sent a
// byte, then one whose request is still arriving, and only then the longest
// idle keep-alive connection; among equals it takes from the remote address
// that holds the most connections, so that one address cannot crowd out the
// others. A connection whose request is being
// processed is never closed. When nothing can be closed the new connection is
// refused at once (closed), rather than left to queue behind slow ones.
//
// It needs three hooks on the server: Listener wraps the listener,
// ConnState and ConnContext go into the http.Server, and Handler wraps the
// handler to learn when a request's body has been read.
package connlimit

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// phase is where a connection stands.
type phase uint8

const (
	// fresh: accepted, no byte of a request read yet.
	fresh phase = iota
	// header: reading a request's header.
	header
	// body: the handler runs and the request's body is not all read.
	body
	// working: the request is read and being answered.
	working
	// idle: between requests on a keep-alive connection.
	idle
)

// Limiter caps the connections of one http.Server.
type Limiter struct {
	// Max is the most connections held at once.
	Max int
	// MinAge is how long a request may take to arrive before its
	// connection counts as slow; default 1s.
	MinAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	conns  map[*conn]struct{}
	byHost map[string]int

	evicted, refused atomic.Int64
}

// conn is an accepted connection and what the Limiter knows of it.
type conn struct {
	net.Conn
	host string
	// phase and since are guarded by the Limiter's mu.
	phase phase
	since time.Time
	gone  bool
}

// Stats are counters for metrics.
type Stats struct {
	Open             int
	Evicted, Refused int64
}

// Stats reads the counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Stats{Open: len(l.conns), Evicted: l.evicted.Load(), Refused: l.refused.Load()}
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Listener wraps ln so that every connection it accepts is counted.
func (l *Limiter) Listener(ln net.Listener) net.Listener { return &listener{Listener: ln, l: l} }

type listener struct {
	net.Listener
	l *Limiter
}

func (ln *listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc := ln.l.admit(c); tc != nil {
			return tc, nil
		}
		c.Close() // refused: the server is full of requests it is answering
	}
}

// admit registers a new connection, making room if the cap is reached; it
// returns nil when there is no room.
func (l *Limiter) admit(c net.Conn) *conn {
	host := hostOf(c.RemoteAddr())
	l.mu.Lock()
	if l.conns == nil {
		l.conns, l.byHost = map[*conn]struct{}{}, map[string]int{}
	}
	var victim *conn
	if len(l.conns) >= max(l.Max, 1) {
		victim = l.victim()
		if victim == nil {
			l.mu.Unlock()
			l.refused.Add(1)
			return nil
		}
		l.removeLocked(victim)
		l.evicted.Add(1)
	}
	tc := &conn{Conn: c, host: host, phase: fresh, since: l.now()}
	l.conns[tc] = struct{}{}
	l.byHost[host]++
	l.mu.Unlock()
	if victim != nil {
		victim.Conn.Close()
	}
	return tc
}

// victim picks the connection to close (mu held), or nil.
func (l *Limiter) victim() *conn {
	minAge := l.MinAge
	if minAge == 0 {
		minAge = time.Second
	}
	now := l.now()
	var best *conn
	bestRank := -1
	for c := range l.conns {
		r := l.rank(c, now, minAge)
		if r < 0 {
			continue
		}
		if best == nil || r > bestRank ||
			r == bestRank && (l.byHost[c.host] > l.byHost[best.host] || l.byHost[c.host] == l.byHost[best.host] && c.since.Before(best.since)) {
			best, bestRank = c, r
		}
	}
	return best
}

// rank orders connections by how readily they are closed; -1 never.
//
// A request that has been arriving for longer than MinAge goes first, then a
// connection silent for as long; then requests still arriving but younger
// (under a flood of new connections every slow one is young, and an honest
// request arrives in one packet, so it is rarely caught in this state); a
// keep-alive connection between requests goes last: it belongs to a client
// that completed a request and will send another.
func (l *Limiter) rank(c *conn, now time.Time, minAge time.Duration) int {
	old := now.Sub(c.since) >= minAge
	switch c.phase {
	case header, body:
		if old {
			return 4
		}
		return 2
	case fresh:
		if old {
			return 3
		}
		return 2
	case idle:
		return 1
	}
	return -1 // being answered
}

func (l *Limiter) removeLocked(c *conn) {
	if c.gone {
		return
	}
	c.gone = true
	delete(l.conns, c)
	if l.byHost[c.host]--; l.byHost[c.host] <= 0 {
		delete(l.byHost, c.host)
	}
}

func (l *Limiter) set(c *conn, p phase) {
	l.mu.Lock()
	if !c.gone {
		c.phase, c.since = p, l.now()
	}
	l.mu.Unlock()
}

// ConnState follows the server's view of each connection; set it as the
// http.Server's ConnState.
func (l *Limiter) ConnState(nc net.Conn, s http.ConnState) {
	c, ok := unwrap(nc).(*conn)
	if !ok {
		return
	}
	switch s {
	case http.StateActive:
		l.set(c, header)
	case http.StateIdle:
		l.set(c, idle)
	case http.StateClosed, http.StateHijacked:
		l.mu.Lock()
		l.removeLocked(c)
		l.mu.Unlock()
	}
}

// unwrap finds the limiter's connection under a TLS one.
func unwrap(nc net.Conn) net.Conn {
	if tc, ok := nc.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return nc
}

type connKey struct{}

// ConnContext lets handlers find their connection; set it as the
// http.Server's ConnContext.
func (l *Limiter) ConnContext(ctx context.Context, nc net.Conn) context.Context {
	if c, ok := unwrap(nc).(*conn); ok {
		return context.WithValue(ctx, connKey{}, c)
	}
	return ctx
}

// Handler wraps h so that a request counts as slow only while its body
// is still arriving, not while it is being answered.
func (l *Limiter) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(connKey{}).(*conn)
		if c == nil {
			h.ServeHTTP(w, r)
			return
		}
		if r.ContentLength == 0 {
			l.set(c, working)
		} else {
			l.set(c, body)
			r.Body = &bodyReader{ReadCloser: r.Body, done: func() { l.set(c, working) }}
		}
		h.ServeHTTP(w, r)
	})
}

// bodyReader reports when the body has been read to its end.
type bodyReader struct {
	io.ReadCloser
	done func()
	once sync.Once
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.done)
	}
	return n, err
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

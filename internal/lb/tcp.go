package lb

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// tcpListener is a network load balancer's TCP listener: it passes the
// bytes of each connection to one target, chosen round robin.
type tcpListener struct {
	key   string
	ln    net.Listener
	b     *Balancer
	group atomic.Pointer[group]

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (b *Balancer) openTCP(l Listener, g *group) (*tcpListener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(l.Host, strconv.Itoa(l.Port)))
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", l.ARN, err)
	}
	tl := &tcpListener{key: bindKey(l), ln: ln, b: b, conns: map[net.Conn]struct{}{}}
	tl.group.Store(g)
	go tl.accept()
	return tl, nil
}

func (l *tcpListener) accept() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		go l.serve(c)
	}
}

func (l *tcpListener) track(c net.Conn, add bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if add {
		l.conns[c] = struct{}{}
	} else {
		delete(l.conns, c)
	}
}

func (l *tcpListener) serve(c net.Conn) {
	defer c.Close()
	g := l.group.Load()
	t := g.acquire("")
	if t == nil {
		return
	}
	defer g.release(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	d := net.Dialer{}
	bc, err := d.DialContext(ctx, "tcp", t.addr)
	cancel()
	if err != nil {
		return
	}
	defer bc.Close()
	l.track(c, true)
	l.track(bc, true)
	defer l.track(c, false)
	defer l.track(bc, false)
	done := make(chan struct{})
	go func() {
		pipe(bc, c)
		close(done)
	}()
	pipe(c, bc)
	<-done
}

// pipe copies src to dst and then half-closes dst, so each side sees the
// other's end of stream.
func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	} else {
		_ = dst.Close()
	}
}

func (l *tcpListener) addr() net.Addr { return l.ln.Addr() }

func (l *tcpListener) shutdown() { _ = l.ln.Close() }

func (l *tcpListener) close() {
	_ = l.ln.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		_ = c.Close()
	}
}

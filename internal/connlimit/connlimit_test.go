package connlimit

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// serve runs an HTTP server behind a Limiter of max connections; the
// handler answers "ok", or waits for release when the path is /hold.
func serve(t *testing.T, max int) (*Limiter, string, func()) {
	t.Helper()
	l := &Limiter{Max: max, MinAge: 100 * time.Millisecond}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var once sync.Once
	srv := &http.Server{
		Handler: l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			if r.URL.Path == "/hold" {
				<-release
			}
			io.WriteString(w, "ok")
		})),
		ConnState:   l.ConnState,
		ConnContext: l.ConnContext,
	}
	go srv.Serve(l.Listener(ln))
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(func() {
		free()
		srv.Close()
	})
	return l, ln.Addr().String(), free
}

// dial connects from the given loopback address ("" for the default).
func dial(t *testing.T, addr, from string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// request sends a GET on c and reports whether "ok" came back.
func request(c net.Conn, path string) bool {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b) == "ok"
}

// closed says whether the server has closed c.
func closed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !strings.Contains(err.Error(), "timeout")
}

// waitOpen waits until the limiter holds n connections.
func waitOpen(t *testing.T, l *Limiter, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for l.Stats().Open != n {
		if time.Now().After(deadline) {
			t.Fatalf("the limiter holds %d connections, want %d", l.Stats().Open, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSlowRequestsMakeRoomForANewClient(t *testing.T) {
	l, addr, _ := serve(t, 3)
	var slow []net.Conn
	for i := 0; i < 3; i++ {
		c := dial(t, addr, "")
		io.WriteString(c, "GET / HTTP/1.1\r\nHo") // a header that never ends
		slow = append(slow, c)
	}
	waitOpen(t, l, 3)
	time.Sleep(150 * time.Millisecond) // older than MinAge: slow now
	if !request(dial(t, addr, ""), "/") {
		t.Fatal("a new client was not answered while slow requests held every connection")
	}
	n := 0
	for _, c := range slow {
		if closed(c) {
			n++
		}
	}
	if n != 1 || l.Stats().Evicted != 1 {
		t.Fatalf("%d slow connections closed (%d evictions), want exactly 1", n, l.Stats().Evicted)
	}
}

func TestRequestsBeingAnsweredAreNeverClosed(t *testing.T) {
	l, addr, release := serve(t, 2)
	held := make(chan bool, 2)
	for i := 0; i < 2; i++ {
		c := dial(t, addr, "")
		go func() { held <- request(c, "/hold") }()
	}
	waitOpen(t, l, 2)
	time.Sleep(150 * time.Millisecond)
	// Full of work: a newcomer is refused at once instead of waiting.
	c := dial(t, addr, "")
	if !closed(c) {
		t.Fatal("a connection beyond the cap was neither served nor refused")
	}
	if l.Stats().Refused != 1 || l.Stats().Evicted != 0 {
		t.Fatalf("stats %+v, want 1 refused and none evicted", l.Stats())
	}
	release()
	for i := 0; i < 2; i++ {
		if !<-held {
			t.Fatal("a request being answered lost its connection")
		}
	}
}

func TestIdleConnectionsGoLastAndFromTheBusiestAddress(t *testing.T) {
	l, addr, _ := serve(t, 4)
	// 127.0.0.1 holds three keep-alive connections, 127.0.0.2 one.
	var crowd []net.Conn
	for i := 0; i < 3; i++ {
		c := dial(t, addr, "127.0.0.1")
		if !request(c, "/") {
			t.Fatal("no answer")
		}
		crowd = append(crowd, c)
	}
	lone := dial(t, addr, "127.0.0.2")
	if !request(lone, "/") {
		t.Fatal("no answer")
	}
	waitOpen(t, l, 4)
	if !request(dial(t, addr, "127.0.0.3"), "/") {
		t.Fatal("a new client was not answered")
	}
	if !request(lone, "/") {
		t.Fatal("the only connection of 127.0.0.2 was closed, not one of the busiest address")
	}
	n := 0
	for _, c := range crowd {
		if !request(c, "/") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d of the busiest address's connections were closed, want 1", n)
	}
}

func TestASlowBodyGoesBeforeAnIdleConnection(t *testing.T) {
	l, addr, _ := serve(t, 2)
	keep := dial(t, addr, "")
	if !request(keep, "/") {
		t.Fatal("no answer")
	}
	slow := dial(t, addr, "")
	io.WriteString(slow, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{") // 99 bytes never come
	waitOpen(t, l, 2)
	time.Sleep(150 * time.Millisecond)
	if !request(dial(t, addr, ""), "/") {
		t.Fatal("a new client was not answered")
	}
	if !closed(slow) {
		t.Fatal("the slow body kept its connection")
	}
	if !request(keep, "/") {
		t.Fatal("the idle keep-alive connection was closed before the slow body")
	}
}

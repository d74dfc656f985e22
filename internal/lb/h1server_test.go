package lb

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawConn dials the listener of url and returns the connection with a
// reader of its answers.
func rawConn(t *testing.T, url string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

func readResponse(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading an answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading a body: %v", err)
	}
	return resp, string(b)
}

// TestPipelinedRequests: requests a client sends back to back on one
// connection are answered in order on it.
func TestPipelinedRequests(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	}))
	t.Cleanup(s.Close)
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, s, "s"))))
	c, br := rawConn(t, url)
	io.WriteString(c, "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\nHEAD /three HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{"/one", "/two"} {
		if _, body := readResponse(t, br, "GET"); body != want {
			t.Fatalf("answer %q, want %q", body, want)
		}
	}
	resp, body := readResponse(t, br, "HEAD")
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != 6 {
		t.Fatalf("HEAD: %d, body %q, length %d", resp.StatusCode, body, resp.ContentLength)
	}
}

// TestHTTP10AndConnectionClose: an HTTP/1.0 client without keep-alive, and
// a client that says Connection: close, get their answer and then the end
// of the connection; an HTTP/1.0 client with keep-alive keeps it.
func TestHTTP10AndConnectionClose(t *testing.T) {
	a := backend(t, "a")
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, a, "a"))))
	for _, req := range []string{
		"GET / HTTP/1.0\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	} {
		c, br := rawConn(t, url)
		io.WriteString(c, req)
		resp, body := readResponse(t, br, "GET")
		if body != "a" || !resp.Close {
			t.Fatalf("%q: body %q, close %v", req, body, resp.Close)
		}
		if n, err := br.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("%q: the connection stayed open (%d, %v)", req, n, err)
		}
	}
	c, br := rawConn(t, url)
	for range 2 {
		io.WriteString(c, "GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
		resp, body := readResponse(t, br, "GET")
		if body != "a" || resp.Close || resp.Header.Get("Connection") != "keep-alive" {
			t.Fatalf("HTTP/1.0 keep-alive: body %q, close %v, Connection %q", body, resp.Close, resp.Header.Get("Connection"))
		}
	}
}

// TestExpectContinue: a client that waits for "100 Continue" before its
// body gets it, and its body reaches the target.
func TestExpectContinue(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, "got "+string(b))
	}))
	t.Cleanup(s.Close)
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, s, "s"))))
	c, br := rawConn(t, url)
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	resp, err := http.ReadResponse(br, &http.Request{Method: "POST"})
	if err != nil || resp.StatusCode != http.StatusContinue {
		t.Fatalf("before the body: %v, %v; want 100 Continue", resp, err)
	}
	io.WriteString(c, "body")
	if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 200 || body != "got body" {
		t.Fatalf("after the body: %d %q", resp.StatusCode, body)
	}
}

// TestMalformedRequests: what does not parse gets 400, headers beyond
// 1 MiB get 431, and the connection ends.
func TestMalformedRequests(t *testing.T) {
	a := backend(t, "a")
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, a, "a"))))
	for _, tc := range []struct {
		req  string
		code int
	}{
		{"PRI\r\n\r\n", 400}, // the start of HTTP/2's preface, then not
		{"NONSENSE\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\n\r\n", 400}, // no Host
		{"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1<<20+8192) + "\r\n\r\n", 431},
	} {
		c, br := rawConn(t, url)
		go io.WriteString(c, tc.req)
		resp, _ := readResponse(t, br, "GET")
		if resp.StatusCode != tc.code || !resp.Close {
			t.Errorf("%.40q: %d (close %v), want %d and close", tc.req, resp.StatusCode, resp.Close, tc.code)
		}
	}
}

// TestClientGoneCancelsTheTargetRequest: when a client hangs up while its
// request waits for the target, the request to the target is abandoned.
func TestClientGoneCancelsTheTargetRequest(t *testing.T) {
	canceled := make(chan bool, 1)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			canceled <- true
		case <-time.After(10 * time.Second):
			canceled <- false
		}
	}))
	t.Cleanup(s.Close)
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, s, "s"))))
	c, _ := rawConn(t, url)
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(300 * time.Millisecond) // past bgReadDelay: the load balancer watches the client
	c.Close()
	select {
	case ok := <-canceled:
		if !ok {
			t.Fatal("the target request ran to its end after the client went away")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the target request was neither canceled nor finished")
	}
}

// TestRemovedListenerClosesIdleConnections: when a listener is removed, a
// request in flight still gets its answer, and idle keep-alive connections
// are closed.
func TestRemovedListenerClosesIdleConnections(t *testing.T) {
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	b, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, s, "s"))))
	idle, idleR := rawConn(t, url)
	io.WriteString(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := readResponse(t, idleR, "GET"); body != "ok" {
		t.Fatalf("first answer %q", body)
	}
	busy, busyR := rawConn(t, url)
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(100 * time.Millisecond)
	if err := b.Apply(Config{}); err != nil {
		t.Fatal(err)
	}
	if n, err := idleR.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the idle connection stayed open (%d, %v)", n, err)
	}
	close(release)
	if resp, body := readResponse(t, busyR, "GET"); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("the request in flight got %d %q", resp.StatusCode, body)
	}
}

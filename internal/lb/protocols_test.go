package lb

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestWebSocket: an Upgrade request is switched through the proxy and bytes
// then flow both ways.
func TestWebSocket(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			return // health checks
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		io.Copy(c, brw) // echo
	}))
	t.Cleanup(s.Close)
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, s, "s"))))
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	for _, msg := range []string{"hello", "again"} {
		io.WriteString(c, msg)
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(br, buf); err != nil || string(buf) != msg {
			t.Fatalf("echo %q: got %q, %v", msg, buf, err)
		}
	}
}

// TestH2C: a client speaking HTTP/2 without TLS is served, and a target
// group with protocol version HTTP2 is reached over h2c.
func TestH2C(t *testing.T) {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetHTTP1(true)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
	t.Cleanup(s.Close)
	tg := httpGroup("tg", targetOf(t, s, "s"))
	tg.ProtocolVersion = "HTTP2"
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, tg))
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	resp, body := get(t, &http.Client{Transport: tr}, url)
	if resp.Proto != "HTTP/2.0" || body != "HTTP/2.0" {
		t.Fatalf("client saw %s, target saw %q; want HTTP/2.0 both", resp.Proto, body)
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lb.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}))
}

// TestHTTPSListenerHTTP2: an HTTPS listener offers HTTP/2 and tells the
// target the client came over https.
func TestHTTPSListenerHTTP2(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("X-Forwarded-Proto"))
	}))
	t.Cleanup(s.Close)
	cfg := albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, s, "s")))
	l := &cfg.LoadBalancers[0].Listeners[0]
	l.Protocol = ProtocolHTTPS
	l.CertificatePEM, l.KeyPEM = selfSigned(t)
	b, _ := start(t, Options{}, cfg)
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	resp, body := get(t, &http.Client{Transport: tr}, "https://"+b.Addr("l-1").String())
	if resp.Proto != "HTTP/2.0" || body != "https" {
		t.Fatalf("proto %s, X-Forwarded-Proto %q; want HTTP/2.0 and https", resp.Proto, body)
	}
}

// tcpEcho answers each connection with its name, then echoes.
func tcpEcho(t *testing.T, name string) Target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, name+"\n")
				io.Copy(c, c)
			}()
		}
	}()
	a := ln.Addr().(*net.TCPAddr)
	return Target{ID: name, Host: "127.0.0.1", Port: a.Port}
}

// TestTCPListener: a network load balancer passes bytes both ways and takes
// turns between targets.
func TestTCPListener(t *testing.T) {
	tg := TargetGroup{ARN: "tg", Name: "tcp", Dimension: "targetgroup/tcp/1", Protocol: ProtocolTCP, Targets: []Target{tcpEcho(t, "one"), tcpEcho(t, "two")}}
	cfg := Config{
		LoadBalancers: []LoadBalancer{{ARN: "nlb", Type: TypeNetwork, Dimension: "net/n/1",
			Listeners: []Listener{{ARN: "l-1", Host: "127.0.0.1", Protocol: ProtocolTCP, DefaultActions: forward("tg")}}}},
		TargetGroups: []TargetGroup{tg},
	}
	b, _ := start(t, Options{}, cfg)
	seen := map[string]int{}
	for i := range 4 {
		c, err := net.Dial("tcp", b.Addr("l-1").String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		name, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		seen[name]++
		msg := fmt.Sprintf("ping %d\n", i)
		io.WriteString(c, msg)
		if got, err := br.ReadString('\n'); got != msg {
			t.Fatalf("echo %q, %v", got, err)
		}
		c.(*net.TCPConn).CloseWrite()
		if rest, _ := io.ReadAll(br); len(rest) != 0 {
			t.Fatalf("after half-close got %q", rest)
		}
		c.Close()
	}
	if seen["one\n"] != 2 || seen["two\n"] != 2 {
		t.Fatalf("connections per target %v, want 2 each", seen)
	}
}

// TestHTTPSTargets: an HTTPS target group is reached over TLS without
// verifying the target's certificate, as ALB does, and health-checked so.
func TestHTTPSTargets(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tls:"+r.Header.Get("X-Forwarded-Proto"))
	}))
	t.Cleanup(s.Close)
	h, p := hostPort(t, strings.Replace(s.URL, "https://", "http://", 1))
	tg := httpGroup("tg", Target{ID: "s", Host: h, Port: p})
	tg.Protocol = ProtocolHTTPS
	tg.HealthCheck = HealthCheck{HealthyThreshold: 2}
	b, url := start(t, Options{}, albConfig(forward("tg"), nil, tg))
	if resp, body := get(t, http.DefaultClient, url); resp.StatusCode != 200 || body != "tls:http" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	eventually(t, "the first health check", func() bool { return b.Health()[0].Reason == ReasonInitialHealthChecking })
}

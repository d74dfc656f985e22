package controller_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/controller"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// TestR53HealthChecksFollowThreshold drives the checker in simulated time
// against a real HTTP server and a closed port: a status flips only after
// FailureThreshold consecutive results the other way, a probe runs once
// every RequestInterval (the first at once), a redirect passes, and the
// status record is written only when the status changes.
func TestR53HealthChecksFollowThreshold(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := state.Open(ctx, state.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Scope = model.Scope{Partition: "aws", Region: "us-east-1", Account: "123456789012"}

	var code atomic.Int32
	code.Store(200)
	var hits atomic.Int32
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		w.WriteHeader(int(code.Load()))
	}))
	defer web.Close()
	host, portStr, _ := net.SplitHostPort(web.Listener.Addr().String())
	webPort, _ := strconv.Atoi(portStr)
	// A port nobody listens on (until the test listens there itself).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	l.Close()

	mk := func(id, typ string, port int, path string, interval, threshold int32) {
		t.Helper()
		hc := &state.R53HealthCheck{ID: id, CallerReference: id, Type: typ, IPAddress: host, Port: int32(port), ResourcePath: path,
			RequestInterval: interval, FailureThreshold: threshold, Version: 1}
		if _, err := st.CreateR53HealthCheck(ctx, hc); err != nil {
			t.Fatal(err)
		}
	}
	mk("web", "HTTP", webPort, "/health", 10, 3)
	mk("moved", "HTTP", webPort, "/moved", 30, 1)
	mk("tcp", "TCP", closedPort, "", 10, 1)
	mk("down", "HTTP", webPort, "/missing", 10, 2)
	// HTTPS with a certificate no one trusts: Route 53 does not verify it.
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer secure.Close()
	securePort := secure.Listener.Addr().(*net.TCPAddr).Port
	mk("tls", "HTTPS", securePort, "/", 30, 1)

	c := &controller.R53HealthChecks{State: st}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	step := func(seconds int) {
		t.Helper()
		if err := c.Step(ctx, t0.Add(time.Duration(seconds)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(id string, healthy bool, seconds int, reason string) {
		t.Helper()
		s, err := st.GetR53HealthStatus(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s == nil {
			t.Fatalf("%s: no status written", id)
		}
		checked := t0.Add(time.Duration(seconds) * time.Second)
		if s.Healthy != healthy || !s.LastChecked.Equal(checked) || !strings.HasPrefix(s.LastReason, reason) {
			t.Fatalf("%s: status %+v, want healthy=%v checked at %v reason %q", id, *s, healthy, checked, reason)
		}
	}

	step(0) // the first probe of each runs at once
	expect("web", true, 0, "Success: HTTP Status Code 200, OK")
	expect("moved", true, 0, "Success: HTTP Status Code 302, Found")
	expect("tcp", false, 0, "Failure: Connection refused")
	// One failure of two: still healthy, but the result is recorded.
	expect("down", true, 0, "Failure: HTTP Status Code 404, Not Found")
	expect("tls", true, 0, "Success: HTTP Status Code 204, No Content")
	if hits.Load() != 1 {
		t.Fatalf("%d probes of /health, want 1", hits.Load())
	}

	code.Store(503)
	step(5) // nothing due
	if hits.Load() != 1 {
		t.Fatalf("%d probes of /health after 5 s, want 1: RequestInterval is 10 s", hits.Load())
	}
	step(10)
	step(20) // two failures of three: still healthy, and nothing written
	expect("web", true, 0, "Success: HTTP Status Code 200, OK")
	expect("down", false, 10, "Failure: HTTP Status Code 404, Not Found")
	step(30)
	expect("web", false, 30, "Failure: HTTP Status Code 503, Service Unavailable")
	if hits.Load() != 4 {
		t.Fatalf("%d probes of /health, want 4", hits.Load())
	}

	// The closed port opens: one success (threshold 1) makes it healthy.
	l, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(closedPort)))
	if err != nil {
		t.Skipf("the closed port was taken meanwhile: %v", err)
	}
	defer l.Close()
	code.Store(200)
	step(40)
	expect("tcp", true, 40, "Success: TCP connection established")
	step(50) // two successes of three: still unhealthy
	expect("web", false, 30, "Failure: HTTP Status Code 503")
	step(60)
	expect("web", true, 60, "Success: HTTP Status Code 200, OK")
	// One failure between successes starts the count again.
	code.Store(500)
	step(70)
	// An unchanged status is rewritten once a minute with its latest
	// probe, and not at the probes between.
	expect("down", false, 70, "Failure: HTTP Status Code 404")
	step(80)
	expect("down", false, 70, "Failure: HTTP Status Code 404")
	code.Store(200)
	step(90)
	code.Store(500)
	step(100)
	step(110)
	expect("web", true, 60, "Success")
	step(120)
	expect("web", false, 120, "Failure: HTTP Status Code 500, Internal Server Error")
	// The status goes with its health check.
	if err := st.DeleteR53HealthCheck(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if s, err := st.GetR53HealthStatus(ctx, "web"); err != nil || s != nil {
		t.Fatalf("status after delete: %+v, %v", s, err)
	}
	step(130)
	if s, _ := st.GetR53HealthStatus(ctx, "web"); s != nil {
		t.Fatalf("status written for a deleted health check: %+v", s)
	}
}

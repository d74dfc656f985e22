package lb

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestUnreachableTargetsArePassedOver: a request whose target refuses the
// connection (its process died before the health checks could tell) goes
// to another target instead of failing, and that target is passed over for
// later requests; with no target left to try, it is a 502.
func TestUnreachableTargetsArePassedOver(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadTarget := targetOf(t, dead, "dead")
	dead.Close()
	live := backend(t, "live")
	b, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", deadTarget, targetOf(t, live, "live"))))
	for i := range 100 {
		if resp, body := get(t, http.DefaultClient, url); resp.StatusCode != 200 || body != "live" {
			t.Fatalf("request %d: %d %q, want 200 from the live target", i, resp.StatusCode, body)
		}
	}
	g := b.liveGroups()[0]
	for _, tt := range g.targets {
		if tt.ref.ID == "dead" && tt.unreachableUntil.Load() == 0 {
			t.Fatal("the dead target is not passed over")
		}
	}
	// Only the dead one left: nothing to try instead.
	if err := b.Apply(albConfig(forward("tg"), nil, httpGroup("tg", deadTarget))); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, http.DefaultClient, url); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("only a dead target: %d, want 502", resp.StatusCode)
	}
}

// TestTargetsThatCloseWithoutAnsweringArePassedOver: a target that accepts
// connections and closes them without a word (Docker's port proxy in front
// of a container that died) gets no idempotent request it could lose: they
// go to another target. A POST, which may have been acted on, is a 502.
func TestTargetsThatCloseWithoutAnsweringArePassedOver(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf) // take the request, answer nothing
			c.Close()
		}
	}()
	mute := Target{ID: "mute", Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port}
	live := backend(t, "live")
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", mute, targetOf(t, live, "live"))))
	for i := range 50 {
		if resp, body := get(t, http.DefaultClient, url); resp.StatusCode != 200 || body != "live" {
			t.Fatalf("GET %d: %d %q, want 200 from the live target", i, resp.StatusCode, body)
		}
	}
	_, url2 := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", mute)))
	resp, err := http.Post(url2, "text/plain", strings.NewReader("order"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("a POST to a target that closed without answering: %d, want 502", resp.StatusCode)
	}
}

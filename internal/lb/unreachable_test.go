package lb

import (
	"net/http"
	"net/http/httptest"
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

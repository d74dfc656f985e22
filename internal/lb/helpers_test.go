package lb

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*fakeTimer]struct{}
}

type fakeTimer struct {
	c  *fakeClock
	at time.Time
	d  time.Duration
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), timers: map[*fakeTimer]struct{}{}}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), d: d, ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t
	}
	c.timers[t] = struct{}{}
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, ok := t.c.timers[t]
	delete(t.c.timers, t)
	return ok
}

// Advance moves the clock and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for t := range c.timers {
		if !t.at.After(c.now) {
			delete(c.timers, t)
			t.ch <- c.now
		}
	}
}

// waitTimer waits until a timer of duration d is pending.
func (c *fakeClock) waitTimer(t *testing.T, d time.Duration) {
	t.Helper()
	eventually(t, fmt.Sprintf("a pending %v timer", d), func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for tm := range c.timers {
			if tm.d == d {
				return true
			}
		}
		return false
	})
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// backend is an httptest server that answers with its name.
func backend(t *testing.T, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", name)
		fmt.Fprint(w, name)
	}))
	t.Cleanup(s.Close)
	return s
}

func hostPort(t *testing.T, url string) (string, int) {
	t.Helper()
	u := url[len("http://"):]
	h, p, err := net.SplitHostPort(u)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

func targetOf(t *testing.T, s *httptest.Server, id string) Target {
	h, p := hostPort(t, s.URL)
	return Target{ID: id, Host: h, Port: p}
}

func forward(arns ...string) []Action {
	f := &Forward{}
	for _, a := range arns {
		f.TargetGroups = append(f.TargetGroups, WeightedGroup{ARN: a, Weight: 1})
	}
	return []Action{{Type: ActionForward, Forward: f}}
}

func httpGroup(arn string, targets ...Target) TargetGroup {
	return TargetGroup{ARN: arn, Name: arn, Dimension: "targetgroup/" + arn + "/1", Protocol: ProtocolHTTP, Port: 80, TargetType: TargetTypeIP, Targets: targets}
}

// albConfig is one application load balancer with one HTTP listener on a
// free port of 127.0.0.1.
func albConfig(defaults []Action, rules []Rule, groups ...TargetGroup) Config {
	return Config{
		LoadBalancers: []LoadBalancer{{
			ARN: "lb-1", Name: "web", Type: TypeApplication, Dimension: "app/web/1",
			Listeners: []Listener{{ARN: "l-1", Host: "127.0.0.1", Protocol: ProtocolHTTP, DefaultActions: defaults, Rules: rules}},
		}},
		TargetGroups: groups,
	}
}

// start makes a Balancer with cfg applied and returns it with the
// listener's base URL.
func start(t *testing.T, opts Options, cfg Config) (*Balancer, string) {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	return b, "http://" + b.Addr("l-1").String()
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var sb []byte
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb = append(sb, buf[:n]...)
		if err != nil {
			break
		}
	}
	return resp, string(sb)
}

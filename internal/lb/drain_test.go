package lb

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// drains records OnDrained reports.
type drains struct {
	mu  sync.Mutex
	all []Drained
}

func (d *drains) record(x Drained) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.all = append(d.all, x)
}

func (d *drains) list() []Drained {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Drained(nil), d.all...)
}

// TestDraining: a request in flight to a target that is deregistered
// finishes, new requests go to the other target, and Drained reports the
// target idle as soon as that request is done.
func TestDraining(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			arrived <- struct{}{}
			<-release
		}
		io.WriteString(w, "old")
	}))
	t.Cleanup(old.Close)
	newer := backend(t, "new")
	fc := newFakeClock()
	var dr drains
	oldT := targetOf(t, old, "old")
	b, url := start(t, Options{Clock: fc, OnDrained: dr.record}, albConfig(forward("tg"), nil, httpGroup("tg", oldT)))

	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(body)
	}()
	<-arrived
	oldT.State, oldT.DrainDeadline = TargetDraining, fc.Now().Add(300*time.Second)
	if err := b.Apply(albConfig(forward("tg"), nil, httpGroup("tg", oldT, targetOf(t, newer, "new")))); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, body := get(t, http.DefaultClient, url); body != "new" {
			t.Fatalf("a draining target got a new request (%q)", body)
		}
	}
	if d := dr.list(); len(d) != 0 {
		t.Fatalf("drained %v while a request is in flight", d)
	}
	close(release)
	if body := <-slow; body != "old" {
		t.Fatalf("the in-flight request ended with %q, want old's answer", body)
	}
	eventually(t, "the drained report", func() bool { return len(dr.list()) == 1 })
	if d := dr.list()[0]; d.Target.ID != "old" || d.Reason != DrainIdle || d.TargetGroupARN != "tg" {
		t.Fatalf("drained %+v", d)
	}
}

// TestDrainDeadline: a target still busy when its deregistration delay
// ends is reported with reason deadline.
func TestDrainDeadline(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			arrived <- struct{}{}
			<-release
		}
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(release) })
	fc := newFakeClock()
	var dr drains
	tt := targetOf(t, s, "t")
	b, url := start(t, Options{Clock: fc, OnDrained: dr.record}, albConfig(forward("tg"), nil, httpGroup("tg", tt)))
	go http.Get(url + "/slow")
	<-arrived
	tt.State, tt.DrainDeadline = TargetDraining, fc.Now().Add(42*time.Second)
	if err := b.Apply(albConfig(forward("tg"), nil, httpGroup("tg", tt))); err != nil {
		t.Fatal(err)
	}
	fc.waitTimer(t, 42*time.Second)
	fc.Advance(41 * time.Second)
	if len(dr.list()) != 0 {
		t.Fatal("drained before the deadline")
	}
	fc.Advance(time.Second)
	eventually(t, "the deadline report", func() bool { return len(dr.list()) == 1 })
	if d := dr.list()[0]; d.Reason != DrainDeadline {
		t.Fatalf("drained %+v, want reason deadline", d)
	}
}

// TestZeroDowntimeSwap: under a steady stream of requests, a deployment
// registers v2, waits for it to be healthy, drains v1 and stops v1's
// servers once they are drained; no request fails.
func TestZeroDowntimeSwap(t *testing.T) {
	v1 := []*httptest.Server{backend(t, "v1"), backend(t, "v1")}
	v2 := []*httptest.Server{backend(t, "v2"), backend(t, "v2")}
	fc := newFakeClock()
	var dr drains
	hc := HealthCheck{IntervalSeconds: 5, HealthyThreshold: 2, UnhealthyThreshold: 2}
	group := func(ts ...Target) TargetGroup {
		g := httpGroup("tg", ts...)
		g.HealthCheck = hc
		return g
	}
	t1 := []Target{targetOf(t, v1[0], "v1a"), targetOf(t, v1[1], "v1b")}
	t2 := []Target{targetOf(t, v2[0], "v2a"), targetOf(t, v2[1], "v2b")}
	b, url := start(t, Options{Clock: fc, OnDrained: dr.record}, albConfig(forward("tg"), nil, group(t1...)))
	g := b.liveGroups()[0]
	healthy := func(n int) {
		t.Helper()
		for len(g.set.Load().healthy) < n {
			r := g.rounds.Load()
			fc.waitTimer(t, 5*time.Second)
			fc.Advance(5 * time.Second)
			eventually(t, "a health check round", func() bool { return g.rounds.Load() > r })
		}
	}
	healthy(2)

	var failed, total atomic.Int64
	var last atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			c := &http.Client{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get(url)
				total.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
				last.Store(string(body))
			}
		})
	}
	waitRequests := func(n int64) {
		t.Helper()
		from := total.Load()
		eventually(t, "more requests", func() bool { return total.Load() >= from+n })
	}
	waitRequests(200)
	if err := b.Apply(albConfig(forward("tg"), nil, group(append(t1, t2...)...))); err != nil {
		t.Fatal(err)
	}
	healthy(4)
	waitRequests(200)
	for i := range t1 {
		t1[i].State, t1[i].DrainDeadline = TargetDraining, fc.Now().Add(300*time.Second)
	}
	if err := b.Apply(albConfig(forward("tg"), nil, group(append(t1, t2...)...))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both v1 targets drained", func() bool { return len(dr.list()) == 2 })
	for _, s := range v1 {
		s.Close() // the control plane stops the v1 tasks
	}
	if err := b.Apply(albConfig(forward("tg"), nil, group(t2...))); err != nil {
		t.Fatal(err)
	}
	waitRequests(200)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during the swap", failed.Load(), total.Load())
	}
	if last.Load() != "v2" {
		t.Fatalf("last answer from %v, want v2", last.Load())
	}
}

// TestTCPDraining: a network load balancer's draining target keeps its open
// connection, new connections go elsewhere, and Drained fires when the
// connection closes.
func TestTCPDraining(t *testing.T) {
	one, two := tcpEcho(t, "one"), tcpEcho(t, "two")
	var dr drains
	cfg := func(ts ...Target) Config {
		return Config{
			LoadBalancers: []LoadBalancer{{ARN: "nlb", Type: TypeNetwork, Dimension: "net/n/1",
				Listeners: []Listener{{ARN: "l-1", Host: "127.0.0.1", Protocol: ProtocolTCP, DefaultActions: forward("tg")}}}},
			TargetGroups: []TargetGroup{{ARN: "tg", Dimension: "targetgroup/t/1", Protocol: ProtocolTCP, Targets: ts}},
		}
	}
	b, _ := start(t, Options{OnDrained: dr.record}, cfg(one))
	dial := func() (net.Conn, *bufio.Reader, string) {
		t.Helper()
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
		return c, br, name
	}
	held, br, name := dial()
	if name != "one\n" {
		t.Fatalf("first connection reached %q", name)
	}
	one.State, one.DrainDeadline = TargetDraining, time.Now().Add(time.Hour)
	if err := b.Apply(cfg(one, two)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c, _, name := dial()
		c.Close()
		if name != "two\n" {
			t.Fatalf("a new connection reached the draining target (%q)", name)
		}
	}
	io.WriteString(held, "still here\n")
	if got, err := br.ReadString('\n'); got != "still here\n" {
		t.Fatalf("the held connection echoed %q, %v", got, err)
	}
	if len(dr.list()) != 0 {
		t.Fatal("drained while a connection is open")
	}
	held.Close()
	eventually(t, "the drained report", func() bool { return len(dr.list()) == 1 })
	if d := dr.list()[0]; d.Target.ID != "one" || d.Reason != DrainIdle {
		t.Fatalf("drained %+v", d)
	}
}

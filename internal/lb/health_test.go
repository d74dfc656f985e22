package lb

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// changes records OnHealthChange reports.
type changes struct {
	mu  sync.Mutex
	all []TargetHealth
}

func (c *changes) record(th TargetHealth) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, th)
}

func (c *changes) states() [][2]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out [][2]string
	for _, th := range c.all {
		out = append(out, [2]string{th.State, th.Reason})
	}
	return out
}

// TestHealthStateMachine walks one target through ELB's states with a fake
// clock and a real backend: initial, healthy after the healthy threshold,
// unhealthy after the unhealthy threshold with the reason of the last
// failure (code mismatch, timeout, refused connection), unused when no
// listener forwards to its group, draining when deregistered.
func TestHealthStateMachine(t *testing.T) {
	var code atomic.Int32
	var hang atomic.Bool
	code.Store(200)
	unblock := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			t.Errorf("health check asked for %s", r.URL.Path)
		}
		if hang.Load() {
			select {
			case <-r.Context().Done():
			case <-unblock:
			}
			return
		}
		w.WriteHeader(int(code.Load()))
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(unblock) })
	fc := newFakeClock()
	var ch changes
	tg := httpGroup("tg", targetOf(t, s, "t1"))
	tg.HealthCheck = HealthCheck{Path: "/health", IntervalSeconds: 10, TimeoutSeconds: 5, HealthyThreshold: 3, UnhealthyThreshold: 2, Matcher: "200-299"}
	cfg := albConfig(forward("tg"), nil, tg)
	reg := prometheus.NewRegistry()
	b, _ := start(t, Options{Clock: fc, OnHealthChange: ch.record, Registerer: reg}, cfg)
	dims := map[string]string{"LoadBalancer": "app/web/1", "TargetGroup": "targetgroup/tg/1"}
	hosts := func(healthy, unhealthy float64) {
		t.Helper()
		h := metricValue(t, reg, "flotta_lb_healthy_host_count", dims)
		u := metricValue(t, reg, "flotta_lb_unhealthy_host_count", dims)
		if h != healthy || u != unhealthy {
			t.Fatalf("HealthyHostCount %v UnHealthyHostCount %v, want %v %v", h, u, healthy, unhealthy)
		}
	}
	g := b.liveGroups()[0]
	rounds := int64(1)
	eventually(t, "the first health check round", func() bool { return g.rounds.Load() >= rounds })
	next := func() {
		t.Helper()
		fc.waitTimer(t, 10*time.Second)
		fc.Advance(10 * time.Second)
		rounds++
		eventually(t, "a health check round", func() bool { return g.rounds.Load() >= rounds })
	}
	state := func(want, reason string) {
		t.Helper()
		h := b.Health()
		if len(h) != 1 || h[0].State != want || h[0].Reason != reason {
			t.Fatalf("after %d rounds: health %+v, want %s %s", rounds, h, want, reason)
		}
	}
	state(HealthInitial, ReasonInitialHealthChecking)
	next()
	state(HealthInitial, ReasonInitialHealthChecking)
	next()
	state(HealthHealthy, "")
	hosts(1, 0)

	code.Store(500)
	next()
	state(HealthHealthy, "") // one failure is below the threshold of 2
	next()
	state(HealthUnhealthy, ReasonResponseCodeMismatch)
	if d := b.Health()[0].Description; d != "Health checks failed with these codes: [500]" {
		t.Fatalf("description %q", d)
	}
	hosts(0, 1)

	hang.Store(true)
	fc.waitTimer(t, 10*time.Second)
	fc.Advance(10 * time.Second)
	fc.waitTimer(t, 5*time.Second) // the check is waiting for its timeout
	fc.Advance(5 * time.Second)
	rounds++
	eventually(t, "the timed out round", func() bool { return g.rounds.Load() >= rounds })
	state(HealthUnhealthy, ReasonTimeout)

	hang.Store(false)
	code.Store(204)
	next()
	next()
	state(HealthUnhealthy, ReasonTimeout) // two successes of three
	next()
	state(HealthHealthy, "")

	s.CloseClientConnections()
	s.Listener.Close()
	next()
	next()
	state(HealthUnhealthy, ReasonFailedHealthChecks)

	unused := cfg
	unused.LoadBalancers = nil
	if err := b.Apply(unused); err != nil {
		t.Fatal(err)
	}
	state(HealthUnused, ReasonNotInUse)

	draining := albConfig(forward("tg"), nil, tg)
	draining.TargetGroups[0].Targets[0].State = TargetDraining
	draining.TargetGroups[0].Targets[0].DrainDeadline = fc.Now().Add(time.Minute)
	if err := b.Apply(draining); err != nil {
		t.Fatal(err)
	}
	state(HealthDraining, ReasonDeregistrationInProgress)

	want := [][2]string{
		{HealthInitial, ReasonRegistrationInProgress},
		{HealthInitial, ReasonInitialHealthChecking},
		{HealthHealthy, ""},
		{HealthUnhealthy, ReasonResponseCodeMismatch},
		{HealthUnhealthy, ReasonTimeout},
		{HealthHealthy, ""},
		{HealthUnhealthy, ReasonFailedHealthChecks},
		{HealthUnused, ReasonNotInUse},
		{HealthDraining, ReasonDeregistrationInProgress},
	}
	got := ch.states()
	if len(got) != len(want) {
		t.Fatalf("callbacks %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("callback %d: %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
}

// TestTCPHealthCheck: a TCP health check passes when the port accepts.
func TestTCPHealthCheck(t *testing.T) {
	fc := newFakeClock()
	tg := TargetGroup{ARN: "tg", Dimension: "targetgroup/t/1", Protocol: ProtocolTCP, Targets: []Target{tcpEcho(t, "one"), {ID: "gone", Host: "127.0.0.1", Port: 1}},
		HealthCheck: HealthCheck{HealthyThreshold: 2, UnhealthyThreshold: 2, IntervalSeconds: 10}}
	cfg := Config{
		LoadBalancers: []LoadBalancer{{ARN: "nlb", Type: TypeNetwork, Dimension: "net/n/1",
			Listeners: []Listener{{ARN: "l-1", Host: "127.0.0.1", Protocol: ProtocolTCP, DefaultActions: forward("tg")}}}},
		TargetGroups: []TargetGroup{tg},
	}
	b, _ := start(t, Options{Clock: fc}, cfg)
	g := b.liveGroups()[0]
	eventually(t, "the first round", func() bool { return g.rounds.Load() >= 1 })
	fc.waitTimer(t, 10*time.Second)
	fc.Advance(10 * time.Second)
	eventually(t, "the second round", func() bool { return g.rounds.Load() >= 2 })
	h := b.Health()
	if h[0].Target.ID != "gone" || h[0].State != HealthUnhealthy || h[1].State != HealthHealthy {
		t.Fatalf("health %+v, want gone unhealthy and one healthy", h)
	}
}

// TestSlowStart: a target that just became healthy gets a share of requests
// that grows with the time it has been healthy.
func TestSlowStart(t *testing.T) {
	fc := newFakeClock()
	b := &Balancer{clock: fc}
	gc := &groupConfig{arn: "tg", slowStart: 100 * time.Second}
	g := newGroup(b, gc)
	g.update(gc, []Target{{ID: "old", Host: "10.0.0.1", Port: 80}, {ID: "new", Host: "10.0.0.2", Port: 80}})
	g.mu.Lock()
	g.targets["10.0.0.1:80"].state, g.targets["10.0.0.1:80"].healthySince = HealthHealthy, fc.Now().Add(-time.Hour)
	g.targets["10.0.0.2:80"].state, g.targets["10.0.0.2:80"].healthySince = HealthHealthy, fc.Now()
	g.rebuild()
	g.mu.Unlock()
	share := func() float64 {
		n := 0
		for range 10000 {
			if g.pick("").ref.ID == "new" {
				n++
			}
		}
		return float64(n) / 10000
	}
	fc.Advance(time.Second)
	if s := share(); s > 0.02 {
		t.Fatalf("1 s into slow start the new target got %.3f of requests", s)
	}
	fc.Advance(49 * time.Second) // half way: weight ~500 of 1000
	if s := share(); s < 0.30 || s > 0.37 {
		t.Fatalf("half way through slow start the new target got %.3f, want about 1/3", s)
	}
	fc.Advance(60 * time.Second)
	if s := share(); s < 0.49 || s > 0.51 {
		t.Fatalf("after slow start the new target got %.3f, want 1/2", s)
	}
}

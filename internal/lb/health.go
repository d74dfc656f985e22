package lb

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// result is the outcome of one health check of one target.
type result struct {
	ok           bool
	reason, desc string
}

// startChecks runs the group's health checks until stopChecks. g.mu is held.
func (g *group) startChecks() {
	if g.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.stop = cancel
	go g.checkLoop(ctx)
}

// stopChecks stops the health checker without waiting for it (it may be
// running a callback that waits for the caller); a round it was in the
// middle of changes nothing. g.mu is not held.
func (g *group) stopChecks() {
	g.mu.Lock()
	stop := g.stop
	g.stop = nil
	g.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// checkLoop checks every registered target once per interval, the first
// time as soon as the group is in use.
func (g *group) checkLoop(ctx context.Context) {
	for {
		g.round(ctx)
		g.rounds.Add(1)
		g.mu.Lock()
		interval := g.cfg.interval
		g.mu.Unlock()
		tm := g.b.clock.NewTimer(interval)
		select {
		case <-ctx.Done():
			tm.Stop()
			return
		case <-tm.C():
		}
	}
}

// round checks all registered targets at once and applies ELB's
// thresholds to the results.
func (g *group) round(ctx context.Context) {
	g.mu.Lock()
	cfg := g.cfg
	var ts []*target
	for _, t := range g.targets {
		if !t.draining.Load() {
			ts = append(ts, t)
		}
	}
	g.mu.Unlock()
	results := make([]result, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Go(func() { results[i] = g.check(ctx, cfg, t) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	now := g.b.clock.Now()
	var events []func()
	g.mu.Lock()
	for i, t := range ts {
		if g.targets[t.addr] != t || t.draining.Load() {
			continue
		}
		if g.judge(cfg, t, results[i], now) {
			events = append(events, g.notify(t))
		}
	}
	if len(events) > 0 {
		g.rebuild()
	}
	g.mu.Unlock()
	for _, e := range events {
		e()
	}
}

// judge moves t's state by one check result and reports whether its state
// or reason changed. g.mu is held.
func (g *group) judge(cfg *groupConfig, t *target, r result, now time.Time) bool {
	state, reason := t.state, t.reason
	if r.ok {
		t.okRun++
		t.unreachableUntil.Store(0) // it answers again
		t.failRun = 0
		if t.state != HealthHealthy {
			if t.okRun >= cfg.healthyN {
				t.state, t.reason, t.desc = HealthHealthy, "", ""
				t.healthySince = now
			} else if t.state == HealthInitial {
				t.reason, t.desc = ReasonInitialHealthChecking, "Initial health checks in progress"
			}
		}
	} else {
		t.failRun++
		t.okRun = 0
		switch {
		case t.state == HealthUnhealthy || t.failRun >= cfg.unhealthyN:
			t.state, t.reason, t.desc = HealthUnhealthy, r.reason, r.desc
		case t.state == HealthInitial:
			t.reason, t.desc = ReasonInitialHealthChecking, "Initial health checks in progress"
		}
	}
	return state != t.state || reason != t.reason
}

// check runs one health check; its timeout is measured on the balancer's
// clock.
func (g *group) check(ctx context.Context, cfg *groupConfig, t *target) result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	tm := g.b.clock.NewTimer(cfg.timeout)
	defer tm.Stop()
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-tm.C():
			timedOut.Store(true)
			cancel()
		case <-stopped:
		}
	}()
	port := t.ref.Port
	if cfg.hcPort != 0 {
		port = cfg.hcPort
	}
	addr := net.JoinHostPort(t.ref.Host, strconv.Itoa(port))
	r := g.b.probe(ctx, cfg, addr)
	if !r.ok && timedOut.Load() {
		return result{reason: ReasonTimeout, desc: "Request timed out"}
	}
	return r
}

// prober makes health check requests: a fresh connection each time, so a
// dead target cannot hide behind a pooled one.
type prober struct {
	client *http.Client
}

func newProber() *prober {
	tr := &http.Transport{
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // ELB does not verify target certificates
	}
	return &prober{client: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *Balancer) probe(ctx context.Context, cfg *groupConfig, addr string) result {
	failed := result{reason: ReasonFailedHealthChecks, desc: "Health checks failed"}
	if cfg.hcProto == ProtocolTCP {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return failed
		}
		c.Close()
		return result{ok: true}
	}
	scheme := "http"
	if cfg.hcProto == ProtocolHTTPS {
		scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+cfg.hcPath, nil)
	if err != nil {
		return failed
	}
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := b.prober.client.Do(req)
	if err != nil {
		return failed
	}
	resp.Body.Close()
	if !cfg.matcher.match(resp.StatusCode) {
		return result{reason: ReasonResponseCodeMismatch, desc: fmt.Sprintf("Health checks failed with these codes: [%d]", resp.StatusCode)}
	}
	return result{ok: true}
}

package controller

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/state"
)

// R53HealthChecks evaluates Route 53 health checks: it probes each one's
// endpoint every RequestInterval (the first probe at once) and applies its
// FailureThreshold as Route 53 does: a status flips only after that many
// consecutive probe results the other way. Each conclusion goes to the
// store (state.R53HealthStatus) when the status changes, and at most once
// every Refresh besides, never for each probe; the DNS data plane and
// GetHealthCheckStatus read it there.
//
// A disabled health check is not probed and is healthy, and an inverted
// one is healthy when its endpoint fails, as in Route 53. A health check
// without a status record (not yet probed) counts as healthy.
type R53HealthChecks struct {
	State  *state.State
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Probe checks one endpoint once and says whether it answered, with
	// Route 53's words for the result; nil means ProbeR53 (HTTP, HTTPS,
	// TCP from this server).
	Probe func(ctx context.Context, hc *state.R53HealthCheck) (ok bool, reason string)
	// Interval, when set, replaces every health check's RequestInterval
	// (tests use it to probe faster).
	Interval time.Duration
	// Tick is how often Run looks for probes that are due (default 1 s).
	Tick time.Duration
	// Refresh is how often an unchanged status is rewritten with its
	// latest probe's time and result (default 1 min; negative: never).
	Refresh time.Duration

	mu     sync.Mutex
	checks map[string]*hcTrack
	loaded bool
}

// hcTrack is what the checker keeps of one health check between probes.
type hcTrack struct {
	version   int64     // the health check's version it was made for
	healthy   bool      // the status, as last written
	written   bool      // whether a status record is in the store
	streak    int       // consecutive probe results against the status
	next      time.Time // when the next probe is due
	writtenAt time.Time
}

// Run probes until ctx ends.
func (c *R53HealthChecks) Run(ctx context.Context) {
	tick := c.Tick
	if tick <= 0 {
		tick = time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if err := c.Step(ctx, c.now()); err != nil && ctx.Err() == nil {
			c.logger().Warn("Route 53 health checks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *R53HealthChecks) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *R53HealthChecks) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Step runs every probe due at now (at once, each in its own goroutine),
// waits for them, and writes the statuses that changed.
func (c *R53HealthChecks) Step(ctx context.Context, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	checks, err := c.State.ListR53HealthChecks(ctx)
	if err != nil {
		return err
	}
	if !c.loaded {
		// Start from the statuses written before (by an earlier run, or
		// another server), so that a restart flips nothing.
		known, _, err := c.State.ReadR53HealthStatuses(ctx)
		if err != nil {
			return err
		}
		c.checks = map[string]*hcTrack{}
		for id, st := range known {
			c.checks[id] = &hcTrack{healthy: st.Healthy, written: true, next: now, writtenAt: st.LastChecked, version: -1}
		}
		c.loaded = true
	}
	present := map[string]bool{}
	type result struct {
		hc     *state.R53HealthCheck
		ok     bool
		reason string
	}
	var due []*state.R53HealthCheck
	for i := range checks {
		hc := &checks[i]
		present[hc.ID] = true
		tr := c.checks[hc.ID]
		if tr == nil {
			tr = &hcTrack{healthy: true, next: now, version: hc.Version}
			c.checks[hc.ID] = tr
		}
		if tr.version != hc.Version { // new settings: count afresh, probe now
			tr.version, tr.streak, tr.next = hc.Version, 0, now
		}
		if !now.Before(tr.next) {
			due = append(due, hc)
		}
	}
	for id := range c.checks {
		if !present[id] {
			delete(c.checks, id) // its status went with it
		}
	}
	results := make([]result, len(due))
	var wg sync.WaitGroup
	for i, hc := range due {
		if hc.Disabled {
			results[i] = result{hc: hc, ok: true, reason: "Success: the health check is disabled"}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, reason := c.probe(ctx, hc)
			if hc.Inverted {
				ok = !ok
			}
			results[i] = result{hc: hc, ok: ok, reason: reason}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var firstErr error
	for _, r := range results {
		tr := c.checks[r.hc.ID]
		tr.next = nextProbe(tr.next, now, c.interval(r.hc))
		threshold := int(r.hc.FailureThreshold)
		if threshold < 1 || r.hc.Disabled {
			threshold = 1
		}
		if r.ok == tr.healthy {
			tr.streak = 0
		} else {
			tr.streak++
		}
		flip := tr.streak >= threshold
		refresh := c.Refresh
		if refresh == 0 {
			refresh = time.Minute
		}
		if !flip && tr.written && (refresh < 0 || now.Sub(tr.writtenAt) < refresh) {
			continue
		}
		healthy := tr.healthy
		if flip {
			healthy = r.ok
		}
		st := state.R53HealthStatus{ID: r.hc.ID, Healthy: healthy, LastChecked: now.UTC(), LastReason: r.reason}
		if err := c.State.PutR53HealthStatus(ctx, st); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue // tried again after the next probe
		}
		if flip || !tr.written {
			c.logger().Info("Route 53 health check status", "health_check", r.hc.ID, "healthy", healthy, "reason", r.reason)
		}
		tr.healthy, tr.written, tr.writtenAt = healthy, true, now
		if flip {
			tr.streak = 0
		}
	}
	return firstErr
}

// nextProbe is when a health check probed at now (its probe due at due) is
// probed again: one interval after it was due, or after now when the
// checker fell behind by more than an interval.
func nextProbe(due, now time.Time, every time.Duration) time.Time {
	next := due.Add(every)
	if !next.After(now) {
		next = now.Add(every)
	}
	return next
}

func (c *R53HealthChecks) interval(hc *state.R53HealthCheck) time.Duration {
	if c.Interval > 0 {
		return c.Interval
	}
	if hc.RequestInterval <= 0 {
		return 30 * time.Second
	}
	return time.Duration(hc.RequestInterval) * time.Second
}

func (c *R53HealthChecks) probe(ctx context.Context, hc *state.R53HealthCheck) (bool, string) {
	if c.Probe != nil {
		return c.Probe(ctx, hc)
	}
	return ProbeR53(ctx, hc)
}

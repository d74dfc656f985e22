package lb

import (
	"hash/fnv"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// target is one registered address of one group. Requests in flight keep
// their *target even after a new configuration drops it.
type target struct {
	ref    TargetRef
	addr   string // host:port of the traffic port
	cookie string // AWSALB value that names it

	inflight atomic.Int64
	// unreachableUntil (unix nanoseconds) passes the target over after a
	// connection to it failed, until its next passed health check or
	// unreachableFor.
	unreachableUntil atomic.Int64
	draining         atomic.Bool
	drained          atomic.Bool // Drained reported (or the target is gone)
	done             chan struct{}
	deadline         time.Time

	// guarded by group.mu
	state, reason, desc string
	okRun, failRun      int
	healthySince        time.Time
	cw                  int // smooth weighted round robin, slow start
}

// targetSet is what request picking reads, swapped whole on every change.
type targetSet struct {
	cfg      *groupConfig
	healthy  []*target
	all      []*target          // every registered (not draining) target
	byCookie map[string]*target // AWSALB value -> registered target
	okCookie map[string]*target // AWSALB value -> healthy target
	// slowUntil is when the last healthy target leaves slow start.
	slowUntil time.Time
}

// group is one target group's live state: targets, their health and the
// counters that spread requests over them.
type group struct {
	b    *Balancer
	arn  string
	set  atomic.Pointer[targetSet]
	rr   atomic.Uint64
	stop func() // stops the health checker; nil when not running

	mu      sync.Mutex
	cfg     *groupConfig
	targets map[string]*target // by host:port
	used    bool
	lbDims  []string // LoadBalancer dimensions of listeners forwarding here
	rounds  atomic.Int64
}

func newGroup(b *Balancer, cfg *groupConfig) *group {
	g := &group{b: b, arn: cfg.arn, cfg: cfg, targets: map[string]*target{}}
	g.set.Store(&targetSet{cfg: cfg})
	return g
}

func cookieFor(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// update applies a new configuration of the group and returns the events
// to report once no lock is held.
func (g *group) update(cfg *groupConfig, targets []Target) []func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfg = cfg
	var events []func()
	seen := map[string]bool{}
	for _, ct := range targets {
		addr := net.JoinHostPort(ct.Host, strconv.Itoa(ct.Port))
		seen[addr] = true
		t := g.targets[addr]
		draining := ct.State == TargetDraining
		if t != nil && t.draining.Load() && !draining {
			g.forget(t) // registered again: starts over
			t = nil
		}
		if t == nil {
			t = &target{
				ref:    TargetRef{ID: ct.ID, Host: ct.Host, Port: ct.Port},
				addr:   addr,
				cookie: cookieFor(g.arn, addr),
				done:   make(chan struct{}),
				state:  HealthInitial, reason: ReasonRegistrationInProgress,
				desc: "Target registration is in progress",
			}
			g.targets[addr] = t
			events = append(events, g.notify(t))
		}
		if draining && !t.draining.Load() {
			t.deadline = ct.DrainDeadline
			t.draining.Store(true)
			events = append(events, g.notify(t))
			if t.inflight.Load() == 0 {
				events = append(events, g.drainedEvent(t, DrainIdle))
			} else {
				go g.watchDeadline(t)
			}
		}
	}
	for addr, t := range g.targets {
		if !seen[addr] {
			g.forget(t)
			delete(g.targets, addr)
		}
	}
	g.rebuild()
	return events
}

// forget retires a target the configuration no longer has.
func (g *group) forget(t *target) {
	t.draining.Store(true)
	if t.drained.CompareAndSwap(false, true) {
		close(t.done)
	}
}

func (g *group) watchDeadline(t *target) {
	d := t.deadline.Sub(g.b.clock.Now())
	if d < 0 {
		d = 0
	}
	tm := g.b.clock.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C():
		g.fireDrained(t, DrainDeadline)
	case <-t.done:
	case <-g.b.done:
	}
}

// drainedEvent marks t drained and returns its report, or nil if it was
// already reported.
func (g *group) drainedEvent(t *target, reason string) func() {
	if !t.drained.CompareAndSwap(false, true) {
		return func() {}
	}
	close(t.done)
	d := Drained{TargetGroupARN: g.arn, Target: t.ref, Reason: reason}
	return func() {
		if g.b.opts.OnDrained != nil {
			g.b.opts.OnDrained(d)
		}
	}
}

func (g *group) fireDrained(t *target, reason string) { g.drainedEvent(t, reason)() }

// release ends one request or connection to t.
func (g *group) release(t *target) {
	if t.inflight.Add(-1) == 0 && t.draining.Load() {
		g.fireDrained(t, DrainIdle)
	}
}

// health reports t as DescribeTargetHealth would. g.mu is held.
func (g *group) health(t *target) TargetHealth {
	th := TargetHealth{TargetGroupARN: g.arn, Target: t.ref, State: t.state, Reason: t.reason, Description: t.desc}
	switch {
	case t.draining.Load():
		th.State, th.Reason, th.Description = HealthDraining, ReasonDeregistrationInProgress, "Target deregistration is in progress"
	case !g.used:
		th.State, th.Reason, th.Description = HealthUnused, ReasonNotInUse, "Target group is not configured to receive traffic from the load balancer"
	}
	return th
}

// notify returns the report of t's current health. g.mu is held.
func (g *group) notify(t *target) func() {
	th := g.health(t)
	return func() {
		if g.b.opts.OnHealthChange != nil {
			g.b.opts.OnHealthChange(th)
		}
	}
}

// setUsed records whether any listener forwards to the group. g.mu is not held.
func (g *group) setUsed(used bool, lbDims []string) []func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lbDims = lbDims
	if g.used == used {
		return nil
	}
	g.used = used
	var events []func()
	for _, t := range g.targets {
		if !t.draining.Load() {
			events = append(events, g.notify(t))
		}
	}
	return events
}

// rebuild publishes the set of targets requests may go to. g.mu is held.
func (g *group) rebuild() {
	s := &targetSet{cfg: g.cfg, byCookie: map[string]*target{}, okCookie: map[string]*target{}}
	for _, t := range g.targets {
		if t.draining.Load() {
			continue
		}
		s.all = append(s.all, t)
		s.byCookie[t.cookie] = t
		if t.state == HealthHealthy {
			s.healthy = append(s.healthy, t)
			s.okCookie[t.cookie] = t
			if end := t.healthySince.Add(g.cfg.slowStart); g.cfg.slowStart > 0 && end.After(s.slowUntil) {
				s.slowUntil = end
			}
		}
	}
	sortTargets(s.all)
	sortTargets(s.healthy)
	g.set.Store(s)
}

func sortTargets(ts []*target) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].addr < ts[j-1].addr; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// acquire picks a target for one request or connection and counts it in
// flight; sticky, when it is still a target requests may go to, wins. It
// returns nil when the group has no target at all.
func (g *group) acquire(sticky string) *target {
	for range 4 {
		t := g.pick(sticky)
		if t == nil {
			return nil
		}
		t.inflight.Add(1)
		if !t.draining.Load() {
			return t
		}
		// Began draining between pick and count: let the drain finish.
		g.release(t)
	}
	return nil
}

func (g *group) pick(sticky string) *target {
	s := g.set.Load()
	cands := s.healthy
	if len(cands) == 0 {
		cands = s.all // ELB fails open: every target is unhealthy
	}
	if len(cands) == 0 {
		return nil
	}
	if sticky != "" {
		m := s.okCookie
		if len(s.healthy) == 0 {
			m = s.byCookie
		}
		if t := m[sticky]; t != nil {
			return t
		}
	}
	n := uint64(len(cands))
	start := g.rr.Add(1)
	now := g.b.clock.Now().UnixNano()
	if s.cfg.leastOutstd {
		var best *target
		for i := uint64(0); i < n; i++ {
			t := cands[(start+i)%n]
			if t.unreachableUntil.Load() > now {
				continue
			}
			if best == nil || t.inflight.Load() < best.inflight.Load() {
				best = t
			}
		}
		if best == nil {
			best = cands[start%n] // every one failed lately: try anyway
		}
		return best
	}
	if t := cands[start%n]; t.unreachableUntil.Load() > now {
		for i := uint64(1); i < n; i++ {
			if t := cands[(start+i)%n]; t.unreachableUntil.Load() <= now {
				return t
			}
		}
	}
	if !s.slowUntil.IsZero() && len(s.healthy) > 0 {
		if now := g.b.clock.Now(); now.Before(s.slowUntil) {
			return g.pickSlowStart(s, now)
		}
	}
	return cands[start%n]
}

// pickSlowStart is smooth weighted round robin where a target in slow start
// weighs in proportion to the time it has been healthy.
func (g *group) pickSlowStart(s *targetSet, now time.Time) *target {
	g.mu.Lock()
	defer g.mu.Unlock()
	var best *target
	total := 0
	for _, t := range s.healthy {
		w := 1000
		if age := now.Sub(t.healthySince); age < s.cfg.slowStart {
			w = 1 + int(999*age/s.cfg.slowStart)
		}
		t.cw += w
		total += w
		if best == nil || t.cw > best.cw {
			best = t
		}
	}
	best.cw -= total
	return best
}

// unreachableFor is how long a target that refused a connection is passed
// over (unless a health check passes first).
const unreachableFor = 10 * time.Second

// markUnreachable passes t over for new requests for a while: a connection
// to it just failed (its process died, say), which the health checks would
// notice only after their interval and threshold.
func (g *group) markUnreachable(t *target) {
	t.unreachableUntil.Store(g.b.clock.Now().Add(unreachableFor).UnixNano())
}

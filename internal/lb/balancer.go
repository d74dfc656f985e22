package lb

import (
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options are a Balancer's collaborators. Every field may be left zero.
type Options struct {
	// Clock decides health check intervals and timeouts, slow start,
	// stickiness expiry and drain deadlines; SystemClock when nil.
	Clock Clock
	// Registerer receives the metrics (see the package doc); none when nil.
	Registerer prometheus.Registerer
	// Logger receives the proxy's and the HTTP servers' errors.
	Logger *slog.Logger
	// OnHealthChange is called, from the data plane's goroutines and
	// never with a lock held, each time a target's state or reason changes,
	// so the control plane can record it.
	OnHealthChange func(TargetHealth)
	// OnDrained is called once per draining target when nothing is in
	// flight to it any more or its drain deadline passed, so the control
	// plane can stop its task early.
	OnDrained func(Drained)
}

// Balancer is one data plane: the listeners of every load balancer in its
// configuration, their routes, target groups and health checks.
type Balancer struct {
	opts    Options
	clock   Clock
	errLog  *log.Logger
	metrics *metrics
	prober  *prober
	done    chan struct{}
	live    atomic.Pointer[[]*group]

	mu         sync.Mutex
	closed     bool
	listeners  map[string]runner // by listener ARN
	keys       map[string]string // listener ARN -> bindKey
	groups     map[string]*group
	transports map[time.Duration]*transports
}

// New makes a Balancer that serves nothing until Apply.
func New(opts Options) (*Balancer, error) {
	b := &Balancer{
		opts:       opts,
		clock:      opts.Clock,
		prober:     newProber(),
		done:       make(chan struct{}),
		listeners:  map[string]runner{},
		keys:       map[string]string{},
		groups:     map[string]*group{},
		transports: map[time.Duration]*transports{},
	}
	if b.clock == nil {
		b.clock = SystemClock{}
	}
	if opts.Logger != nil {
		b.errLog = slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn)
	} else {
		b.errLog = log.New(io.Discard, "", 0)
	}
	b.live.Store(&[]*group{})
	b.metrics = newMetrics(b)
	if opts.Registerer != nil {
		if err := b.metrics.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("register load balancer metrics: %w", err)
		}
	}
	return b, nil
}

// plan is one listener of a new configuration, compiled.
type plan struct {
	l      Listener
	lb     LoadBalancer
	routes *routeTable
	tcp    *group
}

// Apply makes cfg the configuration served. A configuration that is not
// valid is refused whole and changes nothing. Otherwise requests already in
// flight finish with the configuration they started with; listeners are
// opened and closed by difference. A listener that cannot be bound is named
// in the returned error while every other listener serves; a later Apply
// tries it again.
func (b *Balancer) Apply(cfg Config) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errors.New("load balancer is closed")
	}
	groups, plans, used, err := b.compile(cfg)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	var events []func()
	for _, tg := range cfg.TargetGroups {
		g := groups[tg.ARN]
		if b.groups[tg.ARN] != g {
			g.used = len(used[tg.ARN]) > 0 // new: report its targets' first state right
		}
		gc, _ := compileGroup(tg)
		events = append(events, g.update(gc, tg.Targets)...)
	}
	// Free the ports of removed and rebound listeners first: a port may
	// move from one listener to another in one Apply.
	keep := map[string]string{}
	for _, p := range plans {
		keep[p.l.ARN] = bindKey(p.l)
	}
	for arn, r := range b.listeners {
		if key, ok := keep[arn]; !ok || key != b.keys[arn] {
			r.shutdown()
			delete(b.listeners, arn)
			delete(b.keys, arn)
		}
	}
	var errs []error
	for _, p := range plans {
		if err := b.serve(p); err != nil {
			errs = append(errs, err)
		}
	}
	var stops []*group
	live := make([]*group, 0, len(groups))
	for arn, g := range groups {
		live = append(live, g)
		dims := sortedKeys(used[arn])
		events = append(events, g.setUsed(len(dims) > 0, dims)...)
		if len(dims) > 0 {
			g.mu.Lock()
			g.startChecks()
			g.mu.Unlock()
		} else {
			stops = append(stops, g)
		}
	}
	for arn, g := range b.groups {
		if groups[arn] != g {
			stops = append(stops, g)
			g.mu.Lock()
			for _, t := range g.targets {
				g.forget(t)
			}
			g.mu.Unlock()
		}
	}
	for _, g := range stops {
		g.stopChecks()
	}
	b.groups = groups
	b.live.Store(&live)
	b.mu.Unlock()
	for _, e := range events {
		e()
	}
	return errors.Join(errs...)
}

// compile checks cfg and compiles its listeners against the live target
// groups (new ones are made but not started). b.mu is held.
func (b *Balancer) compile(cfg Config) (map[string]*group, []plan, map[string]map[string]bool, error) {
	groups := map[string]*group{}
	gcs := map[string]*groupConfig{}
	for _, tg := range cfg.TargetGroups {
		gc, err := compileGroup(tg)
		if err != nil {
			return nil, nil, nil, err
		}
		if gcs[tg.ARN] != nil {
			return nil, nil, nil, fmt.Errorf("target group %s appears twice", tg.ARN)
		}
		gcs[tg.ARN] = gc
		if g := b.groups[tg.ARN]; g != nil {
			groups[tg.ARN] = g
		} else {
			groups[tg.ARN] = newGroup(b, gc)
		}
	}
	used := map[string]map[string]bool{}
	var plans []plan
	arns := map[string]bool{}
	for _, lb := range cfg.LoadBalancers {
		if lb.Type != TypeApplication && lb.Type != TypeNetwork {
			return nil, nil, nil, fmt.Errorf("load balancer %s: type %q is not application or network", lb.ARN, lb.Type)
		}
		for _, l := range lb.Listeners {
			if arns[l.ARN] || l.ARN == "" {
				return nil, nil, nil, fmt.Errorf("listener %q: ARN missing or used twice", l.ARN)
			}
			arns[l.ARN] = true
			if l.Port < 0 || l.Port > 65535 {
				return nil, nil, nil, fmt.Errorf("listener %s: port %d is not 1-65535", l.ARN, l.Port)
			}
			wantTCP := lb.Type == TypeNetwork
			if (l.Protocol == ProtocolTCP) != wantTCP || (l.Protocol != ProtocolTCP && l.Protocol != ProtocolHTTP && l.Protocol != ProtocolHTTPS) {
				return nil, nil, nil, fmt.Errorf("listener %s: protocol %q does not suit a %s load balancer", l.ARN, l.Protocol, lb.Type)
			}
			if l.Protocol == ProtocolHTTPS && (l.CertificatePEM == "" || l.KeyPEM == "") {
				return nil, nil, nil, fmt.Errorf("listener %s: HTTPS needs a certificate and its key", l.ARN)
			}
			resolve := func(arn string) (*group, *groupMetrics, error) {
				g, gc := groups[arn], gcs[arn]
				if g == nil {
					return nil, nil, fmt.Errorf("target group %s not found", arn)
				}
				if (gc.scheme == "tcp") != wantTCP {
					return nil, nil, fmt.Errorf("target group %s: protocol does not suit listener %s", arn, l.ARN)
				}
				if used[arn] == nil {
					used[arn] = map[string]bool{}
				}
				used[arn][lb.Dimension] = true
				return g, b.metrics.forGroup(lb.Dimension, gc.dimension), nil
			}
			if wantTCP && len(l.Rules) > 0 {
				return nil, nil, nil, fmt.Errorf("listener %s: a TCP listener has no rules", l.ARN)
			}
			rt, err := compileRoutes(l, func(a Action) (*action, error) { return compileAction(a, resolve) })
			if err != nil {
				return nil, nil, nil, err
			}
			p := plan{l: l, lb: lb, routes: rt}
			if wantTCP {
				if rt.def.kind != kindForward || len(rt.def.forward.groups) != 1 {
					return nil, nil, nil, fmt.Errorf("listener %s: a TCP listener forwards to one target group", l.ARN)
				}
				p.tcp = rt.def.forward.groups[0].g
			}
			plans = append(plans, p)
		}
	}
	return groups, plans, used, nil
}

// serve opens p's listener or swaps the configuration of the running one
// (Apply has closed it if it must bind anew). b.mu is held.
func (b *Balancer) serve(p plan) error {
	key := bindKey(p.l)
	r := b.listeners[p.l.ARN] // bound with the same key, if at all
	if p.tcp != nil {
		if r != nil {
			r.(*tcpListener).group.Store(p.tcp)
			return nil
		}
		tl, err := b.openTCP(p.l, p.tcp)
		if err != nil {
			return err
		}
		b.listeners[p.l.ARN], b.keys[p.l.ARN] = tl, key
		return nil
	}
	idle := seconds(p.lb.IdleTimeoutSeconds, 60)
	tr := b.transports[idle]
	if tr == nil {
		tr = newTransports(idle)
		b.transports[idle] = tr
	}
	scheme := "http"
	if p.l.Protocol == ProtocolHTTPS {
		scheme = "https"
	}
	port := strconv.Itoa(p.l.Port)
	if r != nil {
		port = strconv.Itoa(r.addr().(*net.TCPAddr).Port)
	}
	st := &httpState{routes: p.routes, lb: b.metrics.forLB(p.lb.Dimension), scheme: scheme, port: port, h1: tr.fast}
	if r != nil {
		st.rp = b.newReverseProxy(scheme, port, tr)
		r.(*httpListener).h.state.Store(st)
		return nil
	}
	hl, err := b.openHTTP(p.l, st)
	if err != nil {
		return err
	}
	// The port is known only now when the configuration asked for any.
	st.port = strconv.Itoa(hl.addr().(*net.TCPAddr).Port)
	st.rp = b.newReverseProxy(scheme, st.port, tr)
	b.listeners[p.l.ARN], b.keys[p.l.ARN] = hl, key
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Addr is the address a listener is bound to, nil if it is not.
func (b *Balancer) Addr(listenerARN string) net.Addr {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := b.listeners[listenerARN]; r != nil {
		return r.addr()
	}
	return nil
}

func (b *Balancer) liveGroups() []*group { return *b.live.Load() }

// Health reports every target of every target group, as
// DescribeTargetHealth would, ordered by group and address.
func (b *Balancer) Health() []TargetHealth {
	var out []TargetHealth
	for _, g := range b.liveGroups() {
		g.mu.Lock()
		for _, t := range g.targets {
			out = append(out, g.health(t))
		}
		g.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		a, c := out[i], out[j]
		if a.TargetGroupARN != c.TargetGroupARN {
			return a.TargetGroupARN < c.TargetGroupARN
		}
		if a.Target.Host != c.Target.Host {
			return a.Target.Host < c.Target.Host
		}
		return a.Target.Port < c.Target.Port
	})
	return out
}

// Close stops every listener at once, dropping connections, and stops the
// health checks. The Balancer cannot be used again.
func (b *Balancer) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.done)
	for _, r := range b.listeners {
		r.close()
	}
	groups := b.groups
	b.listeners, b.groups = map[string]runner{}, map[string]*group{}
	for _, t := range b.transports {
		t.close()
	}
	b.mu.Unlock()
	for _, g := range groups {
		g.stopChecks()
	}
	return nil
}

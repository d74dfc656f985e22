// Package lbsync keeps load balancer data planes in step with the load
// balancing configuration in the store. It turns the ELBv2 records (load
// balancers, listeners and their rules, target groups and their targets)
// into the data plane's lb.Config, resolving what the records only name:
// an instance target's address (the host address its agent advertises), a
// listener's certificate and key (opened from their sealed record), a draining
// target's deadline. It follows the store and applies each new configuration,
// and records the health the data plane observes, so that
// DescribeTargetHealth shows it. The server runs one in-process; the same
// configuration is served to separate `flotta lb serve` processes.
package lbsync

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	iamapi "github.com/flotta-dev/flotta/internal/api/iam"
	"github.com/flotta-dev/flotta/internal/lb"
	"github.com/flotta-dev/flotta/internal/sealing"
	"github.com/flotta-dev/flotta/internal/state"
)

// Source builds data plane configurations from the store.
type Source struct {
	State *state.State
	// Box opens listeners' private keys.
	Box *sealing.Box
	// BindHost is the address listeners bind ("" for every interface).
	BindHost string

	// remoteAt is when a separate data plane last asked for the
	// configuration (unix nanoseconds; see RemotesActive).
	remoteAt atomic.Int64
}

// remoteWindow is how long after its last configuration request a separate
// data plane counts as serving.
const remoteWindow = 2 * time.Minute

// RemotesActive says whether a separate data plane (`flotta lb serve`) has
// asked for the configuration lately: then this process's data plane is not
// the only one with requests in flight to a target.
func (s *Source) RemotesActive(now time.Time) bool {
	at := s.remoteAt.Load()
	return at != 0 && now.Sub(time.Unix(0, at)) < remoteWindow
}

// EndDrain ends the deregistration of a target that has no request in
// flight any more, as ELB does before the delay runs out: the target goes,
// and the agent stops its task at its next poll. The caller makes sure that
// no other data plane may still be sending to it (RemotesActive).
func (s *Source) EndDrain(ctx context.Context, d lb.Drained) error {
	_, err := s.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		tg := tx.Config.TargetGroups[d.TargetGroupARN]
		if tg == nil {
			return nil
		}
		for i, t := range tg.Targets {
			if t.ID == d.Target.ID && int(t.Port) == d.Target.Port && t.Draining() {
				tg.Targets = append(tg.Targets[:i:i], tg.Targets[i+1:]...)
				return nil
			}
		}
		return nil
	})
	return err
}

// Build reads the configuration as of now, and the store revision it
// reflects.
func (s *Source) Build(ctx context.Context) (lb.Config, int64, error) {
	cfg, err := s.State.ReadELB(ctx)
	if err != nil {
		return lb.Config{}, 0, err
	}
	hosts, err := s.State.InstanceAddresses(ctx)
	if err != nil {
		return lb.Config{}, 0, err
	}
	out := lb.Config{}
	for _, arn := range sortedKeys(cfg.TargetGroups) {
		out.TargetGroups = append(out.TargetGroups, targetGroup(cfg.TargetGroups[arn], hosts))
	}
	for _, arn := range sortedKeys(cfg.LoadBalancers) {
		rec := cfg.LoadBalancers[arn]
		b := lb.LoadBalancer{ARN: rec.Arn, Name: rec.Name, Type: rec.Type, Dimension: Dimension(rec.Arn)}
		if t, err := strconv.Atoi(rec.Attributes["idle_timeout.timeout_seconds"]); err == nil {
			b.IdleTimeoutSeconds = t
		}
		for _, l := range cfg.ListenersOf(arn) {
			ln, err := s.listener(ctx, cfg, l)
			if err != nil {
				return lb.Config{}, 0, err
			}
			b.Listeners = append(b.Listeners, ln)
		}
		out.LoadBalancers = append(out.LoadBalancers, b)
	}
	return out, cfg.Revision, nil
}

func (s *Source) listener(ctx context.Context, cfg *state.ELBConfig, l *state.ELBListener) (lb.Listener, error) {
	out := lb.Listener{ARN: l.Arn, Port: int(l.Port), Host: s.BindHost, Protocol: l.Protocol, DefaultActions: actions(l.DefaultActions)}
	if l.Protocol == lb.ProtocolHTTPS {
		certs, err := iamapi.ListenerCertificatePEMs(ctx, s.State, s.Box, l.Arn)
		if err != nil {
			return out, err
		}
		for i, c := range certs { // the default certificate comes first
			if i == 0 {
				out.CertificatePEM, out.KeyPEM = c.CertChain, c.Key
				continue
			}
			out.SNICertificates = append(out.SNICertificates, lb.KeyPair{CertificatePEM: c.CertChain, KeyPEM: c.Key})
		}
	}
	for _, r := range cfg.RulesOf(l.Arn) {
		rule := lb.Rule{ARN: r.Arn, Priority: r.Priority, Actions: actions(r.Actions)}
		for _, c := range r.Conditions {
			cond := lb.Condition{Field: c.Field, Values: c.Values, HTTPHeaderName: c.HeaderName}
			for _, q := range c.QueryStrings {
				cond.QueryString = append(cond.QueryString, lb.QueryPair{Key: q.Key, Value: q.Value})
			}
			rule.Conditions = append(rule.Conditions, cond)
		}
		out.Rules = append(out.Rules, rule)
	}
	return out, nil
}

func actions(in []state.ELBAction) []lb.Action {
	out := make([]lb.Action, 0, len(in))
	for _, a := range in {
		act := lb.Action{Type: a.Type, Order: int(a.Order)}
		if f := a.Forward; f != nil {
			fw := &lb.Forward{}
			for _, g := range f.TargetGroups {
				fw.TargetGroups = append(fw.TargetGroups, lb.WeightedGroup{ARN: g.Arn, Weight: int(g.Weight)})
			}
			if f.Stickiness {
				fw.StickinessSeconds = int(f.StickinessDurationSeconds)
			}
			act.Forward = fw
		}
		if r := a.FixedResponse; r != nil {
			act.FixedResponse = &lb.FixedResponse{StatusCode: r.StatusCode, ContentType: r.ContentType, MessageBody: r.MessageBody}
		}
		if r := a.Redirect; r != nil {
			act.Redirect = &lb.Redirect{Protocol: r.Protocol, Host: r.Host, Port: r.Port, Path: r.Path, Query: r.Query, StatusCode: r.StatusCode}
		}
		out = append(out, act)
	}
	return out
}

func targetGroup(tg *state.ELBTargetGroup, hosts map[string]string) lb.TargetGroup {
	hc := tg.HealthCheck
	out := lb.TargetGroup{ARN: tg.Arn, Name: tg.Name, Dimension: Dimension(tg.Arn), Protocol: tg.Protocol, ProtocolVersion: tg.ProtocolVersion,
		Port: int(tg.Port), TargetType: tg.TargetType,
		HealthCheck: lb.HealthCheck{Protocol: hc.Protocol, Port: hc.Port, Path: hc.Path, IntervalSeconds: int(hc.IntervalSeconds),
			TimeoutSeconds: int(hc.TimeoutSeconds), HealthyThreshold: int(hc.HealthyThreshold), UnhealthyThreshold: int(hc.UnhealthyThreshold),
			Matcher: hc.Matcher},
	}
	attr := tg.Attributes
	out.Attributes.DeregistrationDelaySeconds, _ = strconv.Atoi(attr["deregistration_delay.timeout_seconds"])
	out.Attributes.StickinessEnabled = attr["stickiness.enabled"] == "true"
	out.Attributes.StickinessType = attr["stickiness.type"]
	out.Attributes.StickinessSeconds, _ = strconv.Atoi(attr["stickiness.lb_cookie.duration_seconds"])
	out.Attributes.SlowStartSeconds, _ = strconv.Atoi(attr["slow_start.duration_seconds"])
	out.Attributes.Algorithm = attr["load_balancing.algorithm.type"]
	for _, t := range tg.Targets {
		host := t.ID // an ip target is its own address
		if tg.TargetType == lb.TargetTypeInstance {
			if host = hosts[t.ID]; host == "" {
				continue // an instance Flotta does not know (yet): no address to send to
			}
		}
		tgt := lb.Target{ID: t.ID, Host: host, Port: int(t.Port), State: lb.TargetRegistered}
		if t.Draining() {
			tgt.State, tgt.DrainDeadline = lb.TargetDraining, t.DrainingUntil
		}
		out.Targets = append(out.Targets, tgt)
	}
	return out
}

// Dimension is CloudWatch's dimension value for a load balancer or target
// group ARN: "app/NAME/ID", "net/NAME/ID" or "targetgroup/NAME/ID", the part
// of the resource after "loadbalancer/".
func Dimension(arn string) string {
	i := strings.LastIndex(arn, ":")
	res := arn[i+1:]
	return strings.TrimPrefix(res, "loadbalancer/")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// RecordHealth stores one health observation of the data plane, for
// DescribeTargetHealth and for the service controllers.
func (s *Source) RecordHealth(ctx context.Context, h lb.TargetHealth) error {
	return s.State.PutELBTargetHealth(ctx, h.TargetGroupARN, state.ELBTargetHealth{TargetID: h.Target.ID, Port: int32(h.Target.Port),
		State: h.State, Reason: h.Reason, Description: h.Description})
}

// Follow applies the configuration now and after every change to it, and
// every resync (instances' addresses change without a load balancing
// change), until ctx ends. A configuration the data plane refuses, or a
// port it cannot bind, is logged and tried again at the next change.
func (s *Source) Follow(ctx context.Context, logger *slog.Logger, resync time.Duration, apply func(lb.Config) error) {
	if resync == 0 {
		resync = 10 * time.Second
	}
	for ctx.Err() == nil {
		cfg, rev, err := s.Build(ctx)
		if err != nil {
			if ctx.Err() == nil {
				logger.Warn("read the load balancing configuration", "err", err)
			}
			wait(ctx, time.Second)
			continue
		}
		if err := apply(cfg); err != nil {
			logger.Warn("apply the load balancing configuration", "err", err)
		}
		s.waitForChange(ctx, rev, resync)
	}
}

// waitForChange returns at the first configuration change after rev, or
// after resync.
func (s *Source) waitForChange(ctx context.Context, rev int64, resync time.Duration) {
	wctx, cancel := context.WithTimeout(ctx, resync)
	defer cancel()
	changes, errs := s.State.WatchELB(wctx, rev)
	select {
	case <-changes:
	case err := <-errs:
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			wait(ctx, time.Second)
		}
	case <-wctx.Done():
	}
}

func wait(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

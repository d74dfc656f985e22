package dnssync

import (
	"context"
	"time"

	"github.com/flotta-dev/flotta/internal/state"
)

// DefaultAliasHealthEvery is how often the health of the load balancers
// that aliases with EvaluateTargetHealth point at is read again.
const DefaultAliasHealthEvery = 2 * time.Second

// evaluatesTargets says whether any alias record set has
// EvaluateTargetHealth: only then are load balancers' targets read.
func (v *route53View) evaluatesTargets() bool {
	for _, sets := range v.sets {
		for _, rs := range sets {
			if rs.Alias != nil && rs.Alias.EvaluateTargetHealth {
				return true
			}
		}
	}
	return false
}

// readLBHealth reads whether each load balancer, by its DNS name (as
// origin keys it), has a healthy target: a target of one of the target
// groups its listeners and rules forward to, registered and not draining,
// that the load balancer's health checks found healthy. A load balancer
// with none is unhealthy, as Route 53 evaluates an alias to an ELB.
func readLBHealth(ctx context.Context, st *state.State) (map[string]bool, error) {
	cfg, err := st.ReadELB(ctx)
	if err != nil {
		return nil, err
	}
	healthyGroup := map[string]bool{}
	out := map[string]bool{}
	for _, lb := range cfg.LoadBalancers {
		out[origin(lb.DNSName)] = false
	}
	for arn, tg := range cfg.TargetGroups {
		lbs := cfg.LoadBalancersOf(arn)
		if len(lbs) == 0 {
			continue
		}
		seen, err := st.ELBTargetHealths(ctx, arn, tg)
		if err != nil {
			return nil, err
		}
		for _, t := range tg.Targets {
			if t.Draining() {
				continue
			}
			for _, h := range seen {
				if h.TargetID == t.ID && h.Port == t.Port && h.State == "healthy" {
					healthyGroup[arn] = true
				}
			}
		}
		if healthyGroup[arn] {
			for _, lbArn := range lbs {
				if lb := cfg.LoadBalancers[lbArn]; lb != nil {
					out[origin(lb.DNSName)] = true
				}
			}
		}
	}
	return out, nil
}

// refreshLBHealth reads the load balancers' health again (when an alias
// evaluates it) and marks the zones holding an evaluating alias to a load
// balancer whose health changed.
func (v *route53View) refreshLBHealth(ctx context.Context, st *state.State, dirty map[string]bool) error {
	if !v.evaluatesTargets() {
		v.lbHealth = nil
		return nil
	}
	now, err := readLBHealth(ctx, st)
	if err != nil {
		return err
	}
	old := v.lbHealth
	v.lbHealth = now
	for id, sets := range v.sets {
		z := v.zones[id]
		if z == nil {
			continue
		}
		for _, rs := range sets {
			if rs.Alias == nil || !rs.Alias.EvaluateTargetHealth {
				continue
			}
			name := origin(rs.Alias.DNSName)
			was, wok := old[name]
			is, iok := now[name]
			if was != is || wok != iok {
				dirty[origin(z.Name)] = true
				break
			}
		}
	}
	return nil
}

// aliasUnhealthy says whether an alias record set evaluates its target's
// health and that target is a load balancer without a healthy target.
func (v *route53View) aliasUnhealthy(rs *state.R53RecordSet) bool {
	if rs.Alias == nil || !rs.Alias.EvaluateTargetHealth {
		return false
	}
	healthy, known := v.lbHealth[origin(rs.Alias.DNSName)]
	return known && !healthy
}

// evaluatesTargets says whether a batch writes an alias record set that
// evaluates its target's health.
func evaluatesTargets(batch []state.R53Change) bool {
	for _, c := range batch {
		if c.RecordSet != nil && c.RecordSet.Alias != nil && c.RecordSet.Alias.EvaluateTargetHealth {
			return true
		}
	}
	return false
}

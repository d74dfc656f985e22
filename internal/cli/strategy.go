package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/model"
)

// strategyFlags are the deployment strategy settings of create, update,
// deploy and plan: ECS's deploymentConfiguration.strategy with its canary,
// linear and bake settings. --strategy used to be the placement strategy;
// that is --placement-strategy now.
type strategyFlags struct {
	strategy                   string
	canaryPercent, linearStep  float64
	bake, canaryBake, stepBake string
}

// strategyFlagNames are the flags of strategyFlags.
var strategyFlagNames = []string{"strategy", "canary-percent", "canary-bake", "linear-step", "step-bake", "bake"}

func (f *strategyFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.strategy, "strategy", "", "deployment strategy: rolling, blue-green, canary or linear (the last three shift load balancer traffic between two target groups; placement strategies are --placement-strategy)")
	cmd.Flags().Float64Var(&f.canaryPercent, "canary-percent", 0, "canary: % of production traffic the first step moves to the new revision, 0.1-100 in steps of 0.1 (ECS's default 5)")
	cmd.Flags().StringVar(&f.canaryBake, "canary-bake", "", "canary: how long to wait after the first step, in whole minutes, e.g. 5m or 5 (ECS's default 10m)")
	cmd.Flags().Float64Var(&f.linearStep, "linear-step", 0, "linear: % of production traffic each step moves, 3-100 in steps of 0.1 (ECS's default 10)")
	cmd.Flags().StringVar(&f.stepBake, "step-bake", "", "linear: how long to wait after each step but the last, in whole minutes (ECS's default 6m)")
	cmd.Flags().StringVar(&f.bake, "bake", "", "blue-green, canary, linear: how long the old revision stays after all traffic moved, before it is removed, in whole minutes (bakeTimeInMinutes; 0 by default)")
}

// parseStrategy turns --strategy's words into ECS's.
func parseStrategy(s string) (types.DeploymentStrategy, error) {
	switch strings.ReplaceAll(strings.ToLower(s), "_", "-") {
	case "rolling":
		return types.DeploymentStrategyRolling, nil
	case "blue-green", "bluegreen":
		return types.DeploymentStrategyBlueGreen, nil
	case "canary":
		return types.DeploymentStrategyCanary, nil
	case "linear":
		return types.DeploymentStrategyLinear, nil
	}
	typ, _, _ := strings.Cut(s, ":")
	if typ == "spread" || typ == "binpack" || typ == "random" {
		return "", fmt.Errorf("--strategy %q is a placement strategy: --strategy is the deployment strategy now (rolling, blue-green, canary or linear); use --placement-strategy %s", s, s)
	}
	return "", fmt.Errorf("--strategy %q: use rolling, blue-green, canary or linear", s)
}

// minutes reads a bake time as ECS takes it, in whole minutes: a duration
// such as 5m or 1h30m, or a plain number of minutes.
func minutes(flag, v string) (int32, error) {
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("--%s %s: a bake time cannot be negative", flag, v)
		}
		return int32(min(n, 1<<30)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("--%s %q: give a duration in whole minutes, such as 5m, 1h30m or 5", flag, v)
	}
	if d < 0 {
		return 0, fmt.Errorf("--%s %s: a bake time cannot be negative", flag, v)
	}
	if d%time.Minute != 0 {
		return 0, fmt.Errorf("--%s %s: ECS counts bake times in whole minutes; use %s or %s",
			flag, v, fmtMinutes(int(d/time.Minute)), fmtMinutes(int(d/time.Minute)+1))
	}
	return int32(min(d/time.Minute, 1<<30)), nil
}

// fmtMinutes writes minutes as a duration a person reads: 5m, 1h30m.
func fmtMinutes(m int) string {
	if m >= 60 {
		if m%60 == 0 {
			return fmt.Sprintf("%dh", m/60)
		}
		return fmt.Sprintf("%dh%dm", m/60, m%60)
	}
	return fmt.Sprintf("%dm", m)
}

// deploymentChanged says whether any flag of deploymentFlags or
// strategyFlags was given.
func deploymentChanged(cmd *cobra.Command) bool {
	for _, n := range append([]string{"min-healthy", "max-percent", "circuit-breaker", "rollback"}, strategyFlagNames...) {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

// deploymentConfig is the deployment configuration the flags ask for:
// cur (the service's, nil for a new service) with what the flags name
// changed, so that `--canary-percent 20` keeps the rest. ECS's
// UpdateService replaces the whole deploymentConfiguration; the CLI sends
// the whole merged one. nil means the flags change nothing. notes say
// what the change drops.
func deploymentConfig(cmd *cobra.Command, cur *types.DeploymentConfiguration, d *deploymentFlags, s *strategyFlags) (*types.DeploymentConfiguration, []string, error) {
	if !deploymentChanged(cmd) {
		return nil, nil, nil
	}
	if cmd.Flags().Changed("rollback") && !d.circuitBreaker && (cur == nil || cur.DeploymentCircuitBreaker == nil || !cur.DeploymentCircuitBreaker.Enable) {
		return nil, nil, fmt.Errorf("--rollback needs --circuit-breaker")
	}
	c := types.DeploymentConfiguration{}
	if cur != nil {
		c = *cur
	}
	changed := cmd.Flags().Changed
	if changed("min-healthy") {
		c.MinimumHealthyPercent = aws.Int32(int32(d.minHealthy))
	}
	if changed("max-percent") {
		c.MaximumPercent = aws.Int32(int32(d.maxPercent))
	}
	if changed("circuit-breaker") || changed("rollback") {
		cb := types.DeploymentCircuitBreaker{}
		if c.DeploymentCircuitBreaker != nil {
			cb = *c.DeploymentCircuitBreaker
		}
		if changed("circuit-breaker") {
			cb.Enable = d.circuitBreaker
			if !d.circuitBreaker {
				cb.Rollback = false
			}
		}
		if changed("rollback") {
			cb.Rollback = d.rollback
		}
		c.DeploymentCircuitBreaker = &cb
	}

	var notes []string
	before := c.Strategy
	if before == "" {
		before = types.DeploymentStrategyRolling
	}
	strategy := before
	if changed("strategy") {
		var err error
		if strategy, err = parseStrategy(s.strategy); err != nil {
			return nil, nil, err
		}
	}
	c.Strategy = strategy
	word := strings.ToLower(strings.ReplaceAll(string(strategy), "_", "-"))
	needs := func(flag string, want types.DeploymentStrategy) error {
		if changed(flag) && strategy != want {
			return fmt.Errorf("--%s needs --strategy %s (the deployment strategy is %s)", flag, strings.ToLower(string(want)), word)
		}
		return nil
	}
	for flag, want := range map[string]types.DeploymentStrategy{"canary-percent": types.DeploymentStrategyCanary, "canary-bake": types.DeploymentStrategyCanary,
		"linear-step": types.DeploymentStrategyLinear, "step-bake": types.DeploymentStrategyLinear} {
		if err := needs(flag, want); err != nil {
			return nil, nil, err
		}
	}
	if changed("bake") && strategy == types.DeploymentStrategyRolling {
		return nil, nil, fmt.Errorf("--bake needs --strategy blue-green, canary or linear: a rolling deployment has no bake time")
	}
	// A strategy's own settings go with it.
	if strategy != types.DeploymentStrategyCanary {
		c.CanaryConfiguration = nil
	}
	if strategy != types.DeploymentStrategyLinear {
		c.LinearConfiguration = nil
	}
	if strategy == types.DeploymentStrategyRolling && before != strategy {
		if len(c.LifecycleHooks) > 0 {
			notes = append(notes, fmt.Sprintf("the %d lifecycle hook(s) are dropped: a rolling deployment runs none", len(c.LifecycleHooks)))
		}
		c.LifecycleHooks, c.BakeTimeInMinutes = nil, nil
	}
	if changed("canary-percent") || changed("canary-bake") {
		cc := types.CanaryConfiguration{}
		if c.CanaryConfiguration != nil {
			cc = *c.CanaryConfiguration
		}
		if changed("canary-percent") {
			cc.CanaryPercent = aws.Float64(s.canaryPercent)
		}
		if changed("canary-bake") {
			m, err := minutes("canary-bake", s.canaryBake)
			if err != nil {
				return nil, nil, err
			}
			cc.CanaryBakeTimeInMinutes = aws.Int32(m)
		}
		c.CanaryConfiguration = &cc
	}
	if changed("linear-step") || changed("step-bake") {
		lc := types.LinearConfiguration{}
		if c.LinearConfiguration != nil {
			lc = *c.LinearConfiguration
		}
		if changed("linear-step") {
			lc.StepPercent = aws.Float64(s.linearStep)
		}
		if changed("step-bake") {
			m, err := minutes("step-bake", s.stepBake)
			if err != nil {
				return nil, nil, err
			}
			lc.StepBakeTimeInMinutes = aws.Int32(m)
		}
		c.LinearConfiguration = &lc
	}
	if changed("bake") {
		m, err := minutes("bake", s.bake)
		if err != nil {
			return nil, nil, err
		}
		c.BakeTimeInMinutes = aws.Int32(m)
	}
	return &c, notes, nil
}

// shiftsTraffic says whether a strategy moves traffic between target
// groups rather than replacing tasks in place.
func shiftsTraffic(s types.DeploymentStrategy) bool {
	return model.ShiftsTraffic(string(s))
}

// wireConfig is a deployment configuration as the wire has it, for
// Flotta's own operations (PlanServiceUpdate).
func wireConfig(c *types.DeploymentConfiguration) (*model.DeploymentConfiguration, error) {
	i32 := func(p *int32) *int {
		if p == nil {
			return nil
		}
		v := int(*p)
		return &v
	}
	out := &model.DeploymentConfiguration{MinimumHealthyPercent: i32(c.MinimumHealthyPercent), MaximumPercent: i32(c.MaximumPercent),
		Strategy: string(c.Strategy), BakeTimeInMinutes: i32(c.BakeTimeInMinutes)}
	if cb := c.DeploymentCircuitBreaker; cb != nil {
		out.DeploymentCircuitBreaker = &model.DeploymentCircuitBreaker{Enable: cb.Enable, Rollback: cb.Rollback}
	}
	if a := c.Alarms; a != nil {
		out.Alarms = &model.DeploymentAlarms{AlarmNames: a.AlarmNames, Enable: a.Enable, Rollback: a.Rollback}
	}
	if cc := c.CanaryConfiguration; cc != nil {
		out.CanaryConfiguration = &model.CanaryConfiguration{CanaryPercent: cc.CanaryPercent, CanaryBakeTimeInMinutes: i32(cc.CanaryBakeTimeInMinutes)}
	}
	if lc := c.LinearConfiguration; lc != nil {
		out.LinearConfiguration = &model.LinearConfiguration{StepPercent: lc.StepPercent, StepBakeTimeInMinutes: i32(lc.StepBakeTimeInMinutes)}
	}
	for _, h := range c.LifecycleHooks {
		mh := model.DeploymentLifecycleHook{HookTargetArn: aws.ToString(h.HookTargetArn), RoleArn: aws.ToString(h.RoleArn)}
		for _, s := range h.LifecycleStages {
			mh.LifecycleStages = append(mh.LifecycleStages, string(s))
		}
		if h.HookDetails != nil {
			b, err := h.HookDetails.MarshalSmithyDocument()
			if err != nil {
				return nil, fmt.Errorf("hookDetails of lifecycle hook %s: %w", aws.ToString(h.HookTargetArn), err)
			}
			mh.HookDetails = json.RawMessage(b)
		}
		out.LifecycleHooks = append(out.LifecycleHooks, mh)
	}
	return out, nil
}

package model

import (
	"encoding/json"
	"math"
	"net/url"
	"slices"
	"strings"
)

// Deployment strategies of deploymentConfiguration.strategy.
const (
	StrategyRolling   = "ROLLING"
	StrategyBlueGreen = "BLUE_GREEN"
	StrategyLinear    = "LINEAR"
	StrategyCanary    = "CANARY"
)

// ECS's documented defaults for canary and linear traffic shifting (API
// reference, CanaryConfiguration and LinearConfiguration).
const (
	DefaultCanaryPercent           = 5.0
	DefaultCanaryBakeTimeInMinutes = 10
	DefaultStepPercent             = 10.0
	DefaultStepBakeTimeInMinutes   = 6
	// MaxBakeTimeInMinutes bounds every bake time ECS takes: 24 hours.
	MaxBakeTimeInMinutes = 1440
)

// LifecycleStages are the stages of a blue/green, linear or canary
// deployment at which a lifecycle hook may run, in their order.
var LifecycleStages = []string{
	"RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
	"POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT",
}

// Lifecycle hook target types and actions.
const (
	HookTargetLambda = "AWS_LAMBDA"
	HookTargetPause  = "PAUSE"
	HookContinue     = "CONTINUE"
	HookRollback     = "ROLLBACK"
	// DefaultHookTimeoutInMinutes is how long a hook may take before its
	// timeout action (ROLLBACK unless given), as ECS documents.
	DefaultHookTimeoutInMinutes = 1440
	// MaxHookTimeoutInMinutes bounds timeoutConfiguration.timeoutInMinutes.
	MaxHookTimeoutInMinutes = 20160
)

// CanaryConfiguration shifts canaryPercent of production traffic to the new
// revision, waits canaryBakeTimeInMinutes, then shifts the rest.
type CanaryConfiguration struct {
	CanaryPercent           *float64 `json:"canaryPercent,omitempty"`
	CanaryBakeTimeInMinutes *int     `json:"canaryBakeTimeInMinutes,omitempty"`
}

// LinearConfiguration shifts production traffic stepPercent at a time,
// waiting stepBakeTimeInMinutes between steps.
type LinearConfiguration struct {
	StepPercent           *float64 `json:"stepPercent,omitempty"`
	StepBakeTimeInMinutes *int     `json:"stepBakeTimeInMinutes,omitempty"`
}

// DeploymentLifecycleHook runs custom logic at stages of a deployment.
// ECS calls Lambda functions; Flotta runs a task definition or calls an
// HTTP(S) URL instead (hookTargetArn), and refuses Lambda ARNs.
//
// A PAUSE hook (targetType) has no target: the deployment waits at its
// stage until ContinueServiceDeployment says CONTINUE or ROLLBACK, or its
// timeout passes.
type DeploymentLifecycleHook struct {
	HookTargetArn        string                    `json:"hookTargetArn,omitempty"`
	RoleArn              string                    `json:"roleArn,omitempty"`
	LifecycleStages      []string                  `json:"lifecycleStages,omitempty"`
	HookDetails          json.RawMessage           `json:"hookDetails,omitempty"`
	TargetType           string                    `json:"targetType,omitempty"`
	TimeoutConfiguration *HookTimeoutConfiguration `json:"timeoutConfiguration,omitempty"`
}

// HookTimeoutConfiguration says how long a hook may take and what then
// happens (CONTINUE or ROLLBACK).
type HookTimeoutConfiguration struct {
	Action           string `json:"action,omitempty"`
	TimeoutInMinutes *int   `json:"timeoutInMinutes,omitempty"`
}

// Pause says the hook waits for ContinueServiceDeployment.
func (h *DeploymentLifecycleHook) Pause() bool { return h.TargetType == HookTargetPause }

// Timeout is how long the hook may take, and what happens then.
func (h *DeploymentLifecycleHook) Timeout() (minutes int, action string) {
	minutes, action = DefaultHookTimeoutInMinutes, HookRollback
	if tc := h.TimeoutConfiguration; tc != nil {
		if tc.TimeoutInMinutes != nil {
			minutes = *tc.TimeoutInMinutes
		}
		if tc.Action != "" {
			action = tc.Action
		}
	}
	return minutes, action
}

// DeploymentAlarms names CloudWatch alarms that fail (and may roll back) a
// deployment.
type DeploymentAlarms struct {
	AlarmNames []string `json:"alarmNames"`
	Enable     bool     `json:"enable"`
	Rollback   bool     `json:"rollback"`
}

// AdvancedConfiguration is what a load balancer of a service needs for
// blue/green, linear and canary deployments: the group the new revision
// registers with, and the listener rules whose weights shift traffic.
type AdvancedConfiguration struct {
	AlternateTargetGroupArn string `json:"alternateTargetGroupArn,omitempty"`
	ProductionListenerRule  string `json:"productionListenerRule,omitempty"`
	TestListenerRule        string `json:"testListenerRule,omitempty"`
	RoleArn                 string `json:"roleArn,omitempty"`
}

// ShiftsTraffic says whether a strategy moves traffic between two target
// groups (BLUE_GREEN, LINEAR, CANARY) rather than replacing tasks in place.
func ShiftsTraffic(strategy string) bool {
	return strategy == StrategyBlueGreen || strategy == StrategyLinear || strategy == StrategyCanary
}

// tenths says whether a percentage is a multiple of 0.1.
func tenths(p float64) bool {
	return math.Abs(p*10-math.Round(p*10)) < 1e-6
}

// validateBake checks one bake time member.
func validateBake(name string, v *int) error {
	if v != nil && (*v < 0 || *v > MaxBakeTimeInMinutes) {
		return InvalidParameter("%s must be between 0 and %d; got %d.", name, MaxBakeTimeInMinutes, *v)
	}
	return nil
}

// validateTrafficShift checks the strategy-specific members of a
// deployment configuration: canary and linear settings, bake times and
// lifecycle hooks.
func validateTrafficShift(c *DeploymentConfiguration) error {
	if err := validateBake("bakeTimeInMinutes", c.BakeTimeInMinutes); err != nil {
		return err
	}
	if cc := c.CanaryConfiguration; cc != nil {
		if c.Strategy != StrategyCanary {
			return InvalidParameter("canaryConfiguration is only valid when the deployment strategy is CANARY; got %s.", orRolling(c.Strategy))
		}
		if p := cc.CanaryPercent; p != nil && (*p < 0.1 || *p > 100 || !tenths(*p)) {
			return InvalidParameter("canaryPercent must be a multiple of 0.1 from 0.1 to 100.0; got %v.", *p)
		}
		if err := validateBake("canaryBakeTimeInMinutes", cc.CanaryBakeTimeInMinutes); err != nil {
			return err
		}
	}
	if lc := c.LinearConfiguration; lc != nil {
		if c.Strategy != StrategyLinear {
			return InvalidParameter("linearConfiguration is only valid when the deployment strategy is LINEAR; got %s.", orRolling(c.Strategy))
		}
		if p := lc.StepPercent; p != nil && (*p < 3 || *p > 100 || !tenths(*p)) {
			return InvalidParameter("stepPercent must be a multiple of 0.1 from 3.0 to 100.0; got %v.", *p)
		}
		if err := validateBake("stepBakeTimeInMinutes", lc.StepBakeTimeInMinutes); err != nil {
			return err
		}
	}
	if len(c.LifecycleHooks) > 0 && !ShiftsTraffic(c.Strategy) {
		return InvalidParameter("lifecycleHooks are only valid with the BLUE_GREEN, LINEAR or CANARY deployment strategy; got %s.", orRolling(c.Strategy))
	}
	for i := range c.LifecycleHooks {
		if err := validateHook(&c.LifecycleHooks[i]); err != nil {
			return err
		}
	}
	if a := c.Alarms; a != nil && a.Enable && len(a.AlarmNames) == 0 {
		return InvalidParameter("alarms.alarmNames must name at least one alarm when alarms are enabled.")
	}
	return nil
}

func orRolling(s string) string {
	if s == "" {
		return StrategyRolling
	}
	return s
}

// validateHook checks one lifecycle hook: its stages and its target, which
// in Flotta is a task definition ARN or an http(s) URL.
func validateHook(h *DeploymentLifecycleHook) error {
	switch h.TargetType {
	case "", HookTargetLambda:
		if h.HookTargetArn == "" {
			return InvalidParameter("hookTargetArn is required for a lifecycle hook.")
		}
		if err := validateHookTarget(h.HookTargetArn); err != nil {
			return err
		}
	case HookTargetPause:
		if h.HookTargetArn != "" || len(h.HookDetails) > 0 {
			return InvalidParameter("A PAUSE lifecycle hook takes no hookTargetArn or hookDetails.")
		}
		for _, s := range h.LifecycleStages {
			if s == StageTestTrafficShift || s == StageProductionTrafficShift {
				return InvalidParameter("PAUSE hooks cannot be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT stages.")
			}
		}
	default:
		return InvalidParameter("targetType should be one of [AWS_LAMBDA,PAUSE]; got %s.", Truncate(h.TargetType, 100))
	}
	if tc := h.TimeoutConfiguration; tc != nil {
		if tc.Action != "" && tc.Action != HookContinue && tc.Action != HookRollback {
			return InvalidParameter("timeoutConfiguration.action should be one of [CONTINUE,ROLLBACK]; got %s.", Truncate(tc.Action, 100))
		}
		if m := tc.TimeoutInMinutes; m != nil && (*m < 1 || *m > MaxHookTimeoutInMinutes) {
			return InvalidParameter("timeoutConfiguration.timeoutInMinutes must be between 1 and %d; got %d.", MaxHookTimeoutInMinutes, *m)
		}
	}
	if len(h.LifecycleStages) == 0 {
		return InvalidParameter("lifecycleStages is required for a lifecycle hook: name at least one of [%s].", strings.Join(LifecycleStages, ","))
	}
	seen := map[string]bool{}
	for _, s := range h.LifecycleStages {
		if !slices.Contains(LifecycleStages, s) {
			return InvalidParameter("lifecycleStages should be one of [%s]; got %s.", strings.Join(LifecycleStages, ","), Truncate(s, 100))
		}
		if seen[s] {
			return InvalidParameter("The lifecycle stage %s is named twice in one lifecycle hook.", s)
		}
		seen[s] = true
	}
	if h.RoleArn != "" {
		a, err := ParseARN(h.RoleArn)
		if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
			return InvalidParameter("roleArn of a lifecycle hook must be an IAM role ARN; got %s.", Truncate(h.RoleArn, 300))
		}
	}
	if len(h.HookDetails) > 0 && !json.Valid(h.HookDetails) {
		return InvalidParameter("hookDetails must be a JSON value.")
	}
	return nil
}

// validateHookTarget accepts Flotta's hook targets: a task definition ARN
// (the hook runs as a task) or an http:// or https:// URL (the hook is
// called). Lambda does not exist in Flotta.
func validateHookTarget(t string) error {
	if IsARN(t) {
		a, err := ParseARN(t)
		switch {
		case err != nil:
		case a.Service == "lambda":
			return InvalidParameter("Lambda lifecycle hooks are not supported: Flotta has no Lambda. Use a task definition ARN (the hook runs as a task) or an http:// or https:// URL (the hook is called) as hookTargetArn instead of %s.", Truncate(t, 300))
		case a.Service == "ecs" && strings.HasPrefix(a.Resource, "task-definition/"):
			return nil
		}
		return InvalidParameter("hookTargetArn must be a task definition ARN or an http:// or https:// URL; got %s.", Truncate(t, 300))
	}
	u, err := url.Parse(t)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return InvalidParameter("hookTargetArn must be a task definition ARN or an http:// or https:// URL; got %s.", Truncate(t, 300))
	}
	return nil
}

// CheckStrategyLoadBalancers checks that a blue/green, linear or canary
// strategy has a load balancer whose advancedConfiguration names the
// alternate target group to shift traffic to. (advancedConfiguration with
// ROLLING is kept, unused, so that a service can switch strategies back and
// forth without naming its load balancers again.)
func CheckStrategyLoadBalancers(strategy string, lbs []LoadBalancer) error {
	if !ShiftsTraffic(strategy) {
		return nil
	}
	if !slices.ContainsFunc(lbs, func(lb LoadBalancer) bool { return lb.AdvancedConfiguration != nil }) {
		return InvalidParameter("The %s deployment strategy requires a load balancer with an advancedConfiguration (alternateTargetGroupArn and productionListenerRule) to shift traffic.", strategy)
	}
	return nil
}

// WithTrafficShiftDefaults fills in the members ECS documents defaults for:
// canaryConfiguration for CANARY and linearConfiguration for LINEAR, as
// Describe shows them.
func (c *DeploymentConfiguration) WithTrafficShiftDefaults() {
	switch c.Strategy {
	case StrategyCanary:
		cc := CanaryConfiguration{}
		if c.CanaryConfiguration != nil {
			cc = *c.CanaryConfiguration
		}
		if cc.CanaryPercent == nil {
			p := DefaultCanaryPercent
			cc.CanaryPercent = &p
		}
		if cc.CanaryBakeTimeInMinutes == nil {
			b := DefaultCanaryBakeTimeInMinutes
			cc.CanaryBakeTimeInMinutes = &b
		}
		c.CanaryConfiguration = &cc
	case StrategyLinear:
		lc := LinearConfiguration{}
		if c.LinearConfiguration != nil {
			lc = *c.LinearConfiguration
		}
		if lc.StepPercent == nil {
			p := DefaultStepPercent
			lc.StepPercent = &p
		}
		if lc.StepBakeTimeInMinutes == nil {
			b := DefaultStepBakeTimeInMinutes
			lc.StepBakeTimeInMinutes = &b
		}
		c.LinearConfiguration = &lc
	}
}

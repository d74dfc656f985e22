package model

import "time"

// Lifecycle stages of a blue/green, canary or linear deployment, in the
// order ECS runs them (ServiceDeployment.lifecycleStage). Hooks may run at
// all but SCALE_UP, BAKE_TIME and CLEAN_UP.
const (
	StageReconcileService           = "RECONCILE_SERVICE"
	StagePreScaleUp                 = "PRE_SCALE_UP"
	StageScaleUp                    = "SCALE_UP"
	StagePostScaleUp                = "POST_SCALE_UP"
	StageTestTrafficShift           = "TEST_TRAFFIC_SHIFT"
	StagePostTestTrafficShift       = "POST_TEST_TRAFFIC_SHIFT"
	StagePreProductionTrafficShift  = "PRE_PRODUCTION_TRAFFIC_SHIFT"
	StageProductionTrafficShift     = "PRODUCTION_TRAFFIC_SHIFT"
	StagePostProductionTrafficShift = "POST_PRODUCTION_TRAFFIC_SHIFT"
	StageBakeTime                   = "BAKE_TIME"
	StageCleanUp                    = "CLEAN_UP"
)

// ShiftStep is one move of production traffic to the new (green) revision:
// after it, green has GreenTenths of 1,000 parts of the traffic, and the
// deployment waits Bake before the next step.
type ShiftStep struct {
	GreenTenths int
	Bake        time.Duration
}

// GreenPercent is the step's share of green in percent.
func (s ShiftStep) GreenPercent() float64 { return float64(s.GreenTenths) / 10 }

// Weights are the forward weights of the production rule for the step, as
// ALB takes them (0-999 each): the share reduced to lowest terms, so 10%
// is blue 9, green 1 and 0.1% is blue 999, green 1.
func (s ShiftStep) Weights() (blue, green int) {
	return shareWeights(s.GreenTenths)
}

func shareWeights(greenTenths int) (blue, green int) {
	green, blue = greenTenths, 1000-greenTenths
	g := gcd(green, blue)
	return blue / g, green / g
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ProductionShift is the schedule of the production traffic shift of a
// strategy, as ECS documents it:
//   - BLUE_GREEN: all traffic at once;
//   - CANARY: canaryTenths (tenths of a percent) first, canaryBake later
//     the rest;
//   - LINEAR: stepTenths more at each step, stepBake after each step but
//     the one that reaches 100%.
//
// The deployment's bakeTimeInMinutes comes after the last step; it is not
// part of this schedule.
func ProductionShift(strategy string, canaryTenths int, canaryBake time.Duration, stepTenths int, stepBake time.Duration) []ShiftStep {
	switch strategy {
	case "CANARY":
		if canaryTenths >= 1000 {
			return []ShiftStep{{GreenTenths: 1000}}
		}
		return []ShiftStep{{GreenTenths: canaryTenths, Bake: canaryBake}, {GreenTenths: 1000}}
	case "LINEAR":
		if stepTenths <= 0 {
			return []ShiftStep{{GreenTenths: 1000}}
		}
		var steps []ShiftStep
		for t := stepTenths; ; t += stepTenths {
			if t >= 1000 {
				return append(steps, ShiftStep{GreenTenths: 1000})
			}
			steps = append(steps, ShiftStep{GreenTenths: t, Bake: stepBake})
		}
	default:
		return []ShiftStep{{GreenTenths: 1000}}
	}
}

// Tenths turns a percentage given in steps of 0.1 (canaryPercent,
// stepPercent) into whole tenths, rounding away the float's error.
func Tenths(percent float64) int {
	if percent < 0 {
		return -int(-percent*10 + 0.5)
	}
	return int(percent*10 + 0.5)
}

// Schedule is the production traffic shift of a deployment configuration,
// with ECS's defaults for what it leaves out, and its bake time (after the
// last step, before the old revision is removed; 0 when not given).
func (c *DeploymentConfiguration) Schedule() (steps []ShiftStep, bake time.Duration) {
	if c == nil {
		return ProductionShift(StrategyBlueGreen, 0, 0, 0, 0), 0
	}
	canary, canaryBake := DefaultCanaryPercent, DefaultCanaryBakeTimeInMinutes
	if cc := c.CanaryConfiguration; cc != nil {
		if cc.CanaryPercent != nil {
			canary = *cc.CanaryPercent
		}
		if cc.CanaryBakeTimeInMinutes != nil {
			canaryBake = *cc.CanaryBakeTimeInMinutes
		}
	}
	step, stepBake := DefaultStepPercent, DefaultStepBakeTimeInMinutes
	if lc := c.LinearConfiguration; lc != nil {
		if lc.StepPercent != nil {
			step = *lc.StepPercent
		}
		if lc.StepBakeTimeInMinutes != nil {
			stepBake = *lc.StepBakeTimeInMinutes
		}
	}
	if c.BakeTimeInMinutes != nil {
		bake = time.Duration(*c.BakeTimeInMinutes) * time.Minute
	}
	return ProductionShift(c.Strategy, Tenths(canary), time.Duration(canaryBake)*time.Minute, Tenths(step), time.Duration(stepBake)*time.Minute), bake
}

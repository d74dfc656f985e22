package controller

import (
	"context"

	"github.com/flotta-dev/flotta/internal/state"
)

// applyShiftWeights gives the production and test rules of a service's
// traffic shift the weights its record asks for (no write when they have
// them already).
func (c *Services) applyShiftWeights(ctx context.Context, rec *state.ServiceRecord) error {
	ws := shiftWeights(rec)
	if len(ws) == 0 {
		return nil
	}
	_, err := c.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		for _, rw := range ws {
			setWeights(tx.Config, rw)
		}
		return nil
	})
	return err
}

// ruleWeights are the forward weights one listener rule should give its
// target groups.
type ruleWeights struct {
	rule    string
	weights map[string]int
}

// shiftWeights are the rule weights a service's traffic shift asks for:
// production and test rules of each pair of target groups.
func shiftWeights(rec *state.ServiceRecord) []ruleWeights {
	sh := rec.Shift
	if sh == nil {
		return nil
	}
	steps, _ := rec.Service.DeploymentConfiguration.Schedule()
	var out []ruleWeights
	for _, p := range sh.Pairs {
		prod, test := sh.Weights(p, steps)
		out = append(out, ruleWeights{rule: p.ProductionRule, weights: prod})
		if p.TestRule != "" {
			out = append(out, ruleWeights{rule: p.TestRule, weights: test})
		}
	}
	return out
}

// setWeights gives the forward actions of a rule (or of a listener whose
// default rule it is) the weights asked for, adding a target group the
// action lacks. A rule that is gone is left alone.
func setWeights(cfg *state.ELBConfig, rw ruleWeights) {
	var actions []state.ELBAction
	if r := cfg.Rules[rw.rule]; r != nil {
		actions = r.Actions
	} else {
		for _, l := range cfg.Listeners {
			if l.DefaultRuleArn == rw.rule {
				actions = l.DefaultActions
			}
		}
	}
	for i := range actions {
		f := actions[i].Forward
		if actions[i].Type != "forward" || f == nil {
			continue
		}
		for arn, w := range rw.weights {
			found := false
			for j := range f.TargetGroups {
				if f.TargetGroups[j].Arn == arn {
					found = true
					if f.TargetGroups[j].Weight != int32(w) {
						f.TargetGroups[j].Weight = int32(w)
					}
				}
			}
			if !found {
				f.TargetGroups = append(f.TargetGroups, state.ELBWeightedTargetGroup{Arn: arn, Weight: int32(w)})
				f.Short = false
			}
		}
		if len(f.TargetGroups) > 1 {
			f.Short = false
		}
	}
}

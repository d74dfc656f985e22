package elbv2

import (
	"context"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/state"
)

type createRuleIn struct {
	ListenerArn string
	Priority    *int
	Conditions  []conditionIn
	Actions     []actionIn
	Tags        []tagIn
}

type rulesOut struct {
	Rules      []Rule `xml:"Rules"`
	NextMarker string `xml:"NextMarker,omitempty"`
}

func checkPriority(p *int, member string) error {
	if p == nil {
		return needed(member)
	}
	if *p < 1 {
		return invalid("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to 1", *p, member)
	}
	if *p > 50000 {
		return invalid("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to 50000", *p, member)
	}
	return nil
}

// ruleScope is the listener a rule belongs to, checked to take rules: an
// application load balancer's.
func ruleScope(cfg *state.ELBConfig, l *state.ELBListener) (actionScope, error) {
	lb := cfg.LoadBalancers[l.LoadBalancerArn]
	if lb.Type != "application" {
		return actionScope{}, fail(CodeInvalidConfiguration, "Rules are not supported for listeners of load balancers of type '%s'", lb.Type)
	}
	return actionScope{cfg: cfg, lb: lb, protocol: l.Protocol}, nil
}

// CreateRule adds a rule to an application load balancer's listener.
func (a *API) CreateRule(ctx context.Context, in *createRuleIn) (*rulesOut, error) {
	if err := checkPriority(in.Priority, "priority"); err != nil {
		return nil, err
	}
	conds, err := conditions(in.Conditions)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	var made *state.ELBRule
	_, err = a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		cfg := tx.Config
		l, err := findListener(cfg, in.ListenerArn)
		if err != nil {
			return err
		}
		sc, err := ruleScope(cfg, l)
		if err != nil {
			return err
		}
		for _, r := range cfg.RulesOf(l.Arn) {
			if r.Priority == *in.Priority {
				return fail(CodePriorityInUse, "Priority '%d' is currently in use", *in.Priority)
			}
		}
		inLB := 0
		for _, other := range cfg.ListenersOf(l.LoadBalancerArn) {
			inLB += len(cfg.RulesOf(other.Arn))
		}
		if inLB >= MaxRulesPerLB {
			return fail(CodeTooManyRules, "The maximum number of rules on load balancer %s has been reached", l.LoadBalancerArn)
		}
		actions, err := sc.actions(in.Actions, "actions")
		if err != nil {
			return err
		}
		lPart := strings.TrimPrefix(resourceOf(l.Arn, "listener"), "listener/")
		made = &state.ELBRule{Arn: a.arn("listener-rule/" + lPart + "/" + a.newID()), ListenerArn: l.Arn, Priority: *in.Priority,
			Conditions: conds, Actions: actions, Tags: tags}
		cfg.Rules[made.Arn] = made
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rulesOut{Rules: []Rule{ruleOut(made)}}, nil
}

type describeRulesIn struct {
	ListenerArn string
	RuleArns    []string
	Marker      string
	PageSize    *int
}

// DescribeRules lists a listener's rules by priority, its default rule
// last, or the rules named.
func (a *API) DescribeRules(ctx context.Context, in *describeRulesIn) (*rulesOut, error) {
	if (in.ListenerArn == "") == (len(in.RuleArns) == 0) {
		return nil, invalid("You must specify either listener rule ARNs or a listener ARN")
	}
	cfg, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	var rules []Rule
	if in.ListenerArn != "" {
		l, err := findListener(cfg, in.ListenerArn)
		if err != nil {
			return nil, err
		}
		for _, r := range cfg.RulesOf(l.Arn) {
			rules = append(rules, ruleOut(r))
		}
		rules = append(rules, defaultRuleOut(l))
	} else {
		for _, arn := range in.RuleArns {
			r, l, err := findRule(cfg, arn)
			if err != nil {
				return nil, err
			}
			if r != nil {
				rules = append(rules, ruleOut(r))
			} else {
				rules = append(rules, defaultRuleOut(l))
			}
		}
	}
	// Page in the order answered: the marker is the position reached.
	pos := map[string]int{}
	for i, r := range rules {
		pos[r.RuleArn] = i
	}
	key := func(r Rule) string { return sortKey(itoa(int32(100000 + pos[r.RuleArn]))) }
	got, next, err := page(rules, key, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &rulesOut{Rules: append([]Rule{}, got...), NextMarker: next}, nil
}

type modifyRuleIn struct {
	RuleArn    string
	Conditions []conditionIn
	Actions    []actionIn
}

// ModifyRule replaces a rule's conditions or actions (a default rule's
// actions are its listener's default actions).
func (a *API) ModifyRule(ctx context.Context, in *modifyRuleIn) (*rulesOut, error) {
	var conds []state.ELBCondition
	if len(in.Conditions) > 0 {
		var err error
		if conds, err = conditions(in.Conditions); err != nil {
			return nil, err
		}
	}
	var out Rule
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		cfg := tx.Config
		r, l, err := findRule(cfg, in.RuleArn)
		if err != nil {
			return err
		}
		if r == nil {
			if conds != nil {
				return fail(CodeOperationNotPermitted, "Conditions cannot be specified for the default rule '%s'", in.RuleArn)
			}
			if len(in.Actions) > 0 {
				sc := actionScope{cfg: cfg, lb: cfg.LoadBalancers[l.LoadBalancerArn], protocol: l.Protocol}
				if l.DefaultActions, err = sc.actions(in.Actions, "actions"); err != nil {
					return err
				}
			}
			out = defaultRuleOut(l)
			return nil
		}
		if conds != nil {
			r.Conditions = conds
		}
		if len(in.Actions) > 0 {
			sc, err := ruleScope(cfg, l)
			if err != nil {
				return err
			}
			if r.Actions, err = sc.actions(in.Actions, "actions"); err != nil {
				return err
			}
		}
		out = ruleOut(r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rulesOut{Rules: []Rule{out}}, nil
}

type ruleArnIn struct {
	RuleArn string
}

// DeleteRule deletes a rule; a listener's default rule goes only with the
// listener.
func (a *API) DeleteRule(ctx context.Context, in *ruleArnIn) (*struct{}, error) {
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		r, _, err := findRule(tx.Config, in.RuleArn)
		if err != nil {
			return err
		}
		if r == nil {
			return fail(CodeOperationNotPermitted, "Default rule '%s' cannot be deleted", in.RuleArn)
		}
		delete(tx.Config.Rules, r.Arn)
		return nil
	})
	return nil, err
}

type setRulePrioritiesIn struct {
	RulePriorities []struct {
		RuleArn  string
		Priority *int
	}
}

// SetRulePriorities changes the priorities of rules, all at once: the
// priorities in force afterwards must be unique in each listener.
func (a *API) SetRulePriorities(ctx context.Context, in *setRulePrioritiesIn) (*rulesOut, error) {
	if len(in.RulePriorities) == 0 {
		return nil, needed("rulePriorities")
	}
	for _, rp := range in.RulePriorities {
		if err := checkPriority(rp.Priority, "rulePriorities.member.priority"); err != nil {
			return nil, err
		}
	}
	var changed []*state.ELBRule
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		changed = changed[:0]
		for _, rp := range in.RulePriorities {
			r, _, err := findRule(tx.Config, rp.RuleArn)
			if err != nil {
				return err
			}
			if r == nil {
				return fail(CodeOperationNotPermitted, "The priority of the default rule '%s' cannot be changed", rp.RuleArn)
			}
			if slices.Contains(changed, r) {
				return invalid("Rule '%s' is specified more than once", rp.RuleArn)
			}
			r.Priority = *rp.Priority
			changed = append(changed, r)
		}
		for _, r := range changed {
			for _, other := range tx.Config.RulesOf(r.ListenerArn) {
				if other != r && other.Priority == r.Priority {
					return fail(CodePriorityInUse, "Priority '%d' is currently in use", r.Priority)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &rulesOut{Rules: []Rule{}}
	for _, r := range changed {
		out.Rules = append(out.Rules, ruleOut(r))
	}
	return out, nil
}

package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/spf13/cobra"
)

// shiftSnapshot is what the live view of a blue/green, canary or linear
// deployment shows at one moment: its service deployment's stage, status
// and hooks (DescribeServiceDeployments), and the weights of each
// production listener rule (ELB DescribeRules).
type shiftSnapshot struct {
	Stage   string
	Status  string
	Reason  string
	Traffic []ruleTraffic
	Hooks   []hookResult
}

// ruleTraffic is one production listener rule's forward weights.
type ruleTraffic struct {
	Rule    string
	Weights map[string]int32 // target group ARN -> weight
}

// hookResult is one lifecycle hook's run as DescribeServiceDeployments
// reports it.
type hookResult struct {
	ID, Target, Status string
}

// shiftView prints a traffic-shifting deployment's progress, a line for
// each change: the stage, the production split blue/green, hook results,
// and the end. The blue group of a rule is the one that had the most
// traffic when the view first saw it: the old revision's, as the view
// starts with the deployment.
type shiftView struct {
	w    io.Writer
	now  func() time.Time
	blue map[string]string // rule -> blue target group ARN
	last shiftSnapshot
	seen bool
	hook map[string]string // hook id -> status shown
}

func newShiftView(w io.Writer, now func() time.Time) *shiftView {
	return &shiftView{w: w, now: now, blue: map[string]string{}, hook: map[string]string{}}
}

// show prints what changed since the last snapshot.
func (v *shiftView) show(s shiftSnapshot) {
	at := v.now().Format("15:04:05")
	if !v.seen || s.Stage != v.last.Stage {
		if s.Stage != "" {
			fmt.Fprintf(v.w, "%s  stage    %s\n", at, s.Stage)
		}
	}
	for _, t := range s.Traffic {
		if _, ok := v.blue[t.Rule]; !ok {
			v.blue[t.Rule] = heaviest(t.Weights)
		}
		line := v.split(t)
		if prev := v.previous(t.Rule); prev == nil || v.split(*prev) != line {
			fmt.Fprintf(v.w, "%s  traffic  %s%s\n", at, line, v.ruleLabel(s.Traffic, t.Rule))
		}
	}
	for _, h := range s.Hooks {
		if v.hook[h.ID] != h.Status {
			v.hook[h.ID] = h.Status
			fmt.Fprintf(v.w, "%s  hook     %s %s\n", at, h.Target, h.Status)
		}
	}
	if (!v.seen || s.Status != v.last.Status) && s.Status != "" {
		reason := ""
		if s.Reason != "" {
			reason = ": " + s.Reason
		}
		fmt.Fprintf(v.w, "%s  status   %s%s\n", at, s.Status, reason)
	}
	v.last, v.seen = s, true
}

// previous is a rule's traffic in the last snapshot.
func (v *shiftView) previous(rule string) *ruleTraffic {
	if !v.seen {
		return nil
	}
	for i := range v.last.Traffic {
		if v.last.Traffic[i].Rule == rule {
			return &v.last.Traffic[i]
		}
	}
	return nil
}

// split writes a rule's weights as blue NAME P% / green NAME P%.
func (v *shiftView) split(t ruleTraffic) string {
	var total int32
	arns := make([]string, 0, len(t.Weights))
	for arn, w := range t.Weights {
		total += w
		arns = append(arns, arn)
	}
	blue := v.blue[t.Rule]
	sort.Slice(arns, func(i, j int) bool {
		if (arns[i] == blue) != (arns[j] == blue) {
			return arns[i] == blue
		}
		return arns[i] < arns[j]
	})
	parts := []string{}
	for _, arn := range arns {
		role := "green"
		if arn == blue {
			role = "blue"
		}
		share := "0%"
		if total > 0 {
			share = percent(float64(int(float64(t.Weights[arn])*1000/float64(total)+0.5)) / 10)
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", role, groupNameOf(arn), share))
	}
	return strings.Join(parts, " / ")
}

// ruleLabel names the rule when there are several.
func (v *shiftView) ruleLabel(all []ruleTraffic, rule string) string {
	if len(all) < 2 {
		return ""
	}
	return "  (rule " + shortID(rule) + ")"
}

// heaviest is the target group with the greatest weight.
func heaviest(weights map[string]int32) string {
	best, bestW := "", int32(-1)
	for arn, w := range weights {
		if w > bestW || (w == bestW && arn < best) {
			best, bestW = arn, w
		}
	}
	return best
}

// serviceDeploymentDone says whether a service deployment status is final.
func serviceDeploymentDone(s types.ServiceDeploymentStatus) bool {
	switch s {
	case types.ServiceDeploymentStatusSuccessful, types.ServiceDeploymentStatusStopped,
		types.ServiceDeploymentStatusRollbackSuccessful, types.ServiceDeploymentStatusRollbackFailed:
		return true
	}
	return false
}

// followShift follows a blue/green, canary or linear deployment until its
// service deployment ends: nil when it is SUCCESSFUL, an error with the
// reason otherwise. Besides the task counts and events of follow, it shows
// the stage, the production traffic split and the hooks (shiftView).
func (o *Options) followShift(cmd *cobra.Command, client *ecs.Client, cluster, name string, sdb types.ServiceDeploymentBrief, limit time.Duration) error {
	ctx := cmd.Context()
	w := cmd.ErrOrStderr()
	arn := aws.ToString(sdb.ServiceDeploymentArn)
	fmt.Fprintf(w, "following %s deployment %s\n", strings.ToLower(string(sdb.Status)), shortID(arn))
	lbs, err := o.ELB(ctx)
	if err != nil {
		return err
	}
	view := newShiftView(w, time.Now)
	seen := map[string]bool{}
	first := true
	last := ""
	deadline := time.Now().Add(limit)
	for {
		s, err := describeOne(ctx, client, cluster, name)
		if err != nil {
			return err
		}
		if first {
			for _, e := range s.Events {
				seen[aws.ToString(e.Id)] = true
			}
			first = false
		}
		if err := printProgress(ctx, w, client, cluster, name, s, seen, &last); err != nil {
			return err
		}
		snap, sd, err := shiftSnapshotOf(ctx, client, lbs, s, arn)
		if err != nil {
			return err
		}
		view.show(snap)
		if sd != nil && serviceDeploymentDone(sd.Status) {
			if sd.Status == types.ServiceDeploymentStatusSuccessful {
				return printServices(cmd, o, []types.Service{*s})
			}
			return fmt.Errorf("deployment %s ended %s: %s", shortID(arn), sd.Status, orDefault(snap.Reason, "no reason given"))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up following after %s; the deployment goes on", limit)
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// shiftSnapshotOf reads a service deployment and the weights of the
// service's production listener rules.
func shiftSnapshotOf(ctx context.Context, client *ecs.Client, lbs *elb.Client, s *types.Service, arn string) (shiftSnapshot, *types.ServiceDeployment, error) {
	var snap shiftSnapshot
	out, err := client.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	if err != nil {
		return snap, nil, err
	}
	var sd *types.ServiceDeployment
	if len(out.ServiceDeployments) > 0 {
		sd = &out.ServiceDeployments[0]
		snap.Stage, snap.Status, snap.Reason = string(sd.LifecycleStage), string(sd.Status), aws.ToString(sd.StatusReason)
		if sd.Rollback != nil && aws.ToString(sd.Rollback.Reason) != "" {
			snap.Reason = aws.ToString(sd.Rollback.Reason)
		}
		for _, h := range sd.LifecycleHookDetails {
			snap.Hooks = append(snap.Hooks, hookResult{ID: aws.ToString(h.HookId), Target: aws.ToString(h.TargetArn), Status: string(h.Status)})
		}
	}
	for _, lb := range s.LoadBalancers {
		ac := lb.AdvancedConfiguration
		if ac == nil || aws.ToString(ac.ProductionListenerRule) == "" {
			continue
		}
		weights, err := ruleWeights(ctx, lbs, aws.ToString(ac.ProductionListenerRule))
		if err != nil {
			return snap, sd, err
		}
		snap.Traffic = append(snap.Traffic, ruleTraffic{Rule: aws.ToString(ac.ProductionListenerRule), Weights: weights})
	}
	return snap, sd, nil
}

// ruleWeights are the forward weights of a listener rule (an Application
// Load Balancer's) or of a listener's default actions (a Network Load
// Balancer's, whose production "rule" is the listener).
func ruleWeights(ctx context.Context, lbs *elb.Client, arn string) (map[string]int32, error) {
	var actions []elbtypes.Action
	if strings.Contains(arn, ":listener-rule/") {
		out, err := lbs.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{arn}})
		if err != nil {
			return nil, fmt.Errorf("read production listener rule %s: %w", arn, err)
		}
		if len(out.Rules) > 0 {
			actions = out.Rules[0].Actions
		}
	} else {
		out, err := lbs.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{arn}})
		if err != nil {
			return nil, fmt.Errorf("read production listener %s: %w", arn, err)
		}
		if len(out.Listeners) > 0 {
			actions = out.Listeners[0].DefaultActions
		}
	}
	weights := map[string]int32{}
	for _, a := range actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			for _, g := range a.ForwardConfig.TargetGroups {
				weights[aws.ToString(g.TargetGroupArn)] = aws.ToInt32(g.Weight)
			}
		} else if a.TargetGroupArn != nil {
			weights[*a.TargetGroupArn] = 1
		}
	}
	return weights, nil
}

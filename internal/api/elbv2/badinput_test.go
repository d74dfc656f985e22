package elbv2_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestBadInputIsRefusedAndChangesNothing: rule conditions ELB would not
// take, priorities 0 and 50001, target ports 0 and 70000, out-of-range
// health checks and attributes, bad names: each a ValidationError, with
// the store untouched.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	e := start(t)
	lb := e.loadBalancer(t, "web", "application")
	tg := e.targetGroup(t, "blue", "HTTP", types.TargetTypeEnumIp)
	l := e.listener(t, *lb.LoadBalancerArn, "HTTP", 80, forward(*tg.TargetGroupArn))
	cond := func(c types.RuleCondition) []types.RuleCondition { return []types.RuleCondition{c} }
	rule := func(priority int32, conds []types.RuleCondition) func() error {
		return func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(priority), Conditions: conds, Actions: forward(*tg.TargetGroupArn)})
			return err
		}
	}
	register := func(port int32) func() error {
		return func() error {
			_, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
				Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1"), Port: aws.Int32(port)}}})
			return err
		}
	}
	many := []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/a", "/b", "/c"}},
		{Field: aws.String("host-header"), Values: []string{"a.example", "b.example", "c.example"}}}
	cases := map[string]func() error{
		"priority 0":        rule(0, pathRule("/a")),
		"priority 50001":    rule(50001, pathRule("/a")),
		"unknown field":     rule(1, cond(types.RuleCondition{Field: aws.String("cookie"), Values: []string{"a"}})),
		"path with a space": rule(1, pathRule("/a b")),
		"path too long":     rule(1, pathRule("/"+string(make([]byte, 200)))),
		"host with a slash": rule(1, cond(types.RuleCondition{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"a/b"}}})),
		"no values":         rule(1, cond(types.RuleCondition{Field: aws.String("path-pattern")})),
		"bad CIDR":          rule(1, cond(types.RuleCondition{Field: aws.String("source-ip"), SourceIpConfig: &types.SourceIpConditionConfig{Values: []string{"10.0.0.300/8"}}})),
		"lower-case method": rule(1, cond(types.RuleCondition{Field: aws.String("http-request-method"), HttpRequestMethodConfig: &types.HttpRequestMethodConditionConfig{Values: []string{"get"}}})),
		"bad header name": rule(1, cond(types.RuleCondition{Field: aws.String("http-header"),
			HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X Bad"), Values: []string{"1"}}})),
		"query without value": rule(1, cond(types.RuleCondition{Field: aws.String("query-string"),
			QueryStringConfig: &types.QueryStringConditionConfig{Values: []types.QueryStringKeyValuePair{{Key: aws.String("a")}}}})),
		"config of another field": rule(1, cond(types.RuleCondition{Field: aws.String("path-pattern"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"a"}}})),
		"six values":              rule(1, many),
		"two path conditions":     rule(1, append(pathRule("/a"), pathRule("/b")...)),
		"target port 0":           register(0),
		"target port 70000":       register(70000),
		"health check interval 4": func() error {
			_, err := e.elb.ModifyTargetGroup(e.ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: tg.TargetGroupArn, HealthCheckIntervalSeconds: aws.Int32(4)})
			return err
		},
		"healthy threshold 11": func() error {
			_, err := e.elb.ModifyTargetGroup(e.ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: tg.TargetGroupArn, HealthyThresholdCount: aws.Int32(11)})
			return err
		},
		"timeout not below interval": func() error {
			_, err := e.elb.ModifyTargetGroup(e.ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: tg.TargetGroupArn, HealthCheckTimeoutSeconds: aws.Int32(30)})
			return err
		},
		"health check path without slash": func() error {
			_, err := e.elb.ModifyTargetGroup(e.ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: tg.TargetGroupArn, HealthCheckPath: aws.String("healthz")})
			return err
		},
		"deregistration delay 3601": func() error {
			_, err := e.elb.ModifyTargetGroupAttributes(e.ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
				Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("3601")}}})
			return err
		},
		"unknown attribute": func() error {
			_, err := e.elb.ModifyTargetGroupAttributes(e.ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
				Attributes: []types.TargetGroupAttribute{{Key: aws.String("stickiness.enabled"), Value: aws.String("true")}, {Key: aws.String("nope"), Value: aws.String("1")}}})
			return err
		},
		"load balancer name with a dot": func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("a.b")})
			return err
		},
		"target group port 0": func() error {
			_, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String("z"), Protocol: "HTTP", Port: aws.Int32(0)})
			return err
		},
		"listener port 70000": func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(70000), DefaultActions: forward(*tg.TargetGroupArn)})
			return err
		},
		"fixed response status 302": func() error {
			_, err := e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: l.ListenerArn,
				DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("302")}}}})
			return err
		},
		"weight 1000": func() error {
			_, err := e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: l.ListenerArn, DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward,
				ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: tg.TargetGroupArn, Weight: aws.Int32(1000)}}}}}})
			return err
		},
		"page size 0": func() error {
			_, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(0)})
			return err
		},
		"not an ARN": func() error {
			_, err := e.elb.DeleteLoadBalancer(e.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String("web")})
			return err
		},
	}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			var err error
			e.unchanged(t, name, func() { err = call() })
			if code(err) != "ValidationError" {
				t.Fatalf("got %v, want ValidationError", err)
			}
		})
	}
	// The good forms of the same requests go through.
	for i, c := range []types.RuleCondition{
		{Field: aws.String("path-pattern"), Values: []string{"/api/*?"}},
		{Field: aws.String("http-request-method"), HttpRequestMethodConfig: &types.HttpRequestMethodConditionConfig{Values: []string{"GET", "HEAD"}}},
		{Field: aws.String("source-ip"), SourceIpConfig: &types.SourceIpConditionConfig{Values: []string{"2001:db8::/32"}}},
	} {
		if err := rule(int32(i+1), cond(c))(); err != nil {
			t.Errorf("condition %d: %v", i, err)
		}
	}
	for _, port := range []int32{1, 65535} {
		if err := register(port)(); err != nil {
			t.Errorf("target port %d: %v", port, err)
		}
	}
	if err := rule(50000, pathRule("/last"))(); err != nil {
		t.Errorf("priority 50000: %v", err)
	}
}

// TestPaging: the Describe operations ELB pages answer PageSize items and
// a NextMarker that resumes where the page ended, until the last page,
// which has none; the SDK's paginator sees every item once.
func TestPaging(t *testing.T) {
	e := start(t)
	for i := range 7 {
		e.loadBalancer(t, fmt.Sprintf("lb-%d", i), "application")
		e.targetGroup(t, fmt.Sprintf("tg-%d", i), "HTTP", types.TargetTypeEnumIp)
	}
	lb := e.loadBalancer(t, "rules", "application")
	tg := e.targetGroup(t, "rules", "HTTP", types.TargetTypeEnumIp)
	l := e.listener(t, *lb.LoadBalancerArn, "HTTP", 80, forward(*tg.TargetGroupArn))
	for i := range 4 {
		if _, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(int32(10 - i)), Conditions: pathRule(fmt.Sprintf("/%d", i)),
			Actions: forward(*tg.TargetGroupArn)}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(3)})
	if err != nil || len(first.LoadBalancers) != 3 || first.NextMarker == nil || *first.LoadBalancers[0].LoadBalancerName != "lb-0" {
		t.Fatalf("first page: %+v %v", first, err)
	}
	var names []string
	p := elb.NewDescribeLoadBalancersPaginator(e.elb, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, lb := range out.LoadBalancers {
			names = append(names, *lb.LoadBalancerName)
		}
	}
	if pages != 3 || len(names) != 8 || names[7] != "rules" {
		t.Fatalf("%d pages of load balancers: %v", pages, names)
	}
	seen := 0
	tp := elb.NewDescribeTargetGroupsPaginator(e.elb, &elb.DescribeTargetGroupsInput{PageSize: aws.Int32(5)})
	for tp.HasMorePages() {
		out, err := tp.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(out.TargetGroups)
	}
	if seen != 8 {
		t.Fatalf("target groups paged: %d, want 8", seen)
	}
	var priorities []string
	marker := (*string)(nil)
	for {
		out, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn, PageSize: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Rules {
			priorities = append(priorities, *r.Priority)
		}
		if marker = out.NextMarker; marker == nil {
			break
		}
	}
	if fmt.Sprint(priorities) != "[7 8 9 10 default]" {
		t.Fatalf("rules paged: %v", priorities)
	}
}

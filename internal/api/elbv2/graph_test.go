package elbv2_test

import (
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestLoadBalancingObjectGraph: through the SDK, a load balancer with an
// HTTP and an HTTPS listener, rules of each action kind and condition
// kind, two target groups with targets; every object described as made,
// modified, tagged; deleting the load balancer takes its listeners and
// rules and leaves its target groups, which can then be deleted.
func TestLoadBalancingObjectGraph(t *testing.T) {
	e := start(t)
	acct, region := e.Server.Account().ID, e.Server.Account().Region
	lb := e.loadBalancer(t, "web", "application")
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:` + region + `:` + acct + `:loadbalancer/app/web/[0-9a-f]{16}$`).MatchString(*lb.LoadBalancerArn) {
		t.Fatalf("load balancer ARN %s", *lb.LoadBalancerArn)
	}
	if !regexp.MustCompile(`^web-[0-9a-f]{10}\.`+region+`\.elb\.localhost$`).MatchString(*lb.DNSName) || lb.State.Code != types.LoadBalancerStateEnumProvisioning ||
		lb.Scheme != types.LoadBalancerSchemeEnumInternetFacing || lb.Type != types.LoadBalancerTypeEnumApplication || lb.CreatedTime == nil {
		t.Fatalf("load balancer %+v (DNS %s)", lb, aws.ToString(lb.DNSName))
	}
	again := e.loadBalancer(t, "web", "application")
	if *again.LoadBalancerArn != *lb.LoadBalancerArn {
		t.Fatal("a second create with the same settings must answer with the same load balancer")
	}

	blue := e.targetGroup(t, "blue", "HTTP", types.TargetTypeEnumIp)
	green := e.targetGroup(t, "green", "HTTP", types.TargetTypeEnumInstance)
	if *blue.HealthCheckPath != "/" || *blue.HealthCheckPort != "traffic-port" || blue.HealthCheckProtocol != "HTTP" || *blue.HealthCheckIntervalSeconds != 30 ||
		*blue.HealthCheckTimeoutSeconds != 5 || *blue.HealthyThresholdCount != 5 || *blue.UnhealthyThresholdCount != 2 || *blue.Matcher.HttpCode != "200" ||
		!*blue.HealthCheckEnabled || blue.TargetType != types.TargetTypeEnumIp || *blue.ProtocolVersion != "HTTP1" || len(blue.LoadBalancerArns) != 0 {
		t.Fatalf("HTTP target group defaults: %+v", blue)
	}

	certArn := e.certificate(t, "web")
	if certArn != "arn:aws:iam::"+acct+":server-certificate/web" {
		t.Fatalf("certificate ARN %s", certArn)
	}
	http := e.listener(t, *lb.LoadBalancerArn, "HTTP", 80, forward(*blue.TargetGroupArn))
	https, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates: []types.Certificate{{CertificateArn: aws.String(certArn)}}, DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse,
			FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("404"), ContentType: aws.String("text/plain"), MessageBody: aws.String("nothing here")}}}})
	if err != nil {
		t.Fatal(err)
	}
	hl := https.Listeners[0]
	if *hl.SslPolicy != "ELBSecurityPolicy-2016-08" || len(hl.Certificates) != 1 || *hl.Certificates[0].CertificateArn != certArn ||
		*hl.DefaultActions[0].FixedResponseConfig.MessageBody != "nothing here" {
		t.Fatalf("HTTPS listener %+v", hl)
	}
	if !regexp.MustCompile(`:listener/app/web/[0-9a-f]{16}/[0-9a-f]{16}$`).MatchString(*http.ListenerArn) {
		t.Fatalf("listener ARN %s", *http.ListenerArn)
	}

	weighted, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: http.ListenerArn, Priority: aws.Int32(10),
		Conditions: []types.RuleCondition{
			{Field: aws.String("path-pattern"), Values: []string{"/api/*"}},
			{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"*.example.com"}}},
			{Field: aws.String("http-header"), HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-Canary"), Values: []string{"yes"}}},
			{Field: aws.String("query-string"), QueryStringConfig: &types.QueryStringConditionConfig{Values: []types.QueryStringKeyValuePair{{Key: aws.String("v"), Value: aws.String("2")}}}},
			{Field: aws.String("source-ip"), SourceIpConfig: &types.SourceIpConditionConfig{Values: []string{"10.0.0.0/8"}}},
		},
		Actions: []types.Action{{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{
			TargetGroups:                []types.TargetGroupTuple{{TargetGroupArn: blue.TargetGroupArn, Weight: aws.Int32(80)}, {TargetGroupArn: green.TargetGroupArn, Weight: aws.Int32(20)}},
			TargetGroupStickinessConfig: &types.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(600)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	w := weighted.Rules[0]
	if *w.Priority != "10" || len(w.Conditions) != 5 || w.Conditions[0].PathPatternConfig.Values[0] != "/api/*" ||
		*w.Conditions[2].HttpHeaderConfig.HttpHeaderName != "X-Canary" || *w.Conditions[3].QueryStringConfig.Values[0].Value != "2" ||
		w.Conditions[4].SourceIpConfig.Values[0] != "10.0.0.0/8" {
		t.Fatalf("weighted rule %+v", w)
	}
	fc := w.Actions[0].ForwardConfig
	if len(fc.TargetGroups) != 2 || *fc.TargetGroups[0].Weight != 80 || !*fc.TargetGroupStickinessConfig.Enabled || *fc.TargetGroupStickinessConfig.DurationSeconds != 600 {
		t.Fatalf("forward config %+v", fc)
	}
	redirect, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: http.ListenerArn, Priority: aws.Int32(20),
		Conditions: []types.RuleCondition{{Field: aws.String("http-request-method"), HttpRequestMethodConfig: &types.HttpRequestMethodConditionConfig{Values: []string{"GET"}}}},
		Actions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnumHttp301,
			Protocol: aws.String("HTTPS"), Port: aws.String("443")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if rc := redirect.Rules[0].Actions[0].RedirectConfig; *rc.Host != "#{host}" || *rc.Path != "/#{path}" || *rc.Query != "#{query}" || *rc.Port != "443" {
		t.Fatalf("redirect defaults %+v", rc)
	}

	rules, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: http.ListenerArn})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Rules) != 3 || *rules.Rules[0].Priority != "10" || *rules.Rules[1].Priority != "20" || *rules.Rules[2].Priority != "default" ||
		!*rules.Rules[2].IsDefault || *rules.Rules[2].Actions[0].TargetGroupArn != *blue.TargetGroupArn {
		t.Fatalf("rules %+v", rules.Rules)
	}
	if _, err := e.elb.SetRulePriorities(e.ctx, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
		{RuleArn: w.RuleArn, Priority: aws.Int32(20)}, {RuleArn: redirect.Rules[0].RuleArn, Priority: aws.Int32(10)}}}); err != nil {
		t.Fatalf("swapping priorities in one call: %v", err)
	}
	if _, err := e.elb.ModifyRule(e.ctx, &elb.ModifyRuleInput{RuleArn: w.RuleArn, Conditions: pathRule("/v2/*")}); err != nil {
		t.Fatal(err)
	}
	rules, _ = e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{RuleArns: []string{*w.RuleArn}})
	if *rules.Rules[0].Priority != "20" || len(rules.Rules[0].Conditions) != 1 || rules.Rules[0].Conditions[0].Values[0] != "/v2/*" ||
		len(rules.Rules[0].Actions[0].ForwardConfig.TargetGroups) != 2 {
		t.Fatalf("modified rule %+v", rules.Rules[0])
	}

	tgs, err := e.elb.DescribeTargetGroups(e.ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: lb.LoadBalancerArn})
	if err != nil || len(tgs.TargetGroups) != 2 || tgs.TargetGroups[0].LoadBalancerArns[0] != *lb.LoadBalancerArn {
		t.Fatalf("target groups of the load balancer: %+v %v", tgs, err)
	}
	mod, err := e.elb.ModifyTargetGroup(e.ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: blue.TargetGroupArn, HealthCheckPath: aws.String("/healthz"),
		HealthCheckIntervalSeconds: aws.Int32(10), Matcher: &types.Matcher{HttpCode: aws.String("200-299")}})
	if err != nil || *mod.TargetGroups[0].HealthCheckPath != "/healthz" || *mod.TargetGroups[0].HealthCheckIntervalSeconds != 10 || *mod.TargetGroups[0].Matcher.HttpCode != "200-299" {
		t.Fatalf("modify target group: %+v %v", mod, err)
	}
	attrs, err := e.elb.ModifyTargetGroupAttributes(e.ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: blue.TargetGroupArn,
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("30")},
			{Key: aws.String("load_balancing.algorithm.type"), Value: aws.String("least_outstanding_requests")}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range attrs.Attributes {
		got[*a.Key] = *a.Value
	}
	if got["deregistration_delay.timeout_seconds"] != "30" || got["stickiness.enabled"] != "false" || got["stickiness.type"] != "lb_cookie" ||
		got["slow_start.duration_seconds"] != "0" || got["load_balancing.algorithm.type"] != "least_outstanding_requests" {
		t.Fatalf("target group attributes %v", got)
	}
	lbAttrs, err := e.elb.DescribeLoadBalancerAttributes(e.ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn})
	if err != nil || len(lbAttrs.Attributes) < 5 {
		t.Fatalf("load balancer attributes %+v %v", lbAttrs, err)
	}

	moved, err := e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: http.ListenerArn, Port: aws.Int32(8080)})
	if err != nil || *moved.Listeners[0].Port != 8080 || *moved.Listeners[0].DefaultActions[0].TargetGroupArn != *blue.TargetGroupArn {
		t.Fatalf("modify listener: %+v %v", moved, err)
	}

	for _, arn := range []string{*lb.LoadBalancerArn, *blue.TargetGroupArn, *http.ListenerArn, *w.RuleArn} {
		if _, err := e.elb.AddTags(e.ctx, &elb.AddTagsInput{ResourceArns: []string{arn}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}}); err != nil {
			t.Fatalf("tag %s: %v", arn, err)
		}
	}
	tags, err := e.elb.DescribeTags(e.ctx, &elb.DescribeTagsInput{ResourceArns: []string{*lb.LoadBalancerArn, *w.RuleArn}})
	if err != nil || len(tags.TagDescriptions) != 2 || *tags.TagDescriptions[1].Tags[0].Value != "web" {
		t.Fatalf("describe tags %+v %v", tags, err)
	}
	if _, err := e.elb.RemoveTags(e.ctx, &elb.RemoveTagsInput{ResourceArns: []string{*lb.LoadBalancerArn}, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, _ = e.elb.DescribeTags(e.ctx, &elb.DescribeTagsInput{ResourceArns: []string{*lb.LoadBalancerArn}})
	if len(tags.TagDescriptions[0].Tags) != 0 {
		t.Fatalf("tags after removal %+v", tags.TagDescriptions[0].Tags)
	}

	if _, err := e.elb.DeleteRule(e.ctx, &elb.DeleteRuleInput{RuleArn: redirect.Rules[0].RuleArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DeleteListener(e.ctx, &elb.DeleteListenerInput{ListenerArn: hl.ListenerArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DeleteLoadBalancer(e.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DescribeListeners(e.ctx, &elb.DescribeListenersInput{ListenerArns: []string{*http.ListenerArn}}); code(err) != "ListenerNotFound" {
		t.Fatalf("a deleted load balancer's listener: %v", err)
	}
	if _, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{RuleArns: []string{*w.RuleArn}}); code(err) != "RuleNotFound" {
		t.Fatalf("a deleted load balancer's rule: %v", err)
	}
	left, err := e.elb.DescribeTargetGroups(e.ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil || len(left.TargetGroups) != 2 || len(left.TargetGroups[0].LoadBalancerArns) != 0 {
		t.Fatalf("target groups outlive their load balancer, unused: %+v %v", left, err)
	}
	for _, tg := range []string{*blue.TargetGroupArn, *green.TargetGroupArn} {
		if _, err := e.elb.DeleteTargetGroup(e.ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg)}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := e.Server.State().ReadELB(e.ctx)
	if err != nil || len(cfg.LoadBalancers)+len(cfg.Listeners)+len(cfg.Rules)+len(cfg.TargetGroups) != 0 {
		t.Fatalf("records left after every delete: %+v %v", cfg, err)
	}
}

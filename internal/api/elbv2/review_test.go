package elbv2_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/api/elbv2"
)

// TestDeregisterUnregisteredTargetSucceeds: ELB's reference for
// DeregisterTargets says "If the specified target does not exist, the action
// returns successfully"; a registered target named with the wrong port is not
// touched (the call still succeeds, as users of the real service report).
func TestDeregisterUnregisteredTargetSucceeds(t *testing.T) {
	e := start(t)
	tg := e.targetGroup(t, "blue", "HTTP", types.TargetTypeEnumIp)
	if _, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1"), Port: aws.Int32(8080)}}}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []types.TargetDescription{{Id: aws.String("10.9.9.9")}, {Id: aws.String("10.0.0.1"), Port: aws.Int32(9090)}} {
		if _, err := e.elb.DeregisterTargets(e.ctx, &elb.DeregisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
			Targets: []types.TargetDescription{d}}); err != nil {
			t.Errorf("deregister %s:%d: %v", *d.Id, aws.ToInt32(d.Port), err)
		}
	}
	got := health(t, e, *tg.TargetGroupArn)
	want(t, got, "10.0.0.1", "unused", "Target.NotInUse")
	if len(got) != 1 {
		t.Errorf("targets after deregistering unknown ones: %v", got)
	}
	// An invalid IP address is still refused.
	if _, err := e.elb.DeregisterTargets(e.ctx, &elb.DeregisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("i-0123456789abcdef0")}}}); code(err) != "InvalidTarget" {
		t.Errorf("deregister an instance id from an ip group: %v, want InvalidTarget", err)
	}
}

// TestTargetHealthDescriptions: the descriptions are ELB's words, from the
// reason code table of the Application Load Balancer guide ("Health checks
// for your target groups").
func TestTargetHealthDescriptions(t *testing.T) {
	c := &clock{t: time.Now()}
	e := start(t, flottaOptions(c.now))
	tg := e.targetGroup(t, "blue", "HTTP", types.TargetTypeEnumIp)
	if _, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}, {Id: aws.String("10.0.0.2")}}}); err != nil {
		t.Fatal(err)
	}
	desc := func(got map[string]types.TargetHealth, id, want string) {
		t.Helper()
		if d := aws.ToString(got[id].Description); d != want {
			t.Errorf("target %s (%s): description %q, want %q", id, got[id].Reason, d, want)
		}
	}
	desc(health(t, e, *tg.TargetGroupArn), "10.0.0.1", "Target group is not configured to receive traffic from the load balancer")
	desc(health(t, e, *tg.TargetGroupArn, types.TargetDescription{Id: aws.String("10.0.0.9")}), "10.0.0.9", "Target is not registered to the target group")
	lb := e.loadBalancer(t, "web", "application")
	e.listener(t, *lb.LoadBalancerArn, "HTTP", 80, forward(*tg.TargetGroupArn))
	desc(health(t, e, *tg.TargetGroupArn), "10.0.0.1", "Target registration is in progress")
	if _, err := e.elb.DeregisterTargets(e.ctx, &elb.DeregisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("10.0.0.2")}}}); err != nil {
		t.Fatal(err)
	}
	desc(health(t, e, *tg.TargetGroupArn), "10.0.0.2", "Target deregistration is in progress")
	if _, err := e.elb.ModifyTargetGroup(e.ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: tg.TargetGroupArn, HealthCheckEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	desc(health(t, e, *tg.TargetGroupArn), "10.0.0.1", "Health checks are disabled")
}

// message is an SDK error's message ("" for none).
func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// TestTargetGroupNamePattern: a target group name that begins or ends with a
// hyphen or holds two in a row fails ELB's name pattern, in its words (moto's
// tests/test_elbv2/test_elbv2_target_groups.py,
// test_create_invalid_target_group_invalid_characters); other bad names keep
// their own messages.
func TestTargetGroupNamePattern(t *testing.T) {
	e := start(t)
	create := func(name string) error {
		_, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: "HTTP", Port: aws.Int32(8080)})
		return err
	}
	for _, name := range []string{"-name", "name-", "-name-", "Na--me"} {
		err := create(name)
		want := "1 validation error detected: Value '" + name + "' at 'targetGroup.targetGroupArn.targetGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!.*--)(?!^-)(?!.*-$)^[A-Za-z0-9-]+$"
		if code(err) != "ValidationError" || message(err) != want {
			t.Errorf("target group %q: %s %q, want ValidationError %q", name, code(err), message(err), want)
		}
	}
	for name, want := range map[string]string{
		"example.com":           "Target group name 'example.com' can only contain characters that are alphanumeric characters or hyphens(-)",
		strings.Repeat("A", 33): "Target group name '" + strings.Repeat("A", 33) + "' cannot be longer than '32' characters",
	} {
		if err := create(name); message(err) != want {
			t.Errorf("target group %q: %q, want %q", name, message(err), want)
		}
	}
	for _, name := range []string{"name", "Name", "000", "a-b-c"} {
		if err := create(name); err != nil {
			t.Errorf("target group %q: %v", name, err)
		}
	}
	_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("-web")})
	if want := "Load balancer name '-web' cannot begin or end with '-'"; message(err) != want {
		t.Errorf("load balancer -web: %q, want %q", message(err), want)
	}
}

// TestHealthCheckTimeoutAgainstInterval: an HTTP or HTTPS group's health check
// timeout must be below its interval; a TCP group's may equal it, and the
// refusal says "smaller than or equal to" (moto's
// test_create_target_group_healthcheck_validation).
func TestHealthCheckTimeoutAgainstInterval(t *testing.T) {
	e := start(t)
	n := 0
	create := func(protocol types.ProtocolEnum, timeout int32) error {
		n++
		_, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String(fmt.Sprintf("tg%d", n)), Protocol: protocol, Port: aws.Int32(80),
			HealthCheckProtocol: "HTTP", HealthCheckPath: aws.String("/"), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(timeout)})
		return err
	}
	for _, c := range []struct {
		protocol types.ProtocolEnum
		timeout  int32
		want     string
	}{
		{"HTTP", 6, "Health check timeout '6' must be smaller than the interval '5'"},
		{"HTTP", 5, "Health check timeout '5' must be smaller than the interval '5'"},
		{"HTTPS", 5, "Health check timeout '5' must be smaller than the interval '5'"},
		{"TCP", 6, "Health check timeout '6' must be smaller than or equal to the interval '5'"},
		{"TCP", 5, ""},
	} {
		err := create(c.protocol, c.timeout)
		if message(err) != c.want || (c.want == "") != (err == nil) || (err != nil && code(err) != "ValidationError") {
			t.Errorf("%s timeout %d: %v, want %q", c.protocol, c.timeout, err, c.want)
		}
	}
}

// TestDenyIGWTrafficDefaultsByScheme: ipv6.deny_all_igw_traffic "is set to
// false for internet-facing load balancers and true for internal load
// balancers" (API_LoadBalancerAttribute).
func TestDenyIGWTrafficDefaultsByScheme(t *testing.T) {
	e := start(t)
	for name, c := range map[string]struct {
		scheme types.LoadBalancerSchemeEnum
		want   string
	}{"outside": {"", "false"}, "facing": {"internet-facing", "false"}, "inside": {"internal", "true"}} {
		out, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String(name), Scheme: c.scheme})
		if err != nil {
			t.Fatal(err)
		}
		attrs, err := e.elb.DescribeLoadBalancerAttributes(e.ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: out.LoadBalancers[0].LoadBalancerArn})
		if err != nil {
			t.Fatal(err)
		}
		got := "absent"
		for _, a := range attrs.Attributes {
			if aws.ToString(a.Key) == "ipv6.deny_all_igw_traffic" {
				got = aws.ToString(a.Value)
			}
		}
		if got != c.want {
			t.Errorf("%s (scheme %q): ipv6.deny_all_igw_traffic %s, want %s", name, c.scheme, got, c.want)
		}
	}
}

// TestRuleConditionRefusals: a bad condition is refused with ELB's words, as
// moto's tests/test_elbv2/test_elbv2_listener_rules.py
// (test_create_rule_validate_condition) records them.
func TestRuleConditionRefusals(t *testing.T) {
	e := start(t)
	lb := e.loadBalancer(t, "web", "application")
	fixed := []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("503"), ContentType: aws.String("text/plain")}}}
	l := e.listener(t, *lb.LoadBalancerArn, "HTTP", 80, fixed)
	long := strings.Repeat("x", 256)
	vals := func(v ...string) []string { return v }
	for _, c := range []struct {
		cond types.RuleCondition
		want string
	}{
		{types.RuleCondition{Field: aws.String("host-header"), Values: vals(long)}, "The 'host-header' value is too long; the limit is '128'"},
		{types.RuleCondition{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: vals(long)}}, "The 'host-header' value is too long; the limit is '128'"},
		{types.RuleCondition{Field: aws.String("host-header"), Values: vals("one", "two")}, "The 'host-header' field contains too many values; the limit is '1'"},
		{types.RuleCondition{Field: aws.String("host-header")}, "A condition value must be specified"},
		{types.RuleCondition{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{}}}, "A condition value must be specified"},
		{types.RuleCondition{Field: aws.String("path-pattern"), Values: vals(long)}, "The 'path-pattern' value is too long; the limit is '128'"},
		{types.RuleCondition{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: vals(long)}}, "The 'path-pattern' value is too long; the limit is '128'"},
		{types.RuleCondition{Field: aws.String("path-pattern"), Values: vals("one", "two")}, "The 'path-pattern' field contains too many values; the limit is '1'"},
		{types.RuleCondition{Field: aws.String("path-pattern")}, "A condition value must be specified"},
		{types.RuleCondition{Field: aws.String("http-header"), HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String(strings.Repeat("x", 50)), Values: vals("y")}}, "The 'HttpHeaderName' value is too long; the limit is '40'"},
		{types.RuleCondition{Field: aws.String("http-header"), HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String("x"), Values: vals(long)}}, "The 'http-header' value is too long; the limit is '128'"},
		{types.RuleCondition{Field: aws.String("http-header")}, "A 'HttpHeaderConfig' must be specified with 'http-header'"},
		{types.RuleCondition{Field: aws.String("http-request-method"), HttpRequestMethodConfig: &types.HttpRequestMethodConditionConfig{Values: vals("get")}}, "The 'http-request-method' value is invalid; the allowed characters are A-Z, hyphen and underscore"},
		{types.RuleCondition{Field: aws.String("http-request-method"), HttpRequestMethodConfig: &types.HttpRequestMethodConditionConfig{Values: vals(strings.Repeat("X", 50))}}, "The 'http-request-method' value is too long; the limit is '40'"},
		{types.RuleCondition{Field: aws.String("http-request-method")}, "A 'HttpRequestMethodConfig' must be specified with 'http-request-method'"},
		{types.RuleCondition{Field: aws.String("query-string"), QueryStringConfig: &types.QueryStringConditionConfig{Values: []types.QueryStringKeyValuePair{{Key: aws.String(long), Value: aws.String("world")}}}}, "The 'Key' value is too long; the limit is '128'"},
		{types.RuleCondition{Field: aws.String("query-string"), QueryStringConfig: &types.QueryStringConditionConfig{Values: []types.QueryStringKeyValuePair{{Key: aws.String("hello"), Value: aws.String(long)}}}}, "The 'Value' value is too long; the limit is '128'"},
		{types.RuleCondition{Field: aws.String("query-string"), QueryStringConfig: &types.QueryStringConditionConfig{Values: []types.QueryStringKeyValuePair{{Key: aws.String("hello")}}}}, "A 'Value' must be specified in 'QueryStringKeyValuePair'"},
		{types.RuleCondition{Field: aws.String("source-ip"), SourceIpConfig: &types.SourceIpConditionConfig{Values: []string{}}}, "A 'source-ip' value must be specified"},
		{types.RuleCondition{Field: aws.String("source-ip")}, "A 'SourceIpConfig' must be specified with 'source-ip'"},
		{types.RuleCondition{Field: aws.String("source-ip"), Values: vals("10.0.0.0/8")}, "The 'Values' field is not compatible with 'source-ip'"},
	} {
		_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(100), Conditions: []types.RuleCondition{c.cond}, Actions: fixed})
		if code(err) != "ValidationError" || message(err) != c.want {
			t.Errorf("%s: %s %q, want ValidationError %q", aws.ToString(c.cond.Field), code(err), message(err), c.want)
		}
	}
	if _, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(100), Actions: fixed,
		Conditions: []types.RuleCondition{{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: vals("example.com", "www.example.com")}}}}); err != nil {
		t.Errorf("two host names in the config: %v", err)
	}
}

// TestQuotaMessages: the quota refusals say what ELB says, as users report
// them: "The maximum number of load balancers has been reached"
// (ministryofjustice/cloud-platform-environments#3066,
// eficode-academy/kubernetes-katas#115) and "The maximum number of rules on
// load balancer ARN ..." (kubernetes-sigs/aws-load-balancer-controller#1856;
// the report is cut after the ARN, so the end is a guess).
func TestQuotaMessages(t *testing.T) {
	e := start(t)
	var first types.LoadBalancer
	for i := range elbv2.MaxLoadBalancers {
		lb := e.loadBalancer(t, fmt.Sprintf("lb%d", i), "application")
		if i == 0 {
			first = lb
		}
	}
	_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("one-more")})
	if want := "The maximum number of load balancers has been reached"; code(err) != "TooManyLoadBalancers" || message(err) != want {
		t.Errorf("load balancer past the quota: %s %q, want TooManyLoadBalancers %q", code(err), message(err), want)
	}
	fixed := []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}
	l := e.listener(t, *first.LoadBalancerArn, "HTTP", 80, fixed)
	for i := 1; i <= elbv2.MaxRulesPerLB; i++ {
		if _, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(int32(i)), Conditions: pathRule(fmt.Sprintf("/%d", i)), Actions: fixed}); err != nil {
			t.Fatalf("rule %d: %v", i, err)
		}
	}
	_, err = e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(1000), Conditions: pathRule("/x"), Actions: fixed})
	if want := "The maximum number of rules on load balancer " + *first.LoadBalancerArn + " has been reached"; code(err) != "TooManyRules" || message(err) != want {
		t.Errorf("rule past the quota: %s %q, want TooManyRules %q", code(err), message(err), want)
	}
}

// TestPreserveClientIPDefault: preserve_client_ip.enabled defaults to true
// for instance targets and to false for IP targets of a TCP group ("Edit
// target group attributes for your Network Load Balancer", default settings).
func TestPreserveClientIPDefault(t *testing.T) {
	e := start(t)
	for _, c := range []struct {
		name       string
		targetType types.TargetTypeEnum
		want       string
	}{{"inst", types.TargetTypeEnumInstance, "true"}, {"addr", types.TargetTypeEnumIp, "false"}} {
		tg := e.targetGroup(t, c.name, "TCP", c.targetType)
		attrs, err := e.elb.DescribeTargetGroupAttributes(e.ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn})
		if err != nil {
			t.Fatal(err)
		}
		got := "absent"
		for _, a := range attrs.Attributes {
			if aws.ToString(a.Key) == "preserve_client_ip.enabled" {
				got = aws.ToString(a.Value)
			}
		}
		if got != c.want {
			t.Errorf("TCP group of %s targets: preserve_client_ip.enabled %s, want %s", c.targetType, got, c.want)
		}
	}
}

// TestTCPGroupHealthCheckDefaults: a TCP group's health check defaults by
// its protocol: TCP 10 seconds, HTTP 6, HTTPS 10, with path / and matcher
// 200-399 for the HTTP kinds; an HTTP group's check waits 5 seconds and
// matches 200 (API_CreateTargetGroup, HealthCheckTimeoutSeconds and Matcher).
func TestTCPGroupHealthCheckDefaults(t *testing.T) {
	e := start(t)
	for i, c := range []struct {
		protocol, hc  types.ProtocolEnum
		timeout       int32
		path, matcher string
	}{
		{"TCP", "", 10, "", ""},
		{"TCP", "HTTP", 6, "/", "200-399"},
		{"TCP", "HTTPS", 10, "/", "200-399"},
		{"HTTP", "", 5, "/", "200"},
		{"HTTPS", "", 5, "/", "200"},
	} {
		out, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String(fmt.Sprintf("g%d", i)), Protocol: c.protocol, Port: aws.Int32(80), HealthCheckProtocol: c.hc})
		if err != nil {
			t.Fatal(err)
		}
		tg := out.TargetGroups[0]
		matcher := ""
		if tg.Matcher != nil {
			matcher = aws.ToString(tg.Matcher.HttpCode)
		}
		if aws.ToInt32(tg.HealthCheckTimeoutSeconds) != c.timeout || aws.ToString(tg.HealthCheckPath) != c.path || matcher != c.matcher ||
			aws.ToInt32(tg.HealthCheckIntervalSeconds) != 30 || aws.ToInt32(tg.HealthyThresholdCount) != 5 || aws.ToInt32(tg.UnhealthyThresholdCount) != 2 {
			t.Errorf("%s group, %q check: timeout %d path %q matcher %q interval %d thresholds %d/%d", c.protocol, c.hc, aws.ToInt32(tg.HealthCheckTimeoutSeconds),
				aws.ToString(tg.HealthCheckPath), matcher, aws.ToInt32(tg.HealthCheckIntervalSeconds), aws.ToInt32(tg.HealthyThresholdCount), aws.ToInt32(tg.UnhealthyThresholdCount))
		}
	}
}

// TestCreateLoadBalancerStartsProvisioning: CreateLoadBalancer answers with
// state provisioning ("The initial state of the load balancer is
// provisioning", API_LoadBalancerState); DescribeLoadBalancers, and a create
// that finds the same load balancer, answer active, so the AWS CLI's
// load-balancer-available waiter passes at once.
func TestCreateLoadBalancerStartsProvisioning(t *testing.T) {
	e := start(t)
	made := e.loadBalancer(t, "web", "application")
	if made.State == nil || made.State.Code != types.LoadBalancerStateEnumProvisioning {
		t.Errorf("create answered state %+v, want provisioning", made.State)
	}
	out, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{Names: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if st := out.LoadBalancers[0].State; st == nil || st.Code != types.LoadBalancerStateEnumActive {
		t.Errorf("describe answered state %+v, want active", st)
	}
	if again := e.loadBalancer(t, "web", "application"); again.State == nil || again.State.Code != types.LoadBalancerStateEnumActive {
		t.Errorf("create of an existing load balancer answered state %+v, want active", again.State)
	}
}

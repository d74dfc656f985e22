package elbv2_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestListenerCertificatesAndAttributes: an HTTPS listener serves its
// default certificate and others added by SNI; changing the default keeps
// the others, the default cannot be removed, and the state hands the data
// plane the default first. Listener attributes have ELB's defaults and
// refuse unknown keys.
func TestListenerCertificatesAndAttributes(t *testing.T) {
	e := start(t)
	lb := e.loadBalancer(t, "web", "application")
	a, b, c := e.certificate(t, "a"), e.certificate(t, "b"), e.certificate(t, "c")
	out, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates:   []types.Certificate{{CertificateArn: aws.String(a)}},
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
	if err != nil {
		t.Fatal(err)
	}
	l := out.Listeners[0].ListenerArn
	if _, err := e.elb.AddListenerCertificates(e.ctx, &elb.AddListenerCertificatesInput{ListenerArn: l, Certificates: []types.Certificate{{CertificateArn: aws.String(b)}}}); err != nil {
		t.Fatal(err)
	}
	e.unchanged(t, "an unknown certificate", func() {
		_, err := e.elb.AddListenerCertificates(e.ctx, &elb.AddListenerCertificatesInput{ListenerArn: l,
			Certificates: []types.Certificate{{CertificateArn: aws.String(a[:len(a)-1] + "z")}}})
		if code(err) != "CertificateNotFound" {
			t.Errorf("unknown certificate: %v", err)
		}
	})
	if _, err := e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: l, Certificates: []types.Certificate{{CertificateArn: aws.String(c)}}}); err != nil {
		t.Fatal(err)
	}
	certs, err := e.elb.DescribeListenerCertificates(e.ctx, &elb.DescribeListenerCertificatesInput{ListenerArn: l})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, x := range certs.Certificates {
		got[*x.CertificateArn] = *x.IsDefault
	}
	if len(got) != 2 || !got[c] || got[b] {
		t.Fatalf("certificates after changing the default: %v (want %s default, %s by SNI)", got, c, b)
	}
	if _, err := e.elb.RemoveListenerCertificates(e.ctx, &elb.RemoveListenerCertificatesInput{ListenerArn: l, Certificates: []types.Certificate{{CertificateArn: aws.String(c)}}}); code(err) != "OperationNotPermitted" {
		t.Fatalf("removing the default certificate: %v", err)
	}
	served, err := e.Server.State().ListenerCertificates(e.ctx, *l)
	if err != nil || len(served) != 2 || served[0].Arn != c {
		t.Fatalf("the data plane's certificates: %+v %v", served, err)
	}
	if _, err := e.elb.RemoveListenerCertificates(e.ctx, &elb.RemoveListenerCertificatesInput{ListenerArn: l, Certificates: []types.Certificate{{CertificateArn: aws.String(b)}}}); err != nil {
		t.Fatal(err)
	}
	if served, _ = e.Server.State().ListenerCertificates(e.ctx, *l); len(served) != 1 {
		t.Fatalf("after removing the SNI certificate: %+v", served)
	}

	attrs, err := e.elb.DescribeListenerAttributes(e.ctx, &elb.DescribeListenerAttributesInput{ListenerArn: l})
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{}
	for _, x := range attrs.Attributes {
		vals[*x.Key] = *x.Value
	}
	if vals["routing.http.response.server.enabled"] != "true" {
		t.Fatalf("listener attributes %v", vals)
	}
	mod, err := e.elb.ModifyListenerAttributes(e.ctx, &elb.ModifyListenerAttributesInput{ListenerArn: l,
		Attributes: []types.ListenerAttribute{{Key: aws.String("routing.http.response.server.enabled"), Value: aws.String("false")}}})
	if err != nil || len(mod.Attributes) != len(attrs.Attributes) {
		t.Fatalf("modify listener attributes: %+v %v", mod, err)
	}
	e.unchanged(t, "an unknown listener attribute", func() {
		_, err := e.elb.ModifyListenerAttributes(e.ctx, &elb.ModifyListenerAttributesInput{ListenerArn: l,
			Attributes: []types.ListenerAttribute{{Key: aws.String("tcp.idle_timeout.seconds"), Value: aws.String("100")}}})
		if code(err) != "ValidationError" {
			t.Errorf("a TCP attribute on an HTTPS listener: %v", err)
		}
	})
}

// TestNetworkSettingsLimitsAndPolicies: security groups, subnets and the
// IP address type are kept and shown; the account's limits and the SSL
// policies are listed.
func TestNetworkSettingsLimitsAndPolicies(t *testing.T) {
	e := start(t)
	lb := e.loadBalancer(t, "web", "application")
	if out, err := e.elb.SetSecurityGroups(e.ctx, &elb.SetSecurityGroupsInput{LoadBalancerArn: lb.LoadBalancerArn, SecurityGroups: []string{"sg-1"}}); err != nil || out.SecurityGroupIds[0] != "sg-1" {
		t.Fatalf("set security groups: %+v %v", out, err)
	}
	if out, err := e.elb.SetSubnets(e.ctx, &elb.SetSubnetsInput{LoadBalancerArn: lb.LoadBalancerArn, Subnets: []string{"subnet-1", "subnet-2"}}); err != nil || len(out.AvailabilityZones) != 2 {
		t.Fatalf("set subnets: %+v %v", out, err)
	}
	if _, err := e.elb.SetIpAddressType(e.ctx, &elb.SetIpAddressTypeInput{LoadBalancerArn: lb.LoadBalancerArn, IpAddressType: types.IpAddressTypeDualstack}); err != nil {
		t.Fatal(err)
	}
	d, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{*lb.LoadBalancerArn}})
	if err != nil || d.LoadBalancers[0].SecurityGroups[0] != "sg-1" || *d.LoadBalancers[0].AvailabilityZones[1].SubnetId != "subnet-2" || d.LoadBalancers[0].IpAddressType != "dualstack" {
		t.Fatalf("after the settings: %+v %v", d, err)
	}
	limits, err := e.elb.DescribeAccountLimits(e.ctx, &elb.DescribeAccountLimitsInput{})
	if err != nil || len(limits.Limits) < 5 {
		t.Fatalf("limits: %+v %v", limits, err)
	}
	pols, err := e.elb.DescribeSSLPolicies(e.ctx, &elb.DescribeSSLPoliciesInput{Names: []string{"ELBSecurityPolicy-2016-08"}})
	if err != nil || len(pols.SslPolicies) != 1 || len(pols.SslPolicies[0].SslProtocols) != 3 {
		t.Fatalf("SSL policies: %+v %v", pols, err)
	}
	if _, err := e.elb.DescribeSSLPolicies(e.ctx, &elb.DescribeSSLPoliciesInput{Names: []string{"nope"}}); code(err) != "SSLPolicyNotFound" {
		t.Fatalf("an unknown SSL policy: %v", err)
	}
}

// TestDeletionProtectionAndTheDefaultRule: a load balancer with deletion
// protection is not deleted (OperationNotPermitted) until it is turned
// off; a listener's default rule takes new actions through ModifyRule (its
// listener's default actions then), refuses conditions and keeps its place.
func TestDeletionProtectionAndTheDefaultRule(t *testing.T) {
	e := start(t)
	lb := e.loadBalancer(t, "web", "application")
	blue := e.targetGroup(t, "blue", "HTTP", types.TargetTypeEnumIp)
	green := e.targetGroup(t, "green", "HTTP", types.TargetTypeEnumIp)
	l := e.listener(t, *lb.LoadBalancerArn, "HTTP", 80, forward(*blue.TargetGroupArn))
	rules, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
	if err != nil || len(rules.Rules) != 1 {
		t.Fatalf("rules of a new listener: %+v %v", rules, err)
	}
	def := rules.Rules[0].RuleArn
	if _, err := e.elb.ModifyRule(e.ctx, &elb.ModifyRuleInput{RuleArn: def, Actions: forward(*green.TargetGroupArn)}); err != nil {
		t.Fatal(err)
	}
	ls, _ := e.elb.DescribeListeners(e.ctx, &elb.DescribeListenersInput{ListenerArns: []string{*l.ListenerArn}})
	if *ls.Listeners[0].DefaultActions[0].TargetGroupArn != *green.TargetGroupArn {
		t.Fatalf("the listener's default action after ModifyRule of its default rule: %+v", ls.Listeners[0].DefaultActions)
	}
	e.unchanged(t, "conditions on the default rule", func() {
		if _, err := e.elb.ModifyRule(e.ctx, &elb.ModifyRuleInput{RuleArn: def, Conditions: pathRule("/x")}); code(err) != "OperationNotPermitted" {
			t.Errorf("conditions on the default rule: %v", err)
		}
	})
	if _, err := e.elb.DeleteTargetGroup(e.ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: blue.TargetGroupArn}); err != nil {
		t.Fatalf("the group the listener no longer uses: %v", err)
	}

	if _, err := e.elb.ModifyLoadBalancerAttributes(e.ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	e.unchanged(t, "a protected delete", func() {
		if _, err := e.elb.DeleteLoadBalancer(e.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); code(err) != "OperationNotPermitted" {
			t.Errorf("delete with deletion protection: %v", err)
		}
	})
	if _, err := e.elb.ModifyLoadBalancerAttributes(e.ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("false")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DeleteLoadBalancer(e.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
}

// TestNetworkLoadBalancer: a network load balancer's ARNs say net; its TCP
// target groups get ELB's TCP health check defaults (no path, no matcher);
// its listeners are TCP and only forward; its listeners take no rules.
func TestNetworkLoadBalancer(t *testing.T) {
	e := start(t)
	nlb := e.loadBalancer(t, "tcp", "network")
	tg := e.targetGroup(t, "db", "TCP", types.TargetTypeEnumIp)
	if tg.HealthCheckProtocol != "TCP" || *tg.HealthCheckTimeoutSeconds != 10 || tg.HealthCheckPath != nil || tg.Matcher != nil || tg.ProtocolVersion != nil {
		t.Fatalf("TCP target group defaults: %+v", tg)
	}
	l := e.listener(t, *nlb.LoadBalancerArn, "TCP", 5432, forward(*tg.TargetGroupArn))
	if !regexp.MustCompile(`:listener/net/tcp/[0-9a-f]{16}/[0-9a-f]{16}$`).MatchString(*l.ListenerArn) {
		t.Fatalf("network listener ARN %s", *l.ListenerArn)
	}
	e.unchanged(t, "refusals", func() {
		_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(1), Conditions: pathRule("/"), Actions: forward(*tg.TargetGroupArn)})
		if code(err) != "InvalidConfigurationRequest" {
			t.Errorf("a rule on a network listener: %v", err)
		}
		_, err = e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: l.ListenerArn,
			DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
		if code(err) != "InvalidLoadBalancerAction" {
			t.Errorf("a fixed response on a network listener: %v", err)
		}
		_, err = e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: l.ListenerArn, Protocol: types.ProtocolEnumHttp})
		if code(err) != "ValidationError" || !strings.Contains(err.Error(), "Listener protocol 'HTTP' must be one of 'TLS, TCP, TCP_UDP, UDP'") {
			t.Errorf("HTTP on a network load balancer: %v", err)
		}
	})
}

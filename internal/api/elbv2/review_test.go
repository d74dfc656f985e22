package elbv2_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
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

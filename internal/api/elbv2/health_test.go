package elbv2_test

import (
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/flotta-dev/flotta/internal/state"
)

// clock is a settable clock for the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func health(t *testing.T, e *env, tgArn string, targets ...types.TargetDescription) map[string]types.TargetHealth {
	t.Helper()
	out, err := e.elb.DescribeTargetHealth(e.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgArn), Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]types.TargetHealth{}
	for _, d := range out.TargetHealthDescriptions {
		if *d.HealthCheckPort != "8080" && *d.Target.Port == 8080 {
			t.Errorf("health check port %s for a traffic-port check of port 8080", *d.HealthCheckPort)
		}
		got[*d.Target.Id] = *d.TargetHealth
	}
	return got
}

func want(t *testing.T, got map[string]types.TargetHealth, id string, st types.TargetHealthStateEnum, reason types.TargetHealthReasonEnum) {
	t.Helper()
	h, ok := got[id]
	if !ok || h.State != st || h.Reason != reason {
		t.Errorf("target %s: %+v (present %v), want %s/%s", id, h, ok, st, reason)
	}
}

// TestTargetHealthFollowsUseObservationsAndDraining: a target is unused
// while no listener forwards to its group, initial once one does, then
// what the data plane observed; deregistered, it drains for the group's
// deregistration delay (by the server's clock) and then is gone, and the
// sweep removes its record; an unregistered target asked about is unused.
func TestTargetHealthFollowsUseObservationsAndDraining(t *testing.T) {
	c := &clock{t: time.Now()}
	e := start(t, flottaOptions(c.now))
	tg := e.targetGroup(t, "blue", "HTTP", types.TargetTypeEnumIp)
	if _, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}, {Id: aws.String("10.0.0.2")}, {Id: aws.String("10.0.0.3")}}}); err != nil {
		t.Fatal(err)
	}
	got := health(t, e, *tg.TargetGroupArn)
	want(t, got, "10.0.0.1", "unused", "Target.NotInUse")

	lb := e.loadBalancer(t, "web", "application")
	e.listener(t, *lb.LoadBalancerArn, "HTTP", 80, forward(*tg.TargetGroupArn))
	st := e.Server.State()
	if err := st.PutELBTargetHealth(e.ctx, *tg.TargetGroupArn, state.ELBTargetHealth{TargetID: "10.0.0.2", Port: 8080, State: "healthy"}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutELBTargetHealth(e.ctx, *tg.TargetGroupArn, state.ELBTargetHealth{TargetID: "10.0.0.3", Port: 8080, State: "unhealthy",
		Reason: "Target.Timeout", Description: "Request timed out"}); err != nil {
		t.Fatal(err)
	}
	got = health(t, e, *tg.TargetGroupArn)
	want(t, got, "10.0.0.1", "initial", "Elb.RegistrationInProgress")
	want(t, got, "10.0.0.2", "healthy", "")
	want(t, got, "10.0.0.3", "unhealthy", "Target.Timeout")
	want(t, health(t, e, *tg.TargetGroupArn, types.TargetDescription{Id: aws.String("10.0.0.9")}), "10.0.0.9", "unused", "Target.NotRegistered")

	if _, err := e.elb.ModifyTargetGroupAttributes(e.ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("30")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DeregisterTargets(e.ctx, &elb.DeregisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("10.0.0.2")}}}); err != nil {
		t.Fatal(err)
	}
	c.add(29 * time.Second)
	got = health(t, e, *tg.TargetGroupArn)
	want(t, got, "10.0.0.2", "draining", "Target.DeregistrationInProgress")
	if n, err := st.SweepELBTargets(e.ctx, c.now()); err != nil || n != 0 {
		t.Fatalf("sweep before the delay passed: %d %v", n, err)
	}
	c.add(time.Second)
	if got = health(t, e, *tg.TargetGroupArn); len(got) != 2 {
		t.Fatalf("after the delay the drained target is gone: %v", got)
	}
	if n, err := st.SweepELBTargets(e.ctx, c.now()); err != nil || n != 1 {
		t.Fatalf("sweep after the delay: %d %v", n, err)
	}
	cfg, _ := st.ReadELB(e.ctx)
	if n := len(cfg.TargetGroups[*tg.TargetGroupArn].Targets); n != 2 {
		t.Fatalf("%d targets on record after the sweep, want 2", n)
	}

	if _, err := e.elb.ModifyTargetGroup(e.ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: tg.TargetGroupArn, HealthCheckEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	want(t, health(t, e, *tg.TargetGroupArn), "10.0.0.3", "unavailable", "Target.HealthCheckDisabled")
}

// TestAuthorizationByResource: a user allowed elasticloadbalancing:Describe*
// and RegisterTargets on one target group registers there, reads, and is
// refused (AccessDenied, nothing changed) elsewhere.
func TestAuthorizationByResource(t *testing.T) {
	e := start(t)
	blue := e.targetGroup(t, "blue", "HTTP", types.TargetTypeEnumIp)
	green := e.targetGroup(t, "green", "HTTP", types.TargetTypeEnumIp)
	if _, err := e.iam.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("deployer")}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"elasticloadbalancing:Describe*","Resource":"*"},
		{"Effect":"Allow","Action":"elasticloadbalancing:RegisterTargets","Resource":"` + *blue.TargetGroupArn + `"}]}`
	if _, err := e.iam.PutUserPolicy(e.ctx, &iam.PutUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	key, err := e.iam.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("deployer")})
	if err != nil {
		t.Fatal(err)
	}
	user := elb.New(elb.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()), HTTPClient: e.HTTP, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")})
	target := []types.TargetDescription{{Id: aws.String("10.0.0.1")}}
	if _, err := user.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: blue.TargetGroupArn, Targets: target}); err != nil {
		t.Fatalf("allowed registration: %v", err)
	}
	if _, err := user.DescribeTargetGroups(e.ctx, &elb.DescribeTargetGroupsInput{}); err != nil {
		t.Fatalf("allowed describe: %v", err)
	}
	e.unchanged(t, "refused calls", func() {
		if _, err := user.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: green.TargetGroupArn, Targets: target}); code(err) != "AccessDenied" {
			t.Errorf("registration in another group: %v", err)
		}
		if _, err := user.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("x")}); code(err) != "AccessDenied" {
			t.Errorf("create load balancer: %v", err)
		}
	})
}

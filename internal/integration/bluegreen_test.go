package integration

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// shiftRig is a service of 4 behind a production and a test listener whose
// default rules forward to two target groups, ready for blue/green.
type shiftRig struct {
	t                  *testing.T
	n                  *node
	lbs                *elb.Client
	groups             [2]string // the service's targetGroupArn, then the alternate
	prodPort, testPort int
	prodRule, testRule string
}

func newShiftRig(t *testing.T) *shiftRig {
	n := startNode(t, nodeOptions{server: flottatest.Options{LoadBalancers: true}})
	ctx := context.Background()
	r := &shiftRig{t: t, n: n, lbs: n.env.ELB()}
	lbOut, err := r.lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("bg")})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"web-1", "web-2"} {
		tg, err := r.lbs.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
			TargetType: elbtypes.TargetTypeEnumInstance, HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(5),
			HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		r.groups[i] = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		if _, err := r.lbs.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(r.groups[i]),
			Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("3")}}}); err != nil {
			t.Fatal(err)
		}
	}
	forward := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
		{TargetGroupArn: aws.String(r.groups[0]), Weight: aws.Int32(1)}, {TargetGroupArn: aws.String(r.groups[1]), Weight: aws.Int32(0)}}}}}
	for _, p := range []struct {
		port *int
		rule *string
	}{{&r.prodPort, &r.prodRule}, {&r.testPort, &r.testRule}} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		*p.port = l.Addr().(*net.TCPAddr).Port
		l.Close()
		lst, err := r.lbs.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lbOut.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(int32(*p.port)), DefaultActions: forward})
		if err != nil {
			t.Fatal(err)
		}
		rules, err := r.lbs.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: lst.Listeners[0].ListenerArn})
		if err != nil || len(rules.Rules) != 1 || !aws.ToBool(rules.Rules[0].IsDefault) {
			t.Fatalf("the listener's default rule: %+v %v", rules, err)
		}
		*p.rule = aws.ToString(rules.Rules[0].RuleArn)
	}
	for _, v := range []string{"v1", "v2", "v3"} {
		web := app("web", "demo-app", "--port", "8080", "--message", v)
		web.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
		n.register("web-"+v, types.NetworkModeBridge, web)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		out, err := r.n.env.ECS.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Services: []string{"web"}})
		if err != nil || len(out.Services) == 0 {
			return
		}
		for i := len(out.Services[0].Events) - 1; i >= 0; i-- {
			ev := out.Services[0].Events[i]
			t.Logf("event %s: %s", aws.ToTime(ev.CreatedAt).Format("15:04:05.000"), aws.ToString(ev.Message))
		}
		if sd, err := r.latest(); err == nil {
			t.Logf("latest service deployment: %s at %s (%s)", sd.Status, sd.LifecycleStage, aws.ToString(sd.StatusReason))
		}
	})
	return r
}

// weights are the production rule's weights of the two groups.
func (r *shiftRig) weights() (first, second int32, err error) {
	out, err := r.lbs.DescribeRules(context.Background(), &elb.DescribeRulesInput{RuleArns: []string{r.prodRule}})
	if err != nil {
		return 0, 0, err
	}
	for _, a := range out.Rules[0].Actions {
		if a.ForwardConfig == nil {
			continue
		}
		for _, g := range a.ForwardConfig.TargetGroups {
			switch aws.ToString(g.TargetGroupArn) {
			case r.groups[0]:
				first = aws.ToInt32(g.Weight)
			case r.groups[1]:
				second = aws.ToInt32(g.Weight)
			}
		}
	}
	return first, second, nil
}

// latest is the service's latest service deployment.
func (r *shiftRig) latest() (*types.ServiceDeployment, error) {
	ctx := context.Background()
	list, err := r.n.env.ECS.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("web")})
	if err != nil || len(list.ServiceDeployments) == 0 {
		return nil, fmt.Errorf("ListServiceDeployments: %d, %v", len(list.ServiceDeployments), err)
	}
	out, err := r.n.env.ECS.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{
		ServiceDeploymentArns: []string{aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn)}})
	if err != nil || len(out.ServiceDeployments) != 1 {
		return nil, fmt.Errorf("DescribeServiceDeployments: %v", err)
	}
	return &out.ServiceDeployments[0], nil
}

// waitFor waits until the latest service deployment has one of the
// statuses.
func (r *shiftRig) waitFor(what string, limit time.Duration, statuses ...types.ServiceDeploymentStatus) *types.ServiceDeployment {
	r.t.Helper()
	var sd *types.ServiceDeployment
	flottatest.Eventually(r.t, limit, what, func() (bool, string) {
		var err error
		if sd, err = r.latest(); err != nil {
			return false, err.Error()
		}
		for _, s := range statuses {
			if sd.Status == s {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%s at %s (%s)", sd.Status, sd.LifecycleStage, aws.ToString(sd.StatusReason))
	})
	return sd
}

// TestCanaryAndLinearBehindTheLoadBalancer: on real Docker, a service of 4
// under a steady 200 requests/s, each answer naming its revision: a CANARY
// 10% deployment with a one-minute bake sends 10% +- 2 points of the
// requests to green during the bake, then all of them; a LINEAR 25%
// deployment moves in four steps; no request fails in either.
func TestCanaryAndLinearBehindTheLoadBalancer(t *testing.T) {
	r := newShiftRig(t)
	ctx := context.Background()
	advanced := &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(r.groups[1]), ProductionListenerRule: aws.String(r.prodRule),
		TestListenerRule: aws.String(r.testRule)}
	if _, err := r.n.env.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web-v1"),
		DesiredCount: aws.Int32(4), HealthCheckGracePeriodSeconds: aws.Int32(30),
		DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyCanary, BakeTimeInMinutes: aws.Int32(0),
			CanaryConfiguration:      &types.CanaryConfiguration{CanaryPercent: aws.Float64(10), CanaryBakeTimeInMinutes: aws.Int32(1)},
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(r.groups[0]), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080),
			AdvancedConfiguration: advanced}}}); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the first deployment", 3*time.Minute, types.ServiceDeploymentStatusSuccessful)

	traffic := &load{url: fmt.Sprintf("http://127.0.0.1:%d/", r.prodPort), versions: map[string]int{},
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	flottatest.Eventually(t, time.Minute, "v1 answers on the production listener", func() (bool, string) {
		traffic.one()
		ok, failed := traffic.snapshot()
		return ok > 0 && traffic.versions["v1"] == ok, fmt.Sprintf("%d ok, %d failed, %v", ok, failed, traffic.versions)
	})
	traffic = &load{url: traffic.url, versions: map[string]int{}, client: traffic.client}
	lctx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() { traffic.run(lctx, 200); close(loadDone) }()
	defer func() { stopLoad(); <-loadDone }()

	// CANARY 10%: the share of v2 while the canary bakes.
	if _, err := r.n.env.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("web-v2")}); err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 3*time.Minute, "the canary step (production weights blue 9, green 1)", func() (bool, string) {
		b, g, err := r.weights()
		return err == nil && b == 9 && g == 1, fmt.Sprintf("weights %d/%d %v", b, g, err)
	})
	time.Sleep(2 * time.Second) // let requests sent before the change finish
	traffic.mu.Lock()
	before := map[string]int{"v1": traffic.versions["v1"], "v2": traffic.versions["v2"]}
	traffic.mu.Unlock()
	time.Sleep(40 * time.Second)
	traffic.mu.Lock()
	v1, v2 := traffic.versions["v1"]-before["v1"], traffic.versions["v2"]-before["v2"]
	traffic.mu.Unlock()
	share := 100 * float64(v2) / float64(v1+v2)
	t.Logf("during the canary bake: %d requests to v1, %d to v2 (%.1f%%)", v1, v2, share)
	if v1+v2 < 1000 || share < 8 || share > 12 {
		t.Fatalf("during the canary bake v2 got %.1f%% of %d requests, want 10%% +- 2", share, v1+v2)
	}
	sd := r.waitFor("the canary deployment to succeed", 3*time.Minute, types.ServiceDeploymentStatusSuccessful)
	if sd.LifecycleStage != types.ServiceDeploymentLifecycleStageCleanUp {
		t.Errorf("the successful deployment shows stage %s", sd.LifecycleStage)
	}
	if b, g, err := r.weights(); err != nil || b != 0 || g != 1 {
		t.Fatalf("after the canary: weights %d/%d %v", b, g, err)
	}
	time.Sleep(2 * time.Second)
	traffic.mu.Lock()
	before = map[string]int{"v1": traffic.versions["v1"], "v2": traffic.versions["v2"]}
	traffic.mu.Unlock()
	time.Sleep(3 * time.Second)
	traffic.mu.Lock()
	if d := traffic.versions["v1"] - before["v1"]; d != 0 {
		t.Errorf("%d requests reached v1 after the canary completed", d)
	}
	traffic.mu.Unlock()

	// LINEAR 25%: four steps, back to the first target group.
	if _, err := r.n.env.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("web-v3"),
		DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyLinear, BakeTimeInMinutes: aws.Int32(0),
			LinearConfiguration: &types.LinearConfiguration{StepPercent: aws.Float64(25), StepBakeTimeInMinutes: aws.Int32(0)}}}); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the linear deployment to succeed", 3*time.Minute, types.ServiceDeploymentStatusSuccessful)
	if b, g, err := r.weights(); err != nil || b != 1 || g != 0 {
		t.Fatalf("after the linear deployment: weights %d/%d %v (v3 is in the first group again)", b, g, err)
	}
	out, err := r.n.env.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range out.Services[0].Events {
		if m := aws.ToString(e.Message); strings.Contains(m, "of production traffic") && strings.Contains(m, "of 4)") {
			steps = append([]string{m}, steps...)
		}
	}
	if len(steps) != 4 || !strings.Contains(steps[0], "25.0%") || !strings.Contains(steps[3], "100.0%") {
		t.Fatalf("linear steps: %q", steps)
	}
	stopLoad()
	<-loadDone
	loadDone = make(chan struct{})
	close(loadDone)
	ok, failed := traffic.snapshot()
	t.Logf("%d requests answered, %d failed; by version %v", ok, failed, traffic.versions)
	if failed != 0 {
		for _, f := range traffic.failuresSince(0) {
			t.Logf("failed at %s: %.60q", f.at.Format("15:04:05.000"), f.what)
		}
		t.Fatalf("%d requests failed", failed)
	}
}

// TestBlueGreenHookFailureRollsBack: on real Docker, a BLUE_GREEN
// deployment sends the test listener's traffic to green only, while
// production stays on blue; a hook task that exits 1 at
// POST_TEST_TRAFFIC_SHIFT rolls the deployment back with production
// traffic never having reached green, and no request fails.
func TestBlueGreenHookFailureRollsBack(t *testing.T) {
	r := newShiftRig(t)
	ctx := context.Background()
	hook, err := r.n.env.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("check"), NetworkMode: types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{app("check", "demo-app", "--port", "8099", "--exit-after", "15s", "--exit-code", "1")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.n.env.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web-v1"),
		DesiredCount: aws.Int32(4), HealthCheckGracePeriodSeconds: aws.Int32(30),
		DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(0),
			LifecycleHooks: []types.DeploymentLifecycleHook{{HookTargetArn: hook.TaskDefinition.TaskDefinitionArn,
				LifecycleStages: []types.DeploymentLifecycleHookStage{types.DeploymentLifecycleHookStagePostTestTrafficShift}}}},
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(r.groups[0]), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080),
			AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(r.groups[1]), ProductionListenerRule: aws.String(r.prodRule),
				TestListenerRule: aws.String(r.testRule)}}}}); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the first deployment", 3*time.Minute, types.ServiceDeploymentStatusSuccessful)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	traffic := &load{url: fmt.Sprintf("http://127.0.0.1:%d/", r.prodPort), versions: map[string]int{}, client: client}
	lctx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() { traffic.run(lctx, 200); close(loadDone) }()
	defer func() { stopLoad(); <-loadDone }()

	if _, err := r.n.env.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("web-v2")}); err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 3*time.Minute, "the hook running at POST_TEST_TRAFFIC_SHIFT", func() (bool, string) {
		sd, err := r.latest()
		if err != nil {
			return false, err.Error()
		}
		return sd.LifecycleStage == types.ServiceDeploymentLifecycleStagePostTestTrafficShift, fmt.Sprintf("%s at %s", sd.Status, sd.LifecycleStage)
	})
	tests := &load{url: fmt.Sprintf("http://127.0.0.1:%d/", r.testPort), versions: map[string]int{}, client: client}
	for range 50 {
		tests.one()
	}
	if ok, failed := tests.snapshot(); ok != 50 || tests.versions["v2"] != 50 {
		t.Fatalf("test listener before the production shift: %d ok, %d failed, %v; want all 50 on v2", ok, failed, tests.versions)
	}
	sd := r.waitFor("the rollback", 3*time.Minute, types.ServiceDeploymentStatusRollbackSuccessful)
	if sd.Rollback == nil || !strings.Contains(aws.ToString(sd.Rollback.Reason), "exited with code 1 (container check)") {
		t.Fatalf("rollback %+v", sd.Rollback)
	}
	out, err := r.n.env.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Services[0]; !strings.Contains(aws.ToString(s.TaskDefinition), "web-v1") || s.RunningCount != 4 || len(s.Deployments) != 1 {
		t.Fatalf("after the rollback: %s, running %d, %d deployments", aws.ToString(s.TaskDefinition), s.RunningCount, len(s.Deployments))
	}
	stopLoad()
	<-loadDone
	loadDone = make(chan struct{})
	close(loadDone)
	ok, failed := traffic.snapshot()
	t.Logf("production: %d requests answered, %d failed; by version %v", ok, failed, traffic.versions)
	if failed != 0 || traffic.versions["v2"] != 0 || ok < 1000 {
		t.Fatalf("production: %d ok, %d failed, %d reached green: %v", ok, failed, traffic.versions["v2"], traffic.failuresSince(0))
	}
}

// TestRollbackDuringTheCanaryBake: StopServiceDeployment ROLLBACK during a
// canary's bake sends every production request to blue within 2 s, and
// the deployment ends ROLLBACK_SUCCESSFUL with blue serving.
func TestRollbackDuringTheCanaryBake(t *testing.T) {
	r := newShiftRig(t)
	ctx := context.Background()
	if _, err := r.n.env.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web-v1"),
		DesiredCount: aws.Int32(2), HealthCheckGracePeriodSeconds: aws.Int32(30),
		DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyCanary,
			CanaryConfiguration: &types.CanaryConfiguration{CanaryPercent: aws.Float64(50), CanaryBakeTimeInMinutes: aws.Int32(10)}},
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(r.groups[0]), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080),
			AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(r.groups[1]), ProductionListenerRule: aws.String(r.prodRule)}}}}); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the first deployment", 3*time.Minute, types.ServiceDeploymentStatusSuccessful)
	if _, err := r.n.env.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("web-v2")}); err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 3*time.Minute, "the canary step (weights 1/1)", func() (bool, string) {
		b, g, err := r.weights()
		return err == nil && b == 1 && g == 1, fmt.Sprintf("weights %d/%d %v", b, g, err)
	})
	type answer struct {
		at      time.Time
		version string
	}
	var mu sync.Mutex
	var answers []answer
	probe := &load{url: fmt.Sprintf("http://127.0.0.1:%d/", r.prodPort), versions: map[string]int{},
		client: &http.Client{Timeout: 10 * time.Second}}
	pctx, stopProbe := context.WithCancel(ctx)
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		for pctx.Err() == nil {
			before := maps.Clone(probe.versions)
			probe.one()
			mu.Lock()
			for v, n := range probe.versions {
				if n != before[v] {
					answers = append(answers, answer{time.Now(), v})
				}
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(2 * time.Second)
	sd, err := r.latest()
	if err != nil {
		t.Fatal(err)
	}
	asked := time.Now()
	if _, err := r.n.env.ECS.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: sd.ServiceDeploymentArn,
		StopType: types.StopServiceDeploymentStopTypeRollback}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	stopProbe()
	<-probeDone
	var lastGreen time.Time
	greenBefore := 0
	mu.Lock()
	for _, a := range answers {
		if a.version == "v2" {
			lastGreen = a.at
			if a.at.Before(asked) {
				greenBefore++
			}
		}
	}
	mu.Unlock()
	if greenBefore == 0 {
		t.Fatalf("no request reached green during the canary: %v", probe.versions)
	}
	if d := lastGreen.Sub(asked); d > 2*time.Second {
		t.Fatalf("a request reached green %v after the rollback was asked for", d)
	}
	t.Logf("the last request to green came %v after the rollback was asked for", lastGreen.Sub(asked).Round(time.Millisecond))
	if _, failed := probe.snapshot(); failed != 0 {
		t.Fatalf("%d requests failed: %v", failed, probe.failuresSince(0))
	}
	done := r.waitFor("the rollback to complete", 2*time.Minute, types.ServiceDeploymentStatusRollbackSuccessful)
	if done.Rollback == nil || aws.ToString(done.Rollback.Reason) != "Rollback requested by user." {
		t.Fatalf("rollback %+v", done.Rollback)
	}
}

package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// blueGreenELB is what a blue/green, linear or canary service names: a
// load balancer whose production rule forwards to blue and green (100/0)
// and whose test rule forwards to green, a rule of it that answers itself,
// its listener, and a second load balancer with its own group and rule.
type blueGreenELB struct {
	blue, green, stray, unused      string
	listener, prodRule, testRule    string
	fixedRule, otherListener, other string
}

func newBlueGreenELB(t *testing.T, lbs *elb.Client) blueGreenELB {
	t.Helper()
	ctx := context.Background()
	var f blueGreenELB
	tg := func(name string) string {
		out, err := lbs.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), TargetType: elbtypes.TargetTypeEnumInstance})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.TargetGroups[0].TargetGroupArn)
	}
	f.blue, f.green, f.stray, f.unused = tg("blue"), tg("green"), tg("stray"), tg("unused")
	listener := func(lbName string, port int32, tgArn string) string {
		lb, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(lbName)})
		if err != nil {
			t.Fatal(err)
		}
		l, err := lbs.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(port), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgArn)}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(l.Listeners[0].ListenerArn)
	}
	rule := func(l string, prio int32, path string, action elbtypes.Action) string {
		r, err := lbs.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: aws.String(l), Priority: aws.Int32(prio), Actions: []elbtypes.Action{action},
			Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{path}}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(r.Rules[0].RuleArn)
	}
	forward := func(weights map[string]int32) elbtypes.Action {
		var groups []elbtypes.TargetGroupTuple
		for arn, w := range weights {
			groups = append(groups, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(w)})
		}
		return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: groups}}
	}
	f.listener = listener("front", 18181, f.blue)
	f.prodRule = rule(f.listener, 10, "/*", forward(map[string]int32{f.blue: 100, f.green: 0}))
	f.testRule = rule(f.listener, 20, "/test/*", forward(map[string]int32{f.green: 1}))
	f.fixedRule = rule(f.listener, 30, "/gone/*", elbtypes.Action{Type: elbtypes.ActionTypeEnumFixedResponse,
		FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404")}})
	f.otherListener = listener("back", 18182, f.stray)
	f.other = rule(f.otherListener, 10, "/*", forward(map[string]int32{f.stray: 1}))
	return f
}

// TestBlueGreenCanaryLinearConfiguration: CreateService and UpdateService
// accept the BLUE_GREEN, LINEAR and CANARY strategies with a load balancer
// whose advancedConfiguration fits the ELB records, describe them with
// ECS's defaults, and deploy the service (rolling, until Flotta shifts
// traffic). Every bad configuration is refused with an
// InvalidParameterException, in ECS's words where ECS's guide gives them,
// and creates or changes nothing.
func TestBlueGreenCanaryLinearConfiguration(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	f := newBlueGreenELB(t, e.ELB())
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), NetworkMode: types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String(fleet.Image), Memory: aws.Int32(64),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}}}); err != nil {
		t.Fatal(err)
	}
	const role = "arn:aws:iam::123456789012:role/ecs-blue-green"
	good := func() *types.AdvancedConfiguration {
		return &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(f.green), ProductionListenerRule: aws.String(f.prodRule),
			TestListenerRule: aws.String(f.testRule), RoleArn: aws.String(role)}
	}
	lb := func(ac *types.AdvancedConfiguration) []types.LoadBalancer {
		return []types.LoadBalancer{{TargetGroupArn: aws.String(f.blue), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080), AdvancedConfiguration: ac}}
	}
	canary := &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyCanary}
	edit := func(fn func(ac *types.AdvancedConfiguration)) []types.LoadBalancer {
		ac := good()
		fn(ac)
		return lb(ac)
	}
	hooks := func(target string, stages ...types.DeploymentLifecycleHookStage) *types.DeploymentConfiguration {
		return &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyCanary,
			LifecycleHooks: []types.DeploymentLifecycleHook{{HookTargetArn: aws.String(target), LifecycleStages: stages}}}
	}
	listServices := func() []string {
		out, err := e.ECS.ListServices(ctx, &ecs.ListServicesInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out.ServiceArns
	}

	bad := []struct {
		name string
		dc   *types.DeploymentConfiguration
		lbs  []types.LoadBalancer
		want string
	}{
		{"CANARY without a load balancer", canary, nil, "The CANARY deployment strategy requires a load balancer with an advancedConfiguration"},
		{"BLUE_GREEN with a plain load balancer", &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen}, lb(nil), "The BLUE_GREEN deployment strategy requires"},
		{"no alternate group", canary, edit(func(ac *types.AdvancedConfiguration) { ac.AlternateTargetGroupArn = nil }), "alternateTargetGroupArn is required"},
		{"the alternate is the primary", canary, edit(func(ac *types.AdvancedConfiguration) { ac.AlternateTargetGroupArn = aws.String(f.blue) }), "The alternateTargetGroupArn must differ from the targetGroupArn " + f.blue},
		{"an unknown alternate", canary, edit(func(ac *types.AdvancedConfiguration) {
			ac.AlternateTargetGroupArn = aws.String(strings.Replace(f.green, "/green/", "/nope/", 1))
		}), "The alternate target group " + strings.Replace(f.green, "/green/", "/nope/", 1) + " does not exist."},
		{"an alternate no load balancer uses", canary, edit(func(ac *types.AdvancedConfiguration) { ac.AlternateTargetGroupArn = aws.String(f.unused) }), "is not associated with the load balancer"},
		{"an alternate of another load balancer", canary, edit(func(ac *types.AdvancedConfiguration) { ac.AlternateTargetGroupArn = aws.String(f.stray) }), "The alternate target group " + f.stray + " is not associated"},
		{"no production rule", canary, edit(func(ac *types.AdvancedConfiguration) { ac.ProductionListenerRule = nil }), "productionListenerRule is required"},
		{"a listener of an ALB as production rule", canary, edit(func(ac *types.AdvancedConfiguration) { ac.ProductionListenerRule = aws.String(f.listener) }),
			"productionListenerRule has an invalid ARN format. Must be RuleArn for ALB or ListenerArn for NLB. Got: " + f.listener},
		{"a target group as production rule", canary, edit(func(ac *types.AdvancedConfiguration) { ac.ProductionListenerRule = aws.String(f.green) }), "productionListenerRule has an invalid ARN format."},
		{"an unknown production rule", canary, edit(func(ac *types.AdvancedConfiguration) { ac.ProductionListenerRule = aws.String(f.prodRule + "0") }), "The productionListenerRule " + f.prodRule + "0 does not exist."},
		{"a production rule of another load balancer", canary, edit(func(ac *types.AdvancedConfiguration) { ac.ProductionListenerRule = aws.String(f.other) }),
			"The productionListenerRule " + f.other + " belongs to the load balancer"},
		{"a production rule that forwards to neither group", canary, edit(func(ac *types.AdvancedConfiguration) { ac.ProductionListenerRule = aws.String(f.fixedRule) }),
			"The productionListenerRule " + f.fixedRule + " does not forward to the target group"},
		{"one rule for production and test", canary, edit(func(ac *types.AdvancedConfiguration) { ac.TestListenerRule = aws.String(f.prodRule) }),
			"The following rules cannot be used as both production and test listener rules: " + f.prodRule},
		{"a test rule of another load balancer", canary, edit(func(ac *types.AdvancedConfiguration) { ac.TestListenerRule = aws.String(f.other) }), "The testListenerRule " + f.other + " belongs to the load balancer"},
		{"a listener as test rule", canary, edit(func(ac *types.AdvancedConfiguration) { ac.TestListenerRule = aws.String(f.otherListener) }), "testListenerRule has an invalid ARN format."},
		{"a role that is no role", canary, edit(func(ac *types.AdvancedConfiguration) { ac.RoleArn = aws.String("ecs-blue-green") }), "must be an IAM role ARN"},
		{"canaryPercent 0.05", &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyCanary, CanaryConfiguration: &types.CanaryConfiguration{CanaryPercent: aws.Float64(0.05)}},
			lb(good()), "canaryPercent must be a multiple of 0.1 from 0.1 to 100.0"},
		{"canaryBakeTimeInMinutes 1441", &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyCanary, CanaryConfiguration: &types.CanaryConfiguration{CanaryBakeTimeInMinutes: aws.Int32(1441)}},
			lb(good()), "canaryBakeTimeInMinutes must be between 0 and 1440"},
		{"stepPercent 2.5", &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyLinear, LinearConfiguration: &types.LinearConfiguration{StepPercent: aws.Float64(2.5)}},
			lb(good()), "stepPercent must be a multiple of 0.1 from 3.0 to 100.0"},
		{"linear settings for CANARY", &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyCanary, LinearConfiguration: &types.LinearConfiguration{}},
			lb(good()), "linearConfiguration is only valid when the deployment strategy is LINEAR"},
		{"bakeTimeInMinutes 1441", &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(1441)}, lb(good()), "bakeTimeInMinutes must be between 0 and 1440"},
		{"a Lambda hook", hooks("arn:aws:lambda:us-east-1:123456789012:function:check", types.DeploymentLifecycleHookStagePreScaleUp), lb(good()), "Lambda lifecycle hooks are not supported"},
		{"a hook at an unknown stage", hooks("https://hooks.example.com/check", "SCALE_UP"), lb(good()), "lifecycleStages should be one of"},
		{"a hook without a stage", hooks("https://hooks.example.com/check"), lb(good()), "lifecycleStages is required"},
	}
	before, rev := listServices(), e.Revision(t)
	for _, c := range bad {
		_, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("bad"), TaskDefinition: aws.String("web"),
			DesiredCount: aws.Int32(2), LoadBalancers: c.lbs, DeploymentConfiguration: c.dc})
		if apiCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want InvalidParameterException %q, got %v", c.name, c.want, err)
		}
	}
	if after := listServices(); len(after) != len(before) {
		t.Fatalf("refused services were listed: %v", after)
	}
	if after := e.Revision(t); after != rev {
		t.Fatalf("refused services changed the store: revision %d -> %d", rev, after)
	}

	// A valid CANARY service without canaryConfiguration: described with
	// ECS's defaults and its advancedConfiguration, and deployed.
	fleet.New(t, e).Add(1, fleet.Spec{CPU: 2048, Memory: 2048}, nil)
	out, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2),
		LoadBalancers: lb(good()), DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyCanary, BakeTimeInMinutes: aws.Int32(5),
			LifecycleHooks: []types.DeploymentLifecycleHook{{HookTargetArn: aws.String("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"),
				LifecycleStages: []types.DeploymentLifecycleHookStage{types.DeploymentLifecycleHookStagePostScaleUp, types.DeploymentLifecycleHookStagePostTestTrafficShift}}}}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, s types.Service) {
		t.Helper()
		dc := s.DeploymentConfiguration
		if dc == nil || dc.Strategy != types.DeploymentStrategyCanary || dc.CanaryConfiguration == nil ||
			aws.ToFloat64(dc.CanaryConfiguration.CanaryPercent) != 5 || aws.ToInt32(dc.CanaryConfiguration.CanaryBakeTimeInMinutes) != 10 ||
			aws.ToInt32(dc.BakeTimeInMinutes) != 5 || dc.LinearConfiguration != nil {
			t.Fatalf("%s: deploymentConfiguration %+v", what, dc)
		}
		if len(dc.LifecycleHooks) != 1 || len(dc.LifecycleHooks[0].LifecycleStages) != 2 || dc.LifecycleHooks[0].LifecycleStages[1] != types.DeploymentLifecycleHookStagePostTestTrafficShift {
			t.Fatalf("%s: lifecycleHooks %+v", what, dc.LifecycleHooks)
		}
		ac := s.LoadBalancers[0].AdvancedConfiguration
		if ac == nil || aws.ToString(ac.AlternateTargetGroupArn) != f.green || aws.ToString(ac.ProductionListenerRule) != f.prodRule ||
			aws.ToString(ac.TestListenerRule) != f.testRule || aws.ToString(ac.RoleArn) != role {
			t.Fatalf("%s: advancedConfiguration %+v", what, ac)
		}
	}
	check("CreateService", *out.Service)
	desc, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil || len(desc.Services) != 1 {
		t.Fatalf("DescribeServices: %+v %v", desc, err)
	}
	check("DescribeServices", desc.Services[0])
	// Until Flotta shifts traffic, the service controller deploys it as it
	// deploys any service.
	flottatest.Eventually(t, 30*time.Second, "both tasks of the CANARY service running", func() (bool, string) {
		d, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
		if err != nil {
			return false, err.Error()
		}
		return d.Services[0].RunningCount == 2, fmt.Sprintf("running %d", d.Services[0].RunningCount)
	})

	// UpdateService: a bad change is refused and changes nothing (the
	// service's agent keeps writing to the store, so the service itself is
	// compared); a switch to LINEAR shows linear defaults.
	describe := func() types.Service {
		d, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
		if err != nil || len(d.Services) != 1 {
			t.Fatalf("DescribeServices: %+v %v", d, err)
		}
		return d.Services[0]
	}
	was := describe()
	for _, c := range []struct {
		dc   *types.DeploymentConfiguration
		lbs  []types.LoadBalancer
		want string
	}{
		{&types.DeploymentConfiguration{Strategy: types.DeploymentStrategyLinear, LinearConfiguration: &types.LinearConfiguration{StepPercent: aws.Float64(100.1)}}, nil, "stepPercent"},
		{&types.DeploymentConfiguration{Strategy: types.DeploymentStrategyLinear}, lb(nil), "The LINEAR deployment strategy requires"},
		{hooks("arn:aws:lambda:us-east-1:123456789012:function:check", types.DeploymentLifecycleHookStagePreScaleUp), nil, "Lambda lifecycle hooks are not supported"},
		{nil, edit(func(ac *types.AdvancedConfiguration) { ac.ProductionListenerRule = aws.String(f.other) }), "belongs to the load balancer"},
		// Only the load balancers: the kept CANARY strategy needs one with advancedConfiguration.
		{nil, lb(nil), "The CANARY deployment strategy requires"},
	} {
		_, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DeploymentConfiguration: c.dc, LoadBalancers: c.lbs})
		if apiCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("UpdateService: want InvalidParameterException %q, got %v", c.want, err)
		}
	}
	now := describe()
	check("after refused updates", now)
	if len(now.Deployments) != len(was.Deployments) || aws.ToString(now.Deployments[0].Id) != aws.ToString(was.Deployments[0].Id) {
		t.Fatalf("refused updates started a deployment: %+v", now.Deployments)
	}
	up, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DeploymentConfiguration: &types.DeploymentConfiguration{
		Strategy: types.DeploymentStrategyLinear, LinearConfiguration: &types.LinearConfiguration{StepBakeTimeInMinutes: aws.Int32(0)}}})
	if err != nil {
		t.Fatal(err)
	}
	if lc := up.Service.DeploymentConfiguration.LinearConfiguration; lc == nil || aws.ToFloat64(lc.StepPercent) != 10 || lc.StepBakeTimeInMinutes == nil || *lc.StepBakeTimeInMinutes != 0 ||
		up.Service.DeploymentConfiguration.CanaryConfiguration != nil {
		t.Fatalf("LINEAR defaults: %+v", up.Service.DeploymentConfiguration)
	}
}

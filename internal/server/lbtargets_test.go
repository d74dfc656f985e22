package server_test

import (
	"context"
	"fmt"
	"slices"
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

// lbFixture makes a load balancer with an HTTP listener forwarding to a
// target group of type instance whose deregistration delay is delay
// seconds, and a target group that no listener uses.
func lbFixture(t *testing.T, lbs *elb.Client, delay int) (tgArn, unusedArn string) {
	t.Helper()
	ctx := context.Background()
	lb, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("front")})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, name := range []string{"web", "unused"} {
		tg, err := lbs.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), TargetType: elbtypes.TargetTypeEnumInstance})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(tg.TargetGroups[0].TargetGroupArn))
	}
	if _, err := lbs.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arns[0]),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(fmt.Sprint(delay))}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lbs.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(18080), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(arns[0])}}}); err != nil {
		t.Fatal(err)
	}
	return arns[0], arns[1]
}

// TestServiceTasksAreLoadBalancerTargets: a service's running tasks are
// registered in its target group (their instance and host port) as ECS
// registers them, with ECS's service events; a task the service stops is
// deregistered first and keeps running while its target drains for the
// group's deregistration delay, then stops and leaves the group. Bad
// loadBalancers are refused in ECS's words, changing nothing.
func TestServiceTasksAreLoadBalancerTargets(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	lbs := e.ELB()
	f := fleet.New(t, e)
	f.Add(2, fleet.Spec{CPU: 2048, Memory: 2048}, nil)
	tgArn, unusedArn := lbFixture(t, lbs, 3)
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), NetworkMode: types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String(fleet.Image), Memory: aws.Int32(64),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}}}); err != nil {
		t.Fatal(err)
	}
	create := func(name string, lb types.LoadBalancer) error {
		_, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String(name), TaskDefinition: aws.String("web"),
			DesiredCount: aws.Int32(2), LoadBalancers: []types.LoadBalancer{lb}})
		return err
	}

	before := e.Revision(t)
	for name, c := range map[string]struct {
		lb   types.LoadBalancer
		want string
	}{
		"an unknown target group": {types.LoadBalancer{TargetGroupArn: aws.String(strings.Replace(tgArn, "/web/", "/nope/", 1)), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)},
			"Unable to assume role and validate the specified targetGroupArn."},
		"a group no load balancer uses": {types.LoadBalancer{TargetGroupArn: aws.String(unusedArn), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)},
			"The target group with targetGroupArn " + unusedArn + " does not have an associated load balancer."},
		"a port the container does not map": {types.LoadBalancer{TargetGroupArn: aws.String(tgArn), ContainerName: aws.String("web"), ContainerPort: aws.Int32(9090)},
			"The container web did not have a container port 9090 defined."},
		"a container the definition lacks": {types.LoadBalancer{TargetGroupArn: aws.String(tgArn), ContainerName: aws.String("api"), ContainerPort: aws.Int32(8080)},
			"The container api does not exist in the task definition."},
		"a Classic Load Balancer": {types.LoadBalancer{LoadBalancerName: aws.String("classic"), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)},
			"Classic Load Balancers are not supported"},
	} {
		err := create("bad", c.lb)
		if apiCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: want InvalidParameterException %q, got %v", name, c.want, err)
		}
	}
	if after := e.Revision(t); after != before {
		t.Fatalf("refused services changed the store: revision %d -> %d", before, after)
	}

	if err := create("web", types.LoadBalancer{TargetGroupArn: aws.String(tgArn), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}); err != nil {
		t.Fatal(err)
	}
	health := func() []elbtypes.TargetHealthDescription {
		out, err := lbs.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgArn)})
		if err != nil {
			t.Fatal(err)
		}
		return out.TargetHealthDescriptions
	}
	// The targets are the tasks' instances and host ports.
	var want []string
	flottatest.Eventually(t, 30*time.Second, "both tasks registered", func() (bool, string) {
		tasks, err := e.ECS.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("web")})
		if err != nil || len(tasks.TaskArns) != 2 {
			return false, fmt.Sprint(tasks, err)
		}
		desc, err := e.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: tasks.TaskArns})
		if err != nil {
			return false, err.Error()
		}
		want = want[:0]
		for _, tk := range desc.Tasks {
			inst, err := e.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{aws.ToString(tk.ContainerInstanceArn)}})
			if err != nil || len(inst.ContainerInstances) != 1 || len(tk.Containers[0].NetworkBindings) != 1 {
				return false, fmt.Sprint(inst, err)
			}
			want = append(want, fmt.Sprintf("%s:%d", aws.ToString(inst.ContainerInstances[0].Ec2InstanceId), aws.ToInt32(tk.Containers[0].NetworkBindings[0].HostPort)))
		}
		var got []string
		for _, h := range health() {
			got = append(got, fmt.Sprintf("%s:%d", aws.ToString(h.Target.Id), aws.ToInt32(h.Target.Port)))
		}
		slices.Sort(want)
		slices.Sort(got)
		return slices.Equal(got, want), fmt.Sprintf("targets %v, tasks %v", got, want)
	})
	svc, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if lb := svc.Services[0].LoadBalancers; len(lb) != 1 || aws.ToString(lb[0].TargetGroupArn) != tgArn || aws.ToInt32(lb[0].ContainerPort) != 8080 {
		t.Fatalf("the service's loadBalancers: %+v", lb)
	}
	if !hasEvent(svc.Services[0].Events, "(service web) registered ") {
		t.Fatalf("no registration event: %+v", svc.Services[0].Events)
	}

	// Scale in: one task is deregistered, drains for 3 s while it runs,
	// then stops and leaves the group.
	scaledAt := time.Now()
	if _, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	var draining string
	flottatest.Eventually(t, 10*time.Second, "a target draining", func() (bool, string) {
		for _, h := range health() {
			if h.TargetHealth.State == elbtypes.TargetHealthStateEnumDraining {
				draining = fmt.Sprintf("%s:%d", aws.ToString(h.Target.Id), aws.ToInt32(h.Target.Port))
				return h.TargetHealth.Reason == elbtypes.TargetHealthReasonEnumDeregistrationInProgress, string(h.TargetHealth.Reason)
			}
		}
		return false, "none draining"
	})
	stopping, err := e.ECS.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("web"), DesiredStatus: types.DesiredStatusStopped})
	if err != nil || len(stopping.TaskArns) != 1 {
		t.Fatalf("the task to stop: %+v %v", stopping, err)
	}
	// As in ECS, it is DEACTIVATING while its target drains.
	e.WaitTask(t, stopping.TaskArns[0], "DEACTIVATING while its target drains", 5*time.Second, func(tk *types.Task) bool {
		return aws.ToString(tk.LastStatus) == "DEACTIVATING"
	})
	stopped := e.WaitTask(t, stopping.TaskArns[0], "STOPPED", 30*time.Second, func(tk *types.Task) bool { return aws.ToString(tk.LastStatus) == "STOPPED" })
	if ran := stopped.StoppingAt.Sub(scaledAt); ran < 2*time.Second {
		t.Fatalf("the task began to stop %v after the scale-in, before its 3 s drain", ran)
	}
	flottatest.Eventually(t, 10*time.Second, "the drained target gone", func() (bool, string) {
		var got []string
		for _, h := range health() {
			got = append(got, fmt.Sprintf("%s:%d", aws.ToString(h.Target.Id), aws.ToInt32(h.Target.Port)))
		}
		return len(got) == 1 && got[0] != draining, fmt.Sprint(got)
	})
	svc, err = e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil || !hasEvent(svc.Services[0].Events, "(service web) deregistered 1 targets in (target-group "+tgArn+")") {
		t.Fatalf("no deregistration event: %+v %v", svc, err)
	}
}

func hasEvent(evs []types.ServiceEvent, prefix string) bool {
	return slices.ContainsFunc(evs, func(ev types.ServiceEvent) bool { return strings.HasPrefix(aws.ToString(ev.Message), prefix) })
}

// TestADrainEndsWhenNothingIsInFlight: with the server's own data plane, a
// deregistered target that has no request in flight leaves at once, as ELB
// ends a deregistration early, and its task stops long before the group's
// deregistration delay (60 s here) has passed.
func TestADrainEndsWhenNothingIsInFlight(t *testing.T) {
	e := flottatest.StartServer(t, flottatest.Options{LoadBalancers: true})
	ctx := context.Background()
	lbs := e.ELB()
	f := fleet.New(t, e)
	f.Add(1, fleet.Spec{CPU: 2048, Memory: 2048}, nil)
	tgArn, _ := lbFixture(t, lbs, 60)
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), NetworkMode: types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String(fleet.Image), Memory: aws.Int32(64),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"),
		DesiredCount: aws.Int32(2), HealthCheckGracePeriodSeconds: aws.Int32(600),
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(tgArn), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}}}); err != nil {
		t.Fatal(err)
	}
	targets := func() int {
		out, err := lbs.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgArn)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.TargetHealthDescriptions)
	}
	flottatest.Eventually(t, 30*time.Second, "two targets", func() (bool, string) { n := targets(); return n == 2, fmt.Sprint(n) })
	scaledAt := time.Now()
	if _, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	var stopping *ecs.ListTasksOutput
	flottatest.Eventually(t, 10*time.Second, "a task told to stop", func() (bool, string) {
		var err error
		stopping, err = e.ECS.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("web"), DesiredStatus: types.DesiredStatusStopped})
		return err == nil && len(stopping.TaskArns) == 1, fmt.Sprint(stopping, err)
	})
	stopped := e.WaitTask(t, stopping.TaskArns[0], "STOPPED well before the 60 s delay", 30*time.Second, func(tk *types.Task) bool {
		return aws.ToString(tk.LastStatus) == "STOPPED"
	})
	t.Logf("the idle target's task stopped %v after the scale-in", stopped.StoppedAt.Sub(scaledAt).Round(time.Millisecond))
	if n := targets(); n != 1 {
		t.Fatalf("%d targets after the drain, want 1", n)
	}
}

package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// blueGreenFixture registers the task definition "web" (container web,
// port 8080) and makes two target groups, blue and green, with a
// deregistration delay of 1 s.
func blueGreenFixture(t *testing.T, e *flottatest.Env) (blue, green string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), NetworkMode: types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String(fleet.Image), Memory: aws.Int32(64),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}}}); err != nil {
		t.Fatal(err)
	}
	lbs := e.ELB()
	var arns []string
	for _, name := range []string{"blue", "green"} {
		tg, err := lbs.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), TargetType: elbtypes.TargetTypeEnumInstance})
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		if _, err := lbs.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
			Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("1")}}}); err != nil {
			t.Fatal(err)
		}
		arns = append(arns, arn)
	}
	// A target group serves once a load balancer's listener forwards to it.
	lb, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("front")})
	if err != nil {
		t.Fatal(err)
	}
	for i, arn := range arns {
		if _, err := lbs.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(int32(18181 + i)), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(arn)}}}); err != nil {
			t.Fatal(err)
		}
	}
	return arns[0], arns[1]
}

// liveTargets counts a target group's targets that are not draining.
func liveTargets(t *testing.T, e *flottatest.Env, tg string) int {
	out, err := e.ELB().DescribeTargetHealth(context.Background(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range out.TargetHealthDescriptions {
		if h.TargetHealth == nil || h.TargetHealth.State != elbtypes.TargetHealthStateEnumDraining {
			n++
		}
	}
	return n
}

func taskSet(t *testing.T, e *flottatest.Env, id string) types.TaskSet {
	t.Helper()
	out, err := e.ECS.DescribeTaskSets(context.Background(), &ecs.DescribeTaskSetsInput{Cluster: aws.String("default"), Service: aws.String("app"),
		TaskSets: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TaskSets) != 1 {
		t.Fatalf("task set %s: %+v", id, out.Failures)
	}
	return out.TaskSets[0]
}

// running counts the tasks a task set started that still run.
func runningOf(t *testing.T, e *flottatest.Env, id string) int {
	out, err := e.ECS.ListTasks(context.Background(), &ecs.ListTasksInput{StartedBy: aws.String(id), DesiredStatus: types.DesiredStatusRunning})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.TaskArns)
}

// TestTaskSetsBlueGreen: an EXTERNAL service's tool runs its own blue/green
// through the official client: two task sets at 100% and 0% of the
// service's four tasks, each registered in its own target group; 50/50;
// the green made PRIMARY (the service shows its settings); the desired
// count changed (each computedDesiredCount follows); the blue deleted (its
// targets drain and its tasks stop). The fake runtime's tasks answer no
// health check, so their targets never turn healthy: stability is the
// controller tests' and the Docker test's to check.
func TestTaskSetsBlueGreen(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	f := fleet.New(t, e)
	f.Add(2, fleet.Spec{CPU: 4096, Memory: 4096}, nil)
	blueTG, greenTG := blueGreenFixture(t, e)

	created, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("app"), DesiredCount: aws.Int32(4),
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}})
	if err != nil {
		t.Fatal(err)
	}
	svc := created.Service
	if svc.DeploymentController.Type != types.DeploymentControllerTypeExternal || len(svc.Deployments) != 0 || svc.TaskSets == nil || len(svc.TaskSets) != 0 {
		t.Fatalf("the new service: controller %+v deployments %+v taskSets %#v", svc.DeploymentController, svc.Deployments, svc.TaskSets)
	}

	mk := func(tg string, scale float64, tags ...types.Tag) types.TaskSet {
		out, err := e.ECS.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"),
			TaskDefinition: aws.String("web"), ExternalId: aws.String("tool-" + fmt.Sprint(scale)),
			LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
			Scale:         &types.Scale{Unit: types.ScaleUnitPercent, Value: scale}, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		return *out.TaskSet
	}
	blue := mk(blueTG, 100)
	green := mk(greenTG, 0, types.Tag{Key: aws.String("colour"), Value: aws.String("green")})
	blueID, greenID := aws.ToString(blue.Id), aws.ToString(green.Id)
	for _, ts := range []types.TaskSet{blue, green} {
		id := aws.ToString(ts.Id)
		if !strings.HasPrefix(id, "ecs-svc/") || len(id) != len("ecs-svc/")+19 {
			t.Fatalf("task set id %q", id)
		}
		if want := "arn:aws:ecs:" + e.Server.Account().Region + ":" + e.Server.Account().ID + ":task-set/default/app/" + id; aws.ToString(ts.TaskSetArn) != want {
			t.Fatalf("taskSetArn %s, want %s", aws.ToString(ts.TaskSetArn), want)
		}
		if aws.ToString(ts.Status) != "ACTIVE" || !strings.HasSuffix(aws.ToString(ts.TaskDefinition), "task-definition/web:1") ||
			ts.LaunchType != types.LaunchTypeEc2 || ts.StabilityStatus != types.StabilityStatusStabilizing || ts.CreatedAt == nil {
			t.Fatalf("new task set: %+v", ts)
		}
	}
	if blue.ComputedDesiredCount != 4 || green.ComputedDesiredCount != 0 || green.Scale.Value != 0 || green.Scale.Unit != types.ScaleUnitPercent {
		t.Fatalf("computed counts: blue %d green %d (scale %+v)", blue.ComputedDesiredCount, green.ComputedDesiredCount, green.Scale)
	}
	if len(green.Tags) != 1 || aws.ToString(green.Tags[0].Key) != "colour" {
		t.Fatalf("CreateTaskSet's answer shows the tags it was given: %+v", green.Tags)
	}

	counts := func(wantBlue, wantGreen int) {
		t.Helper()
		flottatest.Eventually(t, 30*time.Second, fmt.Sprintf("blue %d and green %d running and registered", wantBlue, wantGreen), func() (bool, string) {
			b, g := taskSet(t, e, blueID), taskSet(t, e, greenID)
			nb, ng := liveTargets(t, e, blueTG), liveTargets(t, e, greenTG)
			rb, rg := runningOf(t, e, blueID), runningOf(t, e, greenID)
			ok := int(b.RunningCount) == wantBlue && int(g.RunningCount) == wantGreen && nb == wantBlue && ng == wantGreen &&
				rb == wantBlue && rg == wantGreen && int(b.ComputedDesiredCount) == wantBlue && int(g.ComputedDesiredCount) == wantGreen
			return ok, fmt.Sprintf("task sets running %d/%d (%s/%s), tasks %d/%d, targets %d/%d", b.RunningCount, g.RunningCount,
				b.StabilityStatus, g.StabilityStatus, rb, rg, nb, ng)
		})
	}
	counts(4, 0)

	// 50/50: green starts two, blue stops two; neither waits for the other.
	for id, scale := range map[string]float64{greenID: 50, blueID: 50} {
		out, err := e.ECS.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"), TaskSet: aws.String(id),
			Scale: &types.Scale{Unit: types.ScaleUnitPercent, Value: scale}})
		if err != nil {
			t.Fatal(err)
		}
		if out.TaskSet.ComputedDesiredCount != 2 || out.TaskSet.Scale.Value != 50 {
			t.Fatalf("UpdateTaskSet answered %+v", out.TaskSet)
		}
	}
	counts(2, 2)

	// The green becomes PRIMARY: the service shows its settings.
	prim, err := e.ECS.UpdateServicePrimaryTaskSet(ctx, &ecs.UpdateServicePrimaryTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"),
		PrimaryTaskSet: green.TaskSetArn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(prim.TaskSet.Status) != "PRIMARY" || aws.ToString(prim.TaskSet.Id) != greenID {
		t.Fatalf("UpdateServicePrimaryTaskSet answered %+v", prim.TaskSet)
	}
	desc, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"app"}})
	if err != nil {
		t.Fatal(err)
	}
	svc = &desc.Services[0]
	if aws.ToString(svc.TaskDefinition) != aws.ToString(green.TaskDefinition) || len(svc.LoadBalancers) != 1 ||
		aws.ToString(svc.LoadBalancers[0].TargetGroupArn) != greenTG || len(svc.TaskSets) != 2 || len(svc.Deployments) != 0 {
		t.Fatalf("the service after the primary changed: td %s lbs %+v taskSets %d deployments %d", aws.ToString(svc.TaskDefinition),
			svc.LoadBalancers, len(svc.TaskSets), len(svc.Deployments))
	}
	statuses := map[string]string{}
	for _, ts := range svc.TaskSets {
		statuses[aws.ToString(ts.Id)] = aws.ToString(ts.Status)
	}
	if statuses[greenID] != "PRIMARY" || statuses[blueID] != "ACTIVE" || svc.RunningCount != 4 {
		t.Fatalf("statuses %v running %d", statuses, svc.RunningCount)
	}

	// Six wanted: each 50% task set computes 3.
	up, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("app"), DesiredCount: aws.Int32(6)})
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range up.Service.TaskSets {
		if ts.ComputedDesiredCount != 3 {
			t.Fatalf("after desiredCount 6: %s computes %d", aws.ToString(ts.Id), ts.ComputedDesiredCount)
		}
	}
	counts(3, 3)

	// include TAGS shows the task set's tags, and only then.
	all, err := e.ECS.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String("default"), Service: aws.String("app"),
		Include: []types.TaskSetField{types.TaskSetFieldTags}, TaskSets: []string{greenID, "ecs-svc/1234567890123456789"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.TaskSets) != 1 || len(all.TaskSets[0].Tags) != 1 || aws.ToString(all.TaskSets[0].Tags[0].Value) != "green" {
		t.Fatalf("DescribeTaskSets with TAGS: %+v", all.TaskSets)
	}
	if len(all.Failures) != 1 || aws.ToString(all.Failures[0].Reason) != "MISSING" || aws.ToString(all.Failures[0].Arn) != "ecs-svc/1234567890123456789" {
		t.Fatalf("failures %+v", all.Failures)
	}
	if g := taskSet(t, e, greenID); len(g.Tags) != 0 {
		t.Fatalf("tags without include TAGS: %+v", g.Tags)
	}

	// Deleting the blue needs force while it is scaled above 0; then its
	// targets drain, its tasks stop and it is gone.
	_, err = e.ECS.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"), TaskSet: aws.String(blueID)})
	wantCode(t, err, "InvalidParameterException", "scaled above 0")
	del, err := e.ECS.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"), TaskSet: blue.TaskSetArn,
		Force: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(del.TaskSet.Status) != "DRAINING" || del.TaskSet.ComputedDesiredCount != 0 {
		t.Fatalf("DeleteTaskSet answered %+v", del.TaskSet)
	}
	flottatest.Eventually(t, 30*time.Second, "the blue task set gone, its tasks stopped and its targets drained", func() (bool, string) {
		out, err := e.ECS.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String("default"), Service: aws.String("app")})
		if err != nil {
			return false, err.Error()
		}
		n, r := liveTargets(t, e, blueTG), runningOf(t, e, blueID)
		return len(out.TaskSets) == 1 && n == 0 && r == 0, fmt.Sprintf("%d task sets, %d blue targets, %d blue tasks", len(out.TaskSets), n, r)
	})
	if taskSet(t, e, greenID).RunningCount != 3 {
		t.Fatal("the green lost tasks when the blue was deleted")
	}
	_, err = e.ECS.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"), TaskSet: aws.String(blueID),
		Scale: &types.Scale{Unit: types.ScaleUnitPercent, Value: 10}})
	wantCode(t, err, "TaskSetNotFoundException", "The specified task set does not exist.")
}

// wantCode checks that err is ECS's error code, with a message containing msg.
func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want %s (%q), got %s: %s", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// TestTaskSetErrors: each refusal of the task set operations in ECS's code
// and words, changing nothing.
func TestTaskSetErrors(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	blueTG, _ := blueGreenFixture(t, e)
	if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("app"), DesiredCount: aws.Int32(0),
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("plain"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	ts, err := e.ECS.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"), TaskDefinition: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(ts.TaskSet.Id)
	// Nothing is left for the controller to write: the task set (of no
	// task) is steady, and so is the other service.
	flottatest.Eventually(t, 10*time.Second, "the task set and the other service steady", func() (bool, string) {
		out, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"plain"}})
		if err != nil {
			return false, err.Error()
		}
		ts := taskSet(t, e, id)
		return ts.StabilityStatus == types.StabilityStatusSteadyState && hasEvent(out.Services[0].Events, "(service plain) has reached a steady state."),
			string(ts.StabilityStatus)
	})
	lb := types.LoadBalancer{TargetGroupArn: aws.String(blueTG), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}

	snap := func() string {
		out, _ := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"app", "plain"}})
		b, _ := json.Marshal(out.Services)
		return string(b)
	}
	s0 := snap()
	before := e.Revision(t)
	for name, c := range map[string]struct {
		call       func() error
		code, text string
	}{
		"an unknown task set": {func() error {
			_, err := e.ECS.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"),
				TaskSet: aws.String("ecs-svc/1111111111111111111"), Scale: &types.Scale{Unit: types.ScaleUnitPercent, Value: 10}})
			return err
		}, "TaskSetNotFoundException", "The specified task set does not exist."},
		"a task set ARN of another service": {func() error {
			_, err := e.ECS.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"),
				TaskSet: aws.String(strings.Replace(aws.ToString(ts.TaskSet.TaskSetArn), "/app/", "/other/", 1))})
			return err
		}, "TaskSetNotFoundException", "does not exist"},
		"an unknown service": {func() error {
			_, err := e.ECS.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("nope"), TaskDefinition: aws.String("web")})
			return err
		}, "ServiceNotFoundException", "Service not found."},
		"a service of the ECS deployment controller": {func() error {
			_, err := e.ECS.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("plain"), TaskDefinition: aws.String("web")})
			return err
		}, "InvalidParameterException", "Amazon ECS only supports task set management on services configured to use external deployment controllers."},
		"describing a service of the ECS deployment controller": {func() error {
			_, err := e.ECS.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String("default"), Service: aws.String("plain")})
			return err
		}, "InvalidParameterException", "external deployment controllers"},
		"an unknown cluster": {func() error {
			_, err := e.ECS.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String("nope"), Service: aws.String("app")})
			return err
		}, "ClusterNotFoundException", "Cluster not found."},
		"a scale above 100": {func() error {
			_, err := e.ECS.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"), TaskSet: aws.String(id),
				Scale: &types.Scale{Unit: types.ScaleUnitPercent, Value: 150}})
			return err
		}, "InvalidParameterException", "scale.value must be between 0 and 100"},
		"two load balancers": {func() error {
			_, err := e.ECS.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"), TaskDefinition: aws.String("web"),
				LoadBalancers: []types.LoadBalancer{lb, lb}})
			return err
		}, "InvalidParameterException", "CreateTaskSet cannot have more than 1 load balancer"},
		"an unknown task definition": {func() error {
			_, err := e.ECS.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"), TaskDefinition: aws.String("nope")})
			return err
		}, "ClientException", "TaskDefinition not found."},
		"an EXTERNAL service with a task definition": {func() error {
			_, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("x"), TaskDefinition: aws.String("web"),
				DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}})
			return err
		}, "InvalidParameterException", "TaskDefinition must be blank."},
		"a CODE_DEPLOY service": {func() error {
			_, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("x"), TaskDefinition: aws.String("web"),
				DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeCodeDeploy}})
			return err
		}, "InvalidParameterException", "CODE_DEPLOY is not supported"},
		"a new task definition for an EXTERNAL service": {func() error {
			_, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("app"), TaskDefinition: aws.String("web")})
			return err
		}, "InvalidParameterException", "Unable to update task definition on services with a EXTERNAL deployment controller."},
	} {
		err := c.call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != c.code || !strings.Contains(ae.ErrorMessage(), c.text) {
			t.Errorf("%s: want %s (%q), got %v", name, c.code, c.text, err)
		}
	}
	if after := e.Revision(t); after != before {
		t.Fatalf("refused calls changed the store: revision %d -> %d\n%s\n%s", before, after, s0, snap())
	}

	// Six task sets are one too many (ECS's quota is five).
	for i := 0; i < 4; i++ {
		if _, err := e.ECS.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"), TaskDefinition: aws.String("web")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.ECS.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"), TaskDefinition: aws.String("web")})
	wantCode(t, err, "InvalidParameterException", "5 deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit.")

	// A deleted service's task sets cannot change.
	if _, err := e.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("app"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ECS.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("app"), TaskSet: aws.String(id),
		Scale: &types.Scale{Unit: types.ScaleUnitPercent, Value: 10}})
	wantCode(t, err, "ServiceNotActiveException", "Service was not ACTIVE.")
}

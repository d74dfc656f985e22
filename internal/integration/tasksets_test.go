package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestTaskSetsRunBehindTheirOwnTargetGroups: an EXTERNAL service's two task
// sets really run on Docker, each registered, healthy, in its own target
// group, so that each group's listener answers with its own version; once
// the blue task set is deleted its group is empty and its containers stop,
// while the green still answers.
func TestTaskSetsRunBehindTheirOwnTargetGroups(t *testing.T) {
	n := startNode(t, nodeOptions{server: flottatest.Options{LoadBalancers: true}})
	ctx := context.Background()
	lbs := n.env.ELB()
	lbOut, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("bg")})
	if err != nil {
		t.Fatal(err)
	}
	groups, ports := map[string]string{}, map[string]int{}
	for _, colour := range []string{"blue", "green"} {
		tg, err := lbs.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(colour), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
			TargetType: elbtypes.TargetTypeEnumInstance, HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(5),
			HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		groups[colour] = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		if _, err := lbs.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(groups[colour]),
			Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("2")}}}); err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[colour] = l.Addr().(*net.TCPAddr).Port
		l.Close()
		if _, err := lbs.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lbOut.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(int32(ports[colour])), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(groups[colour])}}}); err != nil {
			t.Fatal(err)
		}
		web := app("web", "demo-app", "--port", "8080", "--message", colour)
		web.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
		n.register("web-"+colour, types.NetworkModeBridge, web)
	}
	if _, err := n.env.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), DesiredCount: aws.Int32(2),
		HealthCheckGracePeriodSeconds: aws.Int32(30), DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}}); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, colour := range []string{"blue", "green"} {
		out, err := n.env.ECS.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Service: aws.String("web"), Cluster: aws.String("default"),
			TaskDefinition: aws.String("web-" + colour), Scale: &types.Scale{Unit: types.ScaleUnitPercent, Value: 100},
			LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(groups[colour]), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}}})
		if err != nil {
			t.Fatal(err)
		}
		ids[colour] = aws.ToString(out.TaskSet.Id)
	}
	healthy := func(colour string) (int, string) { return targetHealth(ctx, lbs, groups[colour]) }
	answers := func(colour string) string {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", ports[colour]))
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var a struct {
			Message string `json:"message"`
		}
		json.Unmarshal(body, &a)
		return a.Message
	}
	flottatest.Eventually(t, 3*time.Minute, "both task sets steady, two healthy targets each, each listener answering its colour", func() (bool, string) {
		out, err := n.env.ECS.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Service: aws.String("web"), Cluster: aws.String("default")})
		if err != nil {
			return false, err.Error()
		}
		ok := len(out.TaskSets) == 2
		var seen []string
		for _, ts := range out.TaskSets {
			ok = ok && ts.RunningCount == 2 && ts.StabilityStatus == types.StabilityStatusSteadyState
			seen = append(seen, fmt.Sprintf("%s running %d %s", aws.ToString(ts.Id), ts.RunningCount, ts.StabilityStatus))
		}
		for _, colour := range []string{"blue", "green"} {
			h, states := healthy(colour)
			got := answers(colour)
			ok = ok && h == 2 && strings.Count(states, "=") == 2 && got == colour
			seen = append(seen, fmt.Sprintf("%s: %s answers %q", colour, states, got))
		}
		return ok, strings.Join(seen, "; ")
	})

	if _, err := n.env.ECS.UpdateServicePrimaryTaskSet(ctx, &ecs.UpdateServicePrimaryTaskSetInput{Service: aws.String("web"), Cluster: aws.String("default"),
		PrimaryTaskSet: aws.String(ids["green"])}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.env.ECS.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Service: aws.String("web"), Cluster: aws.String("default"),
		TaskSet: aws.String(ids["blue"]), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 2*time.Minute, "the blue gone: no target, no container; the green answering", func() (bool, string) {
		_, states := healthy("blue")
		tasks, err := n.env.ECS.ListTasks(ctx, &ecs.ListTasksInput{StartedBy: aws.String(ids["blue"]), DesiredStatus: types.DesiredStatusStopped})
		if err != nil {
			return false, err.Error()
		}
		stopped := 0
		if len(tasks.TaskArns) > 0 {
			desc, err := n.env.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: tasks.TaskArns})
			if err != nil {
				return false, err.Error()
			}
			for _, tk := range desc.Tasks {
				if aws.ToString(tk.LastStatus) == "STOPPED" {
					stopped++
				}
			}
		}
		green := answers("green")
		return states == "" && stopped == 2 && green == "green", fmt.Sprintf("blue targets %q, %d blue tasks stopped, green answers %q", states, stopped, green)
	})
}

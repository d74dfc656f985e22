package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/flotta-dev/flotta/internal/agent"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// targetHealth counts a target group's healthy targets and lists every
// target's state ("id:port=state", sorted), or the error, for messages.
func targetHealth(ctx context.Context, lbs *elb.Client, tgArn string) (healthy int, states string) {
	out, err := lbs.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgArn)})
	if err != nil {
		return 0, err.Error()
	}
	var all []string
	for _, d := range out.TargetHealthDescriptions {
		all = append(all, fmt.Sprintf("%s:%d=%s", aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port), d.TargetHealth.State))
		if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			healthy++
		}
	}
	sort.Strings(all)
	return healthy, strings.Join(all, " ")
}

// load sends a steady stream of GETs and counts what came back.
type load struct {
	url      string
	client   *http.Client
	mu       sync.Mutex
	ok       int
	failures []failedRequest
	versions map[string]int
	inflight atomic.Int64
}

type failedRequest struct {
	at   time.Time
	what string
}

// run sends rate requests a second until ctx ends, at most 64 at once: when
// 64 are in flight (a slow machine: CI runs this under the race detector
// beside other packages) it waits for one to finish, so the rate drops
// rather than requests being counted that were never sent.
func (l *load) run(ctx context.Context, rate int) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			l.one()
		}()
	}
}

func (l *load) one() {
	l.inflight.Add(1)
	defer l.inflight.Add(-1)
	resp, err := l.client.Get(l.url)
	if err != nil {
		l.fail(err.Error())
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		l.fail(fmt.Sprintf("%d %v %.80s", resp.StatusCode, err, body))
		return
	}
	var answer struct {
		Message string `json:"message"`
	}
	json.Unmarshal(body, &answer)
	l.mu.Lock()
	l.ok++
	l.versions[answer.Message]++
	l.mu.Unlock()
}

func (l *load) fail(what string) {
	l.mu.Lock()
	l.failures = append(l.failures, failedRequest{at: time.Now(), what: what})
	l.mu.Unlock()
}

// snapshot is how many requests succeeded and failed so far.
func (l *load) snapshot() (ok, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok, len(l.failures)
}

func (l *load) failuresSince(from int) []failedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]failedRequest(nil), l.failures[from:]...)
}

// TestZeroDowntimeBehindTheLoadBalancer: on real Docker, a service of 4
// behind the load balancer under a steady 200 requests/s loses no request
// to a rolling update, a scale-in or a drained instance; a SIGKILLed
// container costs no more than the requests in flight when it died, and
// none once the load balancer has taken it out.
func TestZeroDowntimeBehindTheLoadBalancer(t *testing.T) {
	n := startNode(t, nodeOptions{server: flottatest.Options{LoadBalancers: true}})
	n.joinAgent(func(c *agent.Config) { c.CredentialsAddress = "off" }) // a second instance; one credentials endpoint per host
	ctx := context.Background()
	lbs := n.env.ELB()
	lbOut, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := lbs.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		TargetType: elbtypes.TargetTypeEnumInstance, HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(5),
		HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	tgArn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := lbs.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tgArn),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("3")}}}); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if _, err := lbs.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lbOut.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(int32(port)), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgArn)}}}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1", "v2"} {
		web := app("web", "demo-app", "--port", "8080", "--message", v)
		web.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
		n.register("web-"+v, types.NetworkModeBridge, web)
	}
	if _, err := n.env.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web-v1"),
		DesiredCount: aws.Int32(4), HealthCheckGracePeriodSeconds: aws.Int32(30),
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(tgArn), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}}}); err != nil {
		t.Fatal(err)
	}
	healthyTargets := func() (int, string) { return targetHealth(ctx, lbs, tgArn) }
	steady := func(what string, desired int, taskDef string) {
		t.Helper()
		flottatest.Eventually(t, 3*time.Minute, what, func() (bool, string) {
			out, err := n.env.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
			if err != nil || len(out.Services) != 1 {
				return false, fmt.Sprint(err)
			}
			s := out.Services[0]
			healthy, states := healthyTargets()
			done := len(s.Deployments) == 1 && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted &&
				int(s.RunningCount) == desired && strings.Contains(aws.ToString(s.TaskDefinition), taskDef) && healthy == desired &&
				strings.Count(states, "=") == desired
			return done, fmt.Sprintf("deployments %d (%s), running %d, targets %s", len(s.Deployments), s.Deployments[0].RolloutState, s.RunningCount, states)
		})
	}
	steady("4 healthy v1 targets", 4, "web-v1")

	traffic := &load{url: fmt.Sprintf("http://127.0.0.1:%d/", port), versions: map[string]int{},
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	lctx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() { traffic.run(lctx, 200); close(loadDone) }()
	defer func() { stopLoad(); <-loadDone }()
	phase := func(name string, do func()) {
		t.Helper()
		okBefore, failedBefore := traffic.snapshot()
		start := time.Now()
		do()
		ok, failed := traffic.snapshot()
		took := time.Since(start)
		t.Logf("%s: %d requests answered (%.0f/s), %d failed, in %v", name, ok-okBefore, float64(ok-okBefore)/took.Seconds(), failed-failedBefore, took.Round(time.Second))
		if failed != failedBefore {
			t.Fatalf("%s lost requests: %+v", name, traffic.failuresSince(failedBefore))
		}
	}
	time.Sleep(time.Second) // a moment of steady traffic first

	phase("rolling update v1 -> v2", func() {
		if _, err := n.env.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("web-v2")}); err != nil {
			t.Fatal(err)
		}
		steady("4 healthy v2 targets", 4, "web-v2")
	})
	traffic.mu.Lock()
	if traffic.versions["v2"] == 0 {
		t.Fatalf("no answer from v2: %v", traffic.versions)
	}
	traffic.mu.Unlock()

	phase("scale-in from 4 to 2", func() {
		if _, err := n.env.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
		steady("2 healthy targets", 2, "web-v2")
	})

	phase("draining an instance", func() {
		tasks, err := n.env.ECS.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("web"), DesiredStatus: types.DesiredStatusRunning})
		if err != nil || len(tasks.TaskArns) == 0 {
			t.Fatalf("tasks: %+v %v", tasks, err)
		}
		desc, err := n.env.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: tasks.TaskArns[:1]})
		if err != nil {
			t.Fatal(err)
		}
		drained := aws.ToString(desc.Tasks[0].ContainerInstanceArn)
		if _, err := n.env.ECS.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{ContainerInstances: []string{drained},
			Status: types.ContainerInstanceStatusDraining}); err != nil {
			t.Fatal(err)
		}
		flottatest.Eventually(t, 3*time.Minute, "no task left on the drained instance, 2 healthy targets", func() (bool, string) {
			tasks, err := n.env.ECS.ListTasks(ctx, &ecs.ListTasksInput{ContainerInstance: aws.String(drained)})
			healthy, states := healthyTargets()
			return err == nil && len(tasks.TaskArns) == 0 && healthy == 2 && strings.Count(states, "=") == 2, fmt.Sprint(tasks, err, states)
		})
	})

	// SIGKILL one container: what was in flight to it may fail, nothing
	// after the load balancer took it out.
	tasks, err := n.env.ECS.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("web"), DesiredStatus: types.DesiredStatusRunning})
	if err != nil || len(tasks.TaskArns) == 0 {
		t.Fatalf("tasks: %+v %v", tasks, err)
	}
	desc, err := n.env.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: tasks.TaskArns[:1]})
	if err != nil {
		t.Fatal(err)
	}
	victim := container(&desc.Tasks[0], "web")
	victimTarget := fmt.Sprintf(":%d=", aws.ToInt32(victim.NetworkBindings[0].HostPort))
	_, failedBefore := traffic.snapshot()
	inflight := traffic.inflight.Load()
	killedAt := time.Now()
	if out, err := exec.Command("docker", "kill", "-s", "KILL", aws.ToString(victim.RuntimeId)).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v\n%s", err, out)
	}
	var outAt time.Time
	flottatest.Eventually(t, time.Minute, "the killed container's target taken out of service", func() (bool, string) {
		_, states := healthyTargets()
		for _, s := range strings.Fields(states) {
			if strings.Contains(s, victimTarget) && strings.HasSuffix(s, "=healthy") {
				return false, states
			}
		}
		outAt = time.Now()
		return true, states
	})
	steady("2 healthy targets after the kill", 2, "web-v2")
	failed := traffic.failuresSince(failedBefore)
	after := 0
	for _, f := range failed {
		if f.at.After(outAt) {
			after++
		}
	}
	t.Logf("SIGKILL: %d requests failed (%d were in flight at the kill), %d after the target was out of service %v after the kill",
		len(failed), inflight, after, outAt.Sub(killedAt).Round(time.Millisecond))
	if int64(len(failed)) > inflight || after > 0 {
		t.Fatalf("a killed container cost more than its requests in flight: %+v", failed)
	}
	traffic.mu.Lock()
	t.Logf("in all: %d requests answered, %d failed; versions %v", traffic.ok, len(traffic.failures), traffic.versions)
	traffic.mu.Unlock()
}

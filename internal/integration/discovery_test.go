package integration

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// dig asks Flotta's DNS server with Debian's dig and returns the answer's
// records in +short form, sorted.
func dig(t testing.TB, addr, name, qtype string) []string {
	t.Helper()
	lines, err := digAnswer(addr, name, qtype)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// digAnswer is dig for goroutines other than the test's: it returns the
// failure instead of ending the test.
func digAnswer(addr, name, qtype string) ([]string, error) {
	host, port, _ := strings.Cut(addr, ":")
	out, err := exec.Command("dig", "@"+host, "-p", port, "+short", "+tries=1", "+time=2", name, qtype).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("dig %s %s: %v\n%s", name, qtype, err, out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return lines, nil
}

func requireDig(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("dig"); err != nil {
		t.Fatalf("dig (Debian's dnsutils) is needed: scripts/install-aws-clients.sh installs it: %v", err)
	}
}

// discoveryService makes a private DNS namespace and a Cloud Map service
// in it with the given records, through the SDK, and returns the
// service's ARN.
func discoveryService(t *testing.T, env *flottatest.Env, namespace, name string, records ...sdtypes.DnsRecord) string {
	t.Helper()
	ctx := context.Background()
	sd := env.SD()
	op, err := sd.CreatePrivateDnsNamespace(ctx, &servicediscovery.CreatePrivateDnsNamespaceInput{Name: aws.String(namespace), Vpc: aws.String("vpc-flotta")})
	if err != nil {
		t.Fatal(err)
	}
	var nsID string
	flottatest.Eventually(t, 10*time.Second, "the namespace to be created", func() (bool, string) {
		out, err := sd.GetOperation(ctx, &servicediscovery.GetOperationInput{OperationId: op.OperationId})
		if err != nil {
			t.Fatal(err)
		}
		nsID = out.Operation.Targets["NAMESPACE"]
		return out.Operation.Status == sdtypes.OperationStatusSuccess, string(out.Operation.Status)
	})
	svc, err := sd.CreateService(ctx, &servicediscovery.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(nsID),
		DnsConfig: &sdtypes.DnsConfig{RoutingPolicy: sdtypes.RoutingPolicyMultivalue, DnsRecords: records}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(svc.Service.Arn)
}

// taskIPs maps the awsvpc address of each task of a service to its ARN,
// for the tasks in the given status (an address Docker gave out again
// maps to one of its tasks: see addressedTasks for all of them).
func taskIPs(t testing.TB, env *flottatest.Env, service string, status types.DesiredStatus) map[string]*types.Task {
	t.Helper()
	out := map[string]*types.Task{}
	for _, at := range addressedTasks(t, env, service, status) {
		out[at.ip] = at.task
	}
	return out
}

// addressedTask is a task and its awsvpc address.
type addressedTask struct {
	ip   string
	task *types.Task
}

// addressedTasks are a service's tasks in the given status with their
// awsvpc addresses; two may share one, given out again after a stop.
func addressedTasks(t testing.TB, env *flottatest.Env, service string, status types.DesiredStatus) []addressedTask {
	t.Helper()
	ctx := context.Background()
	list, err := env.ECS.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String(service), DesiredStatus: status})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.TaskArns) == 0 {
		return nil
	}
	desc, err := env.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: list.TaskArns})
	if err != nil {
		t.Fatal(err)
	}
	var out []addressedTask
	for i := range desc.Tasks {
		task := &desc.Tasks[i]
		for _, ni := range container(task, "web").NetworkInterfaces {
			if ip := aws.ToString(ni.PrivateIpv4Address); ip != "" {
				out = append(out, addressedTask{ip, task})
			}
		}
	}
	return out
}

// healthyIPs are the addresses of a service's running, healthy tasks.
func healthyIPs(t testing.TB, env *flottatest.Env, service string) []string {
	var ips []string
	for ip, task := range taskIPs(t, env, service, types.DesiredStatusRunning) {
		if aws.ToString(task.LastStatus) == "RUNNING" && task.HealthStatus == types.HealthStatusHealthy {
			ips = append(ips, ip)
		}
	}
	sort.Strings(ips)
	return ips
}

// askedAnswer is one answer of the DNS server and when it was asked for.
type askedAnswer struct {
	asked time.Time
	ips   []string
}

// TestServiceDiscoveryOnDocker runs a service of three awsvpc tasks with a
// Cloud Map registry on the Docker engine and asks Flotta's DNS server
// with dig: it answers exactly the healthy tasks, drops a task killed
// behind Flotta's back within 2 s of Flotta seeing it stop, and never
// answers with the address of a stopped task during a rolling update.
func TestServiceDiscoveryOnDocker(t *testing.T) {
	requireDig(t)
	n := startNode(t, nodeOptions{server: flottatest.Options{DNS: true}})
	ctx := context.Background()
	dnsAddr := n.env.Server.DNSAddr()
	registry := discoveryService(t, n.env, "flotta.test", "web", sdtypes.DnsRecord{Type: sdtypes.RecordTypeA, TTL: aws.Int64(0)})

	web := app("web", "demo-app", "--port", "8080")
	web.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	web.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "/flotta", "demo-app", "--check", "--port", "8080"},
		Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(1)}
	n.register("disc", types.NetworkModeAwsvpc, web)
	if _, err := n.env.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("disc"),
		DesiredCount: aws.Int32(3), ServiceRegistries: []types.ServiceRegistry{{RegistryArn: aws.String(registry)}},
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(200)}}); err != nil {
		t.Fatal(err)
	}

	// Exactly the three healthy tasks.
	var want []string
	flottatest.Eventually(t, 60*time.Second, "dig to answer the three healthy tasks", func() (bool, string) {
		want = healthyIPs(t, n.env, "web")
		got := dig(t, dnsAddr, "web.flotta.test", "A")
		return len(want) == 3 && slices.Equal(got, want), fmt.Sprintf("dig %v, healthy tasks %v", got, want)
	})
	if got := dig(t, dnsAddr, "WEB.Flotta.Test", "A"); !slices.Equal(got, want) {
		t.Fatalf("a query in other case answers %v, want %v", got, want)
	}

	// A task killed behind Flotta's back leaves the answer within 2 s of
	// Flotta seeing it stopped.
	victimIP := want[0]
	victim := taskIPs(t, n.env, "web", types.DesiredStatusRunning)[victimIP]
	if err := n.rt.StopContainer(ctx, aws.ToString(container(victim, "web").RuntimeId), 0); err != nil {
		t.Fatal(err)
	}
	n.wait(aws.ToString(victim.TaskArn), "STOPPED", 30*time.Second, is("STOPPED"))
	seen := time.Now()
	var gone time.Duration
	flottatest.Eventually(t, 5*time.Second, "the killed task to leave the answer", func() (bool, string) {
		got := dig(t, dnsAddr, "web.flotta.test", "A")
		gone = time.Since(seen)
		return !slices.Contains(got, victimIP), fmt.Sprint(got)
	})
	t.Logf("the killed task left the answer %v after Flotta saw it stopped", gone.Round(time.Millisecond))
	if gone > 2*time.Second {
		t.Fatalf("the killed task was answered for %v after Flotta saw it stopped (at most 2 s)", gone)
	}
	flottatest.Eventually(t, 60*time.Second, "the service to be whole again", func() (bool, string) {
		want = healthyIPs(t, n.env, "web")
		got := dig(t, dnsAddr, "web.flotta.test", "A")
		return len(want) == 3 && slices.Equal(got, want), fmt.Sprintf("dig %v, healthy tasks %v", got, want)
	})

	// A rolling update: ask all along, then check every answer against
	// when each task's container really stopped (Docker's clock).
	var mu sync.Mutex
	var answers []askedAnswer
	var digErr error
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			asked := time.Now()
			got, err := digAnswer(dnsAddr, "web.flotta.test", "A")
			mu.Lock()
			if err != nil {
				digErr = err
			} else {
				answers = append(answers, askedAnswer{asked: asked, ips: got})
			}
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	stopAsking := func() {
		select {
		case <-stop:
		default:
			close(stop)
			<-done
		}
	}
	defer stopAsking() // also when the test fails before the end
	if _, err := n.env.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), ForceNewDeployment: true}); err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 180*time.Second, "the rolling update to finish", func() (bool, string) {
		out, err := n.env.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
		if err != nil {
			t.Fatal(err)
		}
		s := out.Services[0]
		seen := fmt.Sprintf("%d running;", s.RunningCount)
		for _, d := range s.Deployments {
			seen += fmt.Sprintf(" deployment %s %s %s desired %d running %d pending %d failed %d;", aws.ToString(d.Id), aws.ToString(d.Status), d.RolloutState,
				d.DesiredCount, d.RunningCount, d.PendingCount, d.FailedTasks)
		}
		for i, e := range s.Events {
			if i == 8 {
				break
			}
			seen += " event: " + aws.ToString(e.Message) + ";"
		}
		for ip, task := range taskIPs(t, n.env, "web", types.DesiredStatusRunning) {
			seen += fmt.Sprintf(" task %s: %s;", ip, show(task))
		}
		return len(s.Deployments) == 1 && s.RunningCount == 3 && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted, seen
	})
	flottatest.Eventually(t, 60*time.Second, "dig to answer the new tasks", func() (bool, string) {
		want = healthyIPs(t, n.env, "web")
		got := dig(t, dnsAddr, "web.flotta.test", "A")
		return len(want) == 3 && slices.Equal(got, want), fmt.Sprintf("dig %v, healthy tasks %v", got, want)
	})
	stopAsking()
	if digErr != nil {
		t.Fatalf("dig failed during the update: %v", digErr)
	}

	// Every address answered must belong, when asked, to a task whose
	// container had not stopped.
	type life struct{ started, finished time.Time }
	lives := map[string][]life{}
	for _, status := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
		for _, at := range addressedTasks(t, n.env, "web", status) {
			ip, task := at.ip, at.task
			s, err := n.rt.InspectContainer(ctx, aws.ToString(container(task, "web").RuntimeId))
			if err != nil {
				t.Fatal(err)
			}
			lives[ip] = append(lives[ip], life{s.StartedAt, s.FinishedAt})
		}
	}
	stale := 0
	mu.Lock()
	defer mu.Unlock()
	for _, a := range answers {
		for _, ip := range a.ips {
			alive := slices.ContainsFunc(lives[ip], func(l life) bool {
				return l.finished.IsZero() || l.finished.Year() < 2000 || l.finished.After(a.asked)
			})
			if !alive {
				stale++
				var seen []string
				for _, l := range lives[ip] {
					seen = append(seen, l.started.Format(time.StampMilli)+" to "+l.finished.Format(time.StampMilli))
				}
				t.Errorf("at %s dig answered %s, whose tasks had all stopped (lives: %s)", a.asked.Format(time.StampMilli), ip, strings.Join(seen, ", "))
			}
		}
	}
	t.Logf("%d answers during the rolling update, %d naming a stopped task", len(answers), stale)
	if len(answers) < 20 {
		t.Fatalf("only %d answers during the update: too few to tell", len(answers))
	}
}

// TestServiceDiscoverySRVOnDocker: bridge-mode tasks share their host's
// address, so their registry is an SRV record: dig answers each healthy
// task's host port, and the SRV target's A record is the host's address.
func TestServiceDiscoverySRVOnDocker(t *testing.T) {
	requireDig(t)
	n := startNode(t, nodeOptions{server: flottatest.Options{DNS: true}})
	ctx := context.Background()
	dnsAddr := n.env.Server.DNSAddr()
	registry := discoveryService(t, n.env, "bridge.test", "api", sdtypes.DnsRecord{Type: sdtypes.RecordTypeSrv, TTL: aws.Int64(0)})

	web := app("web", "demo-app", "--port", "8080")
	web.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0)}}
	web.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "/flotta", "demo-app", "--check", "--port", "8080"},
		Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(1)}
	n.register("srv", types.NetworkModeBridge, web)
	if _, err := n.env.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("api"), TaskDefinition: aws.String("srv"),
		DesiredCount: aws.Int32(2), ServiceRegistries: []types.ServiceRegistry{{RegistryArn: aws.String(registry),
			ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}}}); err != nil {
		t.Fatal(err)
	}
	inst, err := n.env.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{n.agent.ContainerInstanceArn()}})
	if err != nil || len(inst.ContainerInstances) != 1 {
		t.Fatalf("describe the instance: %v", err)
	}
	host := ""
	for _, a := range inst.ContainerInstances[0].Attributes {
		if aws.ToString(a.Name) == "com.flotta.host-address" {
			host = aws.ToString(a.Value)
		}
	}
	if host == "" {
		t.Fatal("the instance has no host address")
	}
	// want: "1 1 HOSTPORT TASKID.api.bridge.test." for each healthy task.
	var want []string
	flottatest.Eventually(t, 60*time.Second, "dig to answer both healthy tasks' host ports", func() (bool, string) {
		list, err := n.env.ECS.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("api"), DesiredStatus: types.DesiredStatusRunning})
		if err != nil {
			t.Fatal(err)
		}
		want = nil
		if len(list.TaskArns) > 0 {
			desc, err := n.env.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: list.TaskArns})
			if err != nil {
				t.Fatal(err)
			}
			for i := range desc.Tasks {
				task := &desc.Tasks[i]
				if task.HealthStatus != types.HealthStatusHealthy {
					continue
				}
				for _, b := range container(task, "web").NetworkBindings {
					if aws.ToInt32(b.ContainerPort) == 8080 {
						arn := aws.ToString(task.TaskArn)
						want = append(want, fmt.Sprintf("1 1 %d %s.api.bridge.test.", aws.ToInt32(b.HostPort), arn[strings.LastIndex(arn, "/")+1:]))
					}
				}
			}
		}
		sort.Strings(want)
		got := dig(t, dnsAddr, "api.bridge.test", "SRV")
		return len(want) == 2 && slices.Equal(got, want), fmt.Sprintf("dig %v, healthy tasks %v", got, want)
	})
	target := strings.Fields(want[0])[3]
	if got := dig(t, dnsAddr, target, "A"); !slices.Equal(got, []string{host}) {
		t.Fatalf("the SRV target %s answers %v, want the host's address %s", target, got, host)
	}
}

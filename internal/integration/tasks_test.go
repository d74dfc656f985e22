package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func httpGet(t *testing.T, url string) map[string]any {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("GET %s: %v", url, err)
			}
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTaskRunsAndItsHostPortAnswers(t *testing.T) {
	n := startNode(t)
	web := app("web", "demo-app", "--port", "8080")
	web.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	web.Environment = []types.KeyValuePair{{Name: aws.String("GREETING"), Value: aws.String("hello from a task")}}
	n.register("web", types.NetworkModeBridge, web)
	arn := n.run("web")
	task := n.wait(arn, "RUNNING", 30*time.Second, is("RUNNING"))
	b := container(task, "web").NetworkBindings
	if len(b) != 1 || aws.ToInt32(b[0].HostPort) == 0 || aws.ToInt32(b[0].ContainerPort) != 8080 {
		t.Fatalf("network bindings %+v", b)
	}
	body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", aws.ToInt32(b[0].HostPort)))
	if body["message"] != "hello from a task" {
		t.Fatalf("the task answered %v", body)
	}
	if id := aws.ToString(container(task, "web").RuntimeId); len(id) != 64 {
		t.Fatalf("runtimeId %q is not a Docker container id", id)
	}
	if _, err := n.env.ECS.StopTask(context.Background(), &ecs.StopTaskInput{Task: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	task = n.wait(arn, "STOPPED", 30*time.Second, is("STOPPED"))
	if task.StopCode != types.TaskStopCodeUserInitiated || aws.ToInt32(container(task, "web").ExitCode) != 0 {
		t.Fatalf("after StopTask: %s (the demo app exits 0 on SIGTERM)", show(task))
	}
}

func TestExitCodesAndEssentialContainers(t *testing.T) {
	n := startNode(t)
	main := app("main", "demo-app", "--no-server", "--exit-after", "3s", "--exit-code", "0")
	helper := app("helper", "demo-app", "--no-server", "--exit-after", "500ms", "--exit-code", "5")
	helper.Essential = aws.Bool(false)
	n.register("batch", types.NetworkModeBridge, main, helper)
	arn := n.run("batch")
	// The non-essential helper exits 5; the task goes on running.
	task := n.wait(arn, "helper STOPPED", 30*time.Second, func(t *types.Task) bool {
		return aws.ToString(container(t, "helper").LastStatus) == "STOPPED"
	})
	if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToInt32(container(task, "helper").ExitCode) != 5 {
		t.Fatalf("after the non-essential exit: %s", show(task))
	}
	// The essential main exits 0; the task stops.
	task = n.wait(arn, "STOPPED", 30*time.Second, is("STOPPED"))
	if task.StopCode != types.TaskStopCodeEssentialContainerExited || container(task, "main").ExitCode == nil || aws.ToInt32(container(task, "main").ExitCode) != 0 {
		t.Fatalf("after the essential exit: %s", show(task))
	}

	n.register("failing", types.NetworkModeBridge, app("main", "demo-app", "--no-server", "--exit-after", "200ms", "--exit-code", "42"))
	task = n.wait(n.run("failing"), "STOPPED", 30*time.Second, is("STOPPED"))
	if aws.ToInt32(container(task, "main").ExitCode) != 42 || task.StopCode != types.TaskStopCodeEssentialContainerExited {
		t.Fatalf("exit code 42: %s", show(task))
	}
}

func TestDependsOnOrderOnDocker(t *testing.T) {
	n := startNode(t)
	migrate := app("migrate", "demo-app", "--no-server", "--exit-after", "1s", "--exit-code", "0")
	migrate.Essential = aws.Bool(false)
	web := app("web", "demo-app")
	web.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("migrate"), Condition: types.ContainerConditionSuccess}}
	n.register("ordered", types.NetworkModeBridge, web, migrate)
	arn := n.run("ordered")
	task := n.wait(arn, "RUNNING", 30*time.Second, is("RUNNING"))
	ctx := context.Background()
	m, err := n.rt.InspectContainer(ctx, aws.ToString(container(task, "migrate").RuntimeId))
	if err != nil {
		t.Fatal(err)
	}
	w, err := n.rt.InspectContainer(ctx, aws.ToString(container(task, "web").RuntimeId))
	if err != nil {
		t.Fatal(err)
	}
	if !w.StartedAt.After(m.FinishedAt) || m.ExitCode != 0 {
		t.Fatalf("web started at %s, before migrate finished at %s (exit %d)", w.StartedAt, m.FinishedAt, m.ExitCode)
	}

	// A SUCCESS dependency that fails stops the task before its dependent starts.
	bad := app("migrate", "demo-app", "--no-server", "--exit-after", "300ms", "--exit-code", "1")
	bad.Essential = aws.Bool(false)
	n.register("blocked", types.NetworkModeBridge, web, bad)
	task = n.wait(n.run("blocked"), "STOPPED", 30*time.Second, is("STOPPED"))
	if task.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.Contains(aws.ToString(task.StoppedReason), "exited with 1") ||
		aws.ToString(container(task, "web").RuntimeId) == "" {
		t.Fatalf("failed dependency: %s", show(task))
	}
	if s, _ := n.rt.InspectContainer(ctx, aws.ToString(container(task, "web").RuntimeId)); !s.StartedAt.IsZero() && s.StartedAt.Year() > 1 {
		t.Fatalf("web was started although its dependency failed")
	}
}

func TestHealthCheckTurnsUnhealthy(t *testing.T) {
	n := startNode(t)
	web := app("web", "demo-app", "--unhealthy-after", "6s")
	web.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "/flotta", "demo-app", "--check"},
		Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(1)}
	n.register("checked", types.NetworkModeBridge, web)
	arn := n.run("checked")
	n.wait(arn, "HEALTHY", 30*time.Second, func(t *types.Task) bool { return t.HealthStatus == types.HealthStatusHealthy })
	task := n.wait(arn, "UNHEALTHY", 40*time.Second, func(t *types.Task) bool { return t.HealthStatus == types.HealthStatusUnhealthy })
	if container(task, "web").HealthStatus != types.HealthStatusUnhealthy || aws.ToString(task.LastStatus) != "RUNNING" {
		t.Fatalf("%s", show(task))
	}
}

func TestStopTimeoutKillsAContainerThatIgnoresSIGTERM(t *testing.T) {
	n := startNode(t)
	stubborn := app("stubborn", "demo-app", "--ignore-sigterm")
	stubborn.StopTimeout = aws.Int32(2)
	// A SIGTERM that comes before the app has set its handler kills it (as
	// PID 1, a Go program then exits 2): wait until it answers its health
	// check, which it does only after setting the handler.
	stubborn.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "/flotta", "demo-app", "--check"},
		Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(1)}
	n.register("stubborn", types.NetworkModeBridge, stubborn)
	arn := n.run("stubborn")
	n.wait(arn, "HEALTHY", 30*time.Second, func(t *types.Task) bool { return t.HealthStatus == types.HealthStatusHealthy })
	start := time.Now()
	if _, err := n.env.ECS.StopTask(context.Background(), &ecs.StopTaskInput{Task: aws.String(arn), Reason: aws.String("test")}); err != nil {
		t.Fatal(err)
	}
	task := n.wait(arn, "STOPPED", 30*time.Second, is("STOPPED"))
	took := time.Since(start)
	if code := aws.ToInt32(container(task, "stubborn").ExitCode); code != 137 {
		t.Fatalf("exit code %d, want 137 (SIGKILL)", code)
	}
	if took < 2*time.Second {
		t.Fatalf("stopped after %s, before its stopTimeout of 2s", took)
	}
	if aws.ToString(task.StoppedReason) != "test" || task.StopCode != types.TaskStopCodeUserInitiated {
		t.Fatalf("%s", show(task))
	}
}

func TestAwsvpcTaskGetsItsOwnAddress(t *testing.T) {
	n := startNode(t)
	web := app("web", "demo-app", "--port", "8080")
	web.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	side := app("side", "demo-app", "--port", "9090")
	n.register("vpc", types.NetworkModeAwsvpc, web, side)
	arn := n.run("vpc")
	task := n.wait(arn, "RUNNING", 30*time.Second, is("RUNNING"))
	ifaces := container(task, "web").NetworkInterfaces
	if len(ifaces) != 1 || net.ParseIP(aws.ToString(ifaces[0].PrivateIpv4Address)) == nil {
		t.Fatalf("network interfaces %+v", ifaces)
	}
	ip := aws.ToString(ifaces[0].PrivateIpv4Address)
	if len(task.Attachments) != 1 || aws.ToString(task.Attachments[0].Status) != "ATTACHED" {
		t.Fatalf("attachments %+v", task.Attachments)
	}
	// Both containers share the task's address.
	if httpGet(t, "http://"+ip+":8080/")["message"] == nil || httpGet(t, "http://"+ip+":9090/")["message"] == nil {
		t.Fatal("the task's containers do not answer on its address")
	}
	other := n.wait(n.run("vpc"), "RUNNING", 30*time.Second, is("RUNNING"))
	if ip2 := aws.ToString(container(other, "web").NetworkInterfaces[0].PrivateIpv4Address); ip2 == ip {
		t.Fatalf("two awsvpc tasks share the address %s", ip)
	}
}

func TestHostAndNoneNetworkModes(t *testing.T) {
	n := startNode(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	host := app("web", "demo-app", "--port", fmt.Sprint(port))
	host.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(int32(port))}}
	n.register("hostnet", types.NetworkModeHost, host)
	arn := n.run("hostnet")
	n.wait(arn, "RUNNING", 30*time.Second, is("RUNNING"))
	if httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port))["message"] == nil {
		t.Fatal("a host-network task does not answer on the host's port")
	}
	// The host port is now taken: a second copy cannot be placed.
	out, err := n.env.ECS.RunTask(context.Background(), &ecs.RunTaskInput{TaskDefinition: aws.String("hostnet")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "RESOURCE:PORTS" {
		t.Fatalf("second host-port task: %d tasks, failures %+v", len(out.Tasks), out.Failures)
	}
	n.register("isolated", types.NetworkModeNone, app("job", "demo-app", "--no-server"))
	n.wait(n.run("isolated"), "RUNNING", 30*time.Second, is("RUNNING"))
}

func TestMissingImageFailsTheTaskCleanly(t *testing.T) {
	n := startNode(t)
	n.register("ghost", types.NetworkModeBridge, types.ContainerDefinition{Name: aws.String("app"),
		Image: aws.String("registry.invalid/flotta/none:1"), Memory: aws.Int32(64)})
	task := n.wait(n.run("ghost"), "STOPPED", 90*time.Second, is("STOPPED"))
	c := container(task, "app")
	if task.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(aws.ToString(task.StoppedReason), "CannotPullContainerError") ||
		!strings.Contains(aws.ToString(c.Reason), "registry.invalid") || aws.ToString(c.RuntimeId) != "" {
		t.Fatalf("%s", show(task))
	}
	if task.PullStartedAt == nil {
		t.Fatal("pullStartedAt is not set")
	}
}

func TestPrivilegedNeedsAnAgentThatAllowsIt(t *testing.T) {
	n := startNode(t)
	p := app("root", "demo-app", "--no-server")
	p.Privileged = aws.Bool(true)
	n.register("privileged", types.NetworkModeBridge, p)
	out, err := n.env.ECS.RunTask(context.Background(), &ecs.RunTaskInput{TaskDefinition: aws.String("privileged")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "ATTRIBUTE" {
		t.Fatalf("privileged task on an agent without --allow-privileged: %d tasks, failures %+v", len(out.Tasks), out.Failures)
	}
}

// TestTheDockerSocketNeedsAnAgentThatAllowsHostAccess: a task that mounts
// the engine's socket (root on the node) is placed nowhere unless an agent
// allows host access.
func TestTheDockerSocketNeedsAnAgentThatAllowsHostAccess(t *testing.T) {
	n := startNode(t)
	c := app("escape", "demo-app", "--no-server")
	c.MountPoints = []types.MountPoint{{SourceVolume: aws.String("docker"), ContainerPath: aws.String("/var/run/docker.sock")}}
	if _, err := n.env.ECS.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("escape"), ContainerDefinitions: []types.ContainerDefinition{c},
		Volumes: []types.Volume{{Name: aws.String("docker"), Host: &types.HostVolumeProperties{SourcePath: aws.String("/var/run/docker.sock")}}}}); err != nil {
		t.Fatal(err)
	}
	out, err := n.env.ECS.RunTask(context.Background(), &ecs.RunTaskInput{TaskDefinition: aws.String("escape")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "ATTRIBUTE" {
		t.Fatalf("a Docker socket mount on an agent without --allow-host-access: %d tasks, failures %+v", len(out.Tasks), out.Failures)
	}
}

// TestHostVolumeSourcePathIsCreated: a host volume whose sourcePath does not
// exist yet is created, as ECS documents ("the Docker daemon creates it"),
// and the container sees what the host puts there.
func TestHostVolumeSourcePathIsCreated(t *testing.T) {
	n := startNode(t, nodeOptions{allowHostAccess: true})
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("flotta-it-hostvol-%d", time.Now().UnixNano()), "nested", "data")
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(filepath.Dir(dir))) })
	web := app("web", "demo-app", "--port", "8080")
	web.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	web.MountPoints = []types.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/data"), ReadOnly: aws.Bool(true)}}
	if _, err := n.env.ECS.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("hostvol"), ContainerDefinitions: []types.ContainerDefinition{web},
		Volumes: []types.Volume{{Name: aws.String("data"), Host: &types.HostVolumeProperties{SourcePath: aws.String(dir)}}}}); err != nil {
		t.Fatal(err)
	}
	task := n.wait(n.run("hostvol"), "RUNNING", 30*time.Second, is("RUNNING"))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("the host volume's sourcePath was not created: %v", err)
	}
	s, err := n.rt.InspectContainer(context.Background(), aws.ToString(container(task, "web").RuntimeId))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Running {
		t.Fatalf("the container is not running: %+v", s)
	}
}

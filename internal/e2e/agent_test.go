package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/runtime"
	"github.com/flotta-dev/flotta/internal/runtime/docker"
)

func requireDocker(t *testing.T) *docker.Driver {
	t.Helper()
	rt, err := docker.New(context.Background())
	if err != nil {
		if os.Getenv("FLOTTA_REQUIRE_DOCKER") == "1" {
			t.Fatalf("Docker is required (FLOTTA_REQUIRE_DOCKER=1): %v", err)
		}
		t.Skipf("no Docker engine: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// cli runs a flotta client verb against a server's data dir.
func cli(t *testing.T, dataDir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(flottaBin, append(args, "--data-dir", dataDir)...)
	cmd.Env = cleanAWSEnv()
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("flotta %s: %v\n%s%s", strings.Join(args, " "), err, out, msg)
	}
	return strings.TrimSpace(string(out))
}

// agentProc is a `flotta agent` child process.
type agentProc struct {
	cmd     *exec.Cmd
	dataDir string
	arn     string
}

var agentReadyRE = regexp.MustCompile(`agent ready"? instance=(\S+)`)

func startAgent(t *testing.T, srv *process, dataDir, token string, extra ...string) *agentProc {
	t.Helper()
	args := append([]string{"agent", "--server", srv.endpoint, "--data-dir", dataDir, "--cleanup-delay", "1h"}, extra...)
	if token != "" {
		args = append(args, "--join-token", token)
	}
	cmd, arn := startChild(t, "agent", agentReadyRE, args...)
	return &agentProc{cmd: cmd, dataDir: dataDir, arn: arn}
}

func (p *agentProc) kill() { killChild(p.cmd) }

func instanceID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// removeAgentContainers, when the test ends, stops the agents first (a
// running agent would start its tasks again) and then removes what their
// instances ran. Cleanups run last-registered first, so without the kill
// here the removal would come before the agents' own cleanup stops them.
func removeAgentContainers(t *testing.T, rt *docker.Driver, agents ...*agentProc) {
	t.Cleanup(func() {
		for _, a := range agents {
			a.kill()
		}
		for _, a := range agents {
			removeContainersOf(rt, a.arn)
		}
	})
}

// removeInstanceContainers removes what instances ran, when the test ends.
func removeInstanceContainers(t *testing.T, rt *docker.Driver, arns ...string) {
	t.Cleanup(func() {
		for _, arn := range arns {
			removeContainersOf(rt, arn)
		}
	})
}

func removeContainersOf(rt *docker.Driver, arn string) {
	list, _ := rt.ListContainers(context.Background(), map[string]string{runtime.LabelInstance: instanceID(arn)})
	for _, c := range list {
		rt.RemoveContainer(context.Background(), c.ID)
	}
}

func waitFor(t *testing.T, client *ecs.Client, arns []string, what string, timeout time.Duration, cond func(types.Task) bool) []types.Task {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last []types.Task
	for time.Now().Before(deadline) {
		out, err := client.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Tasks: arns})
		if err == nil {
			last = out.Tasks
			all := len(out.Tasks) == len(arns)
			for _, task := range out.Tasks {
				if !cond(task) {
					all = false
				}
			}
			if all {
				return out.Tasks
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	var states []string
	for _, task := range last {
		states = append(states, fmt.Sprintf("%s:%s(%s)", instanceID(aws.ToString(task.TaskArn))[:8], aws.ToString(task.LastStatus), aws.ToString(task.StoppedReason)))
	}
	t.Fatalf("tasks never became %s within %s: %v", what, timeout, states)
	return nil
}

func runTasks(t *testing.T, client *ecs.Client, family string, count int) []string {
	t.Helper()
	out, err := client.RunTask(context.Background(), &ecs.RunTaskInput{TaskDefinition: aws.String(family), Count: aws.Int32(int32(count))})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != count {
		t.Fatalf("placed %d of %d; failures %+v", len(out.Tasks), count, out.Failures)
	}
	var arns []string
	for _, task := range out.Tasks {
		arns = append(arns, aws.ToString(task.TaskArn))
	}
	return arns
}

func registerTD(t *testing.T, client *ecs.Client, family string, containers ...types.ContainerDefinition) {
	t.Helper()
	if _, err := client.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: containers}); err != nil {
		t.Fatal(err)
	}
}

func demo(name, image string, args ...string) types.ContainerDefinition {
	return types.ContainerDefinition{Name: aws.String(name), Image: aws.String(image), Memory: aws.Int32(32), Command: append([]string{"demo-app"}, args...)}
}

// workloadImage is the pause image the agent made from the test's flotta
// binary; it holds all of flotta, so `demo-app` commands make it the workload.
func workloadImage(t *testing.T, rt *docker.Driver) string {
	t.Helper()
	sum := fileSum(t, flottaBin)
	return "flotta/pause:" + sum[:12]
}

func running(task types.Task) bool { return aws.ToString(task.LastStatus) == "RUNNING" }

// countContainers counts the engine's containers of a task by container name.
func countContainers(t *testing.T, rt *docker.Driver, taskArn string) map[string]int {
	list, err := rt.ListContainers(context.Background(), map[string]string{runtime.LabelTask: taskArn})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, c := range list {
		out[c.Labels[runtime.LabelContainer]]++
	}
	return out
}

// TestAgentSIGKILLAndRestart kills an agent with tasks running and others
// still starting, removes one container while it is down, and restarts it:
// nothing runs twice and every task converges to the truth.
func TestAgentSIGKILLAndRestart(t *testing.T) {
	rt := requireDocker(t)
	srv := startServer(t, t.TempDir())
	client := srv.client(t)
	token := cli(t, srv.dataDir, "token", "create", "--uses", "1")
	agentDir := t.TempDir()
	ag := startAgent(t, srv, agentDir, token, "--cpu", "4096", "--memory", "4096")
	removeAgentContainers(t, rt, ag)
	img := workloadImage(t, rt)
	registerTD(t, client, "long", demo("web", img, "--no-server"))
	init := demo("init", img, "--no-server", "--exit-after", "5s")
	init.Essential = aws.Bool(false)
	main := demo("main", img, "--no-server")
	main.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess}}
	registerTD(t, client, "slow", main, init)

	long := runTasks(t, client, "long", 3)
	waitFor(t, client, long, "RUNNING", 60*time.Second, running)
	slow := runTasks(t, client, "slow", 2)
	// Kill the agent while the slow tasks are starting (their init runs 5s).
	waitFor(t, client, slow, "starting", 30*time.Second, func(task types.Task) bool {
		return countContainers(t, rt, aws.ToString(task.TaskArn))["init"] == 1
	})
	ag.kill()
	gone := long[0]
	list, _ := rt.ListContainers(context.Background(), map[string]string{runtime.LabelTask: gone})
	for _, c := range list {
		if err := rt.RemoveContainer(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
	}
	ag = startAgent(t, srv, agentDir, "", "--cpu", "4096", "--memory", "4096")

	stopped := waitFor(t, client, []string{gone}, "STOPPED", 60*time.Second, func(task types.Task) bool { return aws.ToString(task.LastStatus) == "STOPPED" })
	if r := aws.ToString(stopped[0].Containers[0].Reason); r != "The container was removed outside of Flotta." {
		t.Fatalf("the removed container's reason: %q", r)
	}
	waitFor(t, client, long[1:], "RUNNING", 60*time.Second, running)
	waitFor(t, client, slow, "RUNNING", 60*time.Second, running)
	for _, arn := range append(long[1:], slow...) {
		for name, n := range countContainers(t, rt, arn) {
			if n != 1 {
				t.Fatalf("task %s has %d containers named %s: something ran twice", instanceID(arn), n, name)
			}
		}
	}
}

// TestServerSIGKILLAndRestart kills the server under running tasks: they go
// on running, and what changed meanwhile reaches the restarted server.
func TestServerSIGKILLAndRestart(t *testing.T) {
	rt := requireDocker(t)
	dir := t.TempDir()
	srv := startServer(t, dir)
	client := srv.client(t)
	token := cli(t, dir, "token", "create")
	ag := startAgent(t, srv, t.TempDir(), token, "--cpu", "2048", "--memory", "2048")
	removeAgentContainers(t, rt, ag)
	img := workloadImage(t, rt)
	registerTD(t, client, "steady", demo("web", img, "--no-server"))
	registerTD(t, client, "short", demo("job", img, "--no-server", "--exit-after", "4s", "--exit-code", "7"))
	steady := runTasks(t, client, "steady", 2)
	waitFor(t, client, steady, "RUNNING", 60*time.Second, running)
	short := runTasks(t, client, "short", 1)
	waitFor(t, client, short, "RUNNING", 60*time.Second, running)

	endpoint := srv.endpoint
	srv.kill()
	// While the server is down the short job exits; the other containers keep running.
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, _ := rt.ListContainers(context.Background(), map[string]string{runtime.LabelTask: short[0]})
		if len(list) == 1 && list[0].Exited() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the short job did not exit while the server was down")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, arn := range steady {
		list, _ := rt.ListContainers(context.Background(), map[string]string{runtime.LabelTask: arn})
		if len(list) != 1 || !list[0].Running {
			t.Fatalf("task %s stopped running when the server died", arn)
		}
	}
	srv = restartServerOn(t, dir, endpoint)
	client = srv.client(t)
	waitFor(t, client, steady, "RUNNING", 60*time.Second, running)
	done := waitFor(t, client, short, "STOPPED", 60*time.Second, func(task types.Task) bool { return aws.ToString(task.LastStatus) == "STOPPED" })
	if aws.ToInt32(done[0].Containers[0].ExitCode) != 7 || done[0].StopCode != types.TaskStopCodeEssentialContainerExited {
		t.Fatalf("the job that ended while the server was down: exit %d, %s", aws.ToInt32(done[0].Containers[0].ExitCode), done[0].StopCode)
	}
}

// TestTwoAgentsOneEngine runs two agent processes with their own identities
// on one Docker engine: tasks land on both, and each touches only its own.
func TestTwoAgentsOneEngine(t *testing.T) {
	rt := requireDocker(t)
	srv := startServer(t, t.TempDir())
	client := srv.client(t)
	token := cli(t, srv.dataDir, "token", "create", "--uses", "2")
	a := startAgent(t, srv, t.TempDir(), token, "--cpu", "1024", "--memory", "100", "--zone", "zone-a")
	b := startAgent(t, srv, t.TempDir(), token, "--cpu", "1024", "--memory", "100", "--zone", "zone-b")
	removeAgentContainers(t, rt, a, b)
	if a.arn == b.arn {
		t.Fatal("two agents registered one instance")
	}
	img := workloadImage(t, rt)
	registerTD(t, client, "spread", demo("web", img, "--no-server"))
	// 32 MiB each, 100 MiB per agent: six tasks need both agents.
	arns := runTasks(t, client, "spread", 6)
	tasks := waitFor(t, client, arns, "RUNNING", 60*time.Second, running)
	per := map[string]int{}
	for _, task := range tasks {
		inst := aws.ToString(task.ContainerInstanceArn)
		per[inst]++
		list, _ := rt.ListContainers(context.Background(), map[string]string{runtime.LabelTask: aws.ToString(task.TaskArn)})
		if len(list) != 1 || list[0].Labels[runtime.LabelInstance] != instanceID(inst) {
			t.Fatalf("task %s on %s runs in containers labelled %v", aws.ToString(task.TaskArn), inst, list)
		}
	}
	if per[a.arn] != 3 || per[b.arn] != 3 {
		t.Fatalf("tasks per instance %v", per)
	}
	// Agent a goes away; b must leave a's containers alone.
	a.kill()
	b.cmd.Process.Signal(syscall.SIGTERM)
	b.cmd.Wait()
	b = startAgent(t, srv, b.dataDir, "", "--cpu", "1024", "--memory", "100", "--zone", "zone-b")
	// Stopping one of b's tasks proves b has adopted, polled and acted since
	// its restart, sweep of leftovers included.
	for _, task := range tasks {
		if aws.ToString(task.ContainerInstanceArn) == b.arn {
			client.StopTask(context.Background(), &ecs.StopTaskInput{Task: task.TaskArn})
			waitFor(t, client, []string{aws.ToString(task.TaskArn)}, "STOPPED", 60*time.Second, func(x types.Task) bool { return aws.ToString(x.LastStatus) == "STOPPED" })
			break
		}
	}
	list, _ := rt.ListContainers(context.Background(), map[string]string{runtime.LabelInstance: instanceID(a.arn)})
	running := 0
	for _, c := range list {
		if c.Running {
			running++
		}
	}
	if running != 3 {
		t.Fatalf("agent a's containers: %d running after agent b restarted, want 3", running)
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("sha256sum", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))[0]
}

// restartServerOn restarts a server on the same data dir and address, so
// that agents find it where it was.
func restartServerOn(t *testing.T, dir, endpoint string) *process {
	t.Helper()
	return serverOn(t, dir, strings.TrimPrefix(endpoint, "http://"))
}

// Package integration runs tasks on the real Docker engine through the AWS
// SDK: an in-process server, an in-process agent with the Docker driver, and
// a test image made offline from a static build of flotta itself.
package integration

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/agent"
	"github.com/flotta-dev/flotta/internal/images"
	"github.com/flotta-dev/flotta/internal/runtime"
	"github.com/flotta-dev/flotta/internal/runtime/docker"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

var (
	// testImage runs `flotta` as its entrypoint; commands choose the behaviour.
	testImage  string
	pauseImage string
	dockerErr  error
)

func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	ctx := context.Background()
	rt, err := docker.New(ctx)
	if err != nil {
		dockerErr = err
		return m.Run()
	}
	defer rt.Close()
	// Leftovers of a run that crashed before its cleanups.
	sweep(ctx, rt)
	defer sweep(ctx, rt)
	dir, err := os.MkdirTemp("", "flotta-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "flotta")
	build := exec.Command("go", "build", "-o", bin, "github.com/flotta-dev/flotta/cmd/flotta")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build flotta: %v\n%s", err, out)
		return 1
	}
	if testImage, err = images.Ensure(ctx, rt, images.Spec{Repository: "flotta-test/app", Binary: bin, Entrypoint: []string{"/flotta"}}); err != nil {
		fmt.Fprintf(os.Stderr, "make the test image: %v\n", err)
		return 1
	}
	if pauseImage, err = images.Ensure(ctx, rt, images.Spec{Repository: "flotta-test/pause", Binary: bin, Entrypoint: []string{"/flotta"}, Cmd: []string{"pause"}}); err != nil {
		fmt.Fprintf(os.Stderr, "make the pause image: %v\n", err)
		return 1
	}
	return m.Run()
}

// testLabel marks every container these tests make.
var testLabel = map[string]string{"com.flotta.test": "integration"}

func sweep(ctx context.Context, rt *docker.Driver) {
	list, _ := rt.ListContainers(ctx, testLabel)
	for _, c := range list {
		rt.RemoveContainer(ctx, c.ID)
	}
}

// requireDocker skips without Docker, unless FLOTTA_REQUIRE_DOCKER=1 says a
// missing engine is a failure (as in CI).
func requireDocker(t testing.TB) {
	t.Helper()
	if dockerErr == nil {
		return
	}
	if os.Getenv("FLOTTA_REQUIRE_DOCKER") == "1" {
		t.Fatalf("Docker is required (FLOTTA_REQUIRE_DOCKER=1): %v", dockerErr)
	}
	t.Skipf("no Docker engine: %v", dockerErr)
}

// node is a server and one agent on the local Docker engine.
type node struct {
	t     testing.TB
	env   *flottatest.Env
	rt    *docker.Driver
	agent *agent.Agent
}

type nodeOptions struct {
	allowPrivileged, allowHostAccess bool
	// server tunes the server (where it listens).
	server flottatest.Options
}

func startNode(t testing.TB, opts ...nodeOptions) *node {
	requireDocker(t)
	var o nodeOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	env := flottatest.StartServer(t, o.server)
	rt, err := docker.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	n := &node{t: t, env: env, rt: rt}
	// Cleanups run last first: the agent stops, then its containers go.
	t.Cleanup(n.removeContainers)
	n.agent = n.joinAgent(func(c *agent.Config) {
		c.AllowPrivileged, c.AllowHostAccess = o.allowPrivileged, o.allowHostAccess
	})
	return n
}

// joinAgent joins an agent on the local engine to the node's server (an
// instance of its own), runs it until the test ends, and returns it once
// registered. edit adjusts its configuration.
func (n *node) joinAgent(edit func(*agent.Config)) *agent.Agent {
	n.t.Helper()
	token, _, err := n.env.Server.IAM().CreateJoinToken(context.Background(), time.Hour, 1, "test")
	if err != nil {
		n.t.Fatal(err)
	}
	cfg := agent.Config{Server: n.env.Server.Endpoint(), JoinToken: token, DataDir: n.t.TempDir(), Runtime: n.rt,
		CPU: 2048, Memory: 2048, PauseImage: pauseImage, CleanupDelay: time.Hour, PollWait: 2 * time.Second, ContainerLabels: testLabel,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if edit != nil {
		edit(&cfg)
	}
	a, err := agent.New(cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-a.Registered():
	case err := <-done:
		n.t.Fatalf("agent stopped: %v", err)
	case <-time.After(30 * time.Second):
		n.t.Fatal("agent did not register in 30s")
	}
	n.t.Cleanup(func() {
		cancel()
		<-done
	})
	return a
}

// removeContainers removes every container this node's agent made.
func (n *node) removeContainers() {
	if n.agent == nil {
		return // it never joined
	}
	ctx := context.Background()
	id := n.agent.ContainerInstanceArn()
	list, _ := n.rt.ListContainers(ctx, map[string]string{runtime.LabelInstance: id[strings.LastIndex(id, "/")+1:]})
	for _, c := range list {
		n.rt.RemoveContainer(ctx, c.ID)
	}
}

func (n *node) register(family string, mode types.NetworkMode, containers ...types.ContainerDefinition) {
	n.t.Helper()
	if _, err := n.env.ECS.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: mode, ContainerDefinitions: containers}); err != nil {
		n.t.Fatal(err)
	}
}

// app is a container of the test image running `flotta args...`.
func app(name string, args ...string) types.ContainerDefinition {
	return types.ContainerDefinition{Name: aws.String(name), Image: aws.String(testImage), Memory: aws.Int32(64), Command: args}
}

func (n *node) run(family string) string {
	n.t.Helper()
	out, err := n.env.ECS.RunTask(context.Background(), &ecs.RunTaskInput{TaskDefinition: aws.String(family)})
	if err != nil {
		n.t.Fatal(err)
	}
	if len(out.Tasks) != 1 {
		n.t.Fatalf("placed %d tasks; failures %+v", len(out.Tasks), out.Failures)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

func (n *node) wait(arn, what string, timeout time.Duration, cond func(*types.Task) bool) *types.Task {
	n.t.Helper()
	return n.env.WaitTask(n.t, arn, what, timeout, cond)
}

var show = flottatest.ShowTask

func is(status string) func(*types.Task) bool {
	return func(t *types.Task) bool { return aws.ToString(t.LastStatus) == status }
}

func container(t *types.Task, name string) types.Container {
	for _, c := range t.Containers {
		if aws.ToString(c.Name) == name {
			return c
		}
	}
	return types.Container{}
}

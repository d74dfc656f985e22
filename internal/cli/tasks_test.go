package cli_test

import (
	"context"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/agent"
	"github.com/flotta-dev/flotta/internal/cli"
	"github.com/flotta-dev/flotta/internal/runtime/fake"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// runAll is run with every verb of the client.
func runAll(t *testing.T, dataDir string, args ...string) (string, string, error) {
	t.Helper()
	for _, v := range []string{"FLOTTA_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECS", "AWS_PROFILE", "AWS_REGION"} {
		t.Setenv(v, "")
	}
	o := &cli.Options{}
	root := &cobra.Command{Use: "flotta", SilenceUsage: true, SilenceErrors: true}
	o.AddFlags(root)
	root.AddCommand(cli.ClusterCommand(o), cli.TaskDefCommand(o), cli.RunCommand(o), cli.TaskCommand(o), cli.InstanceCommand(o), cli.TokenCommand(o), cli.ServiceCommand(o), cli.EventsCommand(o), cli.WhoamiCommand(o), cli.IAMCommand(o), cli.LBCommand(o), cli.DNSCommand(o))
	var out, errOut strings.Builder
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append(args, "--data-dir", dataDir))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestTaskAndInstanceVerbs(t *testing.T) {
	e := flottatest.StartServer(t)
	token, _, err := runAll(t, e.DataDir, "token", "create", "--uses", "1", "--ttl", "1h")
	if err != nil || !regexp.MustCompile(`^flt1\.[0-9a-f]+\.\S+\n$`).MatchString(token) {
		t.Fatalf("token create: %q %v", token, err)
	}
	rt := fake.New()
	rt.AddImage("demo")
	a, err := agent.New(agent.Config{Server: e.Server.Endpoint(), JoinToken: strings.TrimSpace(token), DataDir: t.TempDir(), Runtime: rt,
		CPU: 1024, Memory: 1024, PollWait: time.Second, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-a.Registered()

	file := t.TempDir() + "/td.json"
	os.WriteFile(file, []byte(`{"family":"hello","containerDefinitions":[{"name":"app","image":"demo","memory":64,
		"portMappings":[{"containerPort":8080}]}]}`), 0o644)
	if _, _, err := runAll(t, e.DataDir, "taskdef", "register", "-f", file); err != nil {
		t.Fatal(err)
	}
	out, progress, err := runAll(t, e.DataDir, "run", "hello", "--wait", "--count", "2")
	if err != nil || strings.Count(out, "RUNNING") != 4 || !strings.Contains(progress, "RUNNING") {
		t.Fatalf("run --wait: %v\n%s\n%s", err, out, progress)
	}
	if !regexp.MustCompile(`\d+->8080/tcp`).MatchString(out) {
		t.Fatalf("run shows no port binding:\n%s", out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	out, _, err = runAll(t, e.DataDir, "task", "describe", id)
	if err != nil || !strings.Contains(out, "Status:      RUNNING (desired RUNNING)") || !strings.Contains(out, "app ") {
		t.Fatalf("task describe: %v\n%s", err, out)
	}
	out, _, err = runAll(t, e.DataDir, "task", "stop", id, "--reason", "done", "--wait")
	if err != nil || !strings.Contains(out, "STOPPED") {
		t.Fatalf("task stop: %v\n%s", err, out)
	}
	out, _, _ = runAll(t, e.DataDir, "task", "ls")
	if strings.Count(out, "\n") != 2 {
		t.Fatalf("task ls shows the running task only:\n%s", out)
	}
	out, _, _ = runAll(t, e.DataDir, "task", "ls", "--status", "stopped")
	if !strings.Contains(out, id) {
		t.Fatalf("task ls --status stopped:\n%s", out)
	}
	out, _, err = runAll(t, e.DataDir, "instance", "ls")
	if err != nil || !strings.Contains(out, "ACTIVE") || !strings.Contains(out, "true") || !strings.Contains(out, "/1024") {
		t.Fatalf("instance ls: %v\n%s", err, out)
	}
	out, _, err = runAll(t, e.DataDir, "instance", "drain", a.ContainerInstanceArn())
	if err != nil || !strings.Contains(out, "DRAINING") {
		t.Fatalf("instance drain: %v\n%s", err, out)
	}
	_, _, err = runAll(t, e.DataDir, "run", "hello")
	if err == nil || !strings.Contains(err.Error(), "no task was placed") {
		t.Fatalf("run on a drained instance: %v", err)
	}
	_, _, err = runAll(t, e.DataDir, "run", "nope")
	if err == nil || cli.Explain(err) != "ClientException: Unable to find task definition nope." {
		t.Fatalf("run of an unknown task definition: %q", cli.Explain(err))
	}
}

func TestRunDryRun(t *testing.T) {
	e := flottatest.StartServer(t)
	token, _, err := e.Server.IAM().CreateJoinToken(context.Background(), time.Hour, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	rt := fake.New()
	rt.AddImage("demo")
	a, _ := agent.New(agent.Config{Server: e.Server.Endpoint(), JoinToken: token, DataDir: t.TempDir(), Runtime: rt,
		CPU: 1024, Memory: 256, PollWait: time.Second, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-a.Registered()
	file := t.TempDir() + "/td.json"
	os.WriteFile(file, []byte(`{"family":"plan","containerDefinitions":[{"name":"app","image":"demo","memory":100}]}`), 0o644)
	if _, _, err := runAll(t, e.DataDir, "taskdef", "register", "-f", file); err != nil {
		t.Fatal(err)
	}
	before := e.Revision(t)
	out, _, err := runAll(t, e.DataDir, "run", "plan", "--count", "3", "--dry-run")
	if err != nil || !strings.Contains(out, "2 of 3 tasks would be placed") || !strings.Contains(out, "RESOURCE:MEMORY") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if e.Revision(t) != before {
		t.Fatal("a dry run changed the store")
	}
	list, _, _ := runAll(t, e.DataDir, "task", "ls")
	if strings.Count(list, "\n") != 1 {
		t.Fatalf("a dry run started tasks:\n%s", list)
	}
}

func TestSimReportsPlacementAndRate(t *testing.T) {
	e := flottatest.StartServer(t)
	for _, v := range []string{"FLOTTA_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECS", "AWS_PROFILE", "AWS_REGION"} {
		t.Setenv(v, "")
	}
	o := &cli.Options{DataDir: e.DataDir, Output: "table"}
	var out strings.Builder
	err := o.Sim(context.Background(), cli.SimOptions{Instances: 30, Tasks: 500, Zones: 3, InstanceCPU: 4096, InstanceMemory: 4096,
		TaskCPU: 64, TaskMemory: 256, Strategy: "spread:attribute:ecs.availability-zone,binpack:memory", Concurrency: 8}, &out)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	// 30 instances fit 16 tasks of 256 MiB each: 480 of 500.
	last := strings.TrimSpace(text[strings.LastIndex(strings.TrimSpace(text), "\n")+1:])
	if !regexp.MustCompile(`^placed=480 rate=\d+/s p50=[\d.]+ms p99=[\d.]+ms$`).MatchString(last) {
		t.Fatalf("last line %q; report:\n%s", last, text)
	}
	if !strings.Contains(text, "Tasks: 480 placed, 20 not placed") || !strings.Contains(text, "RESOURCE:MEMORY") || !strings.Contains(text, "sim-zone-c  10") {
		t.Fatalf("report:\n%s", text)
	}
}

func TestSimWithServices(t *testing.T) {
	e := flottatest.StartServer(t)
	for _, v := range []string{"FLOTTA_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECS", "AWS_PROFILE", "AWS_REGION"} {
		t.Setenv(v, "")
	}
	o := &cli.Options{DataDir: e.DataDir, Output: "table"}
	var out strings.Builder
	// 10 instances fit 16 tasks of 256 MiB each: 160 of the 5 x 34 = 170.
	err := o.Sim(context.Background(), cli.SimOptions{Instances: 10, Tasks: 170, Zones: 2, InstanceCPU: 4096, InstanceMemory: 4096,
		TaskCPU: 64, TaskMemory: 256, Strategy: "spread:attribute:ecs.availability-zone", Concurrency: 4, Services: 5}, &out)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	last := strings.TrimSpace(text[strings.LastIndex(strings.TrimSpace(text), "\n")+1:])
	if !regexp.MustCompile(`^placed=160 rate=\d+/s services=5$`).MatchString(last) {
		t.Fatalf("last line %q; report:\n%s", last, text)
	}
	if !strings.Contains(text, "Tasks: 160 placed, 10 not placed, by 5 services") || !strings.Contains(text, "has insufficient memory available") {
		t.Fatalf("report:\n%s", text)
	}
}

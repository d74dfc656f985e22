package cli_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/flotta-dev/flotta/internal/runtime"
	"github.com/flotta-dev/flotta/internal/runtime/fake"
	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

func TestServiceVerbs(t *testing.T) {
	e := flottatest.StartServer(t)
	f := fleet.New(t, e)
	f.OnStart = func(rt *fake.Runtime, id string, spec runtime.ContainerSpec) {
		if slices.Contains(spec.Env, "CRASH=1") {
			go rt.Exit(id, 1)
		}
	}
	f.Add(2, fleet.Spec{CPU: 1024, Memory: 1024}, func(i int) string { return []string{"zone-a", "zone-b"}[i] })
	dir := t.TempDir()
	register := func(env string) {
		t.Helper()
		file := dir + "/td.json"
		os.WriteFile(file, []byte(`{"family":"web","containerDefinitions":[{"name":"app","image":"demo","memory":100,
			"environment":[{"name":"X","value":"`+env+`"}]}]}`), 0o644)
		if _, _, err := runAll(t, e.DataDir, "taskdef", "register", "-f", file); err != nil {
			t.Fatal(err)
		}
	}
	register("1") // web:1
	register("2") // web:2
	mustRun := func(args ...string) (string, string) {
		t.Helper()
		out, errOut, err := runAll(t, e.DataDir, args...)
		if err != nil {
			t.Fatalf("flotta %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
		return out, errOut
	}

	out, errOut := mustRun("service", "create", "web", "-t", "web:1", "-n", "4", "--min-healthy", "50", "--max-percent", "150", "--wait")
	if !strings.Contains(errOut, "web: 4 of 4 tasks running web:1") || !strings.Contains(out, "ACTIVE") {
		t.Fatalf("create --wait:\n%s\n%s", out, errOut)
	}

	// The plan of a rollout to web:2: 4 tasks, at least 2 healthy, at most 6.
	out, _ = mustRun("service", "plan", "web", "-t", "web:2")
	for _, want := range []string{"a new deployment of web:2", "at least 2 healthy and at most 6 tasks", "Capacity: room for", "First step:", "Steps: "} {
		if !strings.Contains(out, want) {
			t.Fatalf("plan lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "stop  "); n < 1 {
		t.Fatalf("plan stops nothing in its first step:\n%s", out)
	}
	// Planning changed nothing.
	out, _ = mustRun("service", "describe", "web")
	if !strings.Contains(out, "Definition:  web:1") || strings.Contains(out, "web:2") {
		t.Fatalf("the plan changed the service:\n%s", out)
	}

	_, errOut = mustRun("service", "deploy", "web", "-t", "web:2")
	if !strings.Contains(errOut, "PRIMARY web:2") || !strings.Contains(errOut, "healthy") || !strings.Contains(errOut, "web: 4 of 4 tasks running web:2") ||
		!strings.Contains(errOut, "deployment completed") {
		t.Fatalf("deploy progress:\n%s", errOut)
	}

	// Roll back to web:1, then scale.
	_, errOut = mustRun("service", "rollback", "web", "--wait")
	if !strings.Contains(errOut, "deploying the previous revision, web:1") || !strings.Contains(errOut, "4 of 4 tasks running web:1") {
		t.Fatalf("rollback:\n%s", errOut)
	}
	_, errOut = mustRun("service", "scale", "web", "2", "--wait")
	if !strings.Contains(errOut, "2 of 2 tasks running") {
		t.Fatalf("scale:\n%s", errOut)
	}
	out, _ = mustRun("service", "events", "web")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.Contains(out, "has reached a steady state.") || !strings.Contains(lines[len(lines)-1], "has reached a steady state.") {
		t.Fatalf("events (oldest first):\n%s", out)
	}

	// A revision that crashes: deploy fails, the circuit breaker rolls back.
	register("crash")
	file := dir + "/td.json"
	os.WriteFile(file, []byte(`{"family":"web","containerDefinitions":[{"name":"app","image":"demo","memory":100,
		"environment":[{"name":"CRASH","value":"1"}]}]}`), 0o644)
	mustRun("taskdef", "register", "-f", file) // web:4
	_, errOut, err := runAll(t, e.DataDir, "service", "deploy", "web", "-t", "web:4", "--circuit-breaker", "--rollback", "--timeout", "40s")
	if err == nil || !strings.Contains(err.Error(), "failed and was rolled back") {
		t.Fatalf("deploy of a crashing revision should fail: %v\n%s", err, errOut)
	}
	out, _ = mustRun("service", "ls")
	if !strings.Contains(out, "web") || !strings.Contains(out, "web:1") {
		t.Fatalf("ls after the rollback:\n%s", out)
	}

	// Bad input is refused with the server's words.
	_, _, err = runAll(t, e.DataDir, "service", "create", "bad", "-t", "ghost")
	if err == nil || !strings.Contains(err.Error(), "TaskDefinition not found.") {
		t.Fatalf("unknown task definition: %v", err)
	}
	_, _, err = runAll(t, e.DataDir, "service", "rm", "web")
	if err == nil || !strings.Contains(err.Error(), "scaled above 0") {
		t.Fatalf("rm without --force: %v", err)
	}
	out, _ = mustRun("service", "rm", "web", "--force", "--wait")
	if !strings.Contains(out, "INACTIVE") {
		t.Fatalf("rm --wait:\n%s", out)
	}
}

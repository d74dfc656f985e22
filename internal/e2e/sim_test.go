package e2e

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSimServiceOfFiveThousandTasks: a service at ECS's tasks-per-service
// quota reaches a steady state on simulated instances (`flotta sim --run`,
// whose instances report each placed task RUNNING as agents do). Its
// placements do not fit one store transaction, so the scheduler commits
// them in parts; before it did, they were retried every 2 s forever.
func TestSimServiceOfFiveThousandTasks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, flottaBin, "sim", "--instances", "100", "--tasks", "5000", "--services", "1", "--run",
		"--task-cpu", "64", "--task-memory", "128")
	cmd.Env = cleanAWSEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("flotta sim: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	m := regexp.MustCompile(`^placed=(\d+) rate=\S+ services=1 running=(\d+) steady=(\S+)s$`).FindStringSubmatch(last)
	if m == nil || m[1] != "5000" || m[2] != "5000" {
		t.Fatalf("a service of 5,000 tasks is not steady:\n%s", out)
	}
	t.Logf("%s", last)
}

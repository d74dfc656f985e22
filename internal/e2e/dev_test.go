package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDevIsOneCommand runs `flotta dev` the way the README does, uses the
// printed instructions, and stops it with a signal.
func TestDevIsOneCommand(t *testing.T) {
	rt := requireDocker(t)
	dir := t.TempDir()
	dev := exec.Command(flottaBin, "dev", "--data-dir", dir, "--listen", "127.0.0.1:0")
	stdout, err := dev.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	dev.Stderr = &stderr
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if dev.ProcessState == nil {
			dev.Process.Kill()
			dev.Wait()
		}
	})
	banner := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Press Ctrl-C to stop.") {
				banner <- b.String()
			}
		}
	}()
	var text string
	select {
	case text = <-banner:
	case <-time.After(60 * time.Second):
		t.Fatalf("flotta dev printed no banner in 60s; stderr:\n%s", stderr.String())
	}
	for _, want := range []string{"Endpoint   http://127.0.0.1:", "Region     us-east-1", "Profile    flotta", "aws ecs list-clusters",
		"flotta cluster ls --data-dir " + dir, "Agent      one container instance on the local Docker engine", "flotta run demo --wait"} {
		if !strings.Contains(text, want) {
			t.Fatalf("banner lacks %q:\n%s", want, text)
		}
	}
	var identity struct {
		ContainerInstanceArn string `json:"containerInstanceArn"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "agent", "identity.json"))
	if err != nil || json.Unmarshal(b, &identity) != nil {
		t.Fatalf("the dev agent's identity: %v", err)
	}
	removeInstanceContainers(t, rt, identity.ContainerInstanceArn)
	out, err := exec.Command(flottaBin, "cluster", "ls", "--data-dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "default") {
		t.Fatalf("flotta cluster ls against flotta dev: %v\n%s", err, out)
	}
	// The tour: run the demo task, find its port, open it.
	cli(t, dir, "run", "demo", "--wait")
	list := cli(t, dir, "task", "ls")
	m := regexp.MustCompile(`(\d+)->8080/tcp`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("flotta task ls shows no port:\n%s", list)
	}
	// RUNNING means the container started, not that the app in it listens
	// yet: until it does, Docker's proxy resets the connection.
	var body []byte
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get("http://localhost:" + m[1] + "/")
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo task's port %s does not answer: %v", m[1], err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(string(body), "Hello from Flotta!") {
		t.Fatalf("the demo task answered %q", body)
	}
	// The README tour: register the example task definition with the CLI...
	out, err = exec.Command(flottaBin, "taskdef", "register", "-f", "../../examples/taskdefs/web.json", "--data-dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "web") {
		t.Fatalf("flotta taskdef register -f examples/taskdefs/web.json: %v\n%s", err, out)
	}
	// The README's service steps.
	cli(t, dir, "service", "create", "hello", "-t", "demo", "-n", "3", "--wait")
	if out := cli(t, dir, "service", "plan", "hello", "-t", "web"); !strings.Contains(out, "a new deployment of web:1") {
		t.Fatalf("flotta service plan:\n%s", out)
	}
	cli(t, dir, "service", "deploy", "hello", "-t", "web", "--circuit-breaker", "--rollback")
	if out := cli(t, dir, "service", "events", "hello"); !strings.Contains(out, "has reached a steady state.") {
		t.Fatalf("flotta service events:\n%s", out)
	}
	cli(t, dir, "service", "rollback", "hello", "--wait")
	if out := cli(t, dir, "service", "rm", "hello", "--force", "--wait"); !strings.Contains(out, "INACTIVE") {
		t.Fatalf("flotta service rm:\n%s", out)
	}
	// ...and run the SDK quickstart with only the variables the banner printed.
	quick := filepath.Join(t.TempDir(), "quickstart")
	if out, err := exec.Command("go", "build", "-o", quick, "github.com/flotta-dev/flotta/examples/quickstart").CombinedOutput(); err != nil {
		t.Fatalf("build quickstart: %v\n%s", err, out)
	}
	run := exec.Command(quick)
	run.Env = append(cleanAWSEnv(), bannerEnv(t, text)...)
	out, err = run.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "cluster: arn:aws:ecs:us-east-1:") || !strings.Contains(string(out), "task RUNNING: curl localhost:") {
		t.Fatalf("quickstart: %v\n%s", err, out)
	}
	dev.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- dev.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("flotta dev did not exit cleanly on SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("flotta dev did not stop within 30s of SIGTERM")
	}
	if s := stderr.String(); strings.Contains(s, "level=ERROR") || strings.Contains(s, `"level":"error"`) {
		t.Fatalf("flotta dev logged errors:\n%s", s)
	}
}

// bannerEnv reads the `export A=x B=y` line that flotta dev printed.
func bannerEnv(t *testing.T, banner string) []string {
	for _, line := range strings.Split(banner, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "export "); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no export line in the banner:\n%s", banner)
	return nil
}

// cleanAWSEnv is the test's environment without AWS settings that would
// override the banner's.
func cleanAWSEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "FLOTTA_") {
			env = append(env, kv)
		}
	}
	return env
}

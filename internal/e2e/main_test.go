// Package e2e runs the built flotta binary as separate processes and checks
// what users rely on across crashes and restarts.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

var flottaBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flotta-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	flottaBin = filepath.Join(dir, "flotta")
	build := exec.Command("go", "build", "-o", flottaBin, "github.com/flotta-dev/flotta/cmd/flotta")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build flotta: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a flotta server running as a child process.
type process struct {
	cmd      *exec.Cmd
	endpoint string
	dataDir  string
}

var readyRE = regexp.MustCompile(`flotta server ready"? endpoint=(\S+)`)

// startServer runs `flotta server` on a free port and waits until it says it
// is ready.
func startServer(t *testing.T, dataDir string) *process {
	t.Helper()
	return serverOn(t, dataDir, "127.0.0.1:0")
}

// serverOn runs `flotta server` on addr.
func serverOn(t *testing.T, dataDir, addr string) *process {
	t.Helper()
	// The DNS server on a free port: several servers run at once.
	cmd, endpoint := startChild(t, "server", readyRE, "server", "--data-dir", dataDir, "--listen", addr, "--dns-listen", "127.0.0.1:0")
	return &process{cmd: cmd, endpoint: endpoint, dataDir: dataDir}
}

// serverWith runs `flotta server` on a free port with more flags.
func serverWith(t *testing.T, dataDir string, flags ...string) *process {
	t.Helper()
	args := append([]string{"server", "--data-dir", dataDir, "--listen", "127.0.0.1:0"}, flags...)
	cmd, endpoint := startChild(t, "server", readyRE, args...)
	return &process{cmd: cmd, endpoint: endpoint, dataDir: dataDir}
}

// startChild runs flotta with args, killed when the test ends, and waits
// until a line of its stderr matches ready; it returns the match's group.
func startChild(t *testing.T, label string, ready *regexp.Regexp, args ...string) (*exec.Cmd, string) {
	t.Helper()
	return startCmd(t, label, ready, exec.Command(flottaBin, args...))
}

// startCmd is startChild for a command already made (to run flotta under a
// shell that sets limits, say).
func startCmd(t *testing.T, label string, ready *regexp.Regexp, cmd *exec.Cmd) (*exec.Cmd, string) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killChild(cmd) })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
			if os.Getenv("FLOTTA_TEST_LOG") != "" {
				fmt.Fprintln(os.Stderr, label+":", sc.Text())
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case v := <-found:
		return cmd, v
	case <-time.After(60 * time.Second):
		t.Fatalf("flotta %s did not report ready within 60s", label)
		return nil, ""
	}
}

// killChild SIGKILLs a child process that is still running.
func killChild(cmd *exec.Cmd) {
	if cmd.ProcessState == nil {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
}

func (p *process) kill() { killChild(p.cmd) }

// client returns an SDK client configured only from the files the server
// wrote, as the README tells users to do; it does not retry, so that tests
// see every answer.
func (p *process) client(t *testing.T) *ecs.Client {
	t.Helper()
	return ecs.NewFromConfig(p.config(t), func(o *ecs.Options) { o.RetryMaxAttempts = 1 })
}

// retryingClient is client with the SDK's default retries, as a user's
// program has. Tests that poll a lot use it: the SDK's HTTP transport now and
// then closes a connection under a response it is reading (aws-sdk-go-v2
// issues 1825 and 2737, seen against real AWS too), which its default
// retryer retries.
func (p *process) retryingClient(t *testing.T) *ecs.Client {
	t.Helper()
	return ecs.NewFromConfig(p.config(t))
}

func (p *process) config(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithSharedConfigFiles([]string{filepath.Join(p.dataDir, "config")}),
		config.WithSharedCredentialsFiles([]string{filepath.Join(p.dataDir, "credentials")}),
		config.WithSharedConfigProfile("flotta"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func trimARN(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/agent"
	"github.com/flotta-dev/flotta/internal/cli"
	"github.com/flotta-dev/flotta/internal/pki"
	"github.com/flotta-dev/flotta/internal/runtime/fake"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// tap is a TCP proxy that keeps a copy of every byte it carries.
type tap struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	seen   bytes.Buffer
}

func newTap(t *testing.T, target string) *tap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tap{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.carry(c)
		}
	}()
	return p
}

func (p *tap) carry(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	done := make(chan struct{}, 2)
	copyInto := func(dst, src net.Conn) {
		io.Copy(io.MultiWriter(dst, p), src)
		done <- struct{}{}
	}
	go copyInto(s, c)
	go copyInto(c, s)
	<-done
}

func (p *tap) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen.Write(b)
}

func (p *tap) saw(s string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Contains(p.seen.Bytes(), []byte(s))
}

func (p *tap) url(scheme string) string { return scheme + "://" + p.ln.Addr().String() }

// createToken runs `flotta token create` with the files the server wrote.
func createToken(t *testing.T, dataDir string) string {
	t.Helper()
	for _, v := range []string{"FLOTTA_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECS", "AWS_PROFILE", "AWS_REGION", "AWS_CA_BUNDLE"} {
		t.Setenv(v, "")
	}
	o := &cli.Options{}
	root := &cobra.Command{Use: "flotta", SilenceUsage: true, SilenceErrors: true}
	o.AddFlags(root)
	root.AddCommand(cli.TokenCommand(o))
	var out strings.Builder
	root.SetOut(&out)
	root.SetArgs([]string{"token", "create", "--data-dir", dataDir})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("token create: %v", err)
	}
	return strings.TrimSpace(out.String())
}

// runAgent joins an agent (fake runtime) and waits until it registers, or
// returns Run's error.
func runAgent(t *testing.T, cfg agent.Config) (*agent.Agent, error) {
	t.Helper()
	rt := fake.New()
	rt.AddImage("demo")
	cfg.Runtime, cfg.CPU, cfg.Memory, cfg.PollWait = rt, 1024, 1024, time.Second
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	a, err := agent.New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-a.Registered():
		return a, nil
	case err := <-done:
		done <- err
		return nil, err
	case <-time.After(30 * time.Second):
		t.Fatal("the agent neither registered nor failed in 30s")
	}
	return nil, nil
}

// TestTLSPinnedAgentsAndClients: a server that serves HTTPS writes a config
// file the SDK trusts it by, hands out tokens that pin its CA, and its
// agents' traffic cannot be read on the wire; an agent refuses a server
// whose certificate is not from the CA it pinned.
func TestTLSPinnedAgentsAndClients(t *testing.T) {
	e := flottatest.StartServer(t, flottatest.Options{TLS: true})
	if !strings.HasPrefix(e.Server.Endpoint(), "https://127.0.0.1:") {
		t.Fatalf("endpoint %s", e.Server.Endpoint())
	}
	pin := e.Server.TLSFingerprint()
	if !pki.ValidFingerprint(pin) {
		t.Fatalf("fingerprint %q", pin)
	}
	conf, err := os.ReadFile(filepath.Join(e.DataDir, "config"))
	if err != nil || !strings.Contains(string(conf), "ca_bundle = ") || !strings.Contains(string(conf), pin) {
		t.Fatalf("config file:\n%s", conf)
	}

	// The SDK trusts the server by the files and the CA bundle (the Go SDK
	// reads AWS_CA_BUNDLE; the AWS CLI and boto3 also the config's ca_bundle).
	ctx := context.Background()
	t.Setenv("AWS_CA_BUNDLE", e.Server.CABundle())
	cfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigFiles([]string{filepath.Join(e.DataDir, "config")}),
		config.WithSharedCredentialsFiles([]string{filepath.Join(e.DataDir, "credentials")}), config.WithSharedConfigProfile("flotta"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("SDK over HTTPS with the config file: %v", err)
	}
	// Plain HTTP to the HTTPS port is turned away.
	resp, err := http.Get("http://" + strings.TrimPrefix(e.Server.Endpoint(), "https://") + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP to the HTTPS port: %d", resp.StatusCode)
		}
	}

	// The CLI's token pins the CA.
	token := createToken(t, e.DataDir)
	if base, got := pki.SplitToken(token); got != pin || !strings.HasPrefix(base, "flt1.") {
		t.Fatalf("token %q does not end with the CA's fingerprint %s", token, pin)
	}

	// An agent joins through a tap: nothing of what it says or hears is readable.
	wire := newTap(t, strings.TrimPrefix(e.Server.Endpoint(), "https://"))
	a, err := runAgent(t, agent.Config{Server: wire.url("https"), JoinToken: token})
	if err != nil {
		t.Fatalf("a pinned agent could not join: %v", err)
	}
	e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("secret-plans"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo"), Memory: aws.Int32(64),
			Environment: []types.KeyValuePair{{Name: aws.String("MOTTO"), Value: aws.String("attack-at-dawn")}}}}})
	run, err := e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("secret-plans")})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("run: %v %+v", err, run)
	}
	e.WaitTask(t, aws.ToString(run.Tasks[0].TaskArn), "RUNNING", 30*time.Second, func(task *types.Task) bool {
		return aws.ToString(task.LastStatus) == "RUNNING"
	})
	taskID := aws.ToString(run.Tasks[0].TaskArn)[strings.LastIndex(aws.ToString(run.Tasks[0].TaskArn), "/")+1:]
	for _, secret := range []string{taskID, "attack-at-dawn", "FlottaV1", "secret-plans", a.ContainerInstanceArn()} {
		if wire.saw(secret) {
			t.Fatalf("%q crossed the wire in clear text", secret)
		}
	}

	// The same agent, pointed at another server (its own CA), refuses it.
	other := flottatest.StartServer(t, flottatest.Options{TLS: true})
	_, err = runAgent(t, agent.Config{Server: other.Server.Endpoint(), JoinToken: token})
	if err == nil || !strings.Contains(err.Error(), "not from the CA this agent pinned") {
		t.Fatalf("an agent joined a server it did not pin: %v", err)
	}
	// Without a fingerprint, an HTTPS server is not trusted at all...
	base, _ := pki.SplitToken(token)
	if _, err := runAgent(t, agent.Config{Server: e.Server.Endpoint(), JoinToken: base}); err == nil || !strings.Contains(err.Error(), "no CA fingerprint") {
		t.Fatalf("an unpinned agent: %v", err)
	}
	// ...and a pinned token is not sent over plain HTTP.
	if _, err := runAgent(t, agent.Config{Server: wire.url("http"), JoinToken: token}); err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Fatalf("a pinned agent over plain HTTP: %v", err)
	}
}

// TestTapSeesPlainHTTP is the tap's own check: over plain HTTP it does see
// the task go by, so that its silence over HTTPS means something.
func TestTapSeesPlainHTTP(t *testing.T) {
	e := flottatest.StartServer(t)
	wire := newTap(t, strings.TrimPrefix(e.Server.Endpoint(), "http://"))
	token, _, err := e.Server.IAM().CreateJoinToken(context.Background(), time.Hour, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runAgent(t, agent.Config{Server: wire.url("http"), JoinToken: token}); err != nil {
		t.Fatal(err)
	}
	if !wire.saw("FlottaV1.Poll") {
		t.Fatal("the tap saw no poll over plain HTTP")
	}
}

// TestTLSByDefaultBeyondLoopback: listening on every address serves HTTPS
// unless plain HTTP is asked for by name.
func TestTLSByDefaultBeyondLoopback(t *testing.T) {
	e := flottatest.StartServer(t, flottatest.Options{Listen: "0.0.0.0:0"})
	if !strings.HasPrefix(e.Server.Endpoint(), "https://127.0.0.1:") || e.Server.TLSFingerprint() == "" {
		t.Fatalf("listening on 0.0.0.0: endpoint %s, fingerprint %q", e.Server.Endpoint(), e.Server.TLSFingerprint())
	}
	if _, err := e.ECS.ListClusters(context.Background(), &ecs.ListClustersInput{}); err != nil {
		t.Fatal(err)
	}
	plain := flottatest.StartServer(t, flottatest.Options{Listen: "0.0.0.0:0", InsecureHTTP: true})
	if !strings.HasPrefix(plain.Server.Endpoint(), "http://") || plain.Server.TLSFingerprint() != "" {
		t.Fatalf("--insecure-http: endpoint %s", plain.Server.Endpoint())
	}
	local := flottatest.StartServer(t)
	if !strings.HasPrefix(local.Server.Endpoint(), "http://127.0.0.1:") {
		t.Fatalf("loopback: endpoint %s", local.Server.Endpoint())
	}
}

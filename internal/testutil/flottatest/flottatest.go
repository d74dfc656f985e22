// Package flottatest starts real Flotta servers for tests: an in-process
// control plane with its embedded etcd in a temporary directory, and the
// official AWS SDK clients pointed at it, exactly as a user's program would be.
package flottatest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/server"
)

// Env is a running server and clients for it.
type Env struct {
	Server  *server.Server
	DataDir string
	Root    iam.AccessKey
	// ECS is an SDK client signed with the root key.
	ECS *ecs.Client
	// HTTP trusts the server's CA when it serves HTTPS.
	HTTP *http.Client
}

// Options tune StartServer.
type Options struct {
	DataDir string
	Now     func() time.Time
	// LostInstanceGrace and StoppedTaskRetention override the server's
	// defaults when set.
	LostInstanceGrace    time.Duration
	StoppedTaskRetention time.Duration
	// Quotas override ECS's default quotas where set.
	Quotas model.Quotas
	// RequestRate and RequestBurst override the per-principal throttle.
	RequestRate  float64
	RequestBurst int
	// Listen overrides 127.0.0.1:0; TLS serves HTTPS on loopback too;
	// InsecureHTTP serves plain HTTP beyond it.
	Listen            string
	TLS, InsecureHTTP bool
	// LogTo, when set, takes the server's log at debug level (to check what
	// it says, and what it must never say).
	LogTo io.Writer
	// LoadBalancers serves load balancers' listeners in the server, on
	// 127.0.0.1 (off by default: most tests only drive the API).
	LoadBalancers bool
	// DNS serves the DNS server on a free port of 127.0.0.1 (Server.DNSAddr).
	DNS bool
	// Route53HealthChecks probes Route 53 health checks (off by default:
	// most tests' health checks name endpoints beyond loopback, and test
	// traffic stays on it). Route53CheckInterval, when set, probes every
	// one this often instead of at its RequestInterval, and reads the
	// target health of aliases that evaluate it this often.
	Route53HealthChecks  bool
	Route53CheckInterval time.Duration
}

// StartServer starts a server for the test and stops it when the test ends.
func StartServer(t testing.TB, opts ...Options) *Env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	level := slog.LevelWarn
	if os.Getenv("FLOTTA_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if o.LogTo != nil {
		logger = slog.New(slog.NewTextHandler(o.LogTo, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx := context.Background()
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	dnsListen := ""
	if o.DNS {
		dnsListen = "127.0.0.1:0"
	}
	srv, err := server.Start(ctx, server.Config{DNSListen: dnsListen, DataDir: o.DataDir, Listen: o.Listen, Logger: logger, Now: o.Now, TLS: o.TLS, InsecureHTTP: o.InsecureHTTP,
		LostInstanceGrace: o.LostInstanceGrace, StoppedTaskRetention: o.StoppedTaskRetention, Quotas: o.Quotas,
		RequestRate: o.RequestRate, RequestBurst: o.RequestBurst, LoadBalancers: o.LoadBalancers, LoadBalancerHost: "127.0.0.1",
		Route53CheckInterval: o.Route53CheckInterval, NoRoute53HealthChecks: !o.Route53HealthChecks})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	root, err := srv.RootAccessKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Each server's clients have a transport of their own: a connection
	// pool shared across the tests of a package could hand one test a
	// connection to another test's server (a port the kernel gave out
	// again), or have it closed under it when that server shuts down.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	e := &Env{Server: srv, DataDir: o.DataDir, Root: root, HTTP: &http.Client{Timeout: time.Minute, Transport: tr}}
	if bundle := srv.CABundle(); bundle != "" {
		pem, err := os.ReadFile(bundle)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pem)
		tr.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	e.ECS = e.ECSClient(root)
	return e
}

// ECSClient returns an SDK ECS client that signs with k.
func (e *Env) ECSClient(k iam.AccessKey) *ecs.Client {
	return ecs.New(ecs.Options{
		Region:       e.Server.Account().Region,
		BaseEndpoint: aws.String(e.Server.Endpoint()),
		Credentials:  credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, k.SessionToken),
		Retryer:      ConnectionRetryer(),
		HTTPClient:   e.HTTP,
	})
}

// ConnectionRetryer retries a call, up to three attempts, only when the
// connection failed under it (the SDK's RetryableConnectionError: refused,
// reset, "use of closed network connection"), as every SDK does by default;
// the server's own answers, throttling and 5xx included, come back at once,
// so a test sees exactly what the server said. Without it, a rare reset of
// a loopback connection while a test read an answer (a 200 whose body read
// failed with "use of closed network connection"; seen in two CI runs and
// once on a developer machine, cause not found) failed whole suites.
func ConnectionRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.RateLimiter = ratelimit.None
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
	})
}

// Reply is a raw HTTP answer.
type Reply struct {
	Status  int
	Type    string
	Message string
	Body    []byte
	Header  http.Header
}

// Raw sends a hand-made ECS request signed with the root key, for input an
// SDK would refuse to send. edit may change the request after signing.
func (e *Env) Raw(t testing.TB, op string, body []byte, edit func(*http.Request)) Reply {
	t.Helper()
	return e.RawAt(t, time.Now(), op, body, edit)
}

// RawAt is Raw with the signature dated at.
func (e *Env) RawAt(t testing.TB, at time.Time, op string, body []byte, edit func(*http.Request)) Reply {
	t.Helper()
	c := e.Client(e.Root)
	c.Now = func() time.Time { return at }
	r, err := c.Send(context.Background(), flottaapi.ECSTarget+"."+op, body, edit)
	if err != nil {
		t.Fatal(err)
	}
	reply := Reply{Status: r.Status, Body: r.Body, Header: r.Header}
	var eb struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(r.Body, &eb) == nil {
		reply.Type, reply.Message = eb.Type, eb.Message
	}
	return reply
}

// Client returns Flotta's signed JSON client, signing with k.
func (e *Env) Client(k iam.AccessKey) *flottaapi.Client {
	return &flottaapi.Client{Endpoint: e.Server.Endpoint(), Region: e.Server.Account().Region, HTTP: e.HTTP,
		Credentials: flottaapi.Static(flottaapi.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, SessionToken: k.SessionToken})}
}

// Revision returns the store's revision; equal readings mean nothing was written.
func (e *Env) Revision(t testing.TB) int64 {
	t.Helper()
	rev, err := e.Server.State().Revision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// WaitTask polls DescribeTasks until cond holds for the task, and fails the
// test with what was awaited and what was last seen when timeout passes.
func (e *Env) WaitTask(t testing.TB, arn, what string, timeout time.Duration, cond func(*types.Task) bool) *types.Task {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last *types.Task
	for time.Now().Before(deadline) {
		out, err := e.ECS.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Tasks: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tasks) == 1 {
			last = &out.Tasks[0]
			if cond(last) {
				return last
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("task %s never became %s within %s; last seen %s", arn, what, timeout, ShowTask(last))
	return nil
}

// ShowTask describes a task and its containers in one line, for failures.
func ShowTask(t *types.Task) string {
	if t == nil {
		return "nothing"
	}
	s := fmt.Sprintf("last=%s desired=%s stopCode=%s reason=%q health=%s", aws.ToString(t.LastStatus), aws.ToString(t.DesiredStatus),
		t.StopCode, aws.ToString(t.StoppedReason), t.HealthStatus)
	for _, c := range t.Containers {
		exit := "-"
		if c.ExitCode != nil {
			exit = fmt.Sprint(*c.ExitCode)
		}
		s += fmt.Sprintf(" [%s %s exit=%s health=%s reason=%q]", aws.ToString(c.Name), aws.ToString(c.LastStatus), exit, c.HealthStatus, aws.ToString(c.Reason))
	}
	return s
}

// Eventually polls cond until it holds or timeout passes; it then fails the
// test saying what was awaited and what cond last saw.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, seen := cond()
		if ok {
			return
		}
		last = seen
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; last saw: %s", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ELB returns the SDK's Elastic Load Balancing v2 client, signing as the
// account's root.
func (e *Env) ELB() *elasticloadbalancingv2.Client {
	creds := credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	return elasticloadbalancingv2.New(elasticloadbalancingv2.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()),
		Credentials: creds, HTTPClient: e.HTTP, Retryer: ConnectionRetryer()})
}

// SD returns the SDK's Cloud Map client, signing as the account's root.
// Like any client of a Flotta endpoint it leaves out the "data-" host
// prefix AWS's DiscoverInstances endpoint has (see NoHostPrefix).
func (e *Env) SD() *servicediscovery.Client {
	creds := credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	return servicediscovery.New(servicediscovery.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()),
		Credentials: creds, HTTPClient: e.HTTP, Retryer: ConnectionRetryer(), APIOptions: []func(*middleware.Stack) error{NoHostPrefix}})
}

// NoHostPrefix keeps an SDK client from sending an operation to its
// endpoint's host with a prefix (Cloud Map's DiscoverInstances goes to
// "data-" + host): Flotta serves every operation on one endpoint, and
// "data-127.0.0.1" is no host at all. The Go SDK's own switch for it is this
// context flag; boto3 has Config(inject_host_prefix=False).
func NoHostPrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("FlottaNoHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

// R53 returns the SDK's Route 53 client, signing as the account's root.
func (e *Env) R53() *route53.Client {
	creds := credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	return route53.New(route53.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()),
		Credentials: creds, HTTPClient: e.HTTP, Retryer: ConnectionRetryer()})
}

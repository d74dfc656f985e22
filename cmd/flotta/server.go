package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/agent"
	"github.com/flotta-dev/flotta/internal/cli"
	"github.com/flotta-dev/flotta/internal/images"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/runtime/docker"
	"github.com/flotta-dev/flotta/internal/server"
)

type serverFlags struct {
	dataDir       string
	listen        string
	etcdEndpoints []string
	region        string
	accountID     string
	logLevel      string
	logFormat     string
	lostGrace     time.Duration
	retention     time.Duration
	maxConns      int
	apiRate       float64
	apiBurst      int
	quotas        model.Quotas
	tlsCert       string
	tlsKey        string
	tlsHosts      []string
	tls           bool
	insecureHTTP  bool
	secretsKey    string
	lbHost        string
	noLB          bool
	dnsListen     string
	dnsUpstream   string
	noDNS         bool
}

func (f *serverFlags) add(cmd *cobra.Command, dataDir, listen string) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", dataDir, "directory for the embedded store and the credentials and config files")
	cmd.Flags().StringVar(&f.listen, "listen", listen, "address of the API (HOST:PORT)")
	cmd.Flags().StringSliceVar(&f.etcdEndpoints, "etcd-endpoints", nil, "use an external etcd cluster (comma-separated URLs) instead of the embedded store")
	cmd.Flags().StringVar(&f.region, "region", "us-east-1", "region of the account, set on first start")
	cmd.Flags().StringVar(&f.accountID, "account-id", "", "twelve-digit id of the account, set on first start (default: a random one)")
	cmd.Flags().StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.Flags().StringVar(&f.logFormat, "log-format", "text", "text or json")
	cmd.Flags().DurationVar(&f.lostGrace, "lost-instance-grace", 10*time.Second, "how long an agent may be gone before its service tasks are replaced elsewhere")
	cmd.Flags().DurationVar(&f.retention, "stopped-task-retention", time.Hour, "how long stopped tasks stay describable")
	cmd.Flags().IntVar(&f.maxConns, "max-connections", server.DefaultMaxConnections, fmt.Sprintf("most API connections held at once (within the open-file limit less %d kept for the store)", server.DescriptorReserve))
	cmd.Flags().Float64Var(&f.apiRate, "api-rate", server.DefaultRequestRate, "requests per second each principal may make on average (0: no limit); past it, ThrottlingException")
	cmd.Flags().IntVar(&f.apiBurst, "api-burst", server.DefaultRequestBurst, "requests each principal may make at once")
	cmd.Flags().StringVar(&f.tlsCert, "tls-cert", "", "the API's certificate (PEM, with its chain) instead of one from the server's own CA")
	cmd.Flags().StringVar(&f.tlsKey, "tls-key", "", "the key of --tls-cert (PEM)")
	cmd.Flags().StringSliceVar(&f.tlsHosts, "tls-san", nil, "more host names or addresses for the server's own certificate (comma-separated)")
	cmd.Flags().BoolVar(&f.tls, "tls", false, "serve HTTPS also when listening on loopback only")
	cmd.Flags().StringVar(&f.secretsKey, "secrets-key-file", "", "the key that seals Parameter Store and Secrets Manager values at rest (default DATA_DIR/secrets.key, made on first start; keep a copy apart from etcd's data)")
	lbHost := ""
	if host, _, err := net.SplitHostPort(listen); err == nil && net.ParseIP(host).IsLoopback() {
		lbHost = host // a local server's load balancers stay local too
	}
	cmd.Flags().StringVar(&f.lbHost, "lb-host", lbHost, "address the load balancers' listeners bind (empty: every interface)")
	cmd.Flags().StringVar(&f.dnsListen, "dns-listen", "", "address of the DNS server for Cloud Map namespaces and Route 53 zones, on UDP and TCP (default: --listen's host, port 8053; port 0, a free one, when --listen's port is 0)")
	cmd.Flags().BoolVar(&f.noDNS, "no-dns", false, "serve no DNS")
	cmd.Flags().StringVar(&f.dnsUpstream, "dns-upstream", "", "HOST:PORT to forward DNS queries for names Flotta does not serve (default: refuse them)")
	cmd.Flags().BoolVar(&f.noLB, "no-lb", false, "do not serve load balancer listeners in this process (run `flotta lb serve` elsewhere)")
	cmd.Flags().BoolVar(&f.insecureHTTP, "insecure-http", false, "serve plain HTTP beyond loopback: credentials and tasks cross the network in clear text")
	d := model.DefaultQuotas()
	cmd.Flags().IntVar(&f.quotas.TasksPerService, "max-tasks-per-service", d.TasksPerService, "quota: a service's largest desiredCount")
	cmd.Flags().IntVar(&f.quotas.ServicesPerCluster, "max-services-per-cluster", d.ServicesPerCluster, "quota: services in one cluster")
	cmd.Flags().IntVar(&f.quotas.InstancesPerCluster, "max-instances-per-cluster", d.InstancesPerCluster, "quota: container instances registered in one cluster")
}

// config is the server configuration the flags describe.
func (f *serverFlags) config(logger *slog.Logger) server.Config {
	rate := f.apiRate
	if rate == 0 {
		rate = -1 // the flag's 0 is "no limit"
	}
	return server.Config{DataDir: f.dataDir, Listen: f.listen, EtcdEndpoints: f.etcdEndpoints, Region: f.region, AccountID: f.accountID, Logger: logger,
		LostInstanceGrace: f.lostGrace, StoppedTaskRetention: f.retention, MaxConnections: f.maxConns,
		RequestRate: rate, RequestBurst: f.apiBurst, Quotas: f.quotas,
		TLSCertFile: f.tlsCert, TLSKeyFile: f.tlsKey, TLSHosts: f.tlsHosts, TLS: f.tls, InsecureHTTP: f.insecureHTTP, SecretsKeyFile: f.secretsKey,
		LoadBalancers: !f.noLB, LoadBalancerHost: f.lbHost, DNSListen: f.dnsAddress(), DNSUpstream: f.dnsUpstream}
}

// DefaultDNSPort is the DNS server's port unless --dns-listen says another:
// above 1024, so that no root is needed.
const DefaultDNSPort = "8053"

// dnsAddress is where the DNS server listens: --dns-listen, else the API's
// host on DefaultDNSPort (a free port when the API's is 0, as in tests that
// start many servers).
func (f *serverFlags) dnsAddress() string {
	if f.noDNS {
		return ""
	}
	if f.dnsListen != "" {
		return f.dnsListen
	}
	host, port, err := net.SplitHostPort(f.listen)
	if err != nil {
		return net.JoinHostPort("", DefaultDNSPort)
	}
	if port == "0" {
		return net.JoinHostPort(host, "0")
	}
	return net.JoinHostPort(host, DefaultDNSPort)
}

func (f *serverFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", f.logFormat)
}

func serverCommand() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Flotta control plane",
		Long: `Run the Flotta control plane: the ECS API on --listen, backed by an etcd store
(an embedded member under --data-dir, or an external cluster with --etcd-endpoints).

On first start the server creates the account and a root access key and writes
them to DATA_DIR/credentials (profile [flotta]) next to DATA_DIR/config, which
names the region and endpoint. Point any AWS SDK at them with:

  AWS_CONFIG_FILE=DATA_DIR/config AWS_SHARED_CREDENTIALS_FILE=DATA_DIR/credentials AWS_PROFILE=flotta

Listening beyond loopback (--listen 0.0.0.0:8080), the server serves HTTPS with
a certificate from a CA it makes under DATA_DIR/tls on first start (or with
--tls-cert/--tls-key). The config file then names the CA (ca_bundle), and the
tokens of flotta token create end with its fingerprint, which agents pin: they
trust no other server. Plain HTTP beyond loopback only with --insecure-http.

GET /healthz answers "ok" while the store answers; GET /metrics serves
Prometheus metrics. SIGINT or SIGTERM shut the server down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			logger, err := f.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			srv, err := server.Start(cmd.Context(), f.config(logger))
			if err != nil {
				return err
			}
			return waitAndShutdown(cmd.Context(), srv, logger)
		},
	}
	f.add(cmd, "/var/lib/flotta", "127.0.0.1:8080")
	return cmd
}

func devCommand() *cobra.Command {
	var f serverFlags
	var af agentFlags
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run Flotta locally, all in one process, with embedded defaults",
		Long: `Run the whole of Flotta on this machine with embedded defaults: no
configuration, no network access needed. It listens on 127.0.0.1:8080 (or the
next free port) and keeps its state under ~/.flotta/dev, then prints how to
point the AWS SDKs, the AWS CLI and the flotta CLI at it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.logLevel = "warn"
			logger, err := f.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cfg := f.config(logger)
			cfg.TryNextPorts = 20
			srv, err := server.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			agentErr := startDevAgent(cmd.Context(), srv, f.dataDir, &af, logger)
			printDevBanner(cmd.OutOrStdout(), srv, f.dataDir, agentErr)
			return waitAndShutdown(cmd.Context(), srv, logger)
		},
	}
	f.add(cmd, cli.DefaultDevDataDir(), "127.0.0.1:8080")
	af.add(cmd, false)
	cmd.Flags().MarkHidden("log-level")
	return cmd
}

// startDevAgent runs an agent in this process against the local Docker
// engine, with the demo image and task definition ready. It returns why it
// could not, if it could not: the control plane still runs.
func startDevAgent(ctx context.Context, srv *server.Server, dataDir string, af *agentFlags, logger *slog.Logger) error {
	rt, err := docker.New(ctx)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	_, err = images.Ensure(ctx, rt, images.Spec{Repository: "flotta/demo-app", Binary: self,
		Entrypoint: []string{"/flotta", "demo-app"}, AlsoTag: "latest"})
	rt.Close()
	if err != nil {
		return fmt.Errorf("make the demo image: %w", err)
	}
	if err := cli.EnsureDemoTaskDefinition(ctx, dataDir, "flotta/demo-app:latest"); err != nil {
		return fmt.Errorf("register the demo task definition: %w", err)
	}
	token, _, err := srv.IAM().CreateJoinToken(ctx, time.Hour, 1, "flotta dev")
	if err != nil {
		return err
	}
	af.server, af.cluster, af.token, af.dataDir = srv.Endpoint(), "default", token, filepath.Join(dataDir, "agent")
	af.caFingerprint = srv.TLSFingerprint()
	ready := make(chan struct{})
	failed := make(chan error, 1)
	go func() {
		err := af.runAgent(ctx, logger, func(*agent.Agent) { close(ready) })
		if err != nil && ctx.Err() == nil {
			logger.Error("the agent stopped", "err", err)
			failed <- err
		}
	}()
	select {
	case <-ready:
		return nil
	case err := <-failed:
		return err
	case <-time.After(60 * time.Second):
		return fmt.Errorf("the agent did not register within 60s")
	}
}

func printDevBanner(w io.Writer, srv *server.Server, dataDir string, agentErr error) {
	env := fmt.Sprintf("export AWS_CONFIG_FILE=%s AWS_SHARED_CREDENTIALS_FILE=%s AWS_PROFILE=%s",
		srv.ConfigFile(), srv.CredentialsFile(), server.ProfileName)
	dataFlag := ""
	if dataDir != cli.DefaultDevDataDir() {
		dataFlag = " --data-dir " + dataDir
	}
	agentLine := "  Agent      one container instance on the local Docker engine"
	if agentErr != nil {
		agentLine = "  Agent      not running: " + agentErr.Error() + "\n             (the control plane works; tasks cannot run)"
	}
	lines := []string{
		"",
		"  Flotta is running.",
		"",
		"  Endpoint   " + srv.Endpoint(),
		"  Region     " + srv.Account().Region,
		"  Profile    " + server.ProfileName + "  (credentials in " + srv.CredentialsFile() + ")",
		"  Data       " + dataDir,
		agentLine,
		dnsLine(srv),
		"",
		"  Try it from another terminal:",
		"",
		"    flotta cluster ls" + dataFlag,
		"    flotta run demo --wait" + dataFlag,
		"    flotta task ls" + dataFlag + "      # then: curl localhost:PORT (the PORTS column)",
		"",
		"    " + env,
		"    aws ecs list-clusters",
		"",
		"  Press Ctrl-C to stop.",
		"",
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}

// dnsLine says where the DNS server answers.
func dnsLine(srv *server.Server) string {
	if srv.DNSAddr() == "" {
		return "  DNS        not served (--no-dns)"
	}
	return "  DNS        " + srv.DNSAddr() + "  (Cloud Map namespaces, Route 53 zones: flotta dns query NAME)"
}

func waitAndShutdown(ctx context.Context, srv *server.Server, logger *slog.Logger) error {
	select {
	case <-ctx.Done():
	case err := <-srv.Done():
		return fmt.Errorf("server stopped: %w", err)
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

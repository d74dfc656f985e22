// Package server assembles Flotta's control plane: the store (embedded etcd or
// an external cluster), the account and its keys, the API handlers behind the
// AWS protocol layer, metrics and health, and the HTTP listener with graceful
// shutdown. It wires; the parts it wires do the work.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	ecsapi "github.com/flotta-dev/flotta/internal/api/ecs"
	elbv2api "github.com/flotta-dev/flotta/internal/api/elbv2"
	iamapi "github.com/flotta-dev/flotta/internal/api/iam"
	route53api "github.com/flotta-dev/flotta/internal/api/route53"
	smapi "github.com/flotta-dev/flotta/internal/api/secretsmanager"
	sdapi "github.com/flotta-dev/flotta/internal/api/servicediscovery"
	ssmapi "github.com/flotta-dev/flotta/internal/api/ssm"
	"github.com/flotta-dev/flotta/internal/connlimit"
	"github.com/flotta-dev/flotta/internal/controller"
	"github.com/flotta-dev/flotta/internal/dns"
	"github.com/flotta-dev/flotta/internal/dnssync"
	"github.com/flotta-dev/flotta/internal/events"
	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/gateway"
	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/lb"
	"github.com/flotta-dev/flotta/internal/lbsync"
	"github.com/flotta-dev/flotta/internal/metrics"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol/awsjson"
	"github.com/flotta-dev/flotta/internal/protocol/query"
	"github.com/flotta-dev/flotta/internal/protocol/restxml"
	"github.com/flotta-dev/flotta/internal/scheduler"
	"github.com/flotta-dev/flotta/internal/sealing"
	"github.com/flotta-dev/flotta/internal/state"
)

// ProfileName is the profile of the credentials and config files a server writes.
const ProfileName = "flotta"

// Config says how to run a server.
type Config struct {
	// DataDir holds the embedded store and the credentials and config files.
	DataDir string
	// Listen is the address of the API, e.g. 127.0.0.1:8080.
	Listen string
	// TryNextPorts lets the server move up to this many ports on when Listen's
	// port is taken (flotta dev does; flotta server does not).
	TryNextPorts int
	// EtcdEndpoints, when set, use an external etcd cluster instead of the
	// embedded member.
	EtcdEndpoints []string
	// Region is the account's region, used on first start only.
	Region string
	// AccountID is the account's id, used on first start only; "" picks a
	// random one.
	AccountID string
	Logger    *slog.Logger
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
	// LostInstanceGrace is how long an agent may be gone before its
	// instance's service tasks are replaced elsewhere (default 10s).
	LostInstanceGrace time.Duration
	// StoppedTaskRetention is how long stopped tasks stay describable (default 1h).
	StoppedTaskRetention time.Duration
	// Quotas override ECS's default service quotas where set.
	Quotas model.Quotas
	// MaxConnections caps API connections (default DefaultMaxConnections),
	// within the open-file limit less DescriptorReserve.
	MaxConnections int
	// RequestRate and RequestBurst throttle each principal (defaults
	// DefaultRequestRate and DefaultRequestBurst; a negative rate: none).
	RequestRate  float64
	RequestBurst int
	// TLSCertFile and TLSKeyFile are the API's certificate (with its chain)
	// and key; without them a server that serves HTTPS issues its own from
	// the CA it keeps in DataDir/tls.
	TLSCertFile, TLSKeyFile string
	// TLSHosts are more names or addresses for the server's own certificate.
	TLSHosts []string
	// TLS serves HTTPS also on loopback; InsecureHTTP serves plain HTTP
	// beyond it. By default the API serves HTTPS unless it listens on
	// loopback only.
	TLS, InsecureHTTP bool
	// SecretsKeyFile holds the key that seals secret values at rest
	// (default DataDir/secrets.key, made on first start). It is never in
	// the store: keep it, and back it up, apart from etcd's data.
	SecretsKeyFile string
	// LoadBalancers runs the load balancer data plane in this server: the
	// listeners of every load balancer bind on LoadBalancerHost ("" for
	// every interface). Separate `flotta lb serve` processes can serve the
	// same configuration besides.
	LoadBalancers    bool
	LoadBalancerHost string
	// DNSListen is where the DNS server answers, on UDP and TCP, for Cloud
	// Map's DNS namespaces and Route 53's hosted zones ("" serves none).
	// DNSUpstream, when set, is where it forwards names it does not own;
	// without one it refuses them.
	DNSListen, DNSUpstream string
	// Route53CheckInterval, when set, probes every Route 53 health check
	// this often instead of at its RequestInterval, and the DNS server
	// reads the target health of aliases that evaluate it this often
	// (tests use it).
	Route53CheckInterval time.Duration
	// NoRoute53HealthChecks probes no Route 53 health check (tests whose
	// health checks name endpoints beyond this machine set it).
	NoRoute53HealthChecks bool
}

// Server is a running control plane.
type Server struct {
	cfg      Config
	iam      *iam.IAM
	state    *state.State
	http     *http.Server
	listener net.Listener
	conns    *connlimit.Limiter
	served   chan error
	sched    *scheduler.Scheduler
	stop     context.CancelFunc
	loops    sync.WaitGroup
	sec      security
	box      *sealing.Box
	// lbSource builds load balancer configurations; balancer is the
	// in-process data plane (nil unless Config.LoadBalancers).
	lbSource *lbsync.Source
	balancer *lb.Balancer
	// dns answers service discovery and hosted zones (nil unless
	// Config.DNSListen).
	dns *dns.Server
	// metrics takes the data planes' metrics too.
	metrics *metrics.Metrics
	// FirstStart reports whether this start created the account.
	FirstStart bool
}

// Start opens the store, bootstraps the account on first start, writes the
// credentials and config files, and begins answering requests. It returns
// once the listener is bound.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DataDir == "" {
		return nil, errors.New("a data directory is required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	maxConns, err := connectionLimit(cfg.MaxConnections)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, served: make(chan error, 1), conns: &connlimit.Limiter{Max: maxConns}}
	if err := s.setupTLS(); err != nil {
		return nil, err
	}
	keyFile := cfg.SecretsKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(cfg.DataDir, "secrets.key")
	}
	if s.box, err = sealing.LoadOrCreate(keyFile); err != nil {
		return nil, err
	}
	s.state, err = state.Open(ctx, state.Options{Dir: filepath.Join(cfg.DataDir, "etcd"), EtcdEndpoints: cfg.EtcdEndpoints, Logger: cfg.Logger,
		PeerCertFile: s.sec.peerCert, PeerKeyFile: s.sec.peerKey, PeerCAFile: s.sec.peerCA})
	if err != nil {
		return nil, err
	}
	if err := s.bootstrap(ctx); err != nil {
		s.state.Close()
		return nil, err
	}
	if err := s.listen(); err != nil {
		s.state.Close()
		return nil, err
	}
	s.sched = &scheduler.Scheduler{State: s.state, Logger: cfg.Logger}
	handler := s.routes()
	if cfg.DNSListen != "" {
		if s.dns, err = dns.New(dns.Options{Addr: cfg.DNSListen, Upstream: cfg.DNSUpstream, Logger: cfg.Logger.With("component", "dns"), Registerer: s.metrics.Registerer()}); err != nil {
			s.closeDataPlanes()
			s.listener.Close()
			s.state.Close()
			return nil, fmt.Errorf("serve DNS on %s (choose another address with --dns-listen, or --no-dns): %w", cfg.DNSListen, err)
		}
	}
	if err := s.writeClientFiles(ctx); err != nil {
		s.closeDataPlanes()
		s.listener.Close()
		s.state.Close()
		return nil, err
	}
	s.startLoops()
	s.http = &http.Server{
		Handler:           s.conns.Handler(handler),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         s.conns.ConnState,
		ConnContext:       s.conns.ConnContext,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	ln := s.conns.Listener(s.listener)
	if s.sec.cert != nil {
		s.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*s.sec.cert}, MinVersion: tls.VersionTLS12}
		go func() { s.served <- s.http.ServeTLS(ln, "", "") }()
	} else {
		go func() { s.served <- s.http.Serve(ln) }()
	}
	log := cfg.Logger.With("endpoint", s.Endpoint(), "region", s.iam.Account().Region,
		"account", s.iam.Account().ID, "data_dir", cfg.DataDir, "first_start", s.FirstStart)
	if s.sec.pin != "" {
		log = log.With("ca_fingerprint", s.sec.pin)
	}
	log.Info("flotta server ready")
	return s, nil
}

func (s *Server) bootstrap(ctx context.Context) error {
	m, created, err := iam.Open(ctx, s.state, iam.NewAccount{Region: s.cfg.Region, ID: s.cfg.AccountID}, s.cfg.Now)
	if err != nil {
		return fmt.Errorf("open account: %w", err)
	}
	s.iam, s.FirstStart = m, created
	acct := m.Account()
	if !created && acct.Region != s.cfg.Region {
		s.cfg.Logger.Warn("the account keeps the region it was created with", "region", acct.Region, "requested", s.cfg.Region)
	}
	if !created && s.cfg.AccountID != "" && acct.ID != s.cfg.AccountID {
		s.cfg.Logger.Warn("the account keeps the id it was created with", "account", acct.ID, "requested", s.cfg.AccountID)
	}
	s.state.Scope, s.state.Clock, s.state.Limits = acct.Scope(), s.cfg.Now, s.cfg.Quotas
	return s.state.EnsureDefaultCluster(ctx, []model.ClusterSetting{{Name: "containerInsights", Value: model.SettingFallback("containerInsights")}})
}

func (s *Server) listen() error {
	host, portStr, err := net.SplitHostPort(s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", s.cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("listen address %q: bad port", s.cfg.Listen)
	}
	for i := 0; ; i++ {
		addr := net.JoinHostPort(host, strconv.Itoa(port+i))
		l, err := net.Listen("tcp", addr)
		if err == nil {
			s.listener = l
			return nil
		}
		if i >= s.cfg.TryNextPorts || port == 0 || !errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
	}
}

// routes wires the API's handlers, metrics and health behind one handler.
// It starts nothing: startLoops does.
func (s *Server) routes() http.Handler {
	m := metrics.New()
	s.metrics = m
	api := &ecsapi.API{State: s.state, Scheduler: s.sched, Logger: s.cfg.Logger,
		PlanRollout: func(ctx context.Context, next *state.ServiceRecord, newDeployment bool) (*flottaapi.RolloutPlan, error) {
			return controller.PlanRollout(ctx, s.state, s.sched, next, newDeployment)
		},
		Endpoint: s.Endpoint, PassRole: s.iam.PassRole}
	// Policies that test aws:ResourceTag/KEY see ECS resources' tags.
	s.iam.UseResourceTags(func(ctx context.Context, arn string) (map[string]string, error) {
		if !strings.HasPrefix(arn, "arn:"+s.iam.Account().Partition+":ecs:") {
			return nil, nil
		}
		return api.ResourceTags(ctx, arn)
	})
	observeConnections(m, s.conns)
	observeDisk(m, s.state)
	router := &awsjson.Router{Auth: s.iam, Authz: s.iam, Observer: m, Logger: s.cfg.Logger,
		Limit: newThrottle(s.cfg.RequestRate, s.cfg.RequestBurst)}
	router.Handle(api.Service())
	params := &ssmapi.API{State: s.state, Box: s.box, Now: s.cfg.Now}
	router.Handle(params.Service())
	secrets := &smapi.API{State: s.state, Box: s.box, Now: s.cfg.Now}
	router.Handle(secrets.Service())
	router.Handle((&sdapi.API{State: s.state, Now: s.cfg.Now}).Service())
	// A task's secrets are read as its execution role may read them.
	resolve := func(ctx context.Context, valueFrom, executionRole, taskID string) (string, error) {
		action, resource, read := "ssm:GetParameters", valueFrom, params.Resolve
		if strings.Contains(valueFrom, ":secretsmanager:") {
			action, read = "secretsmanager:GetSecretValue", secrets.Resolve
			// The secret's own ARN, without ECS's :json-key:stage:id selector.
			if parts := strings.SplitN(valueFrom, ":", 8); len(parts) >= 7 {
				resource = strings.Join(parts[:7], ":")
			}
		} else if !strings.HasPrefix(valueFrom, "arn:") {
			resource = params.ARN(valueFrom)
		}
		if executionRole != "" {
			if err := s.iam.ExecutionRoleAllows(ctx, executionRole, taskID, action, resource); err != nil {
				return "", err
			}
		}
		return read(ctx, valueFrom)
	}
	flotta := (&gateway.Gateway{State: s.state, IAM: s.iam, Logger: s.cfg.Logger, Pin: s.sec.pin, Secrets: resolve, Now: s.cfg.Now}).Service()
	for name, op := range api.FlottaOps() {
		flotta.Ops[name] = op
	}
	flotta.Ops["GetEvents"] = awsjson.Op((&events.Stream{State: s.state}).Read)
	// Load balancer data planes follow the configuration and report health.
	s.lbSource = &lbsync.Source{State: s.state, Box: s.box, BindHost: s.cfg.LoadBalancerHost}
	flotta.Ops["GetLoadBalancerConfig"] = awsjson.Op(s.lbSource.GetConfig)
	flotta.Ops["PutTargetHealth"] = awsjson.Op(s.lbSource.PutHealth)
	if s.cfg.LoadBalancers {
		log := s.cfg.Logger.With("component", "lb")
		b, err := lb.New(lb.Options{Registerer: m.Registerer(), Logger: log, OnHealthChange: func(h lb.TargetHealth) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.lbSource.RecordHealth(ctx, h); err != nil {
				log.Warn("record target health", "target", h.Target.ID, "err", err)
			}
		}, OnDrained: func(d lb.Drained) {
			// Nothing in flight: the deregistration ends early, as ELB ends
			// it, unless another data plane may still be sending.
			if d.Reason != lb.DrainIdle || s.lbSource.RemotesActive(time.Now()) {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.lbSource.EndDrain(ctx, d); err != nil {
				log.Warn("end a drained target's deregistration", "target", d.Target.ID, "err", err)
			}
		}})
		if err != nil {
			log.Error("start the load balancer data plane", "err", err)
		} else {
			s.balancer = b
		}
	}
	router.Handle(flotta)

	// IAM and STS speak the AWS Query protocol: form bodies, XML answers.
	iamAPI := &iamapi.API{IAM: s.iam, State: s.state, Box: s.box, Now: s.cfg.Now}
	queries := &query.Router{Auth: s.iam, Authz: s.iam, Observer: m, Logger: s.cfg.Logger,
		Limit: newThrottle(s.cfg.RequestRate, s.cfg.RequestBurst)}
	queries.Handle(iamAPI.Service())
	queries.Handle(iamAPI.STSService())
	queries.Handle((&elbv2api.API{State: s.state, Now: s.cfg.Now}).Service())

	// Route 53 speaks REST-XML: the operation is the method and the path.
	rest := &restxml.Router{Auth: s.iam, Authz: s.iam, Observer: m, Logger: s.cfg.Logger,
		Limit: newThrottle(s.cfg.RequestRate, s.cfg.RequestBurst)}
	rest.Handle((&route53api.API{State: s.state, Now: s.cfg.Now, CheckerIP: s.checkerIP()}).Service())

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("/", byProtocol(router, queries, rest))
	return mux
}

// byProtocol sends AWS JSON requests (they name their operation in
// X-Amz-Target) to one handler, AWS Query requests (Action= in a form) to
// another, and REST-XML requests (paths under a REST service's prefix, such
// as Route 53's /2013-04-01/) to the third.
func byProtocol(jsonAPI, queryAPI http.Handler, restAPI *restxml.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "" && restAPI.Serves(r) {
			restAPI.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("X-Amz-Target") == "" && (strings.HasPrefix(r.Header.Get("Content-Type"), query.ContentType) || r.URL.Query().Has("Action")) {
			queryAPI.ServeHTTP(w, r)
			return
		}
		jsonAPI.ServeHTTP(w, r)
	})
}

// startLoops starts what runs on its own until Shutdown: the scheduler's
// placement loops, the controllers that keep services running, notice lost
// agents, reap stopped tasks and register services' tasks with load
// balancers, and the in-process load balancer data plane.
func (s *Server) startLoops() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.sched.Start(ctx)
	log := s.cfg.Logger
	for _, run := range []func(context.Context){
		(&controller.Services{State: s.state, Scheduler: s.sched, Logger: log.With("controller", "services")}).Run,
		(&controller.LostInstances{State: s.state, Logger: log.With("controller", "instances"), Grace: s.cfg.LostInstanceGrace}).Run,
		(&controller.Reaper{State: s.state, Logger: log.With("controller", "reaper"), Retention: s.cfg.StoppedTaskRetention}).Run,
		(&controller.Targets{State: s.state, Logger: log.With("controller", "targets")}).Run,
		(&controller.Hooks{State: s.state, Scheduler: s.sched, Logger: log.With("controller", "hooks")}).Run,
		(&controller.DiscoveryOps{State: s.state, Logger: log.With("controller", "cloudmap-operations")}).Run,
		(&controller.Registries{State: s.state, Logger: log.With("controller", "registries")}).Run,
	} {
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			run(ctx)
		}()
	}
	if !s.cfg.NoRoute53HealthChecks {
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			s.route53HealthChecks(log).Run(ctx)
		}()
	}
	if s.balancer != nil {
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			s.lbSource.Follow(ctx, log.With("component", "lb"), 0, s.balancer.Apply)
		}()
	}
	if s.dns != nil {
		src := &dnssync.Source{State: s.state, Logger: log.With("component", "dns"), LBAddress: s.cfg.LoadBalancerHost,
			AliasHealthEvery: s.cfg.Route53CheckInterval}
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			src.Follow(ctx, s.dns)
		}()
	}
}

// route53HealthChecks is the checker of Route 53 health checks.
func (s *Server) route53HealthChecks(log *slog.Logger) *controller.R53HealthChecks {
	c := &controller.R53HealthChecks{State: s.state, Logger: log.With("controller", "route53-health-checks"), Now: s.cfg.Now,
		Interval: s.cfg.Route53CheckInterval}
	if c.Interval > 0 && c.Interval < time.Second {
		c.Tick = c.Interval
	}
	return c
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.state.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "store unavailable: %v\n", err)
		return
	}
	if u, ok := s.state.DiskUsage(); ok && (u.ReadOnly || u.Alarmed) {
		fmt.Fprintln(w, "ok, read-only: the store is out of disk space and refuses writes")
		return
	}
	fmt.Fprintln(w, "ok")
}

// CredentialsFile is where the server writes the root key, as an AWS
// shared-credentials file with profile [flotta].
func (s *Server) CredentialsFile() string { return filepath.Join(s.cfg.DataDir, "credentials") }

// ConfigFile is where the server writes an AWS shared-config file whose
// [profile flotta] names the region and this endpoint.
func (s *Server) ConfigFile() string { return filepath.Join(s.cfg.DataDir, "config") }

func (s *Server) writeClientFiles(ctx context.Context) error {
	root, err := s.iam.RootAccessKey(ctx)
	if err != nil {
		return err
	}
	if err := iam.WriteCredentialsFile(s.CredentialsFile(), ProfileName, root); err != nil {
		return fmt.Errorf("write credentials file: %w", err)
	}
	body := fmt.Sprintf("[profile %s]\nregion = %s\nendpoint_url = %s\n%s", ProfileName, s.iam.Account().Region, s.Endpoint(), s.clientConfigLines())
	if err := os.WriteFile(s.ConfigFile(), []byte(body), 0o600); err != nil {
		return fmt.Errorf("write config file: %w", err)
	}
	return nil
}

// Addr is the address the API listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// closeDataPlanes stops the load balancer and DNS data planes.
func (s *Server) closeDataPlanes() {
	if s.balancer != nil {
		s.balancer.Close()
	}
	if s.dns != nil {
		s.dns.Close()
	}
}

// DNSAddr is where the DNS server answers ("" when it serves none).
func (s *Server) DNSAddr() string {
	if s.dns == nil {
		return ""
	}
	return s.dns.Addr()
}

// Endpoint is the API's base URL.
func (s *Server) Endpoint() string {
	if s.sec.cert != nil {
		return "https://" + s.endpointHost()
	}
	return "http://" + s.endpointHost()
}

// Account is the account the server serves.
func (s *Server) Account() iam.Account { return s.iam.Account() }

// RootAccessKey returns the root credentials (for the dev banner and tests).
func (s *Server) RootAccessKey(ctx context.Context) (iam.AccessKey, error) {
	return s.iam.RootAccessKey(ctx)
}

// IAM exposes the identity service, for tests that issue extra credentials.
func (s *Server) IAM() *iam.IAM { return s.iam }

// State exposes the state, for tests that check nothing changed or follow changes.
func (s *Server) State() *state.State { return s.state }

// Done is closed with the serve loop's error when the listener stops.
func (s *Server) Done() <-chan error { return s.served }

// Shutdown stops accepting requests, lets those in flight finish (until ctx
// ends), and closes the store.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.stop()
	s.sched.Wait()
	s.loops.Wait()
	s.closeDataPlanes()
	if cerr := s.state.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkerIP is the address the Route 53 health checker probes from, as
// GetHealthCheckStatus reports it: the API's listen address, or when that
// is every interface, the first address of this machine that is not
// loopback (127.0.0.1 when there is none).
func (s *Server) checkerIP() string {
	if ap, err := netip.ParseAddrPort(s.listener.Addr().String()); err == nil && !ap.Addr().IsUnspecified() {
		return ap.Addr().Unmap().String()
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && !p.Addr().IsLoopback() && !p.Addr().IsLinkLocalUnicast() && p.Addr().Is4() {
			return p.Addr().String()
		}
	}
	return "127.0.0.1"
}

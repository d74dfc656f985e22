package store

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"

	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
)

// EmbeddedOptions tune the single etcd member that a server runs in its data dir.
type EmbeddedOptions struct {
	// Dir is where the member keeps its WAL and snapshots.
	Dir string
	// LogLevel is etcd's own log level (debug, info, warn, error); default "error".
	LogLevel string
	// StartTimeout bounds how long to wait for the member to be ready; default 60s.
	StartTimeout time.Duration
	// ClientURL, when set (e.g. http://127.0.0.1:0), also serves etcd clients
	// there, so that other processes can use this member as an external store.
	// By default the member serves no clients on the network.
	ClientURL string
	// QuotaBytes overrides the database quota, which otherwise follows the
	// disk's size (see quotaFor).
	QuotaBytes int64
	// Logger tells of disk trouble; nil means slog.Default().
	Logger *slog.Logger
	// TendEvery is how often the store checks whether it can clear a space
	// alarm; default 5s.
	TendEvery time.Duration
	// PeerCertFile, PeerKeyFile and PeerCAFile, when set, make the member's
	// peer port speak TLS and accept only peers with a certificate from
	// that CA.
	PeerCertFile, PeerKeyFile, PeerCAFile string
}

// OpenEmbedded starts (or restarts) a single etcd member under opts.Dir and
// returns a store that talks to it in-process, without a network hop.
func OpenEmbedded(ctx context.Context, opts EmbeddedOptions) (*Store, error) {
	if opts.LogLevel == "" {
		opts.LogLevel = "error"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create store dir: %w", err)
	}
	abs, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("store dir: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.TendEvery == 0 {
		opts.TendEvery = 5 * time.Second
	}
	cfg := embed.NewConfig()
	cfg.Name = "flotta"
	cfg.Dir = filepath.Join(abs, "member-data")
	_, statErr := os.Stat(cfg.Dir)
	quota, err := checkDisk(abs, os.IsNotExist(statErr))
	if err != nil {
		return nil, err
	}
	if opts.QuotaBytes > 0 {
		quota = opts.QuotaBytes
	}
	lg, err := etcdLogger(opts.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("etcd log level: %w", err)
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	// The server talks to its member in-process (v3client), so the member
	// serves no clients on the network at all. Raft still wants a peer
	// listener; a single member takes an ephemeral loopback port nobody dials.
	peer := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	if opts.PeerCertFile != "" {
		peer.Scheme = "https"
		cfg.PeerTLSInfo = transport.TLSInfo{CertFile: opts.PeerCertFile, KeyFile: opts.PeerKeyFile,
			TrustedCAFile: opts.PeerCAFile, ClientCertAuth: true}
	}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.ListenClientUrls = nil
	cfg.AdvertiseClientUrls = nil
	if opts.ClientURL != "" {
		u, err := url.Parse(opts.ClientURL)
		if err != nil {
			return nil, fmt.Errorf("client URL %q: %w", opts.ClientURL, err)
		}
		cfg.ListenClientUrls = []url.URL{*u}
		cfg.AdvertiseClientUrls = []url.URL{*u}
	}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	// Keep enough history for watches to resume, and no more.
	cfg.AutoCompactionMode = "revision"
	cfg.AutoCompactionRetention = "100000"
	cfg.MaxTxnOps = 1024
	cfg.MaxRequestBytes = 8 * 1024 * 1024
	cfg.QuotaBackendBytes = quota
	cfg.MaxWalFiles = maxWALFiles

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", opts.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-time.After(opts.StartTimeout):
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s not ready after %s", opts.Dir, opts.StartTimeout)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	cli := v3client.New(e.Server)
	var endpoints []string
	for _, c := range e.Clients {
		endpoints = append(endpoints, "http://"+c.Addr().String())
	}
	tendCtx, stopTending := context.WithCancel(context.Background())
	s := &Store{
		cli:       cli,
		endpoints: endpoints,
		MaxOps:    int(cfg.MaxTxnOps),
		disk:      &diskGuard{path: abs, quota: quota, log: opts.Logger},
		member:    e.Server,
	}
	for _, p := range e.Peers {
		s.peerAddrs = append(s.peerAddrs, p.Listener.Addr().String())
	}
	tended := make(chan struct{})
	go func() {
		defer close(tended)
		s.tend(tendCtx, opts.TendEvery)
	}()
	s.closeFn = func() error {
		stopTending()
		<-tended
		cli.Close()
		e.Close()
		return nil
	}
	return s, nil
}

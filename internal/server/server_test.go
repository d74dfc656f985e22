package server

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/state"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	srv, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func stop(t *testing.T, srv *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestFirstStartWritesClientFilesAndRestartKeepsTheAccount(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := start(t, Config{DataDir: dir, Region: "eu-west-1", Logger: logger})
	if !srv.FirstStart {
		t.Fatal("an empty data dir must be a first start")
	}
	root, err := srv.RootAccessKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	acct := srv.Account()
	creds, err := os.ReadFile(filepath.Join(dir, "credentials"))
	if err != nil {
		t.Fatal(err)
	}
	want := "[flotta]\naws_access_key_id = " + root.AccessKeyID + "\naws_secret_access_key = " + root.SecretAccessKey + "\n"
	if string(creds) != want {
		t.Fatalf("credentials file:\n%s", creds)
	}
	for _, f := range []string{"credentials", "config"} {
		if fi, _ := os.Stat(filepath.Join(dir, f)); fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "config"))
	if string(cfg) != "[profile flotta]\nregion = eu-west-1\nendpoint_url = "+srv.Endpoint()+"\n" {
		t.Fatalf("config file:\n%s", cfg)
	}
	stop(t, srv)

	// The user loses the credentials file; the next start writes it again.
	os.Remove(filepath.Join(dir, "credentials"))
	srv = start(t, Config{DataDir: dir, Region: "us-west-2", Logger: logger})
	defer stop(t, srv)
	if srv.FirstStart || srv.Account() != acct {
		t.Fatalf("restart made a new account: %+v, was %+v", srv.Account(), acct)
	}
	again, _ := os.ReadFile(filepath.Join(dir, "credentials"))
	if string(again) != want {
		t.Fatal("the credentials file was not restored with the same key")
	}
	if !strings.Contains(logs.String(), "keeps the region") {
		t.Fatal("a changed --region on restart must be reported")
	}
	if strings.Contains(logs.String(), root.SecretAccessKey) {
		t.Fatal("the root secret appeared in the log")
	}
}

func TestExternalEtcdIsSharedByTwoServers(t *testing.T) {
	ctx := context.Background()
	etcd, err := state.Open(ctx, state.Options{Dir: t.TempDir(), ClientURL: "http://127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	endpoints := etcd.ClientEndpoints()
	if len(endpoints) != 1 {
		t.Fatalf("endpoints %v", endpoints)
	}
	a := start(t, Config{DataDir: t.TempDir(), EtcdEndpoints: endpoints})
	defer stop(t, a)
	b := start(t, Config{DataDir: t.TempDir(), EtcdEndpoints: endpoints})
	defer stop(t, b)
	if !a.FirstStart || b.FirstStart || a.Account() != b.Account() {
		t.Fatalf("two servers on one store must share one account: %+v (first %v) vs %+v (first %v)", a.Account(), a.FirstStart, b.Account(), b.FirstStart)
	}
	ka, _ := a.RootAccessKey(ctx)
	kb, _ := b.RootAccessKey(ctx)
	if ka != kb {
		t.Fatal("two servers on one store must hand out the same root key")
	}
	if _, err := Start(ctx, Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EtcdEndpoints: []string{"http://127.0.0.1:1"}}); err == nil {
		t.Fatal("an unreachable etcd must be an error at start")
	}
}

func TestAccountIDIsSetOnFirstStartOnly(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	srv := start(t, Config{DataDir: dir, AccountID: "123456789012", Logger: logger})
	if srv.Account().ID != "123456789012" || !strings.HasPrefix(srv.Account().Scope().ClusterARN("x"), "arn:aws:ecs:us-east-1:123456789012:") {
		t.Fatalf("account %+v, want id 123456789012", srv.Account())
	}
	stop(t, srv)
	srv = start(t, Config{DataDir: dir, AccountID: "999999999999", Logger: logger})
	defer stop(t, srv)
	if srv.Account().ID != "123456789012" || !strings.Contains(logs.String(), "keeps the id") {
		t.Fatalf("restart with another id: account %s, log %s", srv.Account().ID, logs.String())
	}
	for _, bad := range []string{"12345", "12345678901a", "1234567890123"} {
		if _, err := Start(context.Background(), Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", AccountID: bad}); err == nil || !strings.Contains(err.Error(), "twelve digits") {
			t.Fatalf("account id %q: %v", bad, err)
		}
	}
}

func TestTooFewDescriptorsIsAClearError(t *testing.T) {
	if n, err := connectionLimit(100); err != nil || n > 100 {
		t.Fatalf("a configured cap of 100: %d %v", n, err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	if n, _ := connectionLimit(0); n != min(DefaultMaxConnections, int(lim.Cur)-DescriptorReserve) {
		t.Fatalf("default cap %d with an open-file limit of %d", n, lim.Cur)
	}
	// A soft limit too low for the store's reserve (lowered for a moment:
	// the soft limit can be raised back to the hard one).
	low := lim
	low.Cur = DescriptorReserve + 10
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skipf("cannot lower the open-file limit: %v", err)
	}
	_, err := connectionLimit(0)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil || !strings.Contains(err.Error(), "ulimit -n") {
		t.Fatalf("with an open-file limit of %d: %v", low.Cur, err)
	}
}

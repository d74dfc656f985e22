package state

import (
	"context"
	"log/slog"
	"time"

	"github.com/flotta-dev/flotta/internal/store"
)

// Options say where a State's store is.
type Options struct {
	// Dir holds an embedded etcd member (used when EtcdEndpoints is empty).
	Dir string
	// EtcdEndpoints, when set, are an external etcd cluster to use instead.
	EtcdEndpoints []string
	// ClientURL, for an embedded member, also serves etcd clients there (so
	// that other servers can share it as an external store).
	ClientURL string
	// Logger tells of the store's disk trouble.
	Logger *slog.Logger
	// PeerCertFile, PeerKeyFile and PeerCAFile secure an embedded member's
	// peer port (see store.EmbeddedOptions).
	PeerCertFile, PeerKeyFile, PeerCAFile string
}

// Open opens the store Options name and returns the State on it. Its Scope
// is set by the caller once the account is known.
func Open(ctx context.Context, o Options) (*State, error) {
	var st *store.Store
	var err error
	if len(o.EtcdEndpoints) > 0 {
		st, err = store.Connect(ctx, o.EtcdEndpoints)
	} else {
		st, err = store.OpenEmbedded(ctx, store.EmbeddedOptions{Dir: o.Dir, Logger: o.Logger, ClientURL: o.ClientURL,
			PeerCertFile: o.PeerCertFile, PeerKeyFile: o.PeerKeyFile, PeerCAFile: o.PeerCAFile})
	}
	if err != nil {
		return nil, err
	}
	return &State{db: st}, nil
}

// Close releases the store.
func (s *State) Close() error { return s.db.Close() }

// Ping checks that the store answers within the context's deadline.
func (s *State) Ping(ctx context.Context) error { return s.db.Ping(ctx) }

// Revision is the store's current revision: every committed write raises it,
// so two equal readings mean nothing was written in between. Watches resume
// from one.
func (s *State) Revision(ctx context.Context) (int64, error) { return s.db.Revision(ctx) }

// Compact drops the history before revision rev (the store also does so on
// its own, keeping the last 100,000 revisions): watches and event cursors
// from before it are refused.
func (s *State) Compact(ctx context.Context, rev int64) error { return s.db.Compact(ctx, rev) }

// ClientEndpoints are where an embedded member serves etcd clients, when
// Options.ClientURL asked for it.
func (s *State) ClientEndpoints() []string { return s.db.ClientEndpoints() }

// DiskUsage is the state of an embedded store's disk.
type DiskUsage = store.DiskUsage

// DiskUsage reports the embedded store's disk; ok is false for an external one.
func (s *State) DiskUsage() (u DiskUsage, ok bool) { return s.db.DiskUsage() }

// Errors of the store that callers act on.
var (
	// ErrConflict: a guarded write met a change; read again and retry.
	ErrConflict = store.ErrConflict
	// ErrCompacted: a watch started from a revision the store no longer
	// keeps; read everything afresh.
	ErrCompacted = store.ErrCompacted
	// ErrNoSpace: the store's disk or quota is full; writes are refused.
	ErrNoSpace = store.ErrNoSpace
)

// CompactedError is ErrCompacted with the oldest revision the store keeps.
type CompactedError = store.CompactedError

// Lease is a store lease: keys written on it vanish when it ends.
type Lease = store.Lease

// GrantLease makes a lease that ends after ttl unless kept alive.
func (s *State) GrantLease(ctx context.Context, ttl time.Duration) (Lease, error) {
	return s.db.GrantLease(ctx, ttl)
}

// KeepAlive renews a lease once; false means it has ended.
func (s *State) KeepAlive(ctx context.Context, l Lease) (bool, error) { return s.db.KeepAlive(ctx, l) }

// RevokeLease ends a lease now, and with it the keys on it.
func (s *State) RevokeLease(ctx context.Context, l Lease) error { return s.db.RevokeLease(ctx, l) }

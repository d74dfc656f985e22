// Package store owns Flotta's connection to etcd, the one source of truth.
//
// Everything the control plane knows is a JSON record under a key in etcd. This
// package knows nothing about what the records mean: it offers reads, prefix
// listings, watches and optimistic transactions guarded by mod revisions, and it
// is the only package in Flotta that imports the etcd libraries. The key layout
// and the record types live in package state.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/etcdserver"
)

// ErrConflict is returned by Commit when a guarded key changed since it was read.
var ErrConflict = errors.New("store: conflicting write, retry")

// KV is one record as read from the store.
type KV struct {
	Key   string
	Value []byte
	// ModRev is the store revision of the record's last change; 0 means absent.
	ModRev int64
}

// Guard makes a transaction conditional on a key's mod revision: 0 requires the
// key to be absent, any other value requires it to be unchanged since it was read.
type Guard struct {
	Key    string
	ModRev int64
	// Prefix turns the guard into one over every key under Key: none may have
	// changed (or appeared) after ModRev, a store revision the caller read at.
	Prefix bool
}

// Op is one write in a transaction: a put of Value, or a delete.
type Op struct {
	Key    string
	Value  []byte
	Delete bool
	// Lease, when set, makes the key vanish with the lease.
	Lease Lease
}

// Put returns an Op that writes value at key.
func Put(key string, value []byte) Op { return Op{Key: key, Value: value} }

// Del returns an Op that deletes key.
func Del(key string) Op { return Op{Key: key, Delete: true} }

// Store is a handle on etcd. It is safe for concurrent use.
type Store struct {
	cli       *clientv3.Client
	closeFn   func() error
	endpoints []string
	// MaxOps is the largest number of operations one transaction may carry.
	MaxOps int
	// disk guards an embedded member's disk, and member is that member;
	// both nil for an external store.
	disk   *diskGuard
	member *etcdserver.EtcdServer
	// peerAddrs are where an embedded member listens for raft peers.
	peerAddrs []string
}

// Get reads one key. A missing key is not an error: it comes back with ModRev 0.
func (s *Store) Get(ctx context.Context, key string) (KV, error) {
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return KV{}, fmt.Errorf("store get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return KV{Key: key}, nil
	}
	kv := resp.Kvs[0]
	return KV{Key: key, Value: kv.Value, ModRev: kv.ModRevision}, nil
}

// GetMany reads several keys; up to the transaction limit they are read at
// one consistent revision, beyond it in consistent chunks.
func (s *Store) GetMany(ctx context.Context, keys []string) (map[string]KV, error) {
	return s.GetManyAt(ctx, 0, keys)
}

// GetManyAt reads several keys as they were at revision rev (0 for now). A
// revision older than the history the store keeps fails with ErrCompacted.
func (s *Store) GetManyAt(ctx context.Context, rev int64, keys []string) (map[string]KV, error) {
	var at []clientv3.OpOption
	if rev > 0 {
		at = append(at, clientv3.WithRev(rev))
	}
	out := make(map[string]KV, len(keys))
	chunk := 512
	if s.MaxOps > 0 {
		chunk = min(chunk, s.MaxOps)
	}
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		ops := make([]clientv3.Op, 0, len(part))
		for _, k := range part {
			ops = append(ops, clientv3.OpGet(k, at...))
			out[k] = KV{Key: k}
		}
		resp, err := s.cli.Txn(ctx).Then(ops...).Commit()
		if errors.Is(err, rpctypes.ErrCompacted) {
			return nil, fmt.Errorf("store get %d keys at revision %d: %w", len(part), rev, ErrCompacted)
		}
		if err != nil {
			return nil, fmt.Errorf("store get %d keys: %w", len(part), err)
		}
		for _, r := range resp.Responses {
			for _, kv := range r.GetResponseRange().Kvs {
				out[string(kv.Key)] = KV{Key: string(kv.Key), Value: kv.Value, ModRev: kv.ModRevision}
			}
		}
	}
	return out, nil
}

// Page is one page of a prefix listing.
type Page struct {
	KVs []KV
	// More says whether keys remain after the last one returned.
	More bool
	// Revision is the store revision the page was read at.
	Revision int64
}

// ListOptions shape a prefix listing.
type ListOptions struct {
	// After resumes a listing: only keys strictly after it (before it, when
	// Descending) are returned. "" starts at the beginning (or the end).
	After string
	// Limit caps the page; 0 means no limit.
	Limit int
	// Descending returns keys in reverse order.
	Descending bool
	// KeysOnly leaves the values out.
	KeysOnly bool
}

// List returns records whose keys start with prefix, in key order.
func (s *Store) List(ctx context.Context, prefix string, o ListOptions) (Page, error) {
	start, end := prefix, clientv3.GetPrefixRangeEnd(prefix)
	if o.After != "" {
		if o.Descending {
			end = o.After
		} else {
			start = o.After + "\x00"
		}
	}
	opts := []clientv3.OpOption{clientv3.WithRange(end)}
	if o.Limit > 0 {
		opts = append(opts, clientv3.WithLimit(int64(o.Limit)))
	}
	if o.Descending {
		opts = append(opts, clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	}
	if o.KeysOnly {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	resp, err := s.cli.Get(ctx, start, opts...)
	if err != nil {
		return Page{}, fmt.Errorf("store list %s: %w", prefix, err)
	}
	p := Page{KVs: make([]KV, 0, len(resp.Kvs)), More: resp.More, Revision: resp.Header.Revision}
	for _, kv := range resp.Kvs {
		p.KVs = append(p.KVs, KV{Key: string(kv.Key), Value: kv.Value, ModRev: kv.ModRevision})
	}
	return p, nil
}

// Count returns how many keys start with prefix, and the store revision at
// which it counted (for a Prefix guard).
func (s *Store) Count(ctx context.Context, prefix string) (n int64, rev int64, err error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, 0, fmt.Errorf("store count %s: %w", prefix, err)
	}
	return resp.Count, resp.Header.Revision, nil
}

// Commit applies ops atomically if every guard holds, and returns the new store
// revision. When a guard fails nothing is written and the error is ErrConflict.
// A nil error means the write is durable: etcd has committed it to its log.
func (s *Store) Commit(ctx context.Context, guards []Guard, ops []Op) (int64, error) {
	if len(ops) == 0 {
		return 0, nil
	}
	if s.MaxOps > 0 && len(ops)+len(guards) > s.MaxOps {
		return 0, fmt.Errorf("store commit: %d operations exceed the limit of %d", len(ops)+len(guards), s.MaxOps)
	}
	if !s.disk.writable() && !deletesOnly(ops) {
		// Deletes still go through: they are how space comes back (etcd
		// takes them under its space alarm too).
		return 0, ErrNoSpace
	}
	cmps := make([]clientv3.Cmp, 0, len(guards))
	for _, g := range guards {
		if g.Prefix {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(g.Key), "<", g.ModRev+1).WithPrefix())
		} else {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(g.Key), "=", g.ModRev))
		}
	}
	thens := make([]clientv3.Op, 0, len(ops))
	for _, o := range ops {
		if o.Delete {
			thens = append(thens, clientv3.OpDelete(o.Key))
		} else if o.Lease != 0 {
			thens = append(thens, clientv3.OpPut(o.Key, string(o.Value), clientv3.WithLease(clientv3.LeaseID(o.Lease))))
		} else {
			thens = append(thens, clientv3.OpPut(o.Key, string(o.Value)))
		}
	}
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(thens...).Commit()
	if err != nil {
		return 0, fmt.Errorf("store commit: %w", s.writeErr(err))
	}
	if !resp.Succeeded {
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

func deletesOnly(ops []Op) bool {
	for _, o := range ops {
		if !o.Delete {
			return false
		}
	}
	return true
}

// Revision returns the store's current revision. Every committed write raises
// it, so two equal readings mean nothing was written in between.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	resp, err := s.cli.Get(ctx, "\x00revision-probe", clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("store revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// Compact drops the history before revision rev: watches from before it
// fail with ErrCompacted.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if _, err := s.cli.Compact(ctx, rev); err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return fmt.Errorf("compact: %w", err)
	}
	return nil
}

// Ping checks that the store answers within the context's deadline.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.Revision(ctx)
	return err
}

// ClientEndpoints are the URLs where an embedded member serves etcd clients
// (empty unless EmbeddedOptions.ClientURL asked for them).
func (s *Store) ClientEndpoints() []string { return s.endpoints }

// Close releases the client and, for an embedded store, stops the member.
func (s *Store) Close() error {
	if s.closeFn != nil {
		return s.closeFn()
	}
	return nil
}

// Connect opens a store on an external etcd cluster.
func Connect(ctx context.Context, endpoints []string) (*Store, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Context:     ctx,
	})
	if err != nil {
		return nil, fmt.Errorf("connect to etcd %v: %w", endpoints, err)
	}
	s := &Store{cli: cli, closeFn: cli.Close, MaxOps: 128}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("etcd %v does not answer: %w", endpoints, err)
	}
	return s, nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
)

// WaitForChange blocks until a key under prefix changes after store revision
// after, and returns the revision of that change. When after is so old that
// the store has compacted its history, it returns at once with the current
// revision: the caller cannot know what changed and must read everything.
func (s *Store) WaitForChange(ctx context.Context, prefix string, after int64) (int64, error) {
	ctx, cancel := context.WithCancel(ownStream(clientv3.WithRequireLeader(ctx)))
	defer cancel()
	ch := s.cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(after+1), clientv3.WithKeysOnly())
	for resp := range ch {
		if errors.Is(resp.Err(), rpctypes.ErrCompacted) {
			return s.Revision(context.WithoutCancel(ctx))
		}
		if err := resp.Err(); err != nil {
			return 0, fmt.Errorf("watch %s: %w", prefix, err)
		}
		if len(resp.Events) > 0 {
			return resp.Events[len(resp.Events)-1].Kv.ModRevision, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("watch %s ended", prefix)
}

// Lease is a store lease: keys attached to it vanish when it expires.
type Lease int64

// GrantLease makes a lease that expires after ttl unless kept alive.
func (s *Store) GrantLease(ctx context.Context, ttl time.Duration) (Lease, error) {
	if !s.disk.writable() {
		return 0, ErrNoSpace
	}
	resp, err := s.cli.Grant(ctx, int64(ttl.Seconds()))
	if err != nil {
		return 0, fmt.Errorf("grant lease: %w", s.writeErr(err))
	}
	return Lease(resp.ID), nil
}

// KeepAlive renews a lease once. It reports false when the lease has expired.
func (s *Store) KeepAlive(ctx context.Context, l Lease) (bool, error) {
	_, err := s.cli.KeepAliveOnce(ctx, clientv3.LeaseID(l))
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("keep lease alive: %w", err)
	}
	return true, nil
}

// RevokeLease ends a lease now, deleting its keys. An unknown or expired
// lease is not an error.
func (s *Store) RevokeLease(ctx context.Context, l Lease) error {
	_, err := s.cli.Revoke(ctx, clientv3.LeaseID(l))
	if err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return fmt.Errorf("revoke lease: %w", err)
	}
	return nil
}

// PutLeased writes a key that lives only as long as the lease.
func (s *Store) PutLeased(ctx context.Context, key string, value []byte, l Lease) error {
	if !s.disk.writable() {
		return ErrNoSpace
	}
	if _, err := s.cli.Put(ctx, key, string(value), clientv3.WithLease(clientv3.LeaseID(l))); err != nil {
		return fmt.Errorf("store put %s: %w", key, s.writeErr(err))
	}
	return nil
}

// Event is one change seen by Watch.
type Event struct {
	KV      KV
	Deleted bool
	// Prev is the key's value before the change, when WatchWithPrev asked
	// for it (nil for a key that did not exist).
	Prev *KV
}

// Watch streams the changes under prefix made after store revision after,
// in batches, until ctx ends. When history is compacted past after, the
// channel closes with ErrCompacted on errc; the caller must read afresh.
func (s *Store) Watch(ctx context.Context, prefix string, after int64) (<-chan []Event, <-chan error) {
	return s.watch(ctx, prefix, after, false)
}

// WatchWithPrev is Watch with each change's previous value.
func (s *Store) WatchWithPrev(ctx context.Context, prefix string, after int64) (<-chan []Event, <-chan error) {
	return s.watch(ctx, prefix, after, true)
}

// CompactedError is ErrCompacted with the oldest revision the store keeps.
type CompactedError struct{ Oldest int64 }

func (e *CompactedError) Error() string {
	return fmt.Sprintf("store: revision compacted (the oldest kept is %d)", e.Oldest)
}

// Is makes errors.Is(err, ErrCompacted) hold.
func (e *CompactedError) Is(target error) bool { return target == ErrCompacted }

func (s *Store) watch(ctx context.Context, prefix string, after int64, prev bool) (<-chan []Event, <-chan error) {
	out := make(chan []Event, 16)
	errc := make(chan error, 1)
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(after + 1)}
	if prev {
		opts = append(opts, clientv3.WithPrevKV())
	}
	go func() {
		defer close(out)
		wctx, cancel := context.WithCancel(ownStream(clientv3.WithRequireLeader(ctx)))
		defer cancel()
		for resp := range s.cli.Watch(wctx, prefix, opts...) {
			if err := resp.Err(); err != nil {
				if errors.Is(err, rpctypes.ErrCompacted) {
					errc <- &CompactedError{Oldest: resp.CompactRevision}
				} else {
					errc <- fmt.Errorf("watch %s: %w", prefix, err)
				}
				return
			}
			batch := make([]Event, 0, len(resp.Events))
			for _, ev := range resp.Events {
				e := Event{KV: KV{Key: string(ev.Kv.Key), Value: ev.Kv.Value, ModRev: ev.Kv.ModRevision},
					Deleted: ev.Type == clientv3.EventTypeDelete}
				if ev.PrevKv != nil {
					e.Prev = &KV{Key: string(ev.PrevKv.Key), Value: ev.PrevKv.Value, ModRev: ev.PrevKv.ModRevision}
				}
				batch = append(batch, e)
			}
			select {
			case out <- batch:
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() == nil {
			errc <- fmt.Errorf("watch %s ended", prefix)
		}
	}()
	return out, errc
}

// streams numbers the watch streams ownStream makes.
var streams atomic.Int64

// ownStream gives a watch a gRPC stream of its own. The etcd client
// multiplexes every watch whose context carries the same metadata onto one
// stream, where it creates them one at a time; under the churn of hundreds of
// agents' polls, each opening and cancelling a short watch, watches on the
// shared stream were seen to receive nothing for many seconds (200 agents,
// 2,000 service tasks: a watch opened during a rollout saw no event at all).
func ownStream(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "flotta-watch-stream", strconv.FormatInt(streams.Add(1), 10))
}

// ErrCompacted says a watch started from a revision the store no longer keeps.
var ErrCompacted = errors.New("store: revision compacted")

// Package state owns the layout of Flotta's records in the store and typed,
// transactional access to them.
//
// Handlers, the scheduler and controllers all read and write ECS resources
// through this package, so the key layout, the indexes kept beside records and
// the rules of each state transition (a revision number is never reused; a
// deleted cluster turns INACTIVE) live in one place. Every method that returns
// without error has committed its change durably.
package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

// Root is the prefix of every key Flotta writes.
const Root = "/flotta/v1/"

// State is typed access to the records of one account.
type State struct {
	// db is the store; only this package speaks to it.
	db    *store.Store
	Scope model.Scope
	// Clock tells the time for timestamps; nil means time.Now.
	Clock func() time.Time
	// Limits are the quotas enforced; zero values mean ECS's defaults.
	Limits model.Quotas

	familyLocks [64]sync.Mutex
	quotaLocks  [64]sync.Mutex

	countMu sync.Mutex
	counts  map[string]*recentCount

	leaseMu sync.Mutex
	lease   store.Lease
	leaseAt time.Time
}

var lockSeed = maphash.MakeSeed()

// lockFamily serialises this process's writers of one task definition family.
func (s *State) lockFamily(family string) (unlock func()) {
	m := &s.familyLocks[maphash.String(lockSeed, family)%uint64(len(s.familyLocks))]
	m.Lock()
	return m.Unlock
}

// underQuota checks that the records under prefix are fewer than quota
// before one is added, and returns the guards the adding commit must carry
// and an unlock to call once it is done. Far below the quota it adds no
// guard: a guard over the whole prefix makes concurrent creations conflict
// with each other (10,000 registrations retrying each other's). Near it
// (fewer than quotaMargin left) creations in this process take turns and
// each guards the prefix, so that the quota is exact even with several
// servers. exceeded makes the refusal for a count at the quota.
func (s *State) underQuota(ctx context.Context, prefix string, quota int, exceeded func(n int64) error) ([]store.Guard, func(), error) {
	if s.farBelow(prefix, quota) {
		return nil, func() {}, nil
	}
	n, rev, err := s.db.Count(ctx, prefix)
	if err != nil {
		return nil, nil, err
	}
	s.remember(prefix, n)
	if n+quotaMargin < int64(quota) {
		return nil, func() {}, nil
	}
	m := &s.quotaLocks[maphash.String(lockSeed, prefix)%uint64(len(s.quotaLocks))]
	m.Lock()
	if n, rev, err = s.db.Count(ctx, prefix); err != nil {
		m.Unlock()
		return nil, nil, err
	}
	if n >= int64(quota) {
		m.Unlock()
		return nil, nil, exceeded(n)
	}
	return []store.Guard{{Key: prefix, ModRev: rev, Prefix: true}}, m.Unlock, nil
}

// quotaMargin is more than the creations that can be in flight at once.
const quotaMargin = 1024

// recentCount is a count of the records under a prefix, read at, plus the
// creations this process has made since. Counting is a range read over every
// record, so creations far below their quota reuse a count for a second
// rather than each reading its own.
type recentCount struct {
	n  int64
	at time.Time
}

// farBelow says, from a count less than a second old, whether one more
// creation stays more than quotaMargin below quota, and counts it.
func (s *State) farBelow(prefix string, quota int) bool {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	c := s.counts[prefix]
	if c == nil || time.Since(c.at) > time.Second || c.n+quotaMargin >= int64(quota) {
		return false
	}
	c.n++
	return true
}

func (s *State) remember(prefix string, n int64) {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	if s.counts == nil {
		s.counts = map[string]*recentCount{}
	}
	s.counts[prefix] = &recentCount{n: n + 1, at: time.Now()}
}

// Quotas are the quotas in force.
func (s *State) Quotas() model.Quotas { return s.Limits.WithDefaults() }

// Now is the state's clock.
func (s *State) Now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

// maxAttempts bounds optimistic retries when concurrent writers collide.
const maxAttempts = 64

// retry runs fn until it commits without a conflict.
func retry(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if attempt+1 >= maxAttempts {
			return fmt.Errorf("gave up after %d conflicting attempts: %w", maxAttempts, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func decode[T any](kv store.KV) (*T, error) {
	if kv.ModRev == 0 {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal(kv.Value, v); err != nil {
		return nil, fmt.Errorf("decode record %s: %w", kv.Key, err)
	}
	return v, nil
}

// read gets one record and decodes it; the record is nil when the key is absent.
func read[T any](ctx context.Context, st *store.Store, key string) (store.KV, *T, error) {
	kv, err := st.Get(ctx, key)
	if err != nil {
		return kv, nil, err
	}
	v, err := decode[T](kv)
	return kv, v, err
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Records are plain data; failing to encode one is a programming error.
		panic(fmt.Sprintf("encode record: %v", err))
	}
	return b
}

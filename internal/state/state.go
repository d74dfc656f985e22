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
	Store *store.Store
	Scope model.Scope
	// Clock tells the time for timestamps; nil means time.Now.
	Clock func() time.Time
	// Limits are the quotas enforced; zero values mean ECS's defaults.
	Limits model.Quotas

	familyLocks [64]sync.Mutex

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

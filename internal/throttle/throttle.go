// Package throttle limits how fast each caller may call the API: a token
// bucket per principal (golang.org/x/time/rate), as ECS throttles each
// account, so that one caller's flood cannot starve the others. It answers
// how long a refused caller should wait, for the Retry-After hints of
// ECS's ThrottlingException.
package throttle

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits is a sustained rate and a burst, per caller.
type Limits struct {
	// Rate is the requests per second a caller may make on average; 0
	// turns throttling off.
	Rate float64
	// Burst is how many requests a caller may make at once.
	Burst int
}

// Throttle keeps a bucket per caller.
type Throttle struct {
	limits Limits
	key    func(ctx context.Context) string
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

// New makes a throttle; key names the caller of a request ("" is not
// throttled: callers that have not authenticated are bounded elsewhere).
// now is the clock (nil: time.Now).
func New(l Limits, key func(ctx context.Context) string, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	if l.Burst < 1 {
		l.Burst = 1
	}
	return &Throttle{limits: l, key: key, now: now, buckets: map[string]*bucket{}}
}

// idleAfter is how long an unused bucket is kept: by then it is full again,
// and a new one is the same.
func (t *Throttle) idleAfter() time.Duration {
	return max(time.Minute, time.Duration(float64(t.limits.Burst)/t.limits.Rate*float64(time.Second)))
}

// Allow takes a token for the request's caller. When none is left it says
// how long until one will be.
func (t *Throttle) Allow(ctx context.Context) (ok bool, retryAfter time.Duration) {
	k := t.keyOf(ctx)
	if k == "" {
		return true, 0
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweepLocked(now)
	b := t.buckets[k]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(t.limits.Rate), t.limits.Burst)}
		t.buckets[k] = b
	}
	b.used = now
	r := b.lim.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now) // a refused request spends nothing
		return false, delay
	}
	return true, 0
}

// Blocked says, without spending anything, whether the caller has no token
// left, and how long until it will have one. With Spend it limits events
// that are not requests (failed joins, say): check first, spend on each.
func (t *Throttle) Blocked(ctx context.Context) (bool, time.Duration) {
	k := t.keyOf(ctx)
	if k == "" {
		return false, 0
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buckets[k]
	if b == nil {
		return false, 0
	}
	tokens := b.lim.TokensAt(now)
	if tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - tokens) / t.limits.Rate * float64(time.Second))
}

// Spend takes a token from the caller's bucket, into debt if it has none:
// a caller that goes on waits longer.
func (t *Throttle) Spend(ctx context.Context) {
	k := t.keyOf(ctx)
	if k == "" {
		return
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweepLocked(now)
	b := t.buckets[k]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(t.limits.Rate), t.limits.Burst)}
		t.buckets[k] = b
	}
	b.used = now
	b.lim.ReserveN(now, 1)
}

// sweepLocked forgets the buckets nobody used for a while (they are full
// again by then).
func (t *Throttle) sweepLocked(now time.Time) {
	if !now.After(t.sweepAt) {
		return
	}
	for name, b := range t.buckets {
		if now.Sub(b.used) > t.idleAfter() {
			delete(t.buckets, name)
		}
	}
	t.sweepAt = now.Add(t.idleAfter())
}

// keyOf is the bucket of the request's caller; "" when the caller is not
// throttled (throttling is off, or the caller has no name).
func (t *Throttle) keyOf(ctx context.Context) string {
	if t == nil || t.limits.Rate <= 0 {
		return ""
	}
	return t.key(ctx)
}

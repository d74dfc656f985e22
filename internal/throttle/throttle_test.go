package throttle

import (
	"context"
	"testing"
	"time"
)

type callerKey struct{}

func as(caller string) context.Context {
	return context.WithValue(context.Background(), callerKey{}, caller)
}

func TestBucketsPerCaller(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	th := New(Limits{Rate: 10, Burst: 3}, func(ctx context.Context) string {
		s, _ := ctx.Value(callerKey{}).(string)
		return s
	}, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if ok, _ := th.Allow(as("a")); !ok {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	ok, wait := th.Allow(as("a"))
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("past the burst: ok=%v retryAfter=%s, want a refusal for at most 100ms (rate 10/s)", ok, wait)
	}
	// A refusal spends nothing: after the wait one request passes.
	if ok, _ := th.Allow(as("b")); !ok {
		t.Fatal("another caller was throttled by the first one's flood")
	}
	if ok, _ := th.Allow(as("")); !ok {
		t.Fatal("an anonymous request was throttled")
	}
	now = now.Add(wait)
	if ok, _ := th.Allow(as("a")); !ok {
		t.Fatal("refused after waiting as long as told")
	}
	if ok, _ := th.Allow(as("a")); ok {
		t.Fatal("a second request passed on one refilled token")
	}
	// Idle buckets are dropped (they would be full again anyway).
	now = now.Add(time.Hour)
	th.Allow(as("c"))
	if len(th.buckets) != 1 {
		t.Fatalf("%d buckets kept after an hour, want only the new caller's", len(th.buckets))
	}
}

func TestRateZeroIsOff(t *testing.T) {
	th := New(Limits{Rate: 0, Burst: 1}, func(context.Context) string { return "a" }, nil)
	for i := 0; i < 100; i++ {
		if ok, _ := th.Allow(context.Background()); !ok {
			t.Fatal("throttled with a rate of 0 (off)")
		}
	}
}

// TestBlockedAndSpend: events counted with Spend block a caller once past
// the burst, for as long as the rate says; checking spends nothing.
func TestBlockedAndSpend(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	th := New(Limits{Rate: 1, Burst: 2}, func(ctx context.Context) string {
		s, _ := ctx.Value(callerKey{}).(string)
		return s
	}, func() time.Time { return now })
	for i := 0; i < 5; i++ {
		if blocked, _ := th.Blocked(as("a")); blocked {
			t.Fatalf("a caller that spent nothing is blocked (check %d)", i)
		}
	}
	th.Spend(as("a"))
	if blocked, _ := th.Blocked(as("a")); blocked {
		t.Fatal("blocked within the burst")
	}
	th.Spend(as("a"))
	blocked, wait := th.Blocked(as("a"))
	if !blocked || wait != time.Second {
		t.Fatalf("past the burst: blocked=%v wait=%s, want blocked for 1s", blocked, wait)
	}
	if b, _ := th.Blocked(as("b")); b {
		t.Fatal("another caller is blocked")
	}
	th.Spend(as("a")) // going on deepens the debt
	if _, longer := th.Blocked(as("a")); longer != 2*time.Second {
		t.Fatalf("after one more: wait %s, want 2s", longer)
	}
	now = now.Add(2 * time.Second)
	if b, _ := th.Blocked(as("a")); b {
		t.Fatal("still blocked after waiting as long as told")
	}
}

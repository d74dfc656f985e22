package lbsync

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/lb"
)

// Remote runs a data plane apart from the server (`flotta lb serve`): it
// follows the server's configuration with FlottaV1.GetLoadBalancerConfig,
// waiting for each change, and reports what its health checks see with
// FlottaV1.PutTargetHealth, in batches.
type Remote struct {
	// Call sends one FlottaV1 operation to the server.
	Call   func(ctx context.Context, op string, in, out any) error
	Logger *slog.Logger
	// Wait is how long one configuration request waits for a change
	// (default 30 s).
	Wait time.Duration

	mu      sync.Mutex
	pending map[string]lb.TargetHealth
}

// Observe queues a health observation for the next report; pass it as the
// balancer's OnHealthChange.
func (r *Remote) Observe(h lb.TargetHealth) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = map[string]lb.TargetHealth{}
	}
	r.pending[h.TargetGroupARN+" "+h.Target.ID+":"+itoa(h.Target.Port)] = h // the latest wins
}

// Run applies each configuration the server hands out to apply, and reports
// health every second, until ctx ends.
func (r *Remote) Run(ctx context.Context, apply func(lb.Config) error) {
	if r.Wait == 0 {
		r.Wait = 30 * time.Second
	}
	go r.report(ctx)
	var rev int64
	for ctx.Err() == nil {
		var out flottaapi.GetLoadBalancerConfigOutput
		err := r.Call(ctx, "GetLoadBalancerConfig", flottaapi.GetLoadBalancerConfigInput{Revision: rev, WaitSeconds: int(r.Wait / time.Second)}, &out)
		if err != nil {
			if ctx.Err() == nil {
				r.Logger.Warn("read the load balancing configuration", "err", err)
				wait(ctx, 2*time.Second)
			}
			continue
		}
		if out.Revision != rev || rev == 0 {
			if err := apply(out.Config); err != nil {
				r.Logger.Warn("apply the load balancing configuration", "revision", out.Revision, "err", err)
			} else {
				r.Logger.Info("applied the load balancing configuration", "revision", out.Revision, "load_balancers", len(out.Config.LoadBalancers))
			}
		}
		rev = out.Revision
	}
}

// report sends the queued observations every second.
func (r *Remote) report(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.mu.Lock()
		batch := make([]lb.TargetHealth, 0, len(r.pending))
		for _, h := range r.pending {
			batch = append(batch, h)
		}
		r.pending = nil
		r.mu.Unlock()
		for len(batch) > 0 {
			n := min(len(batch), 1000)
			if err := r.Call(ctx, "PutTargetHealth", flottaapi.PutTargetHealthInput{Health: batch[:n]}, nil); err != nil && ctx.Err() == nil {
				r.Logger.Warn("report target health", "err", err)
				for _, h := range batch { // keep them for the next report, unless newer ones came
					r.requeue(h)
				}
				break
			}
			batch = batch[n:]
		}
	}
}

func (r *Remote) requeue(h lb.TargetHealth) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = map[string]lb.TargetHealth{}
	}
	k := h.TargetGroupARN + " " + h.Target.ID + ":" + itoa(h.Target.Port)
	if _, newer := r.pending[k]; !newer {
		r.pending[k] = h
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

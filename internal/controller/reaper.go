package controller

import (
	"context"
	"log/slog"
	"time"

	"github.com/flotta-dev/flotta/internal/state"
)

// Reaper removes tasks that stopped longer ago than Retention (ECS keeps
// them describable for at least an hour), and temporary credentials and join
// tokens once they have expired.
type Reaper struct {
	State     *state.State
	Logger    *slog.Logger
	Retention time.Duration
	Every     time.Duration
}

// Run reaps until ctx ends.
func (r *Reaper) Run(ctx context.Context) {
	if r.Retention == 0 {
		r.Retention = time.Hour
	}
	if r.Every == 0 {
		r.Every = min(time.Minute, max(r.Retention/4, 100*time.Millisecond))
	}
	for {
		for {
			n, err := r.State.ReapStopped(ctx, r.State.Now().Add(-r.Retention), 500)
			if err != nil {
				if ctx.Err() == nil {
					r.Logger.Warn("reap stopped tasks", "err", err)
				}
				break
			}
			if n < 500 {
				break
			}
		}
		if _, err := r.State.ReapExpiredCredentials(ctx, r.State.Now()); err != nil && ctx.Err() == nil {
			r.Logger.Warn("reap expired credentials", "err", err)
		}
		select {
		case <-time.After(r.Every):
		case <-ctx.Done():
			return
		}
	}
}

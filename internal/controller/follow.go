package controller

import (
	"context"
	"log/slog"
	"time"

	"github.com/flotta-dev/flotta/internal/state"
)

// serviceFollower runs a controller that reconciles on every change of a
// service or of a service's task, and on a tick: the targets and the
// registries controllers. A pass serves a burst of changes: after one, it
// waits minPass, then takes whatever arrived meanwhile at once.
type serviceFollower struct {
	State  *state.State
	Logger *slog.Logger
	// What is reconciled, for the log.
	What    string
	Every   time.Duration
	MinPass time.Duration
	// Reconcile is one pass; Changed hears of each service that changed
	// ("cluster/name") before the pass that follows.
	Reconcile func(context.Context) error
	Changed   func(key string)
}

// run follows until ctx ends, starting afresh when a watch ends.
func (f *serviceFollower) run(ctx context.Context) {
	for ctx.Err() == nil {
		rev, err := f.State.Revision(ctx)
		if err != nil {
			sleep(ctx, time.Second)
			continue
		}
		f.follow(ctx, rev)
	}
}

// follow reconciles on every change from rev on, until a watch ends.
func (f *serviceFollower) follow(ctx context.Context, rev int64) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	svcs, e1 := f.State.WatchServices(wctx, rev)
	tasks, e2 := f.State.WatchServiceTasks(wctx, rev)
	tick := time.NewTicker(f.Every)
	defer tick.Stop()
	for {
		if err := f.Reconcile(ctx); err != nil && ctx.Err() == nil {
			f.Logger.Warn("reconcile "+f.What, "err", err)
		}
		sleep(ctx, f.MinPass)
		woken := false
		for !woken || len(svcs) > 0 || len(tasks) > 0 {
			select {
			case batch, ok := <-svcs:
				if !ok {
					return
				}
				for _, ch := range batch {
					f.Changed(ch.Cluster + "/" + ch.Name)
				}
			case _, ok := <-tasks:
				if !ok {
					return
				}
			case <-tick.C:
			case err := <-e1:
				f.Logger.Warn("service watch ended", "err", err)
				return
			case err := <-e2:
				f.Logger.Warn("service task watch ended", "err", err)
				return
			case <-ctx.Done():
				return
			}
			woken = true
		}
	}
}

package controller

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/flotta-dev/flotta/internal/state"
)

// DiscoveryOps completes Cloud Map's asynchronous operations. The API
// writes an operation SUBMITTED and answers with its id; this loop sees it
// (through a watch of the operations, and a sweep now and then for any a
// lost watch missed), marks it PENDING, and has the state carry it out and
// record SUCCESS or FAIL in the same transaction as its effect. So a DNS
// namespace exists only once its operation says SUCCESS, and a client that
// polls GetOperation sees SUBMITTED -> PENDING -> SUCCESS as in AWS.
//
// It runs in every server (not only the leader): completing an operation is
// idempotent and guarded, so two servers racing on one only repeat reads.
type DiscoveryOps struct {
	State  *state.State
	Logger *slog.Logger
	// Every is how often the sweep runs; 0 means 10 seconds.
	Every time.Duration
	// Retention is how long finished operations stay readable through
	// GetOperation and ListOperations; 0 means 30 days.
	Retention time.Duration
}

// Run completes operations until ctx ends.
func (d *DiscoveryOps) Run(ctx context.Context) {
	every := d.Every
	if every == 0 {
		every = 10 * time.Second
	}
	for ctx.Err() == nil {
		rev, err := d.State.Revision(ctx)
		if err == nil {
			err = d.sweep(ctx)
		}
		if err == nil {
			err = d.follow(ctx, rev, every)
		}
		if err != nil && ctx.Err() == nil {
			d.Logger.Warn("complete Cloud Map operations", "err", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
		}
	}
}

// sweep completes every operation not yet done, and forgets those done
// longer ago than the retention.
func (d *DiscoveryOps) sweep(ctx context.Context) error {
	keep := d.Retention
	if keep == 0 {
		keep = 30 * 24 * time.Hour
	}
	if _, err := d.State.PurgeSDOperations(ctx, d.State.Now().Add(-keep)); err != nil {
		return err
	}
	ops, err := d.State.ListSDOperations(ctx)
	if err != nil {
		return err
	}
	for _, op := range ops {
		if op.Status == state.SDOpSubmitted || op.Status == state.SDOpPending {
			d.complete(ctx, op.ID)
		}
	}
	return nil
}

// follow completes operations as they are written after rev, sweeping
// every so often; it returns when the watch ends.
func (d *DiscoveryOps) follow(ctx context.Context, rev int64, every time.Duration) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ids, errs := d.State.WatchSDOperations(wctx, rev)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case batch, ok := <-ids:
			if !ok {
				select {
				case err := <-errs:
					return err
				default:
					return nil
				}
			}
			for _, id := range batch {
				d.complete(ctx, id)
			}
		case err := <-errs:
			return err
		case <-tick.C:
			if err := d.sweep(ctx); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// complete carries one operation out, unless it is done.
func (d *DiscoveryOps) complete(ctx context.Context, id string) {
	op, err := d.State.MarkSDOperationPending(ctx, id)
	if errors.Is(err, state.ErrNotFound) {
		return
	}
	if err == nil && op.Status == state.SDOpPending {
		op, err = d.State.CompleteSDOperation(ctx, id)
		if err == nil && op.Status == state.SDOpFail {
			d.Logger.Info("Cloud Map operation failed", "operation", id, "type", op.Type, "code", op.ErrorCode, "reason", op.ErrorMessage)
		}
	}
	if err != nil && ctx.Err() == nil {
		d.Logger.Warn("complete a Cloud Map operation", "operation", id, "err", err)
	}
}

package state

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/flotta-dev/flotta/internal/store"
)

// ELBTargetHealth is what the data plane last saw of a target's health
// checks. DescribeTargetHealth shows it for a registered target that is in
// use and not draining; without one such a target is "initial".
type ELBTargetHealth struct {
	TargetID string `json:"targetId"`
	Port     int32  `json:"port"`
	// State is healthy, unhealthy or unavailable; Reason is ELB's reason
	// code (Target.Timeout, Target.ResponseCodeMismatch,
	// Target.FailedHealthChecks, Elb.InitialHealthChecking, ...) and
	// Description its words, both empty when healthy.
	State       string    `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	Description string    `json:"description,omitempty"`
	ObservedAt  time.Time `json:"observedAt"`
}

// PutELBTargetHealth records a health observation of a registered target of
// a target group. An observation counts only for the registration it was
// made in: one older than the target's RegisteredAt is ignored (see
// ELBTargetHealths), and SweepELBTargets deletes those of targets no longer
// registered.
func (s *State) PutELBTargetHealth(ctx context.Context, tgArn string, h ELBTargetHealth) error {
	if h.ObservedAt.IsZero() {
		h.ObservedAt = s.Now()
	}
	key := elbHealthKey(tgArn, h.TargetID, h.Port)
	if _, err := s.db.Commit(ctx, nil, []store.Op{store.Put(key, mustJSON(h))}); err != nil {
		return fmt.Errorf("record the health of %s:%d in %s: %w", h.TargetID, h.Port, tgArn, err)
	}
	return nil
}

// ELBTargetHealths reads the health observations of a target group's
// targets, keyed by "id:port". Pass the group's record to keep only the
// observations of its current registrations (made at or after each
// target's RegisteredAt); nil keeps all.
func (s *State) ELBTargetHealths(ctx context.Context, tgArn string, tg *ELBTargetGroup) (map[string]ELBTargetHealth, error) {
	all, err := listAll[ELBTargetHealth](ctx, s.db, elbHealthPrefix+path.Base(tgArn)+"/")
	if err != nil {
		return nil, err
	}
	registered := map[string]time.Time{}
	if tg != nil {
		for _, t := range tg.Targets {
			registered[fmt.Sprintf("%s:%d", t.ID, t.Port)] = t.RegisteredAt
		}
	}
	out := make(map[string]ELBTargetHealth, len(all))
	for _, h := range all {
		k := fmt.Sprintf("%s:%d", h.TargetID, h.Port)
		if at, ok := registered[k]; tg != nil && (!ok || h.ObservedAt.Before(at)) {
			continue
		}
		out[k] = h
	}
	return out, nil
}

// SweepELBTargets removes the draining targets whose deregistration delay
// has passed by now, in one transaction, and then deletes the health
// observations of targets no longer registered; it returns how many targets
// it removed. A loop on the leader calls it every few seconds.
func (s *State) SweepELBTargets(ctx context.Context, now time.Time) (int, error) {
	removed := 0
	_, err := s.UpdateELB(ctx, func(tx *ELBTxn) error {
		removed = 0
		for _, tg := range tx.Config.TargetGroups {
			kept := tg.Targets[:0:0]
			for _, t := range tg.Targets {
				if t.Draining() && !now.Before(t.DrainingUntil) {
					removed++
					continue
				}
				kept = append(kept, t)
			}
			if len(kept) != len(tg.Targets) {
				tg.Targets = kept
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sweep drained targets: %w", err)
	}
	return removed, s.deleteOrphanHealth(ctx)
}

// deleteOrphanHealth deletes the health observations of targets (or
// groups) that are no longer registered, a bounded batch per transaction.
// An observation written meanwhile for a target registered meanwhile is
// guarded: the delete of a key that changed since it was read fails and is
// left for the next sweep.
func (s *State) deleteOrphanHealth(ctx context.Context) error {
	cfg, err := s.ReadELB(ctx)
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for arn, tg := range cfg.TargetGroups {
		for _, t := range tg.Targets {
			live[elbHealthKey(arn, t.ID, t.Port)] = true
		}
	}
	page, err := s.db.List(ctx, elbHealthPrefix, store.ListOptions{KeysOnly: true})
	if err != nil {
		return err
	}
	var guards []store.Guard
	var ops []store.Op
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		_, err := s.db.Commit(ctx, guards, ops)
		guards, ops = nil, nil
		if errors.Is(err, store.ErrConflict) {
			return nil
		}
		return err
	}
	for _, kv := range page.KVs {
		if live[kv.Key] {
			continue
		}
		guards = append(guards, store.Guard{Key: kv.Key, ModRev: kv.ModRev})
		ops = append(ops, store.Del(kv.Key))
		if len(ops) == 50 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

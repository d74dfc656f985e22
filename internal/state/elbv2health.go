package state

import (
	"context"
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
// a target group. Observations of targets no longer registered are deleted
// with their registration, and ignored until then.
func (s *State) PutELBTargetHealth(ctx context.Context, tgArn string, h ELBTargetHealth) error {
	key := elbHealthKey(tgArn, h.TargetID, h.Port)
	if _, err := s.db.Commit(ctx, nil, []store.Op{store.Put(key, mustJSON(h))}); err != nil {
		return fmt.Errorf("record the health of %s:%d in %s: %w", h.TargetID, h.Port, tgArn, err)
	}
	return nil
}

// ELBTargetHealths reads the health observations of a target group's
// targets, keyed by "id:port".
func (s *State) ELBTargetHealths(ctx context.Context, tgArn string) (map[string]ELBTargetHealth, error) {
	all, err := listAll[ELBTargetHealth](ctx, s.db, elbHealthPrefix+path.Base(tgArn)+"/")
	if err != nil {
		return nil, err
	}
	out := make(map[string]ELBTargetHealth, len(all))
	for _, h := range all {
		out[fmt.Sprintf("%s:%d", h.TargetID, h.Port)] = h
	}
	return out, nil
}

// SweepELBTargets removes the draining targets whose deregistration delay
// has passed by now, with their health observations, in one transaction; it
// returns how many it removed. A loop on the leader calls it every few
// seconds.
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
	return removed, nil
}

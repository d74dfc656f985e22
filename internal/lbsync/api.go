package lbsync

import (
	"context"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
)

// maxConfigWait bounds how long GetLoadBalancerConfig waits for a change.
const maxConfigWait = 60 * time.Second

// GetConfig answers FlottaV1.GetLoadBalancerConfig: the configuration, at
// once when the caller's revision is not the current one (or it names
// none), else when it next changes or the wait ends.
func (s *Source) GetConfig(ctx context.Context, in *flottaapi.GetLoadBalancerConfigInput) (*flottaapi.GetLoadBalancerConfigOutput, error) {
	if in.WaitSeconds < 0 || in.WaitSeconds > int(maxConfigWait/time.Second) {
		return nil, model.InvalidParameter("waitSeconds must be between 0 and %d.", int(maxConfigWait/time.Second))
	}
	s.remoteAt.Store(time.Now().UnixNano())
	cfg, rev, err := s.Build(ctx)
	if err != nil {
		return nil, err
	}
	if in.Revision != 0 && in.Revision == rev && in.WaitSeconds > 0 {
		s.waitForChange(ctx, rev, time.Duration(in.WaitSeconds)*time.Second)
		if cfg, rev, err = s.Build(ctx); err != nil {
			return nil, err
		}
	}
	return &flottaapi.GetLoadBalancerConfigOutput{Revision: rev, Config: cfg}, nil
}

// PutHealth answers FlottaV1.PutTargetHealth: it records each observation.
func (s *Source) PutHealth(ctx context.Context, in *flottaapi.PutTargetHealthInput) (*struct{}, error) {
	if len(in.Health) > 1000 {
		return nil, model.InvalidParameter("health can hold at most 1000 observations.")
	}
	for _, h := range in.Health {
		if h.TargetGroupARN == "" || h.Target.ID == "" || h.State == "" {
			return nil, model.InvalidParameter("every observation needs targetGroupArn, target.id and state.")
		}
	}
	for _, h := range in.Health {
		if err := s.RecordHealth(ctx, h); err != nil {
			return nil, err
		}
	}
	return &struct{}{}, nil
}

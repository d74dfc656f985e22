package flottaapi

import "github.com/flotta-dev/flotta/internal/lb"

// GetLoadBalancerConfigInput asks for the load balancing configuration a
// `flotta lb serve` process applies. With Revision set (the one it has) and
// WaitSeconds (at most 60), the answer waits until the configuration
// changes or the time passes, so that a change reaches every data plane at
// once.
type GetLoadBalancerConfigInput struct {
	Revision    int64 `json:"revision"`
	WaitSeconds int   `json:"waitSeconds"`
}

// GetLoadBalancerConfigOutput is the configuration, as of Revision. It holds
// HTTPS listeners' private keys: only principals allowed
// flotta:GetLoadBalancerConfig get it.
type GetLoadBalancerConfigOutput struct {
	Revision int64     `json:"revision"`
	Config   lb.Config `json:"config"`
}

// PutTargetHealthInput reports what a data plane's health checks saw.
type PutTargetHealthInput struct {
	Health []lb.TargetHealth `json:"health"`
}

package lb

// Target health states, as DescribeTargetHealth reports them.
const (
	HealthInitial   = "initial"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
	HealthUnused    = "unused"
	HealthDraining  = "draining"
)

// Target health reason codes, in ELB's words.
const (
	ReasonRegistrationInProgress   = "Elb.RegistrationInProgress"
	ReasonInitialHealthChecking    = "Elb.InitialHealthChecking"
	ReasonResponseCodeMismatch     = "Target.ResponseCodeMismatch"
	ReasonTimeout                  = "Target.Timeout"
	ReasonFailedHealthChecks       = "Target.FailedHealthChecks"
	ReasonDeregistrationInProgress = "Target.DeregistrationInProgress"
	ReasonNotInUse                 = "Target.NotInUse"
)

// TargetRef names a target the way the control plane registered it.
type TargetRef struct {
	ID   string `json:"id"`
	Host string `json:"host"`
	Port int    `json:"port"`
}

// TargetHealth is one target's health in one target group, the data behind
// DescribeTargetHealth. Reason is empty for healthy targets.
type TargetHealth struct {
	TargetGroupARN string    `json:"targetGroupArn"`
	Target         TargetRef `json:"target"`
	State          string    `json:"state"`
	Reason         string    `json:"reason,omitempty"`
	Description    string    `json:"description,omitempty"`
}

// Drain reasons reported by Drained.
const (
	DrainIdle     = "idle"     // no request or connection in flight
	DrainDeadline = "deadline" // the deregistration delay ran out
)

// Drained says that a draining target may be stopped: nothing is in flight
// to it any more, or its deregistration delay has passed.
type Drained struct {
	TargetGroupARN string    `json:"targetGroupArn"`
	Target         TargetRef `json:"target"`
	Reason         string    `json:"reason"`
}

package state

import (
	"time"

	"github.com/flotta-dev/flotta/internal/model"
)

// ShiftRecord is the progress of a service's blue/green, canary or linear
// deployment (deploymentConfiguration.strategy other than ROLLING): the new
// (green) deployment runs beside the old (blue) one in the alternate target
// groups while production traffic moves to it by the production listener
// rules' weights. The service controller moves it from stage to stage and
// keeps the rules' weights as it says; the hooks controller runs the
// lifecycle hooks of its current stage.
type ShiftRecord struct {
	// ServiceDeploymentArn is the service deployment being carried out;
	// Green and Blue are the ids of the new and the old deployment.
	ServiceDeploymentArn string `json:"serviceDeploymentArn"`
	Green                string `json:"green"`
	Blue                 string `json:"blue"`
	Strategy             string `json:"strategy"`
	// Stage is the lifecycle stage (model.Stage*), since StageAt.
	Stage   string    `json:"stage"`
	StageAt time.Time `json:"stageAt"`
	// Step counts the production traffic steps made (model.ProductionShift),
	// the last at StepAt.
	Step   int       `json:"step,omitempty"`
	StepAt time.Time `json:"stepAt,omitzero"`
	// Stepped says the production step of the current visit to
	// PRODUCTION_TRAFFIC_SHIFT is made (each visit makes one; a visit to
	// PRE_PRODUCTION_TRAFFIC_SHIFT comes before each).
	Stepped bool `json:"stepped,omitempty"`
	// Promote skips the bakes that remain (flotta service promote).
	Promote bool `json:"promote,omitempty"`
	// Pairs are the target groups traffic moves between, one for each of
	// the service's load balancers with an advancedConfiguration.
	Pairs []ShiftPair `json:"pairs"`
	// Hooks are the runs of the current stage's lifecycle hooks.
	Hooks []HookRun `json:"hooks,omitempty"`
	// RollingBack says traffic went back to blue and green is being
	// removed, for Reason.
	RollingBack bool   `json:"rollingBack,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// ShiftPair is one load balancer entry's blue and green target groups and
// the listener rules that forward to them.
type ShiftPair struct {
	Blue           string `json:"blue"`
	Green          string `json:"green"`
	ProductionRule string `json:"productionRule"`
	TestRule       string `json:"testRule,omitempty"`
}

// Hook run statuses (ECS's hookStatus words).
const (
	HookPending        = "PENDING"
	HookInProgress     = "IN_PROGRESS"
	HookSucceeded      = "SUCCEEDED"
	HookFailed         = "FAILED"
	HookAwaitingAction = "AWAITING_ACTION" // a PAUSE hook, until ContinueServiceDeployment
	HookTimedOut       = "TIMED_OUT"
)

// HookRun is one run of a lifecycle hook at the current stage: Index is
// the hook's place in deploymentConfiguration.lifecycleHooks. The service
// controller adds the runs as PENDING when a stage begins; the hooks
// controller runs them and records the outcome.
type HookRun struct {
	// ID is the run's hookId (ContinueServiceDeployment, lifecycleHookDetails).
	ID         string `json:"id,omitempty"`
	Index      int    `json:"index"`
	Stage      string `json:"stage"`
	Target     string `json:"target"`
	TargetType string `json:"targetType,omitempty"`
	Status     string `json:"status"`
	// ExpiresAt is when the run times out, and TimeoutAction what then
	// happens (CONTINUE or ROLLBACK).
	ExpiresAt     time.Time `json:"expiresAt,omitzero"`
	TimeoutAction string    `json:"timeoutAction,omitempty"`
	StartedAt     time.Time `json:"startedAt,omitzero"`
	EndedAt       time.Time `json:"endedAt,omitzero"`
	// TaskArn is the task of a hook whose target is a task definition.
	TaskArn string `json:"taskArn,omitempty"`
	// NextCallAt is when an http(s) hook that answered IN_PROGRESS is
	// called again (its callBackDelay).
	NextCallAt time.Time `json:"nextCallAt,omitzero"`
	Reason     string    `json:"reason,omitempty"`
}

// Weights are the forward weights the production and test rules of a pair
// should have at the shift's point: test traffic goes to green from
// TEST_TRAFFIC_SHIFT on, production traffic by the steps made; a rollback
// sends both back to blue.
func (s *ShiftRecord) Weights(p ShiftPair, steps []model.ShiftStep) (prod, test map[string]int) {
	blue, green := 1, 0
	if !s.RollingBack && s.Step > 0 && s.Step <= len(steps) {
		blue, green = steps[s.Step-1].Weights()
	}
	prod = map[string]int{p.Blue: blue, p.Green: green}
	test = map[string]int{p.Blue: 1, p.Green: 0}
	if !s.RollingBack && stageOrder(s.Stage) >= stageOrder(model.StageTestTrafficShift) {
		test = map[string]int{p.Blue: 0, p.Green: 1}
	}
	return prod, test
}

// stageOrder is a stage's place in a deployment.
func stageOrder(stage string) int {
	for i, s := range ShiftStages {
		if s == stage {
			return i
		}
	}
	return -1
}

// ShiftStages are the lifecycle stages in the order a deployment goes
// through them.
var ShiftStages = []string{
	model.StageReconcileService, model.StagePreScaleUp, model.StageScaleUp, model.StagePostScaleUp,
	model.StageTestTrafficShift, model.StagePostTestTrafficShift, model.StagePreProductionTrafficShift, model.StageProductionTrafficShift,
	model.StagePostProductionTrafficShift, model.StageBakeTime, model.StageCleanUp,
}

package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// hookEvent is the body POSTed to a URL hook: the event ECS sends a Lambda
// hook (Amazon ECS Developer Guide, "Lambda hooks for Amazon ECS service
// deployments", Lifecycle payloads).
type hookEvent struct {
	ExecutionID      string           `json:"executionId"`
	LifecycleStage   string           `json:"lifecycleStage"`
	ResourceArn      string           `json:"resourceArn"` // the service deployment
	ExecutionDetails executionDetails `json:"executionDetails"`
	HookDetails      json.RawMessage  `json:"hookDetails,omitempty"`
}

type executionDetails struct {
	ServiceArn               string             `json:"serviceArn"`
	TargetServiceRevisionArn string             `json:"targetServiceRevisionArn"`
	TestTrafficWeights       map[string]float64 `json:"testTrafficWeights"`
	ProductionTrafficWeights map[string]float64 `json:"productionTrafficWeights"`
}

// hookAnswer is what a hook answers (ECS's Lambda hook response).
type hookAnswer struct {
	HookStatus    string          `json:"hookStatus"`
	CallBackDelay *float64        `json:"callBackDelay"`
	HookDetails   json.RawMessage `json:"hookDetails"`
}

// maxHookAnswer bounds the answer body read from a hook.
const maxHookAnswer = 1 << 20

// call calls a URL hook once and records what it answered: SUCCEEDED,
// FAILED, or IN_PROGRESS with the time of the next call.
func (h *Hooks) call(ctx context.Context, rec *state.ServiceRecord, shift *state.ShiftRecord, run state.HookRun) error {
	k := runKey(shift, run)
	h.mu.Lock()
	extra := h.details[k]
	h.mu.Unlock()
	body, err := json.Marshal(hookPayload(h.State, rec, run, extra))
	if err != nil {
		return err
	}
	callTimeout := h.CallTimeout
	if callTimeout <= 0 {
		callTimeout = DefaultHookCallTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, run.Target, bytes.NewReader(body))
	if err != nil {
		return h.fail(ctx, rec, run, fmt.Sprintf("Lifecycle hook %s could not be called: %v", hookName(run.Target), err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "flotta-lifecycle-hook")
	resp, err := h.client().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: the next leader calls again
		}
		if cctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", callTimeout)
		}
		return h.fail(ctx, rec, run, fmt.Sprintf("Lifecycle hook %s could not be called: %v", hookName(run.Target), err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxHookAnswer))
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return h.fail(ctx, rec, run, fmt.Sprintf("Lifecycle hook %s answered HTTP %d: %s", hookName(run.Target), resp.StatusCode, snippet(answer)))
	}
	var a hookAnswer
	if len(bytes.TrimSpace(answer)) == 0 || json.Unmarshal(answer, &a) != nil {
		a = hookAnswer{} // a 2xx answer without a JSON body succeeds
	}
	switch a.HookStatus {
	case "", state.HookSucceeded:
		return h.succeed(ctx, rec, run)
	case state.HookFailed:
		return h.fail(ctx, rec, run, fmt.Sprintf("Lifecycle hook %s answered hookStatus FAILED: %s", hookName(run.Target), snippet(answer)))
	case state.HookInProgress:
		delay := DefaultCallBackDelay
		if d := a.CallBackDelay; d != nil && *d >= 0 && !math.IsInf(*d, 0) && !math.IsNaN(*d) {
			delay = time.Duration(math.Min(*d, h.timeout().Seconds()) * float64(time.Second))
		}
		delay = max(delay, time.Second) // a hook answering callBackDelay 0 is not called in a tight loop
		if len(a.HookDetails) > 0 {
			h.mu.Lock()
			if h.details == nil {
				h.details = map[string]json.RawMessage{}
			}
			h.details[k] = mergeDetails(h.details[k], a.HookDetails)
			h.mu.Unlock()
		}
		_, _, err := h.change(ctx, rec, run, func(r *state.HookRun) string {
			r.NextCallAt = h.now().Add(delay)
			return ""
		})
		return err
	default:
		return h.fail(ctx, rec, run, fmt.Sprintf("Lifecycle hook %s answered hookStatus %q; expected SUCCEEDED, FAILED or IN_PROGRESS.",
			hookName(run.Target), model.Truncate(a.HookStatus, 50)))
	}
}

func (h *Hooks) client() *http.Client {
	if h.HTTPClient != nil {
		return h.HTTPClient
	}
	return defaultHookClient
}

// defaultHookClient follows no redirects: a 3xx answer fails the hook, as
// any answer that is not 2xx does.
var defaultHookClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// snippet is the first 200 bytes of an answer, for a reason.
func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "(empty body)"
	}
	return model.Truncate(string(b), 200)
}

// mergeDetails merges the hookDetails a hook returned into those it
// returned before, as ECS does between the calls of one run: members of
// the newer object win; a value that is not an object replaces.
func mergeDetails(old, add json.RawMessage) json.RawMessage {
	var o, a map[string]json.RawMessage
	if json.Unmarshal(old, &o) != nil || json.Unmarshal(add, &a) != nil || o == nil || a == nil {
		return add
	}
	for k, v := range a {
		o[k] = v
	}
	b, err := json.Marshal(o)
	if err != nil {
		return add
	}
	return b
}

// hookPayload builds the event for one call of a run: the service
// deployment, the revision it deploys, the traffic weights of the stage (as
// ECS fills them: test weights at TEST_TRAFFIC_SHIFT, production weights at
// PRODUCTION_TRAFFIC_SHIFT, else empty) and the hook's hookDetails, merged
// with those the hook returned with IN_PROGRESS.
func hookPayload(st *state.State, rec *state.ServiceRecord, run state.HookRun, extra json.RawMessage) hookEvent {
	shift := rec.Shift
	green, blue := revisionOf(rec, shift.Green), revisionOf(rec, shift.Blue)
	if green == "" {
		for _, sd := range rec.ServiceDeployments {
			if sd.ServiceDeploymentArn == shift.ServiceDeploymentArn && sd.TargetServiceRevision != nil {
				green = sd.TargetServiceRevision.Arn
			}
		}
	}
	ev := hookEvent{
		ExecutionID:    executionID(shift, run),
		LifecycleStage: run.Stage,
		ResourceArn:    shift.ServiceDeploymentArn,
		ExecutionDetails: executionDetails{
			ServiceArn:               rec.Service.ServiceArn,
			TargetServiceRevisionArn: green,
			TestTrafficWeights:       map[string]float64{},
			ProductionTrafficWeights: map[string]float64{},
		},
	}
	if ev.ExecutionDetails.ServiceArn == "" {
		ev.ExecutionDetails.ServiceArn = st.ServiceARN(rec.Cluster, rec.Name)
	}
	prod, test := shift.Weights(state.ShiftPair{Blue: "blue", Green: "green"}, productionSteps(rec.Service.DeploymentConfiguration))
	switch run.Stage {
	case model.StageTestTrafficShift:
		ev.ExecutionDetails.TestTrafficWeights = percents(test, green, blue)
	case model.StageProductionTrafficShift:
		ev.ExecutionDetails.ProductionTrafficWeights = percents(prod, green, blue)
	}
	var hooks []model.DeploymentLifecycleHook
	if dc := rec.Service.DeploymentConfiguration; dc != nil {
		hooks = dc.LifecycleHooks
	}
	if run.Index >= 0 && run.Index < len(hooks) && hooks[run.Index].HookTargetArn == run.Target {
		ev.HookDetails = hooks[run.Index].HookDetails
	}
	if len(extra) > 0 {
		ev.HookDetails = mergeDetails(ev.HookDetails, extra)
	}
	return ev
}

// revisionOf is the service revision a deployment deploys.
func revisionOf(rec *state.ServiceRecord, id string) string {
	if id == "" {
		return ""
	}
	for _, d := range rec.Deployments {
		if d.ID == id {
			return d.RevisionArn
		}
	}
	if lc := rec.LastCompleted; lc != nil && lc.ID == id {
		return lc.RevisionArn
	}
	return ""
}

// percents turns rule weights into the percentages of the green and blue
// revisions.
func percents(w map[string]int, green, blue string) map[string]float64 {
	out := map[string]float64{}
	total := w["blue"] + w["green"]
	if total == 0 {
		return out
	}
	g := math.Round(float64(w["green"])*1000/float64(total)) / 10
	if green != "" {
		out[green] = g
	}
	if blue != "" {
		out[blue] = math.Round((100-g)*10) / 10
	}
	return out
}

// productionSteps is the production traffic schedule of a deployment
// configuration (bakes left out: only the shares matter here).
func productionSteps(dc *model.DeploymentConfiguration) []model.ShiftStep {
	if dc == nil {
		return model.ProductionShift(model.StrategyBlueGreen, 0, 0, 0, 0)
	}
	canary, step := int(model.DefaultCanaryPercent*10), int(model.DefaultStepPercent*10)
	if c := dc.CanaryConfiguration; c != nil && c.CanaryPercent != nil {
		canary = int(math.Round(*c.CanaryPercent * 10))
	}
	if l := dc.LinearConfiguration; l != nil && l.StepPercent != nil {
		step = int(math.Round(*l.StepPercent * 10))
	}
	return model.ProductionShift(dc.Strategy, canary, 0, step, 0)
}

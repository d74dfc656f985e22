package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/controller"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// hookRig is a store with one BLUE_GREEN service "web" (blue deployment
// ecs-svc/1, green ecs-svc/2) and a hooks controller on a fake clock.
type hookRig struct {
	t     *testing.T
	st    *state.State
	clock *fakeClock
	hooks *controller.Hooks
}

const (
	hookDeploymentArn = "arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/d1"
	blueRevision      = "arn:aws:ecs:us-east-1:123456789012:service-revision/default/web/1"
	greenRevision     = "arn:aws:ecs:us-east-1:123456789012:service-revision/default/web/2"
)

func newHookRig(t *testing.T, configure func(h *controller.Hooks)) *hookRig {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, state.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Scope = model.Scope{Partition: "aws", Region: "us-east-1", Account: "123456789012"}
	clock := &fakeClock{now: time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)}
	st.Clock = clock.Now
	h := &controller.Hooks{State: st, Now: clock.Now, Every: 20 * time.Millisecond}
	if configure != nil {
		configure(h)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		h.Run(rctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return &hookRig{t: t, st: st, clock: clock, hooks: h}
}

// service stores the service with the given hooks, at stage with the
// given production step, and one PENDING run of each hook.
func (r *hookRig) service(strategy, stage string, step int, hooks ...model.DeploymentLifecycleHook) {
	r.t.Helper()
	rec := state.ServiceRecord{
		Cluster: "default", Name: "web",
		Service: model.Service{ServiceName: "web", Status: "ACTIVE",
			ServiceArn:              "arn:aws:ecs:us-east-1:123456789012:service/default/web",
			DeploymentConfiguration: &model.DeploymentConfiguration{Strategy: strategy, LifecycleHooks: hooks}},
		Deployments: []state.DeploymentRecord{
			{Deployment: model.Deployment{ID: "ecs-svc/2"}, RevisionArn: greenRevision, ServiceDeploymentArn: hookDeploymentArn},
			{Deployment: model.Deployment{ID: "ecs-svc/1"}, RevisionArn: blueRevision},
		},
		Shift: &state.ShiftRecord{ServiceDeploymentArn: hookDeploymentArn, Green: "ecs-svc/2", Blue: "ecs-svc/1", Strategy: strategy,
			Stage: stage, Step: step},
	}
	if _, err := r.st.CreateService(context.Background(), rec); err != nil {
		r.t.Fatal(err)
	}
	r.addRuns(stage, hooks)
}

// addRuns does what the service controller does as a stage begins: one
// PENDING run for each hook of the stage.
func (r *hookRig) addRuns(stage string, hooks []model.DeploymentLifecycleHook) {
	r.t.Helper()
	_, err := r.st.UpdateService(context.Background(), "default", "web", func(rec *state.ServiceRecord) error {
		rec.Shift.Stage = stage
		rec.Shift.Hooks = nil
		for i, h := range hooks {
			for _, s := range h.LifecycleStages {
				if s == stage {
					rec.Shift.Hooks = append(rec.Shift.Hooks, state.HookRun{Index: i, Stage: stage, Target: h.HookTargetArn, Status: state.HookPending})
				}
			}
		}
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *hookRig) record() *state.ServiceRecord {
	r.t.Helper()
	rec, err := r.st.GetService(context.Background(), "default", "web")
	if err != nil || rec == nil {
		r.t.Fatalf("read service: %v %v", rec, err)
	}
	return rec
}

// waitRun waits until the first run has status and returns it.
func (r *hookRig) waitRun(status string) state.HookRun {
	r.t.Helper()
	var run state.HookRun
	flottatest.Eventually(r.t, 15*time.Second, "hook run "+status, func() (bool, string) {
		rec := r.record()
		if rec.Shift == nil || len(rec.Shift.Hooks) == 0 {
			return false, "no runs"
		}
		run = rec.Shift.Hooks[0]
		return run.Status == status, fmt.Sprintf("%+v", run)
	})
	return run
}

// events are the service's event messages, oldest first.
func (r *hookRig) events() []string {
	evs := r.record().Service.Events
	out := make([]string, 0, len(evs))
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Message)
	}
	return out
}

// hookServer is an HTTP hook: answer says what to answer each call (by
// its number, from 1); bodies holds what it was sent.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

func newHookServer(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *hookServer {
	hs := &hookServer{}
	hs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("hook called with %s %s %q: %v", r.Method, r.Header.Get("Content-Type"), b, err)
		}
		hs.mu.Lock()
		hs.bodies = append(hs.bodies, body)
		n := len(hs.bodies)
		hs.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(hs.Close)
	return hs
}

func (hs *hookServer) calls() int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return len(hs.bodies)
}

func (hs *hookServer) body(i int) map[string]any {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.bodies[i]
}

func reply(status int, body string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func urlHook(url string, details string, stages ...string) model.DeploymentLifecycleHook {
	h := model.DeploymentLifecycleHook{HookTargetArn: url, LifecycleStages: stages}
	if details != "" {
		h.HookDetails = json.RawMessage(details)
	}
	return h
}

func hasHookEvent(events []string, parts ...string) bool {
	for _, e := range events {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(e, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestURLHookSucceeds checks that a URL hook is POSTed the event ECS sends
// a Lambda hook, and that a 2xx answer (hookStatus SUCCEEDED, or no JSON
// at all) succeeds the run, with events for its start and outcome.
func TestURLHookSucceeds(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		body   string
	}{
		{"hookStatus SUCCEEDED", 200, `{"hookStatus":"SUCCEEDED"}`},
		{"204 without a body", 204, ``},
	} {
		t.Run(c.name, func(t *testing.T) {
			hs := newHookServer(t, reply(c.status, c.body))
			r := newHookRig(t, nil)
			start := r.clock.Now()
			r.service(model.StrategyBlueGreen, model.StageTestTrafficShift, 0,
				urlHook(hs.URL+"/check?token=secret", `{"bucket":"b1"}`, model.StageTestTrafficShift))
			run := r.waitRun(state.HookSucceeded)
			if !run.StartedAt.Equal(start) || !run.EndedAt.Equal(start) || run.Reason != "" {
				t.Errorf("run %+v: want started and ended at %s (the injected clock), no reason", run, start)
			}
			if n := hs.calls(); n != 1 {
				t.Fatalf("hook called %d times, want 1", n)
			}
			got, _ := json.Marshal(hs.body(0))
			var ev struct {
				ExecutionID      string `json:"executionId"`
				LifecycleStage   string `json:"lifecycleStage"`
				ResourceArn      string `json:"resourceArn"`
				ExecutionDetails struct {
					ServiceArn               string             `json:"serviceArn"`
					TargetServiceRevisionArn string             `json:"targetServiceRevisionArn"`
					TestTrafficWeights       map[string]float64 `json:"testTrafficWeights"`
					ProductionTrafficWeights map[string]float64 `json:"productionTrafficWeights"`
				} `json:"executionDetails"`
				HookDetails map[string]any `json:"hookDetails"`
			}
			if err := json.Unmarshal(got, &ev); err != nil {
				t.Fatal(err)
			}
			d := ev.ExecutionDetails
			if ev.ExecutionID == "" || ev.LifecycleStage != model.StageTestTrafficShift || ev.ResourceArn != hookDeploymentArn ||
				d.ServiceArn != "arn:aws:ecs:us-east-1:123456789012:service/default/web" || d.TargetServiceRevisionArn != greenRevision ||
				d.TestTrafficWeights[greenRevision] != 100 || d.TestTrafficWeights[blueRevision] != 0 || len(d.TestTrafficWeights) != 2 ||
				d.ProductionTrafficWeights == nil || len(d.ProductionTrafficWeights) != 0 || ev.HookDetails["bucket"] != "b1" {
				t.Errorf("payload %s", got)
			}
			evs := r.events()
			if !hasHookEvent(evs, "(service web) started lifecycle hook", "/check", model.StageTestTrafficShift) ||
				!hasHookEvent(evs, "(service web) lifecycle hook", "succeeded at stage "+model.StageTestTrafficShift) {
				t.Errorf("events %q: want a start and a success", evs)
			}
			if hasHookEvent(evs, "secret") {
				t.Errorf("events %q show the URL's query", evs)
			}
		})
	}
}

// TestURLHookProductionWeights checks the production traffic weights a
// canary's hook at PRODUCTION_TRAFFIC_SHIFT is sent after the first step.
func TestURLHookProductionWeights(t *testing.T) {
	hs := newHookServer(t, reply(200, `{"hookStatus":"SUCCEEDED"}`))
	r := newHookRig(t, nil)
	r.service(model.StrategyCanary, model.StageProductionTrafficShift, 1, urlHook(hs.URL, "", model.StageProductionTrafficShift))
	r.waitRun(state.HookSucceeded)
	d := hs.body(0)["executionDetails"].(map[string]any)
	prod := d["productionTrafficWeights"].(map[string]any)
	if prod[greenRevision] != 5.0 || prod[blueRevision] != 95.0 || len(d["testTrafficWeights"].(map[string]any)) != 0 {
		t.Errorf("weights %v, want green 5 (canary default) and blue 95 in production, no test weights", d)
	}
}

// TestURLHookInProgress checks that a hook answering IN_PROGRESS is called
// again only after its callBackDelay (on the injected clock), with the
// hookDetails it returned merged into its own, and then succeeds.
func TestURLHookInProgress(t *testing.T) {
	hs := newHookServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			io.WriteString(w, `{"hookStatus":"IN_PROGRESS","callBackDelay":60,"hookDetails":{"checked":1}}`)
			return
		}
		io.WriteString(w, `{"hookStatus":"SUCCEEDED"}`)
	})
	r := newHookRig(t, nil)
	start := r.clock.Now()
	r.service(model.StrategyBlueGreen, model.StagePostScaleUp, 0, urlHook(hs.URL, `{"bucket":"b1"}`, model.StagePostScaleUp))
	var run state.HookRun
	flottatest.Eventually(t, 15*time.Second, "the run waits for its next call", func() (bool, string) {
		run = r.record().Shift.Hooks[0]
		return !run.NextCallAt.IsZero(), fmt.Sprintf("%+v", run)
	})
	if run.Status != state.HookInProgress || !run.NextCallAt.Equal(start.Add(60*time.Second)) {
		t.Fatalf("run %+v: want IN_PROGRESS until %s", run, start.Add(60*time.Second))
	}
	// Many passes (every 20 ms) go by; the clock has not: no second call.
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		if n := hs.calls(); n != 1 {
			t.Fatalf("hook called %d times before its callBackDelay passed", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.clock.Advance(59 * time.Second)
	time.Sleep(100 * time.Millisecond)
	if n := hs.calls(); n != 1 {
		t.Fatalf("hook called %d times 59 s into a callBackDelay of 60", n)
	}
	r.clock.Advance(time.Second)
	run = r.waitRun(state.HookSucceeded)
	if n := hs.calls(); n != 2 {
		t.Errorf("hook called %d times, want 2", n)
	}
	first, second := hs.body(0), hs.body(1)
	if first["executionId"] != second["executionId"] {
		t.Errorf("executionId changed between calls of one run: %v, %v", first["executionId"], second["executionId"])
	}
	hd, _ := second["hookDetails"].(map[string]any)
	if hd["bucket"] != "b1" || hd["checked"] != 1.0 {
		t.Errorf("second call's hookDetails %v: want the hook's own and those it returned", hd)
	}
	if !run.EndedAt.Equal(start.Add(60 * time.Second)) {
		t.Errorf("run ended at %s, want %s", run.EndedAt, start.Add(60*time.Second))
	}
}

// TestURLHookFails checks the answers that fail a run, and the reasons
// they leave for the rollback.
func TestURLHookFails(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, c := range []struct {
		name   string
		status int
		body   string
		reason []string
	}{
		{"500", 500, "boom: database down", []string{"answered HTTP 500: boom: database down"}},
		{"500 with a long body", 500, long, []string{"answered HTTP 500: " + strings.Repeat("x", 200) + "..."}},
		{"404", 404, "", []string{"answered HTTP 404: (empty body)"}},
		{"302 is not followed", 302, "", []string{"answered HTTP 302"}},
		{"hookStatus FAILED", 200, `{"hookStatus":"FAILED"}`, []string{"answered hookStatus FAILED"}},
		{"unknown hookStatus", 200, `{"hookStatus":"MAYBE"}`, []string{`answered hookStatus "MAYBE"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			hs := newHookServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if c.status == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			})
			r := newHookRig(t, nil)
			r.service(model.StrategyBlueGreen, model.StagePreScaleUp, 0, urlHook(hs.URL, "", model.StagePreScaleUp))
			run := r.waitRun(state.HookFailed)
			for _, want := range c.reason {
				if !strings.Contains(run.Reason, want) {
					t.Errorf("reason %q: want it to say %q", run.Reason, want)
				}
			}
			if c.name == "500 with a long body" && strings.Contains(run.Reason, strings.Repeat("x", 201)) {
				t.Errorf("reason %q holds more than 200 bytes of the body", run.Reason)
			}
			if n := hs.calls(); n != 1 {
				t.Errorf("hook called %d times, want 1", n)
			}
			if evs := r.events(); !hasHookEvent(evs, "(service web) lifecycle hook", "failed at stage "+model.StagePreScaleUp, c.reason[0]) {
				t.Errorf("events %q: want the failure with its reason", evs)
			}
		})
	}
}

// TestURLHookTimeouts checks the two timeouts: a call that does not answer
// within the call timeout, and a hook that keeps answering IN_PROGRESS past
// the hook timeout.
func TestURLHookTimeouts(t *testing.T) {
	t.Run("call", func(t *testing.T) {
		hs := newHookServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		})
		r := newHookRig(t, func(h *controller.Hooks) { h.CallTimeout = 200 * time.Millisecond })
		r.service(model.StrategyBlueGreen, model.StagePreScaleUp, 0, urlHook(hs.URL, "", model.StagePreScaleUp))
		run := r.waitRun(state.HookFailed)
		if !strings.Contains(run.Reason, "no answer within 200ms") {
			t.Errorf("reason %q: want the call timeout", run.Reason)
		}
	})
	t.Run("hook", func(t *testing.T) {
		hs := newHookServer(t, reply(200, `{"hookStatus":"IN_PROGRESS","callBackDelay":30}`))
		r := newHookRig(t, func(h *controller.Hooks) { h.Timeout = 2 * time.Minute })
		r.service(model.StrategyBlueGreen, model.StagePreScaleUp, 0, urlHook(hs.URL, "", model.StagePreScaleUp))
		for i := 1; i <= 3; i++ {
			flottatest.Eventually(t, 15*time.Second, fmt.Sprintf("call %d", i), func() (bool, string) {
				return hs.calls() == i, fmt.Sprint(hs.calls(), " calls")
			})
			run := r.record().Shift.Hooks[0]
			if run.Status != state.HookInProgress {
				t.Fatalf("run %+v after %d calls: want IN_PROGRESS", run, i)
			}
			flottatest.Eventually(t, 15*time.Second, "the next call is set", func() (bool, string) {
				run := r.record().Shift.Hooks[0]
				return run.NextCallAt.Equal(r.clock.Now().Add(30 * time.Second)), fmt.Sprintf("%+v", run)
			})
			r.clock.Advance(30 * time.Second)
		}
		// 90 s in; at 120 s the hook has run out of time.
		r.clock.Advance(30 * time.Second)
		run := r.waitRun(state.HookFailed)
		if !strings.Contains(run.Reason, "did not finish within 2m0s") {
			t.Errorf("reason %q: want the hook timeout", run.Reason)
		}
	})
}

// TestURLHookRunMovedOn checks that an answer arriving after the service
// controller moved the deployment on (here: the next stage, with no hooks)
// changes nothing: a concurrent change is never lost.
func TestURLHookRunMovedOn(t *testing.T) {
	release := make(chan struct{})
	called := make(chan struct{}, 1)
	hs := newHookServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		called <- struct{}{}
		<-release
		io.WriteString(w, `{"hookStatus":"FAILED"}`)
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	r := newHookRig(t, nil)
	r.service(model.StrategyBlueGreen, model.StagePreScaleUp, 0, urlHook(hs.URL, "", model.StagePreScaleUp))
	select {
	case <-called:
	case <-time.After(15 * time.Second):
		t.Fatal("the hook was not called")
	}
	r.addRuns(model.StageScaleUp, nil)
	before := r.record()
	close(release)
	// The failure is not written anywhere; wait for the call to have been
	// answered and handled, then look.
	time.Sleep(300 * time.Millisecond)
	after := r.record()
	if after.Shift.Stage != model.StageScaleUp || len(after.Shift.Hooks) != 0 || after.Shift.RollingBack ||
		len(after.Service.Events) != len(before.Service.Events) {
		t.Errorf("record changed after the stage moved on: %+v, events %q", after.Shift, r.events())
	}
}

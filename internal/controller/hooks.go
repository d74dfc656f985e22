package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/scheduler"
	"github.com/flotta-dev/flotta/internal/state"
)

// Hooks runs the lifecycle hooks of blue/green, canary and linear
// deployments. The service controller adds a PENDING run to the deployment's
// record (ServiceRecord.Shift.Hooks) for each hook of a stage as the stage
// begins; Hooks runs it and records the outcome there (SUCCEEDED, or FAILED
// with a Reason), which the service controller reads to move on or roll
// back. A hook's target is, as Flotta's extension of ECS's Lambda hooks:
//   - an http:// or https:// URL, POSTed a JSON body shaped like the event
//     ECS sends a Lambda hook, and called again while it answers
//     IN_PROGRESS;
//   - a task definition ARN, run as one task in the service's cluster; the
//     hook succeeds when every essential container exits 0.
//
// It meets the other controllers only in the store: it reads services and
// tasks, places hook tasks through the scheduler, and writes hook runs and
// service events.
type Hooks struct {
	State     *state.State
	Scheduler *scheduler.Scheduler
	Logger    *slog.Logger
	// HTTPClient calls URL hooks; nil means one that follows no redirects.
	HTTPClient *http.Client
	// Now is the clock of hook timing (started, next call, timeout); nil
	// means the state's clock.
	Now func() time.Time
	// Every is how often it looks at the runs without a store change (for
	// callBackDelay, hook tasks and timeouts); service changes wake it at once.
	Every time.Duration
	// CallTimeout bounds one call of a URL hook (default 10 s).
	CallTimeout time.Duration
	// Timeout bounds a whole hook run, from its start to its outcome
	// (default DefaultHookTimeout).
	Timeout time.Duration

	// active holds the services ("cluster/name") with hook runs not yet
	// finished; changed those that changed since the last pass; both are
	// read each pass, and every service every rescanServices (scannedAt).
	active    map[string]bool
	changed   map[string]bool
	scannedAt time.Time

	mu sync.Mutex
	// busy holds the runs being worked on (by runKey), so that a pass does
	// not start a second call of a run whose first has not answered.
	busy map[string]bool
	// details holds the hookDetails a URL hook returned with IN_PROGRESS,
	// merged, to pass on its next call (by runKey). It is not stored: a
	// restart of the server forgets it (HookRun has no member to hold it).
	details map[string]json.RawMessage
	wg      sync.WaitGroup
}

// Hook timing defaults.
const (
	// DefaultHookTimeout is ECS's default for a lifecycle hook's
	// timeoutConfiguration.timeoutInMinutes: 1,440 minutes. A hook that has
	// not SUCCEEDED or FAILED by then fails (ECS's default action, ROLLBACK).
	DefaultHookTimeout = 24 * time.Hour
	// DefaultHookCallTimeout bounds one HTTP call of a URL hook.
	DefaultHookCallTimeout = 10 * time.Second
	// DefaultCallBackDelay is how long ECS waits before calling a hook that
	// answered IN_PROGRESS without a callBackDelay.
	DefaultCallBackDelay = 30 * time.Second
)

// Run runs hooks until ctx ends, and waits for the calls under way.
func (h *Hooks) Run(ctx context.Context) {
	if h.Every == 0 {
		h.Every = time.Second
	}
	if h.Logger == nil {
		h.Logger = slog.Default()
	}
	defer h.wg.Wait()
	for ctx.Err() == nil {
		rev, err := h.State.Revision(ctx)
		if err != nil {
			sleep(ctx, time.Second)
			continue
		}
		h.follow(ctx, rev)
	}
}

// follow reconciles on every change of a service and on a tick, until the
// watch ends.
func (h *Hooks) follow(ctx context.Context, rev int64) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	svcs, errs := h.State.WatchServices(wctx, rev)
	tick := time.NewTicker(h.Every)
	defer tick.Stop()
	for {
		if err := h.Reconcile(ctx); err != nil && ctx.Err() == nil {
			h.Logger.Warn("reconcile lifecycle hooks", "err", err)
		}
		select {
		case batch, ok := <-svcs:
			if !ok {
				return
			}
			if h.changed == nil {
				h.changed = map[string]bool{}
			}
			for _, ch := range batch {
				h.changed[ch.Cluster+"/"+ch.Name] = true
			}
		case <-tick.C:
		case err := <-errs:
			h.Logger.Warn("service watch ended", "err", err)
			return
		case <-ctx.Done():
			return
		}
	}
}

func (h *Hooks) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return h.State.Now()
}

func (h *Hooks) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return DefaultHookTimeout
}

// Reconcile looks once at every service with unfinished hook runs and
// starts the work each run is due (in the background: a call may take
// CallTimeout).
func (h *Hooks) Reconcile(ctx context.Context) error {
	keys, err := h.candidates(ctx)
	if err != nil {
		return err
	}
	for _, key := range keys {
		cluster, name, _ := strings.Cut(key, "/")
		rec, err := h.State.GetService(ctx, cluster, name)
		if err != nil {
			return err
		}
		if rec == nil || rec.Shift == nil || !openRuns(rec.Shift) {
			delete(h.active, key)
			continue
		}
		h.active[key] = true
		for _, run := range rec.Shift.Hooks {
			if run.Stage != rec.Shift.Stage || finished(run.Status) || !h.due(run) {
				continue
			}
			k := runKey(rec.Shift, run)
			if !h.claim(k) {
				continue
			}
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				defer h.release(k)
				if err := h.step(ctx, rec, run); err != nil && ctx.Err() == nil {
					h.Logger.Warn("lifecycle hook", "service", key, "stage", run.Stage, "hook", run.Index, "err", err)
				}
			}()
		}
	}
	return nil
}

// due says whether a run has work now: it is to start, its timeout has
// passed, it is a task hook (whose task is looked at), or its next call is
// due.
func (h *Hooks) due(run state.HookRun) bool {
	now := h.now()
	switch {
	case run.Status == state.HookPending:
		return true
	case !run.StartedAt.IsZero() && now.Sub(run.StartedAt) >= h.timeout():
		return true
	case isTaskHook(run.Target):
		return true
	}
	return !now.Before(run.NextCallAt)
}

func (h *Hooks) claim(k string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.busy == nil {
		h.busy = map[string]bool{}
	}
	if h.busy[k] {
		return false
	}
	h.busy[k] = true
	return true
}

func (h *Hooks) release(k string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.busy, k)
}

// candidates are the services to look at this pass: every one when the set
// is unknown or old, else those with unfinished runs and those that changed.
func (h *Hooks) candidates(ctx context.Context) ([]string, error) {
	now := time.Now()
	if h.active == nil || now.Sub(h.scannedAt) >= rescanServices {
		keys, err := h.State.ServiceKeys(ctx)
		if err != nil {
			return nil, err
		}
		h.active, h.changed, h.scannedAt = map[string]bool{}, nil, now
		for _, k := range keys {
			h.active[k] = true // each is read this pass; those without runs drop out
		}
	}
	for k := range h.changed {
		h.active[k] = true
	}
	h.changed = nil
	keys := make([]string, 0, len(h.active))
	for k := range h.active {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

func finished(status string) bool {
	// A PAUSE hook's run (AWAITING_ACTION) is not this controller's to run.
	return status == state.HookSucceeded || status == state.HookFailed || status == state.HookTimedOut || status == state.HookAwaitingAction
}

// openRuns says whether a shift has runs of its stage to carry out.
func openRuns(s *state.ShiftRecord) bool {
	for _, r := range s.Hooks {
		if r.Stage == s.Stage && !finished(r.Status) {
			return true
		}
	}
	return false
}

// runKey names a run of a deployment: its hook, stage and start.
func runKey(s *state.ShiftRecord, r state.HookRun) string {
	return s.ServiceDeploymentArn + "|" + r.Stage + "|" + strconv.Itoa(r.Index) + "|" + r.Target
}

// isTaskHook says whether a hook target is a task definition ARN (the
// model accepts only those and http(s) URLs).
func isTaskHook(target string) bool { return model.IsARN(target) }

// step does what a run is due: starts it, fails it when its time is up, or
// calls its URL or looks at its task.
func (h *Hooks) step(ctx context.Context, rec *state.ServiceRecord, run state.HookRun) error {
	// The pass read the record before it claimed the run: the work of an
	// earlier claim may have finished the run since. Read it again (after
	// the claim, so that what that work wrote is seen).
	rec, run, ok, err := h.current(ctx, rec, run)
	if err != nil || !ok {
		return err
	}
	shift := rec.Shift
	if run.Status == state.HookPending {
		started, ok, err := h.change(ctx, rec, run, func(r *state.HookRun) string {
			r.Status, r.StartedAt = state.HookInProgress, h.now()
			return fmt.Sprintf("(service %s) started lifecycle hook %s at stage %s.", rec.Name, hookName(r.Target), r.Stage)
		})
		if err != nil || !ok {
			return err
		}
		run = started
	}
	if elapsed := h.now().Sub(run.StartedAt); elapsed >= h.timeout() {
		if run.TaskArn != "" {
			h.stopHookTask(ctx, run.TaskArn, "Lifecycle hook timed out")
		}
		return h.fail(ctx, rec, run, fmt.Sprintf("Lifecycle hook %s did not finish within %s.", hookName(run.Target), h.timeout()))
	}
	if isTaskHook(run.Target) {
		return h.stepTask(ctx, rec, run)
	}
	return h.call(ctx, rec, shift, run)
}

// current reads a service again and finds the run in it; ok is false when
// it is finished, or no longer there.
func (h *Hooks) current(ctx context.Context, rec *state.ServiceRecord, run state.HookRun) (*state.ServiceRecord, state.HookRun, bool, error) {
	deployment := rec.Shift.ServiceDeploymentArn
	rec, err := h.State.GetService(ctx, rec.Cluster, rec.Name)
	if err != nil || rec == nil || rec.Shift == nil || rec.Shift.ServiceDeploymentArn != deployment || rec.Shift.Stage != run.Stage {
		return nil, run, false, err
	}
	for _, r := range rec.Shift.Hooks {
		if r.Index == run.Index && r.Stage == run.Stage && r.Target == run.Target && !finished(r.Status) {
			return rec, r, h.due(r), nil
		}
	}
	return nil, run, false, nil
}

// errRunGone stops an update whose run is no longer the one read.
var errRunGone = errors.New("the hook run changed")

// change applies fn to the run in the service's current record if it is
// still the run that was read (same deployment, stage, hook and status,
// started at the same time), and writes the event fn returns (if any) with
// it. It says whether the run was still there, and returns it as written.
func (h *Hooks) change(ctx context.Context, rec *state.ServiceRecord, want state.HookRun, fn func(r *state.HookRun) string) (state.HookRun, bool, error) {
	deployment := rec.Shift.ServiceDeploymentArn
	var out state.HookRun
	_, err := h.State.UpdateService(ctx, rec.Cluster, rec.Name, func(r *state.ServiceRecord) error {
		if r.Shift == nil || r.Shift.ServiceDeploymentArn != deployment || r.Shift.Stage != want.Stage {
			return errRunGone
		}
		for i := range r.Shift.Hooks {
			run := &r.Shift.Hooks[i]
			if !sameRun(*run, want) {
				continue
			}
			if msg := fn(run); msg != "" {
				ev := model.ServiceEvent{ID: state.NewID(), CreatedAt: model.At(h.now()), Message: msg}
				r.Service.Events = append([]model.ServiceEvent{ev}, r.Service.Events...)
			}
			out = *run
			return nil
		}
		return errRunGone
	})
	if errors.Is(err, errRunGone) {
		return out, false, nil
	}
	if err != nil {
		return out, false, err
	}
	return out, true, nil
}

// sameRun says whether a stored run is still the one read: nobody changed
// it since.
func sameRun(a, b state.HookRun) bool {
	return a.Index == b.Index && a.Stage == b.Stage && a.Target == b.Target && a.Status == b.Status &&
		a.StartedAt.Equal(b.StartedAt) && a.TaskArn == b.TaskArn && a.NextCallAt.Equal(b.NextCallAt)
}

// succeed and fail record a run's outcome, with an event.
func (h *Hooks) succeed(ctx context.Context, rec *state.ServiceRecord, run state.HookRun) error {
	_, _, err := h.change(ctx, rec, run, func(r *state.HookRun) string {
		r.Status, r.EndedAt, r.NextCallAt, r.Reason = state.HookSucceeded, h.now(), time.Time{}, ""
		return fmt.Sprintf("(service %s) lifecycle hook %s succeeded at stage %s.", rec.Name, hookName(r.Target), r.Stage)
	})
	h.forget(runKey(rec.Shift, run))
	return err
}

func (h *Hooks) fail(ctx context.Context, rec *state.ServiceRecord, run state.HookRun, reason string) error {
	_, _, err := h.change(ctx, rec, run, func(r *state.HookRun) string {
		r.Status, r.EndedAt, r.NextCallAt, r.Reason = state.HookFailed, h.now(), time.Time{}, reason
		return fmt.Sprintf("(service %s) lifecycle hook %s failed at stage %s: %s", rec.Name, hookName(r.Target), r.Stage, reason)
	})
	h.forget(runKey(rec.Shift, run))
	return err
}

func (h *Hooks) forget(k string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.details, k)
}

// hookName shows a hook target in events and reasons: a URL without its
// user information and query, which may hold secrets.
func hookName(target string) string {
	if isTaskHook(target) {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return "(an unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// executionID is the id of a run in the hook's payload (executionId): the
// same for every call of one run.
func executionID(s *state.ShiftRecord, r state.HookRun) string {
	sum := sha256.Sum256([]byte(runKey(s, r) + "|" + r.StartedAt.UTC().Format(time.RFC3339Nano)))
	x := hex.EncodeToString(sum[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

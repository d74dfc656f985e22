package server_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/runtime"
	"github.com/flotta-dev/flotta/internal/runtime/fake"
	"github.com/flotta-dev/flotta/internal/state"
	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestTaskDefinitionHooks checks lifecycle hooks whose target is a task
// definition: the hooks controller runs one task of it in the service's
// cluster, and the run succeeds when every essential container exits 0
// (a non-essential one may fail), fails with the exit code and container
// otherwise, and fails with the placement reason when the task fits
// nowhere. The stage machine is not there yet: the test sets the
// deployment's stage and runs in the record as the service controller will.
func TestTaskDefinitionHooks(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	f := fleet.New(t, e)
	// A container whose environment says EXIT=n exits with n once started.
	f.OnStart = func(rt *fake.Runtime, id string, spec runtime.ContainerSpec) {
		for _, kv := range spec.Env {
			if v, ok := strings.CutPrefix(kv, "EXIT="); ok {
				code, _ := strconv.Atoi(v)
				go func() {
					time.Sleep(50 * time.Millisecond)
					rt.Exit(id, code)
				}()
			}
		}
	}
	f.Add(1, fleet.Spec{CPU: 1024, Memory: 1024}, nil)
	register := func(family string, memory int32, containers map[string]string) string {
		t.Helper()
		in := &ecs.RegisterTaskDefinitionInput{Family: aws.String(family)}
		for name, exit := range containers {
			essential := !strings.HasPrefix(name, "side")
			in.ContainerDefinitions = append(in.ContainerDefinitions, types.ContainerDefinition{Name: aws.String(name), Image: aws.String(fleet.Image),
				Memory: aws.Int32(memory), Essential: aws.Bool(essential),
				Environment: []types.KeyValuePair{{Name: aws.String("EXIT"), Value: aws.String(exit)}}})
		}
		out, err := e.ECS.RegisterTaskDefinition(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	web := register("web", 64, map[string]string{"web": "none"})
	ok := register("hook-ok", 64, map[string]string{"check": "0", "sidecar": "3"})
	bad := register("hook-bad", 64, map[string]string{"check": "1"})
	huge := register("hook-huge", 100000, map[string]string{"check": "0"})
	if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("app"), TaskDefinition: aws.String(web),
		DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	st := e.Server.State()
	// The service controller writes back the whole record it planned from:
	// a change it did not see (the Shift set below) made while it
	// reconciles is lost. Let it settle first; a steady service of no
	// tasks is then not written again.
	flottatest.Eventually(t, 30*time.Second, "service app steady", func() (bool, string) {
		rec, err := st.GetService(ctx, "default", "app")
		if err != nil || rec == nil {
			return false, fmt.Sprint(err)
		}
		return rec.Steady, fmt.Sprintf("steady %v", rec.Steady)
	})
	hooks := []model.DeploymentLifecycleHook{
		{HookTargetArn: ok, LifecycleStages: []string{model.StagePostScaleUp}},
		{HookTargetArn: bad, LifecycleStages: []string{model.StagePostTestTrafficShift}},
		{HookTargetArn: huge, LifecycleStages: []string{model.StagePreScaleUp}},
	}
	var deploymentArn string
	// enter makes stage the deployment's stage, with a PENDING run of hook i.
	enter := func(stage string, i int) {
		t.Helper()
		_, err := st.UpdateService(ctx, "default", "app", func(r *state.ServiceRecord) error {
			r.Service.DeploymentConfiguration.LifecycleHooks = hooks
			// The stage machine holds a deployment the circuit breaker
			// failed (without a rollback): the runs stay as the hooks
			// controller records them, and the stage as set here.
			r.Deployments[0].RolloutState = model.RolloutFailed
			if r.Shift == nil {
				d := r.Deployments[0]
				deploymentArn = d.ServiceDeploymentArn
				r.Shift = &state.ShiftRecord{ServiceDeploymentArn: d.ServiceDeploymentArn, Green: d.ID, Strategy: model.StrategyBlueGreen}
			}
			r.Shift.Stage = stage
			r.Shift.Hooks = []state.HookRun{{Index: i, Stage: stage, Target: hooks[i].HookTargetArn, Status: state.HookPending}}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wait := func(status string) state.HookRun {
		t.Helper()
		var run state.HookRun
		flottatest.Eventually(t, 30*time.Second, "hook run "+status, func() (bool, string) {
			rec, err := st.GetService(ctx, "default", "app")
			if err != nil {
				return false, err.Error()
			}
			if rec.Shift == nil || len(rec.Shift.Hooks) == 0 {
				t.Fatalf("the deployment's hook runs are gone: %+v", rec.Shift)
			}
			run = rec.Shift.Hooks[0]
			return run.Status == status, fmt.Sprintf("%+v", run)
		})
		return run
	}
	describe := func(arn string) types.Task {
		t.Helper()
		out, err := e.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{arn}})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("describe %s: %v %+v", arn, err, out)
		}
		return out.Tasks[0]
	}

	enter(model.StagePostScaleUp, 0)
	run := wait(state.HookSucceeded)
	if run.TaskArn == "" {
		t.Fatalf("run %+v: no task", run)
	}
	task := describe(run.TaskArn)
	wantStartedBy := "ecs-hook/" + deploymentArn[strings.LastIndexByte(deploymentArn, '/')+1:]
	if aws.ToString(task.LastStatus) != "STOPPED" || aws.ToString(task.StartedBy) != wantStartedBy ||
		aws.ToString(task.Group) != "family:hook-ok" || aws.ToString(task.TaskDefinitionArn) != ok {
		t.Errorf("hook task %s: %s, startedBy %s, group %s; want STOPPED, %s, family:hook-ok, %s", run.TaskArn, aws.ToString(task.LastStatus),
			aws.ToString(task.StartedBy), aws.ToString(task.Group), wantStartedBy, ok)
	}
	if tasks, err := e.ECS.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("app"), DesiredStatus: types.DesiredStatusStopped}); err != nil || len(tasks.TaskArns) != 0 {
		t.Errorf("the hook task counts as a task of the service: %v %v", tasks, err)
	}

	enter(model.StagePostTestTrafficShift, 1)
	run = wait(state.HookFailed)
	if want := fmt.Sprintf("Hook task %s exited with code 1 (container check)", run.TaskArn); run.TaskArn == "" || run.Reason != want {
		t.Errorf("reason %q, want %q", run.Reason, want)
	}

	enter(model.StagePreScaleUp, 2)
	run = wait(state.HookFailed)
	if run.TaskArn != "" || !strings.Contains(run.Reason, "could not be placed: RESOURCE:MEMORY") {
		t.Errorf("run %+v: want no task and the placement reason", run)
	}

	svc, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"app"}})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, ev := range svc.Services[0].Events {
		msgs = append(msgs, aws.ToString(ev.Message))
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"(service app) started lifecycle hook " + ok + " at stage POST_SCALE_UP.",
		"(service app) lifecycle hook " + ok + " succeeded at stage POST_SCALE_UP.",
		"(service app) lifecycle hook " + bad + " failed at stage POST_TEST_TRAFFIC_SHIFT: Hook task",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("events lack %q:\n%s", want, all)
		}
	}
}

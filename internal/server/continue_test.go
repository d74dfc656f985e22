package server_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestContinueServiceDeployment: through the ECS client, a PAUSE hook
// holds a blue/green deployment at its stage and shows in
// lifecycleHookDetails; ContinueServiceDeployment refuses an unknown hook
// or deployment, CONTINUE moves the deployment on, and ROLLBACK rolls the
// next one back.
func TestContinueServiceDeployment(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	fleet.New(t, e).Add(1, fleet.Spec{CPU: 4096, Memory: 4096}, nil)
	f := newBlueGreenELB(t, e.ELB())
	for range 2 {
		if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), NetworkMode: types.NetworkModeBridge,
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String(fleet.Image), Memory: aws.Int32(64),
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1),
		DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, LifecycleHooks: []types.DeploymentLifecycleHook{{
			TargetType: types.DeploymentLifecycleHookTargetTypePause, LifecycleStages: []types.DeploymentLifecycleHookStage{types.DeploymentLifecycleHookStagePreScaleUp},
			TimeoutConfiguration: &types.DeploymentLifecycleHookTimeoutConfiguration{TimeoutInMinutes: aws.Int32(30)}}}},
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(f.blue), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080),
			AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(f.green), ProductionListenerRule: aws.String(f.prodRule)}}}}); err != nil {
		t.Fatal(err)
	}
	latest := func() types.ServiceDeployment {
		t.Helper()
		list, err := e.ECS.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("web")})
		if err != nil || len(list.ServiceDeployments) == 0 {
			t.Fatalf("ListServiceDeployments: %v %v", list, err)
		}
		out, err := e.ECS.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn)}})
		if err != nil || len(out.ServiceDeployments) != 1 {
			t.Fatalf("DescribeServiceDeployments: %v %v", out, err)
		}
		return out.ServiceDeployments[0]
	}
	paused := func(what string) types.ServiceDeployment {
		t.Helper()
		var sd types.ServiceDeployment
		flottatest.Eventually(t, 30*time.Second, what, func() (bool, string) {
			sd = latest()
			ok := sd.LifecycleStage == types.ServiceDeploymentLifecycleStagePreScaleUp && len(sd.LifecycleHookDetails) == 1 &&
				sd.LifecycleHookDetails[0].Status == types.DeploymentLifecycleHookStatusAwaitingAction
			return ok, fmt.Sprintf("%s at %s, hooks %+v", sd.Status, sd.LifecycleStage, sd.LifecycleHookDetails)
		})
		return sd
	}
	if _, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("web:2")}); err != nil {
		t.Fatal(err)
	}
	sd := paused("the deployment paused at PRE_SCALE_UP")
	hook := sd.LifecycleHookDetails[0]
	if aws.ToString(hook.HookId) == "" || hook.TargetType != types.DeploymentLifecycleHookTargetTypePause || hook.TargetArn != nil ||
		hook.TimeoutAction != types.DeploymentLifecycleHookActionRollback || hook.ExpiresAt == nil || time.Until(*hook.ExpiresAt) < 25*time.Minute {
		t.Fatalf("lifecycle hook detail %+v", hook)
	}

	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return fmt.Sprint(err)
	}
	for _, c := range []struct {
		in   *ecs.ContinueServiceDeploymentInput
		want string
	}{
		{&ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: sd.ServiceDeploymentArn, HookId: aws.String("nope")}, "InvalidParameterException"},
		{&ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: sd.ServiceDeploymentArn, HookId: hook.HookId, Action: "SKIP"}, "InvalidParameterException"},
		{&ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: aws.String(aws.ToString(sd.ServiceDeploymentArn) + "x"), HookId: hook.HookId}, "ServiceDeploymentNotFoundException"},
	} {
		if _, err := e.ECS.ContinueServiceDeployment(ctx, c.in); code(err) != c.want {
			t.Errorf("ContinueServiceDeployment %+v: %v, want %s", c.in, err, c.want)
		}
	}
	if now := latest(); now.LifecycleStage != types.ServiceDeploymentLifecycleStagePreScaleUp {
		t.Fatalf("refused calls moved the deployment to %s", now.LifecycleStage)
	}

	// CONTINUE: green scales up (its fake tasks never pass the load
	// balancer's checks, so it stays at SCALE_UP).
	if _, err := e.ECS.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: sd.ServiceDeploymentArn, HookId: hook.HookId}); err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 30*time.Second, "the deployment at SCALE_UP", func() (bool, string) {
		now := latest()
		return now.LifecycleStage == types.ServiceDeploymentLifecycleStageScaleUp, fmt.Sprintf("%s at %s", now.Status, now.LifecycleStage)
	})
	if _, err := e.ECS.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: sd.ServiceDeploymentArn, HookId: hook.HookId}); code(err) != "InvalidParameterException" {
		t.Fatalf("continuing a hook twice: %v", err)
	}

	// ROLLBACK: the next deployment pauses, and goes back to blue.
	if _, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("web:1")}); err != nil {
		t.Fatal(err)
	}
	sd = paused("the next deployment paused at PRE_SCALE_UP")
	if _, err := e.ECS.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: sd.ServiceDeploymentArn,
		HookId: sd.LifecycleHookDetails[0].HookId, Action: types.DeploymentLifecycleHookActionRollback}); err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 30*time.Second, "the rollback", func() (bool, string) {
		now := latest()
		ok := now.Status == types.ServiceDeploymentStatusRollbackSuccessful && now.Rollback != nil &&
			strings.Contains(aws.ToString(now.Rollback.Reason), "Rollback requested by user at lifecycle hook")
		return ok, fmt.Sprintf("%s %+v", now.Status, now.Rollback)
	})
}

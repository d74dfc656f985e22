package ecs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestPromoteServiceDeployment: promote refuses a service without a
// blue/green, canary or linear deployment under way, and unknown services
// and clusters as UpdateService does; with one under way it sets Promote
// and answers which deployment and stage it promoted.
func TestPromoteServiceDeployment(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo"), Memory: aws.Int32(64)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	st := e.Server.State()
	// The service controller's first writes are done once it is steady: a
	// refused call must then leave the store as it was.
	flottatest.Eventually(t, 30*time.Second, "service web steady", func() (bool, string) {
		rec, err := st.GetService(ctx, "default", "web")
		if err != nil || rec == nil {
			return false, fmt.Sprint(err)
		}
		return rec.Steady, fmt.Sprintf("steady %v", rec.Steady)
	})
	c := e.Client(e.Root)
	promote := func(body map[string]any) (map[string]string, error) {
		out := map[string]string{}
		err := c.Call(ctx, flottaapi.FlottaTarget+".PromoteServiceDeployment", body, &out)
		return out, err
	}
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"service": "web"}, "InvalidParameterException: The service has no blue/green, canary or linear deployment in progress."},
		{map[string]any{"service": "ghost"}, "ServiceNotFoundException"},
		{map[string]any{"service": "web", "cluster": "nope"}, "ClusterNotFoundException"},
		{map[string]any{}, "InvalidParameterException: service is required."},
	} {
		before := e.Revision(t)
		if _, err := promote(tc.body); err == nil || !strings.Contains(err.Error(), strings.SplitN(tc.want, ": ", 2)[0]) ||
			(strings.Contains(tc.want, ": ") && !strings.Contains(err.Error(), strings.SplitN(tc.want, ": ", 2)[1])) {
			t.Errorf("promote %v: %v; want %s", tc.body, err, tc.want)
		}
		if after := e.Revision(t); after != before {
			t.Errorf("promote %v was refused but wrote to the store", tc.body)
		}
	}

	arn := "arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/abc"
	if _, err := st.UpdateService(ctx, "default", "web", func(r *state.ServiceRecord) error {
		// The stage machine holds a deployment the circuit breaker failed:
		// the shift stays as set here.
		r.Deployments[0].RolloutState = model.RolloutFailed
		r.Shift = &state.ShiftRecord{ServiceDeploymentArn: arn, Green: r.Deployments[0].ID, Blue: "ecs-svc/1", Strategy: model.StrategyLinear,
			Stage: model.StagePostProductionTrafficShift, Step: 1}
		r.Seq++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out, err := promote(map[string]any{"service": "arn:aws:ecs:us-east-1:123456789012:service/default/web", "cluster": "default"})
	if err != nil || out["serviceDeploymentArn"] != arn || out["lifecycleStage"] != model.StagePostProductionTrafficShift || out["strategy"] != "LINEAR" {
		t.Fatalf("promote: %v %v", out, err)
	}
	rec, err := st.GetService(ctx, "default", "web")
	if err != nil || rec.Shift == nil || !rec.Shift.Promote || rec.Shift.Step != 1 {
		t.Fatalf("the shift after promote: %+v %v", rec.Shift, err)
	}
}

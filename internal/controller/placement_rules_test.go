package controller_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/testutil/fleet"
)

// TestServiceWithInvalidRulesSaysWhy: a service whose task definition's
// memberOf expression does not parse places nothing, rather than placing
// without the constraint, and says why in an event. UpdateService does not
// check a new revision's constraints, so the stored rules can be invalid.
func TestServiceWithInvalidRulesSaysWhy(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.fleet.Add(1, fleet.Spec{CPU: 2048, Memory: 2048}, nil)
	good := r.family("web", false)
	if _, err := r.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String(good),
		DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	r.steady("web", good, 1, 30*time.Second)
	out, err := r.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: aws.Int32(128)}},
		PlacementConstraints: []types.TaskDefinitionPlacementConstraint{{Type: types.TaskDefinitionPlacementConstraintTypeMemberOf,
			Expression: aws.String("attribute:ecs.os-type ==")}}})
	if err != nil {
		t.Fatal(err)
	}
	bad := aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	if _, err := r.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(bad)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "an event that explains", func() (bool, string) {
		s := r.service("web")
		return hasEvent(s, "(service web) was unable to place a task because its placement constraints or strategy are invalid. Reason: Invalid memberOf expression \"attribute:ecs.os-type ==\""), describe(s)
	})
	for _, task := range r.tasks("web", types.DesiredStatusRunning) {
		if aws.ToString(task.TaskDefinitionArn) != good {
			t.Fatalf("a task of %s was placed without its constraint", bad)
		}
	}
}

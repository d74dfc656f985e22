package state

import (
	"fmt"
	"math/rand/v2"

	"github.com/flotta-dev/flotta/internal/model"
)

// Task sets live in their service's record (Service.TaskSets), so that a
// change of a task set and the service controller's work on it are guarded
// by the one service record, as deployments are.

// NewTaskSetID makes a task set id in ECS's form, "ecs-svc/" and 19 digits
// (the form of deployment ids: a task set's tasks carry it in startedBy).
func NewTaskSetID() string { return newDeploymentID() }

// newDeploymentID makes a deployment or task set id: "ecs-svc/" and 19
// digits, the first not 0.
func newDeploymentID() string {
	// Unsigned: 10^18 + 9 x 10^18 is past the largest int64.
	return fmt.Sprintf("ecs-svc/%019d", rand.Uint64N(9000000000000000000)+1000000000000000000)
}

// TaskSetARN is the ARN of a task set:
// arn:aws:ecs:REGION:ACCOUNT:task-set/CLUSTER/SERVICE/ID.
func (s *State) TaskSetARN(cluster, service, id string) string {
	return s.scopedARN("task-set/" + cluster + "/" + service + "/" + id)
}

// TaskSetsChanged records that an API call changed a service's task sets:
// it numbers the change (a reconcile that read the record before it then
// starts again instead of writing over it), works out each task set's
// computed desired count anew, and makes the service unsteady.
func (s *State) TaskSetsChanged(r *ServiceRecord) {
	s.next(r)
	RecomputeTaskSets(&r.Service)
	r.Steady = false
}

// RecomputeTaskSets sets each task set's computedDesiredCount from its scale
// and the service's desired count; a draining task set wants none.
func RecomputeTaskSets(svc *model.Service) {
	for i := range svc.TaskSets {
		ts := &svc.TaskSets[i]
		want := model.ComputedDesiredCount(ts.Scale, svc.DesiredCount)
		if ts.Status == model.TaskSetDraining || svc.Status != model.ServiceActive {
			want = 0
		}
		ts.ComputedDesiredCount = want
	}
}

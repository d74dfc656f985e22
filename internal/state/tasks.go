package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

// TaskRecord is a stored task with what it needs to run.
type TaskRecord struct {
	Cluster    string     `json:"cluster"`
	ID         string     `json:"id"`
	InstanceID string     `json:"instanceId"`
	Task       model.Task `json:"task"`
	// Definition is the task definition the task runs, overrides applied.
	Definition model.TaskDefinition `json:"definition"`
	Demand     model.Demand         `json:"demand"`
	// ProtectedTill is when the task's scale-in protection ends (nil: none).
	ProtectedTill *model.Time `json:"protectedTill,omitempty"`
	// UpdatedAt is when the record was last written (the time of its event).
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

func taskKey(cluster, id string) string { return Root + "tasks/" + cluster + "/" + id }

// assignmentsPrefix holds one key per task assigned to an instance and not yet
// stopped; its value is the task's desired status. An agent watches it.
func assignmentsPrefix(instanceID string) string { return Root + "assignments/" + instanceID + "/" }

// assignmentRecord is the value of an assignment key: a task its agent must
// run or stop. (What the agent receives is flottaapi.Assignment, the task and
// its recipe, read from the task record.)
type assignmentRecord struct {
	Cluster       string `json:"cluster"`
	TaskID        string `json:"taskId"`
	DesiredStatus string `json:"desiredStatus"`
}

func clientTokenKey(cluster, token string) string {
	return Root + "client-tokens/" + cluster + "/" + token
}

// ClientTokenTTL is how long a RunTask clientToken is remembered, at least.
const ClientTokenTTL = 24 * time.Hour

// tokenLease returns a lease for clientToken records: one lease serves every
// token of an hour, and lives a day past that hour.
func (s *State) tokenLease(ctx context.Context) (store.Lease, error) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if s.lease != 0 && s.Now().Sub(s.leaseAt) < time.Hour {
		return s.lease, nil
	}
	l, err := s.db.GrantLease(ctx, ClientTokenTTL+time.Hour)
	if err != nil {
		return 0, err
	}
	s.lease, s.leaseAt = l, s.Now()
	return l, nil
}

// ClientToken remembers what a RunTask clientToken was used for.
type ClientToken struct {
	ParamsHash string   `json:"paramsHash"`
	TaskArns   []string `json:"taskArns"`
}

// GetClientToken reads a clientToken's record; nil when unused.
func (s *State) GetClientToken(ctx context.Context, cluster, token string) (*ClientToken, error) {
	_, r, err := read[ClientToken](ctx, s.db, clientTokenKey(cluster, token))
	return r, err
}

// Batch is a set of placements to commit at once: the new tasks, and the
// records of the instances they reserve capacity on (already updated), each
// with the revision it was read at.
type Batch struct {
	Tasks     []TaskRecord
	Instances []InstanceUpdate
	// Tokens are clientTokens to record, which must not exist yet.
	Tokens map[string]*ClientToken
}

// InstanceUpdate is an instance record and the revision it was read at.
type InstanceUpdate struct {
	Record *InstanceRecord
	ModRev int64
}

// PlacementOps is the most store operations (writes and guards) that
// placing tasks of a task group costs in CommitPlacements: for each task its
// record, member key and assignment, and a service task's summary; each
// instance it may reserve on, a guard and a put; a clientToken's record, a
// guard and a put. The scheduler sizes its batches with it.
func PlacementOps(group string, tasks int, token bool) int {
	per := 3 + 2
	if ServiceOfGroup(group) != "" {
		per++
	}
	n := tasks * per
	if token {
		n += 2
	}
	return n
}

// MaxTxnOps is the most operations one store transaction may carry.
func (s *State) MaxTxnOps() int {
	if s.db.MaxOps <= 0 {
		return 128 // etcd's default --max-txn-ops
	}
	return s.db.MaxOps
}

// ops is how many store operations a batch needs.
func (b Batch) ops() int { return 3*len(b.Tasks) + 2*len(b.Instances) + 2*len(b.Tokens) }

// CommitPlacements commits a batch in one transaction and returns its store
// revision. If any instance changed since it was read, nothing is written
// and the error is store.ErrConflict: read again and place again.
func (s *State) CommitPlacements(ctx context.Context, cluster string, b Batch) (int64, error) {
	guards := make([]store.Guard, 0, len(b.Instances)+len(b.Tokens))
	ops := make([]store.Op, 0, b.ops())
	now := s.Now()
	for _, u := range b.Instances {
		u.Record.Instance.Version++
		u.Record.UpdatedAt = now
		guards = append(guards, store.Guard{Key: instanceKey(cluster, u.Record.ID), ModRev: u.ModRev})
		ops = append(ops, store.Put(instanceKey(cluster, u.Record.ID), mustJSON(u.Record)))
	}
	for _, rec := range b.Tasks {
		rec.UpdatedAt = now
		ops = append(ops,
			store.Put(taskKey(cluster, rec.ID), mustJSON(rec)),
			store.Put(tasksPrefix(cluster)+rec.ID, []byte(rec.Task.LastStatus)),
			store.Put(assignmentsPrefix(rec.InstanceID)+rec.ID, mustJSON(assignmentRecord{Cluster: cluster, TaskID: rec.ID, DesiredStatus: rec.Task.DesiredStatus})),
		)
		ops = append(ops, summaryOp(&rec)...)
	}
	if len(b.Tokens) > 0 {
		lease, err := s.tokenLease(ctx)
		if err != nil {
			return 0, err
		}
		for token, rec := range b.Tokens {
			guards = append(guards, store.Guard{Key: clientTokenKey(cluster, token), ModRev: 0})
			op := store.Put(clientTokenKey(cluster, token), mustJSON(rec))
			op.Lease = lease
			ops = append(ops, op)
		}
	}
	return s.db.Commit(ctx, guards, ops)
}

// GetTask reads a task; nil when unknown.
func (s *State) GetTask(ctx context.Context, cluster, id string) (*TaskRecord, error) {
	_, r, err := read[TaskRecord](ctx, s.db, taskKey(cluster, id))
	return r, err
}

// GetTasks reads several tasks of a cluster at one revision, keyed by id.
func (s *State) GetTasks(ctx context.Context, cluster string, ids []string) (map[string]*TaskRecord, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = taskKey(cluster, id)
	}
	kvs, err := s.db.GetMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := map[string]*TaskRecord{}
	for _, id := range ids {
		r, err := decode[TaskRecord](kvs[taskKey(cluster, id)])
		if err != nil {
			return nil, err
		}
		if r != nil {
			out[id] = r
		}
	}
	return out, nil
}

// TaskFilter selects tasks in ListTasks.
type TaskFilter struct {
	InstanceID    string
	Family        string
	StartedBy     string
	DesiredStatus string
	LaunchType    string
	Group         string
}

// ListTaskARNs pages through a cluster's tasks that match f.
func (s *State) ListTaskARNs(ctx context.Context, cluster string, f TaskFilter, token string, limit int) ([]string, string, error) {
	return scan(ctx, s.db, Root+"tasks/"+cluster+"/", token, limit, false, func(kv store.KV) (string, bool, error) {
		r, err := decode[TaskRecord](kv)
		if err != nil {
			return "", false, err
		}
		t := &r.Task
		keep := (f.InstanceID == "" || r.InstanceID == f.InstanceID) &&
			(f.Family == "" || r.Definition.Family == f.Family) &&
			(f.StartedBy == "" || t.StartedBy == f.StartedBy) &&
			(f.DesiredStatus == "" || t.DesiredStatus == f.DesiredStatus) &&
			(f.LaunchType == "" || t.LaunchType == f.LaunchType) &&
			(f.Group == "" || t.Group == f.Group)
		return t.TaskArn, keep, nil
	})
}

// CountTasks counts a cluster's tasks that have not stopped: running, and the rest.
func (s *State) CountTasks(ctx context.Context, cluster string) (running, pending int, err error) {
	page, err := s.db.List(ctx, tasksPrefix(cluster), store.ListOptions{})
	if err != nil {
		return 0, 0, err
	}
	for _, kv := range page.KVs {
		if string(kv.Value) == model.TaskRunning {
			running++
		} else {
			pending++
		}
	}
	return running, pending, nil
}

// updateTask changes a task, and with it its instance's reservation and its
// assignment, in one guarded transaction.
func (s *State) updateTask(ctx context.Context, cluster, id string, fn func(r *TaskRecord) (bool, error)) (*TaskRecord, error) {
	key := taskKey(cluster, id)
	var out *TaskRecord
	err := retry(ctx, func() error {
		kv, r, err := read[TaskRecord](ctx, s.db, key)
		if err != nil || r == nil {
			out = nil
			return err
		}
		wasStopped := r.Task.LastStatus == model.TaskStopped
		changed, err := fn(r)
		if err != nil || !changed {
			out = r
			return err
		}
		r.Task.Version++
		r.UpdatedAt = s.Now()
		guards := []store.Guard{{Key: key, ModRev: kv.ModRev}}
		ops := []store.Op{store.Put(key, mustJSON(r))}
		akey := assignmentsPrefix(r.InstanceID) + id
		ops = append(ops, summaryOp(r)...)
		if r.Task.LastStatus == model.TaskStopped {
			ops = append(ops, store.Del(akey), store.Del(tasksPrefix(cluster)+id))
			if !wasStopped {
				ops = append(ops, store.Put(stoppedKey(r), nil))
			}
			if !wasStopped && r.InstanceID != "" {
				// Give back what the task reserved.
				ikey := instanceKey(cluster, r.InstanceID)
				ikv, inst, err := read[InstanceRecord](ctx, s.db, ikey)
				if err != nil {
					return err
				}
				if inst != nil {
					inst.Release(r.Demand, r.Task.Group)
					inst.Instance.Version++
					inst.UpdatedAt = r.UpdatedAt
					guards = append(guards, store.Guard{Key: ikey, ModRev: ikv.ModRev})
					ops = append(ops, store.Put(ikey, mustJSON(inst)))
				}
			}
		} else {
			ops = append(ops,
				store.Put(tasksPrefix(cluster)+id, []byte(r.Task.LastStatus)),
				store.Put(akey, mustJSON(assignmentRecord{Cluster: cluster, TaskID: id, DesiredStatus: r.Task.DesiredStatus})))
		}
		if _, err := s.db.Commit(ctx, guards, ops); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// stoppedKey indexes a stopped task by when it stopped, for the reaper.
func stoppedKey(r *TaskRecord) string {
	at := time.Now()
	if r.Task.StoppedAt != nil {
		at = r.Task.StoppedAt.Time
	}
	return fmt.Sprintf("%s%020d/%s/%s", stoppedPrefix(), at.UnixNano(), r.Cluster, r.ID)
}

// stoppedPrefix indexes stopped tasks by the time they stopped.
func stoppedPrefix() string { return Root + "stopped/" }

func release(reserved *model.Demand, d model.Demand) {
	reserved.CPU -= d.CPU
	reserved.Memory -= d.Memory
	reserved.GPUs -= d.GPUs
	reserved.Ports = removeEach(reserved.Ports, d.Ports)
	reserved.PortsUDP = removeEach(reserved.PortsUDP, d.PortsUDP)
}

// removeEach removes one occurrence of each of drop from list.
func removeEach(list, drop []int) []int {
	out := append([]int(nil), list...)
	for _, d := range drop {
		for i, v := range out {
			if v == d {
				out = append(out[:i], out[i+1:]...)
				break
			}
		}
	}
	return out
}

// StopTask asks for a task to stop. It is a no-op for a task already asked to
// stop or stopped. nil means unknown.
func (s *State) StopTask(ctx context.Context, cluster, id, reason, code string) (*TaskRecord, error) {
	return s.updateTask(ctx, cluster, id, func(r *TaskRecord) (bool, error) {
		t := &r.Task
		if t.DesiredStatus == model.TaskStopped {
			return false, nil
		}
		t.DesiredStatus = model.TaskStopped
		t.StoppedReason = reason
		t.StopCode = code
		if r.InstanceID == "" {
			// Never placed: nothing runs, so it is stopped already.
			t.LastStatus = model.TaskStopped
			t.StoppedAt = model.At(s.Now())
		}
		return true, nil
	})
}

// DeactivateTask marks a running task that is to stop as DEACTIVATING, as
// ECS does while load balancers drain it; its agent reports it STOPPING and
// STOPPED once it stops it. A task in any other state is left alone.
func (s *State) DeactivateTask(ctx context.Context, cluster, id string) error {
	_, err := s.updateTask(ctx, cluster, id, func(r *TaskRecord) (bool, error) {
		t := &r.Task
		if t.LastStatus != model.TaskRunning || t.DesiredStatus != model.TaskStopped {
			return false, nil
		}
		t.LastStatus = model.TaskDeactivating
		return true, nil
	})
	return err
}

// Report is what an agent says about a task.
type Report struct {
	Status             string
	Reason             string
	StopCode           string
	HealthStatus       string
	Containers         []model.Container
	Attachments        []model.Attachment
	PullStartedAt      *model.Time
	PullStoppedAt      *model.Time
	ExecutionStoppedAt *model.Time
}

// ErrNotYourTask is returned when an instance reports on another's task.
var ErrNotYourTask = errors.New("the task is not assigned to this container instance")

// ApplyReport records an agent's report on one of its tasks. Statuses only
// move forward: a report of an earlier status than the task has is ignored,
// as is anything said of a task already STOPPED.
func (s *State) ApplyReport(ctx context.Context, cluster, id, instanceID string, rep Report) (*TaskRecord, error) {
	if !model.IsTaskStatus(rep.Status) {
		return nil, model.InvalidParameter("Invalid task status %q.", rep.Status)
	}
	var mismatch bool
	r, err := s.updateTask(ctx, cluster, id, func(r *TaskRecord) (bool, error) {
		if r.InstanceID != instanceID {
			mismatch = true
			return false, nil
		}
		t := &r.Task
		if t.LastStatus == model.TaskStopped {
			return false, nil
		}
		now := model.At(s.Now())
		for _, c := range rep.Containers {
			mergeContainer(t, c)
		}
		if rep.HealthStatus != "" {
			t.HealthStatus = rep.HealthStatus
		}
		if rep.Attachments != nil {
			t.Attachments = rep.Attachments
		}
		if t.PullStartedAt == nil && rep.PullStartedAt != nil {
			t.PullStartedAt = rep.PullStartedAt
		}
		if t.PullStoppedAt == nil && rep.PullStoppedAt != nil {
			t.PullStoppedAt = rep.PullStoppedAt
		}
		if model.TaskStatusRank(rep.Status) > model.TaskStatusRank(t.LastStatus) {
			prev := t.LastStatus
			t.LastStatus = rep.Status
			rank := model.TaskStatusRank(rep.Status)
			if rank >= model.TaskStatusRank(model.TaskRunning) && t.StartedAt == nil && prev != model.TaskProvisioning && rep.Status == model.TaskRunning {
				t.StartedAt = now
				t.Connectivity, t.ConnectivityAt = "CONNECTED", now
			}
			if rank >= model.TaskStatusRank(model.TaskStopping) && t.StoppingAt == nil {
				t.StoppingAt = now
			}
			if rep.Status == model.TaskStopped {
				t.DesiredStatus = model.TaskStopped
				t.StoppedAt = now
				t.ExecutionStoppedAt = rep.ExecutionStoppedAt
				if t.ExecutionStoppedAt == nil {
					t.ExecutionStoppedAt = now
				}
				if t.StopCode == "" {
					t.StopCode = rep.StopCode
				}
				if t.StopCode == "" {
					t.StopCode = model.StopEssentialContainerExited
				}
				if t.StoppedReason == "" {
					t.StoppedReason = rep.Reason
				}
				if t.StopCode == model.StopUserInitiated && t.StoppedReason == "" {
					t.StoppedReason = "Task stopped by user"
				}
			}
		}
		return true, nil
	})
	if mismatch {
		return nil, ErrNotYourTask
	}
	return r, err
}

// mergeContainer applies what an agent says of one container.
func mergeContainer(t *model.Task, c model.Container) {
	for i := range t.Containers {
		cur := &t.Containers[i]
		if cur.Name != c.Name {
			continue
		}
		if cur.LastStatus == model.TaskStopped {
			return
		}
		if c.RuntimeID != "" {
			cur.RuntimeID = c.RuntimeID
		}
		if c.ImageDigest != "" {
			cur.ImageDigest = c.ImageDigest
		}
		if model.TaskStatusRank(c.LastStatus) > model.TaskStatusRank(cur.LastStatus) {
			cur.LastStatus = c.LastStatus
		}
		if c.ExitCode != nil {
			cur.ExitCode = c.ExitCode
		}
		if c.Reason != "" {
			cur.Reason = c.Reason
		}
		if c.NetworkBindings != nil {
			cur.NetworkBindings = c.NetworkBindings
		}
		if c.NetworkInterfaces != nil {
			cur.NetworkInterfaces = c.NetworkInterfaces
		}
		if c.HealthStatus != "" {
			cur.HealthStatus = c.HealthStatus
		}
		return
	}
}

// AssignedTasks returns the tasks assigned to an instance, with the store
// revision they were read at (for WaitForChange).
func (s *State) AssignedTasks(ctx context.Context, instanceID string) ([]*TaskRecord, int64, error) {
	page, err := s.db.List(ctx, assignmentsPrefix(instanceID), store.ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	rev := page.Revision
	byCluster := map[string][]string{}
	for _, kv := range page.KVs {
		a, err := decode[assignmentRecord](kv)
		if err != nil {
			return nil, 0, err
		}
		byCluster[a.Cluster] = append(byCluster[a.Cluster], a.TaskID)
	}
	var out []*TaskRecord
	for cluster, ids := range byCluster {
		tasks, err := s.GetTasks(ctx, cluster, ids)
		if err != nil {
			return nil, 0, err
		}
		for _, id := range ids {
			if t := tasks[id]; t != nil {
				out = append(out, t)
			}
		}
	}
	return out, rev, nil
}

// SplitTaskARN returns the cluster and id of a task ARN's resource part
// ("task/CLUSTER/ID"), or an error.
func SplitTaskARN(resource string) (cluster, id string, err error) {
	parts := strings.Split(resource, "/")
	if len(parts) != 3 || parts[0] != "task" || parts[1] == "" || parts[2] == "" {
		return "", "", fmt.Errorf("%q is not task/CLUSTER/ID", resource)
	}
	return parts[1], parts[2], nil
}

// CountInstanceTasks counts an instance's tasks that have not stopped.
func (s *State) CountInstanceTasks(ctx context.Context, cluster, instanceID string) (running, pending int, err error) {
	page, err := s.db.List(ctx, assignmentsPrefix(instanceID), store.ListOptions{KeysOnly: true})
	if err != nil {
		return 0, 0, err
	}
	keys := make([]string, 0, len(page.KVs))
	for _, kv := range page.KVs {
		keys = append(keys, tasksPrefix(cluster)+strings.TrimPrefix(kv.Key, assignmentsPrefix(instanceID)))
	}
	statuses, err := s.db.GetMany(ctx, keys)
	if err != nil {
		return 0, 0, err
	}
	for _, k := range keys {
		switch string(statuses[k].Value) {
		case model.TaskRunning:
			running++
		case "":
		default:
			pending++
		}
	}
	return running, pending, nil
}

// OrphanInstanceTasks marks every task of a deregistered instance stopped:
// nothing will report on them any more.
func (s *State) OrphanInstanceTasks(ctx context.Context, cluster, instanceID, reason string) error {
	tasks, _, err := s.AssignedTasks(ctx, instanceID)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if _, err := s.markStopped(ctx, t.Cluster, t.ID, reason, "The container instance was deregistered."); err != nil {
			return err
		}
	}
	return nil
}

// ProtectTask changes a task's scale-in protection; nil means unknown.
func (s *State) ProtectTask(ctx context.Context, cluster, id string, fn func(*TaskRecord)) (*TaskRecord, error) {
	return s.updateTask(ctx, cluster, id, func(r *TaskRecord) (bool, error) {
		fn(r)
		return true, nil
	})
}

// MarkTaskLost records a task as stopped because its instance's agent is
// gone: its capacity is freed and it is no longer assigned there, so the
// agent, if it returns, stops what still runs.
func (s *State) MarkTaskLost(ctx context.Context, cluster, id, reason string) (*TaskRecord, error) {
	return s.markStopped(ctx, cluster, id, reason, "The agent of the container instance is disconnected.")
}

// markStopped records as stopped a task whose agent will not report its
// end, with why (for the task and for its containers still running).
func (s *State) markStopped(ctx context.Context, cluster, id, reason, containerReason string) (*TaskRecord, error) {
	return s.updateTask(ctx, cluster, id, func(r *TaskRecord) (bool, error) {
		if r.Task.LastStatus == model.TaskStopped {
			return false, nil
		}
		now := model.At(s.Now())
		r.Task.DesiredStatus, r.Task.LastStatus = model.TaskStopped, model.TaskStopped
		r.Task.StopCode, r.Task.StoppedReason = model.StopInfrastructureHealth, reason
		r.Task.StoppedAt, r.Task.ExecutionStoppedAt = now, now
		for i := range r.Task.Containers {
			if r.Task.Containers[i].LastStatus != model.TaskStopped {
				r.Task.Containers[i].LastStatus = model.TaskStopped
				r.Task.Containers[i].Reason = containerReason
			}
		}
		return true, nil
	})
}

// UpdateTaskTags changes a task's tags with fn; nil means unknown.
func (s *State) UpdateTaskTags(ctx context.Context, cluster, id string, fn func(tags *[]model.Tag) error) (*TaskRecord, error) {
	return s.updateTask(ctx, cluster, id, func(r *TaskRecord) (bool, error) {
		return true, fn(&r.Task.Tags)
	})
}

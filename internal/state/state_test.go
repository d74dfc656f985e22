package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
)

// open starts a State on an embedded etcd member in a temporary directory.
func open(t *testing.T) *State {
	t.Helper()
	s, err := Open(context.Background(), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Scope = model.Scope{Partition: "aws", Region: "us-east-1", Account: "123456789012"}
	return s
}

func taskDef(family string) model.TaskDefinition {
	mem := 64
	return model.TaskDefinition{Family: family, ContainerDefinitions: []model.ContainerDefinition{{Name: "app", Image: "demo", Memory: &mem}}}
}

func TestClustersAreIdempotentAndCounted(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	c, created, err := s.CreateCluster(ctx, model.Cluster{ClusterName: "web"})
	if err != nil || !created || c.Status != model.StatusActive || c.ClusterArn != "arn:aws:ecs:us-east-1:123456789012:cluster/web" {
		t.Fatalf("create: %+v %v %v", c, created, err)
	}
	if _, created, err := s.CreateCluster(ctx, model.Cluster{ClusterName: "web"}); err != nil || created {
		t.Fatalf("a second create of an ACTIVE cluster must return it: created=%v %v", created, err)
	}
	if _, err := s.UpdateCluster(ctx, "ghost", func(*model.Cluster) error { return nil }); !model.IsCode(err, model.CodeClusterNotFound) {
		t.Fatalf("update of a missing cluster: %v", err)
	}
	refusal := model.InvalidParameter("no")
	if _, err := s.UpdateCluster(ctx, "web", func(c *model.Cluster) error { c.Tags = []model.Tag{{Key: "a"}}; return refusal }); err != refusal {
		t.Fatalf("a refusing update: %v", err)
	}
	if got, _ := s.GetCluster(ctx, "web"); len(got.Tags) != 0 {
		t.Fatal("a refused update was written")
	}
	u, err := s.CountClusterUsage(ctx, "web")
	if err != nil || u.Services != 0 || u.Instances != 0 || u.Tasks != 0 || u.Revision == 0 {
		t.Fatalf("usage of an empty cluster: %+v %v", u, err)
	}
}

func TestRevisionsAreNeverReused(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.RegisterTaskDefinition(ctx, taskDef("web"), nil, "me"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	latest, err := s.GetTaskDefinition(ctx, "web", 0)
	if err != nil || latest.TaskDefinition.Revision != 10 {
		t.Fatalf("latest after 10 concurrent registrations: %+v %v", latest, err)
	}
	if _, err := s.DeregisterTaskDefinition(ctx, "web", 10); err != nil {
		t.Fatal(err)
	}
	if latest, _ := s.GetTaskDefinition(ctx, "web", 0); latest.TaskDefinition.Revision != 9 {
		t.Fatalf("latest ACTIVE after deregistering 10: %d", latest.TaskDefinition.Revision)
	}
	if _, err := s.DeleteTaskDefinition(ctx, "web", 10); err != nil {
		t.Fatal(err)
	}
	next, err := s.RegisterTaskDefinition(ctx, taskDef("web"), nil, "me")
	if err != nil || next.TaskDefinition.Revision != 11 {
		t.Fatalf("the revision after a deleted one: %+v %v", next, err)
	}
	s.Limits.RevisionsPerFamily = 11
	if _, err := s.RegisterTaskDefinition(ctx, taskDef("web"), nil, "me"); !model.IsCode(err, model.CodeClient) {
		t.Fatalf("past the revisions quota: %v", err)
	}
}

// place registers an instance and places one task of def on it.
func place(t *testing.T, s *State, cluster, instance string) TaskRecord {
	t.Helper()
	ctx := context.Background()
	c, _, err := s.CreateCluster(ctx, model.Cluster{ClusterName: cluster})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := s.GetInstance(ctx, cluster, instance)
	if err != nil {
		t.Fatal(err)
	}
	if inst == nil {
		inst = &InstanceRecord{Cluster: cluster, ID: instance, Instance: model.ContainerInstance{Status: model.InstanceActive, Ec2InstanceID: instance,
			RegisteredResources: []model.Resource{model.IntResource(model.ResourceCPU, 1024), model.IntResource(model.ResourceMemory, 1024)}}}
		if err := s.PutInstance(ctx, *inst); err != nil {
			t.Fatal(err)
		}
	}
	views, err := s.GetInstances(ctx, cluster, []string{instance})
	if err != nil {
		t.Fatal(err)
	}
	v := views[instance]
	def := taskDef("app")
	rec := s.NewTaskRecord(c, &def, v.InstanceRecord, TaskOptions{Group: "service:web"})
	v.Reserve(rec.Demand, rec.Task.Group)
	if _, err := s.CommitPlacements(ctx, cluster, Batch{Tasks: []TaskRecord{rec}, Instances: []InstanceUpdate{{Record: v.InstanceRecord, ModRev: v.ModRev}}}); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestATaskLivesAndReleasesItsInstance(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	rec := place(t, s, "c", "i-1")
	assigned, rev, err := s.AssignedTasks(ctx, "i-1")
	if err != nil || len(assigned) != 1 || assigned[0].ID != rec.ID || rev == 0 {
		t.Fatalf("assigned: %v %v", assigned, err)
	}
	if inst, _ := s.GetInstance(ctx, "c", "i-1"); inst.Reserved.Memory != 64 || inst.Groups["service:web"] != 1 {
		t.Fatalf("reservation after placing: %+v %v", inst.Reserved, inst.Groups)
	}
	// Another instance's agent cannot report on it.
	if _, err := s.ApplyReport(ctx, "c", rec.ID, "i-2", Report{Status: model.TaskRunning}); !errors.Is(err, ErrNotYourTask) {
		t.Fatalf("a report from another instance: %v", err)
	}
	for _, st := range []string{model.TaskPending, model.TaskRunning, model.TaskPending} {
		if _, err := s.ApplyReport(ctx, "c", rec.ID, "i-1", Report{Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.GetTask(ctx, "c", rec.ID)
	if got.Task.LastStatus != model.TaskRunning || got.Task.StartedAt == nil {
		t.Fatalf("after PENDING, RUNNING, PENDING: %s (statuses only move forward)", got.Task.LastStatus)
	}
	sums, err := s.ServiceTasks(ctx, "c", "web")
	if err != nil || len(sums) != 1 || sums[0].LastStatus != model.TaskRunning {
		t.Fatalf("the service's summary follows the task: %+v %v", sums, err)
	}
	// Wait for the change StopTask makes, as an agent's poll does.
	changed := make(chan int64, 1)
	go func() {
		r, _ := s.WaitForAssignments(ctx, "i-1", rev+1)
		changed <- r
	}()
	if _, err := s.StopTask(ctx, "c", rec.ID, "bye", model.StopUserInitiated); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-changed:
		if r <= rev {
			t.Fatalf("the assignment's change came at %d, before %d", r, rev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitForAssignments did not see the task asked to stop")
	}
	if _, err := s.ApplyReport(ctx, "c", rec.ID, "i-1", Report{Status: model.TaskStopped}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetTask(ctx, "c", rec.ID)
	if got.Task.LastStatus != model.TaskStopped || got.Task.StopCode != model.StopUserInitiated || got.Task.StoppedReason != "bye" {
		t.Fatalf("stopped: %+v", got.Task)
	}
	if inst, _ := s.GetInstance(ctx, "c", "i-1"); inst.Reserved.Memory != 0 || len(inst.Groups) != 0 {
		t.Fatalf("the stopped task still reserves %+v %v", inst.Reserved, inst.Groups)
	}
	if assigned, _, _ := s.AssignedTasks(ctx, "i-1"); len(assigned) != 0 {
		t.Fatalf("a stopped task is still assigned: %v", assigned)
	}
	if n, err := s.ReapStopped(ctx, time.Now().Add(time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("reap: %d %v", n, err)
	}
	if got, _ := s.GetTask(ctx, "c", rec.ID); got != nil {
		t.Fatal("the reaped task is still there")
	}
}

func TestWatchesResumeAndSayWhenHistoryIsGone(t *testing.T) {
	s := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	place(t, s, "c", "i-1")
	instances, _ := s.WatchInstances(ctx, "c", rev)
	tasks, _ := s.WatchServiceTasks(ctx, rev)
	services, _ := s.WatchServices(ctx, rev)
	var seenInstance, seenTask bool
	for !seenInstance || !seenTask {
		select {
		case batch := <-instances:
			for _, c := range batch {
				seenInstance = seenInstance || (c.ID == "i-1" && c.Record != nil && c.Record.Cluster == "c")
			}
		case batch := <-tasks:
			for _, c := range batch {
				sum, err := c.Summary()
				seenTask = seenTask || (c.Service == "web" && err == nil && sum != nil && sum.ID == c.TaskID)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the watches from %d did not see what was written after (instance %v, task %v)", rev, seenInstance, seenTask)
		}
	}
	rec := ServiceRecord{Cluster: "c", Name: "web", Service: model.Service{Status: model.ServiceActive}}
	if _, err := s.CreateService(ctx, rec); err != nil {
		t.Fatal(err)
	}
	select {
	case batch := <-services:
		if batch[0] != (ServiceChange{Cluster: "c", Name: "web"}) {
			t.Fatalf("service change %+v", batch[0])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the service watch saw nothing")
	}
	// A revision the store no longer keeps is an error the caller can act on.
	now, _ := s.Revision(ctx)
	if err := s.db.Compact(ctx, now); err != nil {
		t.Fatal(err)
	}
	_, errc := s.WatchInstances(ctx, "", rev)
	select {
	case err := <-errc:
		if !errors.Is(err, ErrCompacted) {
			t.Fatalf("a watch from a compacted revision: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a watch from a compacted revision did not fail")
	}
}

func TestSessionsFollowTheirLease(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	rev, _ := s.Revision(ctx)
	sessions, _ := s.WatchSessions(ctx, rev)
	lease, err := s.GrantLease(ctx, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, "default", "i-1", lease); err != nil {
		t.Fatal(err)
	}
	live, _ := s.ConnectedInstances(ctx)
	if on, _ := s.AgentConnected(ctx, "i-1"); !on || !live["i-1"] {
		t.Fatal("a touched session is not connected")
	}
	if err := s.RevokeLease(ctx, lease); err != nil {
		t.Fatal(err)
	}
	if on, _ := s.AgentConnected(ctx, "i-1"); on {
		t.Fatal("the session outlived its lease")
	}
	want := []SessionChange{{"i-1", true}, {"i-1", false}}
	var got []SessionChange
	for len(got) < 2 {
		select {
		case batch := <-sessions:
			got = append(got, batch...)
		case <-time.After(5 * time.Second):
			t.Fatalf("session changes %v, want %v", got, want)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("session changes %v, want %v", got, want)
	}
}

func TestInstanceQuotaIsExactUnderConcurrency(t *testing.T) {
	s := open(t)
	s.Limits.InstancesPerCluster = 5
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.PutInstance(ctx, InstanceRecord{Cluster: "c", ID: fmt.Sprintf("i-%02d", i),
				Instance: model.ContainerInstance{Status: model.InstanceActive, Ec2InstanceID: fmt.Sprintf("m-%02d", i)}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case model.IsCode(err, model.CodeClient):
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 5 || refused != 15 {
		t.Fatalf("%d registered, %d refused; want 5 and 15", ok, refused)
	}
}

func TestJoinTokensAreSpentOnce(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if a, _ := s.GetAccount(ctx); a != nil {
		t.Fatal("an account before bootstrap")
	}
	acct := Account{ID: "123456789012", Region: "us-east-1", Partition: "aws"}
	root := AccessKey{AccessKeyID: "AKIAROOT", SecretAccessKey: "s", PrincipalARN: acct.Scope().RootARN()}
	if created, err := s.CreateAccount(ctx, acct, root); err != nil || !created {
		t.Fatalf("create account: %v %v", created, err)
	}
	if created, err := s.CreateAccount(ctx, Account{ID: "999999999999"}, AccessKey{AccessKeyID: "AKIAOTHER"}); err != nil || created {
		t.Fatalf("a second account must not be made: %v %v", created, err)
	}
	if id, _ := s.RootAccessKeyID(ctx); id != "AKIAROOT" {
		t.Fatalf("root key %q", id)
	}
	if err := s.PutAccessKey(ctx, root); err == nil {
		t.Fatal("an access key id was reused")
	}
	if err := s.PutJoinToken(ctx, JoinToken{ID: "t1", UsesLeft: 2}); err != nil {
		t.Fatal(err)
	}
	usable := func(t *JoinToken) error {
		if t == nil || t.UsesLeft <= 0 {
			return errors.New("refused")
		}
		return nil
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := s.UseJoinToken(ctx, "t1", usable, func() AccessKey { return AccessKey{AccessKeyID: fmt.Sprintf("AKIAJOIN%d", i)} })
			if err == nil {
				if stored, _ := s.GetAccessKey(ctx, k.AccessKeyID); stored == nil {
					t.Errorf("the key bought with the token was not stored")
				}
				mu.Lock()
				got++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if got != 2 {
		t.Fatalf("a token of 2 uses was spent %d times", got)
	}
	if _, err := s.UseJoinToken(ctx, "nope", usable, nil); err == nil {
		t.Fatal("an unknown token was accepted")
	}
}

func TestPlacementOps(t *testing.T) {
	for _, c := range []struct {
		group string
		tasks int
		token bool
		want  int
	}{
		{"family:web", 10, true, 52},
		{"service:web", 10, false, 60},
		{"service:web", 0, true, 2},
	} {
		if got := PlacementOps(c.group, c.tasks, c.token); got != c.want {
			t.Errorf("PlacementOps(%q, %d, %v) = %d, want %d", c.group, c.tasks, c.token, got, c.want)
		}
	}
}

// TestExpiredCredentialsAreReaped: temporary keys and join tokens past their
// expiry are deleted, in as many transactions as they need; long-lived keys,
// and temporary ones still valid, stay.
func TestExpiredCredentialsAreReaped(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	keep := []string{"AKIAUSER", "ASIAVALID"}
	if err := s.PutAccessKey(ctx, AccessKey{AccessKeyID: "AKIAUSER", PrincipalARN: "arn:aws:iam::123456789012:user/u"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAccessKey(ctx, AccessKey{AccessKeyID: "ASIAVALID", Expiration: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	// More expired sessions than one transaction may delete.
	expired := s.MaxTxnOps() + 7
	for i := range expired {
		if err := s.PutAccessKey(ctx, AccessKey{AccessKeyID: fmt.Sprintf("ASIAOLD%04d", i), Expiration: now.Add(-time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutJoinToken(ctx, JoinToken{ID: "old", Expires: now.Add(-time.Hour), UsesLeft: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutJoinToken(ctx, JoinToken{ID: "fresh", Expires: now.Add(time.Hour), UsesLeft: 1}); err != nil {
		t.Fatal(err)
	}
	n, err := s.ReapExpiredCredentials(ctx, now)
	if err != nil || n != expired+1 {
		t.Fatalf("reaped %d (want %d): %v", n, expired+1, err)
	}
	for _, id := range keep {
		if k, _ := s.GetAccessKey(ctx, id); k == nil {
			t.Fatalf("%s was reaped", id)
		}
	}
	if k, _ := s.GetAccessKey(ctx, "ASIAOLD0003"); k != nil {
		t.Fatal("an expired session key is still stored")
	}
	tokens, err := s.ListJoinTokens(ctx)
	if err != nil || len(tokens) != 1 || tokens[0].ID != "fresh" {
		t.Fatalf("join tokens left: %+v %v", tokens, err)
	}
	if n, err := s.ReapExpiredCredentials(ctx, now); n != 0 || err != nil {
		t.Fatalf("a second pass reaped %d: %v", n, err)
	}
}

package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// sdSeed makes namespace ns-1 (through its operation) and service srv-1 in it.
func sdSeed(t *testing.T, s *State) {
	t.Helper()
	ctx := context.Background()
	op := SDOperation{ID: "op-1", Type: SDOpCreateNamespace, Status: SDOpSubmitted, Targets: map[string]string{"NAMESPACE": "ns-1"},
		Namespace: &SDNamespace{ID: "ns-1", Name: "local", Type: "DNS_PRIVATE", CreatorRequestID: "req-1"}}
	if err := s.SubmitSDNamespace(ctx, op); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSDNamespace(ctx, "ns-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a namespace is visible before its operation succeeds: %v", err)
	}
	if done, err := s.CompleteSDOperation(ctx, "op-1"); err != nil || done.Status != SDOpSuccess {
		t.Fatalf("complete: %v %+v", err, done)
	}
	if err := s.CreateSDService(ctx, SDService{ID: "srv-1", Name: "web", NamespaceID: "ns-1", Type: "DNS_HTTP"}); err != nil {
		t.Fatal(err)
	}
}

// TestSDGuards: names are unique, a service needs its namespace, an
// instance its service; a service with instances and a namespace with
// services are not deleted; refusals write nothing.
func TestSDGuards(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	sdSeed(t, s)

	var taken *SDNameTakenError
	err := s.SubmitSDNamespace(ctx, SDOperation{ID: "op-2", Type: SDOpCreateNamespace, Namespace: &SDNamespace{ID: "ns-2", Name: "LOCAL."}})
	if !errors.As(err, &taken) || taken.ID != "ns-1" || taken.CreatorRequestID != "req-1" || taken.OperationID != "op-1" {
		t.Fatalf("duplicate namespace name: %v", err)
	}
	if err := s.CreateSDService(ctx, SDService{ID: "srv-2", Name: "WEB", NamespaceID: "ns-1"}); !errors.As(err, &taken) || taken.ID != "srv-1" {
		t.Fatalf("duplicate service name: %v", err)
	}
	if err := s.CreateSDService(ctx, SDService{ID: "srv-3", Name: "x", NamespaceID: "ns-9"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("service in a missing namespace: %v", err)
	}
	if err := s.PutSDInstance(ctx, SDInstance{ServiceID: "srv-9", ID: "i-1"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("instance of a missing service: %v", err)
	}
	if err := s.PutSDInstance(ctx, SDInstance{ServiceID: "srv-1", ID: "i-1", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Revision(ctx)
	if _, err := s.DeleteSDService(ctx, "srv-1"); !errors.Is(err, ErrSDInUse) {
		t.Fatalf("delete a service with instances: %v", err)
	}
	// The namespace's deletion fails (it has a service) and frees nothing.
	if err := s.SubmitSDOperation(ctx, SDOperation{ID: "op-del", Type: SDOpDeleteNamespace, Status: SDOpSubmitted, Targets: map[string]string{"NAMESPACE": "ns-1"}}); err != nil {
		t.Fatal(err)
	}
	if op, err := s.CompleteSDOperation(ctx, "op-del"); err != nil || op.Status != SDOpFail || op.ErrorCode != SDOpErrResourceInUse {
		t.Fatalf("delete a namespace with services: %v %+v", err, op)
	}
	if _, err := s.GetSDNamespace(ctx, "ns-1"); err != nil {
		t.Fatalf("the namespace went: %v", err)
	}
	if after, _ := s.Revision(ctx); after != before+2 { // the operation's two writes only
		t.Fatalf("refusals wrote: revision %d -> %d", before, after)
	}

	// Deregister, delete the service, then the namespace: all go, and the
	// names are free again.
	if found, err := s.DeleteSDInstance(ctx, "srv-1", "i-1"); err != nil || !found {
		t.Fatalf("deregister: %v %v", found, err)
	}
	if found, err := s.DeleteSDService(ctx, "srv-1"); err != nil || !found {
		t.Fatalf("delete service: %v %v", found, err)
	}
	if err := s.SubmitSDOperation(ctx, SDOperation{ID: "op-del2", Type: SDOpDeleteNamespace, Status: SDOpSubmitted, Targets: map[string]string{"NAMESPACE": "ns-1"}}); err != nil {
		t.Fatal(err)
	}
	if op, err := s.CompleteSDOperation(ctx, "op-del2"); err != nil || op.Status != SDOpSuccess {
		t.Fatalf("delete namespace: %v %+v", err, op)
	}
	if err := s.SubmitSDNamespace(ctx, SDOperation{ID: "op-3", Type: SDOpCreateNamespace, Namespace: &SDNamespace{ID: "ns-3", Name: "local"}}); err != nil {
		t.Fatalf("the name was not freed: %v", err)
	}
}

// TestSDNoInstanceOutlivesItsService races registrations against the
// service's deletion: whatever wins, no instance is left of a deleted
// service.
func TestSDNoInstanceOutlivesItsService(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	for round := range 5 {
		sdSeed2 := fmt.Sprintf("srv-r%d", round)
		if round == 0 {
			sdSeed(t, s)
		}
		if err := s.CreateSDService(ctx, SDService{ID: sdSeed2, Name: sdSeed2, NamespaceID: "ns-1"}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.PutSDInstance(ctx, SDInstance{ServiceID: sdSeed2, ID: fmt.Sprint("i-", i)})
				if err != nil && !errors.Is(err, ErrNotFound) {
					t.Error(err)
				}
			}()
		}
		deleted := false
		wg.Add(1)
		go func() {
			defer wg.Done()
			found, err := s.DeleteSDService(ctx, sdSeed2)
			if err != nil && !errors.Is(err, ErrSDInUse) {
				t.Error(err)
			}
			deleted = found
		}()
		wg.Wait()
		insts, err := s.ListSDInstances(ctx, sdSeed2)
		if err != nil {
			t.Fatal(err)
		}
		if deleted && len(insts) > 0 {
			t.Fatalf("round %d: the service was deleted but %d instances remain", round, len(insts))
		}
		if !deleted && len(insts) == 0 {
			t.Fatalf("round %d: the service was refused with no instances", round)
		}
	}
}

// TestSDInstanceQuota: the 1,001st instance of a service is refused; a
// re-registration of an existing one is not.
func TestSDInstanceQuota(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	sdSeed(t, s)
	for i := range MaxSDInstancesPerService - 10 {
		if err := s.PutSDInstance(ctx, SDInstance{ServiceID: "srv-1", ID: fmt.Sprint("i-", i)}); err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	// 30 at once for the last 10 places: exactly 10 get one.
	var wg sync.WaitGroup
	var mu sync.Mutex
	placed, refused := 0, 0
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.PutSDInstance(ctx, SDInstance{ServiceID: "srv-1", ID: fmt.Sprint("late-", i)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				placed++
			case errors.Is(err, ErrSDLimit):
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if placed != 10 || refused != 20 {
		t.Fatalf("30 registrations for 10 places: %d placed, %d refused", placed, refused)
	}
	if n, err := s.CountSDInstances(ctx, "srv-1"); err != nil || n != MaxSDInstancesPerService {
		t.Fatalf("count: %d %v", n, err)
	}
	if err := s.PutSDInstance(ctx, SDInstance{ServiceID: "srv-1", ID: "one-too-many"}); !errors.Is(err, ErrSDLimit) {
		t.Fatalf("past the quota: %v", err)
	}
	if err := s.PutSDInstance(ctx, SDInstance{ServiceID: "srv-1", ID: "i-7", Attributes: map[string]string{"k": "v"}}); err != nil {
		t.Fatalf("re-register at the quota: %v", err)
	}
}

// TestWatchDiscovery: a snapshot and the watch after it see every change
// once, in order, with deletions as nil records.
func TestWatchDiscovery(t *testing.T) {
	s := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sdSeed(t, s)
	snap, rev, err := s.ReadDiscovery(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Namespaces) != 1 || len(snap.Services) != 1 || len(snap.Instances) != 0 || snap.Services[0].ID != "srv-1" {
		t.Fatalf("snapshot: %+v", snap)
	}
	ch, errc := s.WatchDiscovery(ctx, rev)
	if err := s.PutSDInstance(ctx, SDInstance{ServiceID: "srv-1", ID: "i-1", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteSDInstance(ctx, "srv-1", "i-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteSDService(ctx, "srv-1"); err != nil {
		t.Fatal(err)
	}
	var got []DiscoveryChange
	deadline := time.After(10 * time.Second)
	for len(got) < 3 {
		select {
		case batch := <-ch:
			got = append(got, batch...)
		case err := <-errc:
			t.Fatalf("watch: %v", err)
		case <-deadline:
			t.Fatalf("awaited 3 changes, got %+v", got)
		}
	}
	if len(got) != 3 {
		t.Fatalf("changes: %+v", got)
	}
	if c := got[0]; c.Kind != "instance" || c.ServiceID != "srv-1" || c.InstanceID != "i-1" || c.Instance == nil || c.Instance.Attributes["AWS_INSTANCE_IPV4"] != "10.0.0.1" {
		t.Fatalf("first change: %+v", c)
	}
	if c := got[1]; c.Kind != "instance" || !c.Deleted() || c.InstanceID != "i-1" {
		t.Fatalf("second change: %+v", c)
	}
	if c := got[2]; c.Kind != "service" || !c.Deleted() || c.ServiceID != "srv-1" {
		t.Fatalf("third change: %+v", c)
	}
	for i := 1; i < len(got); i++ {
		if got[i].ModRev <= got[i-1].ModRev {
			t.Fatalf("changes out of order: %+v", got)
		}
	}
}

// TestSDOperationStatuses: SUBMITTED -> PENDING -> SUCCESS, and marking or
// completing an operation again writes nothing (the completer watches the
// operations it writes).
func TestSDOperationStatuses(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.SubmitSDNamespace(ctx, SDOperation{ID: "op-1", Type: SDOpCreateNamespace, Status: SDOpSubmitted,
		Targets: map[string]string{"NAMESPACE": "ns-1"}, Namespace: &SDNamespace{ID: "ns-1", Name: "a", Type: "HTTP"}}); err != nil {
		t.Fatal(err)
	}
	op, err := s.MarkSDOperationPending(ctx, "op-1")
	if err != nil || op.Status != SDOpPending {
		t.Fatalf("mark: %v %+v", err, op)
	}
	before, _ := s.Revision(ctx)
	if op, err := s.MarkSDOperationPending(ctx, "op-1"); err != nil || op.Status != SDOpPending {
		t.Fatalf("mark again: %v %+v", err, op)
	}
	if after, _ := s.Revision(ctx); after != before {
		t.Fatalf("marking a PENDING operation wrote: %d -> %d", before, after)
	}
	if op, err := s.CompleteSDOperation(ctx, "op-1"); err != nil || op.Status != SDOpSuccess {
		t.Fatalf("complete: %v %+v", err, op)
	}
	before, _ = s.Revision(ctx)
	if op, err := s.CompleteSDOperation(ctx, "op-1"); err != nil || op.Status != SDOpSuccess {
		t.Fatalf("complete again: %v %+v", err, op)
	}
	if op, err := s.MarkSDOperationPending(ctx, "op-1"); err != nil || op.Status != SDOpSuccess {
		t.Fatalf("mark a done operation: %v %+v", err, op)
	}
	if after, _ := s.Revision(ctx); after != before {
		t.Fatalf("a done operation was written again: %d -> %d", before, after)
	}
	if _, err := s.GetSDOperation(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown operation: %v", err)
	}

	// Finished operations are purged after their retention; others stay.
	if err := s.SubmitSDOperation(ctx, SDOperation{ID: "op-2", Type: SDOpDeleteNamespace, Status: SDOpSubmitted, Targets: map[string]string{"NAMESPACE": "ns-9"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeSDOperations(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("purge of nothing old: %d %v", n, err)
	}
	if n, err := s.PurgeSDOperations(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if _, err := s.GetSDOperation(ctx, "op-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a purged operation: %v", err)
	}
	if _, err := s.GetSDOperation(ctx, "op-2"); err != nil {
		t.Fatalf("an unfinished operation was purged: %v", err)
	}
}

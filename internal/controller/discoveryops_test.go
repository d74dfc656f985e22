package controller_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/controller"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// TestDiscoveryOpsCompletes: an operation written before the completer
// starts (found by its sweep) and one written while it runs (found by its
// watch) both end SUCCESS, and the namespace each creates is visible only
// then. A registration for a service deleted meanwhile ends FAIL, with
// nothing written.
func TestDiscoveryOpsCompletes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := state.Open(ctx, state.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Scope = model.Scope{Partition: "aws", Region: "us-east-1", Account: "123456789012"}
	submit := func(opID, nsID, name string) {
		t.Helper()
		op := state.SDOperation{ID: opID, Type: state.SDOpCreateNamespace, Status: state.SDOpSubmitted, Targets: map[string]string{"NAMESPACE": nsID},
			Namespace: &state.SDNamespace{ID: nsID, Name: name, Type: "HTTP", HTTPName: name}}
		if err := st.SubmitSDNamespace(ctx, op); err != nil {
			t.Fatal(err)
		}
	}
	await := func(opID, want string) *state.SDOperation {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			op, err := st.GetSDOperation(ctx, opID)
			if err != nil {
				t.Fatal(err)
			}
			if op.Status == want {
				return op
			}
			if time.Now().After(deadline) {
				t.Fatalf("awaited operation %s %s; it is %s", opID, want, op.Status)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	submit("op-early", "ns-early", "early")
	time.Sleep(50 * time.Millisecond) // nothing runs yet: it stays SUBMITTED
	if op, _ := st.GetSDOperation(ctx, "op-early"); op.Status != state.SDOpSubmitted {
		t.Fatalf("with no completer the operation is %s", op.Status)
	}
	if _, err := st.GetSDNamespace(ctx, "ns-early"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("a namespace before its operation completed: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&controller.DiscoveryOps{State: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Every: time.Hour}).Run(ctx)
	}()
	await("op-early", state.SDOpSuccess)
	if _, err := st.GetSDNamespace(ctx, "ns-early"); err != nil {
		t.Fatalf("the namespace after SUCCESS: %v", err)
	}
	submit("op-late", "ns-late", "late")
	await("op-late", state.SDOpSuccess)

	// A registration whose service is gone fails.
	if err := st.CreateSDService(ctx, state.SDService{ID: "srv-1", Name: "s", NamespaceID: "ns-late", Type: "HTTP"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeleteSDService(ctx, "srv-1"); err != nil {
		t.Fatal(err)
	}
	if err := st.SubmitSDOperation(ctx, state.SDOperation{ID: "op-reg", Type: state.SDOpRegisterInstance, Status: state.SDOpSubmitted,
		Targets: map[string]string{"SERVICE": "srv-1", "INSTANCE": "i-1"}, Instance: &state.SDInstance{ServiceID: "srv-1", ID: "i-1"}}); err != nil {
		t.Fatal(err)
	}
	op := await("op-reg", state.SDOpFail)
	if op.ErrorCode != state.SDOpErrServiceNotFound || op.ErrorMessage == "" {
		t.Fatalf("failed registration: %+v", op)
	}
	if insts, _ := st.ListSDInstances(ctx, "srv-1"); len(insts) != 0 {
		t.Fatalf("a failed registration wrote %+v", insts)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the completer did not stop with its context")
	}
}

package iam

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/state"
)

// TestResourcesAreWorkedOutOnlyWhenAPolicyDecides: the root user's calls,
// most of the traffic, never pay for resolving resource ARNs; an agent's
// (decided by a policy) do, and are refused on them.
func TestResourcesAreWorkedOutOnlyWhenAPolicyDecides(t *testing.T) {
	ctx := context.Background()
	st, err := state.Open(ctx, state.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, _, err := Open(ctx, st, NewAccount{Region: "us-east-1", ID: "123456789012"}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	on := func() ([]string, map[string][]string) {
		calls++
		return []string{"arn:aws:ecs:us-east-1:123456789012:cluster/default"}, nil
	}
	root := WithPrincipal(ctx, Principal{ARN: "arn:aws:iam::123456789012:root"})
	if err := m.Authorize(root, "ecs:DeleteCluster", on); err != nil || calls != 0 {
		t.Fatalf("root: %v, resolver called %d times", err, calls)
	}
	agent := WithPrincipal(ctx, Principal{ARN: "arn:aws:iam::123456789012" + agentPrincipalPath + "a1"})
	err = m.Authorize(agent, "ecs:DeleteCluster", on)
	if err == nil || calls != 1 {
		t.Fatalf("agent: %v, resolver called %d times", err, calls)
	}
	if want := "on resource: arn:aws:ecs:us-east-1:123456789012:cluster/default because"; !strings.Contains(err.Error(), want) {
		t.Fatalf("agent refusal %q lacks %q", err, want)
	}
}

package controller

import (
	"strings"
	"testing"

	"github.com/flotta-dev/flotta/internal/placement"
)

func TestUnplacedEventNamesTheClosestInstance(t *testing.T) {
	const arn = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/"
	r := placement.Result{
		Failures: []placement.Failure{{ARN: arn + "aaa", Reason: placement.ReasonCPU}, {ARN: arn + "bbb", Reason: placement.ReasonMemory}},
		Reasons:  map[string]int{placement.ReasonCPU: 1, placement.ReasonMemory: 2},
	}
	got := unplacedEvent("web", r)
	want := "(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance bbb) has insufficient memory available. Instances rejected: RESOURCE:CPU: 1, RESOURCE:MEMORY: 2."
	if !strings.HasPrefix(got, want) {
		t.Fatalf("event\n%s\nwant\n%s", got, want)
	}
	if got := unplacedEvent("web", placement.Result{}); !strings.Contains(got, "no container instance met all of its requirements. For more") {
		t.Fatalf("no failures: %s", got)
	}
}

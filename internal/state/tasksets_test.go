package state

import (
	"strings"
	"testing"
)

// TestTaskSetIDsAreNineteenDigits: task set and deployment ids are
// "ecs-svc/" and 19 digits (a signed draw once overflowed to "-8...").
func TestTaskSetIDsAreNineteenDigits(t *testing.T) {
	for i := 0; i < 10000; i++ {
		id := NewTaskSetID()
		if i%2 == 1 {
			id = newDeploymentID()
		}
		digits, ok := strings.CutPrefix(id, "ecs-svc/")
		if !ok || len(digits) != 19 || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("task set id %q", id)
		}
	}
}

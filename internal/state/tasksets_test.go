package state

import (
	"strings"
	"testing"
)

func TestTaskSetIDsAreNineteenDigits(t *testing.T) {
	for i := 0; i < 10000; i++ {
		id := NewTaskSetID()
		digits, ok := strings.CutPrefix(id, "ecs-svc/")
		if !ok || len(digits) != 19 || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("task set id %q", id)
		}
	}
}

package cli

import "testing"

// TestTargetGroupNameFitsELBPattern: the name made from a service passes
// ELB's target group name pattern (no hyphen at either end, none doubled,
// at most 32 characters).
func TestTargetGroupNameFitsELBPattern(t *testing.T) {
	for service, want := range map[string]string{
		"web":                                  "web",
		"my_app.v2":                            "my-app-v2",
		"a__b":                                 "a-b",
		"_x--y_":                               "x-y",
		"___":                                  "service",
		"abcdefghijklmnopqrstuvwxyz0123456789": "abcdefghijklmnopqrstuvwxyz012345",
	} {
		if got := targetGroupName(service); got != want {
			t.Errorf("targetGroupName(%q) = %q, want %q", service, got, want)
		}
	}
}

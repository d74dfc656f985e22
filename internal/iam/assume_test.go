package iam

import "testing"

func TestRoleSessionOf(t *testing.T) {
	for _, c := range []struct {
		arn, role, session string
		ok                 bool
	}{
		{"arn:aws:sts::123456789012:assumed-role/deployer/ci", "deployer", "ci", true},
		{"arn:aws:sts::123456789012:assumed-role/deployer/ci@example.com", "deployer", "ci@example.com", true},
		{"arn:aws:sts::123456789012:assumed-role/deployer", "", "", false},
		{"arn:aws:sts::123456789012:assumed-role//ci", "", "", false},
		{"arn:aws:iam::123456789012:role/deployer", "", "", false},
		{"arn:aws:iam::123456789012:user/assumed-role/x/y", "", "", false},
	} {
		role, session, ok := RoleSessionOf(c.arn)
		if ok != c.ok || (ok && (role != c.role || session != c.session)) {
			t.Errorf("RoleSessionOf(%q) = %q, %q, %v", c.arn, role, session, ok)
		}
	}
}

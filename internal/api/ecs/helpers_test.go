package ecs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// wantAPIError checks that err is the ECS exception code, with a message that
// mentions each of the given fragments.
func wantAPIError(t *testing.T, err error, code string, fragments ...string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, apiErr.ErrorCode(), apiErr.ErrorMessage())
	}
	for _, f := range fragments {
		if !strings.Contains(apiErr.ErrorMessage(), f) {
			t.Fatalf("%s message %q does not mention %q", code, apiErr.ErrorMessage(), f)
		}
	}
}

// unchanged runs fn and fails if the store was written meanwhile.
func unchanged(t *testing.T, e *flottatest.Env, fn func()) {
	t.Helper()
	before := e.Revision(t)
	fn()
	if after := e.Revision(t); after != before {
		t.Fatalf("the store changed (revision %d -> %d) on a request that should change nothing", before, after)
	}
}

package gateway

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
)

// TestRoleCredentialsAreReusedAndRenewed: polls reuse a task's role session
// until it has less than RenewRoleBefore left, then mint the next one; a
// stopping task's session is dropped; a refusal is said in ECS's words.
func TestRoleCredentialsAreReusedAndRenewed(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var minted []string
	var refuse error
	g := &Gateway{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		AssumeTaskRole: func(_ context.Context, role, taskID string) (*iam.RoleSession, error) {
			if refuse != nil {
				return nil, refuse
			}
			minted = append(minted, taskID)
			return &iam.RoleSession{Key: iam.AccessKey{AccessKeyID: "ASIA" + string(rune('A'+len(minted))), Expiration: now.Add(time.Hour)}}, nil
		}}
	task := &model.Task{TaskArn: "arn:aws:ecs:local:123456789012:task/default/0123abcd"}
	const role = "arn:aws:iam::123456789012:role/app"
	ctx := context.Background()

	first, why := g.roleCredentialsOf(ctx, task, role)
	if why != "" || first == nil || first.RoleArn != role || len(minted) != 1 || minted[0] != "0123abcd" {
		t.Fatalf("first poll: %+v %q, minted %v", first, why, minted)
	}
	now = now.Add(44 * time.Minute) // 16 minutes left: reused
	if again, _ := g.roleCredentialsOf(ctx, task, role); again.AccessKeyID != first.AccessKeyID || len(minted) != 1 {
		t.Fatalf("a poll with 16 minutes left minted a new session: %+v", again)
	}
	now = now.Add(2 * time.Minute) // 14 minutes left: renewed
	renewed, _ := g.roleCredentialsOf(ctx, task, role)
	if renewed.AccessKeyID == first.AccessKeyID || len(minted) != 2 || !renewed.Expiration.Equal(now.Add(time.Hour)) {
		t.Fatalf("a poll with 14 minutes left kept %+v (minted %d)", renewed, len(minted))
	}

	// Renewal fails while the session is still good: the task keeps it.
	now = now.Add(50 * time.Minute)
	refuse = errors.New("etcd is away")
	if kept, why := g.roleCredentialsOf(ctx, task, role); why != "" || kept.AccessKeyID != renewed.AccessKeyID {
		t.Fatalf("a failed renewal: %+v %q", kept, why)
	}

	g.forgetRole(task.TaskArn)
	refuse = &iam.TaskRoleError{RoleARN: role, Reason: "its trust policy does not allow the service principal ecs-tasks.amazonaws.com to perform sts:AssumeRole"}
	creds, why := g.roleCredentialsOf(ctx, task, role)
	if creds != nil || !strings.HasPrefix(why, "ResourceInitializationError: unable to assume the task role: ECS was unable to assume the role '"+role+"'") {
		t.Fatalf("a refused role: %+v %q", creds, why)
	}
}

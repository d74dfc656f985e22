package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestIAMVerbs: a policy from a file, a user with it and a key whose
// profile the user's SDK client works with; a task role for a service; the
// user removed with everything it had.
func TestIAMVerbs(t *testing.T) {
	e := flottatest.StartServer(t)
	mustRun := func(args ...string) string {
		t.Helper()
		out, errOut, err := runAll(t, e.DataDir, args...)
		if err != nil {
			t.Fatalf("flotta %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
		return out
	}
	acct := e.Server.Account().ID
	doc := filepath.Join(t.TempDir(), "list.json")
	os.WriteFile(doc, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:ListClusters","Resource":"*"}]}`), 0o644)
	if arn := strings.TrimSpace(mustRun("iam", "policy", "create", "list-clusters", "-f", doc)); arn != "arn:aws:iam::"+acct+":policy/list-clusters" {
		t.Fatalf("policy create: %q", arn)
	}
	if arn := strings.TrimSpace(mustRun("iam", "user", "create", "ci", "--policy", "list-clusters")); arn != "arn:aws:iam::"+acct+":user/ci" {
		t.Fatalf("user create: %q", arn)
	}
	if out := mustRun("iam", "policy", "ls"); !strings.Contains(out, "list-clusters") || !strings.Contains(out, " 1 ") {
		t.Fatalf("policy ls does not show one attachment:\n%s", out)
	}
	profile := mustRun("iam", "user", "key", "ci")
	var id, secret string
	for _, line := range strings.Split(profile, "\n") {
		if k, v, ok := strings.Cut(line, " = "); ok {
			switch k {
			case "aws_access_key_id":
				id = v
			case "aws_secret_access_key":
				secret = v
			}
		}
	}
	as := ecs.New(ecs.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	if _, err := as.ListClusters(context.Background(), &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("the key from `iam user key` cannot do what its policy allows: %v\n%s", err, profile)
	}
	if _, err := as.DeleteCluster(context.Background(), &ecs.DeleteClusterInput{Cluster: aws.String("default")}); err == nil {
		t.Fatal("the key can do what its policy does not allow")
	}
	if out := mustRun("iam", "user", "ls"); !strings.Contains(out, "arn:aws:iam::"+acct+":user/ci") {
		t.Fatalf("user ls:\n%s", out)
	}
	if arn := strings.TrimSpace(mustRun("iam", "role", "create", "web-task", "--service", "ecs-tasks.amazonaws.com", "--policy", "list-clusters")); arn != "arn:aws:iam::"+acct+":role/web-task" {
		t.Fatalf("role create: %q", arn)
	}
	if out := mustRun("iam", "role", "ls"); !strings.Contains(out, "web-task") {
		t.Fatalf("role ls:\n%s", out)
	}
	mustRun("iam", "policy", "detach", "list-clusters", "--role", "web-task")
	mustRun("iam", "role", "rm", "web-task")
	mustRun("iam", "user", "rm", "ci")
	if out := mustRun("iam", "user", "ls"); strings.Contains(out, "user/ci") {
		t.Fatalf("the user is still there:\n%s", out)
	}
	if _, err := as.ListClusters(context.Background(), &ecs.ListClustersInput{}); err == nil {
		t.Fatal("a removed user's key still works")
	}
	if _, _, err := runAll(t, e.DataDir, "iam", "policy", "attach", "nope", "--user", "x"); err == nil || !strings.Contains(err.Error(), `no managed policy named "nope"`) {
		t.Fatalf("attach of an unknown policy: %v", err)
	}
}

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireClients makes a missing AWS CLI or boto3 a failure (CI installs
// them with scripts/install-aws-clients.sh), not a skip.
func requireClients(t *testing.T) {
	t.Helper()
	_, awsErr := os.Stat("/usr/bin/aws")
	boto := exec.Command("/usr/bin/python3", "-c", "import boto3").Run()
	if awsErr == nil && boto == nil {
		return
	}
	msg := "Debian's awscli and python3-boto3 are not installed (scripts/install-aws-clients.sh installs them)"
	if os.Getenv("FLOTTA_REQUIRE_CLIENTS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// TestAWSCLIAndBoto3 drives a server with the clients many users run, as
// Debian packages them (AWS CLI 2.9, boto3 1.26): the operations and the
// answers of the hardening issue, ECS's errors, and throttling that their
// retries wait out.
func TestAWSCLIAndBoto3(t *testing.T) {
	requireClients(t)
	srv := serverWith(t, t.TempDir(), "--account-id", "123456789012")
	throttled := serverWith(t, t.TempDir(), "--api-rate", "1", "--api-burst", "2")
	env := func(p *process) []string {
		return append(cleanAWSEnv(), "AWS_CONFIG_FILE="+filepath.Join(p.dataDir, "config"),
			"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(p.dataDir, "credentials"), "AWS_PROFILE=flotta", "AWS_PAGER=")
	}

	py := exec.Command("/usr/bin/python3", "testdata/boto3_check.py", srv.endpoint, throttled.endpoint, filepath.Join(throttled.dataDir, "credentials"))
	py.Env = env(srv)
	out, err := py.CombinedOutput()
	t.Logf("boto3:\n%s", out)
	if err != nil {
		t.Fatalf("the boto3 checks failed: %v", err)
	}

	aws := func(args ...string) (string, string, error) {
		cmd := exec.Command("/usr/bin/aws", append(args, "--endpoint-url", srv.endpoint, "--output", "json")...)
		cmd.Env = env(srv)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	stdout, stderr, err := aws("ecs", "discover-poll-endpoint")
	var poll struct{ Endpoint string }
	if err != nil || json.Unmarshal([]byte(stdout), &poll) != nil || strings.TrimSuffix(poll.Endpoint, "/") != srv.endpoint {
		t.Fatalf("aws ecs discover-poll-endpoint: %v\n%s%s", err, stdout, stderr)
	}
	stdout, stderr, err = aws("ecs", "list-tags-for-resource", "--resource-arn", "arn:aws:ecs:us-east-1:123456789012:service/default/ghost")
	if err == nil || !strings.Contains(stderr, "ServiceNotFoundException") || !strings.Contains(stderr, "Service not found.") {
		t.Fatalf("aws ecs list-tags-for-resource on a missing service: %v\n%s%s", err, stdout, stderr)
	}
	stdout, stderr, err = aws("ecs", "create-service", "--service-name", "big", "--task-definition", "x", "--desired-count", "1099511627776")
	if err == nil || !strings.Contains(stderr, "SerializationException") {
		t.Fatalf("aws ecs create-service --desired-count 2^40: %v\n%s%s", err, stdout, stderr)
	}
	stdout, stderr, err = aws("ecs", "deregister-task-definition", "--task-definition", "fake_task")
	if err == nil || !strings.Contains(stderr, "Revision is missing.") {
		t.Fatalf("aws ecs deregister-task-definition fake_task: %v\n%s%s", err, stdout, stderr)
	}
	t.Logf("aws %s: discover-poll-endpoint, list-tags-for-resource, create-service and deregister-task-definition answer as ECS does", strings.TrimSpace(version()))
}

func version() string {
	out, _ := exec.Command("/usr/bin/aws", "--version").CombinedOutput()
	return string(out)
}

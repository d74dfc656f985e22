package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// clientEnv is the environment in which Debian's AWS CLI and boto3 use the
// config and credentials files p wrote (and nothing of the caller's AWS_*).
func clientEnv(p *process) []string {
	return append(cleanAWSEnv(), "AWS_CONFIG_FILE="+filepath.Join(p.dataDir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(p.dataDir, "credentials"), "AWS_PROFILE=flotta", "AWS_PAGER=")
}

// awsCLI runs Debian's AWS CLI against p in env, answering JSON, and
// returns what it printed and how it exited.
func awsCLI(p *process, env []string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command("/usr/bin/aws", append(args, "--endpoint-url", p.endpoint, "--output", "json")...)
	cmd.Env = env
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// awsMust runs Debian's AWS CLI against p in env, fails t when the command
// fails, and decodes its JSON answer into into (unless nil).
func awsMust(t *testing.T, p *process, env []string, into any, args ...string) {
	t.Helper()
	out, errOut, err := awsCLI(p, env, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	if into != nil {
		if err := json.Unmarshal([]byte(out), into); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestAWSCLIAndBoto3 drives a server with the clients many users run, as
// Debian packages them (AWS CLI 2.9, boto3 1.26): the operations and the
// answers of the hardening issue, ECS's errors, and throttling that their
// retries wait out.
func TestAWSCLIAndBoto3(t *testing.T) {
	requireClients(t)
	srv := serverWith(t, t.TempDir(), "--account-id", "123456789012")
	throttled := serverWith(t, t.TempDir(), "--api-rate", "1", "--api-burst", "2")
	env := clientEnv

	py := exec.Command("/usr/bin/python3", "testdata/boto3_check.py", srv.endpoint, throttled.endpoint, filepath.Join(throttled.dataDir, "credentials"))
	py.Env = env(srv)
	out, err := py.CombinedOutput()
	t.Logf("boto3:\n%s", out)
	if err != nil {
		t.Fatalf("the boto3 checks failed: %v", err)
	}

	aws := func(args ...string) (string, string, error) { return awsCLI(srv, env(srv), args...) }
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

// TestIAMWithAWSCLIAndBoto3: over HTTPS (the CLI trusts the server by
// AWS_CA_BUNDLE), Debian's AWS CLI makes a user that may only list clusters
// and a key for it; with that key STS says who it is, ListClusters works and
// DeleteCluster is AccessDeniedException; boto3 reads the same user back
// and gets IAM's NoSuchEntity for one that does not exist.
func TestIAMWithAWSCLIAndBoto3(t *testing.T) {
	requireClients(t)
	srv := serverWith(t, t.TempDir(), "--tls", "--account-id", "123456789012")
	if !strings.HasPrefix(srv.endpoint, "https://") {
		t.Fatalf("--tls serves %s", srv.endpoint)
	}
	base := slices.Clip(append(cleanAWSEnv(), "AWS_CA_BUNDLE="+filepath.Join(srv.dataDir, "tls", "ca.crt"), "AWS_PAGER=", "AWS_DEFAULT_REGION=us-east-1"))
	root := append(base, "AWS_CONFIG_FILE="+filepath.Join(srv.dataDir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(srv.dataDir, "credentials"), "AWS_PROFILE=flotta")
	aws := func(env []string, args ...string) (string, string, error) { return awsCLI(srv, env, args...) }
	must := func(env []string, args ...string) string {
		t.Helper()
		out, errOut, err := aws(env, args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
		return out
	}
	must(root, "iam", "create-user", "--user-name", "lister")
	must(root, "iam", "put-user-policy", "--user-name", "lister", "--policy-name", "list",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:ListClusters","Resource":"*"}]}`)
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	if err := json.Unmarshal([]byte(must(root, "iam", "create-access-key", "--user-name", "lister")), &key); err != nil || key.AccessKey.AccessKeyId == "" {
		t.Fatalf("create-access-key: %v %+v", err, key)
	}
	user := append(base, "AWS_ACCESS_KEY_ID="+key.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+key.AccessKey.SecretAccessKey)
	var who struct{ Arn, Account string }
	if err := json.Unmarshal([]byte(must(user, "sts", "get-caller-identity")), &who); err != nil || who.Arn != "arn:aws:iam::123456789012:user/lister" {
		t.Fatalf("get-caller-identity as the user: %v %+v", err, who)
	}
	if out := must(user, "ecs", "list-clusters"); !strings.Contains(out, "cluster/default") {
		t.Fatalf("list-clusters as the user:\n%s", out)
	}
	_, stderr, err := aws(user, "ecs", "delete-cluster", "--cluster", "default")
	want := "User: arn:aws:iam::123456789012:user/lister is not authorized to perform: ecs:DeleteCluster on resource: arn:aws:ecs:us-east-1:123456789012:cluster/default"
	if err == nil || !strings.Contains(stderr, "AccessDeniedException") || !strings.Contains(stderr, want) {
		t.Fatalf("delete-cluster as the user: %v\n%s", err, stderr)
	}
	_, stderr, err = aws(user, "iam", "create-user", "--user-name", "sneaky")
	if err == nil || !strings.Contains(stderr, "AccessDenied") {
		t.Fatalf("create-user as the user: %v\n%s", err, stderr)
	}

	py := exec.Command("/usr/bin/python3", "-c", `
import sys, boto3, botocore
iam = boto3.client("iam", endpoint_url=sys.argv[1])
u = iam.get_user(UserName="lister")["User"]
assert u["Arn"] == "arn:aws:iam::123456789012:user/lister", u
assert [p for p in iam.list_user_policies(UserName="lister")["PolicyNames"]] == ["list"]
try:
    iam.get_user(UserName="nobody")
    sys.exit("get_user of nobody succeeded")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "NoSuchEntity", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response
print("boto3", boto3.__version__, "ok")
`, srv.endpoint)
	py.Env = root
	out, err := py.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	t.Logf("%s; aws %s", strings.TrimSpace(string(out)), strings.TrimSpace(version()))
}

// TestSecretsWithAWSCLIAndBoto3: Debian's AWS CLI and boto3 store and read a
// SecureString parameter and a secret, and get SSM's and Secrets Manager's
// own error codes for what is not there.
func TestSecretsWithAWSCLIAndBoto3(t *testing.T) {
	requireClients(t)
	srv := serverWith(t, t.TempDir(), "--account-id", "123456789012")
	env := clientEnv(srv)
	aws := func(args ...string) (string, string, error) { return awsCLI(srv, env, args...) }
	if out, errOut, err := aws("ssm", "put-parameter", "--name", "/cli/db", "--value", "s3cret-from-cli", "--type", "SecureString"); err != nil || !strings.Contains(out, `"Version": 1`) {
		t.Fatalf("aws ssm put-parameter: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := aws("ssm", "get-parameter", "--name", "/cli/db", "--with-decryption"); err != nil || !strings.Contains(out, `"Value": "s3cret-from-cli"`) {
		t.Fatalf("aws ssm get-parameter: %v\n%s%s", err, out, errOut)
	}
	if _, errOut, err := aws("ssm", "get-parameter", "--name", "/cli/nope"); err == nil || !strings.Contains(errOut, "ParameterNotFound") {
		t.Fatalf("aws ssm get-parameter of a missing one: %v\n%s", err, errOut)
	}
	if out, errOut, err := aws("secretsmanager", "create-secret", "--name", "cli/api", "--secret-string", `{"token":"t0k"}`); err != nil || !strings.Contains(out, "arn:aws:secretsmanager:us-east-1:123456789012:secret:cli/api-") {
		t.Fatalf("aws secretsmanager create-secret: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := aws("secretsmanager", "get-secret-value", "--secret-id", "cli/api"); err != nil || !strings.Contains(out, "t0k") || !strings.Contains(out, "AWSCURRENT") {
		t.Fatalf("aws secretsmanager get-secret-value: %v\n%s%s", err, out, errOut)
	}
	if _, errOut, err := aws("secretsmanager", "get-secret-value", "--secret-id", "cli/nope"); err == nil || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Fatalf("aws secretsmanager get-secret-value of a missing one: %v\n%s", err, errOut)
	}

	py := exec.Command("/usr/bin/python3", "-c", `
import sys, boto3, botocore
ssm = boto3.client("ssm", endpoint_url=sys.argv[1])
assert ssm.get_parameter(Name="/cli/db", WithDecryption=True)["Parameter"]["Value"] == "s3cret-from-cli"
ssm.put_parameter(Name="/cli/db", Value="v2", Type="SecureString", Overwrite=True)
assert [p["Version"] for p in ssm.get_parameter_history(Name="/cli/db")["Parameters"]] == [1, 2]
try:
    ssm.put_parameter(Name="/cli/db", Value="v3", Type="SecureString")
    sys.exit("put without overwrite succeeded")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ParameterAlreadyExists", e.response
sm = boto3.client("secretsmanager", endpoint_url=sys.argv[1])
sm.put_secret_value(SecretId="cli/api", SecretString="next")
assert sm.get_secret_value(SecretId="cli/api")["SecretString"] == "next"
assert sm.get_secret_value(SecretId="cli/api", VersionStage="AWSPREVIOUS")["SecretString"] == '{"token":"t0k"}'
sm.delete_secret(SecretId="cli/api", RecoveryWindowInDays=7)
try:
    sm.get_secret_value(SecretId="cli/api")
    sys.exit("get of a deleted secret succeeded")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidRequestException", e.response
print("boto3", boto3.__version__, "ok")
`, srv.endpoint)
	py.Env = env
	out, err := py.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	t.Logf("%s; aws %s", strings.TrimSpace(string(out)), strings.TrimSpace(version()))
}

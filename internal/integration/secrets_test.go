package integration

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/flotta-dev/flotta/internal/iam"
)

// TestATaskReadsItsSecret: on real Docker, a container gets a SecureString
// parameter in its environment (the demo app answers with it), while the
// task as Flotta describes it and the container's Flotta logs say nothing of it.
func TestATaskReadsItsSecret(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	params := ssm.New(ssm.Options{Region: n.env.Server.Account().Region, BaseEndpoint: aws.String(n.env.Server.Endpoint()), HTTPClient: n.env.HTTP,
		Credentials: credentials.NewStaticCredentialsProvider(n.env.Root.AccessKeyID, n.env.Root.SecretAccessKey, ""), RetryMaxAttempts: 1})
	const secret = "greetings-from-parameter-store"
	if _, err := params.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/it/greeting"), Value: aws.String(secret), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	role, err := n.env.Server.IAM().CreateRole(ctx, iam.NewRole{Name: "exec",
		TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.env.Server.IAM().PutRolePolicy(ctx, "exec", "read", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	web := app("web", "demo-app", "--port", "8080")
	web.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	web.Secrets = []types.Secret{{Name: aws.String("GREETING"), ValueFrom: aws.String("/it/greeting")}}
	if _, err := n.env.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("secret-web"), NetworkMode: types.NetworkModeBridge,
		ExecutionRoleArn: aws.String(role.Arn), ContainerDefinitions: []types.ContainerDefinition{web}}); err != nil {
		t.Fatal(err)
	}
	task := n.wait(n.run("secret-web"), "RUNNING", 30*time.Second, is("RUNNING"))
	b := container(task, "web").NetworkBindings
	if len(b) != 1 {
		t.Fatalf("network bindings %+v", b)
	}
	if body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", aws.ToInt32(b[0].HostPort))); body["message"] != secret {
		t.Fatalf("the task answered %v, want its secret", body)
	}
	if strings.Contains(fmt.Sprintf("%+v", task), secret) {
		t.Fatal("the described task holds the secret")
	}
	id := aws.ToString(container(task, "web").RuntimeId)
	out, err := exec.Command("docker", "logs", id).CombinedOutput()
	if err != nil {
		t.Fatalf("docker logs: %v\n%s", err, out)
	}
	if strings.Contains(string(out), secret) {
		t.Fatalf("the container's log holds the secret:\n%s", out)
	}
}

// TestPullsWithRepositoryCredentials: on real Docker, an image whose
// container names repositoryCredentials is pulled with that secret's user
// name and password: a registry on loopback that asks for Basic
// authentication sees them. The registry has no such image, so the task
// stops with the engine's pull error, as ECS reports it.
func TestPullsWithRepositoryCredentials(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="flotta-test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(registry.Close)
	n := startNode(t)
	ctx := context.Background()
	sm := secretsmanager.New(secretsmanager.Options{Region: n.env.Server.Account().Region, BaseEndpoint: aws.String(n.env.Server.Endpoint()), HTTPClient: n.env.HTTP,
		Credentials: credentials.NewStaticCredentialsProvider(n.env.Root.AccessKeyID, n.env.Root.SecretAccessKey, ""), RetryMaxAttempts: 1})
	sec, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("registry"),
		SecretString: aws.String(`{"username":"deployer","password":"s3cret-pull"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.env.Server.IAM().CreateRole(ctx, iam.NewRole{Name: "exec",
		TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}); err != nil {
		t.Fatal(err)
	}
	if err := n.env.Server.IAM().PutRolePolicy(ctx, "exec", "pull", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+aws.ToString(sec.ARN)+`"}]}`); err != nil {
		t.Fatal(err)
	}
	image := strings.TrimPrefix(registry.URL, "http://") + "/private/app:1"
	if _, err := n.env.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("private"), NetworkMode: types.NetworkModeBridge,
		ExecutionRoleArn: aws.String("exec"), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(32),
			RepositoryCredentials: &types.RepositoryCredentials{CredentialsParameter: sec.ARN}}}}); err != nil {
		t.Fatal(err)
	}
	task := n.wait(n.run("private"), "STOPPED", 60*time.Second, is("STOPPED"))
	if !strings.HasPrefix(aws.ToString(task.StoppedReason), "CannotPullContainerError") {
		t.Fatalf("want the engine's pull error: %s", aws.ToString(task.StoppedReason))
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("deployer:s3cret-pull"))
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(seen, want) {
		t.Fatalf("the registry never saw the secret's credentials; it saw Authorization %q", seen)
	}
}

package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/runtime"
	"github.com/flotta-dev/flotta/internal/runtime/fake"
	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestTaskRoles: a task whose role trusts ecs-tasks.amazonaws.com finds,
// through the variables in its environment, credentials that act as the
// role (ListClusters allowed, DeleteCluster denied) and that no other
// token reads; a role that trusts only a user stops its task before it
// starts, in ECS's words.
func TestTaskRoles(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	m := e.Server.IAM()
	acct := e.Server.Account().ID
	const tasksTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	userTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/alice"},"Action":"sts:AssumeRole"}]}`
	app, err := m.CreateRole(ctx, iam.NewRole{Name: "app", TrustPolicy: tasksTrust})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.PutRolePolicy(ctx, "app", "clusters", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ecs:ListClusters","Resource":"*"},
		{"Effect":"Deny","Action":"ecs:DeleteCluster","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	usersOnly, err := m.CreateRole(ctx, iam.NewRole{Name: "users-only", TrustPolicy: userTrust})
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	envs := map[string]map[string]string{}
	f := fleet.New(t, e)
	f.OnStart = func(_ *fake.Runtime, _ string, spec runtime.ContainerSpec) {
		env := map[string]string{}
		for _, kv := range spec.Env {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		mu.Lock()
		envs[spec.Labels[runtime.LabelTask]] = env
		mu.Unlock()
	}
	f.Add(1, fleet.Spec{CPU: 1024, Memory: 1024, CredentialsAddress: "127.0.0.1:0"}, nil)

	run := func(family, role string) string {
		t.Helper()
		if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), TaskRoleArn: aws.String(role),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: aws.Int32(64)}}}); err != nil {
			t.Fatal(err)
		}
		out, err := e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String(family)})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("run %s: %+v %v", family, out, err)
		}
		return aws.ToString(out.Tasks[0].TaskArn)
	}
	running := func(tk *types.Task) bool { return aws.ToString(tk.LastStatus) == "RUNNING" }
	web, other := run("web", app.Arn), run("other", app.Arn)
	e.WaitTask(t, web, "RUNNING", 30*time.Second, running)
	e.WaitTask(t, other, "RUNNING", 30*time.Second, running)
	mu.Lock()
	env, otherEnv := envs[web], envs[other]
	mu.Unlock()
	uri, token := env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
	if !strings.HasPrefix(uri, "http://127.0.0.1:") || len(token) != 64 || otherEnv["AWS_CONTAINER_AUTHORIZATION_TOKEN"] == token {
		t.Fatalf("the task's environment: %v", env)
	}
	if env["AWS_REGION"] != e.Server.Account().Region || env["AWS_DEFAULT_REGION"] != e.Server.Account().Region {
		t.Fatalf("the task's environment lacks its region: %v", env)
	}

	fetch := func(token string) (int, map[string]string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, uri, nil)
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	code, creds := fetch(token)
	if code != http.StatusOK || !strings.HasPrefix(creds["AccessKeyId"], "ASIA") || creds["RoleArn"] != app.Arn || creds["Token"] == "" {
		t.Fatalf("the endpoint answered %d %v", code, creds)
	}
	exp, err := time.Parse(time.RFC3339, creds["Expiration"])
	if err != nil || time.Until(exp) < 50*time.Minute || time.Until(exp) > time.Hour {
		t.Fatalf("the credentials expire at %q (%v)", creds["Expiration"], err)
	}
	if code, body := fetch(""); code != http.StatusUnauthorized || body["AccessKeyId"] != "" {
		t.Fatalf("no token: %d %v", code, body)
	}
	if _, body := fetch(otherEnv["AWS_CONTAINER_AUTHORIZATION_TOKEN"]); body["AccessKeyId"] == creds["AccessKeyId"] {
		t.Fatal("another task's token read this task's credentials")
	}

	// The credentials act as the role's session named after the task.
	ecsAs := e.ECSClient(iam.AccessKey{AccessKeyID: creds["AccessKeyId"], SecretAccessKey: creds["SecretAccessKey"], SessionToken: creds["Token"]})
	if _, err := ecsAs.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("ListClusters as the task role: %v", err)
	}
	_, err = ecsAs.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("default")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" ||
		!strings.Contains(apiErr.ErrorMessage(), "assumed-role/app/"+web[strings.LastIndex(web, "/")+1:]) {
		t.Fatalf("DeleteCluster as the task role: %v", err)
	}

	// A role that does not trust ECS tasks: the task never starts.
	refused := run("refused", usersOnly.Arn)
	stopped := e.WaitTask(t, refused, "STOPPED", 30*time.Second, func(tk *types.Task) bool { return aws.ToString(tk.LastStatus) == "STOPPED" })
	want := "ResourceInitializationError: unable to assume the task role: ECS was unable to assume the role '" + usersOnly.Arn + "' that was provided for this task: its trust policy does not allow the service principal ecs-tasks.amazonaws.com"
	if stopped.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(aws.ToString(stopped.StoppedReason), want) {
		t.Fatalf("a task whose role does not trust ECS tasks: %s", flottatest.ShowTask(stopped))
	}
}

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
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
	"github.com/flotta-dev/flotta/internal/runtime"
	"github.com/flotta-dev/flotta/internal/runtime/fake"
	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestTaskSecrets: a task definition's secrets (an SSM SecureString by name,
// a Secrets Manager secret by ARN with a JSON key) reach the container's
// environment, and nowhere else: not DescribeTasks, DescribeTaskDefinition,
// the server's log, or any file under the data dir. A secret that cannot
// be read stops the task in ECS's words.
func TestTaskSecrets(t *testing.T) {
	var logs lockedLog
	e := flottatest.StartServer(t, flottatest.Options{LogTo: &logs})
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	region, endpoint := e.Server.Account().Region, aws.String(e.Server.Endpoint())
	params := ssm.New(ssm.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1})
	sm := secretsmanager.New(secretsmanager.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1})

	const dbPassword, apiToken = "pa55-w0rd-in-ssm", "t0ken-in-secrets-manager"
	if _, err := params.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/web/db-password"), Value: aws.String(dbPassword), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	sec, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("web/api"), SecretString: aws.String(`{"token":"` + apiToken + `","user":"web"}`)})
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	envs := map[string][]string{}
	f := fleet.New(t, e)
	f.OnStart = func(_ *fake.Runtime, _ string, spec runtime.ContainerSpec) {
		mu.Lock()
		envs[spec.Labels[runtime.LabelTask]] = spec.Env
		mu.Unlock()
	}
	f.Add(1, fleet.Spec{CPU: 1024, Memory: 1024}, nil)

	// The execution role reads the secrets, as ECS's agent does: it trusts
	// ecs-tasks and may read exactly these two.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	exec, err := e.Server.IAM().CreateRole(ctx, iam.NewRole{Name: "exec", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	paramARN := "arn:aws:ssm:" + region + ":" + e.Server.Account().ID + ":parameter/web/db-password"
	if err := e.Server.IAM().PutRolePolicy(ctx, "exec", "read", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"`+paramARN+`"},
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+aws.ToString(sec.ARN)+`"}]}`); err != nil {
		t.Fatal(err)
	}
	weak, err := e.Server.IAM().CreateRole(ctx, iam.NewRole{Name: "weak", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	execRole := exec.Arn
	register := func(family string, secrets []types.Secret) {
		t.Helper()
		if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ExecutionRoleArn: aws.String(execRole),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: aws.Int32(64),
				Environment: []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("prod")}}, Secrets: secrets}}}); err != nil {
			t.Fatal(err)
		}
	}
	register("web", []types.Secret{
		{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String("/web/db-password")},
		{Name: aws.String("API_TOKEN"), ValueFrom: aws.String(aws.ToString(sec.ARN) + ":token::")},
	})
	run, err := e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web")})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("run: %+v %v", run, err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	e.WaitTask(t, arn, "RUNNING", 30*time.Second, func(tk *types.Task) bool { return aws.ToString(tk.LastStatus) == "RUNNING" })
	mu.Lock()
	env := envs[arn]
	mu.Unlock()
	for _, want := range []string{"DB_PASSWORD=" + dbPassword, "API_TOKEN=" + apiToken, "MODE=prod"} {
		if !slices.Contains(env, want) {
			t.Fatalf("the container's environment lacks %s: %v", strings.SplitN(want, "=", 2)[0], env)
		}
	}

	// Nowhere else.
	tasks, err := e.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	td, err := e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	answers, _ := json.Marshal([]any{tasks, td})
	for _, secret := range []string{dbPassword, apiToken} {
		if bytes.Contains(answers, []byte(secret)) {
			t.Fatalf("a Describe answer holds %q", secret)
		}
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the server's log holds %q", secret)
		}
		for _, dir := range []string{e.DataDir, f.Members()[0].Dir} { // the server's and the agent's
			if path := fileHolding(dir, secret); path != "" {
				t.Fatalf("%s holds %q in the clear", path, secret)
			}
		}
	}

	// Secrets need an execution role, as in ECS.
	_, err = e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("norole"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: aws.Int32(64),
			Secrets: []types.Secret{{Name: aws.String("X"), ValueFrom: aws.String("/web/db-password")}}}}})
	if err == nil || !strings.Contains(err.Error(), "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.") {
		t.Fatalf("secrets without an execution role: %v", err)
	}
	// An execution role that may not read the secret: the task does not start.
	execRole = weak.Arn
	register("unread", []types.Secret{{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String("/web/db-password")}})
	run, err = e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("unread")})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("run unread: %+v %v", run, err)
	}
	denied := e.WaitTask(t, aws.ToString(run.Tasks[0].TaskArn), "STOPPED", 30*time.Second, func(tk *types.Task) bool { return aws.ToString(tk.LastStatus) == "STOPPED" })
	if !strings.Contains(aws.ToString(denied.StoppedReason), "assumed-role/weak/") || !strings.Contains(aws.ToString(denied.StoppedReason), "is not authorized to perform: ssm:GetParameters on resource: "+paramARN) {
		t.Fatalf("a task whose execution role may not read its secret: %s", flottatest.ShowTask(denied))
	}
	execRole = exec.Arn

	// A secret that is not there: the task stops before it starts.
	register("broken", []types.Secret{{Name: aws.String("MISSING"), ValueFrom: aws.String("/web/nope")}})
	run, err = e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("broken")})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("run broken: %+v %v", run, err)
	}
	stopped := e.WaitTask(t, aws.ToString(run.Tasks[0].TaskArn), "STOPPED", 30*time.Second, func(tk *types.Task) bool { return aws.ToString(tk.LastStatus) == "STOPPED" })
	if stopped.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.Contains(aws.ToString(stopped.StoppedReason), "ResourceInitializationError: unable to pull secrets or registry auth") {
		t.Fatalf("a task with a missing secret: %s", flottatest.ShowTask(stopped))
	}
}

// TestRepositoryCredentials: a container whose definition names
// repositoryCredentials has its image pulled with the user name and password
// of that Secrets Manager secret, read as the execution role may; the
// credentials appear in no Describe answer; an execution role that may not
// read the secret, or a definition without one, stops the task before it
// starts, in ECS's words.
func TestRepositoryCredentials(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	sm := secretsmanager.New(secretsmanager.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()),
		Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1})
	const password = "registry-pa55"
	sec, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("registry"),
		SecretString: aws.String(`{"username":"deployer","password":"` + password + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	notJSON, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("plain"), SecretString: aws.String("just-a-password")})
	if err != nil {
		t.Fatal(err)
	}
	f := fleet.New(t, e)
	f.Add(1, fleet.Spec{CPU: 1024, Memory: 1024}, nil)
	rt := f.Members()[0].Runtime

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	exec, err := e.Server.IAM().CreateRole(ctx, iam.NewRole{Name: "exec", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Server.IAM().PutRolePolicy(ctx, "exec", "pull", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":["`+aws.ToString(sec.ARN)+`","`+aws.ToString(notJSON.ARN)+`"]}]}`); err != nil {
		t.Fatal(err)
	}
	weak, err := e.Server.IAM().CreateRole(ctx, iam.NewRole{Name: "weak", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	run := func(family, image, role, secretARN string) *types.Task {
		t.Helper()
		in := &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(64),
				RepositoryCredentials: &types.RepositoryCredentials{CredentialsParameter: aws.String(secretARN)}}}}
		if role != "" {
			in.ExecutionRoleArn = aws.String(role)
		}
		if _, err := e.ECS.RegisterTaskDefinition(ctx, in); err != nil {
			t.Fatal(err)
		}
		out, err := e.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String(family)})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("run %s: %+v %v", family, out, err)
		}
		return &out.Tasks[0]
	}
	settled := func(task *types.Task) *types.Task {
		return e.WaitTask(t, aws.ToString(task.TaskArn), "RUNNING or STOPPED", 30*time.Second, func(tk *types.Task) bool {
			return aws.ToString(tk.LastStatus) == "RUNNING" || aws.ToString(tk.LastStatus) == "STOPPED"
		})
	}

	_, err = e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bad"), ExecutionRoleArn: aws.String(exec.Arn),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("x"), Memory: aws.Int32(64),
			RepositoryCredentials: &types.RepositoryCredentials{CredentialsParameter: aws.String("/a/parameter")}}}})
	if code := apiCode(err); code != "ClientException" || !strings.Contains(err.Error(), "credentialsParameter must be the ARN of a Secrets Manager secret") {
		t.Fatalf("repositoryCredentials naming a parameter: %v", err)
	}

	const image = "registry.internal:5000/team/app:1"
	ok := settled(run("private", image, exec.Arn, aws.ToString(sec.ARN)))
	if aws.ToString(ok.LastStatus) != "RUNNING" {
		t.Fatalf("a task pulling with registry credentials: %s", flottatest.ShowTask(ok))
	}
	if got, pulled := rt.PullAuth(image); !pulled || got.Username != "deployer" || got.Password != password {
		t.Fatalf("the pull was given %+v (pulled with credentials: %v)", got, pulled)
	}
	tasks, err := e.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{aws.ToString(ok.TaskArn)}})
	if err != nil {
		t.Fatal(err)
	}
	if answer, _ := json.Marshal(tasks); bytes.Contains(answer, []byte(password)) {
		t.Fatal("DescribeTasks holds the registry password")
	}

	for name, c := range map[string]struct{ role, secret, want string }{
		"an execution role that may not read the secret": {weak.Arn, aws.ToString(sec.ARN), "is not authorized to perform: secretsmanager:GetSecretValue on resource: " + aws.ToString(sec.ARN)},
		"no execution role":            {"", aws.ToString(sec.ARN), "the task definition names no executionRoleArn"},
		"a secret that is not a login": {exec.Arn, aws.ToString(notJSON.ARN), `is not a JSON object with "username" and "password"`},
	} {
		family := strings.ReplaceAll(name, " ", "-")
		stopped := settled(run(family, "registry.internal:5000/team/"+family+":1", c.role, c.secret))
		reason := aws.ToString(stopped.StoppedReason)
		if aws.ToString(stopped.LastStatus) != "STOPPED" || stopped.StopCode != types.TaskStopCodeTaskFailedToStart ||
			!strings.HasPrefix(reason, "ResourceInitializationError: unable to pull secrets or registry auth") || !strings.Contains(reason, c.want) {
			t.Fatalf("%s: %s", name, flottatest.ShowTask(stopped))
		}
		if _, pulled := rt.PullAuth("registry.internal:5000/team/" + family + ":1"); pulled {
			t.Fatalf("%s: the image was pulled with credentials anyway", name)
		}
	}
}

func fileHolding(dir, needle string) string {
	found := ""
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(needle)) {
			found = path
		}
		return nil
	})
	return found
}

// lockedLog is a log sink the server's goroutines share.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

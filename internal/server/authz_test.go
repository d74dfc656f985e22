package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/agent"
	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// joinAgent makes an agent identity as `flotta agent` would get one.
func joinAgent(t *testing.T, e *flottatest.Env) iam.AccessKey {
	t.Helper()
	ctx := context.Background()
	token, _, err := e.Server.IAM().CreateJoinToken(ctx, time.Hour, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := e.Server.IAM().Join(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestAgentKeysAreScoped: an agent's key does what an ECS container
// instance role does for its own instance, and nothing else: the rest is
// AccessDeniedException in AWS's words, and changes nothing. Deregistering
// the instance ends the key.
func TestAgentKeysAreScoped(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	// Two real agents (fake runtimes), a task on the first.
	firstDir, secondDir := t.TempDir(), t.TempDir()
	first, err := runAgent(t, agent.Config{Server: e.Server.Endpoint(), JoinToken: mustToken(t, e), DataDir: firstDir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = runAgent(t, agent.Config{Server: e.Server.Endpoint(), JoinToken: mustToken(t, e), DataDir: secondDir})
	if err != nil {
		t.Fatal(err)
	}
	e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo"), Memory: aws.Int32(64),
			Environment: []types.KeyValuePair{{Name: aws.String("DB_PASSWORD"), Value: aws.String("hunter2")}}}}})
	run, err := e.ECS.StartTask(ctx, &ecs.StartTaskInput{TaskDefinition: aws.String("web"), ContainerInstances: []string{first.ContainerInstanceArn()}})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("start: %v %+v", err, run)
	}
	task := aws.ToString(run.Tasks[0].TaskArn)
	// Let the agent report it running: nothing else writes while we look.
	e.WaitTask(t, task, "RUNNING", 30*time.Second, func(tk *types.Task) bool { return aws.ToString(tk.LastStatus) == "RUNNING" })

	// A fresh agent identity (not yet an instance), and the SDK with its key.
	k := joinAgent(t, e)
	as := e.ECSClient(k)
	before := e.Revision(t)
	denied := map[string]func() error{
		"ecs:DeleteCluster": func() error {
			_, err := as.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("default")})
			return err
		},
		"ecs:RunTask": func() error {
			_, err := as.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web")})
			return err
		},
		"ecs:StopTask": func() error {
			_, err := as.StopTask(ctx, &ecs.StopTaskInput{Task: aws.String(task)})
			return err
		},
		"ecs:DescribeTaskDefinition": func() error {
			_, err := as.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
			return err
		},
		"ecs:DescribeTasks": func() error {
			_, err := as.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{task}})
			return err
		},
		"ecs:ListClusters": func() error {
			_, err := as.ListClusters(ctx, &ecs.ListClustersInput{})
			return err
		},
		"flotta:CreateJoinToken": func() error {
			return e.Client(k).Call(ctx, flottaapi.FlottaTarget+".CreateJoinToken", flottaapi.CreateJoinTokenInput{}, &flottaapi.CreateJoinTokenOutput{})
		},
		"flotta:GetEvents": func() error {
			return e.Client(k).Call(ctx, flottaapi.FlottaTarget+".GetEvents", flottaapi.GetEventsInput{}, &flottaapi.GetEventsOutput{})
		},
	}
	acct := e.Server.Account()
	arn := func(res string) string { return "arn:aws:ecs:" + acct.Region + ":" + acct.ID + ":" + res }
	on := map[string]string{"ecs:DeleteCluster": arn("cluster/default"), "ecs:RunTask": arn("task-definition/web:1"),
		"ecs:StopTask": task, "ecs:DescribeTasks": task}
	for action, call := range denied {
		err := call()
		resource := on[action]
		if resource == "" {
			resource = "*"
		}
		want := "User: " + k.PrincipalARN + " is not authorized to perform: " + action + " on resource: " + resource + " because no identity-based policy allows the " + action + " action"
		if !model.IsCode(err, model.CodeAccessDenied) && apiCode(err) != model.CodeAccessDenied || !strings.Contains(err.Error(), want) {
			t.Errorf("%s with an agent's key: %v\nwant: %s", action, err, want)
		}
	}
	if after := e.Revision(t); after != before {
		t.Fatalf("refused calls wrote to the store (revision %d to %d)", before, after)
	}

	// The second agent's key cannot touch the first's instance or task.
	secondKey := agentKeyOf(t, e, secondDir)
	other := e.ECSClient(secondKey)
	if _, err := other.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{ContainerInstance: aws.String(first.ContainerInstanceArn()), Force: aws.Bool(true)}); apiCode(err) != model.CodeAccessDenied {
		t.Fatalf("an agent deregistered another's instance: %v", err)
	}
	if _, err := other.SubmitTaskStateChange(ctx, &ecs.SubmitTaskStateChangeInput{Task: aws.String(task), Status: aws.String("STOPPED")}); err == nil {
		t.Fatal("an agent reported the state of another instance's task")
	}

	// The first agent deregisters its own instance: its key ends at once.
	firstKey := agentKeyOf(t, e, firstDir)
	mine := e.ECSClient(firstKey)
	if _, err := mine.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{ContainerInstance: aws.String(first.ContainerInstanceArn()), Force: aws.Bool(true)}); err != nil {
		t.Fatalf("an agent could not deregister its own instance: %v", err)
	}
	_, err = mine.DiscoverPollEndpoint(ctx, &ecs.DiscoverPollEndpointInput{})
	if apiCode(err) != "UnrecognizedClientException" {
		t.Fatalf("a deregistered agent's key still works: %v", err)
	}
}

func mustToken(t *testing.T, e *flottatest.Env) string {
	t.Helper()
	tok, _, err := e.Server.IAM().CreateJoinToken(context.Background(), time.Hour, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// agentKeyOf reads the key an agent keeps in its data dir.
func agentKeyOf(t *testing.T, e *flottatest.Env, dir string) iam.AccessKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "identity.json"))
	if err != nil {
		t.Fatal(err)
	}
	var id struct {
		AgentID         string `json:"agentId"`
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
	}
	if err := json.Unmarshal(b, &id); err != nil {
		t.Fatal(err)
	}
	acct := e.Server.Account()
	return iam.AccessKey{AccessKeyID: id.AccessKeyID, SecretAccessKey: id.SecretAccessKey,
		PrincipalARN: "arn:aws:iam::" + acct.ID + ":user/flotta-agent/" + id.AgentID}
}

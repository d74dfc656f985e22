package iam_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// userWithPolicy makes a user whose one inline policy is doc, and returns an
// ECS client signed with the user's own key.
func userWithPolicy(t *testing.T, e *flottatest.Env, name, doc string) *ecs.Client {
	t.Helper()
	ctx := context.Background()
	admin, _, _ := clients(e, e.Root.AccessKeyID, e.Root.SecretAccessKey)
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	_, _, c := clients(e, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	return c
}

// TestPassingARoleNeedsPassRole: registering a task definition that names a
// task role or an execution role, running a task whose overrides name one,
// and creating a service with a role need iam:PassRole on the role (to
// ecs-tasks.amazonaws.com, or ecs.amazonaws.com for a service's role), as in
// AWS; the refusal is ECS's AccessDeniedException in IAM's words and
// registers nothing.
func TestPassingARoleNeedsPassRole(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	acct := e.Server.Account().ID
	appRole, otherRole := "arn:aws:iam::"+acct+":role/app", "arn:aws:iam::"+acct+":role/other"
	if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	dev := userWithPolicy(t, e, "dev", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ecs:*","Resource":"*"},
		{"Effect":"Allow","Action":"iam:PassRole","Resource":"`+appRole+`","Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}},
		{"Effect":"Allow","Action":"iam:PassRole","Resource":"`+otherRole+`","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}]}`)
	userARN := "arn:aws:iam::" + acct + ":user/dev"
	register := func(family, taskRole, execRole string) error {
		in := &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo"), Memory: aws.Int32(64)}}}
		if taskRole != "" {
			in.TaskRoleArn = aws.String(taskRole)
		}
		if execRole != "" {
			in.ExecutionRoleArn = aws.String(execRole)
		}
		_, err := dev.RegisterTaskDefinition(ctx, in)
		return err
	}
	denied := func(what string, err error, role string) {
		t.Helper()
		want := "User: " + userARN + " is not authorized to perform: iam:PassRole on resource: " + role +
			" because no identity-based policy allows the iam:PassRole action"
		if code(err) != "AccessDeniedException" || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: want AccessDeniedException %q, got %v", what, want, err)
		}
	}

	if err := register("plain", "", ""); err != nil {
		t.Fatalf("a task definition without roles needs no PassRole: %v", err)
	}
	if err := register("app", appRole, ""); err != nil {
		t.Fatalf("passing the allowed role to ecs-tasks: %v", err)
	}
	before := e.Revision(t)
	denied("a role passed only to EC2", register("other", otherRole, ""), otherRole)
	denied("an execution role not allowed at all", register("exec", appRole, "arn:aws:iam::"+acct+":role/ops"), "arn:aws:iam::"+acct+":role/ops")
	_, err := dev.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("plain"),
		Overrides: &types.TaskOverride{TaskRoleArn: aws.String(otherRole)}})
	denied("RunTask overriding the task role", err, otherRole)
	_, err = dev.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("plain"),
		DesiredCount: aws.Int32(0), Role: aws.String(appRole)})
	denied("a service role passed to ecs.amazonaws.com", err, appRole)
	if after := e.Revision(t); after != before {
		t.Fatalf("refused requests changed the store: revision %d -> %d", before, after)
	}
	fams, err := e.ECS.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{})
	if err != nil || strings.Join(fams.Families, ",") != "app,plain" {
		t.Fatalf("families: %+v %v", fams, err)
	}
}

// TestResourceTagConditions: a policy that tests aws:ResourceTag/KEY or
// ecs:ResourceTag/KEY sees the tags of the resource the request acts on.
func TestResourceTagConditions(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	for _, c := range []string{"blue", "red"} {
		if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(c),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String(c)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("untagged")}); err != nil {
		t.Fatal(err)
	}
	blueOnly := userWithPolicy(t, e, "blue-team", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ecs:DescribeClusters","Resource":"*","Condition":{"StringEquals":{"ecs:ResourceTag/team":"blue"}}},
		{"Effect":"Allow","Action":"ecs:DeleteCluster","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:username}"}}},
		{"Effect":"Deny","Action":"ecs:DeleteCluster","Resource":"*","Condition":{"Null":{"aws:ResourceTag/team":"true"}}}]}`)
	// The user is named blue-team; the delete rule wants tag team=blue-team,
	// so tag blue so.
	if _, err := e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(clusterARN(e, "blue")),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue-team")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := blueOnly.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"red"}}); code(err) != "AccessDeniedException" {
		t.Fatalf("describing red: %v", err)
	}
	// blue's tag is now blue-team, so ecs:ResourceTag/team = blue no longer holds.
	if _, err := blueOnly.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"blue"}}); code(err) != "AccessDeniedException" {
		t.Fatalf("describing blue after its tag changed: %v", err)
	}
	if _, err := e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(clusterARN(e, "red")),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}); err != nil {
		t.Fatal(err)
	}
	if out, err := blueOnly.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"red"}}); err != nil || len(out.Clusters) != 1 {
		t.Fatalf("describing red once tagged team=blue: %+v %v", out, err)
	}
	before := e.Revision(t)
	_, err := blueOnly.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("untagged")})
	if code(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "with an explicit deny in an identity-based policy") {
		t.Fatalf("deleting the untagged cluster: %v", err)
	}
	if _, err := blueOnly.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("red")}); code(err) != "AccessDeniedException" {
		t.Fatalf("deleting red (team=blue, not blue-team): %v", err)
	}
	if after := e.Revision(t); after != before {
		t.Fatalf("refused deletes changed the store: revision %d -> %d", before, after)
	}
	if _, err := blueOnly.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("blue")}); err != nil {
		t.Fatalf("deleting blue, tagged with the user's name: %v", err)
	}
}

func clusterARN(e *flottatest.Env, name string) string {
	a := e.Server.Account()
	return "arn:aws:ecs:" + a.Region + ":" + a.ID + ":cluster/" + name
}

// TestIAMActionsAreAuthorizedOnPathedARNs: a user's, group's or role's ARN
// holds its path, and IAM actions on it are authorized on that ARN, so a
// policy on user/dev/* governs the users under /dev/ (and a Create call on
// the ARN its Path would give).
func TestIAMActionsAreAuthorizedOnPathedARNs(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	acct := e.Server.Account().ID
	admin, _, _ := clients(e, e.Root.AccessKeyID, e.Root.SecretAccessKey)
	for _, u := range []struct{ name, path string }{{"alice", "/dev/"}, {"bob", "/"}} {
		if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u.name), Path: aws.String(u.path)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("lead")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("lead"), PolicyName: aws.String("dev"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:CreateUser"],"Resource":"arn:aws:iam::` + acct + `:user/dev/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("lead")})
	if err != nil {
		t.Fatal(err)
	}
	lead, _, _ := clients(e, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	if out, err := lead.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}); err != nil || aws.ToString(out.User.Arn) != "arn:aws:iam::"+acct+":user/dev/alice" {
		t.Fatalf("GetUser of a user under /dev/: %+v %v", out, err)
	}
	_, err = lead.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
	if code(err) != "AccessDenied" || !strings.Contains(err.Error(), "on resource: arn:aws:iam::"+acct+":user/bob ") {
		t.Fatalf("GetUser of a user under /: %v", err)
	}
	if _, err := lead.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol"), Path: aws.String("/dev/")}); err != nil {
		t.Fatalf("CreateUser under /dev/: %v", err)
	}
	if _, err := lead.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dave")}); code(err) != "AccessDenied" {
		t.Fatalf("CreateUser under /: %v", err)
	}
}

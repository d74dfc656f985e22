package iam_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

func clients(e *flottatest.Env, id, secret string) (*iam.Client, *sts.Client, *ecs.Client) {
	creds := credentials.NewStaticCredentialsProvider(id, secret, "")
	region := e.Server.Account().Region
	endpoint := aws.String(e.Server.Endpoint())
	i := iam.New(iam.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1})
	s := sts.New(sts.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1})
	c := ecs.New(ecs.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1})
	return i, s, c
}

// TestUserLimitedToReadsOfOneCluster: through the SDK's IAM client, the
// account makes a user whose policy allows ecs:Describe* and ecs:List* on
// one cluster; with the user's own key, reads of that cluster succeed, and
// writes and the other cluster are denied in AWS's words, changing nothing.
func TestUserLimitedToReadsOfOneCluster(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	acct, region := e.Server.Account().ID, e.Server.Account().Region
	admin, adminSTS, _ := clients(e, e.Root.AccessKeyID, e.Root.SecretAccessKey)
	for _, name := range []string{"blue", "green"} {
		if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}); code(err) != "EntityAlreadyExists" {
		t.Fatalf("a second reader: %v", err)
	}
	blue := "arn:aws:ecs:" + region + ":" + acct + ":cluster/blue"
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"ReadBlue","Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],
		"Resource":["` + blue + `","arn:aws:ecs:` + region + `:` + acct + `:service/blue/*","arn:aws:ecs:` + region + `:` + acct + `:task/blue/*",
		"arn:aws:ecs:` + region + `:` + acct + `:container-instance/blue/*"]},
		{"Sid":"ListInBlue","Effect":"Allow","Action":"ecs:List*","Resource":"*","Condition":{"ArnEquals":{"ecs:cluster":"` + blue + `"}}}]}`
	policy, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read-blue"), PolicyDocument: aws.String(doc)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow"}]}`)}); code(err) != "MalformedPolicyDocument" {
		t.Fatalf("a malformed policy: %v", err)
	}
	if _, err := admin.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: policy.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	attached, err := admin.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("reader")})
	if err != nil || len(attached.AttachedPolicies) != 1 || aws.ToString(attached.AttachedPolicies[0].PolicyName) != "read-blue" {
		t.Fatalf("attached: %+v %v", attached, err)
	}
	version, err := admin.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: policy.Policy.Arn, VersionId: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := url.QueryUnescape(aws.ToString(version.PolicyVersion.Document)); got != doc {
		t.Fatalf("the document read back: %q", got)
	}

	_, asSTS, asECS := clients(e, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	me, err := asSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	userARN := "arn:aws:iam::" + acct + ":user/reader"
	if err != nil || aws.ToString(me.Arn) != userARN || aws.ToString(me.Account) != acct || !strings.HasPrefix(aws.ToString(me.UserId), "AIDA") {
		t.Fatalf("GetCallerIdentity: %+v %v", me, err)
	}
	root, err := adminSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(root.Arn) != "arn:aws:iam::"+acct+":root" {
		t.Fatalf("the root's identity: %+v %v", root, err)
	}

	// Reads of blue.
	if out, err := asECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"blue"}}); err != nil || len(out.Clusters) != 1 {
		t.Fatalf("DescribeClusters blue: %+v %v", out, err)
	}
	if _, err := asECS.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("blue")}); err != nil {
		t.Fatalf("ListServices blue: %v", err)
	}
	if _, err := asECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("blue")}); err != nil {
		t.Fatalf("ListTasks blue: %v", err)
	}

	// Writes, and the other cluster, are denied.
	before := e.Revision(t)
	for name, call := range map[string]struct {
		do       func() error
		action   string
		resource string
	}{
		"DescribeClusters green": {func() error {
			_, err := asECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"green"}})
			return err
		}, "ecs:DescribeClusters", "arn:aws:ecs:" + region + ":" + acct + ":cluster/green"},
		"ListServices green": {func() error {
			_, err := asECS.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("green")})
			return err
		}, "ecs:ListServices", "*"},
		"DeleteCluster blue": {func() error {
			_, err := asECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("blue")})
			return err
		}, "ecs:DeleteCluster", blue},
		"CreateCluster": {func() error {
			_, err := asECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("red")})
			return err
		}, "ecs:CreateCluster", "arn:aws:ecs:" + region + ":" + acct + ":cluster/red"},
	} {
		err := call.do()
		want := "User: " + userARN + " is not authorized to perform: " + call.action + " on resource: " + call.resource +
			" because no identity-based policy allows the " + call.action + " action"
		if code(err) != "AccessDeniedException" || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v\nwant AccessDeniedException: %s", name, err, want)
		}
	}
	if after := e.Revision(t); after != before {
		t.Fatalf("refused calls wrote to the store (revision %d to %d)", before, after)
	}

	// IAM's own rules: no delete while keys and policies remain; an
	// inactive key is refused.
	if _, err := admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("reader")}); code(err) != "DeleteConflict" {
		t.Fatalf("deleting a user with keys: %v", err)
	}
	if _, err := admin.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: policy.Policy.Arn}); code(err) != "DeleteConflict" {
		t.Fatalf("deleting an attached policy: %v", err)
	}
	if _, err := admin.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")}); code(err) != "NoSuchEntity" {
		t.Fatalf("an unknown user: %v", err)
	}
	if _, err := admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("reader"), AccessKeyId: key.AccessKey.AccessKeyId,
		Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	if _, err := asECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("blue")}); code(err) != "UnrecognizedClientException" {
		t.Fatalf("an inactive key: %v", err)
	}
	if _, err := admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("reader"), AccessKeyId: key.AccessKey.AccessKeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: policy.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatalf("deleting the emptied user: %v", err)
	}
	if _, err := admin.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: policy.Policy.Arn}); err != nil {
		t.Fatalf("deleting the detached policy: %v", err)
	}
}

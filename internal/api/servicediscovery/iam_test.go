package servicediscovery_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/smithy-go/middleware"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestIAMPolicies: a user's policy decides Cloud Map calls on the
// namespace and service ARNs and the condition keys of the operation, as
// AWS's does; what it does not allow is AccessDeniedException and writes
// nothing.
func TestIAMPolicies(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.SD()
	ctx := context.Background()
	nsID := httpNS(t, c, "team")
	a, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("a"), NamespaceId: aws.String(nsID)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("b"), NamespaceId: aws.String(nsID)})
	if err != nil {
		t.Fatal(err)
	}
	region := e.Server.Account().Region
	admin := iam.New(iam.Options{Region: region, BaseEndpoint: aws.String(e.Server.Endpoint()), HTTPClient: e.HTTP, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")})
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["servicediscovery:GetService","servicediscovery:RegisterInstance"],"Resource":"` + aws.ToString(a.Service.Arn) + `"},
		{"Effect":"Allow","Action":"servicediscovery:List*","Resource":"*"},
		{"Effect":"Allow","Action":"servicediscovery:DiscoverInstances","Resource":"*","Condition":{"StringEquals":{"servicediscovery:ServiceName":"a"}}}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	user := sd.New(sd.Options{Region: region, BaseEndpoint: aws.String(e.Server.Endpoint()), HTTPClient: e.HTTP, RetryMaxAttempts: 1,
		APIOptions:  []func(*middleware.Stack) error{flottatest.NoHostPrefix},
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")})

	if _, err := user.GetService(ctx, &sd.GetServiceInput{Id: a.Service.Id}); err != nil {
		t.Fatalf("GetService of the allowed service: %v", err)
	}
	if _, err := user.ListNamespaces(ctx, &sd.ListNamespacesInput{}); err != nil {
		t.Fatalf("ListNamespaces: %v", err)
	}
	if _, err := user.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("team"), ServiceName: aws.String("a")}); err != nil {
		t.Fatalf("DiscoverInstances of service a: %v", err)
	}
	before := e.Revision(t)
	_, err = user.GetService(ctx, &sd.GetServiceInput{Id: b.Service.Id})
	wantCode(t, "GetService of another service", err, "AccessDeniedException")
	_, err = user.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("team"), ServiceName: aws.String("b")})
	wantCode(t, "DiscoverInstances of service b", err, "AccessDeniedException")
	_, err = user.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: b.Service.Id, InstanceId: aws.String("i"), Attributes: map[string]string{}})
	wantCode(t, "RegisterInstance with service b", err, "AccessDeniedException")
	_, err = user.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("mine")})
	wantCode(t, "CreateHttpNamespace", err, "AccessDeniedException")
	_, err = user.DeleteService(ctx, &sd.DeleteServiceInput{Id: a.Service.Id})
	wantCode(t, "DeleteService", err, "AccessDeniedException")
	if after := e.Revision(t); after != before {
		t.Fatalf("refused calls wrote: revision %d -> %d", before, after)
	}
	out, err := user.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: a.Service.Id, InstanceId: aws.String("i"), Attributes: map[string]string{}})
	if err != nil {
		t.Fatalf("RegisterInstance with service a: %v", err)
	}
	succeed(t, c, "register as the user", out.OperationId)
}

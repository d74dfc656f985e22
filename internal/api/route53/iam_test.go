package route53_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestPoliciesDecideRoute53: a user whose policy allows changing one zone
// changes it, and is refused (AccessDenied, 403, naming the action and the
// zone's ARN) on another zone and on creating zones, which changes nothing.
func TestPoliciesDecideRoute53(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	c := e.R53()
	mine := strings.TrimPrefix(aws.ToString(mustZone(t, c, "mine.internal", "m").HostedZone.Id), "/hostedzone/")
	theirs := strings.TrimPrefix(aws.ToString(mustZone(t, c, "theirs.internal", "t").HostedZone.Id), "/hostedzone/")
	creds := credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	admin := iam.New(iam.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()), Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1})
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dns")}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["route53:ChangeResourceRecordSets","route53:ListResourceRecordSets"],"Resource":"arn:aws:route53:::hostedzone/` + mine + `"},
		{"Effect":"Allow","Action":"route53:GetChange","Resource":"arn:aws:route53:::change/*"}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dns"), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dns")})
	if err != nil {
		t.Fatal(err)
	}
	user := route53.New(route53.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()), HTTPClient: e.HTTP, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")})
	set := batch(ch(types.ChangeActionCreate, rrset("a.mine.internal", types.RRTypeA, 60, "10.0.0.1")))
	out, err := user.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(mine), ChangeBatch: set})
	if err != nil {
		t.Fatalf("allowed change: %v", err)
	}
	if _, err := user.GetChange(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id}); err != nil {
		t.Fatalf("allowed get-change: %v", err)
	}
	before := e.Revision(t)
	_, err = user.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(theirs),
		ChangeBatch: batch(ch(types.ChangeActionCreate, rrset("a.theirs.internal", types.RRTypeA, 60, "10.0.0.1")))})
	want := "is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/" + theirs
	if code(err) != "AccessDenied" || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "StatusCode: 403") {
		t.Fatalf("a change to another zone: %v", err)
	}
	if _, err := user.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("x.internal"), CallerReference: aws.String("x"),
		VPC: &types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: types.VPCRegionUsEast1}}); code(err) != "AccessDenied" {
		t.Fatalf("create a zone: %v", err)
	}
	if after := e.Revision(t); after != before {
		t.Fatalf("refused calls wrote (revision %d to %d)", before, after)
	}
}

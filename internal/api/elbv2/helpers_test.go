package elbv2_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// code is an SDK error's code ("" for none).
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

type env struct {
	*flottatest.Env
	elb *elb.Client
	iam *iam.Client
	ctx context.Context
}

func start(t *testing.T, opts ...flottatest.Options) *env {
	e := flottatest.StartServer(t, opts...)
	creds := credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	region, endpoint := e.Server.Account().Region, aws.String(e.Server.Endpoint())
	return &env{Env: e, ctx: context.Background(),
		elb: elb.New(elb.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1}),
		iam: iam.New(iam.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1})}
}

func (e *env) loadBalancer(t *testing.T, name, lbType string) types.LoadBalancer {
	t.Helper()
	out, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String(name), Type: types.LoadBalancerTypeEnum(lbType)})
	if err != nil {
		t.Fatalf("create load balancer %s: %v", name, err)
	}
	return out.LoadBalancers[0]
}

func (e *env) targetGroup(t *testing.T, name, protocol string, targetType types.TargetTypeEnum) types.TargetGroup {
	t.Helper()
	out, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: types.ProtocolEnum(protocol),
		Port: aws.Int32(8080), TargetType: targetType})
	if err != nil {
		t.Fatalf("create target group %s: %v", name, err)
	}
	return out.TargetGroups[0]
}

func forward(tgArn string) []types.Action {
	return []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgArn)}}
}

func (e *env) listener(t *testing.T, lbArn string, protocol string, port int32, actions []types.Action) types.Listener {
	t.Helper()
	out, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbArn), Protocol: types.ProtocolEnum(protocol),
		Port: aws.Int32(port), DefaultActions: actions})
	if err != nil {
		t.Fatalf("create listener %s:%d: %v", protocol, port, err)
	}
	return out.Listeners[0]
}

func pathRule(path string) []types.RuleCondition {
	return []types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{path}}}}
}

// selfSigned makes a certificate and its key, in PEM.
func selfSigned(t *testing.T, host string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

func (e *env) certificate(t *testing.T, name string) string {
	t.Helper()
	cert, key := selfSigned(t, name+".example")
	out, err := e.iam.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String(name),
		CertificateBody: aws.String(cert), PrivateKey: aws.String(key)})
	if err != nil {
		t.Fatalf("upload certificate %s: %v", name, err)
	}
	return *out.ServerCertificateMetadata.Arn
}

// unchanged runs fn and fails the test if the store's revision moved.
func (e *env) unchanged(t *testing.T, what string, fn func()) {
	t.Helper()
	before := e.Revision(t)
	fn()
	if after := e.Revision(t); after != before {
		t.Errorf("%s changed the store (revision %d -> %d)", what, before, after)
	}
}

func flottaOptions(now func() time.Time) flottatest.Options {
	return flottatest.Options{Now: now}
}

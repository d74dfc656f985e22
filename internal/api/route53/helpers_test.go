package route53_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	elbapi "github.com/flotta-dev/flotta/internal/api/elbv2"
	r53api "github.com/flotta-dev/flotta/internal/api/route53"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

type loadBalancer struct{ dns, zone string }

// createLoadBalancer makes an application load balancer through the SDK.
func createLoadBalancer(t *testing.T, e *flottatest.Env) loadBalancer {
	t.Helper()
	out, err := e.ELB().CreateLoadBalancer(context.Background(), &elb.CreateLoadBalancerInput{Name: aws.String("web")})
	if err != nil || len(out.LoadBalancers) != 1 {
		t.Fatalf("create load balancer: %v", err)
	}
	lb := out.LoadBalancers[0]
	return loadBalancer{dns: aws.ToString(lb.DNSName), zone: aws.ToString(lb.CanonicalHostedZoneId)}
}

// TestELBHostedZoneID: the zone an alias to a load balancer names is the
// one ELB answers.
func TestELBHostedZoneID(t *testing.T) {
	if r53api.ELBHostedZoneID != elbapi.HostedZoneID {
		t.Fatalf("route53 expects %s, elbv2 answers %s", r53api.ELBHostedZoneID, elbapi.HostedZoneID)
	}
}

type reply struct {
	status int
	body   string
	header http.Header
}

// raw sends a signed request as the root user, for what the SDK would not
// send.
func raw(t *testing.T, e *flottatest.Env, method, path, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, e.Server.Endpoint()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: e.Root.AccessKeyID, SecretAccessKey: e.Root.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "route53", e.Server.Account().Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: string(b), header: resp.Header}
}

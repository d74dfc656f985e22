package elbv2_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// raw posts a hand-made, signed ELB request (input an SDK would refuse to
// send) and returns the status and the error code answered.
func (e *env) raw(t *testing.T, params url.Values) (int, string) {
	t.Helper()
	params.Set("Version", "2015-12-01")
	body := params.Encode()
	req, err := http.NewRequest(http.MethodPost, e.Server.Endpoint()+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: e.Root.AccessKeyID, SecretAccessKey: e.Root.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(e.ctx, creds, req, hex.EncodeToString(sum[:]), "elasticloadbalancing", e.Server.Account().Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var answer struct {
		Error struct{ Code string } `xml:"Error"`
	}
	xml.Unmarshal(data, &answer)
	return resp.StatusCode, answer.Error.Code
}

// TestMalformedRequests: wrong types, missing members, unknown actions and
// values out of an enum, sent past the SDK's own checks, answer in ELB's
// codes and change nothing.
func TestMalformedRequests(t *testing.T) {
	e := start(t)
	lb := e.loadBalancer(t, "web", "application")
	for name, c := range map[string]struct {
		params url.Values
		status int
		code   string
	}{
		"priority not a number": {url.Values{"Action": {"CreateRule"}, "ListenerArn": {*lb.LoadBalancerArn}, "Priority": {"abc"}}, 400, "ValidationError"},
		"port beyond 32 bits":   {url.Values{"Action": {"CreateTargetGroup"}, "Name": {"a"}, "Protocol": {"HTTP"}, "Port": {"99999999999"}}, 400, "ValidationError"},
		"no name":               {url.Values{"Action": {"CreateLoadBalancer"}}, 400, "ValidationError"},
		"no conditions": {url.Values{"Action": {"CreateRule"}, "ListenerArn": {*lb.LoadBalancerArn}, "Priority": {"1"},
			"Actions.member.1.Type": {"fixed-response"}}, 400, "ValidationError"},
		"unknown type":         {url.Values{"Action": {"CreateLoadBalancer"}, "Name": {"x"}, "Type": {"classic"}}, 400, "ValidationError"},
		"unknown action":       {url.Values{"Action": {"CreateClassicLoadBalancer"}}, 400, "InvalidAction"},
		"a listener ARN as LB": {url.Values{"Action": {"DescribeLoadBalancerAttributes"}, "LoadBalancerArn": {"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1"}}, 400, "ValidationError"},
		"no targets":           {url.Values{"Action": {"RegisterTargets"}, "TargetGroupArn": {"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1"}}, 400, "ValidationError"},
	} {
		t.Run(name, func(t *testing.T) {
			e.unchanged(t, name, func() {
				if status, code := e.raw(t, c.params); status != c.status || code != c.code {
					t.Errorf("answered %d %s, want %d %s", status, code, c.status, c.code)
				}
			})
		})
	}
}

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestLBServeCarriesTheTraffic: `flotta lb serve` on its own (the server
// runs with --no-lb) serves the listeners the ELBv2 API configures, with the
// endpoint and credentials the server wrote, and follows each change.
func TestLBServeCarriesTheTraffic(t *testing.T) {
	dir := t.TempDir()
	p := serverWith(t, dir, "--no-lb")
	ctx := context.Background()
	lbs := elb.NewFromConfig(p.config(t), func(o *elb.Options) { o.RetryMaxAttempts = 1 })
	lb, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("edge")})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	fixed := func(body string) []types.Action {
		return []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
			StatusCode: aws.String("200"), ContentType: aws.String("text/plain"), MessageBody: aws.String(body)}}}
	}
	ln, err := lbs.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(int32(port)), DefaultActions: fixed("one")})
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	get := func() string {
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(url)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get(); got == "one" {
		t.Fatal("the server answers on the listener although it runs with --no-lb")
	}
	startChild(t, "lb", regexp.MustCompile(`(applied the load balancing configuration)`), "lb", "serve", "--data-dir", dir, "--host", "127.0.0.1")
	flottatest.Eventually(t, 10*time.Second, "flotta lb serve answering", func() (bool, string) { got := get(); return got == "one", got })
	if _, err := lbs.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: ln.Listeners[0].ListenerArn, DefaultActions: fixed("two")}); err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 10*time.Second, "flotta lb serve following the change", func() (bool, string) { got := get(); return got == "two", got })
}

package lbsync_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/lb"
	"github.com/flotta-dev/flotta/internal/lbsync"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// freePort is a loopback port nothing listens on (now).
func freePort(t *testing.T) int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

func backend(t *testing.T, body string) (host string, port int32) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
	t.Cleanup(srv.Close)
	h, p, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	n, _ := strconv.Atoi(p)
	return h, int32(n)
}

func get(url string) (int, string) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTheServerServesItsLoadBalancers: what the ELBv2 API configures, the
// server's own data plane serves: a listener forwards to a target group of
// two backends, a rule answers on its own, the health checks' findings
// reach DescribeTargetHealth, and the requests are counted on /metrics with
// CloudWatch's dimensions.
func TestTheServerServesItsLoadBalancers(t *testing.T) {
	e := flottatest.StartServer(t, flottatest.Options{LoadBalancers: true})
	ctx := context.Background()
	lbs := e.ELB()
	lbOut, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := lbs.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("pool"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		TargetType: types.TargetTypeEnumIp, HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2), HealthCheckPath: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	tgArn := tg.TargetGroups[0].TargetGroupArn
	var targets []types.TargetDescription
	for _, body := range []string{"one", "two"} {
		h, p := backend(t, body)
		targets = append(targets, types.TargetDescription{Id: aws.String(h), Port: aws.Int32(p)})
	}
	if _, err := lbs.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: tgArn, Targets: targets}); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	ln, err := lbs.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lbOut.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(port), DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tgArn}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lbs.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: ln.Listeners[0].ListenerArn, Priority: aws.Int32(10),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/tea*"}}}},
		Actions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
			StatusCode: aws.String("418"), ContentType: aws.String("text/plain"), MessageBody: aws.String("teapot")}}}}); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	seen := map[string]bool{}
	flottatest.Eventually(t, 15*time.Second, "both backends answering through the listener", func() (bool, string) {
		code, body := get(url + "/")
		if code == http.StatusOK {
			seen[body] = true
		}
		return seen["one"] && seen["two"], fmt.Sprintf("%d %q, seen %v", code, body, seen)
	})
	// The rule came in a later write than the listener: the data plane may
	// have answered the backends before it applied the rule.
	flottatest.Eventually(t, 15*time.Second, "the rule's fixed response", func() (bool, string) {
		code, body := get(url + "/teapot")
		return code == 418 && body == "teapot", fmt.Sprintf("%d %q", code, body)
	})
	flottatest.Eventually(t, 30*time.Second, "both targets healthy", func() (bool, string) {
		out, err := lbs.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tgArn})
		if err != nil {
			return false, err.Error()
		}
		healthy := 0
		var states []string
		for _, d := range out.TargetHealthDescriptions {
			states = append(states, string(d.TargetHealth.State)+"/"+string(d.TargetHealth.Reason))
			if d.TargetHealth.State == types.TargetHealthStateEnumHealthy {
				healthy++
			}
		}
		return healthy == 2, strings.Join(states, " ")
	})
	_, metrics := get(e.Server.Endpoint() + "/metrics")
	want := `LoadBalancer="` + lbsync.Dimension(aws.ToString(lbOut.LoadBalancers[0].LoadBalancerArn)) + `"`
	if !strings.Contains(metrics, "flotta_lb_request_count_total") || !strings.Contains(metrics, want) {
		t.Fatalf("/metrics lacks the load balancer's request count with %s", want)
	}
}

// TestARemoteDataPlaneFollowsTheServer: a data plane in another process (a
// Remote over the FlottaV1 operations) serves what the API configures and
// takes each change as soon as the server has it; its health checks' findings
// reach DescribeTargetHealth.
func TestARemoteDataPlaneFollowsTheServer(t *testing.T) {
	e := flottatest.StartServer(t) // no data plane of its own
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := e.Client(e.Root)
	remote := &lbsync.Remote{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Wait: 5 * time.Second,
		Call: func(ctx context.Context, op string, in, out any) error {
			return client.Call(ctx, flottaapi.FlottaTarget+"."+op, in, out)
		}}
	bal, err := lb.New(lb.Options{OnHealthChange: remote.Observe})
	if err != nil {
		t.Fatal(err)
	}
	defer bal.Close()
	go remote.Run(ctx, func(c lb.Config) error {
		for i := range c.LoadBalancers {
			for j := range c.LoadBalancers[i].Listeners {
				c.LoadBalancers[i].Listeners[j].Host = "127.0.0.1"
			}
		}
		return bal.Apply(c)
	})

	lbs := e.ELB()
	lbOut, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("edge")})
	if err != nil {
		t.Fatal(err)
	}
	fixed := func(body string) []types.Action {
		return []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
			StatusCode: aws.String("200"), ContentType: aws.String("text/plain"), MessageBody: aws.String(body)}}}
	}
	port := freePort(t)
	ln, err := lbs.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lbOut.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(port), DefaultActions: fixed("v1")})
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	flottatest.Eventually(t, 15*time.Second, "the remote serving v1", func() (bool, string) {
		code, body := get(url)
		return code == 200 && body == "v1", fmt.Sprintf("%d %q", code, body)
	})
	changed := time.Now()
	if _, err := lbs.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: ln.Listeners[0].ListenerArn, DefaultActions: fixed("v2")}); err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 5*time.Second, "the change reaching the remote", func() (bool, string) {
		code, body := get(url)
		return code == 200 && body == "v2", fmt.Sprintf("%d %q", code, body)
	})
	t.Logf("a listener change reached the remote data plane in %v", time.Since(changed).Round(time.Millisecond))

	// Its health checks' findings reach the API.
	tg, err := lbs.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("pool"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		TargetType: types.TargetTypeEnumIp, HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	h, p := backend(t, "ok")
	if _, err := lbs.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroups[0].TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String(h), Port: aws.Int32(p)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lbs.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: ln.Listeners[0].ListenerArn,
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}}}); err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 30*time.Second, "the target healthy in DescribeTargetHealth", func() (bool, string) {
		out, err := lbs.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroups[0].TargetGroupArn})
		if err != nil || len(out.TargetHealthDescriptions) != 1 {
			return false, fmt.Sprint(out, err)
		}
		th := out.TargetHealthDescriptions[0].TargetHealth
		return th.State == types.TargetHealthStateEnumHealthy, string(th.State) + "/" + string(th.Reason)
	})
	if code, body := get(url); code != 200 || body != "ok" {
		t.Fatalf("through the remote to the target: %d %q", code, body)
	}
}

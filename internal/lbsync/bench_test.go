package lbsync_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
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

// BenchmarkConfigChangeReachesRemote measures how long a listener change
// takes to be applied by a remote data plane (`flotta lb serve`) when the
// configuration holds 1,000 rules (10 load balancers of 100): from the
// ModifyListener call to the remote's Apply of the new revision.
//
//	go test ./internal/lbsync -run '^$' -bench ConfigChangeReachesRemote -benchtime 20x
func BenchmarkConfigChangeReachesRemote(b *testing.B) {
	e := flottatest.StartServer(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lbs := e.ELB()
	var listeners []string
	for i := range 10 {
		out, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(fmt.Sprintf("lb%d", i))})
		if err != nil {
			b.Fatal(err)
		}
		ln, err := lbs.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: out.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp,
			Port: aws.Int32(int32(20000 + i)), DefaultActions: fixedAction("0")})
		if err != nil {
			b.Fatal(err)
		}
		arn := aws.ToString(ln.Listeners[0].ListenerArn)
		listeners = append(listeners, arn)
		for r := range 100 {
			if _, err := lbs.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: aws.String(arn), Priority: aws.Int32(int32(r + 1)),
				Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{
					Values: []string{fmt.Sprintf("/svc%d/*", r)}}}},
				Actions: fixedAction(fmt.Sprint(r))}); err != nil {
				b.Fatal(err)
			}
		}
	}
	client := e.Client(e.Root)
	applied := make(chan string, 16)
	remote := &lbsync.Remote{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Wait: 30 * time.Second,
		Call: func(ctx context.Context, op string, in, out any) error {
			return client.Call(ctx, flottaapi.FlottaTarget+"."+op, in, out)
		}}
	go remote.Run(ctx, func(c lb.Config) error {
		rules := 0
		for _, l := range c.LoadBalancers {
			for _, ln := range l.Listeners {
				rules += len(ln.Rules)
			}
		}
		if rules != 1000 {
			return fmt.Errorf("%d rules", rules)
		}
		applied <- c.LoadBalancers[0].Listeners[0].DefaultActions[0].FixedResponse.MessageBody
		return nil
	})
	<-applied // the first configuration
	b.ResetTimer()
	for i := range b.N {
		body := fmt.Sprintf("change-%d", i)
		if _, err := lbs.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(listeners[0]), DefaultActions: fixedAction(body)}); err != nil {
			b.Fatal(err)
		}
		for got := <-applied; got != body; got = <-applied {
		}
	}
}

func fixedAction(body string) []types.Action {
	return []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
		StatusCode: aws.String("200"), ContentType: aws.String("text/plain"), MessageBody: aws.String(body)}}}
}

package elbv2_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestConcurrentWritesKeepTheRules: eight clients at once create a listener
// on one port, a rule with one priority, and register eight different
// targets: exactly one listener and one rule are made (the others get
// DuplicateListener and PriorityInUse), and every target is registered.
func TestConcurrentWritesKeepTheRules(t *testing.T) {
	e := start(t)
	lb := e.loadBalancer(t, "web", "application")
	tg := e.targetGroup(t, "blue", "HTTP", types.TargetTypeEnumIp)
	base := e.listener(t, *lb.LoadBalancerArn, "HTTP", 80, forward(*tg.TargetGroupArn))
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, lerr := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(8080),
				DefaultActions: forward(*tg.TargetGroupArn)})
			_, rerr := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: base.ListenerArn, Priority: aws.Int32(7),
				Conditions: pathRule(fmt.Sprintf("/%d", i)), Actions: forward(*tg.TargetGroupArn)})
			_, terr := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
				Targets: []types.TargetDescription{{Id: aws.String(fmt.Sprintf("10.0.0.%d", i+1))}}})
			mu.Lock()
			codes["listener:"+code(lerr)]++
			codes["rule:"+code(rerr)]++
			codes["targets:"+code(terr)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes["listener:"] != 1 || codes["listener:DuplicateListener"] != 7 || codes["rule:"] != 1 || codes["rule:PriorityInUse"] != 7 || codes["targets:"] != 8 {
		t.Fatalf("answers: %v", codes)
	}
	cfg, err := e.Server.State().ReadELB(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Listeners) != 2 || len(cfg.Rules) != 1 || len(cfg.TargetGroups[*tg.TargetGroupArn].Targets) != 8 {
		t.Fatalf("stored: %d listeners, %d rules, %d targets", len(cfg.Listeners), len(cfg.Rules), len(cfg.TargetGroups[*tg.TargetGroupArn].Targets))
	}
}

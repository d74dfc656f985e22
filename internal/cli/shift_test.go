package cli_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestCanaryFromTheCLI: create --lb --strategy canary makes the green
// group and uses the listener's default rule as the production rule;
// plan shows the traffic steps; deploy follows the service deployment to
// SUCCESSFUL, showing the production weights; deployment flags keep the
// rest of the configuration; promote needs a deployment under way and
// sets the record's Promote.
func TestCanaryFromTheCLI(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	lbs := elbClient(e)
	f := fleet.New(t, e)
	f.Add(1, fleet.Spec{CPU: 4096, Memory: 4096}, nil)
	dir := t.TempDir()
	for _, env := range []string{"1", "2"} {
		file := dir + "/web" + env + ".json"
		os.WriteFile(file, []byte(`{"family":"web","networkMode":"bridge","containerDefinitions":[{"name":"app","image":"demo","memory":64,
			"portMappings":[{"containerPort":8080}],"environment":[{"name":"V","value":"`+env+`"}]}]}`), 0o644)
		mustRunAll(t, e.DataDir, "taskdef", "register", "-f", file)
	}
	mustRunAll(t, e.DataDir, "lb", "create", "front", "--port", "80")

	// Refused before anything is made.
	failRun(t, e.DataDir, "ECS counts bake times in whole minutes; use 1m or 2m",
		"service", "create", "web", "-t", "web:1", "--lb", "front:80", "--strategy", "canary", "--bake", "90s")
	failRun(t, e.DataDir, "use --placement-strategy binpack:memory", "service", "create", "web", "-t", "web:1", "--strategy", "binpack:memory")
	failRun(t, e.DataDir, "--linear-step needs --strategy linear (the deployment strategy is canary)",
		"service", "create", "web", "-t", "web:1", "--strategy", "canary", "--linear-step", "20")
	if _, err := lbs.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"web-green"}}); err == nil {
		t.Fatal("a refused create left a target group behind")
	}

	_, progress := mustRunAll(t, e.DataDir, "service", "create", "web", "-t", "web:1", "-n", "1", "--lb", "front:80",
		"--strategy", "canary", "--canary-percent", "10", "--canary-bake", "5m", "--bake", "5", "--placement-strategy", "binpack:memory")
	if !strings.Contains(progress, "created target group web-green") || !strings.Contains(progress, "production listener rule") {
		t.Fatalf("create --strategy canary:\n%s", progress)
	}
	svc, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	s := svc.Services[0]
	dc := s.DeploymentConfiguration
	if dc.Strategy != "CANARY" || aws.ToFloat64(dc.CanaryConfiguration.CanaryPercent) != 10 || aws.ToInt32(dc.CanaryConfiguration.CanaryBakeTimeInMinutes) != 5 ||
		aws.ToInt32(dc.BakeTimeInMinutes) != 5 || len(s.PlacementStrategy) != 1 || s.PlacementStrategy[0].Type != "binpack" {
		t.Fatalf("web's deployment configuration: %+v placement %+v", dc, s.PlacementStrategy)
	}
	ac := s.LoadBalancers[0].AdvancedConfiguration
	green, err := lbs.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"web-green"}})
	if err != nil || ac == nil || aws.ToString(ac.AlternateTargetGroupArn) != aws.ToString(green.TargetGroups[0].TargetGroupArn) {
		t.Fatalf("advancedConfiguration %+v, green group %v", ac, err)
	}
	rules, err := lbs.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{aws.ToString(ac.ProductionListenerRule)}})
	if err != nil || len(rules.Rules) != 1 || !aws.ToBool(rules.Rules[0].IsDefault) || rules.Rules[0].Actions[0].ForwardConfig == nil ||
		len(rules.Rules[0].Actions[0].ForwardConfig.TargetGroups) != 2 {
		t.Fatalf("the production rule is not the listener's default rule forwarding to both groups: %+v %v", rules, err)
	}

	// The plan of a rollout shows the canary's steps and times (planned
	// once the first task runs: before, it counts as one to start too).
	flottatest.Eventually(t, 30*time.Second, "web's first task running", func() (bool, string) {
		d, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
		if err != nil {
			return false, err.Error()
		}
		return d.Services[0].RunningCount == 1, fmt.Sprintf("running %d", d.Services[0].RunningCount)
	})
	out, _ := mustRunAll(t, e.DataDir, "service", "plan", "web", "-t", "web:2")
	for _, want := range []string{"a new deployment of web:2", "Traffic shift (CANARY)", "0:00  10% to green   90%   bake 5m",
		"0:05  100% to green  0%    bake 5m (bakeTimeInMinutes)", "0:10  -              -     blue removed"} {
		if !strings.Contains(out, want) {
			t.Fatalf("plan lacks %q:\n%s", want, out)
		}
	}
	// ... and, for a linear 25% step, its four steps; nothing changes.
	out, _ = mustRunAll(t, e.DataDir, "service", "plan", "web", "-t", "web:2", "--strategy", "linear", "--linear-step", "25", "--step-bake", "1m")
	for _, want := range []string{"Traffic shift (LINEAR)", "0:00  25% to green", "0:01  50% to green", "0:02  75% to green", "0:03  100% to green  0%    bake 5m", "0:08  -"} {
		if !strings.Contains(out, want) {
			t.Fatalf("linear plan lacks %q:\n%s", want, out)
		}
	}
	if d, _ := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}}); d.Services[0].DeploymentConfiguration.Strategy != "CANARY" {
		t.Fatal("plan changed the strategy")
	}

	// A deployment flag keeps the rest: the strategy, the canary, the bake.
	mustRunAll(t, e.DataDir, "service", "update", "web", "--min-healthy", "50")
	d, _ := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
	if dc := d.Services[0].DeploymentConfiguration; dc.Strategy != "CANARY" || aws.ToInt32(dc.MinimumHealthyPercent) != 50 ||
		aws.ToFloat64(dc.CanaryConfiguration.CanaryPercent) != 10 || aws.ToInt32(dc.BakeTimeInMinutes) != 5 {
		t.Fatalf("--min-healthy lost the rest of the configuration: %+v", dc)
	}

	// Promote without a deployment under way is refused in ECS's shape.
	failRun(t, e.DataDir, "InvalidParameterException: The service has no blue/green, canary or linear deployment in progress.", "service", "promote", "web")
	failRun(t, e.DataDir, "ServiceNotFoundException", "service", "promote", "ghost")

	// deploy follows the new deployment to its end. The fleet's fake
	// containers never pass the load balancer's health checks, so the
	// deployment would stay at SCALE_UP: once the new task runs, the test
	// moves the traffic shift to CLEAN_UP with every production step made
	// (the service controller then moves the weights to green), and, once
	// the rule shows it, ends the service deployment SUCCESSFUL.
	st := e.Server.State()
	before, err := e.ECS.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	controller := make(chan error, 1)
	go func() {
		controller <- func() error {
			deadline := time.Now().Add(30 * time.Second)
			moved := false
			for time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond) // polling the server's state
				d, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
				if err != nil {
					return err
				}
				p := d.Services[0].Deployments[0]
				if !strings.HasSuffix(aws.ToString(p.TaskDefinition), "web:2") || p.RunningCount < 1 {
					continue
				}
				if !moved {
					_, err = st.UpdateService(ctx, "default", "web", func(r *state.ServiceRecord) error {
						if r.Shift == nil {
							return errors.New("no traffic shift under way")
						}
						r.Shift.Stage, r.Shift.Step = model.StageCleanUp, 2
						r.ServiceDeployments[len(r.ServiceDeployments)-1].LifecycleStage = model.StageCleanUp
						r.Seq++
						return nil
					})
					if err != nil {
						return err
					}
					moved = true
				}
				rules, err := lbs.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{aws.ToString(ac.ProductionListenerRule)}})
				if err != nil {
					return err
				}
				greenAll := false
				for _, g := range rules.Rules[0].Actions[0].ForwardConfig.TargetGroups {
					greenAll = greenAll || (aws.ToString(g.TargetGroupArn) == aws.ToString(ac.AlternateTargetGroupArn) && aws.ToInt32(g.Weight) == 1 && len(rules.Rules[0].Actions[0].ForwardConfig.TargetGroups) == 2)
				}
				for _, g := range rules.Rules[0].Actions[0].ForwardConfig.TargetGroups {
					if aws.ToString(g.TargetGroupArn) != aws.ToString(ac.AlternateTargetGroupArn) && aws.ToInt32(g.Weight) != 0 {
						greenAll = false
					}
				}
				if !greenAll {
					continue
				}
				time.Sleep(time.Second) // the CLI polls every second: let it see the weights
				_, err = st.UpdateService(ctx, "default", "web", func(r *state.ServiceRecord) error {
					r.ServiceDeployments[len(r.ServiceDeployments)-1].Status = model.SDSuccessful
					r.Seq++
					return nil
				})
				return err
			}
			return errors.New("the new deployment's task never ran, or the weights never moved")
		}()
	}()
	_, progress, err = runAll(t, e.DataDir, "service", "deploy", "web", "-t", "web:2", "--timeout", "60s")
	if cerr := <-controller; cerr != nil {
		t.Fatalf("the test's controller: %v", cerr)
	}
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, progress)
	}
	for _, want := range []string{"following in_progress deployment", "traffic  blue web 100% / green web-green 0%", "stage    CLEAN_UP",
		"traffic  blue web 0% / green web-green 100%", "status   SUCCESSFUL"} {
		if !strings.Contains(progress, want) {
			t.Fatalf("deploy of a canary service lacks %q:\n%s", want, progress)
		}
	}
	if strings.Contains(progress, shortIDOf(aws.ToString(before.ServiceDeployments[0].ServiceDeploymentArn))) {
		t.Fatalf("deploy followed the previous deployment:\n%s", progress)
	}

	// The deployment is still under way for the service controller (its
	// fake tasks never turn healthy, so blue's removal never completes):
	// promote sets Promote on it.
	out, _ = mustRunAll(t, e.DataDir, "service", "promote", "web")
	if !strings.Contains(out, "promoted CANARY deployment ") || !strings.Contains(out, " of web (at CLEAN_UP)") {
		t.Fatalf("promote: %s", out)
	}
	rec, err := st.GetService(ctx, "default", "web")
	if err != nil || rec.Shift == nil || !rec.Shift.Promote {
		t.Fatalf("after promote: %+v %v", rec.Shift, err)
	}
}

// shortIDOf is the last part of an ARN, as the CLI prints it.
func shortIDOf(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

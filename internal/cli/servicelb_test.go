package cli_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestServiceCreateWithLB: --lb makes a target group named after the
// service and points the listener's default action at it; a second service
// with --lb-path gets a path rule; the tasks' targets show in service
// describe; lb rm deletes the groups the CLI made; bad --lb settings are
// explained and leave nothing behind.
func TestServiceCreateWithLB(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	lbs := elbClient(e)
	f := fleet.New(t, e)
	f.Add(1, fleet.Spec{CPU: 2048, Memory: 2048}, nil)
	dir := t.TempDir()
	for name, def := range map[string]string{
		"web": `{"family":"web","networkMode":"bridge","containerDefinitions":[{"name":"app","image":"demo","memory":64,
			"portMappings":[{"containerPort":8080}]}]}`,
		"api": `{"family":"api","networkMode":"bridge","containerDefinitions":[
			{"name":"sidecar","image":"demo","memory":32,"portMappings":[{"containerPort":9901}]},
			{"name":"app","image":"demo","memory":64,"portMappings":[{"containerPort":9090},{"containerPort":9091}]}]}`,
		"quiet": `{"family":"quiet","containerDefinitions":[{"name":"worker","image":"demo","memory":32}]}`,
	} {
		file := dir + "/" + name + ".json"
		os.WriteFile(file, []byte(def), 0o644)
		mustRunAll(t, e.DataDir, "taskdef", "register", "-f", file)
	}
	mustRunAll(t, e.DataDir, "lb", "create", "front", "--port", "80")
	front, err := lbs.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"front"}})
	if err != nil {
		t.Fatal(err)
	}
	lbArn := front.LoadBalancers[0].LoadBalancerArn
	listener := func(port int32) *elbtypes.Listener {
		t.Helper()
		out, err := lbs.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lbArn})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range out.Listeners {
			if aws.ToInt32(l.Port) == port {
				return &l
			}
		}
		return nil
	}
	group := func(name string) *elbtypes.TargetGroup {
		t.Helper()
		out, err := lbs.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{name}})
		if err != nil {
			return nil
		}
		return &out.TargetGroups[0]
	}
	service := func(name string) *ecs.DescribeServicesOutput {
		t.Helper()
		out, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	// The first service takes the listener's default action, in place of
	// the 503.
	_, progress := mustRunAll(t, e.DataDir, "service", "create", "web", "-t", "web", "-n", "1", "--lb", "front:80")
	if !strings.Contains(progress, "created target group web (HTTP:8080, target type instance)") ||
		!strings.Contains(progress, "listener HTTP:80 of front forwards to target group web by default\n") {
		t.Fatalf("service create --lb progress:\n%s", progress)
	}
	web := group("web")
	if web == nil || web.Protocol != elbtypes.ProtocolEnumHttp || aws.ToInt32(web.Port) != 8080 || web.TargetType != elbtypes.TargetTypeEnumInstance ||
		aws.ToString(web.HealthCheckPath) != "/" || len(web.LoadBalancerArns) != 1 || web.LoadBalancerArns[0] != aws.ToString(lbArn) {
		t.Fatalf("target group web: %+v", web)
	}
	tags, err := lbs.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{aws.ToString(web.TargetGroupArn)}})
	if err != nil || len(tags.TagDescriptions) != 1 || len(tags.TagDescriptions[0].Tags) != 1 ||
		aws.ToString(tags.TagDescriptions[0].Tags[0].Key) != "flotta:created-by" || aws.ToString(tags.TagDescriptions[0].Tags[0].Value) != "cli" {
		t.Fatalf("tags of target group web: %+v %v", tags, err)
	}
	l80 := listener(80)
	if len(l80.DefaultActions) != 1 || l80.DefaultActions[0].Type != elbtypes.ActionTypeEnumForward ||
		aws.ToString(l80.DefaultActions[0].TargetGroupArn) != aws.ToString(web.TargetGroupArn) {
		t.Fatalf("listener 80's default action: %+v", l80.DefaultActions)
	}
	if s := service("web").Services[0]; len(s.LoadBalancers) != 1 || aws.ToString(s.LoadBalancers[0].TargetGroupArn) != aws.ToString(web.TargetGroupArn) ||
		aws.ToString(s.LoadBalancers[0].ContainerName) != "app" || aws.ToInt32(s.LoadBalancers[0].ContainerPort) != 8080 {
		t.Fatalf("web's loadBalancers: %+v", s.LoadBalancers)
	}

	// The second, with a path, gets a rule; its container is named, its
	// port is that container's first.
	_, progress = mustRunAll(t, e.DataDir, "service", "create", "api", "-t", "api", "-n", "0", "--lb", "front:80", "--lb-path", "/api/*",
		"--lb-container", "app", "--lb-health-path", "/healthz")
	if !strings.Contains(progress, "listener HTTP:80 of front forwards path /api/* to target group api (rule priority 1)") {
		t.Fatalf("service create --lb-path progress:\n%s", progress)
	}
	api := group("api")
	if api == nil || aws.ToInt32(api.Port) != 9090 || aws.ToString(api.HealthCheckPath) != "/healthz" {
		t.Fatalf("target group api: %+v", api)
	}
	rules, err := lbs.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: l80.ListenerArn})
	if err != nil || len(rules.Rules) != 2 {
		t.Fatalf("rules of listener 80: %+v %v", rules, err)
	}
	for _, r := range rules.Rules {
		if aws.ToBool(r.IsDefault) {
			continue
		}
		if aws.ToString(r.Priority) != "1" || len(r.Conditions) != 1 || aws.ToString(r.Conditions[0].Field) != "path-pattern" ||
			r.Conditions[0].PathPatternConfig == nil || strings.Join(r.Conditions[0].PathPatternConfig.Values, ",") != "/api/*" ||
			len(r.Actions) != 1 || aws.ToString(r.Actions[0].TargetGroupArn) != aws.ToString(api.TargetGroupArn) {
			t.Fatalf("the path rule: %+v", r)
		}
	}
	if s := service("api").Services[0]; len(s.LoadBalancers) != 1 || aws.ToString(s.LoadBalancers[0].ContainerName) != "app" ||
		aws.ToInt32(s.LoadBalancers[0].ContainerPort) != 9090 {
		t.Fatalf("api's loadBalancers: %+v", s.LoadBalancers)
	}
	// The default action still forwards to web.
	if l := listener(80); aws.ToString(l.DefaultActions[0].TargetGroupArn) != aws.ToString(web.TargetGroupArn) {
		t.Fatalf("the path rule changed the default action: %+v", l.DefaultActions)
	}
	// A third, with a path, goes after the second.
	_, progress = mustRunAll(t, e.DataDir, "service", "create", "api2", "-t", "api", "-n", "0", "--lb", "front:80", "--lb-path", "/v2/*")
	if !strings.Contains(progress, "forwards path /v2/* to target group api2 (rule priority 2)") {
		t.Fatalf("third service's progress:\n%s", progress)
	}
	if s := service("api2").Services[0]; aws.ToString(s.LoadBalancers[0].ContainerName) != "sidecar" || aws.ToInt32(s.LoadBalancers[0].ContainerPort) != 9901 {
		t.Fatalf("without --lb-container, the first container with a port mapping: %+v", s.LoadBalancers)
	}

	// A port with no listener gets one, forwarding to the service.
	_, progress = mustRunAll(t, e.DataDir, "service", "create", "admin", "-t", "web", "-n", "0", "--lb", "front:8081")
	if !strings.Contains(progress, "created listener HTTP:8081 on front, forwarding to target group admin") {
		t.Fatalf("new listener progress:\n%s", progress)
	}
	if l := listener(8081); l == nil || aws.ToString(l.DefaultActions[0].TargetGroupArn) != aws.ToString(group("admin").TargetGroupArn) {
		t.Fatalf("listener 8081: %+v", l)
	}

	// On a listener that still answers the CLI's 503, a service with a path
	// takes the default action all the same: there is nothing else to serve.
	mustRunAll(t, e.DataDir, "lb", "create", "side", "--port", "80")
	_, progress = mustRunAll(t, e.DataDir, "service", "create", "side", "-t", "web", "-n", "0", "--lb", "side:80", "--lb-path", "/side/*")
	if !strings.Contains(progress, "listener HTTP:80 of side forwards to target group side by default for every path, not only /side/*") {
		t.Fatalf("a path on a listener with no service yet:\n%s", progress)
	}

	// A group's name is the service's as ELB allows it: hyphens, 32 at most.
	_, progress = mustRunAll(t, e.DataDir, "service", "create", "odd_name_that_is_much_longer_than_32", "-t", "web", "-n", "0", "--lb", "front:8083")
	if !strings.Contains(progress, "created target group odd-name-that-is-much-longer-tha (") || group("odd-name-that-is-much-longer-tha") == nil {
		t.Fatalf("a long service name:\n%s", progress)
	}

	// A network load balancer gets a TCP listener and a TCP group.
	mustRunAll(t, e.DataDir, "lb", "create", "back", "--type", "network")
	_, progress = mustRunAll(t, e.DataDir, "service", "create", "tcp", "-t", "web", "-n", "0", "--lb", "back:9000")
	if !strings.Contains(progress, "created target group tcp (TCP:8080, target type instance)") ||
		!strings.Contains(progress, "created listener TCP:9000 on back, forwarding to target group tcp") {
		t.Fatalf("service create --lb on a network load balancer:\n%s", progress)
	}

	// The server registers web's running task; describe shows its health.
	var target string
	flottatest.Eventually(t, 30*time.Second, "web's task registered in its target group", func() (bool, string) {
		h, err := lbs.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: web.TargetGroupArn})
		if err != nil || len(h.TargetHealthDescriptions) != 1 {
			return false, "targets: " + strings.Repeat("x", len(h.TargetHealthDescriptions))
		}
		target = aws.ToString(h.TargetHealthDescriptions[0].Target.Id)
		return true, ""
	})
	out, _ := mustRunAll(t, e.DataDir, "service", "describe", "web")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`\nLoad balancing:\n  target group web -> container app port 8080\n`),
		regexp.MustCompile(`\n  Target group web  HTTP:8080, target type instance, health check HTTP /\n`),
		regexp.MustCompile(`\n    ` + regexp.QuoteMeta(target) + `\s+\d+\s+(initial|healthy|unhealthy)\s+\S+`),
	} {
		if !want.MatchString(out) {
			t.Fatalf("service describe lacks %s:\n%s", want, out)
		}
	}
	out, _ = mustRunAll(t, e.DataDir, "service", "describe", "api")
	if !strings.Contains(out, "Target group api  HTTP:9090") || !strings.Contains(out, "\n    No targets registered.\n") {
		t.Fatalf("service describe of a service with no tasks:\n%s", out)
	}
	out, _ = mustRunAll(t, e.DataDir, "lb", "describe", "front")
	for _, want := range []string{"path-pattern /api/*", "forward to api\n", "path-pattern /v2/*", "Listener HTTP:8081", "Target group web ", "Target group api ", "Target group admin "} {
		if !strings.Contains(out, want) {
			t.Fatalf("lb describe lacks %q:\n%s", want, out)
		}
	}

	// Bad --lb settings are explained, and change nothing.
	before := e.Revision(t)
	failRun(t, e.DataDir, "task definition quiet:1 has no container with a port mapping", "service", "create", "q", "-t", "quiet", "--lb", "front:80")
	failRun(t, e.DataDir, "load balancer ghost not found (create it with: flotta lb create ghost --port 80)", "service", "create", "q", "-t", "web", "--lb", "ghost:80")
	failRun(t, e.DataDir, `--lb "front": use NAME:PORT`, "service", "create", "q", "-t", "web", "--lb", "front")
	failRun(t, e.DataDir, "--lb-path needs --lb NAME:PORT", "service", "create", "q", "-t", "web", "--lb-path", "/x")
	failRun(t, e.DataDir, "task definition api:1 has no container named nope (--lb-container)", "service", "create", "q", "-t", "api", "--lb", "front:80", "--lb-container", "nope")
	failRun(t, e.DataDir, "Unable to describe task definition", "service", "create", "q", "-t", "ghost", "--lb", "front:80")
	failRun(t, e.DataDir, "back is a network load balancer, which has no rules", "service", "create", "q", "-t", "web", "--lb", "back:9000", "--lb-path", "/x")
	if after := e.Revision(t); after != before {
		t.Fatalf("refused service creates changed the store: revision %d -> %d", before, after)
	}
	// When ECS refuses the service, the load balancer changes are taken
	// back: here a new listener and target group for a service that exists.
	failRun(t, e.DataDir, "not idempotent", "service", "create", "api2", "-t", "api", "--lb", "front:8082")
	if listener(8082) != nil {
		t.Fatal("a refused service left its new listener behind")
	}
	if g := group("api2"); g == nil || aws.ToInt32(g.Port) != 9901 {
		t.Fatalf("a refused service changed an existing target group: %+v", g)
	}

	// lb rm deletes the groups the CLI made; the services' describe says
	// their groups are gone.
	out, _ = mustRunAll(t, e.DataDir, "lb", "rm", "front")
	for _, name := range []string{"web", "api", "api2", "admin", "odd-name-that-is-much-longer-tha"} {
		if !strings.Contains(out, "deleted target group "+name+"\n") || group(name) != nil {
			t.Fatalf("lb rm did not delete target group %s:\n%s", name, out)
		}
	}
	out, _ = mustRunAll(t, e.DataDir, "service", "describe", "web")
	if !strings.Contains(out, "TargetGroupNotFound") {
		t.Fatalf("service describe after lb rm:\n%s", out)
	}
}

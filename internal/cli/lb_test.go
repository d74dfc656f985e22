package cli_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/flotta-dev/flotta/internal/cli"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// elbClient is an ELBv2 client of the test server's root user, to check
// what the CLI did through the API.
func elbClient(e *flottatest.Env) *elb.Client {
	creds := credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	return elb.New(elb.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()),
		Credentials: creds, HTTPClient: e.HTTP, RetryMaxAttempts: 1})
}

// mustRunAll runs a command that has to succeed.
func mustRunAll(t *testing.T, dataDir string, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := runAll(t, dataDir, args...)
	if err != nil {
		t.Fatalf("flotta %s: %s\n%s%s", strings.Join(args, " "), cli.Explain(err), out, errOut)
	}
	return out, errOut
}

// failRun runs a command that has to fail with an error line holding want.
func failRun(t *testing.T, dataDir, want string, args ...string) {
	t.Helper()
	out, _, err := runAll(t, dataDir, args...)
	if err == nil || !strings.Contains(cli.Explain(err), want) {
		t.Fatalf("flotta %s: want an error with %q, got %v\n%s", strings.Join(args, " "), want, err, out)
	}
}

func TestLBVerbs(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	lbs := elbClient(e)

	out, _ := mustRunAll(t, e.DataDir, "lb", "create", "front", "--port", "80")
	if !regexp.MustCompile(`ARN:\s+arn:aws:elasticloadbalancing:[^:]+:\d+:loadbalancer/app/front/\S+\n`).MatchString(out) ||
		!regexp.MustCompile(`DNS name:\s+front-[0-9a-f]+\.\S+\.elb\.localhost\n`).MatchString(out) ||
		!strings.Contains(out, `Listener:    HTTP:80 -> fixed response 503 "no service is attached yet"`) {
		t.Fatalf("lb create:\n%s", out)
	}
	// The listener answers 503 until a service is attached.
	described, err := lbs.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"front"}})
	if err != nil {
		t.Fatal(err)
	}
	front := described.LoadBalancers[0]
	listeners, err := lbs.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: front.LoadBalancerArn})
	if err != nil || len(listeners.Listeners) != 1 {
		t.Fatalf("listeners of front: %v %v", listeners, err)
	}
	l := listeners.Listeners[0]
	if l.Protocol != elbtypes.ProtocolEnumHttp || aws.ToInt32(l.Port) != 80 || len(l.DefaultActions) != 1 ||
		l.DefaultActions[0].Type != elbtypes.ActionTypeEnumFixedResponse || aws.ToString(l.DefaultActions[0].FixedResponseConfig.StatusCode) != "503" {
		t.Fatalf("front's listener: %+v", l)
	}
	// Creating it again shows it.
	again, _ := mustRunAll(t, e.DataDir, "lb", "create", "front", "--port", "80")
	if again != out {
		t.Fatalf("lb create again:\n%s\nfirst:\n%s", again, out)
	}
	mustRunAll(t, e.DataDir, "lb", "create", "back", "--type", "network")

	out, _ = mustRunAll(t, e.DataDir, "lb", "ls")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^NAME\s+TYPE\s+STATE\s+DNS NAME\s+LISTENERS$`).MatchString(lines[0]) {
		t.Fatalf("lb ls:\n%s", out)
	}
	rows := map[string][]string{}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		rows[f[0]] = f
	}
	if f := rows["front"]; len(f) != 5 || f[1] != "application" || f[2] != "active" || f[3] != aws.ToString(front.DNSName) || f[4] != "HTTP:80" {
		t.Fatalf("lb ls row of front: %q\n%s", f, out)
	}
	if f := rows["back"]; len(f) != 5 || f[1] != "network" || f[4] != "-" {
		t.Fatalf("lb ls row of back: %q\n%s", f, out)
	}
	out, _ = mustRunAll(t, e.DataDir, "lb", "ls", "-o", "json")
	var doc struct {
		LoadBalancers []struct {
			LoadBalancer struct {
				LoadBalancerName string `json:"loadBalancerName"`
			} `json:"loadBalancer"`
			Listeners []struct {
				Port int `json:"port"`
			} `json:"listeners"`
		} `json:"loadBalancers"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.LoadBalancers) != 2 {
		t.Fatalf("lb ls -o json: %v\n%s", err, out)
	}
	for _, v := range doc.LoadBalancers {
		if v.LoadBalancer.LoadBalancerName == "front" && (len(v.Listeners) != 1 || v.Listeners[0].Port != 80) {
			t.Fatalf("lb ls -o json, front's listeners:\n%s", out)
		}
	}

	// A target group made without the CLI, forwarded to by a rule.
	tg, err := lbs.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("manual"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), TargetType: elbtypes.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	manual := tg.TargetGroups[0].TargetGroupArn
	if _, err := lbs.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(5),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("host-header"), Values: []string{"manual.example"}}},
		Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: manual}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lbs.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: manual, Targets: []elbtypes.TargetDescription{{Id: aws.String("10.0.0.5")}}}); err != nil {
		t.Fatal(err)
	}
	out, _ = mustRunAll(t, e.DataDir, "lb", "describe", "front")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`Name:\s+front\n`),
		regexp.MustCompile(`State:\s+active\n`),
		regexp.MustCompile(`Listener HTTP:80  arn:\S+:listener/app/front/`),
		regexp.MustCompile(`\n  5\s+host-header manual\.example\s+forward to manual\n`),
		regexp.MustCompile(`\n  default\s+-\s+fixed response 503 "no service is attached yet"\n`),
		regexp.MustCompile(`Target group manual  HTTP:8080, target type ip, health check HTTP /\n`),
		regexp.MustCompile(`\n  10\.0\.0\.5\s+8080\s+\w+\s+\S+`),
	} {
		if !want.MatchString(out) {
			t.Fatalf("lb describe lacks %s:\n%s", want, out)
		}
	}
	// The rule comes before the default in the listener's table.
	if strings.Index(out, "host-header") > strings.Index(out, "default ") {
		t.Fatalf("lb describe: the default rule is not last:\n%s", out)
	}
	out, _ = mustRunAll(t, e.DataDir, "lb", "describe", "front", "-o", "json")
	if !strings.Contains(out, `"targetHealthDescriptions"`) || !strings.Contains(out, `"10.0.0.5"`) || !strings.Contains(out, `"rules"`) {
		t.Fatalf("lb describe -o json:\n%s", out)
	}

	// Bad input is explained before anything is made.
	failRun(t, e.DataDir, "--type must be application or network", "lb", "create", "x", "--type", "classic")
	failRun(t, e.DataDir, "needs --certificate", "lb", "create", "x", "--port", "443", "--protocol", "HTTPS")
	failRun(t, e.DataDir, "give its --port too", "lb", "create", "x", "--protocol", "HTTPS")
	failRun(t, e.DataDir, "can only forward", "lb", "create", "x", "--type", "network", "--port", "80")
	failRun(t, e.DataDir, "load balancer ghost not found", "lb", "describe", "ghost")
	failRun(t, e.DataDir, "load balancer ghost not found", "lb", "rm", "ghost")
	// The server's refusals come through in ELB's words.
	failRun(t, e.DataDir, "DuplicateLoadBalancer", "lb", "create", "front", "--type", "network")
	if all, err := lbs.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err != nil || len(all.LoadBalancers) != 2 {
		t.Fatalf("refused creates made load balancers: %v %v", all, err)
	}

	// rm keeps a target group the CLI did not make.
	out, _ = mustRunAll(t, e.DataDir, "lb", "rm", "front")
	if !strings.Contains(out, "deleted load balancer front") || !strings.Contains(out, "kept target group manual (not made by the flotta CLI)") {
		t.Fatalf("lb rm:\n%s", out)
	}
	if _, err := lbs.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"front"}}); err == nil {
		t.Fatal("front is still there after lb rm")
	}
	if _, err := lbs.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{aws.ToString(manual)}}); err != nil {
		t.Fatalf("lb rm deleted a target group the CLI did not make: %v", err)
	}
	out, _ = mustRunAll(t, e.DataDir, "lb", "ls")
	if strings.Contains(out, "front") || !strings.Contains(out, "back") {
		t.Fatalf("lb ls after rm:\n%s", out)
	}
}

// TestLBCreateHTTPS: an HTTPS listener serves the IAM server certificate
// --certificate names, and shows it in ls and describe.
func TestLBCreateHTTPS(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	iams := iam.New(iam.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()), Credentials: creds,
		HTTPClient: e.HTTP, RetryMaxAttempts: 1})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "secure.example"}, DNSNames: []string{"secure.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	up, err := iams.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("secure"),
		CertificateBody: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))),
		PrivateKey:      aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))})
	if err != nil {
		t.Fatal(err)
	}
	cert := aws.ToString(up.ServerCertificateMetadata.Arn)

	failRun(t, e.DataDir, "--certificate is for an HTTPS listener", "lb", "create", "secure", "--port", "443", "--certificate", cert)
	out, _ := mustRunAll(t, e.DataDir, "lb", "create", "secure", "--port", "443", "--protocol", "HTTPS", "--certificate", cert)
	if !strings.Contains(out, `Listener:    HTTPS:443 -> fixed response 503 "no service is attached yet"`) {
		t.Fatalf("lb create HTTPS:\n%s", out)
	}
	lb, err := elbClient(e).DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"secure"}})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := elbClient(e).DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn})
	if err != nil || len(ls.Listeners) != 1 || ls.Listeners[0].Protocol != elbtypes.ProtocolEnumHttps || len(ls.Listeners[0].Certificates) != 1 ||
		aws.ToString(ls.Listeners[0].Certificates[0].CertificateArn) != cert {
		t.Fatalf("the HTTPS listener: %+v %v", ls, err)
	}
	if out, _ = mustRunAll(t, e.DataDir, "lb", "ls"); !strings.Contains(out, "HTTPS:443") {
		t.Fatalf("lb ls:\n%s", out)
	}
	if out, _ = mustRunAll(t, e.DataDir, "lb", "describe", "secure"); !strings.Contains(out, "\n  certificate  "+cert+"\n") {
		t.Fatalf("lb describe:\n%s", out)
	}
	// The load balancer is made even when its listener is refused, and the
	// error says so.
	failRun(t, e.DataDir, "load balancer other was created, but not its listener: CertificateNotFound: Certificate", "lb", "create", "other", "--port", "443", "--protocol", "HTTPS",
		"--certificate", cert+"-missing")
}

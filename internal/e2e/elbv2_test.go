package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestELBWithAWSCLIAndBoto3: Debian's AWS CLI makes a load balancer, a
// target group, an HTTP listener, an HTTPS one serving a certificate it
// uploaded to IAM (a key given as the certificate is MalformedCertificate)
// and a rule, registers targets and reads their
// health (unused while no listener forwards to the group, then initial),
// gets ELB's DuplicateListener for a taken port and ResourceInUse for a
// group in use, and deletes it all, its waiters (load-balancer-available,
// target-deregistered, load-balancers-deleted) returning at once; boto3
// reads the same objects, pages load balancers and gets
// TargetGroupNotFound.
func TestELBWithAWSCLIAndBoto3(t *testing.T) {
	requireClients(t)
	srv := serverWith(t, t.TempDir(), "--account-id", "123456789012")
	env := clientEnv(srv)
	aws := func(args ...string) (string, string, error) { return awsCLI(srv, env, args...) }
	must := func(into any, args ...string) { t.Helper(); awsMust(t, srv, env, into, args...) }
	var lbs struct {
		LoadBalancers []struct{ LoadBalancerArn, DNSName string }
	}
	must(&lbs, "elbv2", "create-load-balancer", "--name", "cli-web", "--subnets", "subnet-1", "subnet-2")
	if len(lbs.LoadBalancers) != 1 || !strings.HasPrefix(lbs.LoadBalancers[0].LoadBalancerArn, "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/cli-web/") {
		t.Fatalf("create-load-balancer: %+v", lbs)
	}
	lbArn := lbs.LoadBalancers[0].LoadBalancerArn
	must(nil, "elbv2", "wait", "load-balancer-available", "--load-balancer-arns", lbArn)
	var tgs struct {
		TargetGroups []struct{ TargetGroupArn string }
	}
	must(&tgs, "elbv2", "create-target-group", "--name", "cli-blue", "--protocol", "HTTP", "--port", "8080", "--target-type", "ip", "--health-check-path", "/healthz")
	tgArn := tgs.TargetGroups[0].TargetGroupArn
	must(nil, "elbv2", "register-targets", "--target-group-arn", tgArn, "--targets", "Id=10.0.0.1", "Id=10.0.0.2,Port=9090")
	var th struct {
		TargetHealthDescriptions []struct {
			TargetHealth struct{ State, Reason string }
		}
	}
	must(&th, "elbv2", "describe-target-health", "--target-group-arn", tgArn)
	if len(th.TargetHealthDescriptions) != 2 || th.TargetHealthDescriptions[0].TargetHealth.Reason != "Target.NotInUse" {
		t.Fatalf("describe-target-health before a listener: %+v", th)
	}
	var ls struct {
		Listeners []struct{ ListenerArn string }
	}
	must(&ls, "elbv2", "create-listener", "--load-balancer-arn", lbArn, "--protocol", "HTTP", "--port", "80",
		"--default-actions", "Type=forward,TargetGroupArn="+tgArn)
	listenerArn := ls.Listeners[0].ListenerArn
	var rules struct {
		Rules []struct{ RuleArn, Priority string }
	}
	must(&rules, "elbv2", "create-rule", "--listener-arn", listenerArn, "--priority", "10",
		"--conditions", "Field=path-pattern,Values=/api/*", "--actions", "Type=fixed-response,FixedResponseConfig={StatusCode=418,ContentType=text/plain,MessageBody=teapot}")
	if len(rules.Rules) != 1 || rules.Rules[0].Priority != "10" {
		t.Fatalf("create-rule: %+v", rules)
	}
	must(&th, "elbv2", "describe-target-health", "--target-group-arn", tgArn)
	// The server's own data plane may have begun to check them already.
	if h := th.TargetHealthDescriptions[0].TargetHealth; h.State != "initial" || (h.Reason != "Elb.RegistrationInProgress" && h.Reason != "Elb.InitialHealthChecking") {
		t.Fatalf("describe-target-health with a listener: %+v", th)
	}
	certFile, keyFile := writeCertificate(t)
	var uploaded struct{ ServerCertificateMetadata struct{ Arn string } }
	must(&uploaded, "iam", "upload-server-certificate", "--server-certificate-name", "cli-web",
		"--certificate-body", "file://"+certFile, "--private-key", "file://"+keyFile)
	if out, errOut, err := aws("iam", "upload-server-certificate", "--server-certificate-name", "bad",
		"--certificate-body", "file://"+keyFile, "--private-key", "file://"+keyFile); err == nil || !strings.Contains(errOut, "MalformedCertificate") {
		t.Fatalf("upload of a key as a certificate: %v\n%s%s", err, out, errOut)
	}
	must(&ls, "elbv2", "create-listener", "--load-balancer-arn", lbArn, "--protocol", "HTTPS", "--port", "443",
		"--certificates", "CertificateArn="+uploaded.ServerCertificateMetadata.Arn, "--default-actions", "Type=forward,TargetGroupArn="+tgArn)
	if out, errOut, err := aws("elbv2", "create-listener", "--load-balancer-arn", lbArn, "--protocol", "HTTP", "--port", "80",
		"--default-actions", "Type=forward,TargetGroupArn="+tgArn); err == nil || !strings.Contains(errOut, "DuplicateListener") {
		t.Fatalf("a second listener on port 80: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := aws("elbv2", "delete-target-group", "--target-group-arn", tgArn); err == nil || !strings.Contains(errOut, "ResourceInUse") {
		t.Fatalf("delete-target-group in use: %v\n%s%s", err, out, errOut)
	}

	py := exec.Command("/usr/bin/python3", "-c", `
import sys, boto3, botocore
elb = boto3.client("elbv2", endpoint_url=sys.argv[1])
lb = elb.describe_load_balancers(Names=["cli-web"])["LoadBalancers"][0]
assert lb["State"]["Code"] == "active" and lb["Type"] == "application", lb
ls = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
assert [l["Port"] for l in ls] == [80, 443], ls
assert ls[1]["Certificates"][0]["CertificateArn"].startswith("arn:aws:iam::123456789012:server-certificate/cli-web"), ls
rules = elb.describe_rules(ListenerArn=[l for l in ls if l["Port"] == 80][0]["ListenerArn"])["Rules"]
assert [r["Priority"] for r in rules] == ["10", "default"], rules
assert rules[0]["Actions"][0]["FixedResponseConfig"]["StatusCode"] == "418", rules
tg = elb.describe_target_groups(Names=["cli-blue"])["TargetGroups"][0]
assert tg["HealthCheckPath"] == "/healthz" and tg["LoadBalancerArns"] == [lb["LoadBalancerArn"]], tg
ports = sorted(d["Target"]["Port"] for d in elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"])
assert ports == [8080, 9090], ports
for i in range(3):
    elb.create_load_balancer(Name="py-%d" % i)
names = [l["LoadBalancerName"] for page in elb.get_paginator("describe_load_balancers").paginate(PaginationConfig={"PageSize": 2}) for l in page["LoadBalancers"]]
assert names == ["cli-web", "py-0", "py-1", "py-2"], names
try:
    elb.describe_target_groups(TargetGroupArns=[tg["TargetGroupArn"][:-16] + "0000000000000000"])
    sys.exit("a missing target group was described")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "TargetGroupNotFound", e.response
print("boto3", boto3.__version__, "ok")
`, srv.endpoint)
	py.Env = env
	out, err := py.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}

	must(nil, "elbv2", "modify-target-group-attributes", "--target-group-arn", tgArn, "--attributes", "Key=deregistration_delay.timeout_seconds,Value=0")
	must(nil, "elbv2", "deregister-targets", "--target-group-arn", tgArn, "--targets", "Id=10.0.0.1")
	must(nil, "elbv2", "wait", "target-deregistered", "--target-group-arn", tgArn, "--targets", "Id=10.0.0.1")
	must(nil, "elbv2", "delete-load-balancer", "--load-balancer-arn", lbArn)
	must(nil, "elbv2", "wait", "load-balancers-deleted", "--load-balancer-arns", lbArn)
	must(nil, "elbv2", "delete-target-group", "--target-group-arn", tgArn)
	if out, errOut, err := aws("elbv2", "describe-listeners", "--listener-arns", listenerArn); err == nil || !strings.Contains(errOut, "ListenerNotFound") {
		t.Fatalf("describe-listeners after the load balancer was deleted: %v\n%s%s", err, out, errOut)
	}
	t.Logf("%s; aws %s", strings.TrimSpace(string(out)), strings.TrimSpace(version()))
}

// writeCertificate writes a self-signed certificate and its key as PEM
// files for the CLI's file:// arguments.
func writeCertificate(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "web.example"}, DNSNames: []string{"web.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

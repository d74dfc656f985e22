package elbv2_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestErrorCodes: each refusal ELB has a code for, provoked through the
// SDK, answers with that code (as the SDK maps it to a typed error) and
// changes nothing in the store.
func TestErrorCodes(t *testing.T) {
	e := start(t)
	lb := e.loadBalancer(t, "web", "application")
	nlb := e.loadBalancer(t, "tcp", "network")
	tg := e.targetGroup(t, "blue", "HTTP", types.TargetTypeEnumIp)
	tcp := e.targetGroup(t, "raw", "TCP", types.TargetTypeEnumIp)
	l := e.listener(t, *lb.LoadBalancerArn, "HTTP", 80, forward(*tg.TargetGroupArn))
	e.listener(t, *nlb.LoadBalancerArn, "TCP", 5432, forward(*tcp.TargetGroupArn))
	rule, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(5), Conditions: pathRule("/a"),
		Actions: forward(*tg.TargetGroupArn)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1"), Port: aws.Int32(80)}}}); err != nil {
		t.Fatal(err)
	}
	ghost := func(arn string) string { return arn[:len(arn)-16] + "ffffffffffffffff" }
	ghostLB, ghostTG, ghostListener, ghostRule := ghost(*lb.LoadBalancerArn), ghost(*tg.TargetGroupArn), ghost(*l.ListenerArn), ghost(*rule.Rules[0].RuleArn)
	fixed := []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}

	cases := []struct {
		name, code string
		call       func() error
	}{
		{"LoadBalancerNotFound", "LoadBalancerNotFound", func() error {
			_, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{ghostLB}})
			return err
		}},
		{"LoadBalancerNotFound/CreateListener", "LoadBalancerNotFound", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(ghostLB), Protocol: "HTTP", Port: aws.Int32(81), DefaultActions: fixed})
			return err
		}},
		{"TargetGroupNotFound", "TargetGroupNotFound", func() error {
			_, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(ghostTG), Targets: []types.TargetDescription{{Id: aws.String("10.0.0.2")}}})
			return err
		}},
		{"TargetGroupNotFound/forward", "TargetGroupNotFound", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(81), DefaultActions: forward(ghostTG)})
			return err
		}},
		{"ListenerNotFound", "ListenerNotFound", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(ghostListener), Priority: aws.Int32(6), Conditions: pathRule("/b"), Actions: fixed})
			return err
		}},
		{"RuleNotFound", "RuleNotFound", func() error {
			_, err := e.elb.DeleteRule(e.ctx, &elb.DeleteRuleInput{RuleArn: aws.String(ghostRule)})
			return err
		}},
		{"DuplicateLoadBalancerName", "DuplicateLoadBalancerName", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Scheme: types.LoadBalancerSchemeEnumInternal})
			return err
		}},
		{"DuplicateTargetGroupName", "DuplicateTargetGroupName", func() error {
			_, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String("blue"), Protocol: "HTTP", Port: aws.Int32(9090), TargetType: types.TargetTypeEnumIp})
			return err
		}},
		{"DuplicateListener", "DuplicateListener", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(80), DefaultActions: fixed})
			return err
		}},
		{"PriorityInUse", "PriorityInUse", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(5), Conditions: pathRule("/b"), Actions: fixed})
			return err
		}},
		{"ResourceInUse", "ResourceInUse", func() error {
			_, err := e.elb.DeleteTargetGroup(e.ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn})
			return err
		}},
		{"InvalidTarget", "InvalidTarget", func() error {
			_, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("i-0123456789abcdef0")}}})
			return err
		}},
		{"CertificateNotFound", "CertificateNotFound", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTPS", Port: aws.Int32(443), DefaultActions: fixed,
				Certificates: []types.Certificate{{CertificateArn: aws.String("arn:aws:iam::123456789012:server-certificate/nope")}}})
			return err
		}},
		{"IncompatibleProtocols", "IncompatibleProtocols", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(81), DefaultActions: forward(*tcp.TargetGroupArn)})
			return err
		}},
		{"UnsupportedProtocol", "UnsupportedProtocol", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: nlb.LoadBalancerArn, Protocol: "UDP", Port: aws.Int32(53), DefaultActions: forward(*tcp.TargetGroupArn)})
			return err
		}},
		{"UnsupportedProtocol/target group", "UnsupportedProtocol", func() error {
			_, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String("tls"), Protocol: "TLS", Port: aws.Int32(443)})
			return err
		}},
		{"InvalidConfigurationRequest", "InvalidConfigurationRequest", func() error {
			_, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String("fn"), TargetType: types.TargetTypeEnumLambda})
			return err
		}},
		{"ValidationError/listener protocol for the type", "ValidationError", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "TCP", Port: aws.Int32(81), DefaultActions: forward(*tcp.TargetGroupArn)})
			return err
		}},
		{"OperationNotPermitted", "OperationNotPermitted", func() error {
			rules, _ := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
			_, err := e.elb.DeleteRule(e.ctx, &elb.DeleteRuleInput{RuleArn: rules.Rules[len(rules.Rules)-1].RuleArn})
			return err
		}},
		{"InvalidLoadBalancerAction", "InvalidLoadBalancerAction", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(7), Conditions: pathRule("/r"),
				Actions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnumHttp302}}}})
			return err
		}},
		{"TargetGroupAssociationLimit", "TargetGroupAssociationLimit", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: nlb.LoadBalancerArn, Protocol: "TCP", Port: aws.Int32(80), DefaultActions: forward(*tcp.TargetGroupArn)})
			other := e.loadBalancer(t, "other", "network")
			_, err = e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: other.LoadBalancerArn, Protocol: "TCP", Port: aws.Int32(80), DefaultActions: forward(*tcp.TargetGroupArn)})
			return err
		}},
		{"SSLPolicyNotFound", "SSLPolicyNotFound", func() error {
			cert := e.certificate(t, "pol")
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTPS", Port: aws.Int32(443), DefaultActions: fixed,
				SslPolicy: aws.String("NoSuchPolicy"), Certificates: []types.Certificate{{CertificateArn: aws.String(cert)}}})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.code == "TargetGroupAssociationLimit" || c.code == "SSLPolicyNotFound" {
				err = c.call() // these make what they need first
			} else {
				e.unchanged(t, c.name, func() { err = c.call() })
			}
			if code(err) != c.code {
				t.Fatalf("got %v, want %s", err, c.code)
			}
		})
	}
}

// TestQuotas: the 101st rule of a load balancer is TooManyRules and the
// 1001st target of a group TooManyTargets, each changing nothing.
func TestQuotas(t *testing.T) {
	e := start(t)
	lb := e.loadBalancer(t, "web", "application")
	tg := e.targetGroup(t, "blue", "HTTP", types.TargetTypeEnumIp)
	l := e.listener(t, *lb.LoadBalancerArn, "HTTP", 80, forward(*tg.TargetGroupArn))
	fixed := []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}
	for i := 1; i <= 100; i++ {
		if _, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(int32(i)), Conditions: pathRule(fmt.Sprintf("/%d", i)), Actions: fixed}); err != nil {
			t.Fatalf("rule %d: %v", i, err)
		}
	}
	e.unchanged(t, "the 101st rule", func() {
		_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(101), Conditions: pathRule("/x"), Actions: fixed})
		if code(err) != "TooManyRules" {
			t.Errorf("101st rule: %v", err)
		}
	})
	var targets []types.TargetDescription
	for i := range 1000 {
		targets = append(targets, types.TargetDescription{Id: aws.String(fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))})
	}
	if _, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: targets}); err != nil {
		t.Fatal(err)
	}
	e.unchanged(t, "the 1001st target", func() {
		_, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("10.9.0.1")}}})
		if code(err) != "TooManyTargets" {
			t.Errorf("1001st target: %v", err)
		}
	})
}

// TestCertificateErrors: IAM refuses a certificate that does not parse
// (MalformedCertificate) and a key that is not the certificate's
// (KeyPairMismatch, IAM's code for it), storing nothing; a certificate a
// listener serves cannot be deleted (DeleteConflict); the key is never
// answered.
func TestCertificateErrors(t *testing.T) {
	e := start(t)
	cert, key := selfSigned(t, "a.example")
	_, otherKey := selfSigned(t, "b.example")
	e.unchanged(t, "a malformed certificate", func() {
		_, err := e.iam.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("bad"),
			CertificateBody: aws.String("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), PrivateKey: aws.String(key)})
		if code(err) != "MalformedCertificate" {
			t.Errorf("malformed certificate: %v", err)
		}
	})
	e.unchanged(t, "a mismatched key", func() {
		_, err := e.iam.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("bad"),
			CertificateBody: aws.String(cert), PrivateKey: aws.String(otherKey)})
		if code(err) != "KeyPairMismatch" {
			t.Errorf("mismatched key: %v", err)
		}
	})
	for name, in := range map[string]*iam.UploadServerCertificateInput{
		"a name with a space":    {ServerCertificateName: aws.String("a b"), CertificateBody: aws.String(cert), PrivateKey: aws.String(key)},
		"a path without slashes": {ServerCertificateName: aws.String("p"), Path: aws.String("prod"), CertificateBody: aws.String(cert), PrivateKey: aws.String(key)},
		"a chain that does not parse": {ServerCertificateName: aws.String("c"), CertificateBody: aws.String(cert), PrivateKey: aws.String(key),
			CertificateChain: aws.String("garbage")},
		"a key that does not parse": {ServerCertificateName: aws.String("k"), CertificateBody: aws.String(cert), PrivateKey: aws.String("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")},
	} {
		want := "ValidationError"
		if strings.Contains(name, "parse") {
			want = "MalformedCertificate"
		}
		e.unchanged(t, name, func() {
			if _, err := e.iam.UploadServerCertificate(e.ctx, in); code(err) != want {
				t.Errorf("%s: %v, want %s", name, err, want)
			}
		})
	}
	arn := e.certificate(t, "web")
	if _, err := e.iam.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("web"),
		CertificateBody: aws.String(cert), PrivateKey: aws.String(key)}); code(err) != "EntityAlreadyExists" {
		t.Fatalf("a second upload under the name: %v", err)
	}
	got, err := e.iam.GetServerCertificate(e.ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("web")})
	if err != nil || *got.ServerCertificate.ServerCertificateMetadata.Arn != arn || !strings.Contains(*got.ServerCertificate.CertificateBody, "BEGIN CERTIFICATE") {
		t.Fatalf("get: %+v %v", got, err)
	}
	list, err := e.iam.ListServerCertificates(e.ctx, &iam.ListServerCertificatesInput{})
	if err != nil || len(list.ServerCertificateMetadataList) != 1 || list.ServerCertificateMetadataList[0].Expiration == nil {
		t.Fatalf("list: %+v %v", list, err)
	}
	raw, _ := e.Server.State().GetServerCertificate(e.ctx, "web")
	if strings.Contains(raw.SealedPrivateKey, "PRIVATE KEY") {
		t.Fatal("the private key is stored in the clear")
	}

	lb := e.loadBalancer(t, "web", "application")
	l, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTPS", Port: aws.Int32(443),
		Certificates:   []types.Certificate{{CertificateArn: aws.String(arn)}},
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.DeleteServerCertificate(e.ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String("web")}); code(err) != "DeleteConflict" {
		t.Fatalf("delete in use: %v", err)
	}
	if _, err := e.elb.DeleteListener(e.ctx, &elb.DeleteListenerInput{ListenerArn: l.Listeners[0].ListenerArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.DeleteServerCertificate(e.ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.GetServerCertificate(e.ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("web")}); code(err) != "NoSuchEntity" {
		t.Fatalf("get after delete: %v", err)
	}
}

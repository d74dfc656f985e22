package dnssync_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/flotta-dev/flotta/internal/dns"
	"github.com/flotta-dev/flotta/internal/state"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// seedNamespace creates a private DNS namespace straight in the store, as
// the operation completer would.
func seedNamespace(t testing.TB, st *state.State, id, name string) {
	t.Helper()
	ctx := context.Background()
	op := state.SDOperation{ID: "op-" + id, Type: state.SDOpCreateNamespace, Status: state.SDOpSubmitted, CreateDate: time.Now(), UpdateDate: time.Now(),
		Targets:   map[string]string{"NAMESPACE": id},
		Namespace: &state.SDNamespace{ID: id, Arn: "arn:aws:servicediscovery:us-east-1:123456789012:namespace/" + id, Name: name, Type: "DNS_PRIVATE", HTTPName: name, SOATTL: 15, CreateDate: time.Now()}}
	if err := st.SubmitSDNamespace(ctx, op); err != nil {
		t.Fatal(err)
	}
	if done, err := st.CompleteSDOperation(ctx, op.ID); err != nil || done.Status != state.SDOpSuccess {
		t.Fatalf("complete the namespace: %v %+v", err, done)
	}
}

func seedService(t testing.TB, st *state.State, nsID, id, name, policy string, records ...state.SDDnsRecord) {
	t.Helper()
	if err := st.CreateSDService(context.Background(), state.SDService{ID: id, Arn: "arn:aws:servicediscovery:us-east-1:123456789012:service/" + id,
		Name: name, NamespaceID: nsID, Type: "DNS_HTTP", RoutingPolicy: policy, DnsRecords: records, CreateDate: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func put(t testing.TB, st *state.State, svc, id string, attrs map[string]string) {
	t.Helper()
	if err := st.PutSDInstance(context.Background(), state.SDInstance{ServiceID: svc, ID: id, Attributes: attrs, UpdateDate: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// answer asks the server and returns the answer section's values (the
// last field of each record), sorted.
func answer(t testing.TB, addr, name, qtype string) (string, []string) {
	t.Helper()
	a, err := dns.Query(context.Background(), addr, name, qtype)
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, l := range a.Records {
		f := strings.Fields(l)
		vals = append(vals, strings.Join(f[4:], " "))
	}
	sort.Strings(vals)
	return a.Rcode, vals
}

func eventually(t testing.TB, addr, name, qtype string, want ...string) {
	t.Helper()
	sort.Strings(want)
	flottatest.Eventually(t, 5*time.Second, fmt.Sprintf("%s %s to answer %v", name, qtype, want), func() (bool, string) {
		rcode, got := answer(t, addr, name, qtype)
		return slices.Equal(got, want), rcode + " " + fmt.Sprint(got)
	})
}

// TestCloudMapRecordsAreServed follows a namespace's services and
// instances into DNS answers: A records per instance, SRV records with
// their targets' addresses, health, deregistration, and the namespace's
// deletion.
func TestCloudMapRecordsAreServed(t *testing.T) {
	env := flottatest.StartServer(t, flottatest.Options{DNS: true})
	st, addr := env.Server.State(), env.Server.DNSAddr()
	ctx := context.Background()
	seedNamespace(t, st, "ns-aaaaaaaaaaaaaaaa", "Corp.Internal")
	seedService(t, st, "ns-aaaaaaaaaaaaaaaa", "srv-aaaaaaaaaaaaaaaa", "web", "MULTIVALUE", state.SDDnsRecord{Type: "A", TTL: 30})
	seedService(t, st, "ns-aaaaaaaaaaaaaaaa", "srv-bbbbbbbbbbbbbbbb", "db", "MULTIVALUE", state.SDDnsRecord{Type: "SRV", TTL: 10})

	// The namespace is a zone with its SOA before any instance registers.
	flottatest.Eventually(t, 5*time.Second, "the namespace's zone to be served", func() (bool, string) {
		rcode, _ := answer(t, addr, "corp.internal", "SOA")
		return rcode == "NOERROR", rcode
	})
	if rcode, _ := answer(t, addr, "web.corp.internal", "A"); rcode != "NXDOMAIN" {
		t.Fatalf("a service without instances answers %s, want NXDOMAIN", rcode)
	}

	put(t, st, "srv-aaaaaaaaaaaaaaaa", "i-1", map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"})
	put(t, st, "srv-aaaaaaaaaaaaaaaa", "i-2", map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.2"})
	eventually(t, addr, "web.corp.internal", "A", "10.0.0.1", "10.0.0.2")
	a, err := dns.Query(ctx, addr, "web.corp.internal", "A")
	if err != nil || !a.Authoritative || !strings.Contains(a.Records[0], "\t30\t") {
		t.Fatalf("want an authoritative answer with TTL 30: %v %+v", err, a)
	}

	put(t, st, "srv-bbbbbbbbbbbbbbbb", "db-1", map[string]string{"AWS_INSTANCE_IPV4": "10.0.1.1", "AWS_INSTANCE_PORT": "32768"})
	eventually(t, addr, "db.corp.internal", "SRV", "1 1 32768 db-1.db.corp.internal.")
	eventually(t, addr, "db-1.db.corp.internal", "A", "10.0.1.1")

	// An unhealthy instance leaves the answers (while another is healthy).
	if _, err := st.UpdateSDInstance(ctx, "srv-aaaaaaaaaaaaaaaa", "i-2", func(i *state.SDInstance) error { i.CustomHealth = "UNHEALTHY"; return nil }); err != nil {
		t.Fatal(err)
	}
	eventually(t, addr, "web.corp.internal", "A", "10.0.0.1")

	// Deregistration.
	if _, err := st.DeleteSDInstance(ctx, "srv-aaaaaaaaaaaaaaaa", "i-1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, addr, "web.corp.internal", "A", "10.0.0.2") // only the unhealthy one is left: answered as Route 53 does
	if _, err := st.DeleteSDInstance(ctx, "srv-aaaaaaaaaaaaaaaa", "i-2"); err != nil {
		t.Fatal(err)
	}
	eventually(t, addr, "web.corp.internal", "A")

	// Names outside every zone are refused: no recursion.
	if rcode, _ := answer(t, addr, "example.com", "A"); rcode != "REFUSED" {
		t.Fatalf("a name Flotta does not own: %s, want REFUSED", rcode)
	}
}

// BenchmarkRecordChangeToAnswer measures how long a registration takes to
// reach the DNS answers when the namespace holds 10,000 instances: from
// the store's commit of the change until a query answers it.
func BenchmarkRecordChangeToAnswer(b *testing.B) {
	env := flottatest.StartServer(b, flottatest.Options{DNS: true})
	st, addr := env.Server.State(), env.Server.DNSAddr()
	seedNamespace(b, st, "ns-bbbbbbbbbbbbbbbb", "big.internal")
	const services, each = 10, 1000
	for s := range services {
		seedService(b, st, "ns-bbbbbbbbbbbbbbbb", fmt.Sprintf("srv-big%013d", s), fmt.Sprintf("svc%d", s), "MULTIVALUE", state.SDDnsRecord{Type: "A", TTL: 60})
	}
	// Eight writers at once: the seeding is not what is measured.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < services*each; k += 8 {
				s, i := k/each, k%each
				put(b, st, fmt.Sprintf("srv-big%013d", s), fmt.Sprintf("i-%d", i), map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("10.%d.%d.%d", s, i/250, i%250+1)})
			}
		}()
	}
	wg.Wait()
	seedService(b, st, "ns-bbbbbbbbbbbbbbbb", "srv-probe00000000000", "probe", "MULTIVALUE", state.SDDnsRecord{Type: "A", TTL: 60})
	eventually(b, addr, "zzz.big.internal", "A") // the zone is served (NXDOMAIN)
	ctx := context.Background()
	var total, commits time.Duration
	b.ResetTimer()
	for n := range b.N {
		ip := fmt.Sprintf("10.200.%d.%d", n/250%250, n%250+1)
		start := time.Now()
		put(b, st, "srv-probe00000000000", "probe", map[string]string{"AWS_INSTANCE_IPV4": ip})
		commits += time.Since(start)
		for {
			a, err := dns.Query(ctx, addr, "probe.big.internal", "A")
			if err != nil {
				b.Fatal(err)
			}
			if len(a.Records) == 1 && strings.HasSuffix(a.Records[0], "\t"+ip) {
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatalf("the change never reached the answers: %v", a.Records)
			}
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/change")
	b.ReportMetric(float64(commits.Microseconds())/1000/float64(b.N), "ms/commit")
}

// TestRoute53RecordsAreServed follows a hosted zone's record sets into DNS
// answers: plain sets, weighted ones, aliases to a load balancer and to a
// record of the zone, deletions, and the zone's deletion.
func TestRoute53RecordsAreServed(t *testing.T) {
	env := flottatest.StartServer(t, flottatest.Options{DNS: true})
	addr := env.Server.DNSAddr()
	ctx := context.Background()
	r53 := env.R53()
	zone, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("shop.internal"), CallerReference: aws.String("t1"),
		VPC: &r53types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: r53types.VPCRegionUsEast1}})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := env.ELB().CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("front")})
	if err != nil {
		t.Fatal(err)
	}
	rr := func(name, typ string, ttl int64, vals ...string) *r53types.ResourceRecordSet {
		set := &r53types.ResourceRecordSet{Name: aws.String(name), Type: r53types.RRType(typ), TTL: aws.Int64(ttl)}
		for _, v := range vals {
			set.ResourceRecords = append(set.ResourceRecords, r53types.ResourceRecord{Value: aws.String(v)})
		}
		return set
	}
	weighted := func(id string, w int64, ip string) *r53types.ResourceRecordSet {
		s := rr("api.shop.internal", "A", 20, ip)
		s.SetIdentifier, s.Weight = aws.String(id), aws.Int64(w)
		return s
	}
	alias := func(name, target, zoneID string) *r53types.ResourceRecordSet {
		return &r53types.ResourceRecordSet{Name: aws.String(name), Type: r53types.RRTypeA,
			AliasTarget: &r53types.AliasTarget{DNSName: aws.String(target), HostedZoneId: aws.String(zoneID)}}
	}
	change := func(action r53types.ChangeAction, sets ...*r53types.ResourceRecordSet) {
		t.Helper()
		var changes []r53types.Change
		for _, s := range sets {
			changes = append(changes, r53types.Change{Action: action, ResourceRecordSet: s})
		}
		if _, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
			ChangeBatch: &r53types.ChangeBatch{Changes: changes}}); err != nil {
			t.Fatal(err)
		}
	}
	zoneID := strings.TrimPrefix(aws.ToString(zone.HostedZone.Id), "/hostedzone/")
	change(r53types.ChangeActionCreate,
		rr("www.shop.internal", "A", 300, "10.1.0.1", "10.1.0.2"),
		rr("shop.internal", "TXT", 60, `"v=flotta"`),
		weighted("blue", 1, "10.9.0.1"), weighted("green", 0, "10.9.0.2"),
		alias("lb.shop.internal", aws.ToString(lb.LoadBalancers[0].DNSName), aws.ToString(lb.LoadBalancers[0].CanonicalHostedZoneId)),
		alias("web.shop.internal", "www.shop.internal", zoneID))

	eventually(t, addr, "www.shop.internal", "A", "10.1.0.1", "10.1.0.2")
	eventually(t, addr, "shop.internal", "TXT", `"v=flotta"`)
	eventually(t, addr, "lb.shop.internal", "A", "127.0.0.1")
	eventually(t, addr, "web.shop.internal", "A", "10.1.0.1", "10.1.0.2")
	for range 20 { // weight 0 is never chosen while another set has weight
		if _, got := answer(t, addr, "api.shop.internal", "A"); !slices.Equal(got, []string{"10.9.0.1"}) {
			t.Fatalf("weighted answer %v, want only the set of weight 1", got)
		}
	}
	if rcode, _ := answer(t, addr, "ftp.shop.internal", "A"); rcode != "NXDOMAIN" {
		t.Fatalf("a name not in the zone: %s, want NXDOMAIN", rcode)
	}

	change(r53types.ChangeActionDelete, alias("web.shop.internal", "www.shop.internal", zoneID), rr("www.shop.internal", "A", 300, "10.1.0.1", "10.1.0.2"))
	flottatest.Eventually(t, 5*time.Second, "www to be gone", func() (bool, string) {
		rcode, _ := answer(t, addr, "www.shop.internal", "A")
		return rcode == "NXDOMAIN", rcode
	})
	change(r53types.ChangeActionDelete, rr("shop.internal", "TXT", 60, `"v=flotta"`), weighted("blue", 1, "10.9.0.1"), weighted("green", 0, "10.9.0.2"),
		alias("lb.shop.internal", aws.ToString(lb.LoadBalancers[0].DNSName), aws.ToString(lb.LoadBalancers[0].CanonicalHostedZoneId)))
	if _, err := r53.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: zone.HostedZone.Id}); err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 5*time.Second, "the zone to be gone", func() (bool, string) {
		rcode, _ := answer(t, addr, "shop.internal", "SOA")
		return rcode == "REFUSED", rcode
	})
}

// TestRoute53FailoverFollowsHealthCheck: a failover PRIMARY whose health
// check fails (a TCP check of a closed port, FailureThreshold 1) is passed
// over for the SECONDARY once the server's checker has probed it, and is
// answered again once its endpoint comes up.
func TestRoute53FailoverFollowsHealthCheck(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	env := flottatest.StartServer(t, flottatest.Options{DNS: true, Route53HealthChecks: true, Route53CheckInterval: 200 * time.Millisecond})
	addr := env.Server.DNSAddr()
	ctx := context.Background()
	r53 := env.R53()
	zone, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("ha.internal"), CallerReference: aws.String("ha"),
		VPC: &r53types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: r53types.VPCRegionUsEast1}})
	if err != nil {
		t.Fatal(err)
	}
	hc, err := r53.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("primary"),
		HealthCheckConfig: &r53types.HealthCheckConfig{Type: r53types.HealthCheckTypeTcp, IPAddress: aws.String("127.0.0.1"), Port: aws.Int32(int32(port)),
			RequestInterval: aws.Int32(10), FailureThreshold: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	set := func(id string, role r53types.ResourceRecordSetFailover, ip string, check *string) r53types.Change {
		return r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("db.ha.internal"),
			Type: r53types.RRTypeA, TTL: aws.Int64(10), SetIdentifier: aws.String(id), Failover: role, HealthCheckId: check,
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(ip)}}}}
	}
	if _, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{
			set("one", r53types.ResourceRecordSetFailoverPrimary, "10.3.0.1", hc.HealthCheck.Id),
			set("two", r53types.ResourceRecordSetFailoverSecondary, "10.3.0.2", nil)}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, addr, "db.ha.internal", "A", "10.3.0.2")

	l, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(port)))
	if err != nil {
		t.Skipf("the closed port was taken meanwhile: %v", err)
	}
	defer l.Close()
	eventually(t, addr, "db.ha.internal", "A", "10.3.0.1")
}

// TestRoute53AliasEvaluatesTargetHealth: a failover PRIMARY that aliases a
// load balancer with EvaluateTargetHealth is passed over for the SECONDARY
// while none of the load balancer's target groups has a healthy target,
// and answered once one target is found healthy.
func TestRoute53AliasEvaluatesTargetHealth(t *testing.T) {
	env := flottatest.StartServer(t, flottatest.Options{DNS: true, Route53HealthChecks: true, Route53CheckInterval: 200 * time.Millisecond})
	addr := env.Server.DNSAddr()
	ctx := context.Background()
	r53, lbs := env.R53(), env.ELB()
	lb, err := lbs.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("front")})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := lbs.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("pool"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		TargetType: elbtypes.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	tgArn := tg.TargetGroups[0].TargetGroupArn
	if _, err := lbs.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tgArn,
		Targets: []elbtypes.TargetDescription{{Id: aws.String("10.0.0.5"), Port: aws.Int32(8080)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lbs.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(18080), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgArn}}}); err != nil {
		t.Fatal(err)
	}
	zone, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("edge.internal"), CallerReference: aws.String("edge"),
		VPC: &r53types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: r53types.VPCRegionUsEast1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{
			{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("www.edge.internal"), Type: r53types.RRTypeA,
				SetIdentifier: aws.String("lb"), Failover: r53types.ResourceRecordSetFailoverPrimary,
				AliasTarget: &r53types.AliasTarget{DNSName: lb.LoadBalancers[0].DNSName, HostedZoneId: lb.LoadBalancers[0].CanonicalHostedZoneId, EvaluateTargetHealth: true}}},
			{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("www.edge.internal"), Type: r53types.RRTypeA,
				TTL: aws.Int64(10), SetIdentifier: aws.String("sorry"), Failover: r53types.ResourceRecordSetFailoverSecondary,
				ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("10.4.0.2")}}}},
		}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, addr, "www.edge.internal", "A", "10.4.0.2")
	if err := env.Server.State().PutELBTargetHealth(ctx, aws.ToString(tgArn), state.ELBTargetHealth{TargetID: "10.0.0.5", Port: 8080, State: "healthy",
		ObservedAt: time.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, addr, "www.edge.internal", "A", "127.0.0.1")
	if err := env.Server.State().PutELBTargetHealth(ctx, aws.ToString(tgArn), state.ELBTargetHealth{TargetID: "10.0.0.5", Port: 8080, State: "unhealthy",
		Reason: "Target.Timeout", ObservedAt: time.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, addr, "www.edge.internal", "A", "10.4.0.2")
}

package servicediscovery_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

var (
	nsIDRE   = regexp.MustCompile(`^ns-[a-z0-9]{16}$`)
	srvIDRE  = regexp.MustCompile(`^srv-[a-z0-9]{16}$`)
	zoneIDRE = regexp.MustCompile(`^Z[A-Z0-9]{13,21}$`)
)

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// wantCode fails t unless err is the Cloud Map exception code.
func wantCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if code(err) != want {
		t.Fatalf("%s: want %s, got %v", what, want, err)
	}
}

// waitOp polls GetOperation, as users do, until the operation is done,
// and returns it with the statuses it went through.
func waitOp(t *testing.T, c *sd.Client, id *string) (*types.Operation, []types.OperationStatus) {
	t.Helper()
	ctx := context.Background()
	var seen []types.OperationStatus
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: id})
		if err != nil {
			t.Fatalf("GetOperation %s: %v", aws.ToString(id), err)
		}
		op := out.Operation
		if len(seen) == 0 || seen[len(seen)-1] != op.Status {
			seen = append(seen, op.Status)
		}
		if op.Status == types.OperationStatusSuccess || op.Status == types.OperationStatusFail {
			return op, seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("awaited operation %s done; it says %s (went through %v)", aws.ToString(id), op.Status, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// succeed waits for an operation and fails t unless it succeeded.
func succeed(t *testing.T, c *sd.Client, what string, id *string) *types.Operation {
	t.Helper()
	op, seen := waitOp(t, c, id)
	if op.Status != types.OperationStatusSuccess {
		t.Fatalf("%s: operation %s: %s %s %s", what, aws.ToString(id), op.Status, aws.ToString(op.ErrorCode), aws.ToString(op.ErrorMessage))
	}
	// Statuses only move forward: SUBMITTED -> PENDING -> SUCCESS.
	order := []types.OperationStatus{types.OperationStatusSubmitted, types.OperationStatusPending, types.OperationStatusSuccess}
	last := -1
	for _, s := range seen {
		i := slices.Index(order, s)
		if i <= last {
			t.Fatalf("%s: statuses went %v", what, seen)
		}
		last = i
	}
	return op
}

func privateNS(t *testing.T, c *sd.Client, name string) string {
	t.Helper()
	out, err := c.CreatePrivateDnsNamespace(context.Background(), &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(name), Vpc: aws.String("vpc-1")})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return succeed(t, c, "create namespace "+name, out.OperationId).Targets["NAMESPACE"]
}

func httpNS(t *testing.T, c *sd.Client, name string) string {
	t.Helper()
	out, err := c.CreateHttpNamespace(context.Background(), &sd.CreateHttpNamespaceInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return succeed(t, c, "create namespace "+name, out.OperationId).Targets["NAMESPACE"]
}

func register(t *testing.T, c *sd.Client, svc, id string, attrs map[string]string) {
	t.Helper()
	out, err := c.RegisterInstance(context.Background(), &sd.RegisterInstanceInput{ServiceId: aws.String(svc), InstanceId: aws.String(id), Attributes: attrs})
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	op := succeed(t, c, "register "+id, out.OperationId)
	if op.Type != types.OperationTypeRegisterInstance || op.Targets["INSTANCE"] != id || op.Targets["SERVICE"] != svc {
		t.Fatalf("register's operation: %+v", op)
	}
}

// TestNamespaces: the three kinds of namespace, made through operations
// that go SUBMITTED -> PENDING -> SUCCESS; a DNS namespace is not there
// before its operation succeeds; names are unique (CreatorRequestId
// makes a retry the same request); listing filters and pages; updates and
// deletion are operations too.
func TestNamespaces(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.SD()
	ctx := context.Background()
	acct := e.Server.Account()

	created, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("corp.local"), Vpc: aws.String("vpc-0123"),
		Description: aws.String("the corp"), CreatorRequestId: aws.String("req-1"),
		Properties: &types.PrivateDnsNamespaceProperties{DnsProperties: &types.PrivateDnsPropertiesMutable{SOA: &types.SOA{TTL: aws.Int64(60)}}},
		Tags:       []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	op := succeed(t, c, "create corp.local", created.OperationId)
	nsID := op.Targets["NAMESPACE"]
	if op.Type != types.OperationTypeCreateNamespace || !nsIDRE.MatchString(nsID) || op.CreateDate == nil || op.UpdateDate == nil {
		t.Fatalf("operation: %+v", op)
	}
	got, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsID)})
	if err != nil {
		t.Fatal(err)
	}
	ns := got.Namespace
	wantArn := "arn:aws:servicediscovery:" + acct.Region + ":" + acct.ID + ":namespace/" + nsID
	if aws.ToString(ns.Arn) != wantArn || aws.ToString(ns.Name) != "corp.local" || ns.Type != types.NamespaceTypeDnsPrivate ||
		aws.ToString(ns.Description) != "the corp" || aws.ToString(ns.CreatorRequestId) != "req-1" || aws.ToInt32(ns.ServiceCount) != 0 ||
		ns.Properties == nil || ns.Properties.DnsProperties == nil || !zoneIDRE.MatchString(aws.ToString(ns.Properties.DnsProperties.HostedZoneId)) ||
		aws.ToInt64(ns.Properties.DnsProperties.SOA.TTL) != 60 || aws.ToString(ns.Properties.HttpProperties.HttpName) != "corp.local" || ns.CreateDate == nil {
		t.Fatalf("namespace: %+v %+v", ns, ns.Properties)
	}

	// The same name: NamespaceAlreadyExists naming the holder; the same
	// CreatorRequestId again: the same operation.
	_, err = c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("CORP.local."), Vpc: aws.String("vpc-0123")})
	var exists *types.NamespaceAlreadyExists
	if !errors.As(err, &exists) || aws.ToString(exists.NamespaceId) != nsID || aws.ToString(exists.CreatorRequestId) != "req-1" {
		t.Fatalf("duplicate name: %v", err)
	}
	again, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("corp.local"), Vpc: aws.String("vpc-0123"), CreatorRequestId: aws.String("req-1")})
	if err != nil || aws.ToString(again.OperationId) != aws.ToString(created.OperationId) {
		t.Fatalf("retry with the same CreatorRequestId: %v %+v", err, again)
	}

	// A DNS namespace is invisible while its operation is not done: stop
	// nothing, but look right after submitting (the completer may be
	// quick, so only check that whatever is seen is consistent).
	pub, err := c.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: pub.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	pubID := first.Operation.Targets["NAMESPACE"]
	_, nsErr := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(pubID)})
	after, _ := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: pub.OperationId})
	if nsErr == nil && first.Operation.Status != types.OperationStatusSuccess && after.Operation.Status != types.OperationStatusSuccess {
		t.Fatalf("namespace %s visible while its operation is %s", pubID, after.Operation.Status)
	}
	succeed(t, c, "create example.com", pub.OperationId)
	httpID := httpNS(t, c, "apps")
	if h, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(httpID)}); err != nil || h.Namespace.Type != types.NamespaceTypeHttp ||
		h.Namespace.Properties.DnsProperties != nil || aws.ToString(h.Namespace.Properties.HttpProperties.HttpName) != "apps" {
		t.Fatalf("HTTP namespace: %v %+v", err, h)
	}

	// Filters and paging.
	list := func(in *sd.ListNamespacesInput) []string {
		t.Helper()
		var names []string
		p := sd.NewListNamespacesPaginator(c, in)
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("list namespaces: %v", err)
			}
			pages++
			for _, n := range out.Namespaces {
				names = append(names, aws.ToString(n.Name))
			}
		}
		if in.MaxResults != nil && pages < (len(names)+int(*in.MaxResults)-1)/int(*in.MaxResults) {
			t.Fatalf("%d pages for %d namespaces at %d a page", pages, len(names), *in.MaxResults)
		}
		sort.Strings(names)
		return names
	}
	if got := list(&sd.ListNamespacesInput{MaxResults: aws.Int32(1)}); !slices.Equal(got, []string{"apps", "corp.local", "example.com"}) {
		t.Fatalf("all namespaces, a page at a time: %v", got)
	}
	if got := list(&sd.ListNamespacesInput{Filters: []types.NamespaceFilter{{Name: types.NamespaceFilterNameType, Values: []string{"DNS_PRIVATE", "HTTP"}, Condition: types.FilterConditionIn}}}); !slices.Equal(got, []string{"apps", "corp.local"}) {
		t.Fatalf("TYPE IN DNS_PRIVATE HTTP: %v", got)
	}
	if got := list(&sd.ListNamespacesInput{Filters: []types.NamespaceFilter{{Name: types.NamespaceFilterNameName, Values: []string{"corp"}, Condition: types.FilterConditionBeginsWith}}}); !slices.Equal(got, []string{"corp.local"}) {
		t.Fatalf("NAME BEGINS_WITH corp: %v", got)
	}
	if got := list(&sd.ListNamespacesInput{Filters: []types.NamespaceFilter{{Name: types.NamespaceFilterNameHttpName, Values: []string{"apps"}}}}); !slices.Equal(got, []string{"apps"}) {
		t.Fatalf("HTTP_NAME EQ apps: %v", got)
	}

	// Updates are operations.
	up, err := c.UpdatePrivateDnsNamespace(ctx, &sd.UpdatePrivateDnsNamespaceInput{Id: aws.String(nsID), Namespace: &types.PrivateDnsNamespaceChange{
		Description: aws.String("renamed"), Properties: &types.PrivateDnsNamespacePropertiesChange{DnsProperties: &types.PrivateDnsPropertiesMutableChange{SOA: &types.SOAChange{TTL: aws.Int64(300)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if op := succeed(t, c, "update namespace", up.OperationId); op.Type != types.OperationTypeUpdateNamespace {
		t.Fatalf("update's type: %s", op.Type)
	}
	got, _ = c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsID)})
	if aws.ToString(got.Namespace.Description) != "renamed" || aws.ToInt64(got.Namespace.Properties.DnsProperties.SOA.TTL) != 300 {
		t.Fatalf("after the update: %+v", got.Namespace)
	}
	uh, err := c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(httpID), Namespace: &types.HttpNamespaceChange{Description: aws.String("apps!")}})
	if err != nil {
		t.Fatal(err)
	}
	succeed(t, c, "update HTTP namespace", uh.OperationId)
	_, err = c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(nsID), Namespace: &types.HttpNamespaceChange{Description: aws.String("x")}})
	wantCode(t, "UpdateHttpNamespace of a DNS namespace", err, "InvalidInput")

	// Deletion is an operation; then the namespace is gone and its name free.
	del, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(pubID)})
	if err != nil {
		t.Fatal(err)
	}
	if op := succeed(t, c, "delete namespace", del.OperationId); op.Type != types.OperationTypeDeleteNamespace || op.Targets["NAMESPACE"] != pubID {
		t.Fatalf("delete's operation: %+v", op)
	}
	_, err = c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(pubID)})
	wantCode(t, "a deleted namespace", err, "NamespaceNotFound")
	_, err = c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(pubID)})
	wantCode(t, "delete a deleted namespace", err, "NamespaceNotFound")
	if _, err := c.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String("example.com")}); err != nil {
		t.Fatalf("the name of a deleted namespace: %v", err)
	}

	// ListOperations and its filters.
	ops, err := c.ListOperations(ctx, &sd.ListOperationsInput{Filters: []types.OperationFilter{
		{Name: types.OperationFilterNameNamespaceId, Values: []string{nsID}},
		{Name: types.OperationFilterNameType, Values: []string{"CREATE_NAMESPACE", "UPDATE_NAMESPACE"}, Condition: types.FilterConditionIn}}})
	if err != nil || len(ops.Operations) != 2 {
		t.Fatalf("operations of %s: %v %+v", nsID, err, ops)
	}
	now := time.Now()
	ops, err = c.ListOperations(ctx, &sd.ListOperationsInput{Filters: []types.OperationFilter{
		{Name: types.OperationFilterNameUpdateDate, Condition: types.FilterConditionBetween, Values: []string{"0", "1000"}}}})
	if err != nil || len(ops.Operations) != 0 {
		t.Fatalf("operations of 1970: %v %+v", err, ops)
	}
	ops, err = c.ListOperations(ctx, &sd.ListOperationsInput{MaxResults: aws.Int32(2), Filters: []types.OperationFilter{
		{Name: types.OperationFilterNameStatus, Values: []string{"SUCCESS"}},
		{Name: types.OperationFilterNameUpdateDate, Condition: types.FilterConditionBetween, Values: []string{"0", jsonNum(now.Add(time.Minute))}}}})
	if err != nil || len(ops.Operations) != 2 || ops.NextToken == nil {
		t.Fatalf("successful operations, 2 a page: %v %+v", err, ops)
	}
	_, err = c.ListOperations(ctx, &sd.ListOperationsInput{Filters: []types.OperationFilter{{Name: "COLOUR", Values: []string{"x"}}}})
	wantCode(t, "an unknown operation filter", err, "InvalidInput")
}

func jsonNum(t time.Time) string {
	b, _ := json.Marshal(t.Unix())
	return string(b)
}

// TestServicesAndInstances: services in a DNS namespace, instances checked
// against the service's records, re-registration updating, and the
// deletions refused while something depends on them.
func TestServicesAndInstances(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.SD()
	ctx := context.Background()
	nsID := privateNS(t, c, "svc.local")

	out, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(nsID), Description: aws.String("front"),
		CreatorRequestId:        aws.String("svc-req-1"),
		DnsConfig:               &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(10)}, {Type: types.RecordTypeSrv, TTL: aws.Int64(20)}}},
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{FailureThreshold: aws.Int32(1)},
		Tags:                    []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	svc := out.Service
	svcID := aws.ToString(svc.Id)
	acct := e.Server.Account()
	if !srvIDRE.MatchString(svcID) || aws.ToString(svc.Arn) != "arn:aws:servicediscovery:"+acct.Region+":"+acct.ID+":service/"+svcID ||
		svc.Type != types.ServiceTypeDnsHttp || svc.DnsConfig == nil || svc.DnsConfig.RoutingPolicy != types.RoutingPolicyMultivalue ||
		aws.ToString(svc.NamespaceId) != nsID || aws.ToString(svc.CreatorRequestId) != "svc-req-1" || svc.HealthCheckCustomConfig == nil {
		t.Fatalf("service: %+v", svc)
	}
	// The same name: ServiceAlreadyExists with the existing id; the same
	// CreatorRequestId: the same service.
	_, err = c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("WEB"), NamespaceId: aws.String(nsID)})
	var dup *types.ServiceAlreadyExists
	if !errors.As(err, &dup) || aws.ToString(dup.ServiceId) != svcID || aws.ToString(dup.CreatorRequestId) != "svc-req-1" || aws.ToString(dup.ServiceArn) != aws.ToString(svc.Arn) {
		t.Fatalf("duplicate service: %v", err)
	}
	if again, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(nsID), CreatorRequestId: aws.String("svc-req-1")}); err != nil || aws.ToString(again.Service.Id) != svcID {
		t.Fatalf("retry of CreateService: %v %+v", err, again)
	}
	_, err = c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("x"), NamespaceId: aws.String("ns-0000000000000000")})
	wantCode(t, "a service in an unknown namespace", err, "NamespaceNotFound")
	_, err = c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cname"), NamespaceId: aws.String(nsID),
		DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeCname, TTL: aws.Int64(10)}}}})
	wantCode(t, "a CNAME record with MULTIVALUE routing", err, "InvalidInput")
	other, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("api"), NamespaceId: aws.String(nsID),
		DnsConfig: &types.DnsConfig{RoutingPolicy: types.RoutingPolicyWeighted, DnsRecords: []types.DnsRecord{{Type: types.RecordTypeAaaa, TTL: aws.Int64(5)}}}})
	if err != nil {
		t.Fatal(err)
	}

	// Attributes must fit the records.
	bad := map[string]map[string]string{
		"no IPv4 for an A record":       {"AWS_INSTANCE_PORT": "80"},
		"no port for an SRV record":     {"AWS_INSTANCE_IPV4": "10.0.0.1"},
		"an IPv4 that is not one":       {"AWS_INSTANCE_IPV4": "10.0.0.256", "AWS_INSTANCE_PORT": "80"},
		"a port out of range":           {"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "70000"},
		"a bad initial health":          {"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "80", "AWS_INIT_HEALTH_STATUS": "MAYBE"},
		"an alias without WEIGHTED":     {"AWS_ALIAS_DNS_NAME": "lb.example.com"},
		"an attribute key with a space": {"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "80", "a b": "c"},
	}
	before := e.Revision(t)
	for what, attrs := range bad {
		_, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String("i-1"), Attributes: attrs})
		wantCode(t, what, err, "InvalidInput")
	}
	_, err = c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: other.Service.Id, InstanceId: aws.String("i-1"), Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}})
	wantCode(t, "an AAAA service without IPv6", err, "InvalidInput")
	_, err = c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String("srv-0000000000000000"), InstanceId: aws.String("i-1"), Attributes: map[string]string{}})
	wantCode(t, "an instance of an unknown service", err, "ServiceNotFound")
	if after := e.Revision(t); after != before {
		t.Fatalf("refused registrations wrote: revision %d -> %d", before, after)
	}

	register(t, c, svcID, "i-1", map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "80", "color": "blue"})
	register(t, c, svcID, "i-2", map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.2", "AWS_INSTANCE_PORT": "80", "AWS_INIT_HEALTH_STATUS": "UNHEALTHY"})
	register(t, c, aws.ToString(other.Service.Id), "v6", map[string]string{"AWS_INSTANCE_IPV6": "fd00::1"})
	inst, err := c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String("i-1")})
	if err != nil || inst.Instance.Attributes["color"] != "blue" || aws.ToString(inst.Instance.Id) != "i-1" {
		t.Fatalf("GetInstance: %v %+v", err, inst)
	}
	// Registering again updates.
	register(t, c, svcID, "i-1", map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.9", "AWS_INSTANCE_PORT": "81"})
	inst, _ = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String("i-1")})
	if inst.Instance.Attributes["AWS_INSTANCE_IPV4"] != "10.0.0.9" || inst.Instance.Attributes["color"] != "" {
		t.Fatalf("after re-registering: %+v", inst.Instance.Attributes)
	}
	health, err := c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(svcID)})
	if err != nil || health.Status["i-1"] != types.HealthStatusHealthy || health.Status["i-2"] != types.HealthStatusUnhealthy {
		t.Fatalf("health: %v %+v", err, health)
	}
	_, err = c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(svcID), Instances: []string{"i-1", "ghost"}})
	wantCode(t, "health of an unknown instance", err, "InstanceNotFound")

	// Listing, a page at a time.
	var ids []string
	p := sd.NewListInstancesPaginator(c, &sd.ListInstancesInput{ServiceId: aws.String(svcID), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Instances) > 1 {
			t.Fatalf("a page of %d at MaxResults 1", len(page.Instances))
		}
		for _, i := range page.Instances {
			ids = append(ids, aws.ToString(i.Id))
		}
	}
	if !slices.Equal(ids, []string{"i-1", "i-2"}) {
		t.Fatalf("instances: %v", ids)
	}
	got, err := c.GetService(ctx, &sd.GetServiceInput{Id: aws.String(svcID)})
	if err != nil || aws.ToInt32(got.Service.InstanceCount) != 2 || aws.ToString(got.Service.Description) != "front" {
		t.Fatalf("GetService: %v %+v", err, got)
	}
	ls, err := c.ListServices(ctx, &sd.ListServicesInput{Filters: []types.ServiceFilter{{Name: types.ServiceFilterNameNamespaceId, Values: []string{nsID}}}})
	if err != nil || len(ls.Services) != 2 {
		t.Fatalf("ListServices: %v %+v", err, ls)
	}
	first, err := c.ListServices(ctx, &sd.ListServicesInput{MaxResults: aws.Int32(1)})
	if err != nil || len(first.Services) != 1 || first.NextToken == nil {
		t.Fatalf("ListServices, first page of 1: %v %+v", err, first)
	}
	second, err := c.ListServices(ctx, &sd.ListServicesInput{MaxResults: aws.Int32(1), NextToken: first.NextToken})
	if err != nil || len(second.Services) != 1 || second.NextToken != nil || aws.ToString(second.Services[0].Id) == aws.ToString(first.Services[0].Id) {
		t.Fatalf("ListServices, second page of 1: %v %+v", err, second)
	}
	ls, err = c.ListServices(ctx, &sd.ListServicesInput{Filters: []types.ServiceFilter{{Name: types.ServiceFilterNameNamespaceId, Values: []string{"ns-0000000000000000"}}}})
	if err != nil || len(ls.Services) != 0 {
		t.Fatalf("ListServices of another namespace: %v %+v", err, ls)
	}

	// UpdateService changes TTLs through an operation.
	up, err := c.UpdateService(ctx, &sd.UpdateServiceInput{Id: aws.String(svcID), Service: &types.ServiceChange{Description: aws.String("front door"),
		DnsConfig: &types.DnsConfigChange{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(60)}, {Type: types.RecordTypeSrv, TTL: aws.Int64(61)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if op := succeed(t, c, "update service", up.OperationId); op.Type != types.OperationTypeUpdateService || op.Targets["SERVICE"] != svcID {
		t.Fatalf("update's operation: %+v", op)
	}
	got, _ = c.GetService(ctx, &sd.GetServiceInput{Id: aws.String(svcID)})
	if aws.ToString(got.Service.Description) != "front door" || aws.ToInt64(got.Service.DnsConfig.DnsRecords[0].TTL) != 60 || aws.ToInt64(got.Service.DnsConfig.DnsRecords[1].TTL) != 61 {
		t.Fatalf("after UpdateService: %+v", got.Service.DnsConfig)
	}
	_, err = c.UpdateService(ctx, &sd.UpdateServiceInput{Id: aws.String(svcID), Service: &types.ServiceChange{
		DnsConfig: &types.DnsConfigChange{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeCname, TTL: aws.Int64(60)}}}}})
	wantCode(t, "UpdateService changing record types", err, "InvalidInput")

	// What depends on something keeps it.
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: aws.String(svcID)})
	wantCode(t, "delete a service with instances", err, "ResourceInUse")
	_, err = c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(nsID)})
	wantCode(t, "delete a namespace with services", err, "ResourceInUse")

	// Take it all down.
	for _, ref := range [][2]string{{svcID, "i-1"}, {svcID, "i-2"}, {aws.ToString(other.Service.Id), "v6"}} {
		d, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: aws.String(ref[0]), InstanceId: aws.String(ref[1])})
		if err != nil {
			t.Fatal(err)
		}
		if op := succeed(t, c, "deregister "+ref[1], d.OperationId); op.Type != types.OperationTypeDeregisterInstance {
			t.Fatalf("deregister's type: %s", op.Type)
		}
	}
	_, err = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String("i-1")})
	wantCode(t, "a deregistered instance", err, "InstanceNotFound")
	_, err = c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String("i-1")})
	wantCode(t, "deregister a deregistered instance", err, "InstanceNotFound")
	for _, id := range []string{svcID, aws.ToString(other.Service.Id)} {
		if _, err := c.DeleteService(ctx, &sd.DeleteServiceInput{Id: aws.String(id)}); err != nil {
			t.Fatalf("delete service: %v", err)
		}
	}
	_, err = c.GetService(ctx, &sd.GetServiceInput{Id: aws.String(svcID)})
	wantCode(t, "a deleted service", err, "ServiceNotFound")
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: aws.String(svcID)})
	wantCode(t, "delete a deleted service", err, "ServiceNotFound")
	del, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(nsID)})
	if err != nil {
		t.Fatal(err)
	}
	succeed(t, c, "delete namespace", del.OperationId)
}

// TestDiscoverInstances: attribute filters (required and optional), the
// health filters on a service with custom health, custom health updates,
// the revision that moves with every change, and MaxResults.
func TestDiscoverInstances(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.SD()
	ctx := context.Background()
	nsID := httpNS(t, c, "shop")
	custom, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(nsID),
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})
	if err != nil {
		t.Fatal(err)
	}
	if custom.Service.Type != types.ServiceTypeHttp || custom.Service.DnsConfig != nil {
		t.Fatalf("a service in an HTTP namespace: %+v", custom.Service)
	}
	plain, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("plain"), NamespaceId: aws.String(nsID)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("dns"), NamespaceId: aws.String(nsID),
		DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(1)}}}})
	wantCode(t, "a DnsConfig in an HTTP namespace", err, "InvalidInput")
	cart := aws.ToString(custom.Service.Id)
	register(t, c, cart, "a", map[string]string{"stage": "prod", "zone": "1"})
	register(t, c, cart, "b", map[string]string{"stage": "prod", "zone": "2"})
	register(t, c, cart, "c", map[string]string{"stage": "test", "zone": "1", "AWS_INIT_HEALTH_STATUS": "UNHEALTHY"})
	register(t, c, aws.ToString(plain.Service.Id), "p", map[string]string{"x": "y"})

	discover := func(in *sd.DiscoverInstancesInput) ([]string, int64) {
		t.Helper()
		if in.NamespaceName == nil {
			in.NamespaceName = aws.String("shop")
		}
		if in.ServiceName == nil {
			in.ServiceName = aws.String("cart")
		}
		out, err := c.DiscoverInstances(ctx, in)
		if err != nil {
			t.Fatalf("discover %+v: %v", in, err)
		}
		var ids []string
		for _, i := range out.Instances {
			if aws.ToString(i.NamespaceName) != "shop" || aws.ToString(i.ServiceName) != aws.ToString(in.ServiceName) {
				t.Fatalf("summary: %+v", i)
			}
			ids = append(ids, aws.ToString(i.InstanceId))
		}
		sort.Strings(ids)
		return ids, aws.ToInt64(out.InstancesRevision)
	}
	cases := []struct {
		name string
		in   sd.DiscoverInstancesInput
		want []string
	}{
		{"default: healthy", sd.DiscoverInstancesInput{}, []string{"a", "b"}},
		{"all", sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterAll}, []string{"a", "b", "c"}},
		{"unhealthy", sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterUnhealthy}, []string{"c"}},
		{"query", sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterAll, QueryParameters: map[string]string{"zone": "1"}}, []string{"a", "c"}},
		{"query, healthy", sd.DiscoverInstancesInput{QueryParameters: map[string]string{"zone": "1"}}, []string{"a"}},
		{"optional that matches", sd.DiscoverInstancesInput{OptionalParameters: map[string]string{"zone": "2"}}, []string{"b"}},
		{"optional that matches nothing", sd.DiscoverInstancesInput{OptionalParameters: map[string]string{"zone": "9"}}, []string{"a", "b"}},
		{"healthy or else all, with healthy", sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterHealthyOrElseAll, QueryParameters: map[string]string{"stage": "prod"}}, []string{"a", "b"}},
		{"healthy or else all, none healthy", sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterHealthyOrElseAll, QueryParameters: map[string]string{"stage": "test"}}, []string{"c"}},
		{"healthy, none healthy", sd.DiscoverInstancesInput{QueryParameters: map[string]string{"stage": "test"}}, nil},
		{"max results", sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterAll, MaxResults: aws.Int32(1)}, []string{"a"}},
		{"no health check: all", sd.DiscoverInstancesInput{ServiceName: aws.String("plain"), HealthStatus: types.HealthStatusFilterUnhealthy}, []string{"p"}},
	}
	for _, tc := range cases {
		if got, _ := discover(&tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	// Health changes move the revision, and the filters follow.
	_, rev := discover(&sd.DiscoverInstancesInput{})
	r, err := c.DiscoverInstancesRevision(ctx, &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart")})
	if err != nil || aws.ToInt64(r.InstancesRevision) != rev || rev == 0 {
		t.Fatalf("DiscoverInstancesRevision: %v %+v (DiscoverInstances said %d)", err, r, rev)
	}
	if _, err := c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: aws.String(cart), InstanceId: aws.String("a"), Status: types.CustomHealthStatusUnhealthy}); err != nil {
		t.Fatal(err)
	}
	got, rev2 := discover(&sd.DiscoverInstancesInput{})
	if !slices.Equal(got, []string{"b"}) || rev2 == rev {
		t.Fatalf("after a turned unhealthy: %v, revision %d -> %d", got, rev, rev2)
	}
	_, err = c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: plain.Service.Id, InstanceId: aws.String("p"), Status: types.CustomHealthStatusUnhealthy})
	wantCode(t, "custom health of a service without it", err, "CustomHealthNotFound")
	_, err = c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: aws.String(cart), InstanceId: aws.String("ghost"), Status: types.CustomHealthStatusHealthy})
	wantCode(t, "custom health of an unknown instance", err, "InstanceNotFound")

	_, err = c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("nope"), ServiceName: aws.String("cart")})
	wantCode(t, "discover in an unknown namespace", err, "NamespaceNotFound")
	_, err = c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("nope")})
	wantCode(t, "discover an unknown service", err, "ServiceNotFound")
	_, err = c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart"), MaxResults: aws.Int32(1001)})
	wantCode(t, "MaxResults 1001", err, "InvalidInput")
}

// TestTags: tags of namespaces and services, and ResourceNotFoundException
// for an ARN that names nothing.
func TestTags(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.SD()
	ctx := context.Background()
	nsID := httpNS(t, c, "tags")
	ns, _ := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsID)})
	arn := ns.Namespace.Arn
	if _, err := c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: arn, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &sd.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil || len(got.Tags) != 1 || aws.ToString(got.Tags[0].Key) != "b" || aws.ToString(got.Tags[0].Value) != "2" {
		t.Fatalf("tags: %v %+v", err, got)
	}
	svc, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("s"), NamespaceId: aws.String(nsID), Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err = c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: svc.Service.Arn})
	if err != nil || len(got.Tags) != 1 || aws.ToString(got.Tags[0].Key) != "x" {
		t.Fatalf("service tags: %v %+v", err, got)
	}
	missing := strings.Replace(aws.ToString(arn), nsID, "ns-0000000000000000", 1)
	_, err = c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: aws.String(missing)})
	wantCode(t, "tags of an unknown namespace", err, "ResourceNotFoundException")
	many := make([]types.Tag, 201)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(strings.Repeat("k", 1+i%100) + string(rune('a'+i/100))), Value: aws.String("v")}
	}
	before := e.Revision(t)
	_, err = c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: arn, Tags: many})
	wantCode(t, "201 tags", err, "TooManyTagsException")
	if after := e.Revision(t); after != before {
		t.Fatalf("a refused TagResource wrote: %d -> %d", before, after)
	}
}

// TestNotFoundAndBadInput: unknown resources get Cloud Map's not-found
// codes; bad input, as the SDK sends it and as it cannot, is InvalidInput
// (or SerializationException for JSON that is not the shape) and writes
// nothing.
func TestNotFoundAndBadInput(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.SD()
	ctx := context.Background()
	nsID := privateNS(t, c, "bad.local")
	svc, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("s"), NamespaceId: aws.String(nsID),
		DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(1)}}}})
	if err != nil {
		t.Fatal(err)
	}
	svcID := svc.Service.Id

	_, err = c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String("ns-0000000000000000")})
	wantCode(t, "GetNamespace", err, "NamespaceNotFound")
	_, err = c.GetService(ctx, &sd.GetServiceInput{Id: aws.String("srv-0000000000000000")})
	wantCode(t, "GetService", err, "ServiceNotFound")
	_, err = c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: aws.String("srv-0000000000000000")})
	wantCode(t, "ListInstances", err, "ServiceNotFound")
	_, err = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svcID, InstanceId: aws.String("nope")})
	wantCode(t, "GetInstance", err, "InstanceNotFound")
	_, err = c.GetOperation(ctx, &sd.GetOperationInput{OperationId: aws.String("nope")})
	wantCode(t, "GetOperation", err, "OperationNotFound")
	_, err = c.UpdateService(ctx, &sd.UpdateServiceInput{Id: aws.String("srv-0000000000000000"), Service: &types.ServiceChange{Description: aws.String("x")}})
	wantCode(t, "UpdateService", err, "ServiceNotFound")

	before := e.Revision(t)
	sdkBad := map[string]func() error{
		"a namespace name that is no domain": func() error {
			_, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("bad..name"), Vpc: aws.String("vpc-1")})
			return err
		},
		"a negative SOA TTL": func() error {
			_, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("ok.local"), Vpc: aws.String("vpc-1"),
				Properties: &types.PrivateDnsNamespaceProperties{DnsProperties: &types.PrivateDnsPropertiesMutable{SOA: &types.SOA{TTL: aws.Int64(-1)}}}})
			return err
		},
		"a description too long": func() error {
			_, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("long"), Description: aws.String(strings.Repeat("d", 1025))})
			return err
		},
		"a record type that is not one": func() error {
			_, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("t"), NamespaceId: aws.String(nsID),
				DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: "MX", TTL: aws.Int64(1)}}}})
			return err
		},
		"two records of one type": func() error {
			_, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("t"), NamespaceId: aws.String(nsID),
				DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: "A", TTL: aws.Int64(1)}, {Type: "A", TTL: aws.Int64(2)}}}})
			return err
		},
		"both health check kinds": func() error {
			_, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("t"), NamespaceId: aws.String(nsID),
				HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp}, HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})
			return err
		},
		"a Route 53 health check in a private namespace": func() error {
			_, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("t"), NamespaceId: aws.String(nsID),
				HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp}})
			return err
		},
		"a service name with a space": func() error {
			_, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("a b"), NamespaceId: aws.String(nsID)})
			return err
		},
		"an instance id with a space": func() error {
			_, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svcID, InstanceId: aws.String("a b"), Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}})
			return err
		},
		"31 attributes": func() error {
			attrs := map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}
			for i := range 30 {
				attrs["k"+string(rune('A'+i))] = "v"
			}
			_, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svcID, InstanceId: aws.String("i"), Attributes: attrs})
			return err
		},
		"MaxResults 0": func() error {
			_, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{MaxResults: aws.Int32(0)})
			return err
		},
		"an unknown namespace filter": func() error {
			_, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{Filters: []types.NamespaceFilter{{Name: "SIZE", Values: []string{"1"}}}})
			return err
		},
		"EQ with two values": func() error {
			_, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{Filters: []types.NamespaceFilter{{Name: "TYPE", Values: []string{"HTTP", "DNS_PUBLIC"}, Condition: "EQ"}}})
			return err
		},
		"a bad health filter": func() error {
			_, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("bad.local"), ServiceName: aws.String("s"), HealthStatus: "SOMETIMES"})
			return err
		},
		"a bad custom health status": func() error {
			_, err := c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: svcID, InstanceId: aws.String("i"), Status: "MAYBE"})
			return err
		},
	}
	for what, call := range sdkBad {
		wantCode(t, what, call(), "InvalidInput")
	}
	// What an SDK would not send.
	raw := []struct {
		name, op, body, code string
	}{
		{"missing Name", "CreateHttpNamespace", `{}`, "InvalidInput"},
		{"missing Vpc", "CreatePrivateDnsNamespace", `{"Name":"x.local"}`, "InvalidInput"},
		{"missing NamespaceId", "CreateService", `{"Name":"x"}`, "InvalidInput"},
		{"missing Attributes", "RegisterInstance", `{"ServiceId":"` + aws.ToString(svcID) + `","InstanceId":"i"}`, "InvalidInput"},
		{"missing Id", "GetService", `{}`, "InvalidInput"},
		{"missing OperationId", "GetOperation", `{}`, "InvalidInput"},
		{"a TTL that is a string", "CreateService", `{"Name":"x","NamespaceId":"` + nsID + `","DnsConfig":{"DnsRecords":[{"Type":"A","TTL":"ten"}]}}`, "SerializationException"},
		{"a TTL missing", "CreateService", `{"Name":"x","NamespaceId":"` + nsID + `","DnsConfig":{"DnsRecords":[{"Type":"A"}]}}`, "InvalidInput"},
		{"MaxResults past 2^31", "ListServices", `{"MaxResults":4294967296}`, "SerializationException"},
		{"not JSON", "ListServices", `{"MaxResults":`, "SerializationException"},
		{"a Type other than HTTP", "CreateService", `{"Name":"x","NamespaceId":"` + nsID + `","Type":"DNS"}`, "InvalidInput"},
		{"a bogus NextToken", "ListServices", `{"NextToken":"` + strings.Repeat("x", 5000) + `"}`, "InvalidInput"},
	}
	for _, r := range raw {
		status, got := rawCall(t, e, r.op, r.body)
		if got != r.code || status != http.StatusBadRequest {
			t.Errorf("%s (%s %s): got %d %s, want 400 %s", r.name, r.op, r.body, status, got, r.code)
		}
	}
	huge := `{"Name":"big","Description":"` + strings.Repeat("x", 2<<20) + `"}`
	if status, got := rawCall(t, e, "CreateHttpNamespace", huge); status != http.StatusRequestEntityTooLarge || got != "RequestEntityTooLargeException" {
		t.Errorf("a 2 MiB body: got %d %s", status, got)
	}
	if after := e.Revision(t); after != before {
		t.Fatalf("bad input wrote: revision %d -> %d", before, after)
	}
}

// rawCall sends a hand-made Cloud Map request, signed as the SDK signs,
// and returns the status and the error's __type.
func rawCall(t *testing.T, e *flottatest.Env, op, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.Server.Endpoint()+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Route53AutoNaming_v20170314."+op)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: e.Root.AccessKeyID, SecretAccessKey: e.Root.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "servicediscovery", e.Server.Account().Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var eb struct {
		Type string `json:"__type"`
	}
	json.Unmarshal(b, &eb)
	return resp.StatusCode, eb.Type
}

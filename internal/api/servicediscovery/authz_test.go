package servicediscovery_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	sdapi "github.com/flotta-dev/flotta/internal/api/servicediscovery"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestAuthzCoversEveryOperation: every operation served has a row here,
// and each is authorized on the resource (and with the condition keys)
// that the service authorization reference for Cloud Map names: the
// namespace or service the request names, "*" for creations of namespaces,
// listings and operations, and "*" for anything that names nothing that
// exists (which the handler refuses).
func TestAuthzCoversEveryOperation(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.SD()
	ctx := context.Background()
	nsID := httpNS(t, c, "authz")
	out, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(nsID),
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})
	if err != nil {
		t.Fatal(err)
	}
	svcID, svcArn := aws.ToString(out.Service.Id), aws.ToString(out.Service.Arn)
	acct := e.Server.Account()
	nsArn := "arn:aws:servicediscovery:" + acct.Region + ":" + acct.ID + ":namespace/" + nsID
	star := []string{"*"}
	ns := []string{nsArn}
	nsKeys := map[string][]string{"servicediscovery:NamespaceArn": {nsArn}, "servicediscovery:NamespaceName": {"authz"}}
	svc := []string{svcArn}
	svcKeys := map[string][]string{"servicediscovery:ServiceArn": {svcArn}, "servicediscovery:ServiceName": {"web"}}
	discoverKeys := map[string][]string{"servicediscovery:NamespaceArn": {nsArn}, "servicediscovery:NamespaceName": {"authz"},
		"servicediscovery:ServiceArn": {svcArn}, "servicediscovery:ServiceName": {"web"}}
	onNS := `{"Id":"` + nsID + `"}`
	onSvc := `{"Id":"` + svcID + `"}`
	onInst := `{"ServiceId":"` + svcID + `","InstanceId":"i"}`
	cases := []struct {
		op, body string
		want     []string
		keys     map[string][]string
	}{
		{"CreateHttpNamespace", `{"Name":"x"}`, star, nil},
		{"CreatePrivateDnsNamespace", `{"Name":"x","Vpc":"v"}`, star, nil},
		{"CreatePublicDnsNamespace", `{"Name":"x"}`, star, nil},
		{"GetNamespace", onNS, ns, nsKeys},
		{"GetNamespace", `{"Id":"ns-0000000000000000"}`, star, nil},
		{"ListNamespaces", `{}`, star, nil},
		{"DeleteNamespace", onNS, ns, nsKeys},
		{"UpdateHttpNamespace", onNS, ns, nsKeys},
		{"UpdatePrivateDnsNamespace", onNS, ns, nsKeys},
		{"UpdatePublicDnsNamespace", onNS, ns, nsKeys},
		{"GetOperation", `{"OperationId":"x"}`, star, nil},
		{"ListOperations", `{}`, star, nil},
		{"CreateService", `{"Name":"s","NamespaceId":"` + nsID + `"}`, ns, nsKeys},
		{"CreateService", `{"Name":"s","NamespaceId":"` + nsArn + `"}`, ns, nsKeys},
		{"GetService", onSvc, svc, svcKeys},
		{"GetService", `{"Id":"` + svcArn + `"}`, svc, svcKeys},
		{"GetService", `{"Id":"srv-0000000000000000"}`, star, nil},
		{"UpdateService", onSvc, svc, svcKeys},
		{"ListServices", `{}`, star, nil},
		{"DeleteService", onSvc, svc, svcKeys},
		{"GetServiceAttributes", onInst, svc, svcKeys},
		{"UpdateServiceAttributes", onInst, svc, svcKeys},
		{"DeleteServiceAttributes", onInst, svc, svcKeys},
		{"RegisterInstance", onInst, svc, svcKeys},
		{"DeregisterInstance", onInst, svc, svcKeys},
		{"GetInstance", onInst, svc, svcKeys},
		{"ListInstances", onInst, svc, svcKeys},
		{"GetInstancesHealthStatus", onInst, svc, svcKeys},
		{"UpdateInstanceCustomHealthStatus", onInst, svc, svcKeys},
		{"DiscoverInstances", `{"NamespaceName":"authz","ServiceName":"web"}`, ns, discoverKeys},
		{"DiscoverInstances", `{"NamespaceName":"authz","ServiceName":"nope"}`, star, nil},
		{"DiscoverInstancesRevision", `{"NamespaceName":"authz","ServiceName":"web"}`, ns, discoverKeys},
		{"TagResource", `{"ResourceARN":"` + nsArn + `"}`, ns, nsKeys},
		{"UntagResource", `{"ResourceARN":"` + svcArn + `"}`, svc, svcKeys},
		{"ListTagsForResource", `{"ResourceARN":"` + svcArn + `"}`, svc, svcKeys},
		{"ListTagsForResource", `{"ResourceARN":"arn:aws:ecs:us-east-1:123456789012:cluster/default"}`, star, nil},
		{"GetService", `not json`, star, nil},
	}
	s := (&sdapi.API{State: e.Server.State()}).Service()
	if s.ActionPrefix != "servicediscovery" || s.SigningName != "servicediscovery" {
		t.Fatalf("signing name %q, action prefix %q", s.SigningName, s.ActionPrefix)
	}
	tested := map[string]bool{}
	for _, c := range cases {
		tested[c.op] = true
		got, keys := s.Resources(ctx, c.op, []byte(c.body))
		if !slices.Equal(got, c.want) || !reflect.DeepEqual(keys, c.keys) {
			t.Errorf("%s %s: authorized on %v %v, want %v %v", c.op, c.body, got, keys, c.want, c.keys)
		}
	}
	for op := range s.Ops {
		if !tested[op] {
			t.Errorf("%s has no row in the table", op)
		}
	}
}

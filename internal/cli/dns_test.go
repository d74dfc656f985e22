package cli_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestDNSVerbs: `dns ls` lists Cloud Map namespaces with their services
// and Route 53 zones; `dns query` asks the server the config file names.
func TestDNSVerbs(t *testing.T) {
	e := flottatest.StartServer(t, flottatest.Options{DNS: true})
	ctx := context.Background()
	sdc := e.SD()
	ns, err := sdc.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("corp.internal"), Vpc: aws.String("vpc-1")})
	if err != nil {
		t.Fatal(err)
	}
	var nsID string
	flottatest.Eventually(t, 10*time.Second, "the namespace", func() (bool, string) {
		op, err := sdc.GetOperation(ctx, &sd.GetOperationInput{OperationId: ns.OperationId})
		if err != nil {
			t.Fatal(err)
		}
		nsID = op.Operation.Targets["NAMESPACE"]
		return op.Operation.Status == sdtypes.OperationStatusSuccess, string(op.Operation.Status)
	})
	svc, err := sdc.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(nsID),
		DnsConfig: &sdtypes.DnsConfig{DnsRecords: []sdtypes.DnsRecord{{Type: sdtypes.RecordTypeA, TTL: aws.Int64(5)}}}})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sdc.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("i-1"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.7"}})
	if err != nil {
		t.Fatal(err)
	}
	flottatest.Eventually(t, 10*time.Second, "the registration", func() (bool, string) {
		op, err := sdc.GetOperation(ctx, &sd.GetOperationInput{OperationId: reg.OperationId})
		if err != nil {
			t.Fatal(err)
		}
		return op.Operation.Status == sdtypes.OperationStatusSuccess, string(op.Operation.Status)
	})
	if _, err := e.R53().CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("shop.internal"), CallerReference: aws.String("c1"),
		VPC: &r53types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: r53types.VPCRegionUsEast1}}); err != nil {
		t.Fatal(err)
	}

	out, _ := mustRunAll(t, e.DataDir, "dns", "ls")
	for _, want := range []string{"corp.internal.", "cloudmap", nsID, "web (1)", "shop.internal.", "route53", "2 record sets"} {
		if !strings.Contains(out, want) {
			t.Fatalf("dns ls does not show %q:\n%s", want, out)
		}
	}
	out, _ = mustRunAll(t, e.DataDir, "dns", "ls", "-o", "json")
	var listed struct {
		Zones []struct {
			Name, Kind string
			Services   map[string]int
		}
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed.Zones) != 2 || listed.Zones[0].Services["web"] != 1 {
		t.Fatalf("dns ls -o json: %v\n%s", err, out)
	}

	// The server's address comes from the config file the server wrote.
	var got string
	flottatest.Eventually(t, 5*time.Second, "dns query to answer", func() (bool, string) {
		got, _ = mustRunAll(t, e.DataDir, "dns", "query", "web.corp.internal")
		return strings.Contains(got, "10.0.0.7"), got
	})
	if !strings.HasPrefix(got, "NOERROR from "+e.Server.DNSAddr()) || !strings.Contains(got, "authoritative") {
		t.Fatalf("dns query says:\n%s", got)
	}
	out, _ = mustRunAll(t, e.DataDir, "dns", "query", "nothing.example", "TXT")
	if !strings.HasPrefix(out, "REFUSED") || !strings.Contains(out, "--dns-upstream") {
		t.Fatalf("a name Flotta does not serve:\n%s", out)
	}
	failRun(t, e.DataDir, `unknown DNS type "BOGUS"`, "dns", "query", "web.corp.internal", "bogus")

	// service describe names a service's registry and what it holds.
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("vpc"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo"), Memory: aws.Int32(64)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("front"), TaskDefinition: aws.String("vpc"),
		ServiceRegistries: []ecstypes.ServiceRegistry{{RegistryArn: svc.Service.Arn}}}); err != nil {
		t.Fatal(err)
	}
	out, _ = mustRunAll(t, e.DataDir, "service", "describe", "front")
	if !strings.Contains(out, "Registry:    web.corp.internal (A), 1 registered") {
		t.Fatalf("service describe does not show the registry:\n%s", out)
	}
}

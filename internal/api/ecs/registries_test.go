package ecs_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/state"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// seedCloudMap writes a private DNS namespace "corp.internal" with a
// service "web" (A records) and a service "db" (SRV records) straight in
// the store, and returns the two services' ARNs and the namespace's.
func seedCloudMap(t *testing.T, e *flottatest.Env) (web, db, ns string) {
	t.Helper()
	st := e.Server.State()
	ctx := context.Background()
	acct := e.Server.Account().ID
	ns = "arn:aws:servicediscovery:us-east-1:" + acct + ":namespace/ns-corp000000000000"
	op := state.SDOperation{ID: "op-corp", Type: state.SDOpCreateNamespace, Status: state.SDOpSubmitted, CreateDate: time.Now(), UpdateDate: time.Now(),
		Targets: map[string]string{"NAMESPACE": "ns-corp000000000000"},
		Namespace: &state.SDNamespace{ID: "ns-corp000000000000", Arn: ns, Name: "corp.internal", Type: "DNS_PRIVATE",
			HTTPName: "corp.internal", CreateDate: time.Now()}}
	if err := st.SubmitSDNamespace(ctx, op); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CompleteSDOperation(ctx, op.ID); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ id, name, typ string }{{"srv-web0000000000000", "web", "A"}, {"srv-db00000000000000", "db", "SRV"}} {
		if err := st.CreateSDService(ctx, state.SDService{ID: s.id, Arn: "arn:aws:servicediscovery:us-east-1:" + acct + ":service/" + s.id, Name: s.name,
			NamespaceID: "ns-corp000000000000", Type: "DNS_HTTP", RoutingPolicy: "MULTIVALUE", DnsRecords: []state.SDDnsRecord{{Type: s.typ, TTL: 10}},
			CreateDate: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return "arn:aws:servicediscovery:us-east-1:" + acct + ":service/srv-web0000000000000",
		"arn:aws:servicediscovery:us-east-1:" + acct + ":service/srv-db00000000000000", ns
}

// TestServiceRegistriesAreCheckedAsECSChecksThem: CreateService refuses
// registries ECS refuses, in its words, and changes nothing; the ones it
// takes are shown by DescribeServices and found by ListServicesByNamespace.
func TestServiceRegistriesAreCheckedAsECSChecksThem(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	web, db, ns := seedCloudMap(t, e)
	app := types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("app"), Memory: aws.Int32(64),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}
	for family, mode := range map[string]types.NetworkMode{"br": types.NetworkModeBridge, "vpc": types.NetworkModeAwsvpc} {
		if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), NetworkMode: mode,
			ContainerDefinitions: []types.ContainerDefinition{app}}); err != nil {
			t.Fatal(err)
		}
	}
	port := func(p int32) *int32 { return aws.Int32(p) }
	cases := []struct {
		name     string
		family   string
		regs     []types.ServiceRegistry
		fragment string
	}{
		{"two registries", "vpc", []types.ServiceRegistry{{RegistryArn: aws.String(web)}, {RegistryArn: aws.String(web)}}, "only one service registry"},
		{"no ARN", "vpc", []types.ServiceRegistry{{}}, "registryArn can not be blank"},
		{"not a Cloud Map ARN", "vpc", []types.ServiceRegistry{{RegistryArn: aws.String("arn:aws:ecs:us-east-1:1:service/x")}}, "not a valid Cloud Map service ARN"},
		{"unknown service", "vpc", []types.ServiceRegistry{{RegistryArn: aws.String(web[:len(web)-4] + "zzzz")}}, "does not exist"},
		{"bridge without SRV", "br", []types.ServiceRegistry{{RegistryArn: aws.String(web), ContainerName: aws.String("app"), ContainerPort: port(8080)}}, "must have an SRV record"},
		{"bridge without container", "br", []types.ServiceRegistry{{RegistryArn: aws.String(db)}}, "values for 'containerName' and 'containerPort' must be specified from the task definition"},
		{"container port for A records", "vpc", []types.ServiceRegistry{{RegistryArn: aws.String(web), ContainerName: aws.String("app"), ContainerPort: port(8080)}}, "do not require a value for 'containerPort'"},
		{"port for A records", "vpc", []types.ServiceRegistry{{RegistryArn: aws.String(web), Port: port(80)}}, "A port was provided but is not required"},
		{"SRV without a port", "vpc", []types.ServiceRegistry{{RegistryArn: aws.String(db)}}, "specify either"},
		{"SRV with both ports", "vpc", []types.ServiceRegistry{{RegistryArn: aws.String(db), Port: port(80), ContainerName: aws.String("app"), ContainerPort: port(8080)}}, "both 'port' and 'containerPort'"},
		{"unknown container", "br", []types.ServiceRegistry{{RegistryArn: aws.String(db), ContainerName: aws.String("nope"), ContainerPort: port(8080)}}, "The container nope does not exist"},
		{"unknown container port", "br", []types.ServiceRegistry{{RegistryArn: aws.String(db), ContainerName: aws.String("app"), ContainerPort: port(9999)}}, "did not have a container port 9999"},
		{"name without port", "br", []types.ServiceRegistry{{RegistryArn: aws.String(db), ContainerName: aws.String("app")}}, "must be specified together"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			unchanged(t, e, func() {
				_, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("s"), TaskDefinition: aws.String(c.family), ServiceRegistries: c.regs})
				wantAPIError(t, err, "InvalidParameterException", c.fragment)
			})
		})
	}

	// Accepted: SRV with a container port in bridge mode, A in awsvpc mode.
	if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("database"), TaskDefinition: aws.String("br"),
		ServiceRegistries: []types.ServiceRegistry{{RegistryArn: aws.String(db), ContainerName: aws.String("app"), ContainerPort: port(8080)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("frontend"), TaskDefinition: aws.String("vpc"),
		ServiceRegistries: []types.ServiceRegistry{{RegistryArn: aws.String(web)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("loner"), TaskDefinition: aws.String("vpc")}); err != nil {
		t.Fatal(err)
	}
	out, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"database"}})
	if err != nil || len(out.Services) != 1 || len(out.Services[0].ServiceRegistries) != 1 {
		t.Fatalf("describe: %v %+v", err, out)
	}
	if r := out.Services[0].ServiceRegistries[0]; aws.ToString(r.RegistryArn) != db || aws.ToString(r.ContainerName) != "app" || aws.ToInt32(r.ContainerPort) != 8080 || r.Port != nil {
		t.Fatalf("the registry reads back as %+v", r)
	}

	// ListServicesByNamespace, by name and by ARN.
	for _, ref := range []string{"corp.internal", "CORP.internal.", ns} {
		l, err := e.ECS.ListServicesByNamespace(ctx, &ecs.ListServicesByNamespaceInput{Namespace: aws.String(ref)})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(l.ServiceArns)
		want := []string{e.Server.State().ServiceARN("default", "database"), e.Server.State().ServiceARN("default", "frontend")}
		if !slices.Equal(l.ServiceArns, want) {
			t.Fatalf("ListServicesByNamespace(%s) = %v, want %v", ref, l.ServiceArns, want)
		}
	}
	l, err := e.ECS.ListServicesByNamespace(ctx, &ecs.ListServicesByNamespaceInput{Namespace: aws.String("corp.internal"), MaxResults: aws.Int32(1)})
	if err != nil || len(l.ServiceArns) != 1 || l.NextToken == nil {
		t.Fatalf("a page of one: %v %+v", err, l)
	}
	_, err = e.ECS.ListServicesByNamespace(ctx, &ecs.ListServicesByNamespaceInput{Namespace: aws.String("nowhere.internal")})
	wantAPIError(t, err, "NamespaceNotFoundException")

	// UpdateService checks them too, and a change is a new deployment.
	unchanged(t, e, func() {
		_, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("frontend"),
			ServiceRegistries: []types.ServiceRegistry{{RegistryArn: aws.String(db)}}})
		wantAPIError(t, err, "InvalidParameterException", "specify either")
	})
	up, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("frontend"),
		ServiceRegistries: []types.ServiceRegistry{{RegistryArn: aws.String(db), Port: port(8080)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Service.Deployments) != 2 || aws.ToInt32(up.Service.ServiceRegistries[0].Port) != 8080 {
		t.Fatalf("the update shows %d deployments and registries %+v", len(up.Service.Deployments), up.Service.ServiceRegistries)
	}
}

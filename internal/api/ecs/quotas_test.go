package ecs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// The quotas are ECS's (model.DefaultQuotas); here they are made small so
// that reaching each one is quick, which also shows that a server can set
// its own.
func TestQuotasAreEnforced(t *testing.T) {
	e := flottatest.StartServer(t, flottatest.Options{Quotas: model.Quotas{
		TasksPerService: 5, ServicesPerCluster: 3, InstancesPerCluster: 2, RevisionsPerFamily: 3}})
	ctx := context.Background()

	t.Run("revisions per family", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
				ContainerDefinitions: []types.ContainerDefinition{container("a")}}); err != nil {
				t.Fatal(err)
			}
		}
		// A deregistered revision still counts, as in ECS.
		if _, err := e.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:1")}); err != nil {
			t.Fatal(err)
		}
		unchanged(t, e, func() {
			_, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
				ContainerDefinitions: []types.ContainerDefinition{container("a")}})
			wantAPIError(t, err, "ClientException", "revisions per family limit exceeded", "web")
		})
	})

	t.Run("tasks per service", func(t *testing.T) {
		unchanged(t, e, func() {
			_, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("big"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(6)})
			wantAPIError(t, err, "InvalidParameterException", "Desired count exceeds limit.")
		})
		if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("s0"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(5)}); err != nil {
			t.Fatalf("a service at the quota: %v", err)
		}
		// (The service controller writes meanwhile: the check is on the service.)
		_, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("s0"), DesiredCount: aws.Int32(6)})
		wantAPIError(t, err, "InvalidParameterException", "Desired count exceeds limit.")
		out, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"s0"}})
		if err != nil || len(out.Services) != 1 || out.Services[0].DesiredCount != 5 {
			t.Fatalf("after a refused update: %v %+v", err, out)
		}
	})

	t.Run("services per cluster", func(t *testing.T) {
		for i := 1; i < 3; i++ {
			if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String(fmt.Sprintf("s%d", i)), TaskDefinition: aws.String("web")}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("s3"), TaskDefinition: aws.String("web")})
		wantAPIError(t, err, "InvalidParameterException", "Services per cluster limit exceeded", "default")
		list, err := e.ECS.ListServices(ctx, &ecs.ListServicesInput{})
		if err != nil || len(list.ServiceArns) != 3 {
			t.Fatalf("after a refused creation: %v %v", err, list.ServiceArns)
		}
		// Another cluster has a quota of its own.
		if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("other")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("other"), ServiceName: aws.String("s3"), TaskDefinition: aws.String("web")}); err != nil {
			t.Fatalf("a service in another cluster: %v", err)
		}
	})

	t.Run("container instances per cluster", func(t *testing.T) {
		register := func(id string) error {
			doc, _ := json.Marshal(map[string]string{"instanceId": id})
			_, err := e.ECS.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
				InstanceIdentityDocument: aws.String(string(doc)),
				TotalResources: []types.Resource{
					{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 1024},
					{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 1024},
				},
			})
			return err
		}
		for _, id := range []string{"i-1", "i-2"} {
			if err := register(id); err != nil {
				t.Fatal(err)
			}
		}
		unchanged(t, e, func() {
			wantAPIError(t, register("i-3"), "ClientException", "Container instances per cluster limit exceeded")
		})
	})
}

// TestQuotaHoldsUnderConcurrentCreations: 30 services created at once
// against a quota of 10 leave exactly 10.
func TestQuotaHoldsUnderConcurrentCreations(t *testing.T) {
	e := flottatest.StartServer(t, flottatest.Options{Quotas: model.Quotas{ServicesPerCluster: 10}})
	ctx := context.Background()
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{container("a")}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var created, refused atomic.Int32
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String(fmt.Sprintf("s%02d", i)), TaskDefinition: aws.String("web")})
			switch {
			case err == nil:
				created.Add(1)
			case strings.Contains(err.Error(), "Services per cluster limit exceeded"):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	list, err := e.ECS.ListServices(ctx, &ecs.ListServicesInput{MaxResults: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	if created.Load() != 10 || refused.Load() != 20 || len(list.ServiceArns) != 10 {
		t.Fatalf("created %d, refused %d, listed %d; want 10, 20, 10", created.Load(), refused.Load(), len(list.ServiceArns))
	}
}

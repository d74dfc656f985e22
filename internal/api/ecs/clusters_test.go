package ecs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/state"
	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

func TestDefaultClusterExistsFromFirstStart(t *testing.T) {
	e := flottatest.StartServer(t)
	out, err := e.ECS.DescribeClusters(context.Background(), &ecs.DescribeClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Clusters) != 1 || aws.ToString(out.Clusters[0].ClusterName) != "default" || aws.ToString(out.Clusters[0].Status) != "ACTIVE" {
		t.Fatalf("describe with no names: %+v %+v", out.Clusters, out.Failures)
	}
	want := fmt.Sprintf("arn:aws:ecs:us-east-1:%s:cluster/default", e.Server.Account().ID)
	if got := aws.ToString(out.Clusters[0].ClusterArn); got != want {
		t.Fatalf("ARN %s, want %s", got, want)
	}
}

func TestCreateClusterIsIdempotentOnName(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	first, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{
		ClusterName: aws.String("web"),
		Tags:        []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}},
		Settings:    []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enhanced")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := first.Cluster
	if aws.ToString(c.Status) != "ACTIVE" || len(c.Tags) != 1 || aws.ToString(c.Settings[0].Value) != "enhanced" {
		t.Fatalf("created %+v", c)
	}
	unchanged(t, e, func() {
		again, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{
			ClusterName: aws.String("web"),
			Tags:        []types.Tag{{Key: aws.String("team"), Value: aws.String("red")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(again.Cluster.ClusterArn) != aws.ToString(c.ClusterArn) || aws.ToString(again.Cluster.Tags[0].Value) != "blue" {
			t.Fatalf("second create returned %+v, want the existing cluster unchanged", again.Cluster)
		}
	})
}

func TestCreateClusterWithoutNameIsDefault(t *testing.T) {
	e := flottatest.StartServer(t)
	out, err := e.ECS.CreateCluster(context.Background(), &ecs.CreateClusterInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Cluster.ClusterName) != "default" {
		t.Fatalf("got %s", aws.ToString(out.Cluster.ClusterName))
	}
}

func TestCreateClusterTakesContainerInsightsFromAccountSetting(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	if _, err := e.ECS.PutAccountSettingDefault(ctx, &ecs.PutAccountSettingDefaultInput{
		Name: types.SettingNameContainerInsights, Value: aws.String("enabled")}); err != nil {
		t.Fatal(err)
	}
	out, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("insightful")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Cluster.Settings) != 1 || aws.ToString(out.Cluster.Settings[0].Value) != "enabled" {
		t.Fatalf("settings %+v", out.Cluster.Settings)
	}
}

func TestDescribeClustersIncludesAndFailures(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	created, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("api"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.Cluster.ClusterArn)

	plain, err := e.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := plain.Clusters[0]; len(c.Tags) != 0 || len(c.Settings) != 0 || len(c.Statistics) != 0 {
		t.Fatalf("without include, tags/settings/statistics must be left out: %+v", c)
	}

	out, err := e.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{
		Clusters: []string{arn, "default", "nope", "arn:aws:ecs:us-east-1:000000000000:cluster/foreign"},
		Include:  []types.ClusterField{types.ClusterFieldTags, types.ClusterFieldSettings, types.ClusterFieldStatistics},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Clusters) != 2 || aws.ToString(out.Clusters[0].ClusterName) != "api" || aws.ToString(out.Clusters[1].ClusterName) != "default" {
		t.Fatalf("clusters %+v", out.Clusters)
	}
	api := out.Clusters[0]
	if len(api.Tags) != 1 || len(api.Settings) != 1 || len(api.Statistics) != 8 {
		t.Fatalf("includes not honoured: tags %v settings %v statistics %v", api.Tags, api.Settings, api.Statistics)
	}
	if aws.ToString(api.Statistics[0].Name) != "runningEC2TasksCount" || aws.ToString(api.Statistics[0].Value) != "0" {
		t.Fatalf("statistics %+v", api.Statistics)
	}
	if len(out.Failures) != 2 {
		t.Fatalf("failures %+v", out.Failures)
	}
	wantMissing := fmt.Sprintf("arn:aws:ecs:us-east-1:%s:cluster/nope", e.Server.Account().ID)
	if aws.ToString(out.Failures[0].Arn) != wantMissing || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Fatalf("failure %+v, want %s MISSING", out.Failures[0], wantMissing)
	}
	if aws.ToString(out.Failures[1].Reason) != "MISSING" {
		t.Fatalf("a cluster of another account must be MISSING: %+v", out.Failures[1])
	}
}

func TestListClustersPagesPastOneHundred(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	for i := 0; i < 120; i++ {
		if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(fmt.Sprintf("c%03d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("c050")}); err != nil {
		t.Fatal(err)
	}
	first, err := e.ECS.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.ClusterArns) != 100 || first.NextToken == nil {
		t.Fatalf("first page: %d ARNs, token %v; want 100 and a token", len(first.ClusterArns), first.NextToken)
	}
	seen := map[string]bool{}
	pages := 0
	p := ecs.NewListClustersPaginator(e.ECS, &ecs.ListClustersInput{MaxResults: aws.Int32(7)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.ClusterArns) > 7 {
			t.Fatalf("page of %d exceeds maxResults 7", len(page.ClusterArns))
		}
		for _, arn := range page.ClusterArns {
			if seen[arn] {
				t.Fatalf("%s listed twice", arn)
			}
			seen[arn] = true
		}
	}
	// 120 created + default - 1 deleted.
	if len(seen) != 120 || pages != 18 {
		t.Fatalf("listed %d clusters in %d pages, want 120 in 18", len(seen), pages)
	}
	deleted := fmt.Sprintf("arn:aws:ecs:us-east-1:%s:cluster/c050", e.Server.Account().ID)
	if seen[deleted] {
		t.Fatal("an INACTIVE cluster was listed")
	}
}

func TestUpdateClusterAndSettings(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	out, err := e.ECS.UpdateClusterSettings(ctx, &ecs.UpdateClusterSettingsInput{Cluster: aws.String("ops"),
		Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Cluster.Settings) != 1 || aws.ToString(out.Cluster.Settings[0].Value) != "enabled" {
		t.Fatalf("settings %+v", out.Cluster.Settings)
	}
	up, err := e.ECS.UpdateCluster(ctx, &ecs.UpdateClusterInput{Cluster: out.Cluster.ClusterArn,
		Configuration: &types.ClusterConfiguration{ExecuteCommandConfiguration: &types.ExecuteCommandConfiguration{Logging: types.ExecuteCommandLoggingDefault}},
		Settings:      []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("disabled")}}})
	if err != nil {
		t.Fatal(err)
	}
	if up.Cluster.Configuration == nil || up.Cluster.Configuration.ExecuteCommandConfiguration.Logging != types.ExecuteCommandLoggingDefault ||
		aws.ToString(up.Cluster.Settings[0].Value) != "disabled" {
		t.Fatalf("update %+v", up.Cluster)
	}
	unchanged(t, e, func() {
		_, err := e.ECS.UpdateCluster(ctx, &ecs.UpdateClusterInput{Cluster: aws.String("nope")})
		wantAPIError(t, err, "ClusterNotFoundException", "Cluster not found.")
		_, err = e.ECS.UpdateClusterSettings(ctx, &ecs.UpdateClusterSettingsInput{Cluster: aws.String("ops"),
			Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("sometimes")}}})
		wantAPIError(t, err, "InvalidParameterException", "Invalid setting 'value'")
	})
}

func TestDeleteClusterTurnsInactiveAndCanBeRecreated(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("tmp")}); err != nil {
		t.Fatal(err)
	}
	del, err := e.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("tmp")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(del.Cluster.Status) != "INACTIVE" {
		t.Fatalf("status after delete %s", aws.ToString(del.Cluster.Status))
	}
	d, _ := e.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"tmp"}})
	if len(d.Clusters) != 1 || aws.ToString(d.Clusters[0].Status) != "INACTIVE" {
		t.Fatalf("describe after delete %+v", d)
	}
	unchanged(t, e, func() {
		_, err := e.ECS.UpdateClusterSettings(ctx, &ecs.UpdateClusterSettingsInput{Cluster: aws.String("tmp"),
			Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}}})
		wantAPIError(t, err, "ClusterNotFoundException")
		_, err = e.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("never-was")})
		wantAPIError(t, err, "ClusterNotFoundException")
	})
	again, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("tmp")})
	if err != nil || aws.ToString(again.Cluster.Status) != "ACTIVE" {
		t.Fatalf("re-create: %+v %v", again, err)
	}
}

func TestDeleteClusterRefusesWhileItHoldsResources(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("app"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: aws.Int32(64)}}}); err != nil {
		t.Fatal(err)
	}
	var heldTask string
	for _, tc := range []struct {
		code, text string
		// hold puts the resource in the cluster; release takes it out.
		hold, release func(cluster string)
	}{
		{"ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.",
			func(cluster string) {
				if _, err := e.ECS.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("svc"), TaskDefinition: aws.String("app")}); err != nil {
					t.Fatal(err)
				}
			},
			func(cluster string) {
				if _, err := e.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String("svc")}); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "the service INACTIVE", func() bool {
					out, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"svc"}})
					return err == nil && len(out.Services) == 1 && aws.ToString(out.Services[0].Status) == "INACTIVE"
				})
			}},
		{"ClusterContainsContainerInstancesException", "The Cluster cannot be deleted while Container Instances are active or draining.",
			func(cluster string) {
				if _, err := e.ECS.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String(cluster),
					InstanceIdentityDocument: aws.String(`{"instanceId":"i-busy"}`),
					TotalResources: []types.Resource{{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 1024},
						{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 1024}}}); err != nil {
					t.Fatal(err)
				}
			},
			func(cluster string) {
				list, err := e.ECS.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
				if err != nil || len(list.ContainerInstanceArns) != 1 {
					t.Fatalf("%v %v", err, list)
				}
				if _, err := e.ECS.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String(cluster),
					ContainerInstance: aws.String(list.ContainerInstanceArns[0])}); err != nil {
					t.Fatal(err)
				}
			}},
		{"ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.",
			// A task with no instance left is what only this check stops: it
			// is written here through the state's own door, as the scheduler
			// writes a placement.
			func(cluster string) {
				st := e.Server.State()
				c, err := st.GetCluster(ctx, cluster)
				if err != nil {
					t.Fatal(err)
				}
				def, err := st.GetTaskDefinition(ctx, "app", 0)
				if err != nil {
					t.Fatal(err)
				}
				rec := st.NewTaskRecord(c, &def.TaskDefinition, &state.InstanceRecord{ID: "gone"}, state.TaskOptions{})
				heldTask = rec.ID
				if _, err := st.CommitPlacements(ctx, cluster, state.Batch{Tasks: []state.TaskRecord{rec}}); err != nil {
					t.Fatal(err)
				}
			},
			func(cluster string) {
				if _, err := e.Server.State().MarkTaskLost(ctx, cluster, heldTask, "test"); err != nil {
					t.Fatal(err)
				}
			}},
	} {
		name := "busy-" + tc.code[len("ClusterContains"):len(tc.code)-len("Exception")]
		if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		tc.hold(name)
		_, err := e.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(name)})
		wantAPIError(t, err, tc.code, tc.text)
		tc.release(name)
		if _, err := e.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(name)}); err != nil {
			t.Fatalf("delete once empty: %v", err)
		}
	}
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within 20s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestClusterBadInput(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	unchanged(t, e, func() {
		_, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bad name!")})
		wantAPIError(t, err, "InvalidParameterException", "bad name!")
		_, err = e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(string(make([]byte, 256)))})
		wantAPIError(t, err, "InvalidParameterException")
		_, err = e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("ok"),
			Settings: []types.ClusterSetting{{Name: "colour", Value: aws.String("red")}}})
		wantAPIError(t, err, "InvalidParameterException", "Invalid setting 'name'")
		_, err = e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("ok"),
			Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("me")}}})
		wantAPIError(t, err, "InvalidParameterException", "aws:")
		_, err = e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("ok"), CapacityProviders: []string{"MY_ASG"}})
		wantAPIError(t, err, "InvalidParameterException", "MY_ASG")
		_, err = e.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Include: []types.ClusterField{"EVERYTHING"}})
		wantAPIError(t, err, "InvalidParameterException", "include should be one of")
		many := make([]string, 101)
		for i := range many {
			many[i] = fmt.Sprintf("c%d", i)
		}
		_, err = e.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: many})
		wantAPIError(t, err, "InvalidParameterException", "at most 100")
		_, err = e.ECS.ListClusters(ctx, &ecs.ListClustersInput{MaxResults: aws.Int32(101)})
		wantAPIError(t, err, "InvalidParameterException", "maxResults")
		_, err = e.ECS.ListClusters(ctx, &ecs.ListClustersInput{NextToken: aws.String("not-a-token")})
		wantAPIError(t, err, "InvalidParameterException", "nextToken")
		_, err = e.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("arn:aws:s3:::bucket")})
		wantAPIError(t, err, "InvalidParameterException")
	})
}

package ecs_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// fullTaskDefinition uses every container-definition field a Docker task needs.
func fullTaskDefinition(family string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family:           aws.String(family),
		TaskRoleArn:      aws.String("arn:aws:iam::123456789012:role/app"),
		ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/exec"),
		NetworkMode:      types.NetworkModeBridge,
		Cpu:              aws.String("1 vCPU"),
		Memory:           aws.String("1 GB"),
		RuntimePlatform:  &types.RuntimePlatform{CpuArchitecture: types.CPUArchitectureX8664, OperatingSystemFamily: types.OSFamilyLinux},
		Volumes: []types.Volume{
			{Name: aws.String("data"), Host: &types.HostVolumeProperties{SourcePath: aws.String("/srv/data")}},
			{Name: aws.String("scratch"), DockerVolumeConfiguration: &types.DockerVolumeConfiguration{Scope: types.ScopeTask, Driver: aws.String("local")}},
		},
		PlacementConstraints:    []types.TaskDefinitionPlacementConstraint{{Type: types.TaskDefinitionPlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.os-type == linux")}},
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
		Tags:                    []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
		ContainerDefinitions: []types.ContainerDefinition{
			{
				Name:              aws.String("web"),
				Image:             aws.String("flotta/demo:latest"),
				Cpu:               512,
				Memory:            aws.Int32(512),
				MemoryReservation: aws.Int32(256),
				PortMappings: []types.PortMapping{
					{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0), Protocol: types.TransportProtocolTcp, Name: aws.String("http"), AppProtocol: types.ApplicationProtocolHttp},
					{ContainerPort: aws.Int32(9000), Protocol: types.TransportProtocolUdp},
				},
				Essential:              aws.Bool(true),
				EntryPoint:             []string{"/demo-app"},
				Command:                []string{"serve", "--port", "8080"},
				Environment:            []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("prod")}},
				Secrets:                []types.Secret{{Name: aws.String("TOKEN"), ValueFrom: aws.String("arn:aws:ssm:us-east-1:123456789012:parameter/token")}},
				DependsOn:              []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess}, {ContainerName: aws.String("sidecar"), Condition: types.ContainerConditionHealthy}},
				HealthCheck:            &types.HealthCheck{Command: []string{"CMD", "/demo-app", "health"}, Interval: aws.Int32(10), Timeout: aws.Int32(3), Retries: aws.Int32(2), StartPeriod: aws.Int32(5)},
				StopTimeout:            aws.Int32(20),
				StartTimeout:           aws.Int32(60),
				User:                   aws.String("1000:1000"),
				WorkingDirectory:       aws.String("/srv"),
				ReadonlyRootFilesystem: aws.Bool(true),
				Privileged:             aws.Bool(false),
				LinuxParameters: &types.LinuxParameters{
					Capabilities:       &types.KernelCapabilities{Add: []string{"NET_ADMIN"}, Drop: []string{"MKNOD"}},
					InitProcessEnabled: aws.Bool(true),
					SharedMemorySize:   aws.Int32(64),
					Tmpfs:              []types.Tmpfs{{ContainerPath: aws.String("/tmp"), Size: 16, MountOptions: []string{"noexec"}}},
					Swappiness:         aws.Int32(10),
				},
				Ulimits:              []types.Ulimit{{Name: types.UlimitNameNofile, SoftLimit: 1024, HardLimit: 4096}},
				DockerLabels:         map[string]string{"com.example.tier": "front"},
				LogConfiguration:     &types.LogConfiguration{LogDriver: types.LogDriverJsonFile, Options: map[string]string{"max-size": "10m"}},
				MountPoints:          []types.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/data"), ReadOnly: aws.Bool(true)}},
				VolumesFrom:          []types.VolumeFrom{{SourceContainer: aws.String("sidecar"), ReadOnly: aws.Bool(true)}},
				ResourceRequirements: []types.ResourceRequirement{{Type: types.ResourceTypeGpu, Value: aws.String("1")}},
			},
			{
				Name: aws.String("init"), Image: aws.String("flotta/demo:latest"), Essential: aws.Bool(false), MemoryReservation: aws.Int32(32),
				Command:       []string{"migrate"},
				RestartPolicy: &types.ContainerRestartPolicy{Enabled: aws.Bool(true), IgnoredExitCodes: []int32{0}, RestartAttemptPeriod: aws.Int32(60)},
			},
			{
				Name: aws.String("sidecar"), Image: aws.String("flotta/demo:latest"), MemoryReservation: aws.Int32(32),
				HealthCheck: &types.HealthCheck{Command: []string{"CMD-SHELL", "true"}},
				MountPoints: []types.MountPoint{{SourceVolume: aws.String("scratch"), ContainerPath: aws.String("/scratch")}},
			},
		},
	}
}

func TestRegisterTaskDefinitionRoundTripsEveryField(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	in := fullTaskDefinition("shop")
	reg, err := e.ECS.RegisterTaskDefinition(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	td := reg.TaskDefinition
	wantARN := fmt.Sprintf("arn:aws:ecs:us-east-1:%s:task-definition/shop:1", e.Server.Account().ID)
	if aws.ToString(td.TaskDefinitionArn) != wantARN || td.Revision != 1 || td.Status != types.TaskDefinitionStatusActive {
		t.Fatalf("registered %s rev %d %s", aws.ToString(td.TaskDefinitionArn), td.Revision, td.Status)
	}
	if aws.ToString(td.Cpu) != "1024" || aws.ToString(td.Memory) != "1024" {
		t.Fatalf("cpu/memory not normalised: %s %s", aws.ToString(td.Cpu), aws.ToString(td.Memory))
	}
	if td.RegisteredAt == nil || aws.ToString(td.RegisteredBy) != e.Server.Account().Scope().RootARN() {
		t.Fatalf("registeredAt %v registeredBy %s", td.RegisteredAt, aws.ToString(td.RegisteredBy))
	}
	if len(reg.Tags) != 1 {
		t.Fatalf("tags %+v", reg.Tags)
	}
	for _, attr := range []string{"com.amazonaws.ecs.capability.task-iam-role", "ecs.capability.container-health-check",
		"ecs.capability.container-ordering", "com.amazonaws.ecs.capability.docker-remote-api.1.21", "ecs.capability.nvidia-gpu"} {
		if !slices.ContainsFunc(td.RequiresAttributes, func(a types.Attribute) bool { return aws.ToString(a.Name) == attr }) {
			t.Errorf("requiresAttributes lacks %s: %v", attr, td.RequiresAttributes)
		}
	}

	desc, err := e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("shop"),
		Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	ignore := cmpopts.IgnoreUnexported(types.TaskDefinition{}, types.ContainerDefinition{}, types.PortMapping{}, types.KeyValuePair{},
		types.Secret{}, types.ContainerDependency{}, types.HealthCheck{}, types.LinuxParameters{}, types.KernelCapabilities{},
		types.Tmpfs{}, types.Ulimit{}, types.LogConfiguration{}, types.MountPoint{}, types.VolumeFrom{}, types.ResourceRequirement{},
		types.ContainerRestartPolicy{}, types.Volume{}, types.HostVolumeProperties{}, types.DockerVolumeConfiguration{},
		types.TaskDefinitionPlacementConstraint{}, types.RuntimePlatform{}, types.Attribute{}, types.Tag{}, types.SystemControl{})
	if diff := cmp.Diff(td, desc.TaskDefinition, ignore); diff != "" {
		t.Fatalf("describe differs from register (-register +describe):\n%s", diff)
	}
	if len(desc.Tags) != 1 || aws.ToString(desc.Tags[0].Key) != "team" {
		t.Fatalf("describe tags %+v", desc.Tags)
	}
	// What the caller sent comes back: compare the container definitions field by field.
	got, sent := desc.TaskDefinition.ContainerDefinitions[0], in.ContainerDefinitions[0]
	sent.PortMappings[1].HostPort = nil           // not sent, not filled in bridge mode
	sent.SystemControls = []types.SystemControl{} // ECS answers an empty list
	if diff := cmp.Diff(sent, got, ignore); diff != "" {
		t.Fatalf("container definition did not round-trip (-sent +described):\n%s", diff)
	}
	if diff := cmp.Diff(in.Volumes, desc.TaskDefinition.Volumes, ignore); diff != "" {
		t.Fatalf("volumes did not round-trip:\n%s", diff)
	}
	// Defaults ECS fills in.
	init := desc.TaskDefinition.ContainerDefinitions[1]
	side := desc.TaskDefinition.ContainerDefinitions[2]
	if !aws.ToBool(side.Essential) || aws.ToInt32(side.HealthCheck.Interval) != 30 || aws.ToInt32(side.HealthCheck.Timeout) != 5 || aws.ToInt32(side.HealthCheck.Retries) != 3 {
		t.Fatalf("defaults not filled: essential %v healthCheck %+v", side.Essential, side.HealthCheck)
	}
	if aws.ToBool(init.Essential) {
		t.Fatal("essential=false was lost")
	}
	if desc.TaskDefinition.ContainerDefinitions[0].PortMappings[1].Protocol != types.TransportProtocolUdp {
		t.Fatal("udp protocol lost")
	}
}

func TestAwsvpcHostPortsAreFilledAndFargateIsDetected(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	out, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("svc"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo"),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	td := out.TaskDefinition
	if aws.ToInt32(td.ContainerDefinitions[0].PortMappings[0].HostPort) != 80 {
		t.Fatalf("awsvpc hostPort not filled: %+v", td.ContainerDefinitions[0].PortMappings[0])
	}
	if !slices.Equal(td.Compatibilities, []types.Compatibility{"EC2", "FARGATE"}) {
		t.Fatalf("compatibilities %v", td.Compatibilities)
	}
	for _, mem := range []string{"512", "1024", "2048"} {
		if _, err := e.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("sizes"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String(".25 vCPU"), Memory: aws.String(mem),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo")}},
		}); err != nil {
			t.Fatalf("0.25 vCPU / %s MiB is a Fargate size: %v", mem, err)
		}
	}
}

func TestRevisionsCountUpAndFamilyMeansLatestActive(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		out, err := e.ECS.RegisterTaskDefinition(ctx, simple("web"))
		if err != nil {
			t.Fatal(err)
		}
		if out.TaskDefinition.Revision != int32(i) {
			t.Fatalf("revision %d, want %d", out.TaskDefinition.Revision, i)
		}
	}
	describeRev := func(ref string) int32 {
		t.Helper()
		d, err := e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
		if err != nil {
			t.Fatalf("describe %s: %v", ref, err)
		}
		return d.TaskDefinition.Revision
	}
	if r := describeRev("web"); r != 3 {
		t.Fatalf("family resolves to %d, want 3", r)
	}
	dereg, err := e.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:3")})
	if err != nil {
		t.Fatal(err)
	}
	if dereg.TaskDefinition.Status != types.TaskDefinitionStatusInactive || dereg.TaskDefinition.DeregisteredAt == nil {
		t.Fatalf("deregistered %+v", dereg.TaskDefinition)
	}
	if r := describeRev("web"); r != 2 {
		t.Fatalf("after deregistering 3, family resolves to %d, want 2", r)
	}
	// An INACTIVE revision can still be described by number or ARN.
	arn := fmt.Sprintf("arn:aws:ecs:us-east-1:%s:task-definition/web:3", e.Server.Account().ID)
	if r := describeRev(arn); r != 3 {
		t.Fatalf("ARN describe gave %d", r)
	}
	// Deleted revisions are never reused.
	if _, err := e.ECS.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"web:3"}}); err != nil {
		t.Fatal(err)
	}
	out, err := e.ECS.RegisterTaskDefinition(ctx, simple("web"))
	if err != nil || out.TaskDefinition.Revision != 4 {
		t.Fatalf("next revision after a delete: %v %v", out, err)
	}
	unchanged(t, e, func() {
		_, err := e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:99")})
		wantAPIError(t, err, "ClientException", "Unable to describe task definition.")
		_, err = e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nobody")})
		wantAPIError(t, err, "ClientException", "Unable to describe task definition.")
		// ECS's words, as moto's test_deregister_task_definition_2 expects them.
		_, err = e.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web")})
		wantAPIError(t, err, "ClientException", "Revision is missing.")
		_, err = e.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:foo")})
		wantAPIError(t, err, "InvalidParameterException", "Invalid revision number. Number: foo")
		_, err = e.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:0")})
		wantAPIError(t, err, "InvalidParameterException", "Invalid revision number. Number: 0")
		_, err = e.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:42")})
		wantAPIError(t, err, "ClientException", "Unable to describe task definition.")
		_, err = e.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("fake_task:1")})
		wantAPIError(t, err, "ClientException", "Unable to describe task definition.")
	})
}

func simple(family string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo"), Memory: aws.Int32(64)}}}
}

func TestDeleteTaskDefinitions(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := e.ECS.RegisterTaskDefinition(ctx, simple("job")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("job:1")}); err != nil {
		t.Fatal(err)
	}
	job2 := "arn:aws:ecs:us-east-1:" + e.Server.Account().ID + ":task-definition/job:2"
	out, err := e.ECS.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"job:1", job2, "job:9", "job"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TaskDefinitions) != 1 || out.TaskDefinitions[0].Status != types.TaskDefinitionStatusDeleteInProgress || out.TaskDefinitions[0].DeleteRequestedAt == nil {
		t.Fatalf("deleted %+v", out.TaskDefinitions)
	}
	// Failures name the identifier as given and say why in the reason (as
	// moto's test_delete_task_definitions_* expect of ECS).
	var got []string
	for _, f := range out.Failures {
		got = append(got, aws.ToString(f.Arn)+" | "+aws.ToString(f.Reason)+" | "+aws.ToString(f.Detail))
	}
	want := []string{
		job2 + " | The specified task definition is still in ACTIVE status. Please deregister the target and try again. | ",
		"job:9 | The specified task definition does not exist. Specify a valid account, family, revision and try again. | ",
		"job | The specified task definition identifier is invalid. Specify a valid name or ARN and try again. | ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	list, err := e.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusDeleteInProgress})
	if err != nil || len(list.TaskDefinitionArns) != 1 {
		t.Fatalf("DELETE_IN_PROGRESS list %v %v", list, err)
	}
	unchanged(t, e, func() {
		refs := make([]string, 11)
		for i := range refs {
			refs[i] = "job:1"
		}
		_, err := e.ECS.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: refs})
		wantAPIError(t, err, "InvalidParameterException", "at most 10")
	})
}

func TestListTaskDefinitionsAndFamilies(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	// 130 revisions of "api", and a few of families around it in sort order.
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := 0; w < 5; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 26; i++ {
				if _, err := e.ECS.RegisterTaskDefinition(ctx, simple("api")); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, f := range []string{"ap", "api-v2", "apiary", "batch"} {
		if _, err := e.ECS.RegisterTaskDefinition(ctx, simple(f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("batch:1")}); err != nil {
		t.Fatal(err)
	}

	var arns []string
	p := ecs.NewListTaskDefinitionsPaginator(e.ECS, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("api")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, page.TaskDefinitionArns...)
	}
	if len(arns) != 130 {
		t.Fatalf("listed %d revisions of api, want 130 (concurrent registrations must not lose or reuse numbers)", len(arns))
	}
	prefix := fmt.Sprintf("arn:aws:ecs:us-east-1:%s:task-definition/", e.Server.Account().ID)
	for i, arn := range arns {
		if want := fmt.Sprintf("%sapi:%d", prefix, i+1); arn != want {
			t.Fatalf("position %d: %s, want %s", i, arn, want)
		}
	}
	desc, err := e.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc, MaxResults: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{prefix + "apiary:1", prefix + "api-v2:1", prefix + "api:130"}; !slices.Equal(desc.TaskDefinitionArns, want) {
		t.Fatalf("DESC page %v, want %v", desc.TaskDefinitionArns, want)
	}
	next, err := e.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc, MaxResults: aws.Int32(1), NextToken: desc.NextToken})
	if err != nil || !slices.Equal(next.TaskDefinitionArns, []string{prefix + "api:129"}) {
		t.Fatalf("DESC second page %v %v", next, err)
	}
	asc, err := e.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(2)})
	if err != nil || !slices.Equal(asc.TaskDefinitionArns, []string{prefix + "ap:1", prefix + "api:1"}) {
		t.Fatalf("ASC order: %v %v", asc, err)
	}
	inactive, err := e.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive})
	if err != nil || !slices.Equal(inactive.TaskDefinitionArns, []string{prefix + "batch:1"}) {
		t.Fatalf("INACTIVE: %v %v", inactive, err)
	}

	fams := func(in *ecs.ListTaskDefinitionFamiliesInput) []string {
		t.Helper()
		var out []string
		p := ecs.NewListTaskDefinitionFamiliesPaginator(e.ECS, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.Families...)
		}
		return out
	}
	if got := fams(&ecs.ListTaskDefinitionFamiliesInput{MaxResults: aws.Int32(1)}); !slices.Equal(got, []string{"ap", "api", "api-v2", "apiary"}) {
		t.Fatalf("ACTIVE families %v", got)
	}
	if got := fams(&ecs.ListTaskDefinitionFamiliesInput{FamilyPrefix: aws.String("api")}); !slices.Equal(got, []string{"api", "api-v2", "apiary"}) {
		t.Fatalf("prefix api %v", got)
	}
	if got := fams(&ecs.ListTaskDefinitionFamiliesInput{Status: types.TaskDefinitionFamilyStatusInactive}); !slices.Equal(got, []string{"batch"}) {
		t.Fatalf("INACTIVE families %v", got)
	}
	if got := fams(&ecs.ListTaskDefinitionFamiliesInput{Status: types.TaskDefinitionFamilyStatusAll}); len(got) != 5 {
		t.Fatalf("ALL families %v", got)
	}
	unchanged(t, e, func() {
		_, err := e.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(0)})
		wantAPIError(t, err, "InvalidParameterException", "maxResults")
		_, err = e.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: "GONE"})
		wantAPIError(t, err, "InvalidParameterException", "status")
		_, err = e.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{NextToken: aws.String("Zmxvd")})
		wantAPIError(t, err, "InvalidParameterException", "nextToken")
		// A token from another listing does not resume this one.
		_, err = e.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("batch"), NextToken: desc.NextToken})
		wantAPIError(t, err, "InvalidParameterException", "nextToken")
		_, err = e.ECS.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{Status: "SOME"})
		wantAPIError(t, err, "InvalidParameterException", "status")
	})
}

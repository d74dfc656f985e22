package ecs_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/sigv4"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

func container(name string, edit ...func(*types.ContainerDefinition)) types.ContainerDefinition {
	c := types.ContainerDefinition{Name: aws.String(name), Image: aws.String("demo"), Memory: aws.Int32(64)}
	for _, f := range edit {
		f(&c)
	}
	return c
}

func TestRegisterTaskDefinitionRefusesInvalidInput(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	long := strings.Repeat("x", 256)
	cases := []struct {
		name string
		in   *ecs.RegisterTaskDefinitionInput
		code string
		text string
	}{
		{"invalid family name", &ecs.RegisterTaskDefinitionInput{Family: aws.String("my app"), ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "Family contains invalid characters"},
		{"family too long", &ecs.RegisterTaskDefinitionInput{Family: aws.String(long), ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "Family contains invalid characters"},
		{"no containers", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{}},
			"ClientException", "Container list cannot be empty."},
		{"eleven containers", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: func() []types.ContainerDefinition {
			var cs []types.ContainerDefinition
			for _, n := range strings.Split("a b c d e f g h i j k", " ") {
				cs = append(cs, container(n))
			}
			return cs
		}()}, "ClientException", "Too many containers."},
		{"duplicate container names", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{container("a"), container("a")}},
			"ClientException", "Container names must be unique within a Task Definition."},
		{"invalid container name", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{container("a/b")}},
			"ClientException", "Container.name contains invalid characters."},
		{"no image", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) { c.Image = aws.String("") })}},
			"ClientException", "Container.image should not be null or empty."},
		{"no memory anywhere", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) { c.Memory = nil })}},
			"ClientException", "At least one of 'memory' or 'memoryReservation' must be specified."},
		{"container memory below 6 MiB", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) { c.Memory = aws.Int32(4) })}},
			"ClientException", "Invalid 'memory' setting for container 'a'"},
		{"reservation above limit", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) { c.MemoryReservation = aws.Int32(128) })}},
			"ClientException", "'memoryReservation' (128) must be less than or equal to 'memory' (64)"},
		{"negative container cpu", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) { c.Cpu = -1 })}},
			"ClientException", "Invalid 'cpu' setting for container 'a'"},
		{"task cpu below 128", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), Cpu: aws.String("64"), ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "Invalid 'cpu' setting for task."},
		{"task cpu above 192 vCPU", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), Cpu: aws.String("193 vCPU"), ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "Invalid 'cpu' setting for task."},
		{"task cpu not a number", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), Cpu: aws.String("lots"), ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "Invalid 'cpu' setting for task."},
		{"task memory not a number", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), Memory: aws.String("1 TB"), ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "Invalid 'memory' setting for task."},
		{"containers ask more cpu than the task", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), Cpu: aws.String("256"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) { c.Cpu = 512 })}},
			"ClientException", "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'."},
		{"container memory above the task's", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), Memory: aws.String("32"), ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "The 'memory' setting for container 'a' is greater than for the task."},
		{"invalid Fargate size", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("4096"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "No Fargate configuration exists for given values: 256 CPU, 4096 memory."},
		{"Fargate without awsvpc", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), Cpu: aws.String("256"), Memory: aws.String("512"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "Fargate only supports network mode"},
		{"Fargate without task cpu", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), NetworkMode: types.NetworkModeAwsvpc, Memory: aws.String("512"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "Fargate requires that 'cpu' be defined at the task level."},
		{"dependsOn an unknown container", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("db"), Condition: types.ContainerConditionStart}}
			})}}, "ClientException", "Cannot depend on container + 'db' because it does not exist"},
		{"dependsOn cycle", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("b"), Condition: types.ContainerConditionStart}}
			}),
			container("b", func(c *types.ContainerDefinition) {
				c.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("c"), Condition: types.ContainerConditionStart}}
			}),
			container("c", func(c *types.ContainerDefinition) {
				c.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("a"), Condition: types.ContainerConditionStart}}
			})}}, "ClientException", "cycle: a -> b -> c -> a"},
		{"SUCCESS on an essential container", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("b"), Condition: types.ContainerConditionSuccess}}
			}), container("b")}}, "ClientException", "cannot be an essential container"},
		{"HEALTHY without a health check", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("b"), Condition: types.ContainerConditionHealthy}}
			}), container("b")}}, "ClientException", "has no health check"},
		{"no essential container", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) { c.Essential = aws.Bool(false) })}},
			"ClientException", "Task definition doesn't have any essential container."},
		{"health check retries above 10", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "true"}, Retries: aws.Int32(11)}
			})}}, "ClientException", "Health check retries must be less than or equal to the maximum allowed value 10 for container 'a'"},
		{"health check interval below 5", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "true"}, Interval: aws.Int32(1)}
			})}}, "ClientException", "Health check interval must be greater than or equal to the minimum allowed value 5"},
		{"awsvpc host port differs", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), NetworkMode: types.NetworkModeAwsvpc, ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(8080)}}
			})}}, "ClientException", "When networkMode=awsvpc, the host ports and container ports in port mappings must match."},
		{"container port 70000", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(70000)}}
			})}}, "ClientException", "Invalid 'containerPort' setting for container 'a'."},
		{"mount of an undeclared volume", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.MountPoints = []types.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/d")}}
			})}}, "ClientException", "Unknown volume 'data'."},
		{"unknown ulimit", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.Ulimits = []types.Ulimit{{Name: "files", SoftLimit: 1, HardLimit: 1}}
			})}}, "ClientException", "Invalid ulimit name"},
		{"unknown log driver", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.LogConfiguration = &types.LogConfiguration{LogDriver: "carrier-pigeon"}
			})}},
			"ClientException", "carrier-pigeon is not a valid log driver"},
		{"restart period below 60", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{
			container("a", func(c *types.ContainerDefinition) {
				c.RestartPolicy = &types.ContainerRestartPolicy{Enabled: aws.Bool(true), RestartAttemptPeriod: aws.Int32(10)}
			})}}, "ClientException", "restartAttemptPeriod must be between 60 and 1800"},
		{"distinctInstance constraint", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{container("a")},
			PlacementConstraints: []types.TaskDefinitionPlacementConstraint{{Type: "distinctInstance"}}},
			"ClientException", "constraint.type 'distinctInstance' is not supported."},
		{"bad network mode", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), NetworkMode: "overlay", ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "Invalid networkMode"},
		{"role that is not a role ARN", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), TaskRoleArn: aws.String("arn:aws:s3:::bucket"), ContainerDefinitions: []types.ContainerDefinition{container("a")}},
			"ClientException", "Invalid arn syntax."},
		{"tag with aws: prefix", &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: []types.ContainerDefinition{container("a")},
			Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}}, "InvalidParameterException", "aws:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			unchanged(t, e, func() {
				_, err := e.ECS.RegisterTaskDefinition(ctx, tc.in)
				wantAPIError(t, err, tc.code, tc.text)
			})
		})
	}
}

func TestProtocolErrors(t *testing.T) {
	e := flottatest.StartServer(t)
	cases := []struct {
		name   string
		op     string
		body   string
		edit   func(*http.Request)
		status int
		code   string
		text   string
	}{
		{"malformed JSON", "CreateCluster", `{"clusterName": "web"`, nil, 400, "SerializationException", "not valid JSON"},
		{"not an object", "CreateCluster", `["web"]`, nil, 400, "SerializationException", "JSON object"},
		{"wrong member type", "CreateCluster", `{"clusterName": 42}`, nil, 400, "SerializationException", "clusterName"},
		{"wrong nested member type", "RegisterTaskDefinition", `{"family":"f","containerDefinitions":[{"name":"a","image":"x","memory":"lots"}]}`, nil, 400, "SerializationException", "containerDefinitions.memory"},
		{"number out of int range", "RegisterTaskDefinition", `{"family":"f","containerDefinitions":[{"name":"a","image":"x","memory":1e40}]}`, nil, 400, "SerializationException", "memory"},
		{"missing family", "RegisterTaskDefinition", `{"containerDefinitions":[{"name":"a","image":"x","memory":64}]}`, nil, 400, "ClientException", "Family can not be blank."},
		{"missing container name", "RegisterTaskDefinition", `{"family":"f","containerDefinitions":[{"image":"x","memory":64}]}`, nil, 400, "ClientException", "Container.name should not be null or empty."},
		{"missing cluster", "DeleteCluster", `{}`, nil, 400, "InvalidParameterException", "cluster is required"},
		{"missing taskDefinition", "DescribeTaskDefinition", `{}`, nil, 400, "InvalidParameterException", "taskDefinition is required"},
		{"missing setting value", "PutAccountSetting", `{"name":"containerInsights"}`, nil, 400, "InvalidParameterException", "value is required"},
		{"unknown operation", "LaunchRockets", `{}`, nil, 400, "UnknownOperationException", "LaunchRockets"},
		{"unknown service", "CreateCluster", `{}`, func(r *http.Request) { r.Header.Set("X-Amz-Target", "Nope_2020.CreateCluster") }, 400, "UnknownOperationException", "Nope_2020"},
		{"oversized body", "CreateCluster", `{"clusterName":"` + strings.Repeat("x", 1<<20) + `"}`, nil, 413, "RequestEntityTooLargeException", "limit"},
		{"no credentials", "ListClusters", `{}`, func(r *http.Request) { r.Header.Del("Authorization") }, 403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"altered body", "CreateCluster", `{"clusterName":"web"}`, func(r *http.Request) {
			r.Body = http.NoBody
			r.ContentLength = 0
		}, 400, "InvalidSignatureException", "does not match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			unchanged(t, e, func() {
				r := e.Raw(t, tc.op, []byte(tc.body), tc.edit)
				if r.Status != tc.status || r.Type != tc.code || !strings.Contains(r.Message, tc.text) {
					t.Fatalf("got %d %s %q, want %d %s mentioning %q", r.Status, r.Type, r.Message, tc.status, tc.code, tc.text)
				}
				if r.Header.Get("X-Amzn-ErrorType") != tc.code || r.Header.Get("X-Amzn-RequestId") == "" {
					t.Fatalf("headers %v", r.Header)
				}
				if r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
					t.Fatalf("content type %q", r.Header.Get("Content-Type"))
				}
			})
		})
	}
}

func TestSignaturesThroughTheServer(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	unchanged(t, e, func() {
		bad := e.Root
		bad.SecretAccessKey = "wrong"
		_, err := e.ECSClient(bad).ListClusters(ctx, &ecs.ListClustersInput{})
		wantAPIError(t, err, "InvalidSignatureException", "does not match")

		unknown := e.Root
		unknown.AccessKeyID = "AKIANOBODY0000000000"
		_, err = e.ECSClient(unknown).ListClusters(ctx, &ecs.ListClustersInput{})
		wantAPIError(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")

		for _, skew := range []time.Duration{-5*time.Minute - time.Second, 5*time.Minute + time.Second} {
			r := e.RawAt(t, time.Now().Add(skew), "ListClusters", []byte(`{}`), nil)
			if r.Type != "InvalidSignatureException" || !strings.Contains(r.Message, "Signature") {
				t.Fatalf("skew %s: %d %s %s", skew, r.Status, r.Type, r.Message)
			}
		}
		r := e.Raw(t, "ListClusters", []byte(`{}`), func(r *http.Request) {
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DeleteCluster")
		})
		if r.Type != "InvalidSignatureException" {
			t.Fatalf("altered header: %d %s", r.Status, r.Type)
		}
		// A signature that leaves X-Amz-Target out (curl --aws-sigv4 signs
		// only host, content-type and x-amz-date) cannot be replayed as
		// another operation.
		r = e.Raw(t, "ListServices", []byte(`{"cluster":"default"}`), func(r *http.Request) {
			r.Header.Del("X-Amz-Target")
			r.Header.Del("Authorization")
			sigv4.Sign(r, []byte(`{"cluster":"default"}`), e.Root.AccessKeyID, sigv4.Secret{SecretAccessKey: e.Root.SecretAccessKey},
				e.Server.Account().Region, "ecs", time.Now())
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DeleteCluster")
		})
		if r.Type != "IncompleteSignatureException" || !strings.Contains(r.Message, "'x-amz-target' must be a 'SignedHeader'") {
			t.Fatalf("unsigned target replayed as DeleteCluster: %d %s %s", r.Status, r.Type, r.Message)
		}
	})

	temp, err := e.Server.IAM().IssueTemporaryCredentials(ctx, e.Server.Account().Scope().RootARN(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ECSClient(temp).ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("temporary credentials with their token: %v", err)
	}
	noToken := temp
	noToken.SessionToken = ""
	_, err = e.ECSClient(noToken).ListClusters(ctx, &ecs.ListClustersInput{})
	wantAPIError(t, err, "UnrecognizedClientException")
}

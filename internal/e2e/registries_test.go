package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestServiceRegistriesWithAWSCLIAndBoto3 gives an ECS service a Cloud Map
// registry with Debian's AWS CLI, sees a registry ECS would refuse refused
// in ECS's words, and lists the namespace's services with the CLI's and
// boto3's ListServicesByNamespace.
func TestServiceRegistriesWithAWSCLIAndBoto3(t *testing.T) {
	requireClients(t)
	srv := serverWith(t, t.TempDir(), "--account-id", "123456789012")
	env := clientEnv(srv)

	var opOut struct{ OperationId string }
	awsMust(t, srv, env, &opOut, "servicediscovery", "create-private-dns-namespace", "--name", "corp.internal", "--vpc", "vpc-1")
	var nsID string
	deadline := time.Now().Add(30 * time.Second)
	for nsID == "" {
		var op struct {
			Operation struct {
				Status  string
				Targets map[string]string
			}
		}
		awsMust(t, srv, env, &op, "servicediscovery", "get-operation", "--operation-id", opOut.OperationId)
		if op.Operation.Status == "SUCCESS" {
			nsID = op.Operation.Targets["NAMESPACE"]
		} else if time.Now().After(deadline) {
			t.Fatalf("the namespace is still %s", op.Operation.Status)
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	var svc struct{ Service struct{ Arn string } }
	awsMust(t, srv, env, &svc, "servicediscovery", "create-service", "--name", "api", "--namespace-id", nsID,
		"--dns-config", "RoutingPolicy=MULTIVALUE,DnsRecords=[{Type=SRV,TTL=10}]")
	awsMust(t, srv, env, nil, "ecs", "register-task-definition", "--family", "api", "--network-mode", "bridge",
		"--container-definitions", `[{"name":"app","image":"demo","memory":64,"portMappings":[{"containerPort":8080}]}]`)

	// Bridge tasks need containerName and containerPort, as ECS says.
	_, stderr, err := awsCLI(srv, env, "ecs", "create-service", "--service-name", "api", "--task-definition", "api",
		"--service-registries", "registryArn="+svc.Service.Arn)
	if err == nil || !strings.Contains(stderr, "InvalidParameterException") ||
		!strings.Contains(stderr, "values for 'containerName' and 'containerPort' must be specified from the task definition") {
		t.Fatalf("a bridge service without a container port: %v %s", err, stderr)
	}
	var created struct {
		Service struct {
			ServiceArn        string
			ServiceRegistries []struct {
				RegistryArn, ContainerName string
				ContainerPort              int
			}
		}
	}
	awsMust(t, srv, env, &created, "ecs", "create-service", "--service-name", "api", "--task-definition", "api",
		"--service-registries", "registryArn="+svc.Service.Arn+",containerName=app,containerPort=8080")
	if r := created.Service.ServiceRegistries; len(r) != 1 || r[0].RegistryArn != svc.Service.Arn || r[0].ContainerName != "app" || r[0].ContainerPort != 8080 {
		t.Fatalf("create-service answers the registries %+v", r)
	}
	var listed struct{ ServiceArns []string }
	awsMust(t, srv, env, &listed, "ecs", "list-services-by-namespace", "--namespace", "corp.internal")
	if len(listed.ServiceArns) != 1 || listed.ServiceArns[0] != created.Service.ServiceArn {
		t.Fatalf("list-services-by-namespace: %+v", listed)
	}
	_, stderr, err = awsCLI(srv, env, "ecs", "list-services-by-namespace", "--namespace", "nowhere.internal")
	if err == nil || !strings.Contains(stderr, "NamespaceNotFoundException") {
		t.Fatalf("an unknown namespace: %v %s", err, stderr)
	}

	script := `
import sys, boto3, botocore.config
from botocore.exceptions import ClientError
ecs = boto3.client("ecs", endpoint_url=sys.argv[1], config=botocore.config.Config(retries={"max_attempts": 1}))
arns = ecs.list_services_by_namespace(namespace=sys.argv[2])["serviceArns"]
print(" ".join(arns))
try:
    ecs.list_services_by_namespace(namespace="nowhere.internal")
    raise SystemExit("an unknown namespace was listed")
except ClientError as e:
    print(e.response["Error"]["Code"])
`
	py := exec.Command("/usr/bin/python3", "-c", script, srv.endpoint, "arn:aws:servicediscovery:us-east-1:123456789012:namespace/"+nsID)
	py.Env = env
	out, err := py.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || lines[0] != created.Service.ServiceArn || lines[1] != "NamespaceNotFoundException" {
		t.Fatalf("boto3 says:\n%s", out)
	}
}

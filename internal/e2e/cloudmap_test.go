package e2e

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCloudMapWithAWSCLIAndBoto3 drives the Cloud Map API of a running
// server with Debian's AWS CLI and boto3: a private DNS namespace made
// through an operation polled to SUCCESS, a service, an instance found by
// discover-instances, and everything taken down again, with Cloud Map's
// errors on the way.
func TestCloudMapWithAWSCLIAndBoto3(t *testing.T) {
	requireClients(t)
	srv := serverWith(t, t.TempDir(), "--account-id", "123456789012")
	env := clientEnv(srv)

	py := exec.Command("/usr/bin/python3", "testdata/cloudmap_boto3.py", srv.endpoint)
	py.Env = env
	out, err := py.CombinedOutput()
	t.Logf("boto3:\n%s", out)
	if err != nil {
		t.Fatalf("the boto3 checks failed: %v", err)
	}

	// awsOp polls get-operation until the operation is done, as users do
	// (the CLI has no waiter for it), and returns its targets.
	awsOp := func(what, id string) map[string]string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var op struct {
				Operation struct {
					Status, ErrorMessage string
					Targets              map[string]string
				}
			}
			awsMust(t, srv, env, &op, "servicediscovery", "get-operation", "--operation-id", id)
			switch op.Operation.Status {
			case "SUCCESS":
				return op.Operation.Targets
			case "FAIL":
				t.Fatalf("%s: operation %s failed: %s", what, id, op.Operation.ErrorMessage)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: operation %s still %s", what, id, op.Operation.Status)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var opOut struct{ OperationId string }
	awsMust(t, srv, env, &opOut, "servicediscovery", "create-private-dns-namespace", "--name", "cli.local", "--vpc", "vpc-1")
	nsID := awsOp("create-private-dns-namespace", opOut.OperationId)["NAMESPACE"]
	if !strings.HasPrefix(nsID, "ns-") {
		t.Fatalf("namespace id %q", nsID)
	}
	var svc struct{ Service struct{ Id, Type string } }
	awsMust(t, srv, env, &svc, "servicediscovery", "create-service", "--name", "web", "--namespace-id", nsID,
		"--dns-config", "NamespaceId="+nsID+",RoutingPolicy=MULTIVALUE,DnsRecords=[{Type=A,TTL=60}]")
	if svc.Service.Type != "DNS_HTTP" {
		t.Fatalf("create-service: %+v", svc)
	}
	svcID := svc.Service.Id
	_, stderr, err := awsCLI(srv, env, "servicediscovery", "create-service", "--name", "web", "--namespace-id", nsID)
	if err == nil || !strings.Contains(stderr, "ServiceAlreadyExists") {
		t.Fatalf("create-service again: %v %s", err, stderr)
	}
	_, stderr, err = awsCLI(srv, env, "servicediscovery", "register-instance", "--service-id", svcID, "--instance-id", "i-1", "--attributes", "AWS_INSTANCE_PORT=80")
	if err == nil || !strings.Contains(stderr, "InvalidInput") {
		t.Fatalf("register-instance without an IPv4 address: %v %s", err, stderr)
	}
	awsMust(t, srv, env, &opOut, "servicediscovery", "register-instance", "--service-id", svcID, "--instance-id", "i-1",
		"--attributes", "AWS_INSTANCE_IPV4=10.0.0.7,color=blue")
	awsOp("register-instance", opOut.OperationId)

	// The CLI sends DiscoverInstances to "data-" + the endpoint's host and
	// has no switch against it; a proxy (here the server itself) takes the
	// request for that name, as docs/service-discovery.md says.
	var found struct {
		Instances []struct {
			InstanceId string
			Attributes map[string]string
		}
	}
	proxied := slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return strings.EqualFold(k, "http_proxy") || strings.EqualFold(k, "https_proxy") || strings.EqualFold(k, "no_proxy") || strings.EqualFold(k, "all_proxy")
	})
	proxied = append(proxied, "HTTP_PROXY="+srv.endpoint, "http_proxy="+srv.endpoint)
	awsMust(t, srv, proxied, &found, "servicediscovery", "discover-instances", "--namespace-name", "cli.local", "--service-name", "web",
		"--query-parameters", "color=blue")
	if len(found.Instances) != 1 || found.Instances[0].InstanceId != "i-1" || found.Instances[0].Attributes["AWS_INSTANCE_IPV4"] != "10.0.0.7" {
		t.Fatalf("discover-instances: %+v", found)
	}
	var listed struct{ Instances []struct{ Id string } }
	awsMust(t, srv, env, &listed, "servicediscovery", "list-instances", "--service-id", svcID)
	if len(listed.Instances) != 1 || listed.Instances[0].Id != "i-1" {
		t.Fatalf("list-instances: %+v", listed)
	}
	_, stderr, err = awsCLI(srv, env, "servicediscovery", "delete-service", "--id", svcID)
	if err == nil || !strings.Contains(stderr, "ResourceInUse") {
		t.Fatalf("delete-service with an instance: %v %s", err, stderr)
	}
	awsMust(t, srv, env, &opOut, "servicediscovery", "deregister-instance", "--service-id", svcID, "--instance-id", "i-1")
	awsOp("deregister-instance", opOut.OperationId)
	awsMust(t, srv, env, nil, "servicediscovery", "delete-service", "--id", svcID)
	awsMust(t, srv, env, &opOut, "servicediscovery", "delete-namespace", "--id", nsID)
	awsOp("delete-namespace", opOut.OperationId)
	_, stderr, err = awsCLI(srv, env, "servicediscovery", "get-namespace", "--id", nsID)
	if err == nil || !strings.Contains(stderr, "NamespaceNotFound") {
		t.Fatalf("get-namespace after delete-namespace: %v %s", err, stderr)
	}
}

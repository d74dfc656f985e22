package integration

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/images"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestATaskActsAsItsRole: on real Docker, a bridge container whose task has
// a role runs a program that knows no credentials: the AWS SDK's default
// chain finds the agent's credentials endpoint (169.254.170.2) through the
// task's environment, and the calls it signs with them are the role's,
// ListClusters allowed and DeleteCluster denied.
func TestATaskActsAsItsRole(t *testing.T) {
	// The server listens where a bridge container reaches it: the docker0
	// gateway.
	n := startNode(t, nodeOptions{server: flottatest.Options{Listen: "0.0.0.0:0", InsecureHTTP: true}})
	ctx := context.Background()
	image := roleCheckImage(t, n)
	u, err := url.Parse(n.env.Server.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + bridgeGateway(t) + ":" + u.Port()

	m := n.env.Server.IAM()
	role, err := m.CreateRole(ctx, iam.NewRole{Name: "rolecheck", TrustPolicy: `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.PutRolePolicy(ctx, "rolecheck", "clusters", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ecs:ListClusters","Resource":"*"},
		{"Effect":"Deny","Action":"ecs:DeleteCluster","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	if _, err := n.env.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("rolecheck"),
		NetworkMode: types.NetworkModeBridge, TaskRoleArn: aws.String(role.Arn),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("check"), Image: aws.String(image), Memory: aws.Int32(64), Essential: aws.Bool(true),
			Environment: []types.KeyValuePair{{Name: aws.String("AWS_ENDPOINT_URL"), Value: aws.String(endpoint)}}}}}); err != nil {
		t.Fatal(err)
	}
	task := n.wait(n.run("rolecheck"), "STOPPED", 60*time.Second, is("STOPPED"))
	c := container(task, "check")
	out, _ := exec.Command("docker", "logs", aws.ToString(c.RuntimeId)).CombinedOutput()
	if c.ExitCode == nil || *c.ExitCode != 0 {
		t.Fatalf("the program acting as the task role failed: %s\n%s", show(task), out)
	}
	for _, want := range []string{"credentials from CredentialsEndpointProvider", "ListClusters: allowed", "DeleteCluster: AccessDeniedException"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("the program's output lacks %q:\n%s", want, out)
		}
	}
}

// roleCheckImage builds testdata/rolecheck statically and makes an image of it.
func roleCheckImage(t *testing.T, n *node) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rolecheck")
	build := exec.Command("go", "build", "-o", bin, "./testdata/rolecheck")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build rolecheck: %v\n%s", err, out)
	}
	image, err := images.Ensure(context.Background(), n.rt, images.Spec{Repository: "flotta-test/rolecheck", Binary: bin, Entrypoint: []string{"/flotta"}})
	if err != nil {
		t.Fatalf("make the rolecheck image: %v", err)
	}
	return image
}

// bridgeGateway is the host's address on Docker's default bridge (docker0).
func bridgeGateway(t *testing.T) string {
	t.Helper()
	ifc, err := net.InterfaceByName("docker0")
	if err != nil {
		t.Fatalf("Docker's default bridge: %v", err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && ip.IP.To4() != nil {
			return ip.IP.String()
		}
	}
	t.Fatalf("docker0 has no IPv4 address: %v", addrs)
	return ""
}

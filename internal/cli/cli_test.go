package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/cli"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// run executes a flotta client command against the dev-style data dir of a
// test server and returns its standard output, standard error and error line.
func run(t *testing.T, dataDir string, args ...string) (string, string, error) {
	t.Helper()
	for _, v := range []string{"FLOTTA_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECS", "AWS_PROFILE", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(v, "")
	}
	o := &cli.Options{}
	root := &cobra.Command{Use: "flotta", SilenceUsage: true, SilenceErrors: true}
	o.AddFlags(root)
	root.AddCommand(cli.ClusterCommand(o), cli.TaskDefCommand(o))
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append(args, "--data-dir", dataDir))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestClusterVerbs(t *testing.T) {
	e := flottatest.StartServer(t)
	out, _, err := run(t, e.DataDir, "cluster", "create", "web", "--tag", "team=blue")
	if err != nil || !strings.Contains(out, "web") || !strings.Contains(out, "ACTIVE") {
		t.Fatalf("create: %q %v", out, err)
	}
	out, _, err = run(t, e.DataDir, "cluster", "ls")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "default") || !strings.HasPrefix(lines[2], "web") {
		t.Fatalf("ls table:\n%s", out)
	}
	out, _, err = run(t, e.DataDir, "cluster", "describe", "web")
	if err != nil || !strings.Contains(out, "Tag:         team=blue") || !strings.Contains(out, "containerInsights=disabled") {
		t.Fatalf("describe:\n%s %v", out, err)
	}
	out, _, err = run(t, e.DataDir, "cluster", "ls", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Clusters []struct {
			ClusterName string `json:"clusterName"`
			ClusterArn  string `json:"clusterArn"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Clusters) != 2 || doc.Clusters[1].ClusterName != "web" {
		t.Fatalf("ls -o json: %v\n%s", err, out)
	}
	if _, _, err = run(t, e.DataDir, "cluster", "rm", "web"); err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, e.DataDir, "cluster", "rm", "web-that-never-was")
	if err == nil || cli.Explain(err) != "ClusterNotFoundException: Cluster not found." {
		t.Fatalf("error line for an unknown cluster: %q", cli.Explain(err))
	}
}

func TestTaskDefVerbs(t *testing.T) {
	e := flottatest.StartServer(t)
	file := filepath.Join(t.TempDir(), "web.json")
	os.WriteFile(file, []byte(`{
  "family": "web",
  "networkMode": "bridge",
  "containerDefinitions": [
    {"name": "app", "image": "flotta/demo", "memory": 128, "cpu": 256,
     "portMappings": [{"containerPort": 8080, "hostPort": 0}],
     "environment": [{"name": "GREETING", "value": "hello"}]}
  ],
  "tags": [{"key": "team", "value": "blue"}]
}`), 0o644)
	out, _, err := run(t, e.DataDir, "taskdef", "register", "-f", file)
	if err != nil || !strings.Contains(out, "web") || !strings.Contains(out, "ACTIVE") {
		t.Fatalf("register: %q %v", out, err)
	}
	// A DescribeTaskDefinition answer can be registered again as it is.
	described, _, err := run(t, e.DataDir, "taskdef", "describe", "web", "-o", "json")
	if err != nil || !strings.Contains(described, `"GREETING"`) || !strings.Contains(described, `"taskDefinitionArn"`) {
		t.Fatalf("describe -o json: %v\n%s", err, described)
	}
	os.WriteFile(file, []byte(described), 0o644)
	if _, _, err := run(t, e.DataDir, "taskdef", "register", "-f", file); err != nil {
		t.Fatalf("re-register a described task definition: %v", err)
	}
	out, _, err = run(t, e.DataDir, "taskdef", "ls")
	if err != nil || !strings.Contains(out, "web     1") || !strings.Contains(out, "web     2") {
		t.Fatalf("ls:\n%s %v", out, err)
	}
	out, _, err = run(t, e.DataDir, "taskdef", "describe", "web:1")
	if err != nil || !strings.Contains(out, "Revision:    1") || !strings.Contains(out, "8080/tcp") {
		t.Fatalf("describe:\n%s %v", out, err)
	}
	if out, _, err = run(t, e.DataDir, "taskdef", "deregister", "web:1"); err != nil || !strings.Contains(out, "INACTIVE") {
		t.Fatalf("deregister: %q %v", out, err)
	}
	out, _, err = run(t, e.DataDir, "taskdef", "ls", "--status", "inactive")
	if err != nil || !strings.Contains(out, "web     1") || strings.Contains(out, "web     2") {
		t.Fatalf("ls inactive:\n%s %v", out, err)
	}
	os.WriteFile(file, []byte(`{"family": "bad", "containerDefinitions": [{"name": "a", "image": "x"}]}`), 0o644)
	_, _, err = run(t, e.DataDir, "taskdef", "register", "-f", file)
	if err == nil || !strings.HasPrefix(cli.Explain(err), "ClientException: Invalid setting for container 'a'.") {
		t.Fatalf("invalid task definition error line: %q", cli.Explain(err))
	}
}

func TestNoEndpointIsExplained(t *testing.T) {
	_, _, err := run(t, t.TempDir(), "cluster", "ls")
	if err == nil || !strings.Contains(err.Error(), "flotta dev") {
		t.Fatalf("without a server: %v", err)
	}
}

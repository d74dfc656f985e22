package e2e

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// taskSetIDRE is the form of ECS's task set ids.
var taskSetIDRE = regexp.MustCompile(`^ecs-svc/[0-9]{19}$`)

// TestTaskSetsWithAWSCLIAndBoto3: Debian's AWS CLI creates a service with
// the EXTERNAL deployment controller and no task definition, adds a task set
// at 100 percent (three tasks of a desired count of 3), describes it, scales
// it to 50 percent (two tasks), makes it PRIMARY (the service then shows its
// task definition), deletes it with --force until it is gone, and gets ECS's
// InvalidParameterException for task sets of a rolling service and
// TaskSetNotFoundException for one that does not exist; boto3 does the same
// flow on a second service and gets TaskSetNotFoundException by its code.
// No agent runs: the tasks stay unplaced, and only the API's answers are
// checked.
func TestTaskSetsWithAWSCLIAndBoto3(t *testing.T) {
	requireClients(t)
	srv := serverWith(t, t.TempDir(), "--account-id", "123456789012")
	env := clientEnv(srv)
	aws := func(args ...string) (string, string, error) { return awsCLI(srv, env, args...) }
	must := func(into any, args ...string) { t.Helper(); awsMust(t, srv, env, into, args...) }
	type taskSet struct {
		ID, TaskSetArn, ServiceArn, Status, TaskDefinition, ExternalId string
		ComputedDesiredCount                                           *int
		Scale                                                          struct {
			Value float64
			Unit  string
		}
	}
	type service struct {
		ServiceArn, Status, TaskDefinition string
		DeploymentController               struct{ Type string }
		Deployments                        []json.RawMessage
		TaskSets                           []taskSet
	}

	var td struct {
		TaskDefinition struct{ TaskDefinitionArn string }
	}
	must(&td, "ecs", "register-task-definition", "--family", "cli-web",
		"--container-definitions", `[{"name":"web","image":"demo","memory":64,"portMappings":[{"containerPort":8080}]}]`)
	tdArn := td.TaskDefinition.TaskDefinitionArn
	if tdArn != "arn:aws:ecs:us-east-1:123456789012:task-definition/cli-web:1" {
		t.Fatalf("register-task-definition: %+v", td)
	}
	var created struct{ Service service }
	must(&created, "ecs", "create-service", "--service-name", "cli-ext", "--desired-count", "3",
		"--deployment-controller", "type=EXTERNAL")
	if s := created.Service; s.DeploymentController.Type != "EXTERNAL" || s.TaskDefinition != "" || len(s.Deployments) != 0 || s.Status != "ACTIVE" {
		t.Fatalf("create-service of an EXTERNAL service: %+v", s)
	}

	var made struct{ TaskSet taskSet }
	must(&made, "ecs", "create-task-set", "--service", "cli-ext", "--cluster", "default", "--task-definition", "cli-web",
		"--external-id", "blue", "--scale", "value=100,unit=PERCENT")
	ts := made.TaskSet
	if !taskSetIDRE.MatchString(ts.ID) || ts.TaskSetArn != "arn:aws:ecs:us-east-1:123456789012:task-set/default/cli-ext/"+ts.ID ||
		ts.ServiceArn != created.Service.ServiceArn || ts.Status != "ACTIVE" || ts.TaskDefinition != tdArn || ts.ExternalId != "blue" ||
		ts.Scale.Value != 100 || ts.Scale.Unit != "PERCENT" {
		t.Fatalf("create-task-set: %+v", ts)
	}

	var described struct {
		TaskSets []taskSet
		Failures []struct{ Arn, Reason string }
	}
	must(&described, "ecs", "describe-task-sets", "--cluster", "default", "--service", "cli-ext", "--task-sets", ts.ID)
	if len(described.TaskSets) != 1 || len(described.Failures) != 0 {
		t.Fatalf("describe-task-sets: %+v", described)
	}
	if d := described.TaskSets[0]; d.ID != ts.ID || d.Status != "ACTIVE" || d.ComputedDesiredCount == nil || *d.ComputedDesiredCount != 3 {
		t.Fatalf("describe-task-sets at 100 percent of 3: %+v (computedDesiredCount %v)", d, d.ComputedDesiredCount)
	}
	// By ARN, and a missing one among them is a failure, not an error.
	missingArn := "arn:aws:ecs:us-east-1:123456789012:task-set/default/cli-ext/ecs-svc/0000000000000000000"
	must(&described, "ecs", "describe-task-sets", "--cluster", "default", "--service", "cli-ext", "--task-sets", ts.TaskSetArn, missingArn)
	if len(described.TaskSets) != 1 || described.TaskSets[0].ID != ts.ID ||
		len(described.Failures) != 1 || described.Failures[0].Arn != missingArn || described.Failures[0].Reason != "MISSING" {
		t.Fatalf("describe-task-sets by ARN with a missing one: %+v", described)
	}

	var updated struct{ TaskSet taskSet }
	must(&updated, "ecs", "update-task-set", "--cluster", "default", "--service", "cli-ext", "--task-set", ts.ID,
		"--scale", "value=50,unit=PERCENT")
	if u := updated.TaskSet; u.ID != ts.ID || u.Scale.Value != 50 || u.Scale.Unit != "PERCENT" {
		t.Fatalf("update-task-set to 50 percent: %+v", u)
	}
	must(&described, "ecs", "describe-task-sets", "--cluster", "default", "--service", "cli-ext")
	if len(described.TaskSets) != 1 || described.TaskSets[0].ComputedDesiredCount == nil || *described.TaskSets[0].ComputedDesiredCount != 2 {
		t.Fatalf("describe-task-sets at 50 percent of 3 (ceil 1.5 = 2): %+v", described)
	}

	var primary struct{ TaskSet taskSet }
	must(&primary, "ecs", "update-service-primary-task-set", "--cluster", "default", "--service", "cli-ext", "--primary-task-set", ts.TaskSetArn)
	if p := primary.TaskSet; p.ID != ts.ID || p.Status != "PRIMARY" {
		t.Fatalf("update-service-primary-task-set: %+v", p)
	}
	var services struct{ Services []service }
	must(&services, "ecs", "describe-services", "--services", "cli-ext")
	if len(services.Services) != 1 || services.Services[0].TaskDefinition != tdArn ||
		len(services.Services[0].TaskSets) != 1 || services.Services[0].TaskSets[0].Status != "PRIMARY" {
		t.Fatalf("describe-services after the primary task set: %+v", services)
	}

	// ECS's errors: task sets of a service that is not EXTERNAL, and a task
	// set that does not exist.
	must(nil, "ecs", "create-service", "--service-name", "cli-rolling", "--task-definition", "cli-web", "--desired-count", "0")
	out, errOut, err := aws("ecs", "describe-task-sets", "--cluster", "default", "--service", "cli-rolling")
	if err == nil || !strings.Contains(errOut, "An error occurred (InvalidParameterException)") ||
		!strings.Contains(errOut, "Amazon ECS only supports task set management on services configured to use external deployment controllers.") {
		t.Fatalf("describe-task-sets of a rolling service: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err = aws("ecs", "delete-task-set", "--cluster", "default", "--service", "cli-ext", "--task-set", "ecs-svc/0000000000000000000")
	if err == nil || !strings.Contains(errOut, "An error occurred (TaskSetNotFoundException)") {
		t.Fatalf("delete-task-set of a missing task set: %v\n%s%s", err, out, errOut)
	}

	var deleted struct{ TaskSet taskSet }
	must(&deleted, "ecs", "delete-task-set", "--cluster", "default", "--service", "cli-ext", "--task-set", ts.ID, "--force")
	if d := deleted.TaskSet; d.ID != ts.ID || d.Status != "DRAINING" {
		t.Fatalf("delete-task-set --force: %+v", d)
	}
	// With no task running, the draining task set goes away.
	drainStart := time.Now()
	for deadline := time.Now().Add(15 * time.Second); ; {
		must(&described, "ecs", "describe-task-sets", "--cluster", "default", "--service", "cli-ext")
		if len(described.TaskSets) == 0 {
			t.Logf("the deleted task set was gone after %v", time.Since(drainStart).Round(time.Millisecond))
			break
		}
		if d := described.TaskSets[0]; d.Status != "DRAINING" {
			t.Fatalf("describe-task-sets after delete-task-set: %+v", d)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deleted task set was still there after 15s: %+v", described.TaskSets)
		}
		time.Sleep(200 * time.Millisecond)
	}

	py := exec.Command("/usr/bin/python3", "-c", `
import re, sys, time, boto3, botocore
ecs = boto3.client("ecs", endpoint_url=sys.argv[1])
svc = ecs.create_service(serviceName="py-ext", desiredCount=4, deploymentController={"type": "EXTERNAL"})["service"]
# ECS omits the task definition of a service without a primary task set.
assert svc["deploymentController"]["type"] == "EXTERNAL" and "taskDefinition" not in svc, svc
ts = ecs.create_task_set(cluster="default", service="py-ext", taskDefinition="cli-web:1", externalId="green",
                         scale={"value": 100.0, "unit": "PERCENT"})["taskSet"]
assert re.fullmatch(r"ecs-svc/[0-9]{19}", ts["id"]) and ts["status"] == "ACTIVE", ts
d = ecs.describe_task_sets(cluster="default", service="py-ext", taskSets=[ts["taskSetArn"]])
assert d["failures"] == [] and len(d["taskSets"]) == 1, d
d = d["taskSets"][0]
assert d["id"] == ts["id"] and d["computedDesiredCount"] == 4 and d["externalId"] == "green", d
assert d["taskDefinition"].endswith(":task-definition/cli-web:1"), d
u = ecs.update_task_set(cluster="default", service="py-ext", taskSet=ts["id"], scale={"value": 50.0, "unit": "PERCENT"})["taskSet"]
assert u["scale"] == {"value": 50.0, "unit": "PERCENT"}, u
d = ecs.describe_task_sets(cluster="default", service="py-ext")["taskSets"]
assert [t["computedDesiredCount"] for t in d] == [2], d
p = ecs.update_service_primary_task_set(cluster="default", service="py-ext", primaryTaskSet=ts["id"])["taskSet"]
assert p["status"] == "PRIMARY", p
s = ecs.describe_services(services=["py-ext"])["services"][0]
assert s["taskSets"][0]["status"] == "PRIMARY" and s["taskDefinition"] == d[0]["taskDefinition"], s
try:
    ecs.update_task_set(cluster="default", service="py-ext", taskSet="ecs-svc/0000000000000000000", scale={"value": 0.0, "unit": "PERCENT"})
    sys.exit("update of a missing task set succeeded")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "TaskSetNotFoundException", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
try:
    ecs.create_task_set(cluster="default", service="cli-rolling", taskDefinition="cli-web")
    sys.exit("a task set of a rolling service was created")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidParameterException", e.response
x = ecs.delete_task_set(cluster="default", service="py-ext", taskSet=ts["taskSetArn"], force=True)["taskSet"]
assert x["status"] == "DRAINING", x
deadline = time.time() + 15
while ecs.describe_task_sets(cluster="default", service="py-ext")["taskSets"]:
    assert time.time() < deadline, "the deleted task set was still there after 15s"
    time.sleep(0.2)
print("boto3", boto3.__version__, "ok")
`, srv.endpoint)
	py.Env = env
	pyOut, err := py.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, pyOut)
	}
	t.Logf("%s; aws %s", strings.TrimSpace(string(pyOut)), strings.TrimSpace(version()))
}

package ecs

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

var authzScope = model.Scope{Partition: "aws", Region: "eu-west-1", Account: "111122223333"}

// arnOf is an ECS ARN of authzScope.
func arnOf(resource string) string { return "arn:aws:ecs:eu-west-1:111122223333:" + resource }

// latestWeb knows that the latest ACTIVE revision of family web is 7.
func latestWeb(family string) int {
	if family == "web" {
		return 7
	}
	return 0
}

type authzCase struct {
	op, body string
	res      []string
	ctx      map[string][]string
}

var (
	clDefault = arnOf("cluster/default")
	clProd    = arnOf("cluster/prod")
	web7      = arnOf("task-definition/web:7")
)

func authzCases() []authzCase {
	return []authzCase{
		// Clusters.
		{"CreateCluster", `{"clusterName":"prod","tags":[{"key":"team","value":"core"}],"capacityProviders":["FARGATE"],"defaultCapacityProviderStrategy":[{"capacityProvider":"spot","weight":1}]}`,
			[]string{clProd}, map[string][]string{"aws:RequestTag/team": {"core"}, "aws:TagKeys": {"team"},
				"ecs:capacity-provider": {arnOf("capacity-provider/FARGATE"), arnOf("capacity-provider/spot")}}},
		{"CreateCluster", `{}`, []string{clDefault}, nil},
		{"DescribeClusters", `{"clusters":["prod","arn:aws:ecs:eu-west-1:111122223333:cluster/dev"]}`,
			[]string{clProd, arnOf("cluster/dev")}, nil},
		{"DescribeClusters", `{}`, []string{clDefault}, nil},
		{"ListClusters", `{"maxResults":5}`, []string{"*"}, nil},
		{"UpdateCluster", `{"cluster":"prod","settings":[]}`, []string{clProd}, nil},
		{"UpdateClusterSettings", `{"cluster":"prod","settings":[]}`, []string{clProd}, nil},
		{"DeleteCluster", `{"cluster":"arn:aws:ecs:eu-west-1:111122223333:cluster/prod"}`, []string{clProd}, nil},

		// Task definitions.
		{"RegisterTaskDefinition", `{"family":"web","cpu":"0.5 vCPU","memory":"1 GB","requiresCompatibilities":["EC2"],"containerDefinitions":[{"name":"a","privileged":true}],"tags":[{"key":"k","value":"v"}]}`,
			[]string{arnOf("task-definition/web:*")}, map[string][]string{"aws:RequestTag/k": {"v"}, "aws:TagKeys": {"k"},
				"ecs:compute-compatibility": {"EC2"}, "ecs:privileged": {"true"}, "ecs:task-cpu": {"512"}, "ecs:task-memory": {"1024"}}},
		{"DescribeTaskDefinition", `{"taskDefinition":"web:3"}`, []string{"*"}, nil},
		{"DeregisterTaskDefinition", `{"taskDefinition":"web:3"}`, []string{"*"}, nil},
		{"ListTaskDefinitions", `{"familyPrefix":"web"}`, []string{"*"}, nil},
		{"ListTaskDefinitionFamilies", `{}`, []string{"*"}, nil},
		{"DeleteTaskDefinitions", `{"taskDefinitions":["web:3","arn:aws:ecs:eu-west-1:111122223333:task-definition/api:2"]}`,
			[]string{arnOf("task-definition/web:3"), arnOf("task-definition/api:2")}, nil},
		{"DeleteTaskDefinitions", `{"taskDefinitions":["web"]}`, []string{"*"}, nil},

		// Tags.
		{"TagResource", `{"resourceArn":"arn:aws:ecs:eu-west-1:111122223333:service/prod/api","tags":[{"key":"a","value":"1"},{"key":"b","value":"2"}]}`,
			[]string{arnOf("service/prod/api")}, map[string][]string{"aws:RequestTag/a": {"1"}, "aws:RequestTag/b": {"2"}, "aws:TagKeys": {"a", "b"}}},
		{"UntagResource", `{"resourceArn":"arn:aws:ecs:eu-west-1:111122223333:task/prod/abc","tagKeys":["a"]}`,
			[]string{arnOf("task/prod/abc")}, map[string][]string{"aws:TagKeys": {"a"}}},
		{"ListTagsForResource", `{"resourceArn":"arn:aws:ecs:eu-west-1:111122223333:task-definition/web:3"}`,
			[]string{arnOf("task-definition/web:3")}, nil},
		{"ListTagsForResource", `{"resourceArn":"arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/i1"}`,
			[]string{arnOf("container-instance/prod/i1")}, nil},
		{"ListTagsForResource", `{"resourceArn":"arn:aws:ecs:eu-west-1:111122223333:cluster/prod"}`, []string{clProd}, nil},
		// The short service ARN cannot be tagged: the handler refuses it.
		{"TagResource", `{"resourceArn":"arn:aws:ecs:eu-west-1:111122223333:service/api","tags":[]}`, []string{"*"}, nil},

		// Account settings.
		{"PutAccountSetting", `{"name":"containerInsights","value":"enabled"}`, []string{"*"},
			map[string][]string{"ecs:account-setting": {"containerInsights"}}},
		{"PutAccountSettingDefault", `{"name":"awsvpcTrunking","value":"enabled"}`, []string{"*"},
			map[string][]string{"ecs:account-setting": {"awsvpcTrunking"}}},
		{"DeleteAccountSetting", `{"name":"containerInsights"}`, []string{"*"},
			map[string][]string{"ecs:account-setting": {"containerInsights"}}},
		{"ListAccountSettings", `{"name":"containerInsights"}`, []string{"*"}, nil},

		// Container instances and the agent.
		{"RegisterContainerInstance", `{"cluster":"prod","tags":[{"key":"rack","value":"r1"}]}`, []string{clProd},
			map[string][]string{"aws:RequestTag/rack": {"r1"}, "aws:TagKeys": {"rack"}}},
		{"DeregisterContainerInstance", `{"cluster":"prod","containerInstance":"i1"}`, []string{clProd}, nil},
		{"DescribeContainerInstances", `{"cluster":"prod","containerInstances":["i1","arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/i2"]}`,
			[]string{arnOf("container-instance/prod/i1"), arnOf("container-instance/prod/i2")}, map[string][]string{"ecs:cluster": {clProd}}},
		{"UpdateContainerInstancesState", `{"containerInstances":["i1"],"status":"DRAINING"}`,
			[]string{arnOf("container-instance/default/i1")}, map[string][]string{"ecs:cluster": {clDefault}}},
		{"ListContainerInstances", `{"cluster":"prod"}`, []string{clProd}, nil},
		{"PutAttributes", `{"cluster":"prod","attributes":[{"name":"a","targetId":"i1"},{"name":"b","targetType":"container-instance","targetId":"i1"}]}`,
			[]string{arnOf("container-instance/prod/i1")}, map[string][]string{"ecs:cluster": {clProd}}},
		{"DeleteAttributes", `{"cluster":"prod","attributes":[{"name":"a","targetId":"arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/i2"}]}`,
			[]string{arnOf("container-instance/prod/i2")}, map[string][]string{"ecs:cluster": {clProd}}},
		{"ListAttributes", `{"cluster":"prod","targetType":"container-instance"}`, []string{clProd}, nil},
		{"SubmitTaskStateChange", `{"cluster":"prod","task":"t1","status":"RUNNING"}`, []string{clProd}, nil},
		{"SubmitContainerStateChange", `{"cluster":"prod","task":"t1","containerName":"a","status":"RUNNING"}`, []string{clProd}, nil},
		{"DiscoverPollEndpoint", `{"cluster":"prod","containerInstance":"i1"}`, []string{"*"}, nil},

		// Tasks.
		{"RunTask", `{"cluster":"prod","taskDefinition":"web","enableExecuteCommand":true,"capacityProviderStrategy":[{"capacityProvider":"spot"}],"tags":[{"key":"k","value":"v"}]}`,
			[]string{web7}, map[string][]string{"ecs:cluster": {clProd}, "ecs:capacity-provider": {arnOf("capacity-provider/spot")},
				"ecs:enable-execute-command": {"true"}, "aws:RequestTag/k": {"v"}, "aws:TagKeys": {"k"}}},
		{"RunTask", `{"taskDefinition":"api:4"}`, []string{arnOf("task-definition/api:4")},
			map[string][]string{"ecs:cluster": {clDefault}, "ecs:enable-execute-command": {"false"}}},
		// A family with no known revision is the whole family.
		{"RunTask", `{"taskDefinition":"arn:aws:ecs:eu-west-1:111122223333:task-definition/api"}`, []string{arnOf("task-definition/api:*")},
			map[string][]string{"ecs:cluster": {clDefault}, "ecs:enable-execute-command": {"false"}}},
		{"PlanTasks", `{"cluster":"prod","taskDefinition":"web:2"}`, []string{arnOf("task-definition/web:2")},
			map[string][]string{"ecs:cluster": {clProd}, "ecs:enable-execute-command": {"false"}}},
		{"StartTask", `{"cluster":"prod","taskDefinition":"web","containerInstances":["i1","arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/i2"],"enableExecuteCommand":true}`,
			[]string{web7}, map[string][]string{"ecs:cluster": {clProd}, "ecs:enable-execute-command": {"true"},
				"ecs:container-instances": {arnOf("container-instance/prod/i1"), arnOf("container-instance/prod/i2")}}},
		{"StopTask", `{"cluster":"prod","task":"abc"}`, []string{arnOf("task/prod/abc")}, map[string][]string{"ecs:cluster": {clProd}}},
		{"DescribeTasks", `{"cluster":"prod","tasks":["abc","arn:aws:ecs:eu-west-1:111122223333:task/prod/def"]}`,
			[]string{arnOf("task/prod/abc"), arnOf("task/prod/def")}, map[string][]string{"ecs:cluster": {clProd}}},
		{"ListTasks", `{"cluster":"prod"}`, []string{"*"}, map[string][]string{"ecs:cluster": {clProd}}},
		{"ListTasks", `{"cluster":"prod","containerInstance":"i1"}`, []string{arnOf("container-instance/prod/i1")},
			map[string][]string{"ecs:cluster": {clProd}}},
		{"UpdateTaskProtection", `{"cluster":"prod","tasks":["abc"],"protectionEnabled":true}`, []string{arnOf("task/prod/abc")},
			map[string][]string{"ecs:cluster": {clProd}}},
		{"GetTaskProtection", `{"cluster":"prod","tasks":["abc"]}`, []string{arnOf("task/prod/abc")},
			map[string][]string{"ecs:cluster": {clProd}}},

		// Services.
		{"CreateService", `{"cluster":"prod","serviceName":"api","taskDefinition":"web","propagateTags":"SERVICE","enableECSManagedTags":true,"tags":[{"key":"k","value":"v"}]}`,
			[]string{arnOf("service/prod/api")}, map[string][]string{"ecs:cluster": {clProd}, "ecs:task-definition": {web7},
				"ecs:enable-execute-command": {"false"}, "ecs:enable-ecs-managed-tags": {"true"}, "ecs:propagate-tags": {"SERVICE"},
				"aws:RequestTag/k": {"v"}, "aws:TagKeys": {"k"}}},
		{"UpdateService", `{"cluster":"prod","service":"arn:aws:ecs:eu-west-1:111122223333:service/prod/api","taskDefinition":"web:3","enableExecuteCommand":true}`,
			[]string{arnOf("service/prod/api")}, map[string][]string{"ecs:cluster": {clProd},
				"ecs:task-definition": {arnOf("task-definition/web:3")}, "ecs:enable-execute-command": {"true"}}},
		// An update that changes neither carries neither key.
		{"UpdateService", `{"cluster":"prod","service":"api","desiredCount":2}`,
			[]string{arnOf("service/prod/api")}, map[string][]string{"ecs:cluster": {clProd}}},
		{"PlanServiceUpdate", `{"service":"api","desiredCount":2}`,
			[]string{arnOf("service/default/api")}, map[string][]string{"ecs:cluster": {clDefault}}},
		{"PromoteServiceDeployment", `{"cluster":"prod","service":"api"}`,
			[]string{arnOf("service/prod/api")}, map[string][]string{"ecs:cluster": {clProd}}},
		{"DeleteService", `{"cluster":"prod","service":"api","force":true}`, []string{arnOf("service/prod/api")},
			map[string][]string{"ecs:cluster": {clProd}}},
		// The old short service ARN names a service of the call's cluster.
		{"DescribeServices", `{"cluster":"prod","services":["api","arn:aws:ecs:eu-west-1:111122223333:service/web"]}`,
			[]string{arnOf("service/prod/api"), arnOf("service/prod/web")}, map[string][]string{"ecs:cluster": {clProd}}},
		{"ListServicesByNamespace", `{"namespace":"corp.internal"}`, []string{"*"}, nil},
		{"ListServices", `{"cluster":"prod"}`, []string{"*"}, map[string][]string{"ecs:cluster": {clProd}}},
		{"ListServiceDeployments", `{"cluster":"prod","service":"api"}`, []string{arnOf("service/prod/api")},
			map[string][]string{"ecs:cluster": {clProd}}},
		{"DescribeServiceRevisions", `{"serviceRevisionArns":["arn:aws:ecs:eu-west-1:111122223333:service-revision/prod/api/123"]}`,
			[]string{arnOf("service/prod/api"), arnOf("service-revision/prod/api/123")},
			map[string][]string{"ecs:cluster": {clProd}, "ecs:service": {arnOf("service/prod/api")}}},
		{"DescribeServiceDeployments", `{"serviceDeploymentArns":["arn:aws:ecs:eu-west-1:111122223333:service-deployment/prod/api/d1"]}`,
			[]string{arnOf("service/prod/api"), arnOf("service-deployment/prod/api/d1")},
			map[string][]string{"ecs:cluster": {clProd}, "ecs:service": {arnOf("service/prod/api")}}},
		{"StopServiceDeployment", `{"serviceDeploymentArn":"arn:aws:ecs:eu-west-1:111122223333:service-deployment/prod/api/d1","stopType":"ROLLBACK"}`,
			[]string{arnOf("service/prod/api"), arnOf("service-deployment/prod/api/d1")},
			map[string][]string{"ecs:cluster": {clProd}, "ecs:service": {arnOf("service/prod/api")}}},
		{"ContinueServiceDeployment", `{"serviceDeploymentArn":"arn:aws:ecs:eu-west-1:111122223333:service-deployment/prod/api/d1","hookId":"h1"}`,
			[]string{arnOf("service/prod/api"), arnOf("service-deployment/prod/api/d1")},
			map[string][]string{"ecs:cluster": {clProd}, "ecs:service": {arnOf("service/prod/api")}}},
		{"CreateTaskSet", `{"cluster":"prod","service":"api","taskDefinition":"web:3","tags":[{"key":"team","value":"blue"}]}`,
			[]string{arnOf("service/prod/api")}, map[string][]string{"ecs:cluster": {clProd}, "ecs:service": {arnOf("service/prod/api")},
				"ecs:task-definition": {arnOf("task-definition/web:3")}, "aws:RequestTag/team": {"blue"}, "aws:TagKeys": {"team"}}},
		{"DescribeTaskSets", `{"cluster":"prod","service":"api"}`, []string{arnOf("service/prod/api")},
			map[string][]string{"ecs:cluster": {clProd}, "ecs:service": {arnOf("service/prod/api")}}},
		{"UpdateServicePrimaryTaskSet", `{"cluster":"prod","service":"api","primaryTaskSet":"ecs-svc/1"}`, []string{arnOf("service/prod/api")},
			map[string][]string{"ecs:cluster": {clProd}, "ecs:service": {arnOf("service/prod/api")}}},
		{"UpdateTaskSet", `{"cluster":"prod","service":"api","taskSet":"ecs-svc/1","scale":{"value":50}}`, []string{arnOf("task-set/prod/api/ecs-svc/1")},
			map[string][]string{"ecs:cluster": {clProd}, "ecs:service": {arnOf("service/prod/api")}}},
		{"DeleteTaskSet", `{"cluster":"prod","service":"api","taskSet":"arn:aws:ecs:eu-west-1:111122223333:task-set/prod/api/ecs-svc/2"}`,
			[]string{arnOf("task-set/prod/api/ecs-svc/2")}, map[string][]string{"ecs:cluster": {clProd}, "ecs:service": {arnOf("service/prod/api")}}},
	}
}

func TestAuthzTable(t *testing.T) {
	for _, c := range authzCases() {
		got := ResolveAuthz(authzScope, c.op, []byte(c.body), latestWeb)
		want := Authz{Resources: c.res, Context: c.ctx}
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s %s (-want +got):\n%s", c.op, c.body, d)
		}
	}
}

// TestAuthzCoversEveryOperation fails when an operation is served that has
// no rule, or no row in the table above.
func TestAuthzCoversEveryOperation(t *testing.T) {
	a := &API{}
	ops := []string{}
	for op := range a.Service().Ops {
		ops = append(ops, op)
	}
	for op := range a.FlottaOps() {
		ops = append(ops, op)
	}
	tested := map[string]bool{}
	for _, c := range authzCases() {
		tested[c.op] = true
	}
	for _, op := range ops {
		if _, ok := authzRules[op]; !ok {
			t.Errorf("%s has no authorization rule", op)
		}
		if !tested[op] {
			t.Errorf("%s has no row in authzCases", op)
		}
	}
	for op := range authzRules {
		if !slices.Contains(ops, op) {
			t.Errorf("rule for %s, which is not served", op)
		}
	}
}

// TestAuthzRefusedReferences checks that what a handler would refuse is
// authorized on "*" (which a policy naming resources does not allow), and
// that what it would default is the default cluster.
func TestAuthzRefusedReferences(t *testing.T) {
	star := []string{"*"}
	for _, c := range []authzCase{
		{"DescribeClusters", `not json`, star, nil},
		{"DescribeClusters", `[]`, star, nil},
		{"DescribeClusters", `{"clusters":"prod"}`, star, nil},
		{"DescribeClusters", `{"clusters":["prod","bad name"]}`, []string{clProd, "*"}, nil},
		{"UnknownOperation", `{}`, star, nil},
		{"DeleteCluster", `{}`, star, nil},
		{"DeleteCluster", `{"cluster":""}`, star, nil},
		{"DeleteCluster", `{"cluster":"arn:aws:s3:::bucket"}`, star, nil},
		{"UpdateCluster", `{"cluster":"a*"}`, star, nil},
		{"StopTask", `{"cluster":"prod"}`, star, map[string][]string{"ecs:cluster": {clProd}}},
		{"StopTask", `{"cluster":"prod","task":"a/b"}`, star, map[string][]string{"ecs:cluster": {clProd}}},
		// A task ARN of another cluster is refused by the handler.
		{"StopTask", `{"cluster":"prod","task":"arn:aws:ecs:eu-west-1:111122223333:task/dev/abc"}`, star, map[string][]string{"ecs:cluster": {clProd}}},
		{"StopTask", `{"cluster":"bad name","task":"abc"}`, star, nil},
		{"DescribeTasks", `{}`, star, map[string][]string{"ecs:cluster": {clDefault}}},
		// A task set ARN of another service is refused by the handler.
		{"DeleteTaskSet", `{"cluster":"prod","service":"api","taskSet":"arn:aws:ecs:eu-west-1:111122223333:task-set/prod/web/ecs-svc/2"}`, star,
			map[string][]string{"ecs:cluster": {clProd}, "ecs:service": {arnOf("service/prod/api")}}},
		{"DescribeServices", `{"cluster":"prod","services":["arn:aws:ecs:eu-west-1:111122223333:service/dev/api"]}`, star,
			map[string][]string{"ecs:cluster": {clProd}}},
		{"RunTask", `{}`, star, map[string][]string{"ecs:cluster": {clDefault}, "ecs:enable-execute-command": {"false"}}},
		{"RunTask", `{"taskDefinition":"web:x"}`, star, map[string][]string{"ecs:cluster": {clDefault}, "ecs:enable-execute-command": {"false"}}},
		{"RunTask", `{"taskDefinition":"web","enableExecuteCommand":"yes"}`, star, nil},
		{"StartTask", `{"taskDefinition":"web:1","containerInstances":["a/b"]}`, []string{arnOf("task-definition/web:1"), "*"},
			map[string][]string{"ecs:cluster": {clDefault}, "ecs:enable-execute-command": {"false"}}},
		{"CreateService", `{"cluster":"prod","serviceName":"a b","taskDefinition":"web:1"}`, star,
			map[string][]string{"ecs:cluster": {clProd}, "ecs:task-definition": {arnOf("task-definition/web:1")}, "ecs:enable-execute-command": {"false"}}},
		{"RegisterTaskDefinition", `{"family":""}`, star, map[string][]string{"ecs:privileged": {"false"}}},
		{"TagResource", `{"resourceArn":"arn:aws:ecs:eu-west-1:111122223333:task-definition/web","tags":[]}`, star, nil},
		{"TagResource", `{"resourceArn":"arn:aws:ecs:eu-west-1:111122223333:widget/x"}`, star, nil},
		{"PutAttributes", `{"cluster":"prod","attributes":[{"name":"a","targetType":"task","targetId":"t1"}]}`, star,
			map[string][]string{"ecs:cluster": {clProd}}},
		{"DescribeServiceRevisions", `{"serviceRevisionArns":["arn:aws:ecs:eu-west-1:111122223333:service-deployment/prod/api/1"]}`, star, nil},
		{"StopServiceDeployment", `{}`, star, nil},
	} {
		got := ResolveAuthz(authzScope, c.op, []byte(c.body), latestWeb)
		want := Authz{Resources: c.res, Context: c.ctx}
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s %s (-want +got):\n%s", c.op, c.body, d)
		}
	}
}

// TestAuthzNeverNamesOtherAccounts sends every operation references to
// another account and region, and hostile bodies: no call may panic, and
// every resource must be "*" or an ARN of this server's scope, since the
// handlers act on this account's resource of that name.
func TestAuthzNeverNamesOtherAccounts(t *testing.T) {
	foreign := "arn:aws:ecs:us-east-1:999988887777:"
	bodies := []string{
		``, `null`, `"x"`, `{`, `{"cluster":5}`, `{"cluster":null,"tasks":null}`,
		`{"cluster":"` + foreign + `cluster/prod","services":["` + foreign + `service/prod/api"],"service":"` + foreign + `service/prod/api","serviceName":"api",` +
			`"tasks":["` + foreign + `task/prod/abc"],"task":"` + foreign + `task/prod/abc","containerInstances":["` + foreign + `container-instance/prod/i1"],` +
			`"containerInstance":"` + foreign + `container-instance/prod/i1","taskDefinition":"` + foreign + `task-definition/web:1",` +
			`"taskDefinitions":["` + foreign + `task-definition/web:1"],"resourceArn":"` + foreign + `task/prod/abc",` +
			`"serviceRevisionArns":["` + foreign + `service-revision/prod/api/1"],"serviceDeploymentArn":"` + foreign + `service-deployment/prod/api/1",` +
			`"attributes":[{"name":"a","targetId":"` + foreign + `container-instance/prod/i1"}]}`,
	}
	for op := range authzRules {
		for _, body := range bodies {
			got := ResolveAuthz(authzScope, op, []byte(body), latestWeb)
			if len(got.Resources) == 0 {
				t.Errorf("%s %s: no resources", op, body)
			}
			for _, r := range got.Resources {
				if r != "*" && !strings.HasPrefix(r, arnOf("")) {
					t.Errorf("%s %s: resource %s is not of this account", op, body, r)
				}
			}
			for k, vs := range got.Context {
				for _, v := range vs {
					if strings.Contains(v, "999988887777") {
						t.Errorf("%s %s: %s=%s names another account", op, body, k, v)
					}
				}
			}
		}
	}
	// The foreign task ARN names this account's task of that cluster and id.
	got := ResolveAuthz(authzScope, "StopTask", []byte(`{"cluster":"prod","task":"`+foreign+`task/prod/abc"}`), nil)
	if want := []string{arnOf("task/prod/abc")}; !slices.Equal(got.Resources, want) {
		t.Errorf("StopTask of a foreign task ARN: %v, want %v", got.Resources, want)
	}
}

// TestAuthzForResolvesLatestRevision checks that the API's AuthzFor asks the
// store for a family's latest ACTIVE revision.
func TestAuthzForResolvesLatestRevision(t *testing.T) {
	ctx := context.Background()
	st, err := state.Open(ctx, state.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Scope = authzScope
	for range 2 {
		td := model.TaskDefinition{Family: "web", ContainerDefinitions: []model.ContainerDefinition{{Name: "a", Image: "busybox"}}}
		if _, err := st.RegisterTaskDefinition(ctx, td, nil, "test"); err != nil {
			t.Fatal(err)
		}
	}
	a := &API{State: st}
	for _, c := range []struct{ body, want string }{
		{`{"taskDefinition":"web"}`, arnOf("task-definition/web:2")},
		{`{"taskDefinition":"web:1"}`, arnOf("task-definition/web:1")},
		{`{"taskDefinition":"api"}`, arnOf("task-definition/api:*")},
	} {
		got := a.AuthzFor(ctx, "RunTask", []byte(c.body))
		if !slices.Equal(got.Resources, []string{c.want}) {
			t.Errorf("RunTask %s: %v, want %s", c.body, got.Resources, c.want)
		}
	}
}

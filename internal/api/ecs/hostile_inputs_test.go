package ecs_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// badInput is one hostile or careless request and the ECS error it must get.
type badInput struct {
	op, body string
	code     string
	// text is a fragment of the message ("" checks only the code).
	text string
}

const (
	big32 = "2147483648"    // 2^31: one past the largest Integer
	big40 = "1099511627776" // 2^40
	big62 = "4611686018427387904"
)

// td is a RegisterTaskDefinition body whose one container has extra members.
func td(container string) string {
	return `{"family":"f","containerDefinitions":[{"name":"a","image":"x","memory":64` + container + `}]}`
}

// tdTask is a RegisterTaskDefinition body with extra task-level members.
func tdTask(task string) string {
	return `{"family":"f","containerDefinitions":[{"name":"a","image":"x","memory":64}]` + task + `}`
}

func repeat(item string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = strings.ReplaceAll(item, "%d", strconv.Itoa(i))
	}
	return strings.Join(parts, ",")
}

// badInputs are the hostile and careless requests of TestBadInputs: numbers
// beyond their type, values beyond ECS's ranges and quotas, wrong types,
// missing and unknown names, oversized lists and bodies.
var badInputs = []badInput{
	// Integers beyond 32 bits: the SDK could not read them back.
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","desiredCount":` + big40 + `}`, "SerializationException", "desiredCount"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","desiredCount":` + big32 + `}`, "SerializationException", "desiredCount"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","desiredCount":-` + big40 + `}`, "SerializationException", "desiredCount"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","desiredCount":1e300}`, "SerializationException", "desiredCount"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","healthCheckGracePeriodSeconds":` + big40 + `}`, "SerializationException", "healthCheckGracePeriodSeconds"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","deploymentConfiguration":{"maximumPercent":` + big40 + `}}`, "SerializationException", "maximumPercent"},
	{"UpdateService", `{"service":"s","desiredCount":` + big40 + `}`, "SerializationException", "desiredCount"},
	{"RegisterTaskDefinition", td(`,"memory":` + big40), "SerializationException", "memory"},
	{"RegisterTaskDefinition", td(`,"cpu":` + big40), "SerializationException", "cpu"},
	{"RegisterTaskDefinition", td(`,"memoryReservation":` + big32), "SerializationException", "memoryReservation"},
	{"RegisterTaskDefinition", td(`,"stopTimeout":` + big40), "SerializationException", "stopTimeout"},
	{"RegisterTaskDefinition", td(`,"startTimeout":` + big40), "SerializationException", "startTimeout"},
	{"RegisterTaskDefinition", td(`,"ulimits":[{"name":"nofile","softLimit":1,"hardLimit":` + big62 + `}]`), "SerializationException", "hardLimit"},
	{"RegisterTaskDefinition", td(`,"linuxParameters":{"sharedMemorySize":` + big40 + `}`), "SerializationException", "sharedMemorySize"},
	{"RegisterTaskDefinition", td(`,"linuxParameters":{"maxSwap":` + big40 + `}`), "SerializationException", "maxSwap"},
	{"RegisterTaskDefinition", td(`,"linuxParameters":{"tmpfs":[{"containerPath":"/t","size":` + big40 + `}]}`), "SerializationException", "size"},
	{"RegisterTaskDefinition", td(`,"portMappings":[{"containerPort":` + big40 + `}]`), "SerializationException", "containerPort"},
	{"RegisterTaskDefinition", td(`,"healthCheck":{"command":["CMD","true"],"interval":` + big40 + `}`), "SerializationException", "interval"},
	{"RegisterTaskDefinition", td(`,"restartPolicy":{"enabled":true,"ignoredExitCodes":[` + big40 + `]}`), "SerializationException", "ignoredExitCodes"},
	{"RegisterTaskDefinition", tdTask(`,"ephemeralStorage":{"sizeInGiB":` + big40 + `}`), "SerializationException", "sizeInGiB"},
	{"RunTask", `{"taskDefinition":"web","count":` + big40 + `}`, "SerializationException", "count"},
	{"ListTasks", `{"maxResults":` + big40 + `}`, "SerializationException", "maxResults"},
	{"ListClusters", `{"maxResults":` + big32 + `}`, "SerializationException", "maxResults"},
	{"ListServices", `{"maxResults":-` + big40 + `}`, "SerializationException", "maxResults"},
	{"RegisterContainerInstance", `{"totalResources":[{"name":"CPU","type":"INTEGER","integerValue":` + big40 + `}]}`, "SerializationException", "integerValue"},
	{"PutAttributes", `{"attributes":[{"name":"a","targetType":"container-instance","targetId":"x"}],"cluster":` + big40 + `}`, "SerializationException", "cluster"},

	// Values beyond ECS's ranges and quotas.
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","desiredCount":5001}`, "InvalidParameterException", "Desired count exceeds limit."},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","desiredCount":2147483647}`, "InvalidParameterException", "Desired count exceeds limit."},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","desiredCount":-1}`, "InvalidParameterException", "desiredCount"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","healthCheckGracePeriodSeconds":-1}`, "InvalidParameterException", "healthCheckGracePeriodSeconds"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","deploymentConfiguration":{"maximumPercent":99}}`, "InvalidParameterException", "maximumPercent"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","deploymentConfiguration":{"minimumHealthyPercent":-1}}`, "InvalidParameterException", "minimumHealthyPercent"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","deploymentConfiguration":{"minimumHealthyPercent":100,"maximumPercent":100}}`, "InvalidParameterException", ""},
	{"RunTask", `{"taskDefinition":"web","count":11}`, "InvalidParameterException", "count"},
	{"RunTask", `{"taskDefinition":"web","count":0}`, "InvalidParameterException", "count"},
	{"RunTask", `{"taskDefinition":"web","count":-5}`, "InvalidParameterException", "count"},
	{"ListTasks", `{"maxResults":0}`, "InvalidParameterException", "maxResults"},
	{"ListTasks", `{"maxResults":101}`, "InvalidParameterException", "maxResults"},
	{"ListServices", `{"maxResults":101}`, "InvalidParameterException", "maxResults"},
	{"ListClusters", `{"maxResults":-1}`, "InvalidParameterException", "maxResults"},
	{"ListTaskDefinitions", `{"maxResults":1000}`, "InvalidParameterException", "maxResults"},
	{"ListContainerInstances", `{"maxResults":1000}`, "InvalidParameterException", "maxResults"},
	{"RegisterTaskDefinition", td(`,"memory":2`), "ClientException", "memory"},
	{"RegisterTaskDefinition", td(`,"cpu":-1`), "ClientException", "cpu"},
	{"RegisterTaskDefinition", td(`,"stopTimeout":-1`), "ClientException", "stopTimeout"},
	{"RegisterTaskDefinition", td(`,"startTimeout":-1`), "ClientException", "startTimeout"},
	{"RegisterTaskDefinition", td(`,"portMappings":[{"containerPort":70000}]`), "ClientException", "containerPort"},
	{"RegisterTaskDefinition", td(`,"portMappings":[{"containerPort":80,"hostPort":-1}]`), "ClientException", "hostPort"},
	{"RegisterTaskDefinition", td(`,"healthCheck":{"command":["CMD","true"],"retries":11}`), "ClientException", "retries"},
	{"RegisterTaskDefinition", td(`,"healthCheck":{"command":["CMD","true"],"timeout":61}`), "ClientException", "timeout"},
	{"RegisterTaskDefinition", td(`,"healthCheck":{"command":["CMD","true"],"startPeriod":301}`), "ClientException", "startPeriod"},
	{"RegisterTaskDefinition", td(`,"ulimits":[{"name":"nofile","softLimit":10,"hardLimit":1}]`), "ClientException", "softLimit"},
	{"RegisterTaskDefinition", td(`,"linuxParameters":{"sharedMemorySize":0}`), "ClientException", "sharedMemorySize"},
	{"RegisterTaskDefinition", td(`,"linuxParameters":{"maxSwap":-1}`), "ClientException", "maxSwap"},
	{"RegisterTaskDefinition", td(`,"linuxParameters":{"swappiness":101}`), "ClientException", "swappiness"},
	{"RegisterTaskDefinition", td(`,"restartPolicy":{"enabled":true,"restartAttemptPeriod":1801}`), "ClientException", "restartAttemptPeriod"},
	{"RegisterTaskDefinition", tdTask(`,"cpu":"999999"`), "ClientException", "Invalid 'cpu' setting for task."},
	{"RegisterTaskDefinition", tdTask(`,"memory":"99999999999"`), "ClientException", "Invalid 'memory' setting for task."},
	{"RegisterTaskDefinition", tdTask(`,"ephemeralStorage":{"sizeInGiB":201}`), "ClientException", "EphemeralStorage size should be at most 200"},
	{"RegisterTaskDefinition", tdTask(`,"ephemeralStorage":{"sizeInGiB":20}`), "ClientException", "EphemeralStorage size should be at least 21"},
	{"RegisterTaskDefinition", `{"family":"f","containerDefinitions":[` + repeat(`{"name":"c%d","image":"x","memory":64}`, 11) + `]}`, "ClientException", "Too many containers."},
	{"RegisterTaskDefinition", `{"family":"f","containerDefinitions":[{"name":"a","image":"x","memory":64,"environment":[` +
		repeat(`{"name":"V%d","value":"`+strings.Repeat("v", 200)+`"}`, 400) + `]}]}`, "ClientException", "size"},
	{"RegisterTaskDefinition", tdTask(`,"tags":[` + repeat(`{"key":"k%d","value":"v"}`, 51) + `]`), "InvalidParameterException", "at most 50 tags"},
	{"TagResource", `{"resourceArn":"CLUSTER","tags":[` + repeat(`{"key":"k%d","value":"v"}`, 5000) + `]}`, "InvalidParameterException", "at most 50 tags"},
	{"TagResource", `{"resourceArn":"CLUSTER","tags":[{"key":"` + strings.Repeat("k", 129) + `","value":"v"}]}`, "InvalidParameterException", "128"},
	{"TagResource", `{"resourceArn":"CLUSTER","tags":[{"key":"k","value":"` + strings.Repeat("v", 257) + `"}]}`, "InvalidParameterException", "256"},
	{"CreateCluster", `{"clusterName":"c","tags":[` + repeat(`{"key":"k%d","value":"v"}`, 51) + `]}`, "InvalidParameterException", "at most 50 tags"},
	{"DescribeServices", `{"services":[` + repeat(`"s%d"`, 11) + `]}`, "InvalidParameterException", "at most 10 items"},
	{"DescribeTasks", `{"tasks":[` + repeat(`"t%d"`, 101) + `]}`, "InvalidParameterException", "at most 100 items"},
	{"DescribeContainerInstances", `{"containerInstances":[` + repeat(`"i%d"`, 101) + `]}`, "InvalidParameterException", "at most 100 items"},
	{"DescribeClusters", `{"clusters":[` + repeat(`"c%d"`, 101) + `]}`, "InvalidParameterException", "100"},
	{"DeleteTaskDefinitions", `{"taskDefinitions":[` + repeat(`"web:%d"`, 11) + `]}`, "InvalidParameterException", "at most 10"},
	{"StartTask", `{"taskDefinition":"web","containerInstances":[` + repeat(`"i%d"`, 11) + `]}`, "InvalidParameterException", "at most 10"},
	{"PutAttributes", `{"attributes":[` + repeat(`{"name":"a%d","targetType":"container-instance","targetId":"x"}`, 11) + `]}`, "InvalidParameterException", "10"},

	// Wrong types and malformed bodies.
	{"CreateCluster", `{"clusterName":42}`, "SerializationException", "clusterName"},
	{"CreateCluster", `{"clusterName":["a"]}`, "SerializationException", "clusterName"},
	{"CreateCluster", `{"clusterName":"a"`, "SerializationException", "not valid JSON"},
	{"CreateCluster", `["a"]`, "SerializationException", "JSON object"},
	{"CreateCluster", `"a"`, "SerializationException", "JSON object"},
	{"CreateCluster", `{"tags":{"key":"k"}}`, "SerializationException", "tags"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","desiredCount":"2"}`, "SerializationException", "desiredCount"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","desiredCount":1.5}`, "SerializationException", "desiredCount"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","enableECSManagedTags":"yes"}`, "SerializationException", "enableECSManagedTags"},
	{"RegisterTaskDefinition", `{"family":"f","containerDefinitions":{"name":"a"}}`, "SerializationException", "containerDefinitions"},
	{"RegisterTaskDefinition", td(`,"essential":"true"`), "SerializationException", "essential"},
	{"RegisterTaskDefinition", td(`,"environment":[{"name":1}]`), "SerializationException", "name"},
	{"RunTask", `{"taskDefinition":["web"]}`, "SerializationException", "taskDefinition"},
	{"RunTask", `{"taskDefinition":"web","overrides":[]}`, "SerializationException", "overrides"},
	{"ListTasks", `{"desiredStatus":1}`, "SerializationException", "desiredStatus"},
	{"DescribeTasks", `{"tasks":"t"}`, "SerializationException", "tasks"},
	{"StopTask", `{"task":{"id":"t"}}`, "SerializationException", "task"},
	{"TagResource", `{"resourceArn":"CLUSTER","tags":[{"key":"k","value":7}]}`, "SerializationException", "value"},
	{"CreateCluster", `{"clusterName":"` + strings.Repeat("c", 1<<20) + `"}`, "RequestEntityTooLargeException", "limit"},

	// Missing and unknown names, bad identifiers and enums.
	{"CreateService", `{"taskDefinition":"web"}`, "InvalidParameterException", "serviceName"},
	{"CreateService", `{"serviceName":"s"}`, "InvalidParameterException", "taskDefinition"},
	{"CreateService", `{"serviceName":"bad name","taskDefinition":"web"}`, "InvalidParameterException", "Service name"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"nothing"}`, "ClientException", ""},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","cluster":"ghost"}`, "ClusterNotFoundException", "Cluster not found."},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","launchType":"MAINFRAME"}`, "ClientException", "launch type should be one of"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","schedulingStrategy":"SOMETIMES"}`, "InvalidParameterException", "schedulingStrategy"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","propagateTags":"ALL"}`, "InvalidParameterException", "propagateTags"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","capacityProviderStrategy":[{"capacityProvider":"nope"}]}`, "InvalidParameterException", "not associated with the cluster"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","launchType":"EC2","capacityProviderStrategy":[{"capacityProvider":"FARGATE"}]}`, "InvalidParameterException", "Specifying both a launch type and capacity provider strategy"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","placementStrategy":[{"type":"scatter"}]}`, "InvalidParameterException", "placementStrategy"},
	{"CreateService", `{"serviceName":"s","taskDefinition":"web","placementConstraints":[{"type":"memberOf","expression":"attribute:x =="}]}`, "InvalidParameterException", ""},
	{"UpdateService", `{"service":"ghost","desiredCount":1}`, "ServiceNotFoundException", "Service not found."},
	{"UpdateService", `{"desiredCount":1}`, "InvalidParameterException", "service"},
	{"DeleteService", `{"service":"ghost"}`, "ServiceNotFoundException", "Service not found."},
	{"RunTask", `{"taskDefinition":"web","launchType":"Fargate"}`, "InvalidParameterException", "launch type should be one of [EC2,FARGATE,EXTERNAL]"},
	{"RunTask", `{"taskDefinition":"web","capacityProviderStrategy":[{"capacityProvider":"nope","weight":1}]}`, "InvalidParameterException", "not associated with the cluster"},
	{"RunTask", `{"taskDefinition":"web","cluster":"ghost"}`, "ClusterNotFoundException", "Cluster not found."},
	{"RunTask", `{"taskDefinition":"ghost"}`, "ClientException", ""},
	{"RunTask", `{"taskDefinition":"web","clientToken":"` + strings.Repeat("t", 65) + `"}`, "InvalidParameterException", "clientToken"},
	{"RunTask", `{}`, "InvalidParameterException", "taskDefinition"},
	{"StartTask", `{"taskDefinition":"web","containerInstances":[]}`, "ClientException", "Container Instances cannot be empty."},
	{"StopTask", `{"task":"ghost"}`, "InvalidParameterException", ""},
	{"StopTask", `{"task":"x","cluster":"ghost"}`, "ClusterNotFoundException", "Cluster not found."},
	{"DescribeTasks", `{"tasks":[]}`, "InvalidParameterException", "Tasks cannot be empty."},
	{"DescribeTasks", `{"tasks":[],"cluster":"ghost"}`, "ClusterNotFoundException", "Cluster not found."},
	{"DescribeContainerInstances", `{"containerInstances":[]}`, "ClientException", "Container Instances cannot be empty."},
	{"DescribeContainerInstances", `{"containerInstances":[],"cluster":"ghost"}`, "ClusterNotFoundException", "Cluster not found."},
	{"DescribeServices", `{"services":[]}`, "InvalidParameterException", ""},
	{"DescribeServices", `{"services":["s"],"cluster":"ghost"}`, "ClusterNotFoundException", "Cluster not found."},
	{"ListServices", `{"cluster":"ghost"}`, "ClusterNotFoundException", "Cluster not found."},
	{"ListTasks", `{"cluster":"ghost"}`, "ClusterNotFoundException", "Cluster not found."},
	{"ListTasks", `{"desiredStatus":"SLEEPING"}`, "InvalidParameterException", "desiredStatus"},
	{"DeleteCluster", `{"cluster":"ghost"}`, "ClusterNotFoundException", "Cluster not found."},
	{"DeleteCluster", `{}`, "InvalidParameterException", "cluster"},
	{"CreateCluster", `{"clusterName":"bad name"}`, "InvalidParameterException", ""},
	{"CreateCluster", `{"clusterName":"` + strings.Repeat("c", 256) + `"}`, "InvalidParameterException", ""},
	{"DescribeTaskDefinition", `{"taskDefinition":"web:99"}`, "ClientException", "Unable to describe task definition."},
	{"DescribeTaskDefinition", `{"taskDefinition":"web:foo"}`, "InvalidParameterException", "Invalid revision number. Number: foo"},
	{"DeregisterTaskDefinition", `{"taskDefinition":"web"}`, "ClientException", "Revision is missing."},
	{"DeregisterTaskDefinition", `{"taskDefinition":"fake_task:foo"}`, "InvalidParameterException", "Invalid revision number. Number: foo"},
	{"DeregisterTaskDefinition", `{"taskDefinition":"fake_task:1"}`, "ClientException", "Unable to describe task definition."},
	{"RegisterTaskDefinition", `{"containerDefinitions":[{"name":"a","image":"x","memory":64}]}`, "ClientException", "Family can not be blank."},
	{"RegisterTaskDefinition", `{"family":"f","containerDefinitions":[{"image":"x","memory":64}]}`, "ClientException", "Container.name should not be null or empty."},
	{"RegisterTaskDefinition", `{"family":"f","requiresCompatibilities":["FARGATE"],"containerDefinitions":[{"name":"a"}]}`, "ClientException", "Container.image should not be null or empty."},
	{"RegisterTaskDefinition", tdTask(`,"networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512","pidMode":"host"`), "ClientException",
		"Tasks using the Fargate launch type do not support pidMode 'host'. The supported value for pidMode is 'task'."},
	{"RegisterTaskDefinition", tdTask(`,"networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512","volumes":[{"name":"v","host":{"sourcePath":"/data"}}]`),
		"ClientException", "Fargate compatible task definitions do not support sourcePath"},
	{"RegisterTaskDefinition", tdTask(`,"volumes":[{"name":"v","host":{"sourcePath":"relative/path"}}]`), "ClientException", "absolute"},
	{"RegisterTaskDefinition", tdTask(`,"volumes":[{"name":"v","efsVolumeConfiguration":{}}]`), "ClientException", "fileSystemId"},
	{"RegisterTaskDefinition", tdTask(`,"volumes":[{"name":"v","efsVolumeConfiguration":{"fileSystemId":"fs-1","rootDirectory":"/x","authorizationConfig":{"accessPointId":"fsap-1"},"transitEncryption":"ENABLED"}}]`),
		"ClientException", "the root directory must either be set to \"/\" or be omitted"},
	{"RegisterTaskDefinition", tdTask(`,"networkMode":"overlay"`), "ClientException", "networkMode"},
	{"RegisterTaskDefinition", tdTask(`,"pidMode":"everything"`), "ClientException", "pidMode"},
	{"RegisterTaskDefinition", td(`,"mountPoints":[{"sourceVolume":"ghost","containerPath":"/d"}]`), "ClientException", "Unknown volume 'ghost'."},
	{"ListTagsForResource", `{"resourceArn":"SERVICE_GHOST"}`, "ServiceNotFoundException", "Service not found."},
	{"ListTagsForResource", `{"resourceArn":"TASKDEF_GHOST"}`, "ClientException", "Unable to describe task definition."},
	{"ListTagsForResource", `{"resourceArn":"SHORT_SERVICE"}`, "InvalidParameterException", "Long arn format must be used for tagging operations"},
	{"ListTagsForResource", `{"resourceArn":"arn:aws:s3:::bucket"}`, "InvalidParameterException", ""},
	{"UntagResource", `{"resourceArn":"CLUSTER","tagKeys":["aws:x"]}`, "InvalidParameterException", "aws:"},
	{"PutAccountSetting", `{"name":"everything","value":"enabled"}`, "InvalidParameterException", ""},
	{"PutAccountSetting", `{"name":"containerInsights"}`, "InvalidParameterException", "value"},
	{"UpdateContainerInstancesState", `{"containerInstances":["x"],"status":"ASLEEP"}`, "InvalidParameterException", "status"},
	{"DeregisterContainerInstance", `{"containerInstance":"a/b/c"}`, "InvalidParameterException", ""},
	{"DiscoverPollEndpoint", `{"cluster":"bad name"}`, "InvalidParameterException", ""},
	{"LaunchRockets", `{}`, "UnknownOperationException", "LaunchRockets"},
}

// TestBadInputs sends each bad input and checks that it gets its 4xx ECS
// error, never a 5xx, changes nothing, and that the server's memory stays
// within 100 MB of where it started: no allocation follows a number a client
// sent (CreateService with desiredCount 2^40 used to take the server to an
// out-of-memory kill in seconds).
func TestBadInputs(t *testing.T) {
	if len(badInputs) < 100 {
		t.Fatalf("only %d bad inputs; the issue asks for at least 100", len(badInputs))
	}
	e := flottatest.StartServer(t)
	acct := e.Server.Account().ID
	arns := strings.NewReplacer(
		`"CLUSTER"`, `"arn:aws:ecs:us-east-1:`+acct+`:cluster/default"`,
		`"SERVICE_GHOST"`, `"arn:aws:ecs:us-east-1:`+acct+`:service/default/ghost"`,
		`"SHORT_SERVICE"`, `"arn:aws:ecs:us-east-1:`+acct+`:service/ghost"`,
		`"TASKDEF_GHOST"`, `"arn:aws:ecs:us-east-1:`+acct+`:task-definition/ghost:1"`)
	if r := e.Raw(t, "RegisterTaskDefinition", []byte(`{"family":"web","containerDefinitions":[{"name":"a","image":"x","memory":64}]}`), nil); r.Status != 200 {
		t.Fatalf("register web: %d %s", r.Status, r.Body)
	}
	startRSS := rss(t)
	for i, c := range badInputs {
		t.Run(fmt.Sprintf("%03d-%s", i, c.op), func(t *testing.T) {
			body := arns.Replace(c.body)
			unchanged(t, e, func() {
				r := e.Raw(t, c.op, []byte(body), nil)
				if r.Status < 400 || r.Status >= 500 || r.Type != c.code || !strings.Contains(r.Message, c.text) {
					t.Fatalf("%s %.200s\n got %d %s %q\nwant 4xx %s mentioning %q", c.op, body, r.Status, r.Type, r.Message, c.code, c.text)
				}
			})
		})
	}
	grew := rss(t) - startRSS
	if grew > 100<<20 {
		t.Fatalf("the process grew by %d MB over %d bad inputs", grew>>20, len(badInputs))
	}
	t.Logf("%d bad inputs: each its ECS error, nothing changed; resident memory %d MB, %+d MB", len(badInputs), (startRSS+grew)>>20, grew>>20)
}

// rss is this process's resident memory, in bytes.
func rss(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

package agent

import (
	"fmt"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
)

// What the agent tells the server of a task, derived from what it knows.

// taskHealth aggregates the essential containers' health, as ECS does.
func taskHealth(def *model.TaskDefinition, st *taskState) string {
	checked, healthy := 0, 0
	for _, c := range def.ContainerDefinitions {
		if !c.IsEssential() || c.HealthCheck == nil {
			continue
		}
		checked++
		switch st.Containers[c.Name].Health {
		case model.HealthUnhealthy:
			return model.HealthUnhealthy
		case model.HealthHealthy:
			healthy++
		}
	}
	if checked > 0 && healthy == checked {
		return model.HealthHealthy
	}
	return model.HealthUnknown
}

// snapshot is a comparable summary of what a report would say.
func snapshot(def *model.TaskDefinition, st *taskState) string {
	s := st.Status + "|" + taskHealth(def, st)
	for _, c := range def.ContainerDefinitions {
		cs := st.Containers[c.Name]
		s += fmt.Sprintf("|%s:%s:%s:%v:%d", c.Name, cs.Status, cs.Health, cs.Bindings, cs.Restarts)
	}
	return s
}

// taskChange is the report of a task's state to the server.
func taskChange(def *model.TaskDefinition, st *taskState) flottaapi.SubmitTaskStateChangeInput {
	ch := flottaapi.SubmitTaskStateChangeInput{Cluster: st.Cluster, Task: st.Arn, Status: st.Status, Reason: st.Reason,
		PullStartedAt: st.PullStartedAt, PullStoppedAt: st.PullStoppedAt, HealthStatus: taskHealth(def, st)}
	if st.Status == model.TaskStopped {
		ch.StopCode, ch.ExecutionStoppedAt = st.StopCode, st.StoppedAt
	}
	var ifaces []model.NetworkInterface
	if st.IP != "" {
		ifaces = []model.NetworkInterface{{AttachmentID: lastSegment(st.Arn), PrivateIpv4Address: st.IP}}
		status := "ATTACHED"
		if st.Status == model.TaskStopped {
			status = "DELETED"
		}
		ch.Attachments = []model.Attachment{{ID: lastSegment(st.Arn), Type: "ElasticNetworkInterface", Status: status, Details: []model.KeyValuePair{
			model.Pair("networkInterfaceId", "eni-"+lastSegment(st.Arn)[:17]),
			model.Pair("privateIPv4Address", st.IP),
		}}}
	}
	for _, c := range def.ContainerDefinitions {
		cs := st.Containers[c.Name]
		cc := flottaapi.ContainerStateChange{ContainerName: c.Name, RuntimeID: cs.ID, Status: cs.Status, ExitCode: cs.ExitCode,
			Reason: cs.Reason, NetworkBindings: cs.Bindings, HealthStatus: cs.Health, ImageDigest: cs.ImageID, NetworkInterfaces: ifaces}
		if c.HealthCheck != nil && cc.HealthStatus == "" {
			cc.HealthStatus = model.HealthUnknown
		}
		ch.Containers = append(ch.Containers, cc)
	}
	return ch
}

package state

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"

	"github.com/flotta-dev/flotta/internal/model"
)

// NewID returns a random 32-hex-digit id, the form of ECS's task and
// container instance ids.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// TaskOptions are what the caller of RunTask (or a service) adds to a task.
type TaskOptions struct {
	Overrides            *model.TaskOverride
	StartedBy            string
	Group                string
	Tags                 []model.Tag
	EnableExecuteCommand bool
}

// NewTaskRecord builds the record of a task of def placed on an instance:
// PROVISIONING, meant to run, its containers PENDING.
func (s *State) NewTaskRecord(cluster *model.Cluster, def *model.TaskDefinition, inst *InstanceRecord, o TaskOptions) TaskRecord {
	id := NewID()
	name := cluster.ClusterName
	now := model.At(s.Now())
	demand := model.TaskDemand(def)
	zone, _ := model.AttributeValue(inst.Instance.Attributes, model.AttrZone)
	t := model.Task{
		TaskArn:              s.Scope.TaskARN(name, id),
		ClusterArn:           cluster.ClusterArn,
		TaskDefinitionArn:    def.TaskDefinitionArn,
		ContainerInstanceArn: inst.Instance.ContainerInstanceArn,
		Overrides:            o.Overrides,
		LastStatus:           model.TaskProvisioning,
		DesiredStatus:        model.TaskRunning,
		Cpu:                  strconv.Itoa(demand.CPU),
		Memory:               strconv.Itoa(demand.Memory),
		StartedBy:            o.StartedBy,
		Version:              1,
		CreatedAt:            now,
		Group:                o.Group,
		LaunchType:           "EC2",
		Attachments:          []model.Attachment{},
		HealthStatus:         model.HealthUnknown,
		Tags:                 o.Tags,
		AvailabilityZone:     zone,
		EnableExecuteCommand: o.EnableExecuteCommand,
	}
	if t.Overrides == nil {
		t.Overrides = &model.TaskOverride{}
	}
	if t.Overrides.ContainerOverrides == nil {
		t.Overrides.ContainerOverrides = []model.ContainerOverride{}
	}
	if def.NetworkMode == model.NetworkAwsvpc {
		t.Attachments = []model.Attachment{{ID: NewID(), Type: "ElasticNetworkInterface", Status: "PRECREATED"}}
	}
	for _, c := range def.ContainerDefinitions {
		ct := model.Container{
			ContainerArn: s.Scope.ContainerARN(name, id, NewID()), TaskArn: t.TaskArn, Name: c.Name, Image: c.Image,
			LastStatus: model.TaskPending, NetworkBindings: []model.NetworkBinding{}, NetworkInterfaces: []model.NetworkInterface{},
			Cpu: strconv.Itoa(c.Cpu),
		}
		if c.HealthCheck != nil {
			ct.HealthStatus = model.HealthUnknown
		}
		if c.Memory != nil {
			ct.Memory = strconv.Itoa(*c.Memory)
		}
		if c.MemoryReservation != nil {
			ct.MemoryReservation = strconv.Itoa(*c.MemoryReservation)
		}
		t.Containers = append(t.Containers, ct)
	}
	return TaskRecord{Cluster: name, ID: id, InstanceID: inst.ID, Task: t, Definition: *def, Demand: demand}
}

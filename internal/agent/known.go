package agent

import (
	"slices"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/runtime"
)

// knownState is what the agent knows of an assigned task when its runner
// begins: the checkpoint (nil when there is none), completed with the
// definition's containers and with the containers the engine has that the
// checkpoint missed (the agent died between creating them and saving),
// adopted by their labels.
func knownState(as flottaapi.Assignment, checkpoint *taskState, adopted []runtime.ContainerState) *taskState {
	st := checkpoint.clone()
	if st == nil {
		st = &taskState{Arn: as.Task.TaskArn, Cluster: lastSegment(as.Task.ClusterArn), Status: model.TaskProvisioning}
	}
	if st.Containers == nil {
		st.Containers = map[string]*containerState{}
	}
	for _, c := range as.Definition.ContainerDefinitions {
		if st.Containers[c.Name] == nil {
			st.Containers[c.Name] = &containerState{Name: c.Name, Status: model.TaskPending}
		}
	}
	for _, c := range adopted {
		name := c.Labels[runtime.LabelContainer]
		if name == runtime.PauseContainer {
			if st.PauseID == "" {
				st.PauseID = c.ID
			}
			continue
		}
		if cs := st.Containers[name]; cs != nil && cs.ID == "" {
			cs.ID = c.ID
			cs.Started = !c.Created
		}
	}
	return st
}

// clone is a deep copy, so that a step never changes what it was given.
func (t *taskState) clone() *taskState {
	if t == nil {
		return nil
	}
	c := *t
	c.StartOrder = slices.Clone(t.StartOrder)
	c.Volumes = slices.Clone(t.Volumes)
	if t.Containers != nil {
		c.Containers = make(map[string]*containerState, len(t.Containers))
		for k, cs := range t.Containers {
			x := *cs
			if cs.ExitCode != nil {
				code := *cs.ExitCode
				x.ExitCode = &code
			}
			x.Bindings = slices.Clone(cs.Bindings)
			c.Containers[k] = &x
		}
	}
	return &c
}

func (p progress) clone() progress {
	c := p
	c.waitingSince = make(map[string]time.Time, len(p.waitingSince))
	for k, v := range p.waitingSince {
		c.waitingSince[k] = v
	}
	c.restartFailed = make(map[string]bool, len(p.restartFailed))
	for k, v := range p.restartFailed {
		c.restartFailed[k] = v
	}
	return c
}

package scheduler

import (
	"maps"
	"slices"
	"strconv"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/placement"
	"github.com/flotta-dev/flotta/internal/state"
)

// entry is one container instance in the ledger: its stored record (with
// the revision it was read at) and the engine's view of it.
type entry struct {
	rec       *state.InstanceRecord
	modRev    int64
	connected bool
	node      *placement.Node
}

// ledger is the loop's picture of its cluster's instances.
type ledger struct {
	byID  map[string]*entry
	nodes []*placement.Node
}

func newLedger() *ledger { return &ledger{byID: map[string]*entry{}} }

// set records an instance as read from the store, updating its node in
// place. It reports whether anything the static filters look at changed.
func (l *ledger) set(rec *state.InstanceRecord, modRev int64, connected bool) (staticChange bool) {
	e := l.byID[rec.ID]
	if e == nil {
		e = &entry{node: &placement.Node{}}
		l.byID[rec.ID] = e
		l.nodes = append(l.nodes, e.node)
		staticChange = true
	} else if modRev < e.modRev {
		return false
	}
	staticChange = fillNode(e.node, rec, connected) || staticChange
	e.rec, e.modRev, e.connected = rec, modRev, connected
	return staticChange
}

// setConnected records an agent session appearing or lapsing.
func (l *ledger) setConnected(id string, connected bool) bool {
	e := l.byID[id]
	if e == nil || e.connected == connected {
		return false
	}
	e.connected = connected
	e.node.Connected = connected
	return true
}

func (l *ledger) remove(id string) {
	e := l.byID[id]
	if e == nil {
		return
	}
	delete(l.byID, id)
	l.nodes = slices.DeleteFunc(l.nodes, func(n *placement.Node) bool { return n == e.node })
}

// fillNode computes an instance's node: what it has left, its ports and
// groups, and what the filters ask about it. It reports static changes.
func fillNode(n *placement.Node, rec *state.InstanceRecord, connected bool) bool {
	inst := &rec.Instance
	attrs := make(map[string]string, len(inst.Attributes))
	for _, a := range inst.Attributes {
		attrs[a.Name] = a.Value
	}
	version := ""
	if inst.VersionInfo != nil {
		version = inst.VersionInfo.AgentVersion
	}
	static := n.ARN != inst.ContainerInstanceArn || n.Status != inst.Status || n.Connected != connected ||
		n.Version != version || !maps.Equal(n.Attributes, attrs)
	n.ARN, n.ID, n.EC2ID = inst.ContainerInstanceArn, rec.ID, inst.Ec2InstanceID
	n.Status, n.Connected, n.Version, n.Attributes = inst.Status, connected, version, attrs
	if inst.RegisteredAt != nil {
		n.Registered = inst.RegisteredAt.Time
	}
	reg := inst.RegisteredResources
	n.CPU = model.FindResource(reg, model.ResourceCPU).IntegerValue - rec.Reserved.CPU
	n.Memory = model.FindResource(reg, model.ResourceMemory).IntegerValue - rec.Reserved.Memory
	n.GPUs = model.FindResource(reg, model.ResourceGPU).IntegerValue - rec.Reserved.GPUs
	n.UsedPorts = portSet(model.FindResource(reg, model.ResourcePorts).StringSetValue, rec.Reserved.Ports)
	n.UsedPortsUDP = portSet(model.FindResource(reg, model.ResourcePortsUDP).StringSetValue, rec.Reserved.PortsUDP)
	n.TaskGroups = maps.Clone(rec.Groups)
	n.Running = 0
	for _, c := range rec.Groups {
		n.Running += c
	}
	return static
}

func portSet(registered []string, reserved []int) map[int]bool {
	if len(registered) == 0 && len(reserved) == 0 {
		return nil
	}
	m := make(map[int]bool, len(registered)+len(reserved))
	for _, p := range registered {
		if v, err := strconv.Atoi(p); err == nil {
			m[v] = true
		}
	}
	for _, p := range reserved {
		m[p] = true
	}
	return m
}

// NodeOf is how the engine (and the cluster query language) sees an instance.
func NodeOf(rec *state.InstanceRecord, connected bool) *placement.Node {
	n := &placement.Node{}
	fillNode(n, rec, connected)
	return n
}

// clone copies the nodes, for a dry run that must change nothing.
func cloneNodes(nodes []*placement.Node) []*placement.Node {
	out := make([]*placement.Node, len(nodes))
	for i, n := range nodes {
		c := *n
		c.UsedPorts, c.UsedPortsUDP, c.TaskGroups = maps.Clone(n.UsedPorts), maps.Clone(n.UsedPortsUDP), maps.Clone(n.TaskGroups)
		out[i] = &c
	}
	return out
}

package model

import (
	"sort"
	"strconv"
)

// Demand is what one task reserves on a container instance.
type Demand struct {
	CPU    int `json:"cpu"`
	Memory int `json:"memory"`
	// Ports and PortsUDP are the fixed host ports the task binds.
	Ports    []int `json:"ports,omitempty"`
	PortsUDP []int `json:"portsUdp,omitempty"`
	GPUs     int   `json:"gpus,omitempty"`
}

// TaskDemand computes what a task of td reserves: the task-level cpu and
// memory when set, else the sum of its containers' (memoryReservation before
// memory), and the fixed host ports its port mappings bind.
func TaskDemand(td *TaskDefinition) Demand {
	var d Demand
	cpu, _ := strconv.Atoi(td.Cpu)
	mem, _ := strconv.Atoi(td.Memory)
	sumCPU, sumMem := 0, 0
	for _, c := range td.ContainerDefinitions {
		sumCPU += c.Cpu
		switch {
		case c.MemoryReservation != nil:
			sumMem += *c.MemoryReservation
		case c.Memory != nil:
			sumMem += *c.Memory
		}
		for _, pm := range c.PortMappings {
			if pm.ContainerPort == nil {
				continue
			}
			host := 0
			switch td.NetworkMode {
			case NetworkHost:
				host = *pm.ContainerPort
			case NetworkBridge, "":
				if pm.HostPort != nil {
					host = *pm.HostPort
				}
			}
			if host == 0 {
				continue
			}
			if pm.Protocol == "udp" {
				d.PortsUDP = append(d.PortsUDP, host)
			} else {
				d.Ports = append(d.Ports, host)
			}
		}
		for _, rr := range c.ResourceRequirements {
			if rr.Type == "GPU" {
				n, _ := strconv.Atoi(rr.Value)
				d.GPUs += n
			}
		}
	}
	d.CPU, d.Memory = sumCPU, sumMem
	if cpu > 0 {
		d.CPU = cpu
	}
	if mem > 0 {
		d.Memory = mem
	}
	sort.Ints(d.Ports)
	sort.Ints(d.PortsUDP)
	return d
}

// ApplyOverrides returns the task definition a task runs: td with the
// overrides of a RunTask or StartTask call applied. An override that names no
// container of td is an InvalidParameterException.
func ApplyOverrides(td TaskDefinition, o *TaskOverride) (TaskDefinition, error) {
	if o == nil {
		return td, nil
	}
	out := td
	out.ContainerDefinitions = append([]ContainerDefinition(nil), td.ContainerDefinitions...)
	if o.Cpu != "" {
		n, err := ParseTaskCPU(o.Cpu)
		if err != nil {
			return td, InvalidParameter("Invalid cpu override: %v.", err)
		}
		out.Cpu = strconv.Itoa(n)
	}
	if o.Memory != "" {
		n, err := ParseTaskMemory(o.Memory)
		if err != nil {
			return td, InvalidParameter("Invalid memory override: %v.", err)
		}
		out.Memory = strconv.Itoa(n)
	}
	if o.TaskRoleArn != "" {
		out.TaskRoleArn = o.TaskRoleArn
	}
	if o.ExecutionRoleArn != "" {
		out.ExecutionRoleArn = o.ExecutionRoleArn
	}
	for _, co := range o.ContainerOverrides {
		idx := -1
		for i, c := range out.ContainerDefinitions {
			if c.Name == co.Name {
				idx = i
			}
		}
		if idx < 0 {
			return td, InvalidParameter("Override for container named %s is not a container in the TaskDefinition.", co.Name)
		}
		c := out.ContainerDefinitions[idx]
		if co.Command != nil {
			c.Command = co.Command
		}
		if len(co.Environment) > 0 {
			c.Environment = mergeEnv(c.Environment, co.Environment)
		}
		if co.Cpu != nil {
			c.Cpu = *co.Cpu
		}
		if co.Memory != nil {
			c.Memory = co.Memory
		}
		if co.MemoryReservation != nil {
			c.MemoryReservation = co.MemoryReservation
		}
		if co.ResourceRequirements != nil {
			c.ResourceRequirements = co.ResourceRequirements
		}
		out.ContainerDefinitions[idx] = c
	}
	if err := validateContainers(&out); err != nil {
		return td, InvalidParameter("The overrides make an invalid task: %s", err.(*Error).Message)
	}
	return out, nil
}

func mergeEnv(base, over []KeyValuePair) []KeyValuePair {
	out := append([]KeyValuePair(nil), base...)
	for _, o := range over {
		replaced := false
		for i := range out {
			if out[i].Name != nil && o.Name != nil && *out[i].Name == *o.Name {
				out[i] = o
				replaced = true
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return out
}

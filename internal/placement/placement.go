// Package placement decides where tasks run. It is a pure function of its
// inputs: the candidate container instances with what they have left, what a
// task needs, and a source of randomness. Each filter that rejects an
// instance says why, in the reason strings ECS puts in RunTask's failures.
// It imports only the model.
package placement

import (
	"math/rand/v2"
	"slices"

	"github.com/flotta-dev/flotta/internal/model"
)

// Candidate is a container instance as placement sees it.
type Candidate struct {
	Arn        string
	Status     string
	Attributes []model.Attribute
	// Free capacity, after what placed tasks reserve.
	CPU, Memory, GPUs int
	// UsedPorts and UsedPortsUDP are host ports taken (reserved or bound).
	UsedPorts, UsedPortsUDP []int
}

// Request is one placement question: count tasks of one shape.
type Request struct {
	Demand model.Demand
	// RequiredAttributes must all be present on the instance (by name, and by
	// value when the attribute has one).
	RequiredAttributes []model.Attribute
	Count              int
}

// Failure is an instance that was rejected, and why.
type Failure struct {
	Arn    string
	Reason string
}

// Reasons, as ECS spells them in RunTask's failures.
const (
	ReasonCPU       = "RESOURCE:CPU"
	ReasonMemory    = "RESOURCE:MEMORY"
	ReasonPorts     = "RESOURCE:PORTS"
	ReasonGPU       = "RESOURCE:GPU"
	ReasonAttribute = "ATTRIBUTE"
	ReasonInactive  = "INACTIVE"
	ReasonDraining  = "DRAINING"
)

// filter rejects an instance for a task, returning the reason, or "".
type filter func(c *Candidate, r *Request) string

var filters = []filter{
	func(c *Candidate, _ *Request) string {
		switch c.Status {
		case model.InstanceActive:
			return ""
		case model.InstanceDraining:
			return ReasonDraining
		}
		return ReasonInactive
	},
	func(c *Candidate, r *Request) string {
		for _, a := range r.RequiredAttributes {
			v, ok := model.AttributeValue(c.Attributes, a.Name)
			if !ok || (a.Value != "" && v != a.Value) {
				return ReasonAttribute
			}
		}
		return ""
	},
	func(c *Candidate, r *Request) string {
		if c.CPU < r.Demand.CPU {
			return ReasonCPU
		}
		return ""
	},
	func(c *Candidate, r *Request) string {
		if c.Memory < r.Demand.Memory {
			return ReasonMemory
		}
		return ""
	},
	func(c *Candidate, r *Request) string {
		for _, p := range r.Demand.Ports {
			if slices.Contains(c.UsedPorts, p) {
				return ReasonPorts
			}
		}
		for _, p := range r.Demand.PortsUDP {
			if slices.Contains(c.UsedPortsUDP, p) {
				return ReasonPorts
			}
		}
		return ""
	},
	func(c *Candidate, r *Request) string {
		if c.GPUs < r.Demand.GPUs {
			return ReasonGPU
		}
		return ""
	},
}

// Check returns the reason c cannot take one task of r, or "" when it can.
func Check(c *Candidate, r *Request) string {
	for _, f := range filters {
		if reason := f(c, r); reason != "" {
			return reason
		}
	}
	return ""
}

// Place chooses an instance for each of r.Count tasks, at random among those
// that pass every filter, reserving as it goes so that the tasks of one
// request never overcommit an instance. It returns the chosen ARNs (fewer
// than Count when capacity runs out) and, when any task could not be placed,
// why each instance was rejected for it. Candidates are updated in place.
func Place(cands []*Candidate, r Request, rng *rand.Rand) (chosen []string, failures []Failure) {
	for i := 0; i < r.Count; i++ {
		var fit []*Candidate
		var rejected []Failure
		for _, c := range cands {
			if reason := Check(c, &r); reason != "" {
				rejected = append(rejected, Failure{Arn: c.Arn, Reason: reason})
				continue
			}
			fit = append(fit, c)
		}
		if len(fit) == 0 {
			return chosen, rejected
		}
		c := fit[rng.IntN(len(fit))]
		Reserve(c, r.Demand)
		chosen = append(chosen, c.Arn)
	}
	return chosen, nil
}

// Reserve takes a task's demand from a candidate.
func Reserve(c *Candidate, d model.Demand) {
	c.CPU -= d.CPU
	c.Memory -= d.Memory
	c.GPUs -= d.GPUs
	c.UsedPorts = append(c.UsedPorts, d.Ports...)
	c.UsedPortsUDP = append(c.UsedPortsUDP, d.PortsUDP...)
}

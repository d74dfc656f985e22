package placement

import (
	"math/rand/v2"
	"testing"

	"github.com/flotta-dev/flotta/internal/model"
)

func cand(arn string, cpu, mem int) *Candidate {
	return &Candidate{Arn: arn, Status: model.InstanceActive, CPU: cpu, Memory: mem,
		Attributes: []model.Attribute{{Name: "ecs.os-type", Value: "linux"}}}
}

func TestFiltersSayWhy(t *testing.T) {
	cases := []struct {
		name string
		c    *Candidate
		r    Request
		want string
	}{
		{"fits", cand("a", 1024, 1024), Request{Demand: model.Demand{CPU: 512, Memory: 512}}, ""},
		{"cpu", cand("a", 256, 1024), Request{Demand: model.Demand{CPU: 512, Memory: 512}}, ReasonCPU},
		{"memory", cand("a", 1024, 256), Request{Demand: model.Demand{CPU: 512, Memory: 512}}, ReasonMemory},
		{"port", &Candidate{Arn: "a", Status: "ACTIVE", CPU: 1, Memory: 1, UsedPorts: []int{80}}, Request{Demand: model.Demand{Ports: []int{80}}}, ReasonPorts},
		{"udp port", &Candidate{Arn: "a", Status: "ACTIVE", UsedPortsUDP: []int{53}}, Request{Demand: model.Demand{PortsUDP: []int{53}}}, ReasonPorts},
		{"tcp and udp are separate", &Candidate{Arn: "a", Status: "ACTIVE", UsedPorts: []int{53}}, Request{Demand: model.Demand{PortsUDP: []int{53}}}, ""},
		{"draining", &Candidate{Arn: "a", Status: "DRAINING", CPU: 9, Memory: 9}, Request{}, ReasonDraining},
		{"attribute missing", cand("a", 9, 9), Request{RequiredAttributes: []model.Attribute{{Name: "ecs.capability.task-eni"}}}, ReasonAttribute},
		{"attribute value", cand("a", 9, 9), Request{RequiredAttributes: []model.Attribute{{Name: "ecs.os-type", Value: "windows"}}}, ReasonAttribute},
		{"attribute present", cand("a", 9, 9), Request{RequiredAttributes: []model.Attribute{{Name: "ecs.os-type"}}}, ""},
		{"gpu", cand("a", 9, 9), Request{Demand: model.Demand{GPUs: 1}}, ReasonGPU},
	}
	for _, tc := range cases {
		if got := Check(tc.c, &tc.r); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPlaceNeverOvercommits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cands := []*Candidate{cand("a", 1024, 1000), cand("b", 1024, 600)}
	chosen, failures := Place(cands, Request{Demand: model.Demand{CPU: 128, Memory: 300}, Count: 10}, rng)
	// a fits 3, b fits 2.
	if len(chosen) != 5 {
		t.Fatalf("placed %d, want 5", len(chosen))
	}
	for _, c := range cands {
		if c.Memory < 0 || c.CPU < 0 {
			t.Fatalf("%s overcommitted: %+v", c.Arn, c)
		}
	}
	if len(failures) != 2 || failures[0].Reason != ReasonMemory || failures[1].Reason != ReasonMemory {
		t.Fatalf("failures %+v", failures)
	}
	// Fixed host ports make a second copy impossible on the same instance.
	cands = []*Candidate{cand("a", 4096, 4096)}
	chosen, failures = Place(cands, Request{Demand: model.Demand{Ports: []int{8080}}, Count: 2}, rng)
	if len(chosen) != 1 || len(failures) != 1 || failures[0].Reason != ReasonPorts {
		t.Fatalf("port placement %v %+v", chosen, failures)
	}
}

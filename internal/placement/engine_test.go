package placement

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flotta-dev/flotta/internal/model"
)

func mkNode(id, zone string, cpu, mem int) *Node {
	return &Node{ARN: "arn:" + id, ID: id, Status: model.InstanceActive, Connected: true, CPU: cpu, Memory: mem,
		Attributes: map[string]string{"ecs.availability-zone": zone, "ecs.os-type": "linux"}}
}

func rng() *rand.Rand { return rand.New(rand.NewPCG(7, 11)) }

func used(res Result) map[string]int {
	m := map[string]int{}
	for _, n := range res.Chosen {
		m[n.ID]++
	}
	return m
}

func mustQuery(t *testing.T, s string) *Query {
	t.Helper()
	q, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestFiltersSayWhy(t *testing.T) {
	cases := []struct {
		name string
		n    *Node
		r    Request
		want string
	}{
		{"cpu", mkNode("a", "z", 100, 1000), Request{Demand: model.Demand{CPU: 200}}, ReasonCPU},
		{"memory", mkNode("a", "z", 1000, 100), Request{Demand: model.Demand{Memory: 200}}, ReasonMemory},
		{"tcp port", &Node{Status: "ACTIVE", Connected: true, UsedPorts: map[int]bool{80: true}}, Request{Demand: model.Demand{Ports: []int{80}}}, ReasonPorts},
		{"udp port", &Node{Status: "ACTIVE", Connected: true, UsedPortsUDP: map[int]bool{53: true}}, Request{Demand: model.Demand{PortsUDP: []int{53}}}, ReasonPorts},
		{"gpu", mkNode("a", "z", 9, 9), Request{Demand: model.Demand{GPUs: 1}}, ReasonGPU},
		{"draining", &Node{Status: "DRAINING", Connected: true}, Request{}, ReasonDraining},
		{"inactive", &Node{Status: "INACTIVE", Connected: true}, Request{}, ReasonInactive},
		{"agent", &Node{Status: "ACTIVE"}, Request{}, ReasonAgent},
		{"launch type", mkNode("a", "z", 9, 9), Request{LaunchType: "EXTERNAL"}, ReasonLaunchType},
		{"attribute missing", mkNode("a", "z", 9, 9), Request{Requires: []model.Attribute{{Name: "ecs.capability.task-eni"}}}, ReasonAttribute},
		{"attribute value", mkNode("a", "z", 9, 9), Request{Requires: []model.Attribute{{Name: "ecs.os-type", Value: "windows"}}}, ReasonAttribute},
		{"memberOf", mkNode("a", "z", 9, 9), Request{Constraints: []Constraint{{Type: "memberOf", Query: mustQuery(t, "attribute:stack == prod")}}}, ReasonMemberOf},
		{"dynamic memberOf", mkNode("a", "z", 9, 9), Request{Constraints: []Constraint{{Type: "memberOf", Query: mustQuery(t, "task:group == db")}}}, ReasonMemberOf},
		{"distinctInstance", &Node{Status: "ACTIVE", Connected: true, TaskGroups: map[string]int{"g": 1}}, Request{Group: "g", Constraints: []Constraint{{Type: "distinctInstance"}}}, ReasonDistinct},
	}
	for _, c := range cases {
		c.r.Count = 1
		res := Place([]*Node{c.n}, c.r, rng())
		if len(res.Chosen) != 0 || len(res.Failures) != 1 || res.Failures[0].Reason != c.want || res.ClosestReason() != c.want {
			t.Errorf("%s: chosen %d, failures %+v, closest %q; want %s", c.name, len(res.Chosen), res.Failures, res.ClosestReason(), c.want)
		}
	}
	fits := mkNode("a", "z", 1024, 1024)
	if res := Place([]*Node{fits}, Request{Demand: model.Demand{CPU: 512, Memory: 512, Ports: []int{80}}, Count: 1}, rng()); len(res.Chosen) != 1 {
		t.Fatalf("a fitting node was rejected: %+v", res)
	}
	if fits.CPU != 512 || fits.Memory != 512 || !fits.UsedPorts[80] || fits.Running != 1 {
		t.Fatalf("placement did not reserve: %+v", fits)
	}
}

func TestBinpackUsesTheFewestInstances(t *testing.T) {
	nodes := []*Node{mkNode("a", "z1", 4096, 1024), mkNode("b", "z1", 4096, 1024), mkNode("c", "z2", 4096, 1024)}
	res := Place(nodes, Request{Demand: model.Demand{Memory: 256}, Count: 4, Strategies: []Strategy{{"binpack", "memory"}}}, rng())
	if u := used(res); len(res.Chosen) != 4 || len(u) != 1 {
		t.Fatalf("binpack spread 4 tasks over %v", u)
	}
	// A fifth goes to a second node only when the first is full.
	res = Place(nodes, Request{Demand: model.Demand{Memory: 256}, Count: 2, Strategies: []Strategy{{"binpack", "memory"}}}, rng())
	if u := used(res); len(u) != 1 {
		t.Fatalf("binpack used %v for the next two", u)
	}
	// binpack on cpu prefers the node with the least CPU left that fits.
	small, big := mkNode("small", "z", 600, 4096), mkNode("big", "z", 4000, 4096)
	res = Place([]*Node{big, small}, Request{Demand: model.Demand{CPU: 512}, Count: 1, Strategies: []Strategy{{"binpack", "cpu"}}}, rng())
	if res.Chosen[0] != small {
		t.Fatalf("binpack cpu chose %s", res.Chosen[0].ID)
	}
}

func TestSpreadEvensOutZonesThenInstances(t *testing.T) {
	var nodes []*Node
	for i, z := range []string{"z1", "z1", "z2", "z2", "z3", "z3"} {
		nodes = append(nodes, mkNode(fmt.Sprint(i), z, 4096, 4096))
	}
	spread := []Strategy{{"spread", "attribute:ecs.availability-zone"}, {"spread", "instanceId"}}
	res := Place(nodes, Request{Demand: model.Demand{Memory: 128}, Group: "service:web", Count: 3, Strategies: spread}, rng())
	zones := map[string]int{}
	for _, n := range res.Chosen {
		zones[n.Attributes["ecs.availability-zone"]]++
	}
	if len(zones) != 3 {
		t.Fatalf("3 tasks spread over zones %v", zones)
	}
	res = Place(nodes, Request{Demand: model.Demand{Memory: 128}, Group: "service:web", Count: 3, Strategies: spread}, rng())
	for _, n := range nodes {
		if n.TaskGroups["service:web"] != 1 {
			t.Fatalf("6 tasks over 6 instances in 3 zones left %s with %d", n.ID, n.TaskGroups["service:web"])
		}
	}
	// Spread counts only the request's group.
	other := Place(nodes, Request{Demand: model.Demand{Memory: 128}, Group: "service:api", Count: 3, Strategies: spread}, rng())
	zones = map[string]int{}
	for _, n := range other.Chosen {
		zones[n.Attributes["ecs.availability-zone"]]++
	}
	if len(zones) != 3 {
		t.Fatalf("another group's spread over zones %v", zones)
	}
}

func TestStrategiesApplyInOrder(t *testing.T) {
	// Spread over zones first, then pack within a zone.
	nodes := []*Node{mkNode("a1", "za", 4096, 1000), mkNode("a2", "za", 4096, 600), mkNode("b1", "zb", 4096, 1000), mkNode("b2", "zb", 4096, 700)}
	res := Place(nodes, Request{Demand: model.Demand{Memory: 100}, Group: "g", Count: 2,
		Strategies: []Strategy{{"spread", "attribute:ecs.availability-zone"}, {"binpack", "memory"}}}, rng())
	if u := used(res); u["a2"] != 1 || u["b2"] != 1 {
		t.Fatalf("spread-then-binpack chose %v, want a2 and b2", u)
	}
	// Binpack first, then spread: packing wins.
	nodes = []*Node{mkNode("a1", "za", 4096, 1000), mkNode("a2", "za", 4096, 600), mkNode("b1", "zb", 4096, 1000), mkNode("b2", "zb", 4096, 700)}
	res = Place(nodes, Request{Demand: model.Demand{Memory: 100}, Group: "g", Count: 2,
		Strategies: []Strategy{{"binpack", "memory"}, {"spread", "attribute:ecs.availability-zone"}}}, rng())
	if u := used(res); u["a2"] != 2 {
		t.Fatalf("binpack-then-spread chose %v, want a2 twice", u)
	}
}

func TestConstraintsBindStrategiesAreBestEffort(t *testing.T) {
	prod := mkNode("prod", "z1", 1024, 256)
	prod.Attributes["stack"] = "prod"
	dev := mkNode("dev", "z2", 8192, 8192)
	nodes := []*Node{prod, dev}
	res := Place(nodes, Request{Demand: model.Demand{Memory: 200}, Count: 2,
		Constraints: []Constraint{{Type: "memberOf", Query: mustQuery(t, "attribute:stack == prod")}}}, rng())
	if len(res.Chosen) != 1 || res.Chosen[0] != prod {
		t.Fatalf("memberOf: chose %v", used(res))
	}
	if res.Reasons[ReasonMemberOf] != 1 || res.Reasons[ReasonMemory] != 1 {
		t.Fatalf("reasons %v", res.Reasons)
	}
	// Spread over zones cannot be met when one zone is full: tasks still land.
	full := mkNode("full", "za", 4096, 0)
	roomy := mkNode("roomy", "zb", 4096, 4096)
	res = Place([]*Node{full, roomy}, Request{Demand: model.Demand{Memory: 100}, Group: "g", Count: 3,
		Strategies: []Strategy{{"spread", "attribute:ecs.availability-zone"}}}, rng())
	if len(res.Chosen) != 3 {
		t.Fatalf("spread is best effort: placed %d", len(res.Chosen))
	}
	// distinctInstance binds across the tasks of the request.
	res = Place([]*Node{mkNode("x", "z", 4096, 4096), mkNode("y", "z", 4096, 4096)}, Request{Group: "g", Count: 3,
		Constraints: []Constraint{{Type: "distinctInstance"}}}, rng())
	if len(res.Chosen) != 2 || res.ClosestReason() != ReasonDistinct {
		t.Fatalf("distinctInstance: chose %v, closest %q", used(res), res.ClosestReason())
	}
	// Affinity: task:group == db places next to db tasks, and sees tasks placed earlier.
	db := mkNode("db", "z", 4096, 4096)
	db.Reserve(model.Demand{}, "db")
	res = Place([]*Node{mkNode("empty", "z", 4096, 4096), db}, Request{Group: "cache", Count: 2,
		Constraints: []Constraint{{Type: "memberOf", Query: mustQuery(t, "task:group == db")}}}, rng())
	if u := used(res); u["db"] != 2 {
		t.Fatalf("affinity chose %v", u)
	}
	// Anti-affinity.
	res = Place([]*Node{mkNode("empty", "z", 4096, 4096), db}, Request{Group: "cache", Count: 1,
		Constraints: []Constraint{{Type: "memberOf", Query: mustQuery(t, "not(task:group == db)")}}}, rng())
	if u := used(res); u["empty"] != 1 {
		t.Fatalf("anti-affinity chose %v", u)
	}
}

func TestRandomChoosesAmongAllThatFit(t *testing.T) {
	var nodes []*Node
	for i := 0; i < 4; i++ {
		nodes = append(nodes, mkNode(fmt.Sprint(i), "z", 100000, 100000))
	}
	nodes = append(nodes, mkNode("tiny", "z", 1, 1))
	res := Place(nodes, Request{Demand: model.Demand{CPU: 10, Memory: 10}, Count: 400, Strategies: []Strategy{{"random", ""}}}, rng())
	u := used(res)
	if len(res.Chosen) != 400 || u["tiny"] != 0 || len(u) != 4 {
		t.Fatalf("random placement %v", u)
	}
	for id, c := range u {
		if c < 60 {
			t.Fatalf("random placement is lopsided: %s got %d of 400", id, c)
		}
	}
}

func TestReleaseGivesBack(t *testing.T) {
	n := mkNode("a", "z", 1024, 1024)
	d := model.Demand{CPU: 100, Memory: 200, Ports: []int{8080}}
	n.Reserve(d, "g")
	n.Release(d, "g")
	if n.CPU != 1024 || n.Memory != 1024 || n.UsedPorts[8080] || n.TaskGroups["g"] != 0 || n.Running != 0 {
		t.Fatalf("after release %+v", n)
	}
}

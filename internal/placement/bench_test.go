package placement

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
)

func cluster(n int) []*Node {
	nodes := make([]*Node, n)
	zones := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	types := []string{"m5.large", "m5.xlarge", "c5.2xlarge", "r5.large"}
	for i := range nodes {
		nodes[i] = &Node{ARN: fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:container-instance/c/%032x", i), ID: fmt.Sprint(i),
			Status: model.InstanceActive, Connected: true, CPU: 16384, Memory: 65536, Registered: time.Unix(1700000000, 0),
			Attributes: map[string]string{"ecs.availability-zone": zones[i%3], "ecs.instance-type": types[i%4], "ecs.os-type": "linux", "stack": "prod"}}
	}
	return nodes
}

// benchPlace measures placements per second on n nodes, requests of 10.
func benchPlace(b *testing.B, n int, strategies []Strategy, constraint string) {
	nodes := cluster(n)
	var cons []Constraint
	if constraint != "" {
		q, err := Parse(constraint)
		if err != nil {
			b.Fatal(err)
		}
		cons = []Constraint{{Type: "memberOf", Query: q}}
	}
	r := Request{Demand: model.Demand{CPU: 128, Memory: 256}, Group: "service:web", Count: 10, Strategies: strategies, Constraints: cons,
		Requires: []model.Attribute{{Name: "ecs.os-type", Value: "linux"}}}
	rng := rand.New(rand.NewPCG(1, 2))
	cache := NewCache()
	placed := 0
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		res := cache.Place(nodes, r, rng)
		if len(res.Chosen) < r.Count {
			b.StopTimer()
			nodes = cluster(n)
			cache.Invalidate()
			b.StartTimer()
		}
		placed += len(res.Chosen)
	}
	b.ReportMetric(float64(placed)/time.Since(start).Seconds(), "placements/s")
}

var (
	spreadBinpack = []Strategy{{"spread", "attribute:ecs.availability-zone"}, {"binpack", "memory"}}
	memberOf      = "attribute:ecs.instance-type =~ m5.* and attribute:stack == prod"
)

func BenchmarkPlace1kSpreadBinpackMemberOf(b *testing.B) {
	benchPlace(b, 1000, spreadBinpack, memberOf)
}
func BenchmarkPlace10kSpreadBinpackMemberOf(b *testing.B) {
	benchPlace(b, 10000, spreadBinpack, memberOf)
}
func BenchmarkPlace10kBinpack(b *testing.B) {
	benchPlace(b, 10000, []Strategy{{"binpack", "memory"}}, "")
}
func BenchmarkPlace10kSpreadInstance(b *testing.B) {
	benchPlace(b, 10000, []Strategy{{"spread", "instanceId"}}, "")
}
func BenchmarkPlace10kRandom(b *testing.B) { benchPlace(b, 10000, []Strategy{{"random", ""}}, "") }

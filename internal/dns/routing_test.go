package dns

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	mdns "github.com/miekg/dns"
)

// TestWeightedDistribution asks 4,000 times over UDP for a name with three
// weighted sets of weights 1, 1 and 2, and checks each share against its
// expectation within five standard deviations.
func TestWeightedDistribution(t *testing.T) {
	z := Zone{Name: "w.test", Records: []RRSet{
		{Name: "svc.w.test", Type: "A", TTL: 5, SetID: "a", Weight: u32(1), Values: []string{"10.0.0.1"}},
		{Name: "svc.w.test", Type: "A", TTL: 5, SetID: "b", Weight: u32(1), Values: []string{"10.0.0.2"}},
		{Name: "svc.w.test", Type: "A", TTL: 5, SetID: "c", Weight: u32(2), Values: []string{"10.0.0.3", "10.0.0.4"}},
		{Name: "svc.w.test", Type: "A", TTL: 5, SetID: "d", Weight: u32(100), Unhealthy: true, Values: []string{"10.0.0.9"}},
	}}
	s := startServer(t, Options{}, z)
	const n = 4000
	counts := map[string]int{}
	c := &mdns.Client{Net: "udp"}
	conn, err := c.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range n {
		r, _, err := c.ExchangeWithConn(question("svc.w.test.", mdns.TypeA), conn)
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		if len(r.Answer) == 0 {
			t.Fatalf("query %d: no answer", i)
		}
		first := r.Answer[0].(*mdns.A).A.String()
		if first == "10.0.0.4" {
			first = "10.0.0.3"
		}
		if first == "10.0.0.3" && len(r.Answer) != 2 || first != "10.0.0.3" && len(r.Answer) != 1 {
			t.Fatalf("query %d: answer %v mixes sets", i, rrStrings(r.Answer))
		}
		counts[first]++
	}
	if counts["10.0.0.9"] != 0 {
		t.Errorf("the unhealthy set was answered %d times", counts["10.0.0.9"])
	}
	for ip, p := range map[string]float64{"10.0.0.1": .25, "10.0.0.2": .25, "10.0.0.3": .5} {
		want := p * n
		sd := math.Sqrt(n * p * (1 - p))
		if math.Abs(float64(counts[ip])-want) > 5*sd {
			t.Errorf("%s answered %d times of %d, want %.0f ± %.0f", ip, counts[ip], n, want, 5*sd)
		}
	}
	t.Logf("counts %v", counts)
}

// TestWeightedZeroWeights: weight 0 is chosen only when every candidate has
// weight 0, and all-unhealthy sets are answered as if healthy.
func TestWeightedZeroWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		sets []RRSet
		want map[string]bool // the values that may be answered
	}{
		{"zero never chosen beside a positive weight", []RRSet{
			{SetID: "z", Weight: u32(0), Values: []string{"10.0.0.1"}},
			{SetID: "p", Weight: u32(1), Values: []string{"10.0.0.2"}},
		}, map[string]bool{"10.0.0.2": true}},
		{"all zero: any", []RRSet{
			{SetID: "a", Weight: u32(0), Values: []string{"10.0.0.1"}},
			{SetID: "b", Weight: u32(0), Values: []string{"10.0.0.2"}},
		}, map[string]bool{"10.0.0.1": true, "10.0.0.2": true}},
		{"unhealthy positive weight beside a healthy zero weight", []RRSet{
			{SetID: "a", Weight: u32(0), Values: []string{"10.0.0.1"}},
			{SetID: "b", Weight: u32(9), Unhealthy: true, Values: []string{"10.0.0.2"}},
		}, map[string]bool{"10.0.0.1": true}},
		{"all unhealthy: as if all healthy", []RRSet{
			{SetID: "a", Weight: u32(1), Unhealthy: true, Values: []string{"10.0.0.1"}},
			{SetID: "b", Weight: u32(1), Unhealthy: true, Values: []string{"10.0.0.2"}},
		}, map[string]bool{"10.0.0.1": true, "10.0.0.2": true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.sets {
				tc.sets[i].Name, tc.sets[i].Type, tc.sets[i].TTL = "x.test", "A", 1
			}
			zi, err := buildZone(Zone{Name: "test", Records: tc.sets})
			if err != nil {
				t.Fatal(err)
			}
			g := zi.nodes["x.test."].get(mdns.TypeA)
			seen := map[string]bool{}
			for range 1000 {
				rrs := route(g, rng.IntN)
				if len(rrs) != 1 {
					t.Fatalf("%d records, want 1", len(rrs))
				}
				ip := rrs[0].(*mdns.A).A.String()
				if !tc.want[ip] {
					t.Fatalf("answered %s, want one of %v", ip, tc.want)
				}
				seen[ip] = true
			}
			if len(seen) != len(tc.want) {
				t.Errorf("answered %v over 1000 queries, want each of %v", seen, tc.want)
			}
		})
	}
}

// TestMultiValueSpread: over many answers every healthy set appears, never an
// unhealthy one, and each answer has at most 8 distinct sets.
func TestMultiValueSpread(t *testing.T) {
	var sets []RRSet
	for i := range 12 {
		sets = append(sets, RRSet{Name: "m.test", Type: "A", TTL: 1, SetID: fmt.Sprint(i), MultiValue: true,
			Unhealthy: i%4 == 0, Values: []string{fmt.Sprintf("10.0.0.%d", i)}})
	}
	zi, err := buildZone(Zone{Name: "test", Records: sets})
	if err != nil {
		t.Fatal(err)
	}
	g := zi.nodes["m.test."].get(mdns.TypeA)
	rng := rand.New(rand.NewPCG(3, 4))
	seen := map[string]int{}
	for range 500 {
		rrs := route(g, rng.IntN)
		if len(rrs) != 8 {
			t.Fatalf("%d records, want 8 of the 9 healthy", len(rrs))
		}
		one := map[string]bool{}
		for _, rr := range rrs {
			ip := rr.(*mdns.A).A.String()
			if one[ip] {
				t.Fatalf("%s twice in one answer", ip)
			}
			one[ip] = true
			seen[ip]++
		}
	}
	for i := range 12 {
		ip := fmt.Sprintf("10.0.0.%d", i)
		if i%4 == 0 && seen[ip] > 0 {
			t.Errorf("unhealthy %s answered %d times", ip, seen[ip])
		}
		if i%4 != 0 && seen[ip] == 0 {
			t.Errorf("healthy %s never answered", ip)
		}
	}
}

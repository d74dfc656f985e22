package dns

import mdns "github.com/miekg/dns"

// route returns the records that answer for group g now, following its
// routing policy. intn returns a random int in [0,n).
func route(g *group, intn func(int) int) []mdns.RR {
	switch g.policy {
	case policyWeighted:
		return g.sets[pickWeighted(g, intn)].rrs
	case policyFailover:
		return g.sets[pickFailover(g)].rrs
	case policyMultiValue:
		return pickMulti(g, intn)
	}
	if len(g.sets) == 1 {
		return g.sets[0].rrs
	}
	var out []mdns.RR
	for _, s := range g.sets {
		out = append(out, s.rrs...)
	}
	return out
}

// pickWeighted chooses one candidate set at random in proportion to its
// weight. Sets of weight 0 are chosen (uniformly) only when every candidate has
// weight 0.
func pickWeighted(g *group, intn func(int) int) int {
	var total uint64
	for _, i := range g.healthy {
		total += uint64(g.sets[i].weight)
	}
	if total == 0 {
		return g.healthy[intn(len(g.healthy))]
	}
	r := uint64(intn63(total, intn))
	for _, i := range g.healthy {
		w := uint64(g.sets[i].weight)
		if r < w {
			return i
		}
		r -= w
	}
	return g.healthy[len(g.healthy)-1]
}

// intn63 draws from [0,n) with intn, for n that may exceed an int's range on
// 32-bit machines (weights are uint32 and there may be many).
func intn63(n uint64, intn func(int) int) uint64 {
	const max = 1<<31 - 1
	if n <= max {
		return uint64(intn(int(n)))
	}
	hi := uint64(intn(int(min(n>>31+1, max))))
	return (hi<<31 | uint64(intn(max+1))) % n
}

// pickFailover chooses the healthy primary, else the healthy secondary; with
// neither healthy, the primary (answer as if all were healthy).
func pickFailover(g *group) int {
	var primary, secondary = -1, -1
	for _, i := range g.healthy {
		if g.sets[i].primary {
			primary = i
		} else {
			secondary = i
		}
	}
	if primary >= 0 {
		return primary
	}
	return secondary // healthy is never empty
}

// pickMulti returns the records of up to maxMultiValue candidate sets chosen
// at random.
func pickMulti(g *group, intn func(int) int) []mdns.RR {
	c := g.healthy
	if len(c) <= maxMultiValue {
		var out []mdns.RR
		for _, k := range shuffled(len(c), len(c), intn) {
			out = append(out, g.sets[c[k]].rrs...)
		}
		return out
	}
	var out []mdns.RR
	for _, k := range shuffled(len(c), maxMultiValue, intn) {
		out = append(out, g.sets[c[k]].rrs...)
	}
	return out
}

// shuffled returns k distinct indexes of [0,n) in random order (a partial
// Fisher-Yates shuffle that touches only k+the swapped entries).
func shuffled(n, k int, intn func(int) int) []int {
	swapped := make(map[int]int, k)
	at := func(i int) int {
		if v, ok := swapped[i]; ok {
			return v
		}
		return i
	}
	out := make([]int, k)
	for i := range k {
		j := i + intn(n-i)
		out[i] = at(j)
		swapped[j] = at(i)
	}
	return out
}

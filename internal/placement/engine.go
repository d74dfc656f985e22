// Package placement decides where tasks run. The engine is pure: no I/O and
// no clock; its state is the ledger of container instances it is given, and
// randomness comes from the caller. A request passes a pipeline of filters,
// each of which says why it rejects an instance in the words ECS uses in
// RunTask's failures, and then the strategies, in the order given (binpack,
// spread, random), choose among the instances that are left. Constraints
// always bind; strategies are best effort.
package placement

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
)

// Reasons, as ECS spells them in RunTask's failures.
const (
	ReasonCPU        = "RESOURCE:CPU"
	ReasonMemory     = "RESOURCE:MEMORY"
	ReasonPorts      = "RESOURCE:PORTS"
	ReasonGPU        = "RESOURCE:GPU"
	ReasonAttribute  = "ATTRIBUTE"
	ReasonAgent      = "AGENT"
	ReasonInactive   = "INACTIVE"
	ReasonDraining   = "DRAINING"
	ReasonLaunchType = "LAUNCH_TYPE"
	ReasonMemberOf   = "MemberOf placement constraint unsatisfied."
	ReasonDistinct   = "DistinctInstance placement constraint unsatisfied."
)

// Node is a container instance as the engine sees it: what it is, and what
// it has left once the tasks placed on it are counted.
type Node struct {
	ARN          string
	ID           string
	EC2ID        string
	Status       string
	Connected    bool
	External     bool
	Attributes   map[string]string
	Registered   time.Time
	Version      string
	CPU, Memory  int
	GPUs         int
	UsedPorts    map[int]bool
	UsedPortsUDP map[int]bool
	// Groups counts the tasks of each task group on the node.
	TaskGroups map[string]int
	Running    int
}

// The engine asks the query language about nodes through Target.
func (n *Node) Attribute(name string) (string, bool) { v, ok := n.Attributes[name]; return v, ok }
func (n *Node) EC2InstanceID() string                { return n.EC2ID }
func (n *Node) RegisteredAt() time.Time              { return n.Registered }
func (n *Node) AgentVersion() string                 { return n.Version }
func (n *Node) AgentConnected() bool                 { return n.Connected }
func (n *Node) RunningTasksCount() int               { return n.Running }
func (n *Node) Groups() []string {
	out := make([]string, 0, len(n.TaskGroups))
	for g, c := range n.TaskGroups {
		if c > 0 {
			out = append(out, g)
		}
	}
	return out
}

// Reserve takes a task's demand from the node and counts it in its group.
func (n *Node) Reserve(d model.Demand, group string) {
	n.CPU -= d.CPU
	n.Memory -= d.Memory
	n.GPUs -= d.GPUs
	for _, p := range d.Ports {
		if n.UsedPorts == nil {
			n.UsedPorts = map[int]bool{}
		}
		n.UsedPorts[p] = true
	}
	for _, p := range d.PortsUDP {
		if n.UsedPortsUDP == nil {
			n.UsedPortsUDP = map[int]bool{}
		}
		n.UsedPortsUDP[p] = true
	}
	if group != "" {
		if n.TaskGroups == nil {
			n.TaskGroups = map[string]int{}
		}
		n.TaskGroups[group]++
	}
	n.Running++
}

// Release gives a task's demand back.
func (n *Node) Release(d model.Demand, group string) {
	n.CPU += d.CPU
	n.Memory += d.Memory
	n.GPUs += d.GPUs
	for _, p := range d.Ports {
		delete(n.UsedPorts, p)
	}
	for _, p := range d.PortsUDP {
		delete(n.UsedPortsUDP, p)
	}
	if group != "" && n.TaskGroups[group] > 0 {
		n.TaskGroups[group]--
		if n.TaskGroups[group] == 0 {
			delete(n.TaskGroups, group)
		}
	}
	if n.Running > 0 {
		n.Running--
	}
}

// Constraint binds placement: distinctInstance, or memberOf with a query.
type Constraint struct {
	Type  string
	Query *Query
}

// Strategy guides placement: binpack (cpu, memory), spread (instanceId or
// attribute:NAME), random.
type Strategy struct {
	Type  string
	Field string
}

// Request asks for Count tasks of one shape.
type Request struct {
	Demand model.Demand
	// Requires are attributes every chosen node must have (by name, and by
	// value when one is given): the task definition's requiresAttributes.
	Requires    []model.Attribute
	LaunchType  string
	Group       string
	Count       int
	Constraints []Constraint
	Strategies  []Strategy
}

// Failure is a node that was rejected, and why.
type Failure struct {
	ARN    string
	Reason string
}

// Result is what a placement decided.
type Result struct {
	// Chosen are the nodes of the placed tasks, one per task, in order.
	Chosen []*Node
	// Failures list, when not every task was placed, why each node was
	// rejected for the next one (at most MaxFailures of them).
	Failures []Failure
	// Reasons counts the rejections by reason, over every node.
	Reasons map[string]int
}

// MaxFailures bounds the per-node failures a result lists.
const MaxFailures = 100

// ClosestReason is the reason that rejected the most nodes, or "".
func (r Result) ClosestReason() string {
	best, n := "", 0
	for reason, c := range r.Reasons {
		if c > n || c == n && reason < best {
			best, n = reason, c
		}
	}
	return best
}

// staticReason applies the filters that do not change as tasks are placed.
func staticReason(n *Node, r *Request, static []*Query) string {
	switch n.Status {
	case model.InstanceActive:
	case model.InstanceDraining:
		return ReasonDraining
	default:
		return ReasonInactive
	}
	if !n.Connected {
		return ReasonAgent
	}
	if (r.LaunchType == "EXTERNAL") != n.External && r.LaunchType != "" {
		return ReasonLaunchType
	}
	for _, a := range r.Requires {
		v, ok := n.Attributes[a.Name]
		if !ok || a.Value != "" && v != a.Value {
			return ReasonAttribute
		}
	}
	for _, q := range static {
		if !q.Match(n) {
			return ReasonMemberOf
		}
	}
	return ""
}

// StaticReason says why n can never take a task of r, whatever capacity it
// has (status, agent, attributes, memberOf without task groups), or "".
func StaticReason(n *Node, r *Request) string {
	var static []*Query
	for _, c := range r.Constraints {
		if c.Query != nil && !c.Query.Dynamic() {
			static = append(static, c.Query)
		}
	}
	return staticReason(n, r, static)
}

// dynamicReason applies the filters that change as tasks are placed.
func dynamicReason(n *Node, r *Request, dynamic []*Query, distinct bool) string {
	d := &r.Demand
	if n.CPU < d.CPU {
		return ReasonCPU
	}
	if n.Memory < d.Memory {
		return ReasonMemory
	}
	for _, p := range d.Ports {
		if n.UsedPorts[p] {
			return ReasonPorts
		}
	}
	for _, p := range d.PortsUDP {
		if n.UsedPortsUDP[p] {
			return ReasonPorts
		}
	}
	if n.GPUs < d.GPUs {
		return ReasonGPU
	}
	if distinct && n.TaskGroups[r.Group] > 0 {
		return ReasonDistinct
	}
	for _, q := range dynamic {
		if !q.Match(n) {
			return ReasonMemberOf
		}
	}
	return ""
}

// Cache remembers, across requests, which nodes pass the static filters
// (status, agent, launch type, required attributes, memberOf without task
// groups) and the spread classes of those nodes. Whoever changes a node's
// static properties (or the set of nodes) must call Invalidate; capacity
// changes need not.
type Cache struct {
	gen     uint64
	entries map[string]*cacheEntry
}

type cacheEntry struct {
	gen      uint64
	cands    []*Node
	failures []Failure
	reasons  map[string]int
	// spread holds, per attribute, each candidate's value class and the
	// number of classes.
	spread map[string]spreadClasses
}

type spreadClasses struct {
	of []int32
	n  int
	// members lists the candidates of each class.
	members [][]int32
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{entries: map[string]*cacheEntry{}} }

// Invalidate forgets every cached candidate set.
func (c *Cache) Invalidate() { c.gen++ }

func staticSignature(r *Request, static []*Query) string {
	var b strings.Builder
	b.WriteString(r.LaunchType)
	for _, a := range r.Requires {
		b.WriteString("\x00" + a.Name + "=" + a.Value)
	}
	for _, q := range static {
		b.WriteString("\x01" + q.String())
	}
	return b.String()
}

func (c *Cache) entry(nodes []*Node, r *Request, static []*Query) *cacheEntry {
	sig := staticSignature(r, static)
	if e := c.entries[sig]; e != nil && e.gen == c.gen {
		return e
	}
	e := &cacheEntry{gen: c.gen, cands: make([]*Node, 0, len(nodes)), reasons: map[string]int{}, spread: map[string]spreadClasses{}}
	for _, n := range nodes {
		if reason := staticReason(n, r, static); reason != "" {
			e.reasons[reason]++
			if len(e.failures) < MaxFailures {
				e.failures = append(e.failures, Failure{ARN: n.ARN, Reason: reason})
			}
			continue
		}
		e.cands = append(e.cands, n)
	}
	if len(c.entries) > 64 {
		c.entries = map[string]*cacheEntry{}
	}
	c.entries[sig] = e
	return e
}

func (e *cacheEntry) classes(attr string) spreadClasses {
	if sc, ok := e.spread[attr]; ok {
		return sc
	}
	ids := map[string]int32{}
	sc := spreadClasses{of: make([]int32, len(e.cands))}
	for i, n := range e.cands {
		v := n.Attributes[attr]
		id, ok := ids[v]
		if !ok {
			id = int32(len(ids))
			ids[v] = id
			sc.members = append(sc.members, nil)
		}
		sc.of[i] = id
		sc.members[id] = append(sc.members[id], int32(i))
	}
	sc.n = len(ids)
	e.spread[attr] = sc
	return sc
}

// Place is Cache.Place without a cache across calls.
func Place(nodes []*Node, r Request, rng *rand.Rand) Result {
	return NewCache().Place(nodes, r, rng)
}

// Place chooses a node for each of r.Count tasks and reserves the tasks on
// them, so that the nodes stay a true ledger and nothing is overcommitted.
// It places fewer than Count when capacity runs out; the result then says why.
func (c *Cache) Place(nodes []*Node, r Request, rng *rand.Rand) Result {
	var static, dynamic []*Query
	distinct := false
	for _, con := range r.Constraints {
		switch {
		case con.Type == "distinctInstance":
			distinct = true
		case con.Query != nil && con.Query.Dynamic():
			dynamic = append(dynamic, con.Query)
		case con.Query != nil:
			static = append(static, con.Query)
		}
	}
	e := c.entry(nodes, &r, static)
	s := newScorer(e, &r)
	res := Result{}
	for i := 0; i < r.Count; i++ {
		best := s.choose(e.cands, &r, dynamic, distinct, rng)
		if best < 0 {
			res.Reasons = map[string]int{}
			for k, v := range e.reasons {
				res.Reasons[k] = v
			}
			res.Failures = append([]Failure(nil), e.failures...)
			for _, n := range e.cands {
				reason := dynamicReason(n, &r, dynamic, distinct)
				res.Reasons[reason]++
				if len(res.Failures) < MaxFailures {
					res.Failures = append(res.Failures, Failure{ARN: n.ARN, Reason: reason})
				}
			}
			return res
		}
		n := e.cands[best]
		n.Reserve(r.Demand, r.Group)
		s.placed(best)
		res.Chosen = append(res.Chosen, n)
	}
	return res
}

// scorer ranks candidates by the strategy chain: a tuple of keys, lower first.
type scorer struct {
	// ties collects the indices that share the best key, reused between choices.
	ties  []int
	kinds []keyKind
	// For spread over an attribute: each candidate's class and the count of
	// the group's tasks per class.
	classOf [][]int32
	counts  [][]int
	// members of each class of the first strategy, when it spreads over an
	// attribute: only the least loaded classes need looking at.
	members [][]int32
}

type keyKind uint8

const (
	keyRandom keyKind = iota
	keyBinpackCPU
	keyBinpackMemory
	keySpreadInstance
	keySpreadAttribute
)

func newScorer(e *cacheEntry, r *Request) *scorer {
	s := &scorer{}
	for _, st := range r.Strategies {
		var kind keyKind
		var classOf []int32
		var counts []int
		switch {
		case st.Type == "binpack" && st.Field == "cpu":
			kind = keyBinpackCPU
		case st.Type == "binpack":
			kind = keyBinpackMemory
		case st.Type == "spread" && (st.Field == "instanceId" || st.Field == "host"):
			kind = keySpreadInstance
		case st.Type == "spread":
			kind = keySpreadAttribute
			sc := e.classes(strings.TrimPrefix(st.Field, "attribute:"))
			classOf, counts = sc.of, make([]int, sc.n)
			if len(s.kinds) == 0 {
				s.members = sc.members
			}
			if r.Group != "" {
				for i, n := range e.cands {
					counts[classOf[i]] += n.TaskGroups[r.Group]
				}
			}
		default:
			continue // random: every node ties
		}
		s.kinds = append(s.kinds, kind)
		s.classOf = append(s.classOf, classOf)
		s.counts = append(s.counts, counts)
		if len(s.kinds) == 4 {
			break
		}
	}
	return s
}

func (s *scorer) placed(i int) {
	for k, kind := range s.kinds {
		if kind == keySpreadAttribute {
			s.counts[k][s.classOf[k][i]]++
		}
	}
}

// choose returns the index of the best candidate that passes the dynamic
// filters, picking uniformly among ties, or -1.
func (s *scorer) choose(cands []*Node, r *Request, dynamic []*Query, distinct bool, rng *rand.Rand) int {
	c := chooser{s: s, cands: cands, r: r, dynamic: dynamic, distinct: distinct, best: -1, ties: s.ties[:0]}
	d := &r.Demand
	c.simple = len(d.Ports) == 0 && len(d.PortsUDP) == 0 && d.GPUs == 0 && !distinct && len(dynamic) == 0
	if s.members == nil {
		for i := range cands {
			c.consider(i)
		}
	} else {
		// Spread over an attribute comes first: visit the classes from the
		// least loaded up, and stop once a class level has a fitting node.
		counts := s.counts[0]
		order := make([]int, len(counts))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return counts[a] - counts[b] })
		for i := 0; i < len(order); {
			j := i
			for j < len(order) && counts[order[j]] == counts[order[i]] {
				for _, m := range s.members[order[j]] {
					c.consider(int(m))
				}
				j++
			}
			if c.best >= 0 {
				break
			}
			i = j
		}
	}
	s.ties = c.ties
	if len(c.ties) > 1 {
		return c.ties[rng.IntN(len(c.ties))]
	}
	return c.best
}

type chooser struct {
	s        *scorer
	cands    []*Node
	r        *Request
	dynamic  []*Query
	distinct bool
	simple   bool
	best     int
	bestKey  [4]int
	ties     []int
}

func (c *chooser) consider(i int) {
	n := c.cands[i]
	d := &c.r.Demand
	if n.CPU < d.CPU || n.Memory < d.Memory {
		return
	}
	if !c.simple && dynamicReason(n, c.r, c.dynamic, c.distinct) != "" {
		return
	}
	var key [4]int
	s := c.s
	k := len(s.kinds)
	for j := 0; j < k; j++ {
		switch s.kinds[j] {
		case keyBinpackCPU:
			key[j] = n.CPU
		case keyBinpackMemory:
			key[j] = n.Memory
		case keySpreadInstance:
			key[j] = n.TaskGroups[c.r.Group]
		case keySpreadAttribute:
			key[j] = s.counts[j][s.classOf[j][i]]
		}
	}
	cmp := -1
	if c.best >= 0 {
		cmp = 0
		for j := 0; j < k; j++ {
			if key[j] != c.bestKey[j] {
				if key[j] < c.bestKey[j] {
					cmp = -1
				} else {
					cmp = 1
				}
				break
			}
		}
	}
	switch {
	case cmp < 0:
		c.best, c.bestKey = i, key
		c.ties = append(c.ties[:0], i)
	case cmp == 0:
		c.ties = append(c.ties, i)
	}
}

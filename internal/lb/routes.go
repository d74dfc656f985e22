package lb

import (
	"fmt"
	"sort"
	"strings"
)

// route is one compiled rule.
type route struct {
	priority int
	conds    []condition
	act      *action
}

// routeTable is a listener's rules compiled for matching. Rules are kept in
// priority order; to avoid testing every rule, those with a literal host
// (or else a literal first path segment) are indexed by it, and a request
// tests only the rules indexed under its host and first segment plus the
// rules that could not be indexed, in priority order.
type routeTable struct {
	routes    []route
	byHost    map[string][]int32
	bySegment map[string][]int32
	rest      []int32
	def       *action
}

// match returns the action for a request: the first matching rule's, or
// the default.
func (rt *routeTable) match(v *reqView) *action {
	if len(rt.routes) == 0 {
		return rt.def
	}
	var a, b []int32
	if len(rt.byHost) > 0 {
		a = rt.byHost[lowerASCII(v.hostName())]
	}
	if len(rt.bySegment) > 0 {
		a2 := rt.bySegment[firstSegment(v.r.URL.Path)]
		if a == nil {
			a = a2
		} else {
			b = a2
		}
	}
	c := rt.rest
	for {
		i := int32(-1)
		for _, l := range [...]*[]int32{&a, &b, &c} {
			if len(*l) > 0 && (i < 0 || (*l)[0] < i) {
				i = (*l)[0]
			}
		}
		if i < 0 {
			return rt.def
		}
		for _, l := range [...]*[]int32{&a, &b, &c} {
			if len(*l) > 0 && (*l)[0] == i {
				*l = (*l)[1:]
			}
		}
		if r := &rt.routes[i]; r.matches(v) {
			return r.act
		}
	}
}

func (r *route) matches(v *reqView) bool {
	for _, c := range r.conds {
		if !c.match(v) {
			return false
		}
	}
	return true
}

func firstSegment(p string) string {
	if len(p) == 0 || p[0] != '/' {
		return ""
	}
	p = p[1:]
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

// indexKeys returns the literal keys a rule can be indexed under: its host
// names when they hold no wildcard, else the first path segments when every
// pattern spells its first segment out.
func indexKeys(conds []Condition) (hosts, segments []string) {
	for _, c := range conds {
		if c.Field != FieldHostHeader || strings.ContainsAny(strings.Join(c.Values, ""), "*?") {
			continue
		}
		for _, h := range c.Values {
			hosts = append(hosts, lowerASCII(h))
		}
		return hosts, nil
	}
	for _, c := range conds {
		if c.Field != FieldPathPattern {
			continue
		}
		segments = nil
		for _, p := range c.Values {
			if !strings.HasPrefix(p, "/") {
				segments = nil
				break
			}
			rest := p[1:]
			end := strings.IndexByte(rest, '/')
			if end < 0 {
				end = len(rest)
			}
			seg := rest[:end]
			if strings.ContainsAny(seg, "*?") || (end == len(rest) && seg == "") {
				segments = nil
				break
			}
			segments = append(segments, seg)
		}
		if segments != nil {
			return nil, segments
		}
	}
	return nil, nil
}

// compileRoutes checks a listener's rules as ELB would and builds its table.
func compileRoutes(l Listener, ca func(Action) (*action, error)) (*routeTable, error) {
	def, err := terminal(l.DefaultActions, ca)
	if err != nil {
		return nil, fmt.Errorf("listener %s default action: %w", l.ARN, err)
	}
	rules := append([]Rule(nil), l.Rules...)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Priority < rules[j].Priority })
	rt := &routeTable{def: def, byHost: map[string][]int32{}, bySegment: map[string][]int32{}}
	seen := map[int]string{}
	for i, r := range rules {
		if r.Priority < 1 || r.Priority > 50000 {
			return nil, fmt.Errorf("rule %s: priority %d is not 1-50000", r.ARN, r.Priority)
		}
		if other, dup := seen[r.Priority]; dup {
			return nil, fmt.Errorf("rules %s and %s have the same priority %d", other, r.ARN, r.Priority)
		}
		seen[r.Priority] = r.ARN
		if len(r.Conditions) == 0 {
			return nil, fmt.Errorf("rule %s has no condition", r.ARN)
		}
		cr := route{priority: r.Priority}
		for _, c := range r.Conditions {
			cc, err := compileCondition(c)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.ARN, err)
			}
			cr.conds = append(cr.conds, cc)
		}
		if cr.act, err = terminal(r.Actions, ca); err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.ARN, err)
		}
		rt.routes = append(rt.routes, cr)
		idx := int32(i)
		hosts, segs := indexKeys(r.Conditions)
		switch {
		case hosts != nil:
			for _, h := range dedupe(hosts) {
				rt.byHost[h] = append(rt.byHost[h], idx)
			}
		case segs != nil:
			for _, s := range dedupe(segs) {
				rt.bySegment[s] = append(rt.bySegment[s], idx)
			}
		default:
			rt.rest = append(rt.rest, idx)
		}
	}
	return rt, nil
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// terminal compiles the action that ends a rule: the one with the highest
// order.
func terminal(actions []Action, ca func(Action) (*action, error)) (*action, error) {
	if len(actions) == 0 {
		return nil, fmt.Errorf("no action")
	}
	last := actions[0]
	for _, a := range actions[1:] {
		if a.Order >= last.Order {
			last = a
		}
	}
	return ca(last)
}

package placement

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Target is what the cluster query language can ask about a container instance.
type Target interface {
	Attribute(name string) (string, bool)
	EC2InstanceID() string
	RegisteredAt() time.Time
	AgentVersion() string
	AgentConnected() bool
	RunningTasksCount() int
	// Groups are the task groups of the tasks the instance runs.
	Groups() []string
}

// Query is a parsed cluster query language expression, as ECS documents it:
// `subject operator [argument]`, combined with and/&&, or/||, not/! and
// parentheses.
type Query struct {
	src  string
	root node
	// dynamic is set when the expression asks about task groups, which
	// change as tasks are placed.
	dynamic bool
}

// String returns the expression as written.
func (q *Query) String() string { return q.src }

// Dynamic says whether the result can change as tasks are placed.
func (q *Query) Dynamic() bool { return q.dynamic }

// Match evaluates the expression for one instance.
func (q *Query) Match(t Target) bool { return q.root.eval(t) }

type node interface{ eval(Target) bool }

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ n node }

func (n andNode) eval(t Target) bool { return n.l.eval(t) && n.r.eval(t) }
func (n orNode) eval(t Target) bool  { return n.l.eval(t) || n.r.eval(t) }
func (n notNode) eval(t Target) bool { return !n.n.eval(t) }

// Parse reads an expression. Its errors say what was expected where.
func Parse(src string) (*Query, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("the expression is empty")
	}
	if len(src) > 2000 {
		return nil, fmt.Errorf("the expression is longer than 2000 characters")
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tEOF {
		return nil, fmt.Errorf("unexpected %s: expected and, or, or the end", p.peek())
	}
	return &Query{src: src, root: root, dynamic: p.dynamic}, nil
}

type parser struct {
	toks    []token
	i       int
	dynamic bool
	depth   int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func isWord(t token, words ...string) bool {
	if t.kind != tWord {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			return true
		}
	}
	return false
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOr || isWord(p.peek(), "or") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAnd || isWord(p.peek(), "and") {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 100 {
		return nil, fmt.Errorf("the expression nests too deeply")
	}
	t := p.peek()
	if t.kind == tBang || isWord(t, "not") {
		p.next()
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	if t.kind == tLParen {
		p.next()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, fmt.Errorf("expected ')' but found %s", c)
		}
		return n, nil
	}
	return p.comparison()
}

// operators by their spellings.
var opNames = map[string]string{
	"==": "==", "equals": "==", "!=": "!=", "not_equals": "!=",
	">": ">", "greater_than": ">", ">=": ">=", "greater_than_equal": ">=",
	"<": "<", "less_than": "<", "<=": "<=", "less_than_equal": "<=",
	"exists": "exists", "not_exists": "!exists", "in": "in", "not_in": "!in",
	"=~": "=~", "matches": "=~", "!~": "!~", "not_matches": "!~",
}

func (p *parser) comparison() (node, error) {
	st := p.next()
	if st.kind != tWord {
		return nil, fmt.Errorf("expected a subject (attribute:NAME, task:group, ec2InstanceId, registeredAt, agentVersion, agentConnected or runningTasksCount) but found %s", st)
	}
	c := &cmp{}
	switch {
	case strings.HasPrefix(st.text, "attribute:") && len(st.text) > len("attribute:"):
		c.subject, c.attr = "attribute", st.text[len("attribute:"):]
	case st.text == "task:group":
		c.subject = "task:group"
		p.dynamic = true
	case st.text == "ec2InstanceId", st.text == "registeredAt", st.text == "agentVersion", st.text == "agentConnected", st.text == "runningTasksCount":
		c.subject = st.text
		if st.text == "runningTasksCount" {
			p.dynamic = true
		}
	default:
		return nil, fmt.Errorf("unknown subject %s: use attribute:NAME, task:group, ec2InstanceId, registeredAt, agentVersion, agentConnected or runningTasksCount", st)
	}
	ot := p.next()
	switch {
	case ot.kind == tOp:
		c.op = ot.text
	case ot.kind == tBang && (isWord(p.peek(), "in") || isWord(p.peek(), "exists")):
		c.op = "!" + strings.ToLower(p.next().text)
	case ot.kind == tWord && opNames[strings.ToLower(ot.text)] != "":
		c.op = opNames[strings.ToLower(ot.text)]
	default:
		return nil, fmt.Errorf("expected an operator after %s but found %s", st.text, ot)
	}
	if err := c.checkOperator(); err != nil {
		return nil, err
	}
	switch c.op {
	case "exists", "!exists":
		return c, nil
	case "in", "!in":
		if t := p.next(); t.kind != tLBracket {
			return nil, fmt.Errorf("%s expects a list like [a, b] but found %s", c.op, t)
		}
		for {
			v := p.next()
			if v.kind != tWord && v.kind != tString {
				return nil, fmt.Errorf("expected a value in the list but found %s", v)
			}
			c.list = append(c.list, v.text)
			sep := p.next()
			if sep.kind == tRBracket {
				break
			}
			if sep.kind != tComma {
				return nil, fmt.Errorf("expected ',' or ']' in the list but found %s", sep)
			}
		}
		return c, nil
	}
	v := p.next()
	if v.kind != tWord && v.kind != tString {
		return nil, fmt.Errorf("expected a value after %s %s but found %s", st.text, c.op, v)
	}
	c.value = v.text
	return c, c.compile()
}

// cmp is one comparison.
type cmp struct {
	subject, attr string
	op            string
	value         string
	list          []string
	re            *regexp.Regexp
	when          time.Time
	number        float64
	isNumber      bool
}

func (c *cmp) checkOperator() error {
	allowed := map[string]string{
		"agentConnected":    "== != in !in =~ !~",
		"ec2InstanceId":     "== != in !in =~ !~",
		"agentVersion":      "== != > >= < <=",
		"registeredAt":      "== != > >= < <=",
		"runningTasksCount": "== != > >= < <=",
		"task:group":        "== != in !in =~ !~ exists !exists",
	}
	if ops, ok := allowed[c.subject]; ok && !contains(strings.Fields(ops), c.op) {
		return fmt.Errorf("operator %s cannot be used with %s; it takes %s", c.op, c.subject, strings.ReplaceAll(ops, " ", ", "))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *cmp) compile() error {
	switch c.op {
	case "=~", "!~":
		re, err := regexp.Compile("^(?:" + c.value + ")$")
		if err != nil {
			return fmt.Errorf("the pattern %q is not a valid regular expression: %v", c.value, err)
		}
		c.re = re
	}
	switch c.subject {
	case "registeredAt":
		t, err := parseDate(c.value)
		if err != nil {
			return err
		}
		c.when = t
	case "runningTasksCount":
		n, err := strconv.Atoi(c.value)
		if err != nil {
			return fmt.Errorf("runningTasksCount compares with a whole number, not %q", c.value)
		}
		c.number, c.isNumber = float64(n), true
	}
	if f, err := strconv.ParseFloat(c.value, 64); err == nil {
		c.number, c.isNumber = f, true
	}
	return nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("registeredAt compares with a date like 2018-06-18T22:28:28Z or 2018-06-18, not %q", s)
}

func (c *cmp) eval(t Target) bool {
	switch c.subject {
	case "task:group":
		groups := t.Groups()
		switch c.op {
		case "exists":
			return len(groups) > 0
		case "!exists":
			return len(groups) == 0
		}
		any := false
		for _, g := range groups {
			if c.matchString(g) {
				any = true
				break
			}
		}
		switch c.op {
		case "!=", "!in", "!~":
			// Negated forms ask for instances that host no such group.
			c2 := *c
			c2.op = map[string]string{"!=": "==", "!in": "in", "!~": "=~"}[c.op]
			for _, g := range groups {
				if c2.matchString(g) {
					return false
				}
			}
			return true
		}
		return any
	case "attribute":
		v, ok := t.Attribute(c.attr)
		switch c.op {
		case "exists":
			return ok
		case "!exists":
			return !ok
		}
		if !ok {
			return c.op == "!=" || c.op == "!in" || c.op == "!~"
		}
		return c.compare(v)
	case "ec2InstanceId":
		return c.compare(t.EC2InstanceID())
	case "agentConnected":
		return c.compare(strconv.FormatBool(t.AgentConnected()))
	case "agentVersion":
		return c.order(compareVersions(t.AgentVersion(), c.value))
	case "registeredAt":
		return c.order(t.RegisteredAt().Compare(c.when))
	case "runningTasksCount":
		n := t.RunningTasksCount()
		switch {
		case float64(n) < c.number:
			return c.order(-1)
		case float64(n) > c.number:
			return c.order(1)
		}
		return c.order(0)
	}
	return false
}

// matchString applies a positive (==, in, =~) or negated operator to s.
func (c *cmp) matchString(s string) bool {
	switch c.op {
	case "==", "!=":
		return (s == c.value) == (c.op == "==")
	case "in", "!in":
		return contains(c.list, s) == (c.op == "in")
	case "=~", "!~":
		return c.re.MatchString(s) == (c.op == "=~")
	}
	return false
}

// compare applies the operator to a string value: equality, lists and
// patterns as strings; ordering numerically when both sides are numbers.
func (c *cmp) compare(v string) bool {
	switch c.op {
	case "==", "!=", "in", "!in", "=~", "!~":
		return c.matchString(v)
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && c.isNumber {
		switch {
		case f < c.number:
			return c.order(-1)
		case f > c.number:
			return c.order(1)
		}
		return c.order(0)
	}
	return c.order(strings.Compare(v, c.value))
}

// order applies an ordering operator to the result of a comparison.
func (c *cmp) order(r int) bool {
	switch c.op {
	case "==":
		return r == 0
	case "!=":
		return r != 0
	case ">":
		return r > 0
	case ">=":
		return r >= 0
	case "<":
		return r < 0
	case "<=":
		return r <= 0
	}
	return false
}

// compareVersions compares dotted versions number by number.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(strings.TrimPrefix(a, "v"), "."), strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

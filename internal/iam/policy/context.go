package policy

import (
	"strconv"
	"strings"
	"time"
)

// Request is what is asked: who, what, on what, and everything else the
// conditions may look at. The caller fills it; nothing here reads a clock.
type Request struct {
	// Principal is the caller's ARN: a user, an assumed-role session
	// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION), an account root, or a
	// service principal's name.
	Principal string
	// Action is "service:Operation", e.g. "ecs:RunTask".
	Action string
	// Resource is the ARN the action is on, or "*" for actions that take none.
	Resource string
	// Context holds the condition keys (aws:username, aws:userid,
	// aws:PrincipalTag/team, ecs:cluster, ...). Names ignore case. A key
	// with no values is a missing key.
	Context map[string][]string
	// Time is when the request was made: aws:CurrentTime and aws:EpochTime,
	// unless Context sets them.
	Time time.Time
	// SourceIP is the caller's address: aws:SourceIp, unless Context sets it.
	SourceIP string
}

// reqContext is a request's condition keys by lower-cased name, with the
// keys that follow from the request's own fields.
type reqContext struct {
	keys map[string][]string
}

func newContext(r Request) *reqContext {
	c := &reqContext{keys: make(map[string][]string, len(r.Context)+6)}
	for k, v := range r.Context {
		if len(v) > 0 {
			c.keys[strings.ToLower(k)] = v
		}
	}
	c.setDefault("aws:sourceip", r.SourceIP)
	if !r.Time.IsZero() {
		c.setDefault("aws:currenttime", r.Time.UTC().Format(time.RFC3339))
		c.setDefault("aws:epochtime", strconv.FormatInt(r.Time.Unix(), 10))
	}
	if a, ok := parseCaller(r.Principal); ok {
		c.setDefault("aws:principalarn", a.principalARN())
		c.setDefault("aws:principalaccount", a.account)
		if a.kind == "user" {
			c.setDefault("aws:username", a.name)
		}
	}
	return c
}

func (c *reqContext) setDefault(key, value string) {
	if value == "" {
		return
	}
	if _, ok := c.keys[key]; !ok {
		c.keys[key] = []string{value}
	}
}

// values are the key's values; none when it is missing.
func (c *reqContext) values(key string) []string { return c.keys[strings.ToLower(key)] }

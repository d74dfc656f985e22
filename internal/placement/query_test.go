package placement

import (
	"strings"
	"testing"
	"time"
)

type fakeTarget struct {
	attrs     map[string]string
	ec2       string
	at        time.Time
	version   string
	connected bool
	running   int
	groups    []string
}

func (f fakeTarget) Attribute(n string) (string, bool) { v, ok := f.attrs[n]; return v, ok }
func (f fakeTarget) EC2InstanceID() string             { return f.ec2 }
func (f fakeTarget) RegisteredAt() time.Time           { return f.at }
func (f fakeTarget) AgentVersion() string              { return f.version }
func (f fakeTarget) AgentConnected() bool              { return f.connected }
func (f fakeTarget) RunningTasksCount() int            { return f.running }
func (f fakeTarget) Groups() []string                  { return f.groups }

var host = fakeTarget{
	attrs: map[string]string{"ecs.instance-type": "t2.small", "ecs.availability-zone": "us-east-1a", "stack": "prod",
		"cores": "8", "ecs.capability.task-eni": ""},
	ec2: "i-abcd1234", at: time.Date(2018, 3, 1, 12, 0, 0, 0, time.UTC), version: "1.14.5", connected: true, running: 1,
	groups: []string{"service:production", "family:web"},
}

func TestQueryLanguage(t *testing.T) {
	cases := []struct {
		expr string
		want bool
	}{
		{"attribute:ecs.instance-type == t2.small", true},
		{"attribute:ecs.instance-type equals t2.small", true},
		{"attribute:ecs.instance-type != t2.small", false},
		{"attribute:ecs.instance-type =~ t2.*", true},
		{"attribute:ecs.instance-type matches g2.*", false},
		{"attribute:ecs.instance-type !~ g2.*", true},
		{"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", true},
		{"attribute:ecs.availability-zone not_in [us-east-1a, us-east-1b]", false},
		{"attribute:ecs.availability-zone !in ['us-east-1c']", true},
		{"attribute:stack exists", true},
		{"attribute:ecs.capability.task-eni exists", true},
		{"attribute:gpu exists", false},
		{"attribute:gpu !exists", true},
		{"attribute:gpu not_exists", true},
		{"attribute:gpu == yes", false},
		{"attribute:gpu != yes", true},
		{"attribute:cores > 4", true},
		{"attribute:cores >= 8", true},
		{"attribute:cores < 10", true},
		{"attribute:cores less_than_equal 7", false},
		{"attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d", false},
		{"attribute:ecs.instance-type =~ t2.* && attribute:ecs.availability-zone != us-east-1d", true},
		{"attribute:stack == dev or attribute:stack == prod", true},
		{"attribute:stack == dev || attribute:stack == qa", false},
		{"(attribute:stack == dev or attribute:stack == prod) and attribute:cores > 16", false},
		{"attribute:stack == dev or attribute:stack == prod and attribute:cores > 16", false},
		{"attribute:stack == prod or attribute:stack == dev and attribute:cores > 16", true},
		{"task:group == service:production", true},
		{"task:group == database", false},
		{"not(task:group == database)", true},
		{"!(task:group == service:production)", false},
		{"task:group != database", true},
		{"task:group in [database, family:web]", true},
		{"task:group =~ service:.*", true},
		{"task:group exists", true},
		{"runningTasksCount == 1", true},
		{"runningTasksCount > 1", false},
		{"agentVersion < 1.14.6", true},
		{"agentVersion < 1.14.5", false},
		{"agentVersion >= 1.9.0", true},
		{"registeredAt < 2018-03-02", true},
		{"registeredAt > 2018-03-01T11:59:59Z", true},
		{"registeredAt greater_than 2018-03-01T12:00:00+00:00", false},
		{"ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", true},
		{"ec2InstanceId == i-wxyx7890", false},
		{"agentConnected == true", true},
		{"agentConnected == false", false},
		{`attribute:stack == "prod"`, true},
		{"not attribute:stack == prod", false},
	}
	for _, c := range cases {
		q, err := Parse(c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if got := q.Match(host); got != c.want {
			t.Errorf("%q = %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestQueryLanguageErrors(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"attribute:stack", "expected an operator"},
		{"attribute: == x", "unknown subject"},
		{"color == red", "unknown subject"},
		{"attribute:stack === prod", "unexpected character"},
		{"attribute:stack in prod", "expects a list"},
		{"attribute:stack in [prod", "expected ',' or ']'"},
		{"attribute:stack in []", "expected a value in the list"},
		{"(attribute:stack == prod", "expected ')'"},
		{"attribute:stack == prod)", "unexpected"},
		{"attribute:stack == prod and", "expected a subject"},
		{"attribute:stack =~ '[a-'", "not a valid regular expression"},
		{"registeredAt > yesterday", "date"},
		{"runningTasksCount > many", "whole number"},
		{"agentVersion in [1.0]", "cannot be used with agentVersion"},
		{"ec2InstanceId > i-1", "cannot be used with ec2InstanceId"},
		{"attribute:stack == 'prod", "unterminated"},
		{"attribute:stack == prod ; drop", "unexpected"},
		{strings.Repeat("(", 200) + "attribute:a exists" + strings.Repeat(")", 200), "nests too deeply"},
	}
	for _, c := range cases {
		_, err := Parse(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error mentioning %q", c.expr, err, c.want)
		}
	}
}

func TestQueryDynamic(t *testing.T) {
	for expr, want := range map[string]bool{
		"attribute:stack == prod":                          false,
		"task:group == web":                                true,
		"attribute:stack == prod and not(task:group == x)": true,
		"runningTasksCount < 3":                            true,
	} {
		q, err := Parse(expr)
		if err != nil || q.Dynamic() != want {
			t.Errorf("%q: dynamic %v (%v), want %v", expr, q != nil && q.Dynamic(), err, want)
		}
	}
}

// FuzzParseQuery checks that no expression makes the parser or the
// evaluator panic, and that what parses can be evaluated.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d",
		"not(task:group == database)",
		"ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']",
		"registeredAt < 2018-02-13",
		"(a or b) and !exists",
		"attribute:x !exists || !(runningTasksCount >= 2)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		q, err := Parse(expr)
		if err != nil {
			return
		}
		q.Match(host)
		q.Match(fakeTarget{})
	})
}

package state

import (
	"strconv"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
)

// Elastic Load Balancing v2 records: load balancers, their listeners and
// listener rules, and target groups with their targets. Package api/elbv2
// owns their rules (validation, defaults, ELB's errors); the load balancer
// data plane follows them through ReadELB and WatchELB.
//
// Key layout (one JSON record a key, every key under elbPrefix):
//
//	elbv2/lb/<id>        ELBLoadBalancer  (id: the ARN's last segment)
//	elbv2/tg/<id>        ELBTargetGroup   (its targets and attributes inside)
//	elbv2/listener/<id>  ELBListener      (its default actions inside, and
//	                     its rules, ELBRule, under "rules", by priority)
//
// Every write reads the whole prefix and commits with a guard over it
// (UpdateELB), so a write sees and keeps every cross-record rule (a target
// group in use, a port taken, a priority in use) and nothing is ever half
// written. Health observations, written often by the data plane, live
// apart under elbHealthPrefix so that they never conflict with
// configuration writes:
//
//	elbv2-health/<target group id>/<target id>:<port>  ELBTargetHealth

const (
	elbPrefix       = Root + "elbv2/"
	elbHealthPrefix = Root + "elbv2-health/"
)

// ELBLoadBalancer is a load balancer (Type "application" or "network").
type ELBLoadBalancer struct {
	Arn     string `json:"arn"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	Scheme  string `json:"scheme"`
	DNSName string `json:"dnsName"`
	// IPAddressType is ipv4 or dualstack.
	IPAddressType  string    `json:"ipAddressType"`
	VpcID          string    `json:"vpcId,omitempty"`
	Subnets        []string  `json:"subnets,omitempty"`
	SecurityGroups []string  `json:"securityGroups,omitempty"`
	CreatedTime    time.Time `json:"createdTime"`
	// Attributes are every load balancer attribute, defaults included.
	Attributes map[string]string `json:"attributes"`
	Tags       []model.Tag       `json:"tags,omitempty"`
}

// ELBHealthCheck is how a target group's targets are checked.
type ELBHealthCheck struct {
	Enabled  bool   `json:"enabled"`
	Protocol string `json:"protocol"`
	// Port is a port number or "traffic-port" (the target's own port).
	Port string `json:"port"`
	// Path and Matcher (HTTP codes: "200", "200-299", "200,302") are set
	// for HTTP and HTTPS checks only.
	Path               string `json:"path,omitempty"`
	Matcher            string `json:"matcher,omitempty"`
	IntervalSeconds    int32  `json:"intervalSeconds"`
	TimeoutSeconds     int32  `json:"timeoutSeconds"`
	HealthyThreshold   int32  `json:"healthyThreshold"`
	UnhealthyThreshold int32  `json:"unhealthyThreshold"`
}

// ELBTargetGroup is a target group with its registered targets.
type ELBTargetGroup struct {
	Arn  string `json:"arn"`
	Name string `json:"name"`
	// Protocol is HTTP, HTTPS or TCP; ProtocolVersion HTTP1 (HTTP/HTTPS).
	Protocol        string `json:"protocol"`
	ProtocolVersion string `json:"protocolVersion,omitempty"`
	Port            int32  `json:"port"`
	// TargetType is instance or ip.
	TargetType    string         `json:"targetType"`
	IPAddressType string         `json:"ipAddressType"`
	VpcID         string         `json:"vpcId,omitempty"`
	HealthCheck   ELBHealthCheck `json:"healthCheck"`
	// Attributes are every target group attribute, defaults included
	// (deregistration_delay.timeout_seconds, stickiness.*, ...).
	Attributes  map[string]string `json:"attributes"`
	Targets     []ELBTarget       `json:"targets,omitempty"`
	CreatedTime time.Time         `json:"createdTime"`
	Tags        []model.Tag       `json:"tags,omitempty"`
}

// ELBTarget is one registered target: an instance id or an IP address,
// with the port traffic goes to.
type ELBTarget struct {
	ID               string    `json:"id"`
	Port             int32     `json:"port"`
	AvailabilityZone string    `json:"availabilityZone,omitempty"`
	RegisteredAt     time.Time `json:"registeredAt"`
	// DrainingUntil is set when the target was deregistered: it gets no new
	// requests, finishes those in flight, and is removed at this time
	// (SweepELBTargets).
	DrainingUntil time.Time `json:"drainingUntil,omitzero"`
	// TaskArn is the ECS task this target stands for, when a service's
	// load balancer registration made it (ECS registers and deregisters
	// those itself; targets a user registered have none).
	TaskArn string `json:"taskArn,omitempty"`
}

// Draining says whether the target is being deregistered.
func (t ELBTarget) Draining() bool { return !t.DrainingUntil.IsZero() }

// ELBCertificate is a listener's certificate (an IAM server certificate
// ARN): the default one, served when a client names no host or one that no
// other certificate covers, and others chosen by SNI.
type ELBCertificate struct {
	Arn       string `json:"arn"`
	IsDefault bool   `json:"isDefault,omitempty"`
}

// ELBListener is a port a load balancer listens on, and what it does with
// requests that no rule matches (DefaultActions, its "default rule").
type ELBListener struct {
	Arn             string `json:"arn"`
	LoadBalancerArn string `json:"loadBalancerArn"`
	// Protocol is HTTP, HTTPS (application) or TCP (network).
	Protocol       string           `json:"protocol"`
	Port           int32            `json:"port"`
	SslPolicy      string           `json:"sslPolicy,omitempty"`
	Certificates   []ELBCertificate `json:"certificates,omitempty"`
	AlpnPolicy     []string         `json:"alpnPolicy,omitempty"`
	DefaultActions []ELBAction      `json:"defaultActions"`
	// Attributes are the listener attributes set; the others have their
	// defaults.
	Attributes map[string]string `json:"attributes,omitempty"`
	// DefaultRuleArn names the listener's default rule, which DescribeRules
	// shows with priority "default".
	DefaultRuleArn string      `json:"defaultRuleArn"`
	Tags           []model.Tag `json:"tags,omitempty"`
}

// ELBRule is a listener rule: when every condition matches, its actions run.
// Rules are evaluated by Priority, lowest first.
type ELBRule struct {
	Arn         string         `json:"arn"`
	ListenerArn string         `json:"listenerArn"`
	Priority    int            `json:"priority"`
	Conditions  []ELBCondition `json:"conditions"`
	Actions     []ELBAction    `json:"actions"`
	Tags        []model.Tag    `json:"tags,omitempty"`
}

// ELBCondition is one rule condition. Field is path-pattern, host-header,
// http-header, query-string, http-request-method or source-ip. A condition
// matches when any of its values matches.
type ELBCondition struct {
	Field string `json:"field"`
	// Values are the patterns (path-pattern, host-header, http-header: with
	// * and ?), methods (http-request-method) or CIDR blocks (source-ip).
	Values []string `json:"values,omitempty"`
	// HeaderName is the header an http-header condition looks at.
	HeaderName string `json:"headerName,omitempty"`
	// QueryStrings are a query-string condition's pairs; an empty Key
	// matches any key.
	QueryStrings []ELBKeyValue `json:"queryStrings,omitempty"`
}

// ELBKeyValue is a query-string condition's pair.
type ELBKeyValue struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value"`
}

// ELBAction is one action of a rule or listener: forward, fixed-response or
// redirect. Actions run by Order; the last is the one that answers.
type ELBAction struct {
	Type  string `json:"type"`
	Order int32  `json:"order,omitempty"`
	// Forward is set for forward actions, FixedResponse and Redirect for
	// theirs.
	Forward       *ELBForward       `json:"forward,omitempty"`
	FixedResponse *ELBFixedResponse `json:"fixedResponse,omitempty"`
	Redirect      *ELBRedirect      `json:"redirect,omitempty"`
}

// ELBForward sends requests to target groups, each chosen with a
// probability proportional to its weight.
type ELBForward struct {
	TargetGroups []ELBWeightedTargetGroup `json:"targetGroups"`
	// Stickiness keeps a client on the target group it first got, for
	// StickinessDurationSeconds.
	Stickiness                bool  `json:"stickiness,omitempty"`
	StickinessDurationSeconds int32 `json:"stickinessDurationSeconds,omitempty"`
	// Short says that the action was given with TargetGroupArn alone, so
	// that it is described as it was given.
	Short bool `json:"short,omitempty"`
}

// ELBWeightedTargetGroup is a target group of a forward action, with its
// weight (0-999).
type ELBWeightedTargetGroup struct {
	Arn    string `json:"arn"`
	Weight int32  `json:"weight"`
}

// ELBFixedResponse answers without a target.
type ELBFixedResponse struct {
	StatusCode  string `json:"statusCode"`
	ContentType string `json:"contentType,omitempty"`
	MessageBody string `json:"messageBody,omitempty"`
}

// ELBRedirect answers with a redirect. Each component may hold
// #{protocol}, #{host}, #{port}, #{path} and #{query}, the request's own.
type ELBRedirect struct {
	// StatusCode is HTTP_301 or HTTP_302.
	StatusCode string `json:"statusCode"`
	Protocol   string `json:"protocol"`
	Port       string `json:"port"`
	Host       string `json:"host"`
	Path       string `json:"path"`
	Query      string `json:"query"`
}

// TargetGroupArns are the target groups an action forwards to.
func (a ELBAction) TargetGroupArns() []string {
	if a.Forward == nil {
		return nil
	}
	out := make([]string, 0, len(a.Forward.TargetGroups))
	for _, tg := range a.Forward.TargetGroups {
		out = append(out, tg.Arn)
	}
	return out
}

// DeregistrationDelay is the group's deregistration_delay.timeout_seconds:
// how long a deregistered target drains (ELB's default, 300 s, when unset).
func (tg *ELBTargetGroup) DeregistrationDelay() time.Duration {
	s, err := strconv.Atoi(tg.Attributes["deregistration_delay.timeout_seconds"])
	if err != nil {
		s = 300
	}
	return time.Duration(s) * time.Second
}

package lb

import "time"

// Config is everything one data plane serves. It is plain data, JSON
// serialisable, so that the control plane can hand it to Apply in-process or
// send it over the wire to a separate `flotta lb` process.
type Config struct {
	LoadBalancers []LoadBalancer `json:"loadBalancers,omitempty"`
	TargetGroups  []TargetGroup  `json:"targetGroups,omitempty"`
}

// Load balancer types, as ELBv2 names them.
const (
	TypeApplication = "application"
	TypeNetwork     = "network"
)

// Listener and target protocols.
const (
	ProtocolHTTP  = "HTTP"
	ProtocolHTTPS = "HTTPS"
	ProtocolTCP   = "TCP"
)

// LoadBalancer is one Application or Network Load Balancer.
type LoadBalancer struct {
	ARN  string `json:"arn"`
	Name string `json:"name"`
	// Type is TypeApplication or TypeNetwork.
	Type string `json:"type"`
	// Dimension is CloudWatch's LoadBalancer dimension, "app/NAME/ID" or
	// "net/NAME/ID"; metrics carry it as their LoadBalancer label.
	Dimension string `json:"dimension"`
	// IdleTimeoutSeconds is idle_timeout.timeout_seconds: how long the load
	// balancer waits for a target's response before answering 504. Zero
	// means ELB's default, 60.
	IdleTimeoutSeconds int        `json:"idleTimeoutSeconds,omitempty"`
	Listeners          []Listener `json:"listeners,omitempty"`
}

// Listener accepts connections on one port.
type Listener struct {
	ARN string `json:"arn"`
	// Port is the port to bind; 0 asks the system for a free one (tests),
	// which Balancer.Addr then reports.
	Port int `json:"port"`
	// Host is the address to bind, "" for every interface.
	Host string `json:"host,omitempty"`
	// Protocol is HTTP or HTTPS (application) or TCP (network).
	Protocol string `json:"protocol"`
	// CertificatePEM and KeyPEM are the server certificate (chain) and its
	// private key for an HTTPS listener.
	CertificatePEM string `json:"certificatePem,omitempty"`
	KeyPEM         string `json:"keyPem,omitempty"`
	// SNICertificates are an HTTPS listener's other certificates: a client
	// whose server name one of them covers gets it; any other gets the
	// default (CertificatePEM), as ELB chooses.
	SNICertificates []KeyPair `json:"sniCertificates,omitempty"`
	DefaultActions  []Action  `json:"defaultActions"`
	Rules           []Rule    `json:"rules,omitempty"`
}

// Rule is a listener rule: when every condition matches, its actions run.
// Lower priorities are evaluated first; the default actions come last.
type Rule struct {
	ARN        string      `json:"arn"`
	Priority   int         `json:"priority"`
	Conditions []Condition `json:"conditions"`
	Actions    []Action    `json:"actions"`
}

// Condition fields, as ELBv2 names them.
const (
	FieldPathPattern       = "path-pattern"
	FieldHostHeader        = "host-header"
	FieldHTTPHeader        = "http-header"
	FieldQueryString       = "query-string"
	FieldHTTPRequestMethod = "http-request-method"
	FieldSourceIP          = "source-ip"
)

// Condition is one rule condition. Its values are alternatives (any one
// matches); a rule's conditions must all match. Path patterns are case
// sensitive, host names, header values and query strings are not; * and ?
// are wildcards except in methods and source IPs.
type Condition struct {
	Field string `json:"field"`
	// Values are the path patterns, host names, header values, methods or
	// source CIDRs.
	Values []string `json:"values,omitempty"`
	// HTTPHeaderName is the header an http-header condition reads.
	HTTPHeaderName string `json:"httpHeaderName,omitempty"`
	// QueryString holds the pairs of a query-string condition; an empty
	// Key matches the value of any key.
	QueryString []QueryPair `json:"queryString,omitempty"`
}

// QueryPair is one key/value alternative of a query-string condition.
type QueryPair struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value"`
}

// Action types.
const (
	ActionForward       = "forward"
	ActionFixedResponse = "fixed-response"
	ActionRedirect      = "redirect"
)

// Action is what a rule or a listener's default does with a request. Only
// the terminal action (the one with the highest Order) is carried out.
type Action struct {
	Type          string         `json:"type"`
	Order         int            `json:"order,omitempty"`
	Forward       *Forward       `json:"forward,omitempty"`
	FixedResponse *FixedResponse `json:"fixedResponse,omitempty"`
	Redirect      *Redirect      `json:"redirect,omitempty"`
}

// Forward sends requests to one or more target groups by weight.
type Forward struct {
	TargetGroups []WeightedGroup `json:"targetGroups"`
	// StickinessSeconds, when positive, keeps a client on the target group
	// it first got (the AWSALBTG cookie) for that long.
	StickinessSeconds int `json:"stickinessSeconds,omitempty"`
}

// WeightedGroup is one target group of a forward action. Weights are 0-999;
// a forward with one group may leave it 0 and still gets every request.
type WeightedGroup struct {
	ARN    string `json:"arn"`
	Weight int    `json:"weight"`
}

// FixedResponse answers from the load balancer itself.
type FixedResponse struct {
	// StatusCode is "2XX", "4XX" or "5XX" in digits, e.g. "503".
	StatusCode  string `json:"statusCode"`
	ContentType string `json:"contentType,omitempty"`
	MessageBody string `json:"messageBody,omitempty"`
}

// Redirect answers with a redirect built from the request. Every component
// may use #{protocol}, #{host}, #{port}, #{path} (without its leading /) and
// #{query}; empty components keep the request's.
type Redirect struct {
	Protocol string `json:"protocol,omitempty"`
	Host     string `json:"host,omitempty"`
	Port     string `json:"port,omitempty"`
	Path     string `json:"path,omitempty"`
	Query    string `json:"query,omitempty"`
	// StatusCode is HTTP_301 or HTTP_302.
	StatusCode string `json:"statusCode"`
}

// Target types.
const (
	TargetTypeInstance = "instance"
	TargetTypeIP       = "ip"
)

// Load balancing algorithms.
const (
	AlgorithmRoundRobin       = "round_robin"
	AlgorithmLeastOutstanding = "least_outstanding_requests"
)

// TargetGroup is a set of targets with one health check and one algorithm.
type TargetGroup struct {
	ARN  string `json:"arn"`
	Name string `json:"name"`
	// Dimension is CloudWatch's TargetGroup dimension, "targetgroup/NAME/ID".
	Dimension string `json:"dimension"`
	// Protocol is how the load balancer talks to targets: HTTP, HTTPS or TCP.
	Protocol string `json:"protocol"`
	// ProtocolVersion is HTTP1 (default) or HTTP2 (h2c to HTTP targets).
	ProtocolVersion string      `json:"protocolVersion,omitempty"`
	Port            int         `json:"port,omitempty"`
	TargetType      string      `json:"targetType,omitempty"`
	HealthCheck     HealthCheck `json:"healthCheck"`
	Attributes      Attributes  `json:"attributes"`
	Targets         []Target    `json:"targets,omitempty"`
}

// HealthCheck is a target group's health check, with ELB's fields. Zero
// values take ELB's defaults: the group's protocol and traffic port, path
// "/", every 30 s, timeout 5 s (10 s for TCP), 5 successes to become
// healthy, 2 failures to become unhealthy, matcher "200".
type HealthCheck struct {
	// Protocol is HTTP, HTTPS or TCP; empty means the group's protocol.
	Protocol string `json:"protocol,omitempty"`
	// Port is a port number or "traffic-port" (the target's own port).
	Port            string `json:"port,omitempty"`
	Path            string `json:"path,omitempty"`
	IntervalSeconds int    `json:"intervalSeconds,omitempty"`
	TimeoutSeconds  int    `json:"timeoutSeconds,omitempty"`
	// HealthyThreshold and UnhealthyThreshold are the consecutive successes
	// and failures that change a target's state.
	HealthyThreshold   int `json:"healthyThreshold,omitempty"`
	UnhealthyThreshold int `json:"unhealthyThreshold,omitempty"`
	// Matcher is the HttpCode matcher: "200", "200-299" or "200,202".
	Matcher string `json:"matcher,omitempty"`
}

// Attributes are the target group attributes the data plane acts on; the
// JSON names are ELB's attribute keys. DeregistrationDelaySeconds is for the
// control plane, which turns it into each draining target's DrainDeadline.
type Attributes struct {
	DeregistrationDelaySeconds int    `json:"deregistration_delay.timeout_seconds,omitempty"`
	StickinessEnabled          bool   `json:"stickiness.enabled,omitempty"`
	StickinessType             string `json:"stickiness.type,omitempty"`
	StickinessSeconds          int    `json:"stickiness.lb_cookie.duration_seconds,omitempty"`
	SlowStartSeconds           int    `json:"slow_start.duration_seconds,omitempty"`
	Algorithm                  string `json:"load_balancing.algorithm.type,omitempty"`
}

// Target states in the configuration.
const (
	TargetRegistered = "registered"
	TargetDraining   = "draining"
)

// Target is one registered (or deregistering) address.
type Target struct {
	// ID is the instance ID or IP the control plane registered; it is
	// reported back in Health and callbacks.
	ID   string `json:"id"`
	Host string `json:"host"`
	Port int    `json:"port"`
	// State is TargetRegistered or TargetDraining.
	State string `json:"state,omitempty"`
	// DrainDeadline is when a draining target's deregistration delay ends.
	DrainDeadline time.Time `json:"drainDeadline,omitempty"`
}

// KeyPair is a certificate (with its chain) and its private key, PEM.
type KeyPair struct {
	CertificatePEM string `json:"certificatePem"`
	KeyPEM         string `json:"keyPem"`
}

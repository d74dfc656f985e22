package elbv2

import (
	"slices"
	"strconv"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// The answers' shapes, in ELB's member names, and their making from the
// records.

// Tag is an ELB tag.
type Tag struct {
	Key   string  `xml:"Key"`
	Value *string `xml:"Value"`
}

func tagsOut(tags []model.Tag) []Tag {
	out := make([]Tag, 0, len(tags))
	for _, t := range tags {
		v := t.Value
		out = append(out, Tag{Key: t.Key, Value: &v})
	}
	return out
}

// LoadBalancerState is ELB's LoadBalancerState: Flotta's load balancers are
// active from the moment they are made.
type LoadBalancerState struct {
	Code string `xml:"Code"`
}

// AvailabilityZone is ELB's AvailabilityZone.
type AvailabilityZone struct {
	ZoneName string `xml:"ZoneName"`
	SubnetID string `xml:"SubnetId,omitempty"`
}

// LoadBalancer is ELB's LoadBalancer shape.
type LoadBalancer struct {
	LoadBalancerArn       string             `xml:"LoadBalancerArn"`
	DNSName               string             `xml:"DNSName"`
	CanonicalHostedZoneID string             `xml:"CanonicalHostedZoneId"`
	CreatedTime           time.Time          `xml:"CreatedTime"`
	LoadBalancerName      string             `xml:"LoadBalancerName"`
	Scheme                string             `xml:"Scheme"`
	VpcID                 string             `xml:"VpcId,omitempty"`
	State                 LoadBalancerState  `xml:"State"`
	Type                  string             `xml:"Type"`
	AvailabilityZones     []AvailabilityZone `xml:"AvailabilityZones"`
	SecurityGroups        []string           `xml:"SecurityGroups,omitempty"`
	IPAddressType         string             `xml:"IpAddressType"`
}

// HostedZoneID is the CanonicalHostedZoneId of every Flotta load balancer:
// Flotta serves their DNS names itself, in no Route 53 zone of AWS's.
const HostedZoneID = "ZFLOTTAELB00001"

func loadBalancerOut(lb *state.ELBLoadBalancer, zone string) LoadBalancer {
	out := LoadBalancer{LoadBalancerArn: lb.Arn, DNSName: lb.DNSName, CanonicalHostedZoneID: HostedZoneID, CreatedTime: lb.CreatedTime,
		LoadBalancerName: lb.Name, Scheme: lb.Scheme, VpcID: lb.VpcID, State: LoadBalancerState{Code: "active"}, Type: lb.Type,
		AvailabilityZones: []AvailabilityZone{}, SecurityGroups: lb.SecurityGroups, IPAddressType: lb.IPAddressType}
	if len(lb.Subnets) == 0 {
		out.AvailabilityZones = append(out.AvailabilityZones, AvailabilityZone{ZoneName: zone})
	}
	for _, s := range lb.Subnets {
		out.AvailabilityZones = append(out.AvailabilityZones, AvailabilityZone{ZoneName: zone, SubnetID: s})
	}
	return out
}

// Matcher is ELB's Matcher.
type Matcher struct {
	HTTPCode string `xml:"HttpCode"`
}

// TargetGroup is ELB's TargetGroup shape.
type TargetGroup struct {
	TargetGroupArn             string   `xml:"TargetGroupArn"`
	TargetGroupName            string   `xml:"TargetGroupName"`
	Protocol                   string   `xml:"Protocol"`
	Port                       int32    `xml:"Port"`
	VpcID                      string   `xml:"VpcId,omitempty"`
	HealthCheckProtocol        string   `xml:"HealthCheckProtocol"`
	HealthCheckPort            string   `xml:"HealthCheckPort"`
	HealthCheckEnabled         bool     `xml:"HealthCheckEnabled"`
	HealthCheckIntervalSeconds int32    `xml:"HealthCheckIntervalSeconds"`
	HealthCheckTimeoutSeconds  int32    `xml:"HealthCheckTimeoutSeconds"`
	HealthyThresholdCount      int32    `xml:"HealthyThresholdCount"`
	UnhealthyThresholdCount    int32    `xml:"UnhealthyThresholdCount"`
	HealthCheckPath            string   `xml:"HealthCheckPath,omitempty"`
	Matcher                    *Matcher `xml:"Matcher"`
	LoadBalancerArns           []string `xml:"LoadBalancerArns"`
	TargetType                 string   `xml:"TargetType"`
	ProtocolVersion            string   `xml:"ProtocolVersion,omitempty"`
	IPAddressType              string   `xml:"IpAddressType"`
}

func targetGroupOut(cfg *state.ELBConfig, tg *state.ELBTargetGroup) TargetGroup {
	hc := tg.HealthCheck
	out := TargetGroup{TargetGroupArn: tg.Arn, TargetGroupName: tg.Name, Protocol: tg.Protocol, Port: tg.Port, VpcID: tg.VpcID,
		HealthCheckProtocol: hc.Protocol, HealthCheckPort: hc.Port, HealthCheckEnabled: hc.Enabled,
		HealthCheckIntervalSeconds: hc.IntervalSeconds, HealthCheckTimeoutSeconds: hc.TimeoutSeconds,
		HealthyThresholdCount: hc.HealthyThreshold, UnhealthyThresholdCount: hc.UnhealthyThreshold, HealthCheckPath: hc.Path,
		LoadBalancerArns: cfg.LoadBalancersOf(tg.Arn), TargetType: tg.TargetType, ProtocolVersion: tg.ProtocolVersion, IPAddressType: tg.IPAddressType}
	if hc.Matcher != "" {
		out.Matcher = &Matcher{HTTPCode: hc.Matcher}
	}
	return out
}

// Certificate is ELB's Certificate.
type Certificate struct {
	CertificateArn string `xml:"CertificateArn"`
	IsDefault      *bool  `xml:"IsDefault"`
}

// TargetGroupTuple is ELB's TargetGroupTuple.
type TargetGroupTuple struct {
	TargetGroupArn string `xml:"TargetGroupArn"`
	Weight         int32  `xml:"Weight"`
}

// Stickiness is ELB's TargetGroupStickinessConfig.
type Stickiness struct {
	Enabled         bool   `xml:"Enabled"`
	DurationSeconds *int32 `xml:"DurationSeconds"`
}

// ForwardConfig is ELB's ForwardActionConfig.
type ForwardConfig struct {
	TargetGroups                []TargetGroupTuple `xml:"TargetGroups"`
	TargetGroupStickinessConfig Stickiness         `xml:"TargetGroupStickinessConfig"`
}

// FixedResponseConfig is ELB's FixedResponseActionConfig.
type FixedResponseConfig struct {
	StatusCode  string `xml:"StatusCode"`
	ContentType string `xml:"ContentType,omitempty"`
	MessageBody string `xml:"MessageBody,omitempty"`
}

// RedirectConfig is ELB's RedirectActionConfig.
type RedirectConfig struct {
	Protocol   string `xml:"Protocol"`
	Port       string `xml:"Port"`
	Host       string `xml:"Host"`
	Path       string `xml:"Path"`
	Query      string `xml:"Query"`
	StatusCode string `xml:"StatusCode"`
}

// Action is ELB's Action.
type Action struct {
	Type                string               `xml:"Type"`
	Order               int32                `xml:"Order,omitempty"`
	TargetGroupArn      string               `xml:"TargetGroupArn,omitempty"`
	ForwardConfig       *ForwardConfig       `xml:"ForwardConfig"`
	FixedResponseConfig *FixedResponseConfig `xml:"FixedResponseConfig"`
	RedirectConfig      *RedirectConfig      `xml:"RedirectConfig"`
}

func actionsOut(actions []state.ELBAction) []Action {
	out := make([]Action, 0, len(actions))
	for _, a := range actions {
		o := Action{Type: a.Type, Order: a.Order}
		if f := a.Forward; f != nil {
			fc := &ForwardConfig{TargetGroups: []TargetGroupTuple{}, TargetGroupStickinessConfig: Stickiness{Enabled: f.Stickiness}}
			if f.Stickiness {
				d := f.StickinessDurationSeconds
				fc.TargetGroupStickinessConfig.DurationSeconds = &d
			}
			for _, tg := range f.TargetGroups {
				fc.TargetGroups = append(fc.TargetGroups, TargetGroupTuple{TargetGroupArn: tg.Arn, Weight: tg.Weight})
			}
			o.ForwardConfig = fc
			if len(f.TargetGroups) == 1 {
				o.TargetGroupArn = f.TargetGroups[0].Arn
			}
		}
		if r := a.FixedResponse; r != nil {
			o.FixedResponseConfig = &FixedResponseConfig{StatusCode: r.StatusCode, ContentType: r.ContentType, MessageBody: r.MessageBody}
		}
		if r := a.Redirect; r != nil {
			o.RedirectConfig = &RedirectConfig{Protocol: r.Protocol, Port: r.Port, Host: r.Host, Path: r.Path, Query: r.Query, StatusCode: r.StatusCode}
		}
		out = append(out, o)
	}
	return out
}

// Listener is ELB's Listener shape.
type Listener struct {
	ListenerArn     string        `xml:"ListenerArn"`
	LoadBalancerArn string        `xml:"LoadBalancerArn"`
	Port            int32         `xml:"Port"`
	Protocol        string        `xml:"Protocol"`
	Certificates    []Certificate `xml:"Certificates,omitempty"`
	SslPolicy       string        `xml:"SslPolicy,omitempty"`
	DefaultActions  []Action      `xml:"DefaultActions"`
	AlpnPolicy      []string      `xml:"AlpnPolicy,omitempty"`
}

func listenerOut(l *state.ELBListener) Listener {
	out := Listener{ListenerArn: l.Arn, LoadBalancerArn: l.LoadBalancerArn, Port: l.Port, Protocol: l.Protocol,
		SslPolicy: l.SslPolicy, DefaultActions: actionsOut(l.DefaultActions), AlpnPolicy: l.AlpnPolicy}
	for _, c := range l.Certificates {
		if c.IsDefault {
			// ELB lists only the default certificate here (the others with
			// DescribeListenerCertificates).
			out.Certificates = append(out.Certificates, Certificate{CertificateArn: c.Arn})
		}
	}
	return out
}

// Values is a condition config's Values.
type Values struct {
	Values []string `xml:"Values"`
}

// HTTPHeaderConfig is ELB's HttpHeaderConditionConfig.
type HTTPHeaderConfig struct {
	HTTPHeaderName string   `xml:"HttpHeaderName"`
	Values         []string `xml:"Values"`
}

// KeyValue is ELB's QueryStringKeyValuePair.
type KeyValue struct {
	Key   string `xml:"Key,omitempty"`
	Value string `xml:"Value"`
}

// QueryStringConfig is ELB's QueryStringConditionConfig.
type QueryStringConfig struct {
	Values []KeyValue `xml:"Values"`
}

// Condition is ELB's RuleCondition: Values for path-pattern and
// host-header, as ELB answers, and the config of each field.
type Condition struct {
	Field                   string             `xml:"Field"`
	Values                  []string           `xml:"Values,omitempty"`
	HostHeaderConfig        *Values            `xml:"HostHeaderConfig"`
	PathPatternConfig       *Values            `xml:"PathPatternConfig"`
	HTTPHeaderConfig        *HTTPHeaderConfig  `xml:"HttpHeaderConfig"`
	QueryStringConfig       *QueryStringConfig `xml:"QueryStringConfig"`
	HTTPRequestMethodConfig *Values            `xml:"HttpRequestMethodConfig"`
	SourceIPConfig          *Values            `xml:"SourceIpConfig"`
}

func conditionsOut(conds []state.ELBCondition) []Condition {
	out := make([]Condition, 0, len(conds))
	for _, c := range conds {
		o := Condition{Field: c.Field}
		vals := &Values{Values: slices.Clone(c.Values)}
		switch c.Field {
		case "path-pattern":
			o.Values, o.PathPatternConfig = c.Values, vals
		case "host-header":
			o.Values, o.HostHeaderConfig = c.Values, vals
		case "http-header":
			o.HTTPHeaderConfig = &HTTPHeaderConfig{HTTPHeaderName: c.HeaderName, Values: c.Values}
		case "http-request-method":
			o.HTTPRequestMethodConfig = vals
		case "source-ip":
			o.SourceIPConfig = vals
		case "query-string":
			q := &QueryStringConfig{Values: []KeyValue{}}
			for _, kv := range c.QueryStrings {
				q.Values = append(q.Values, KeyValue{Key: kv.Key, Value: kv.Value})
			}
			o.QueryStringConfig = q
		}
		out = append(out, o)
	}
	return out
}

// Rule is ELB's Rule shape.
type Rule struct {
	RuleArn    string      `xml:"RuleArn"`
	Priority   string      `xml:"Priority"`
	Conditions []Condition `xml:"Conditions"`
	Actions    []Action    `xml:"Actions"`
	IsDefault  bool        `xml:"IsDefault"`
}

func ruleOut(r *state.ELBRule) Rule {
	return Rule{RuleArn: r.Arn, Priority: strconv.Itoa(r.Priority), Conditions: conditionsOut(r.Conditions), Actions: actionsOut(r.Actions)}
}

func defaultRuleOut(l *state.ELBListener) Rule {
	return Rule{RuleArn: l.DefaultRuleArn, Priority: "default", Conditions: []Condition{}, Actions: actionsOut(l.DefaultActions), IsDefault: true}
}

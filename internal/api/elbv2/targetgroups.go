package elbv2

import (
	"context"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/state"
)

// checkProtocol refuses a protocol Flotta's load balancer does not serve:
// ELB's other protocols (TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC) are
// UnsupportedProtocol, anything else is not a protocol at all.
func checkProtocol(p, member string) error {
	switch p {
	case "HTTP", "HTTPS", "TCP":
		return nil
	case "TLS", "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC":
		return fail(CodeUnsupportedProtocol, "Protocol '%s' is not supported by Flotta's load balancers; they serve HTTP, HTTPS and TCP", p)
	}
	return invalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC]", p, member)
}

func checkPort(p *int32, member string) error {
	if p == nil {
		return nil
	}
	if *p < 1 {
		return invalid("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to 1", *p, member)
	}
	if *p > 65535 {
		return invalid("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to 65535", *p, member)
	}
	return nil
}

type createTargetGroupIn struct {
	Name            string
	Protocol        string
	ProtocolVersion string
	Port            *int32
	VpcID           string `query:"VpcId"`
	TargetType      string
	IPAddressType   string `query:"IpAddressType"`
	healthCheckIn
	Tags []tagIn
}

type targetGroupsOut struct {
	TargetGroups []TargetGroup `xml:"TargetGroups"`
	NextMarker   string        `xml:"NextMarker,omitempty"`
}

// CreateTargetGroup makes a target group, or answers with the one of that
// name when it has the same settings.
func (a *API) CreateTargetGroup(ctx context.Context, in *createTargetGroupIn) (*targetGroupsOut, error) {
	if err := checkName(in.Name, "Target group"); err != nil {
		return nil, err
	}
	targetType := cmpOr(in.TargetType, "instance")
	switch targetType {
	case "instance", "ip":
	case "lambda", "alb":
		return nil, fail(CodeInvalidConfiguration, "Flotta's target groups have target type 'instance' or 'ip', not '%s'", targetType)
	default:
		return nil, invalid("1 validation error detected: Value '%s' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [instance, ip, lambda, alb]", in.TargetType)
	}
	if in.Protocol == "" {
		return nil, invalid("A protocol must be specified")
	}
	if err := checkProtocol(in.Protocol, "protocol"); err != nil {
		return nil, err
	}
	if in.Port == nil {
		return nil, invalid("A port must be specified")
	}
	if err := checkPort(in.Port, "port"); err != nil {
		return nil, err
	}
	version := ""
	if in.Protocol != "TCP" {
		version = cmpOr(in.ProtocolVersion, "HTTP1")
		if version != "HTTP1" {
			return nil, fail(CodeInvalidConfiguration, "Flotta's target groups speak protocol version HTTP1, not '%s'", version)
		}
	} else if in.ProtocolVersion != "" {
		return nil, invalid("A protocol version can only be specified for HTTP and HTTPS target groups")
	}
	ipType := cmpOr(in.IPAddressType, "ipv4")
	if ipType != "ipv4" && ipType != "ipv6" {
		return nil, invalid("1 validation error detected: Value '%s' at 'ipAddressType' failed to satisfy constraint: Member must satisfy enum value set: [ipv4, ipv6]", in.IPAddressType)
	}
	hcProtocol := in.Protocol
	if in.HealthCheckProtocol != "" {
		hcProtocol = in.HealthCheckProtocol
	}
	if hcProtocol == "TCP" && in.Protocol != "TCP" {
		return nil, invalid("Health check protocol '%s' is not supported for target groups with the protocol '%s'", hcProtocol, in.Protocol)
	}
	hc, err := healthCheck(in.Protocol, defaultHealthCheck(in.Protocol, hcProtocol), in.healthCheckIn)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	var made *state.ELBTargetGroup
	cfg, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		for _, tg := range tx.Config.TargetGroups {
			if tg.Name != in.Name {
				continue
			}
			if tg.Protocol == in.Protocol && tg.Port == *in.Port && tg.TargetType == targetType && tg.VpcID == in.VpcID && tg.HealthCheck == hc {
				made = tg
				return nil
			}
			return fail(CodeDuplicateTargetGroup, "A target group with the same name '%s' exists, but with different settings", in.Name)
		}
		if len(tx.Config.TargetGroups) >= MaxTargetGroups {
			return fail(CodeTooManyTargetGroups, "The maximum number of target groups (%d) has been reached", MaxTargetGroups)
		}
		attrs := defaults(tgAttrSpecs(in.Protocol))
		if in.Protocol == "TCP" && targetType == "ip" {
			// Client IP preservation is off by default for IP targets of a
			// TCP group, on for instance targets (the Network Load Balancer
			// guide, "Edit target group attributes").
			attrs["preserve_client_ip.enabled"] = "false"
		}
		made = &state.ELBTargetGroup{Arn: a.arn("targetgroup/" + in.Name + "/" + a.newID()), Name: in.Name, Protocol: in.Protocol,
			ProtocolVersion: version, Port: *in.Port, TargetType: targetType, IPAddressType: ipType, VpcID: in.VpcID, HealthCheck: hc,
			Attributes: attrs, CreatedTime: a.now(), Tags: tags}
		tx.Config.TargetGroups[made.Arn] = made
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &targetGroupsOut{TargetGroups: []TargetGroup{targetGroupOut(cfg, made)}}, nil
}

type describeTargetGroupsIn struct {
	LoadBalancerArn string
	TargetGroupArns []string
	Names           []string
	Marker          string
	PageSize        *int
}

// DescribeTargetGroups lists target groups: those named, those a load
// balancer uses, or all, by name.
func (a *API) DescribeTargetGroups(ctx context.Context, in *describeTargetGroupsIn) (*targetGroupsOut, error) {
	filters := 0
	for _, set := range []bool{in.LoadBalancerArn != "", len(in.TargetGroupArns) > 0, len(in.Names) > 0} {
		if set {
			filters++
		}
	}
	if filters > 1 {
		return nil, invalid("Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time")
	}
	cfg, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	var tgs []*state.ELBTargetGroup
	switch {
	case in.LoadBalancerArn != "":
		if _, err := findLoadBalancer(cfg, in.LoadBalancerArn); err != nil {
			return nil, err
		}
		for _, tg := range cfg.TargetGroups {
			if slices.Contains(cfg.LoadBalancersOf(tg.Arn), in.LoadBalancerArn) {
				tgs = append(tgs, tg)
			}
		}
	case len(in.TargetGroupArns) > 0:
		for _, arn := range in.TargetGroupArns {
			if err := checkARN(arn, "targetgroup", "target group"); err != nil {
				return nil, err
			}
			tg := cfg.TargetGroups[arn]
			if tg == nil {
				return nil, fail(CodeTargetGroupNotFound, "One or more target groups not found")
			}
			tgs = append(tgs, tg)
		}
	case len(in.Names) > 0:
		all := values(cfg.TargetGroups)
		for _, name := range in.Names {
			i := slices.IndexFunc(all, func(tg *state.ELBTargetGroup) bool { return tg.Name == name })
			if i < 0 {
				return nil, fail(CodeTargetGroupNotFound, "One or more target groups not found")
			}
			tgs = append(tgs, all[i])
		}
	default:
		tgs = values(cfg.TargetGroups)
	}
	key := func(tg *state.ELBTargetGroup) string { return sortKey(tg.Name, tg.Arn) }
	slices.SortFunc(tgs, func(x, y *state.ELBTargetGroup) int { return strings.Compare(key(x), key(y)) })
	got, next, err := page(tgs, key, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &targetGroupsOut{TargetGroups: []TargetGroup{}, NextMarker: next}
	for _, tg := range got {
		out.TargetGroups = append(out.TargetGroups, targetGroupOut(cfg, tg))
	}
	return out, nil
}

type modifyTargetGroupIn struct {
	TargetGroupArn string
	healthCheckIn
}

// ModifyTargetGroup changes a target group's health check.
func (a *API) ModifyTargetGroup(ctx context.Context, in *modifyTargetGroupIn) (*targetGroupsOut, error) {
	var tg *state.ELBTargetGroup
	cfg, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		var err error
		if tg, err = findTargetGroup(tx.Config, in.TargetGroupArn); err != nil {
			return err
		}
		tg.HealthCheck, err = healthCheck(tg.Protocol, tg.HealthCheck, in.healthCheckIn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &targetGroupsOut{TargetGroups: []TargetGroup{targetGroupOut(cfg, tg)}}, nil
}

type targetGroupArnIn struct {
	TargetGroupArn string
}

// DeleteTargetGroup deletes a target group that no listener or rule uses;
// one already gone is no error.
func (a *API) DeleteTargetGroup(ctx context.Context, in *targetGroupArnIn) (*struct{}, error) {
	if in.TargetGroupArn == "" {
		return nil, needed("targetGroupArn")
	}
	if err := checkARN(in.TargetGroupArn, "targetgroup", "target group"); err != nil {
		return nil, err
	}
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		if tx.Config.TargetGroups[in.TargetGroupArn] == nil {
			return nil
		}
		if len(tx.Config.LoadBalancersOf(in.TargetGroupArn)) > 0 {
			return fail(CodeResourceInUse, "Target group '%s' is currently in use by a listener or a rule", in.TargetGroupArn)
		}
		delete(tx.Config.TargetGroups, in.TargetGroupArn)
		return nil
	})
	return nil, err
}

// DescribeTargetGroupAttributes lists a target group's attributes.
func (a *API) DescribeTargetGroupAttributes(ctx context.Context, in *targetGroupArnIn) (*attributesOutShape, error) {
	cfg, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	tg, err := findTargetGroup(cfg, in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	return &attributesOutShape{Attributes: attributesOut(tg.Attributes)}, nil
}

type modifyTargetGroupAttributesIn struct {
	TargetGroupArn string
	Attributes     []Attribute
}

// ModifyTargetGroupAttributes changes attributes and answers with all of
// them.
func (a *API) ModifyTargetGroupAttributes(ctx context.Context, in *modifyTargetGroupAttributesIn) (*attributesOutShape, error) {
	var attrs map[string]string
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		tg, err := findTargetGroup(tx.Config, in.TargetGroupArn)
		if err != nil {
			return err
		}
		if attrs, err = applyAttributes("Target group", tgAttrSpecs(tg.Protocol), tg.Attributes, in.Attributes); err != nil {
			return err
		}
		tg.Attributes = attrs
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &attributesOutShape{Attributes: attributesOut(attrs)}, nil
}

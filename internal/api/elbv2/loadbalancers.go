package elbv2

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/state"
)

// DNSDomain is the domain under which Flotta names load balancers:
// NAME-ID.REGION.elb.localhost (internal-NAME-ID... for internal ones), ELB's
// pattern with ID the first 10 hex digits of the ARN's id. Names under
// .localhost resolve to the loopback address on most systems, so a
// load balancer that runs on the caller's machine answers at its DNSName;
// Flotta's DNS server may answer for them elsewhere.
const DNSDomain = "elb.localhost"

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

// checkName applies ELB's rules for load balancer and target group names.
func checkName(name, what string) error {
	switch {
	case name == "":
		return needed("name")
	case len(name) > 32:
		return invalid("%s name '%s' cannot be longer than '32' characters", what, name)
	case !namePattern.MatchString(name):
		return invalid("%s name '%s' can only contain characters that are alphanumeric characters or hyphens(-)", what, name)
	case what == "Target group" && (strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") || strings.Contains(name, "--")):
		// ELB checks a target group name against a pattern that also
		// refuses two hyphens in a row, and says so in Coral's words (moto's
		// tests/test_elbv2/test_elbv2_target_groups.py records the text).
		return invalid("1 validation error detected: Value '%s' at 'targetGroup.targetGroupArn.targetGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!.*--)(?!^-)(?!.*-$)^[A-Za-z0-9-]+$", name)
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return invalid("%s name '%s' cannot begin or end with '-'", what, name)
	case what == "Load balancer" && strings.HasPrefix(name, "internal-"):
		return invalid("Load balancer name '%s' cannot begin with 'internal-'", name)
	}
	return nil
}

type createLoadBalancerIn struct {
	Name           string
	Type           string
	Scheme         string
	IPAddressType  string `query:"IpAddressType"`
	Subnets        []string
	SubnetMappings []struct {
		SubnetID string `query:"SubnetId"`
	}
	SecurityGroups []string
	Tags           []tagIn
}

type loadBalancersOut struct {
	LoadBalancers []LoadBalancer `xml:"LoadBalancers"`
	NextMarker    string         `xml:"NextMarker,omitempty"`
}

// CreateLoadBalancer makes a load balancer, or answers with the one of that
// name when it has the same settings (ELB's create is idempotent).
func (a *API) CreateLoadBalancer(ctx context.Context, in *createLoadBalancerIn) (*loadBalancersOut, error) {
	if err := checkName(in.Name, "Load balancer"); err != nil {
		return nil, err
	}
	lbType := cmpOr(in.Type, "application")
	switch lbType {
	case "application", "network":
	case "gateway":
		return nil, fail(CodeInvalidConfiguration, "Flotta serves load balancers of type 'application' and 'network', not 'gateway'")
	default:
		return nil, invalid("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [application, network, gateway]", in.Type)
	}
	scheme := cmpOr(in.Scheme, "internet-facing")
	if scheme != "internet-facing" && scheme != "internal" {
		return nil, invalid("1 validation error detected: Value '%s' at 'scheme' failed to satisfy constraint: Member must satisfy enum value set: [internet-facing, internal]", in.Scheme)
	}
	ipType := cmpOr(in.IPAddressType, "ipv4")
	if ipType != "ipv4" && ipType != "dualstack" {
		return nil, invalid("1 validation error detected: Value '%s' at 'ipAddressType' failed to satisfy constraint: Member must satisfy enum value set: [ipv4, dualstack, dualstack-without-public-ipv4]", in.IPAddressType)
	}
	tags, err := checkTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	subnets := slices.Clone(in.Subnets)
	for _, m := range in.SubnetMappings {
		subnets = append(subnets, m.SubnetID)
	}
	var made *state.ELBLoadBalancer
	fresh := false
	_, err = a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		fresh = false
		for _, lb := range tx.Config.LoadBalancers {
			if lb.Name != in.Name {
				continue
			}
			if lb.Type == lbType && lb.Scheme == scheme && lb.IPAddressType == ipType {
				made = lb
				return nil
			}
			return fail(CodeDuplicateLoadBalancer, "A load balancer with the same name '%s' exists, but with different settings", in.Name)
		}
		if len(tx.Config.LoadBalancers) >= MaxLoadBalancers {
			return fail(CodeTooManyLoadBalancers, "The maximum number of load balancers has been reached")
		}
		id := a.newID()
		dns := fmt.Sprintf("%s-%s.%s.%s", in.Name, id[:10], a.State.Scope.Region, DNSDomain)
		if scheme == "internal" {
			dns = "internal-" + dns
		}
		attrs := defaults(lbAttrSpecs(lbType))
		if scheme == "internal" {
			// ELB blocks internet gateway access to an internal load
			// balancer by default (API_LoadBalancerAttribute).
			attrs["ipv6.deny_all_igw_traffic"] = "true"
		}
		made = &state.ELBLoadBalancer{Arn: a.arn("loadbalancer/" + typeSegment(lbType) + "/" + in.Name + "/" + id), Name: in.Name,
			Type: lbType, Scheme: scheme, DNSName: strings.ToLower(dns), IPAddressType: ipType, Subnets: subnets,
			SecurityGroups: in.SecurityGroups, CreatedTime: a.now(), Attributes: attrs, Tags: tags}
		tx.Config.LoadBalancers[made.Arn] = made
		fresh = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := loadBalancerOut(made, a.zone())
	if fresh {
		// "The initial state of the load balancer is provisioning"
		// (API_LoadBalancerState); Flotta's is ready at once, so
		// DescribeLoadBalancers answers active from then on.
		out.State.Code = "provisioning"
	}
	return &loadBalancersOut{LoadBalancers: []LoadBalancer{out}}, nil
}

// zone is the one availability zone Flotta reports: REGIONa.
func (a *API) zone() string { return a.State.Scope.Region + "a" }

type describeLoadBalancersIn struct {
	LoadBalancerArns []string
	Names            []string
	Marker           string
	PageSize         *int
}

// DescribeLoadBalancers lists load balancers, or those named, by name.
func (a *API) DescribeLoadBalancers(ctx context.Context, in *describeLoadBalancersIn) (*loadBalancersOut, error) {
	if len(in.LoadBalancerArns) > 0 && len(in.Names) > 0 {
		return nil, invalid("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	cfg, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	var lbs []*state.ELBLoadBalancer
	switch {
	case len(in.LoadBalancerArns) > 0:
		for _, arn := range in.LoadBalancerArns {
			if err := checkARN(arn, "loadbalancer", "load balancer"); err != nil {
				return nil, err
			}
			lb := cfg.LoadBalancers[arn]
			if lb == nil {
				return nil, fail(CodeLoadBalancerNotFound, "One or more load balancers not found")
			}
			lbs = append(lbs, lb)
		}
	case len(in.Names) > 0:
		for _, name := range in.Names {
			all := values(cfg.LoadBalancers)
			i := slices.IndexFunc(all, func(lb *state.ELBLoadBalancer) bool { return lb.Name == name })
			if i < 0 {
				return nil, fail(CodeLoadBalancerNotFound, "One or more load balancers not found")
			}
			lbs = append(lbs, all[i])
		}
	default:
		lbs = values(cfg.LoadBalancers)
	}
	key := func(lb *state.ELBLoadBalancer) string { return sortKey(lb.Name, lb.Arn) }
	slices.SortFunc(lbs, func(x, y *state.ELBLoadBalancer) int { return strings.Compare(key(x), key(y)) })
	got, next, err := page(lbs, key, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &loadBalancersOut{LoadBalancers: []LoadBalancer{}, NextMarker: next}
	for _, lb := range got {
		out.LoadBalancers = append(out.LoadBalancers, loadBalancerOut(lb, a.zone()))
	}
	return out, nil
}

type loadBalancerArnIn struct {
	LoadBalancerArn string
}

// DeleteLoadBalancer deletes a load balancer with its listeners and their
// rules; its target groups stay. A load balancer already gone is no error,
// as in ELB.
func (a *API) DeleteLoadBalancer(ctx context.Context, in *loadBalancerArnIn) (*struct{}, error) {
	if in.LoadBalancerArn == "" {
		return nil, needed("loadBalancerArn")
	}
	if err := checkARN(in.LoadBalancerArn, "loadbalancer", "load balancer"); err != nil {
		return nil, err
	}
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		cfg := tx.Config
		lb := cfg.LoadBalancers[in.LoadBalancerArn]
		if lb == nil {
			return nil
		}
		if lb.Attributes["deletion_protection.enabled"] == "true" {
			return fail(CodeOperationNotPermitted, "Load balancer '%s' cannot be deleted because deletion protection is enabled", lb.Arn)
		}
		for _, l := range cfg.ListenersOf(lb.Arn) {
			deleteListener(cfg, l)
		}
		delete(cfg.LoadBalancers, lb.Arn)
		return nil
	})
	return nil, err
}

// deleteListener removes a listener and its rules from cfg.
func deleteListener(cfg *state.ELBConfig, l *state.ELBListener) {
	for _, r := range cfg.RulesOf(l.Arn) {
		delete(cfg.Rules, r.Arn)
	}
	delete(cfg.Listeners, l.Arn)
}

type attributesOutShape struct {
	Attributes []Attribute `xml:"Attributes"`
}

// DescribeLoadBalancerAttributes lists a load balancer's attributes.
func (a *API) DescribeLoadBalancerAttributes(ctx context.Context, in *loadBalancerArnIn) (*attributesOutShape, error) {
	cfg, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	lb, err := findLoadBalancer(cfg, in.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	return &attributesOutShape{Attributes: attributesOut(lb.Attributes)}, nil
}

type modifyLoadBalancerAttributesIn struct {
	LoadBalancerArn string
	Attributes      []Attribute
}

// ModifyLoadBalancerAttributes changes attributes and answers with all of
// them.
func (a *API) ModifyLoadBalancerAttributes(ctx context.Context, in *modifyLoadBalancerAttributesIn) (*attributesOutShape, error) {
	var attrs map[string]string
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		lb, err := findLoadBalancer(tx.Config, in.LoadBalancerArn)
		if err != nil {
			return err
		}
		if attrs, err = applyAttributes("Load balancer", lbAttrSpecs(lb.Type), lb.Attributes, in.Attributes); err != nil {
			return err
		}
		lb.Attributes = attrs
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &attributesOutShape{Attributes: attributesOut(attrs)}, nil
}

// values are a map's values, in no order.
func values[T any](m map[string]*T) []*T {
	out := make([]*T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

package elbv2

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/flotta-dev/flotta/internal/state"
)

// A load balancer's network settings, which Flotta keeps and shows
// (it has no VPC for them to act on), and the account's limits and
// security policies.

type setSecurityGroupsIn struct {
	LoadBalancerArn string
	SecurityGroups  []string
}

type setSecurityGroupsOut struct {
	SecurityGroupIDs []string `xml:"SecurityGroupIds"`
}

// SetSecurityGroups replaces a load balancer's security groups.
func (a *API) SetSecurityGroups(ctx context.Context, in *setSecurityGroupsIn) (*setSecurityGroupsOut, error) {
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		lb, err := findLoadBalancer(tx.Config, in.LoadBalancerArn)
		if err != nil {
			return err
		}
		lb.SecurityGroups = slices.Clone(in.SecurityGroups)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &setSecurityGroupsOut{SecurityGroupIDs: append([]string{}, in.SecurityGroups...)}, nil
}

type setSubnetsIn struct {
	LoadBalancerArn string
	Subnets         []string
	SubnetMappings  []struct {
		SubnetID string `query:"SubnetId"`
	}
	IPAddressType string `query:"IpAddressType"`
}

type setSubnetsOut struct {
	AvailabilityZones []AvailabilityZone `xml:"AvailabilityZones"`
	IPAddressType     string             `xml:"IpAddressType,omitempty"`
}

// SetSubnets replaces a load balancer's subnets.
func (a *API) SetSubnets(ctx context.Context, in *setSubnetsIn) (*setSubnetsOut, error) {
	if in.IPAddressType != "" {
		if err := checkIPAddressType(in.IPAddressType); err != nil {
			return nil, err
		}
	}
	var out LoadBalancer
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		lb, err := findLoadBalancer(tx.Config, in.LoadBalancerArn)
		if err != nil {
			return err
		}
		lb.Subnets = slices.Clone(in.Subnets)
		for _, m := range in.SubnetMappings {
			lb.Subnets = append(lb.Subnets, m.SubnetID)
		}
		lb.IPAddressType = cmpOr(in.IPAddressType, lb.IPAddressType)
		out = loadBalancerOut(lb, a.zone())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &setSubnetsOut{AvailabilityZones: out.AvailabilityZones, IPAddressType: out.IPAddressType}, nil
}

type setIPAddressTypeIn struct {
	LoadBalancerArn string
	IPAddressType   string `query:"IpAddressType"`
}

type setIPAddressTypeOut struct {
	IPAddressType string `xml:"IpAddressType"`
}

// SetIpAddressType changes a load balancer's IP address type.
func (a *API) SetIpAddressType(ctx context.Context, in *setIPAddressTypeIn) (*setIPAddressTypeOut, error) {
	if err := checkIPAddressType(in.IPAddressType); err != nil {
		return nil, err
	}
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		lb, err := findLoadBalancer(tx.Config, in.LoadBalancerArn)
		if err != nil {
			return err
		}
		lb.IPAddressType = in.IPAddressType
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &setIPAddressTypeOut{IPAddressType: in.IPAddressType}, nil
}

func checkIPAddressType(t string) error {
	if t != "ipv4" && t != "dualstack" {
		return invalid("1 validation error detected: Value '%s' at 'ipAddressType' failed to satisfy constraint: Member must satisfy enum value set: [ipv4, dualstack, dualstack-without-public-ipv4]", t)
	}
	return nil
}

type pageIn struct {
	Marker   string
	PageSize *int
}

// Limit is ELB's Limit.
type Limit struct {
	Name string `xml:"Name"`
	Max  string `xml:"Max"`
}

type limitsOut struct {
	Limits     []Limit `xml:"Limits"`
	NextMarker string  `xml:"NextMarker,omitempty"`
}

// DescribeAccountLimits lists the quotas Flotta enforces, in ELB's names.
func (a *API) DescribeAccountLimits(_ context.Context, in *pageIn) (*limitsOut, error) {
	limits := []Limit{
		{"application-load-balancers", strconv.Itoa(MaxLoadBalancers)},
		{"certificates-per-application-load-balancer", strconv.Itoa(MaxCertificatesPerListener)},
		{"listeners-per-application-load-balancer", strconv.Itoa(MaxListenersPerLB)},
		{"listeners-per-network-load-balancer", strconv.Itoa(MaxListenersPerLB)},
		{"network-load-balancers", strconv.Itoa(MaxLoadBalancers)},
		{"rules-per-application-load-balancer", strconv.Itoa(MaxRulesPerLB)},
		{"target-groups", strconv.Itoa(MaxTargetGroups)},
		{"targets-per-application-load-balancer", strconv.Itoa(MaxTargetsPerGroup)},
		{"targets-per-network-load-balancer", strconv.Itoa(MaxTargetsPerGroup)},
	}
	got, next, err := page(limits, func(l Limit) string { return l.Name }, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &limitsOut{Limits: got, NextMarker: next}, nil
}

// SslPolicy is ELB's SslPolicy.
type SslPolicy struct {
	Name                       string   `xml:"Name"`
	SslProtocols               []string `xml:"SslProtocols"`
	SupportedLoadBalancerTypes []string `xml:"SupportedLoadBalancerTypes"`
}

type sslPoliciesIn struct {
	Names            []string
	LoadBalancerType string
	Marker           string
	PageSize         *int
}

type sslPoliciesOut struct {
	SslPolicies []SslPolicy `xml:"SslPolicies"`
	NextMarker  string      `xml:"NextMarker,omitempty"`
}

// sslProtocols are the TLS versions each policy allows (the data plane
// maps each to a TLS configuration; Flotta does not list ciphers).
func sslProtocols(policy string) []string {
	switch policy {
	case "ELBSecurityPolicy-2016-08":
		return []string{"TLSv1", "TLSv1.1", "TLSv1.2"}
	case "ELBSecurityPolicy-TLS13-1-3-2021-06":
		return []string{"TLSv1.3"}
	case "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06":
		return []string{"TLSv1.2", "TLSv1.3"}
	}
	return []string{"TLSv1.2"}
}

// DescribeSSLPolicies lists the security policies HTTPS listeners take.
func (a *API) DescribeSSLPolicies(_ context.Context, in *sslPoliciesIn) (*sslPoliciesOut, error) {
	if in.LoadBalancerType == "network" {
		return &sslPoliciesOut{SslPolicies: []SslPolicy{}}, nil
	}
	names := sslPolicies
	if len(in.Names) > 0 {
		for _, n := range in.Names {
			if !slices.Contains(sslPolicies, n) {
				return nil, fail(CodeSSLPolicyNotFound, "One or more SSL policies not found")
			}
		}
		names = in.Names
	}
	var all []SslPolicy
	for _, n := range names {
		all = append(all, SslPolicy{Name: n, SslProtocols: sslProtocols(n), SupportedLoadBalancerTypes: []string{"application"}})
	}
	slices.SortFunc(all, func(x, y SslPolicy) int { return strings.Compare(x.Name, y.Name) })
	got, next, err := page(all, func(p SslPolicy) string { return p.Name }, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &sslPoliciesOut{SslPolicies: append([]SslPolicy{}, got...), NextMarker: next}, nil
}

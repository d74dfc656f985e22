// Package elbv2 serves the Elastic Load Balancing v2 API (application and
// network load balancers, target groups and their targets, listeners and
// their rules, tags and attributes) on the AWS Query protocol, as
// aws-sdk-go-v2's elasticloadbalancingv2 client, the AWS CLI and boto3 speak
// it. It owns ELB's rules: validation, defaults and ELB's error codes and
// words. Its records live in package state (UpdateELB commits each write in
// one transaction); the load balancer data plane follows them there and
// writes the health observations DescribeTargetHealth shows.
package elbv2

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol/query"
	"github.com/flotta-dev/flotta/internal/state"
)

// The protocol's version and namespace.
const (
	Version   = "2015-12-01"
	Namespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
)

// API answers ELBv2.
type API struct {
	State *state.State
	// Now tells the time (deregistration deadlines, creation times); nil
	// means time.Now.
	Now func() time.Time
	// Rand makes resource ids; nil means crypto/rand.
	Rand io.Reader
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

// newID is a resource id: 16 hex digits, as ELB's ARNs end.
func (a *API) newID() string {
	r := a.Rand
	if r == nil {
		r = rand.Reader
	}
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		panic(fmt.Sprintf("elbv2: read random id: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// Service is the ELBv2 API for the query router.
func (a *API) Service() *query.Service {
	return &query.Service{SigningName: "elasticloadbalancing", Version: Version, Namespace: Namespace,
		ActionPrefix: "elasticloadbalancing", Resources: a.resources,
		Ops: map[string]query.HandlerFunc{
			"CreateLoadBalancer":             query.Op(a.CreateLoadBalancer),
			"DescribeLoadBalancers":          query.Op(a.DescribeLoadBalancers),
			"DeleteLoadBalancer":             query.Op(a.DeleteLoadBalancer),
			"DescribeLoadBalancerAttributes": query.Op(a.DescribeLoadBalancerAttributes),
			"ModifyLoadBalancerAttributes":   query.Op(a.ModifyLoadBalancerAttributes),
			"CreateTargetGroup":              query.Op(a.CreateTargetGroup),
			"DescribeTargetGroups":           query.Op(a.DescribeTargetGroups),
			"ModifyTargetGroup":              query.Op(a.ModifyTargetGroup),
			"DeleteTargetGroup":              query.Op(a.DeleteTargetGroup),
			"DescribeTargetGroupAttributes":  query.Op(a.DescribeTargetGroupAttributes),
			"ModifyTargetGroupAttributes":    query.Op(a.ModifyTargetGroupAttributes),
			"RegisterTargets":                query.Op(a.RegisterTargets),
			"DeregisterTargets":              query.Op(a.DeregisterTargets),
			"DescribeTargetHealth":           query.Op(a.DescribeTargetHealth),
			"CreateListener":                 query.Op(a.CreateListener),
			"DescribeListeners":              query.Op(a.DescribeListeners),
			"ModifyListener":                 query.Op(a.ModifyListener),
			"DeleteListener":                 query.Op(a.DeleteListener),
			"CreateRule":                     query.Op(a.CreateRule),
			"DescribeRules":                  query.Op(a.DescribeRules),
			"ModifyRule":                     query.Op(a.ModifyRule),
			"DeleteRule":                     query.Op(a.DeleteRule),
			"SetRulePriorities":              query.Op(a.SetRulePriorities),
			"AddTags":                        query.Op(a.AddTags),
			"RemoveTags":                     query.Op(a.RemoveTags),
			"DescribeTags":                   query.Op(a.DescribeTags),
			"DescribeListenerAttributes":     query.Op(a.DescribeListenerAttributes),
			"ModifyListenerAttributes":       query.Op(a.ModifyListenerAttributes),
			"AddListenerCertificates":        query.Op(a.AddListenerCertificates),
			"RemoveListenerCertificates":     query.Op(a.RemoveListenerCertificates),
			"DescribeListenerCertificates":   query.Op(a.DescribeListenerCertificates),
			"SetSecurityGroups":              query.Op(a.SetSecurityGroups),
			"SetSubnets":                     query.Op(a.SetSubnets),
			"SetIpAddressType":               query.Op(a.SetIpAddressType),
			"DescribeAccountLimits":          query.Op(a.DescribeAccountLimits),
			"DescribeSSLPolicies":            query.Op(a.DescribeSSLPolicies),
		}}
}

// The error codes ELB answers with (aws-sdk-go-v2's
// elasticloadbalancingv2/types/errors.go).
const (
	CodeValidation            = "ValidationError"
	CodeLoadBalancerNotFound  = "LoadBalancerNotFound"
	CodeTargetGroupNotFound   = "TargetGroupNotFound"
	CodeListenerNotFound      = "ListenerNotFound"
	CodeRuleNotFound          = "RuleNotFound"
	CodeDuplicateLoadBalancer = "DuplicateLoadBalancerName"
	CodeDuplicateTargetGroup  = "DuplicateTargetGroupName"
	CodeDuplicateListener     = "DuplicateListener"
	CodeDuplicateTagKeys      = "DuplicateTagKeys"
	CodePriorityInUse         = "PriorityInUse"
	CodeResourceInUse         = "ResourceInUse"
	CodeInvalidTarget         = "InvalidTarget"
	CodeCertificateNotFound   = "CertificateNotFound"
	CodeIncompatibleProtocols = "IncompatibleProtocols"
	CodeUnsupportedProtocol   = "UnsupportedProtocol"
	CodeInvalidConfiguration  = "InvalidConfigurationRequest"
	CodeInvalidAction         = "InvalidLoadBalancerAction"
	CodeOperationNotPermitted = "OperationNotPermitted"
	CodeSSLPolicyNotFound     = "SSLPolicyNotFound"
	CodeTooManyRules          = "TooManyRules"
	CodeTooManyTargets        = "TooManyTargets"
	CodeTooManyListeners      = "TooManyListeners"
	CodeTooManyTags           = "TooManyTags"
	CodeTooManyLoadBalancers  = "TooManyLoadBalancers"
	CodeTooManyTargetGroups   = "TooManyTargetGroups"
	CodeTooManyCertificates   = "TooManyCertificates"
	CodeTargetGroupAssociated = "TargetGroupAssociationLimit"
)

// Quotas, ELB's defaults per region and per resource.
const (
	MaxLoadBalancers       = 50
	MaxTargetGroups        = 3000
	MaxListenersPerLB      = 50
	MaxRulesPerLB          = 100
	MaxTargetsPerGroup     = 1000
	MaxTagsPerResource     = 50
	MaxConditionValues     = 5
	MaxTargetGroupsPerRule = 5
)

// fail is a refusal in ELB's words (every ELB client error is a 400).
func fail(code, format string, args ...any) error {
	return &model.Error{Code: code, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// invalid is a ValidationError.
func invalid(format string, args ...any) error {
	return fail(CodeValidation, format, args...)
}

// needed refuses a missing required member in Coral's words.
func needed(member string) error {
	return invalid("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// read is the configuration as it is now, for the Describe operations.
func (a *API) read(ctx context.Context) (*state.ELBConfig, error) {
	return a.State.ReadELB(ctx)
}

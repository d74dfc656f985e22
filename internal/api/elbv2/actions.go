package elbv2

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flotta-dev/flotta/internal/state"
)

type actionIn struct {
	Type           string
	Order          *int32
	TargetGroupArn string
	ForwardConfig  *struct {
		TargetGroups []struct {
			TargetGroupArn string
			Weight         *int32
		}
		TargetGroupStickinessConfig *struct {
			Enabled         *bool
			DurationSeconds *int32
		}
	}
	FixedResponseConfig *struct {
		StatusCode  string
		ContentType string
		MessageBody string
	}
	RedirectConfig *struct {
		StatusCode string
		Protocol   string
		Port       string
		Host       string
		Path       string
		Query      string
	}
}

// actionScope is where actions are put: the listener's load balancer and
// protocol, in the configuration being written.
type actionScope struct {
	cfg      *state.ELBConfig
	lb       *state.ELBLoadBalancer
	protocol string
}

var (
	statusPattern = regexp.MustCompile(`^[245][0-9][0-9]$`)
	contentTypes  = []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}
)

// actions checks a listener's or rule's actions by ELB's rules and makes
// their records, in their order: exactly one of forward, redirect or
// fixed-response (a network load balancer only forwards, to one group);
// target groups that exist, speak a protocol the listener can forward to
// and serve no other load balancer.
func (sc actionScope) actions(in []actionIn, member string) ([]state.ELBAction, error) {
	if len(in) == 0 {
		return nil, needed(member)
	}
	if len(in) > 1 {
		return nil, fail(CodeInvalidAction, "A rule or listener can have only one action of type forward, redirect or fixed-response")
	}
	var out []state.ELBAction
	orders := map[int32]bool{}
	for _, a := range in {
		rec := state.ELBAction{Type: a.Type}
		if a.Order != nil {
			if *a.Order < 1 || *a.Order > 50000 {
				return nil, invalid("1 validation error detected: Value '%d' at '%s.member.order' failed to satisfy constraint: Member must have value between 1 and 50000", *a.Order, member)
			}
			if orders[*a.Order] {
				return nil, invalid("The action order '%d' is used more than once", *a.Order)
			}
			orders[*a.Order] = true
			rec.Order = *a.Order
		}
		if sc.lb.Type == "network" && a.Type != "forward" {
			return nil, fail(CodeInvalidAction, "Network load balancers only support the action type 'forward'")
		}
		var err error
		switch a.Type {
		case "forward":
			rec.Forward, err = sc.forward(a)
		case "fixed-response":
			rec.FixedResponse, err = fixedResponse(a)
		case "redirect":
			rec.Redirect, err = redirect(a)
		case "authenticate-oidc", "authenticate-cognito", "jwt-validation":
			err = fail(CodeInvalidAction, "Flotta's load balancers do not support the action type '%s'", a.Type)
		case "":
			err = needed(member + ".member.type")
		default:
			err = invalid("1 validation error detected: Value '%s' at '%s.member.type' failed to satisfy constraint: Member must satisfy enum value set: [forward, authenticate-oidc, authenticate-cognito, redirect, fixed-response, jwt-validation]", a.Type, member)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

func (sc actionScope) forward(a actionIn) (*state.ELBForward, error) {
	f := &state.ELBForward{}
	if a.ForwardConfig == nil {
		if a.TargetGroupArn == "" {
			return nil, invalid("A target group ARN must be specified for a forward action")
		}
		f.TargetGroups, f.Short = []state.ELBWeightedTargetGroup{{Arn: a.TargetGroupArn, Weight: 1}}, true
	} else {
		fc := a.ForwardConfig
		if len(fc.TargetGroups) == 0 {
			return nil, invalid("A forward action's config must name at least one target group")
		}
		if len(fc.TargetGroups) > MaxTargetGroupsPerRule {
			return nil, invalid("A forward action can have at most '%d' target groups", MaxTargetGroupsPerRule)
		}
		for _, t := range fc.TargetGroups {
			w := int32(1)
			if t.Weight != nil {
				if *t.Weight < 0 || *t.Weight > 999 {
					return nil, invalid("1 validation error detected: Value '%d' at 'forwardConfig.targetGroups.member.weight' failed to satisfy constraint: Member must have value between 0 and 999", *t.Weight)
				}
				w = *t.Weight
			}
			if slices.ContainsFunc(f.TargetGroups, func(x state.ELBWeightedTargetGroup) bool { return x.Arn == t.TargetGroupArn }) {
				return nil, invalid("Target group '%s' is specified more than once in the forward action", t.TargetGroupArn)
			}
			f.TargetGroups = append(f.TargetGroups, state.ELBWeightedTargetGroup{Arn: t.TargetGroupArn, Weight: w})
		}
		if a.TargetGroupArn != "" && (len(f.TargetGroups) != 1 || f.TargetGroups[0].Arn != a.TargetGroupArn) {
			return nil, invalid("You cannot specify both a target group ARN and a forward config with other target groups")
		}
		if s := fc.TargetGroupStickinessConfig; s != nil && s.Enabled != nil && *s.Enabled {
			if s.DurationSeconds == nil || *s.DurationSeconds < 1 || *s.DurationSeconds > 604800 {
				return nil, invalid("The target group stickiness duration must be between 1 and 604800 seconds")
			}
			f.Stickiness, f.StickinessDurationSeconds = true, *s.DurationSeconds
		}
	}
	if sc.lb.Type == "network" && len(f.TargetGroups) > 1 {
		return nil, fail(CodeInvalidAction, "Network load balancers can forward to only one target group")
	}
	for _, w := range f.TargetGroups {
		tg, err := findTargetGroup(sc.cfg, w.Arn)
		if err != nil {
			return nil, err
		}
		if (tg.Protocol == "TCP") != (sc.protocol == "TCP") {
			return nil, fail(CodeIncompatibleProtocols, "Listener protocol '%s' is not supported with a target group with the protocol '%s'", sc.protocol, tg.Protocol)
		}
		for _, other := range sc.cfg.LoadBalancersOf(tg.Arn) {
			if other != sc.lb.Arn {
				return nil, fail(CodeTargetGroupAssociated, "The following target groups cannot be associated with more than one load balancer: %s", tg.Arn)
			}
		}
	}
	return f, nil
}

func fixedResponse(a actionIn) (*state.ELBFixedResponse, error) {
	c := a.FixedResponseConfig
	if c == nil {
		return nil, invalid("A fixed response config must be specified for a fixed-response action")
	}
	if !statusPattern.MatchString(c.StatusCode) {
		return nil, invalid("1 validation error detected: Value '%s' at 'fixedResponseConfig.statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$", c.StatusCode)
	}
	if c.ContentType != "" && !slices.Contains(contentTypes, c.ContentType) {
		return nil, invalid("Content type '%s' must be one of '[text/plain, text/css, text/html, application/javascript, application/json]'", c.ContentType)
	}
	if len(c.MessageBody) > 1024 {
		return nil, invalid("1 validation error detected: Value at 'fixedResponseConfig.messageBody' failed to satisfy constraint: Member must have length less than or equal to 1024")
	}
	return &state.ELBFixedResponse{StatusCode: c.StatusCode, ContentType: c.ContentType, MessageBody: c.MessageBody}, nil
}

func redirect(a actionIn) (*state.ELBRedirect, error) {
	c := a.RedirectConfig
	if c == nil {
		return nil, invalid("A redirect config must be specified for a redirect action")
	}
	if c.StatusCode != "HTTP_301" && c.StatusCode != "HTTP_302" {
		return nil, invalid("1 validation error detected: Value '%s' at 'redirectConfig.statusCode' failed to satisfy constraint: Member must satisfy enum value set: [HTTP_301, HTTP_302]", c.StatusCode)
	}
	r := &state.ELBRedirect{StatusCode: c.StatusCode, Protocol: cmpOr(c.Protocol, "#{protocol}"), Port: cmpOr(c.Port, "#{port}"),
		Host: cmpOr(c.Host, "#{host}"), Path: cmpOr(c.Path, "/#{path}"), Query: cmpOr(c.Query, "#{query}")}
	switch r.Protocol {
	case "HTTP", "HTTPS", "#{protocol}":
	default:
		return nil, invalid("Redirect protocol '%s' must be one of 'HTTP', 'HTTPS' or '#{protocol}'", c.Protocol)
	}
	if r.Port != "#{port}" {
		if n, err := strconv.Atoi(r.Port); err != nil || n < 1 || n > 65535 {
			return nil, invalid("Redirect port '%s' must be a number between 1 and 65535 or '#{port}'", c.Port)
		}
	}
	if !strings.HasPrefix(r.Path, "/") {
		return nil, invalid("Redirect path '%s' must start with a '/'", c.Path)
	}
	if strings.HasPrefix(r.Query, "?") {
		return nil, invalid("Redirect query '%s' must not start with a '?'", c.Query)
	}
	if r.Protocol == "#{protocol}" && r.Port == "#{port}" && r.Host == "#{host}" && r.Path == "/#{path}" {
		return nil, fail(CodeInvalidAction, "You must modify at least one of the following components to avoid a redirect loop: protocol, port, hostname or path.")
	}
	return r, nil
}

package elbv2

import (
	"context"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/state"
)

// DefaultSSLPolicy is the security policy of an HTTPS listener that names
// none, as in ELB.
const DefaultSSLPolicy = "ELBSecurityPolicy-2016-08"

// sslPolicies are the security policies Flotta's HTTPS listeners accept
// (the data plane maps each to a TLS configuration).
var sslPolicies = []string{
	"ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
	"ELBSecurityPolicy-FS-1-2-Res-2020-10", "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
	"ELBSecurityPolicy-TLS13-1-3-2021-06",
}

// listenerProtocols are the protocols of each load balancer type's
// listeners, in ELB's words.
var listenerProtocols = map[string]string{"application": "HTTPS, HTTP", "network": "TLS, TCP, TCP_UDP, UDP"}

type certificateIn struct {
	CertificateArn string
	IsDefault      *bool
}

type listenerIn struct {
	Protocol       string
	Port           *int32
	SslPolicy      string
	Certificates   []certificateIn
	DefaultActions []actionIn
	AlpnPolicy     []string
}

type createListenerIn struct {
	LoadBalancerArn string
	listenerIn
	Tags []tagIn
}

type listenersOut struct {
	Listeners  []Listener `xml:"Listeners"`
	NextMarker string     `xml:"NextMarker,omitempty"`
}

// checkListenerProtocol refuses a protocol the load balancer's type has no
// listeners for (ValidationError, as ELB), then one Flotta does not serve.
func checkListenerProtocol(lb *state.ELBLoadBalancer, protocol string) error {
	if !slices.Contains(strings.Split(listenerProtocols[lb.Type], ", "), protocol) {
		if err := checkProtocol(protocol, "protocol"); err != nil && !strings.Contains(listenerProtocols["network"], protocol) {
			return err
		}
		return invalid("Listener protocol '%s' must be one of '%s'", protocol, listenerProtocols[lb.Type])
	}
	return checkProtocol(protocol, "protocol")
}

// configure applies a create or modify to a listener l (a fresh one has
// no protocol yet), checking it by ELB's rules, in tx.
func (a *API) configure(tx *state.ELBTxn, lb *state.ELBLoadBalancer, l *state.ELBListener, in listenerIn, creating bool) error {
	cfg := tx.Config
	if in.Protocol != "" {
		if err := checkListenerProtocol(lb, in.Protocol); err != nil {
			return err
		}
		if in.Protocol != l.Protocol && l.Protocol == "HTTPS" {
			l.Certificates, l.SslPolicy = nil, ""
		}
		l.Protocol = in.Protocol
	} else if creating {
		return invalid("A listener protocol must be specified")
	}
	if in.Port != nil {
		if err := checkPort(in.Port, "port"); err != nil {
			return err
		}
		l.Port = *in.Port
	} else if creating {
		return invalid("A listener port must be specified")
	}
	for _, other := range cfg.ListenersOf(lb.Arn) {
		if other.Arn != l.Arn && other.Port == l.Port {
			return fail(CodeDuplicateListener, "A listener already exists on this port for this load balancer '%s'", lb.Arn)
		}
	}
	if l.Protocol != "HTTPS" {
		if len(in.Certificates) > 0 {
			return invalid("Certificates cannot be specified for '%s' listeners", l.Protocol)
		}
		if in.SslPolicy != "" {
			return invalid("An SSL policy cannot be specified for '%s' listeners", l.Protocol)
		}
	} else {
		if in.SslPolicy != "" {
			if !slices.Contains(sslPolicies, in.SslPolicy) {
				return fail(CodeSSLPolicyNotFound, "SSL policy '%s' not found", in.SslPolicy)
			}
			l.SslPolicy = in.SslPolicy
		}
		l.SslPolicy = cmpOr(l.SslPolicy, DefaultSSLPolicy)
		if len(in.Certificates) > 0 {
			if len(in.Certificates) > 1 {
				return invalid("A listener can have only one default certificate; add others with AddListenerCertificates")
			}
			arn := in.Certificates[0].CertificateArn
			if arn == "" {
				return needed("certificates.member.certificateArn")
			}
			c, err := tx.ServerCertificate(arn)
			if err != nil {
				return err
			}
			if c == nil {
				return fail(CodeCertificateNotFound, "Certificate '%s' not found", arn)
			}
			others := slices.DeleteFunc(slices.Clone(l.Certificates), func(c state.ELBCertificate) bool { return c.IsDefault || c.Arn == arn })
			l.Certificates = append([]state.ELBCertificate{{Arn: arn, IsDefault: true}}, others...)
		}
		if len(l.Certificates) == 0 {
			return invalid("A certificate must be specified for HTTPS listeners")
		}
	}
	if in.AlpnPolicy != nil {
		l.AlpnPolicy = in.AlpnPolicy
	}
	if len(in.DefaultActions) > 0 || creating {
		actions, err := actionScope{cfg: cfg, lb: lb, protocol: l.Protocol}.actions(in.DefaultActions, "defaultActions")
		if err != nil {
			return err
		}
		l.DefaultActions = actions
	}
	return nil
}

// CreateListener adds a listener to a load balancer, with its default rule.
func (a *API) CreateListener(ctx context.Context, in *createListenerIn) (*listenersOut, error) {
	tags, err := checkTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	var made *state.ELBListener
	_, err = a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		lb, err := findLoadBalancer(tx.Config, in.LoadBalancerArn)
		if err != nil {
			return err
		}
		if len(tx.Config.ListenersOf(lb.Arn)) >= MaxListenersPerLB {
			return fail(CodeTooManyListeners, "You've reached the limit on the number of listeners per load balancer (%d)", MaxListenersPerLB)
		}
		lbPart := strings.TrimPrefix(resourceOf(lb.Arn, "loadbalancer"), "loadbalancer/")
		id := a.newID()
		made = &state.ELBListener{Arn: a.arn("listener/" + lbPart + "/" + id), LoadBalancerArn: lb.Arn,
			DefaultRuleArn: a.arn("listener-rule/" + lbPart + "/" + id + "/" + a.newID()), Tags: tags}
		if err := a.configure(tx, lb, made, in.listenerIn, true); err != nil {
			return err
		}
		tx.Config.Listeners[made.Arn] = made
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &listenersOut{Listeners: []Listener{listenerOut(made)}}, nil
}

type describeListenersIn struct {
	LoadBalancerArn string
	ListenerArns    []string
	Marker          string
	PageSize        *int
}

// DescribeListeners lists a load balancer's listeners, or those named.
func (a *API) DescribeListeners(ctx context.Context, in *describeListenersIn) (*listenersOut, error) {
	if (in.LoadBalancerArn == "") == (len(in.ListenerArns) == 0) {
		return nil, invalid("You must specify either listener ARNs or a load balancer ARN")
	}
	cfg, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	var ls []*state.ELBListener
	if in.LoadBalancerArn != "" {
		if _, err := findLoadBalancer(cfg, in.LoadBalancerArn); err != nil {
			return nil, err
		}
		ls = cfg.ListenersOf(in.LoadBalancerArn)
	} else {
		for _, arn := range in.ListenerArns {
			if err := checkARN(arn, "listener", "listener"); err != nil {
				return nil, err
			}
			l := cfg.Listeners[arn]
			if l == nil {
				return nil, fail(CodeListenerNotFound, "One or more listeners not found")
			}
			ls = append(ls, l)
		}
	}
	key := func(l *state.ELBListener) string {
		return sortKey(l.LoadBalancerArn, strings.Repeat("0", 5-len(itoa(l.Port)))+itoa(l.Port))
	}
	slices.SortFunc(ls, func(x, y *state.ELBListener) int { return strings.Compare(key(x), key(y)) })
	got, next, err := page(ls, key, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &listenersOut{Listeners: []Listener{}, NextMarker: next}
	for _, l := range got {
		out.Listeners = append(out.Listeners, listenerOut(l))
	}
	return out, nil
}

type modifyListenerIn struct {
	ListenerArn string
	listenerIn
}

// ModifyListener changes a listener's port, protocol, certificate, policy
// or default actions.
func (a *API) ModifyListener(ctx context.Context, in *modifyListenerIn) (*listenersOut, error) {
	var l *state.ELBListener
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		var err error
		if l, err = findListener(tx.Config, in.ListenerArn); err != nil {
			return err
		}
		return a.configure(tx, tx.Config.LoadBalancers[l.LoadBalancerArn], l, in.listenerIn, false)
	})
	if err != nil {
		return nil, err
	}
	return &listenersOut{Listeners: []Listener{listenerOut(l)}}, nil
}

type listenerArnIn struct {
	ListenerArn string
}

// DeleteListener deletes a listener and its rules.
func (a *API) DeleteListener(ctx context.Context, in *listenerArnIn) (*struct{}, error) {
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		l, err := findListener(tx.Config, in.ListenerArn)
		if err != nil {
			return err
		}
		deleteListener(tx.Config, l)
		return nil
	})
	return nil, err
}

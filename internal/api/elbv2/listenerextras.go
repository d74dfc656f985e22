package elbv2

import (
	"context"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/state"
)

// A listener's attributes and its certificates beyond the default one.

// MaxCertificatesPerListener is ELB's quota of certificates a listener
// serves, the default one included.
const MaxCertificatesPerListener = 25

// listenerAttrSpecs are the attributes of a listener protocol.
func listenerAttrSpecs(protocol string) map[string]attrSpec {
	if protocol == "TCP" {
		return map[string]attrSpec{"tcp.idle_timeout.seconds": between(350, 60, 6000)}
	}
	out := map[string]attrSpec{"routing.http.response.server.enabled": boolean(true)}
	for _, h := range []string{"x_amzn_mtls_clientcert_serial_number", "x_amzn_mtls_clientcert_issuer", "x_amzn_mtls_clientcert_subject",
		"x_amzn_mtls_clientcert_validity", "x_amzn_mtls_clientcert_leaf", "x_amzn_mtls_clientcert", "x_amzn_tls_version", "x_amzn_tls_cipher_suite"} {
		out["routing.http.request."+h+".header_name"] = anyString("")
	}
	for _, h := range []string{"strict_transport_security", "access_control_allow_origin", "access_control_allow_methods",
		"access_control_allow_headers", "access_control_allow_credentials", "access_control_expose_headers", "access_control_max_age",
		"content_security_policy", "x_content_type_options", "x_frame_options"} {
		out["routing.http.response."+h+".header_value"] = anyString("")
	}
	return out
}

// listenerAttributes are a listener's attributes, defaults included.
func listenerAttributes(l *state.ELBListener) map[string]string {
	out := defaults(listenerAttrSpecs(l.Protocol))
	for k, v := range l.Attributes {
		if _, ok := out[k]; ok {
			out[k] = v
		}
	}
	return out
}

// DescribeListenerAttributes lists a listener's attributes.
func (a *API) DescribeListenerAttributes(ctx context.Context, in *listenerArnIn) (*attributesOutShape, error) {
	cfg, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	l, err := findListener(cfg, in.ListenerArn)
	if err != nil {
		return nil, err
	}
	return &attributesOutShape{Attributes: attributesOut(listenerAttributes(l))}, nil
}

type modifyListenerAttributesIn struct {
	ListenerArn string
	Attributes  []Attribute
}

// ModifyListenerAttributes changes attributes and answers with all of
// them.
func (a *API) ModifyListenerAttributes(ctx context.Context, in *modifyListenerAttributesIn) (*attributesOutShape, error) {
	var attrs map[string]string
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		l, err := findListener(tx.Config, in.ListenerArn)
		if err != nil {
			return err
		}
		if attrs, err = applyAttributes("Listener", listenerAttrSpecs(l.Protocol), listenerAttributes(l), in.Attributes); err != nil {
			return err
		}
		l.Attributes = attrs
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &attributesOutShape{Attributes: attributesOut(attrs)}, nil
}

type listenerCertificatesIn struct {
	ListenerArn  string
	Certificates []certificateIn
}

type certificatesOut struct {
	Certificates []Certificate `xml:"Certificates"`
	NextMarker   string        `xml:"NextMarker,omitempty"`
}

// AddListenerCertificates adds certificates an HTTPS listener serves by
// SNI, besides its default one.
func (a *API) AddListenerCertificates(ctx context.Context, in *listenerCertificatesIn) (*certificatesOut, error) {
	if len(in.Certificates) == 0 {
		return nil, needed("certificates")
	}
	out := &certificatesOut{Certificates: []Certificate{}}
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		out.Certificates = out.Certificates[:0]
		l, err := findListener(tx.Config, in.ListenerArn)
		if err != nil {
			return err
		}
		if l.Protocol != "HTTPS" {
			return invalid("Certificates can only be added to HTTPS listeners")
		}
		for _, c := range in.Certificates {
			if c.CertificateArn == "" {
				return needed("certificates.member.certificateArn")
			}
			if c.IsDefault != nil && *c.IsDefault {
				return invalid("The default certificate of a listener is set with ModifyListener")
			}
			got, err := tx.ServerCertificate(c.CertificateArn)
			if err != nil {
				return err
			}
			if got == nil {
				return fail(CodeCertificateNotFound, "Certificate '%s' not found", c.CertificateArn)
			}
			if !slices.ContainsFunc(l.Certificates, func(x state.ELBCertificate) bool { return x.Arn == c.CertificateArn }) {
				l.Certificates = append(l.Certificates, state.ELBCertificate{Arn: c.CertificateArn})
			}
			no := false
			out.Certificates = append(out.Certificates, Certificate{CertificateArn: c.CertificateArn, IsDefault: &no})
		}
		if len(l.Certificates) > MaxCertificatesPerListener {
			return fail(CodeTooManyCertificates, "You've reached the limit on the number of certificates per listener (%d)", MaxCertificatesPerListener)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveListenerCertificates removes certificates other than the default
// one from a listener.
func (a *API) RemoveListenerCertificates(ctx context.Context, in *listenerCertificatesIn) (*struct{}, error) {
	if len(in.Certificates) == 0 {
		return nil, needed("certificates")
	}
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		l, err := findListener(tx.Config, in.ListenerArn)
		if err != nil {
			return err
		}
		for _, c := range in.Certificates {
			i := slices.IndexFunc(l.Certificates, func(x state.ELBCertificate) bool { return x.Arn == c.CertificateArn })
			if i >= 0 && l.Certificates[i].IsDefault {
				return fail(CodeOperationNotPermitted, "The default certificate '%s' cannot be removed; replace it with ModifyListener", c.CertificateArn)
			}
			if i >= 0 {
				l.Certificates = slices.Delete(l.Certificates, i, i+1)
			}
		}
		return nil
	})
	return nil, err
}

type describeListenerCertificatesIn struct {
	ListenerArn string
	Marker      string
	PageSize    *int
}

// DescribeListenerCertificates lists every certificate a listener serves,
// the default one marked.
func (a *API) DescribeListenerCertificates(ctx context.Context, in *describeListenerCertificatesIn) (*certificatesOut, error) {
	cfg, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	l, err := findListener(cfg, in.ListenerArn)
	if err != nil {
		return nil, err
	}
	certs := slices.Clone(l.Certificates)
	slices.SortFunc(certs, func(x, y state.ELBCertificate) int { return strings.Compare(x.Arn, y.Arn) })
	got, next, err := page(certs, func(c state.ELBCertificate) string { return c.Arn }, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &certificatesOut{Certificates: []Certificate{}, NextMarker: next}
	for _, c := range got {
		def := c.IsDefault
		out.Certificates = append(out.Certificates, Certificate{CertificateArn: c.Arn, IsDefault: &def})
	}
	return out, nil
}

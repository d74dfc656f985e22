package route53

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"reflect"

	"github.com/flotta-dev/flotta/internal/protocol/restxml"
	"github.com/flotta-dev/flotta/internal/state"
)

// Health checks of an endpoint: HTTP, HTTPS or TCP, by IP address or
// domain name. Flotta stores them, record sets name them (HealthCheckId),
// and the server's checker (package controller) probes them and records
// each one's status, which GetHealthCheckStatus reports and the DNS data
// plane follows.

// HealthCheckConfig is a health check's settings.
type HealthCheckConfig struct {
	IPAddress                    string    `xml:"IPAddress,omitempty"`
	Port                         *int32    `xml:"Port"`
	Type                         string    `xml:"Type"`
	ResourcePath                 string    `xml:"ResourcePath,omitempty"`
	FullyQualifiedDomainName     string    `xml:"FullyQualifiedDomainName,omitempty"`
	SearchString                 string    `xml:"SearchString,omitempty"`
	RequestInterval              *int32    `xml:"RequestInterval"`
	FailureThreshold             *int32    `xml:"FailureThreshold"`
	MeasureLatency               *bool     `xml:"MeasureLatency"`
	Inverted                     *bool     `xml:"Inverted"`
	Disabled                     *bool     `xml:"Disabled"`
	HealthThreshold              *int32    `xml:"HealthThreshold"`
	ChildHealthChecks            *struct{} `xml:"ChildHealthChecks"`
	EnableSNI                    *bool     `xml:"EnableSNI"`
	Regions                      *struct{} `xml:"Regions"`
	AlarmIdentifier              *struct{} `xml:"AlarmIdentifier"`
	InsufficientDataHealthStatus string    `xml:"InsufficientDataHealthStatus,omitempty"`
	RoutingControlArn            string    `xml:"RoutingControlArn,omitempty"`
}

// HealthCheck is a health check as answers show it.
type HealthCheck struct {
	ID                 string            `xml:"Id"`
	CallerReference    string            `xml:"CallerReference"`
	HealthCheckConfig  HealthCheckConfig `xml:"HealthCheckConfig"`
	HealthCheckVersion int64             `xml:"HealthCheckVersion"`
}

// CreateHealthCheckRequest is CreateHealthCheck's body.
type CreateHealthCheckRequest struct {
	XMLName           xml.Name           `xml:"CreateHealthCheckRequest"`
	CallerReference   *string            `xml:"CallerReference"`
	HealthCheckConfig *HealthCheckConfig `xml:"HealthCheckConfig"`
}

// CreateHealthCheckResponse is CreateHealthCheck's answer.
type CreateHealthCheckResponse struct {
	XMLName     xml.Name    `xml:"CreateHealthCheckResponse"`
	Xmlns       string      `xml:"xmlns,attr"`
	HealthCheck HealthCheck `xml:"HealthCheck"`
}

// GetHealthCheckResponse is GetHealthCheck's answer.
type GetHealthCheckResponse struct {
	XMLName     xml.Name    `xml:"GetHealthCheckResponse"`
	Xmlns       string      `xml:"xmlns,attr"`
	HealthCheck HealthCheck `xml:"HealthCheck"`
}

// DeleteHealthCheckResponse is DeleteHealthCheck's (empty) answer.
type DeleteHealthCheckResponse struct {
	XMLName xml.Name `xml:"DeleteHealthCheckResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
}

// ListHealthChecksResponse is ListHealthChecks's answer.
type ListHealthChecksResponse struct {
	XMLName      xml.Name      `xml:"ListHealthChecksResponse"`
	Xmlns        string        `xml:"xmlns,attr"`
	HealthChecks []HealthCheck `xml:"HealthChecks>HealthCheck"`
	Marker       string        `xml:"Marker"`
	IsTruncated  bool          `xml:"IsTruncated"`
	NextMarker   string        `xml:"NextMarker,omitempty"`
	MaxItems     int           `xml:"MaxItems"`
}

// GetHealthCheckCountResponse is GetHealthCheckCount's answer.
type GetHealthCheckCountResponse struct {
	XMLName          xml.Name `xml:"GetHealthCheckCountResponse"`
	Xmlns            string   `xml:"xmlns,attr"`
	HealthCheckCount int64    `xml:"HealthCheckCount"`
}

// MaxHealthChecks is Route 53's default quota of health checks.
const MaxHealthChecks = 200

func noSuchHealthCheck(id string) error {
	return fail(CodeNoSuchHealthCheck, http.StatusNotFound, "No health check exists with the specified ID %s", id)
}

// newHealthCheckID is a health check id: a random UUID, as Route 53's are.
func (a *API) newHealthCheckID() string {
	r := a.Rand
	if r == nil {
		r = rand.Reader
	}
	var raw [16]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		panic(fmt.Sprintf("route53: read random id: %v", err))
	}
	raw[6], raw[8] = raw[6]&0x0f|0x40, raw[8]&0x3f|0x80
	b := hex.EncodeToString(raw[:])
	return b[0:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:32]
}

func healthCheckOut(hc *state.R53HealthCheck) HealthCheck {
	port, interval, threshold := hc.Port, hc.RequestInterval, hc.FailureThreshold
	cfg := HealthCheckConfig{IPAddress: hc.IPAddress, Port: &port, Type: hc.Type, ResourcePath: hc.ResourcePath,
		FullyQualifiedDomainName: hc.FullyQualifiedDomainName, RequestInterval: &interval, FailureThreshold: &threshold,
		MeasureLatency: &hc.MeasureLatency, Inverted: &hc.Inverted, Disabled: &hc.Disabled}
	if hc.Type == "HTTPS" {
		cfg.EnableSNI = &hc.EnableSNI
	}
	return HealthCheck{ID: hc.ID, CallerReference: hc.CallerReference, HealthCheckConfig: cfg, HealthCheckVersion: hc.Version}
}

// healthCheckFrom checks a health check's settings and fills Route 53's
// defaults.
func healthCheckFrom(ref string, c *HealthCheckConfig) (*state.R53HealthCheck, error) {
	switch c.Type {
	case "HTTP", "HTTPS", "TCP":
	case "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL":
		return nil, invalid("Flotta does not serve health checks of type %s; it serves HTTP, HTTPS and TCP.", c.Type)
	default:
		return nil, invalid("1 validation error detected: Value '%s' at 'healthCheckConfig.type' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP, CALCULATED, CLOUDWATCH_METRIC, RECOVERY_CONTROL]", c.Type)
	}
	if c.SearchString != "" || c.HealthThreshold != nil || c.ChildHealthChecks != nil || c.Regions != nil || c.AlarmIdentifier != nil ||
		c.InsufficientDataHealthStatus != "" || c.RoutingControlArn != "" {
		return nil, invalid("Flotta does not serve string matching, calculated, CloudWatch, recovery control or regional health check settings.")
	}
	hc := &state.R53HealthCheck{CallerReference: ref, Type: c.Type, IPAddress: c.IPAddress, FullyQualifiedDomainName: c.FullyQualifiedDomainName,
		ResourcePath: c.ResourcePath, RequestInterval: 30, FailureThreshold: 3, Version: 1}
	if c.IPAddress == "" && c.FullyQualifiedDomainName == "" {
		return nil, invalid("Invalid request: a health check needs an IPAddress or a FullyQualifiedDomainName.")
	}
	if c.IPAddress != "" {
		if _, err := netip.ParseAddr(c.IPAddress); err != nil {
			return nil, invalid("Invalid IP address '%s'.", c.IPAddress)
		}
	}
	if c.FullyQualifiedDomainName != "" && (len(c.FullyQualifiedDomainName) > 255 || !hostname(c.FullyQualifiedDomainName)) {
		return nil, invalid("Invalid fully qualified domain name '%s'.", c.FullyQualifiedDomainName)
	}
	switch {
	case c.Port != nil:
		if *c.Port < 1 || *c.Port > 65535 {
			return nil, invalid("1 validation error detected: Value '%d' at 'healthCheckConfig.port' failed to satisfy constraint: Member must have value between 1 and 65535", *c.Port)
		}
		hc.Port = *c.Port
	case c.Type == "HTTP":
		hc.Port = 80
	case c.Type == "HTTPS":
		hc.Port = 443
	default:
		return nil, invalid("Invalid request: a TCP health check needs a Port.")
	}
	if c.ResourcePath != "" && c.Type == "TCP" {
		return nil, invalid("Invalid request: a TCP health check has no ResourcePath.")
	}
	if len(c.ResourcePath) > 255 {
		return nil, invalid("1 validation error detected: Value at 'healthCheckConfig.resourcePath' failed to satisfy constraint: Member must have length less than or equal to 255")
	}
	if c.RequestInterval != nil {
		if *c.RequestInterval != 10 && *c.RequestInterval != 30 {
			return nil, invalid("1 validation error detected: Value '%d' at 'healthCheckConfig.requestInterval' failed to satisfy constraint: Member must be 10 or 30", *c.RequestInterval)
		}
		hc.RequestInterval = *c.RequestInterval
	}
	if c.FailureThreshold != nil {
		if *c.FailureThreshold < 1 || *c.FailureThreshold > 10 {
			return nil, invalid("1 validation error detected: Value '%d' at 'healthCheckConfig.failureThreshold' failed to satisfy constraint: Member must have value between 1 and 10", *c.FailureThreshold)
		}
		hc.FailureThreshold = *c.FailureThreshold
	}
	hc.MeasureLatency = c.MeasureLatency != nil && *c.MeasureLatency
	hc.Inverted = c.Inverted != nil && *c.Inverted
	hc.Disabled = c.Disabled != nil && *c.Disabled
	hc.EnableSNI = c.Type == "HTTPS" && (c.EnableSNI == nil || *c.EnableSNI)
	return hc, nil
}

// CreateHealthCheck makes a health check. The same caller reference with
// the same settings answers the health check it made; with other settings,
// or after that health check was deleted, it is HealthCheckAlreadyExists.
func (a *API) CreateHealthCheck(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	var in CreateHealthCheckRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.CallerReference == nil || *in.CallerReference == "" || len(*in.CallerReference) > 64 {
		return nil, invalid("Invalid request: CallerReference is required, of 1 to 64 characters.")
	}
	if in.HealthCheckConfig == nil {
		return nil, invalid("Invalid request: HealthCheckConfig is required.")
	}
	hc, err := healthCheckFrom(*in.CallerReference, in.HealthCheckConfig)
	if err != nil {
		return nil, err
	}
	checks, err := a.State.ListR53HealthChecks(ctx)
	if err != nil {
		return nil, err
	}
	if len(checks) >= MaxHealthChecks {
		return nil, fail("TooManyHealthChecks", http.StatusBadRequest, "This AWS account has reached its limit of %d health checks.", MaxHealthChecks)
	}
	hc.ID, hc.CreatedAt = a.newHealthCheckID(), a.now()
	earlier, err := a.State.CreateR53HealthCheck(ctx, hc)
	if errors.Is(err, state.ErrR53CallerReferenceUsed) {
		if earlier != nil && sameHealthCheck(earlier, hc) {
			hc = earlier
		} else {
			return nil, fail("HealthCheckAlreadyExists", http.StatusConflict,
				"A health check with the caller reference %s already exists with other settings, or was deleted.", *in.CallerReference)
		}
	} else if err != nil {
		return nil, err
	}
	return &restxml.Response{Status: http.StatusCreated,
		Header: http.Header{"Location": {"https://route53.amazonaws.com/" + Version + "/healthcheck/" + hc.ID}},
		Body:   &CreateHealthCheckResponse{Xmlns: Namespace, HealthCheck: healthCheckOut(hc)}}, nil
}

func sameHealthCheck(a, b *state.R53HealthCheck) bool {
	x, y := *a, *b
	x.ID, y.ID, x.Version, y.Version, x.Tags, y.Tags = "", "", 0, 0, nil, nil
	x.CreatedAt = y.CreatedAt
	return reflect.DeepEqual(x, y)
}

// GetHealthCheck answers a health check.
func (a *API) GetHealthCheck(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	hc, err := a.State.GetR53HealthCheck(ctx, r.Path["HealthCheckId"])
	if errors.Is(err, state.ErrR53HealthCheckNotFound) {
		return nil, noSuchHealthCheck(r.Path["HealthCheckId"])
	}
	if err != nil {
		return nil, err
	}
	return &restxml.Response{Body: &GetHealthCheckResponse{Xmlns: Namespace, HealthCheck: healthCheckOut(hc)}}, nil
}

// DeleteHealthCheck deletes a health check. As in Route 53, record sets
// that name it keep the id; what a missing check means for an answer is
// the DNS data plane's to decide.
func (a *API) DeleteHealthCheck(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	err := a.State.DeleteR53HealthCheck(ctx, r.Path["HealthCheckId"])
	if errors.Is(err, state.ErrR53HealthCheckNotFound) {
		return nil, noSuchHealthCheck(r.Path["HealthCheckId"])
	}
	if err != nil {
		return nil, err
	}
	return &restxml.Response{Body: &DeleteHealthCheckResponse{Xmlns: Namespace}}, nil
}

// ListHealthChecks pages through the health checks by id.
func (a *API) ListHealthChecks(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	limit, err := maxItems(r.Query, defaultZonePage)
	if err != nil {
		return nil, err
	}
	checks, err := a.State.ListR53HealthChecks(ctx)
	if err != nil {
		return nil, err
	}
	marker := r.Query.Get("marker")
	out := &ListHealthChecksResponse{Xmlns: Namespace, Marker: marker, MaxItems: limit, HealthChecks: []HealthCheck{}}
	for i := range checks {
		hc := &checks[i]
		if marker != "" && hc.ID < marker {
			continue
		}
		if len(out.HealthChecks) == limit {
			out.IsTruncated, out.NextMarker = true, hc.ID
			break
		}
		out.HealthChecks = append(out.HealthChecks, healthCheckOut(hc))
	}
	return &restxml.Response{Body: out}, nil
}

// GetHealthCheckCount counts the health checks.
func (a *API) GetHealthCheckCount(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	checks, err := a.State.ListR53HealthChecks(ctx)
	if err != nil {
		return nil, err
	}
	return &restxml.Response{Body: &GetHealthCheckCountResponse{Xmlns: Namespace, HealthCheckCount: int64(len(checks))}}, nil
}

// HealthCheckObservation is one checker's last observation.
type HealthCheckObservation struct {
	Region       string       `xml:"Region"`
	IPAddress    string       `xml:"IPAddress"`
	StatusReport StatusReport `xml:"StatusReport"`
}

// StatusReport is an observation's result and when it was made.
type StatusReport struct {
	Status      string `xml:"Status"`
	CheckedTime string `xml:"CheckedTime"`
}

// GetHealthCheckStatusResponse is GetHealthCheckStatus's answer.
type GetHealthCheckStatusResponse struct {
	XMLName                 xml.Name                 `xml:"GetHealthCheckStatusResponse"`
	Xmlns                   string                   `xml:"xmlns,attr"`
	HealthCheckObservations []HealthCheckObservation `xml:"HealthCheckObservations>HealthCheckObservation"`
}

// CheckerRegion is the region Flotta's one checker reports observations
// from.
const CheckerRegion = "us-east-1"

// GetHealthCheckStatus answers the checker's last recorded observation of
// a health check: one observation, from this server, in Route 53's words
// ("Success: HTTP Status Code 200, OK"). A health check not yet probed has
// no observation.
func (a *API) GetHealthCheckStatus(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	id := r.Path["HealthCheckId"]
	if _, err := a.State.GetR53HealthCheck(ctx, id); errors.Is(err, state.ErrR53HealthCheckNotFound) {
		return nil, noSuchHealthCheck(id)
	} else if err != nil {
		return nil, err
	}
	st, err := a.State.GetR53HealthStatus(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &GetHealthCheckStatusResponse{Xmlns: Namespace, HealthCheckObservations: []HealthCheckObservation{}}
	if st != nil {
		ip := a.CheckerIP
		if ip == "" {
			ip = "127.0.0.1"
		}
		out.HealthCheckObservations = append(out.HealthCheckObservations, HealthCheckObservation{Region: CheckerRegion, IPAddress: ip,
			StatusReport: StatusReport{Status: st.LastReason, CheckedTime: st.LastChecked.UTC().Format("2006-01-02T15:04:05.000Z")}})
	}
	return &restxml.Response{Body: out}, nil
}

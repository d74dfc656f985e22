// Package route53 serves a subset of the Amazon Route 53 API (private hosted
// zones, their resource record sets, changes and tags) on the REST-XML
// protocol, as aws-sdk-go-v2's route53 client, the AWS CLI and boto3 speak
// it. It owns Route 53's rules: names and values checked per record type,
// the all-or-nothing semantics of a change batch, paging in Route 53's
// order, and Route 53's error codes and words. Its records live in package
// state (ChangeR53RecordSets commits a batch in one transaction); Flotta's
// DNS server follows them there.
package route53

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol/restxml"
	"github.com/flotta-dev/flotta/internal/state"
)

// The protocol's version, path prefix and namespace.
const (
	Version    = "2013-04-01"
	PathPrefix = "/" + Version + "/"
	Namespace  = "https://route53.amazonaws.com/doc/" + Version + "/"
)

// ELBHostedZoneID is the CanonicalHostedZoneId every Flotta load balancer
// shows (package api/elbv2's HostedZoneID): an alias to a load balancer
// names it.
const ELBHostedZoneID = "ZFLOTTAELB00001"

// DefaultSyncDelay is how long after its commit a change reads INSYNC.
// Flotta's DNS servers follow the store's watch and apply a change within
// milliseconds of its commit; the delay is a generous bound on that, so
// that a client that waits for INSYNC and then asks the DNS server gets
// the new answer.
const DefaultSyncDelay = time.Second

// API answers Route 53.
type API struct {
	State *state.State
	// Now tells the time; nil means time.Now.
	Now func() time.Time
	// Rand makes ids; nil means crypto/rand.
	Rand io.Reader
	// SyncDelay is how long a change stays PENDING after its commit
	// (DefaultSyncDelay when 0).
	SyncDelay time.Duration
	// CheckerIP is the address Flotta's health checker probes from, as
	// GetHealthCheckStatus reports it ("" means 127.0.0.1).
	CheckerIP string
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newID is a Route 53 style id: a letter (Z for zones, C for changes) and
// 20 upper-case letters and digits.
func (a *API) newID(prefix string) string {
	r := a.Rand
	if r == nil {
		r = rand.Reader
	}
	var b [20]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		panic(fmt.Sprintf("route53: read random id: %v", err))
	}
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = idAlphabet[int(c)%len(idAlphabet)]
	}
	return prefix + string(out)
}

// Service is the Route 53 API for the REST-XML router.
func (a *API) Service() *restxml.Service {
	p := PathPrefix
	return &restxml.Service{SigningName: "route53", PathPrefix: p, Namespace: Namespace, ActionPrefix: "route53",
		Resources: a.resources,
		Routes: []restxml.Route{
			{Method: http.MethodPost, Pattern: p + "hostedzone", Op: "CreateHostedZone", Handler: a.CreateHostedZone},
			{Method: http.MethodGet, Pattern: p + "hostedzone", Op: "ListHostedZones", Handler: a.ListHostedZones},
			{Method: http.MethodGet, Pattern: p + "hostedzonesbyname", Op: "ListHostedZonesByName", Handler: a.ListHostedZonesByName},
			{Method: http.MethodGet, Pattern: p + "hostedzonecount", Op: "GetHostedZoneCount", Handler: a.GetHostedZoneCount},
			{Method: http.MethodGet, Pattern: p + "hostedzone/{Id}", Op: "GetHostedZone", Handler: a.GetHostedZone},
			{Method: http.MethodPost, Pattern: p + "hostedzone/{Id}", Op: "UpdateHostedZoneComment", Handler: a.UpdateHostedZoneComment},
			{Method: http.MethodDelete, Pattern: p + "hostedzone/{Id}", Op: "DeleteHostedZone", Handler: a.DeleteHostedZone},
			{Method: http.MethodPost, Pattern: p + "hostedzone/{Id}/associatevpc", Op: "AssociateVPCWithHostedZone", Handler: a.AssociateVPCWithHostedZone},
			{Method: http.MethodPost, Pattern: p + "hostedzone/{Id}/disassociatevpc", Op: "DisassociateVPCFromHostedZone", Handler: a.DisassociateVPCFromHostedZone},
			{Method: http.MethodGet, Pattern: p + "hostedzonesbyvpc", Op: "ListHostedZonesByVPC", Handler: a.ListHostedZonesByVPC},
			{Method: http.MethodPost, Pattern: p + "hostedzone/{Id}/rrset", Op: "ChangeResourceRecordSets", Handler: a.ChangeResourceRecordSets},
			{Method: http.MethodGet, Pattern: p + "hostedzone/{Id}/rrset", Op: "ListResourceRecordSets", Handler: a.ListResourceRecordSets},
			{Method: http.MethodGet, Pattern: p + "change/{Id}", Op: "GetChange", Handler: a.GetChange},
			{Method: http.MethodPost, Pattern: p + "healthcheck", Op: "CreateHealthCheck", Handler: a.CreateHealthCheck},
			{Method: http.MethodGet, Pattern: p + "healthcheck", Op: "ListHealthChecks", Handler: a.ListHealthChecks},
			{Method: http.MethodGet, Pattern: p + "healthcheckcount", Op: "GetHealthCheckCount", Handler: a.GetHealthCheckCount},
			{Method: http.MethodGet, Pattern: p + "healthcheck/{HealthCheckId}", Op: "GetHealthCheck", Handler: a.GetHealthCheck},
			{Method: http.MethodDelete, Pattern: p + "healthcheck/{HealthCheckId}", Op: "DeleteHealthCheck", Handler: a.DeleteHealthCheck},
			{Method: http.MethodGet, Pattern: p + "healthcheck/{HealthCheckId}/status", Op: "GetHealthCheckStatus", Handler: a.GetHealthCheckStatus},
			{Method: http.MethodPost, Pattern: p + "tags/{ResourceType}/{ResourceId}", Op: "ChangeTagsForResource", Handler: a.ChangeTagsForResource},
			{Method: http.MethodGet, Pattern: p + "tags/{ResourceType}/{ResourceId}", Op: "ListTagsForResource", Handler: a.ListTagsForResource},
		}}
}

// Operations are the names of the operations served, for coverage checks.
func (a *API) Operations() []string {
	var out []string
	for _, r := range a.Service().Routes {
		out = append(out, r.Op)
	}
	return out
}

// The error codes Route 53 answers with (aws-sdk-go-v2's route53/types/errors.go).
const (
	CodeInvalidInput            = "InvalidInput"
	CodeInvalidChangeBatch      = "InvalidChangeBatch"
	CodeInvalidDomainName       = "InvalidDomainName"
	CodeInvalidVPCId            = "InvalidVPCId"
	CodeNoSuchHostedZone        = "NoSuchHostedZone"
	CodeNoSuchChange            = "NoSuchChange"
	CodeNoSuchHealthCheck       = "NoSuchHealthCheck"
	CodeHostedZoneNotEmpty      = "HostedZoneNotEmpty"
	CodeHostedZoneAlreadyExists = "HostedZoneAlreadyExists"
	CodeConflictingDomainExists = "ConflictingDomainExists"
	CodeInvalidPaginationToken  = "InvalidPaginationToken"
)

// fail is a refusal with Route 53's code and status.
func fail(code string, status int, format string, args ...any) error {
	return &model.Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// invalid is an InvalidInput (400).
func invalid(format string, args ...any) error {
	return fail(CodeInvalidInput, http.StatusBadRequest, format, args...)
}

// noSuchZone is Route 53's answer for a zone id that names no zone.
func noSuchZone(id string) error {
	return fail(CodeNoSuchHostedZone, http.StatusNotFound, "No hosted zone found with ID: %s", id)
}

// ChangeBatchError is InvalidChangeBatch: every problem of a batch, each in
// Messages, and all of them in the message as Route 53 words it ("[m1, m2]").
type ChangeBatchError struct{ Messages []string }

func (e *ChangeBatchError) Error() string           { return CodeInvalidChangeBatch + ": " + e.ErrorMessage() }
func (e *ChangeBatchError) ErrorCode() string       { return CodeInvalidChangeBatch }
func (e *ChangeBatchError) HTTPStatus() int         { return http.StatusBadRequest }
func (e *ChangeBatchError) ErrorMessages() []string { return e.Messages }
func (e *ChangeBatchError) ErrorMessage() string {
	return "[" + strings.Join(e.Messages, ", ") + "]"
}

// zoneID reads a zone id as clients send it: bare ("Z123") or with the
// "/hostedzone/" prefix the answers carry (the Go SDK strips it; the CLI
// and boto3 pass it as given, escaped into one segment).
func zoneID(raw string) string {
	id := strings.TrimPrefix(raw, "/")
	id = strings.TrimPrefix(id, "hostedzone/")
	return id
}

// zone reads a zone or answers NoSuchHostedZone.
func (a *API) zone(ctx context.Context, raw string) (*state.R53Zone, error) {
	id := zoneID(raw)
	z, err := a.State.GetR53Zone(ctx, id)
	if errors.Is(err, state.ErrR53ZoneNotFound) {
		return nil, noSuchZone(id)
	}
	return z, err
}

// decode reads a request body into v, or answers InvalidInput.
func decode(r *restxml.Request, v any) error {
	return restxml.Decode(r.Body, Namespace, v)
}

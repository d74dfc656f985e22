// Package query speaks the AWS Query protocol on the server side, the one
// IAM, STS and ELBv2 (and CloudWatch, for older clients) answer.
//
// It owns the wire: reading the form-encoded parameters (a POST body under a
// size limit, or a GET's query string), telling the services that share the
// endpoint apart by the SigV4 credential scope's service name and the Version
// parameter, asking an Authenticator and an Authorizer before each operation,
// decoding parameters into Go structs (Decode), encoding results in the XML
// wrapper the SDKs look for (Encode), and writing errors as AWS's Query
// services do (<ErrorResponse><Error><Type>Sender</Type><Code>...). It knows
// nothing about what any operation means.
//
// The sibling package awsjson does the same for AWS JSON 1.1; the hooks
// (Authenticator, Authorizer, Limiter, Observer) have the same shapes so that
// one implementation serves both.
package query

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol"
)

// ContentType is the media type of Query requests; answers are text/xml.
const ContentType = "application/x-www-form-urlencoded"

// DefaultMaxBodyBytes bounds a request body unless the router says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// noVersion is what AWS's Query services put in "Could not find operation X
// for version Y" when a request names no Version.
const noVersion = "NO_VERSION_SPECIFIED"

// APIError is protocol.APIError: every refusal a client should see.
type APIError = protocol.APIError

// PublicError is protocol.PublicError: a server fault a client may be told of.
type PublicError = protocol.PublicError

// HandlerFunc runs one operation on the request's parameters (Action and
// Version included). A nil result means the operation has none: the answer
// then holds only its ResponseMetadata, as DeleteUser's does.
type HandlerFunc func(ctx context.Context, params url.Values) (any, error)

// Op adapts a typed operation to a HandlerFunc: it decodes the parameters
// into In (a malformed value is a ValidationError, see Decode) and answers
// with Out inside the <ActionResult> element. A nil *Out still writes an empty
// result element, which the SDKs require of every operation that has an
// output shape.
func Op[In any, Out any](fn func(ctx context.Context, in *In) (*Out, error)) HandlerFunc {
	return func(ctx context.Context, params url.Values) (any, error) {
		in := new(In)
		if err := Decode(params, in); err != nil {
			return nil, err
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			return struct{}{}, nil
		}
		return out, nil
	}
}

// OpNoResult adapts a typed operation without an output shape (DeleteUser,
// TagUser): its answer holds only the ResponseMetadata.
func OpNoResult[In any](fn func(ctx context.Context, in *In) error) HandlerFunc {
	return func(ctx context.Context, params url.Values) (any, error) {
		in := new(In)
		if err := Decode(params, in); err != nil {
			return nil, err
		}
		return nil, fn(ctx, in)
	}
}

// Service is one AWS service spoken over the Query protocol.
type Service struct {
	// SigningName is the service in the SigV4 credential scope ("iam").
	SigningName string
	// Version is the API version requests name ("2010-05-08").
	Version string
	// Namespace is the XML namespace of answers
	// ("https://iam.amazonaws.com/doc/2010-05-08/").
	Namespace string
	// Resources says what an action with its parameters is authorized on:
	// the resource ARNs and the condition keys. nil means "*" and none.
	Resources func(ctx context.Context, action string, params url.Values) (resources []string, conditions map[string][]string)
	// ActionPrefix is the service's namespace in IAM actions ("iam" makes
	// the action of GetUser "iam:GetUser").
	ActionPrefix string
	// Ops maps Action names to handlers.
	Ops map[string]HandlerFunc
	// Public names the actions that take unsigned requests (STS's
	// AssumeRoleWithWebIdentity, say).
	Public map[string]bool
	// InternalErrorCode is the error code for server faults (IAM:
	// ServiceFailure); empty means InternalFailure.
	InternalErrorCode string
}

// Router dispatches Query requests to services by signing name and Version.
// Every hook is optional.
type Router struct {
	// Auth verifies signatures; nil serves every request unsigned.
	Auth protocol.Authenticator
	// Authz decides each signed action; nil allows every one.
	Authz protocol.Authorizer
	// Limit bounds each authenticated caller's request rate.
	Limit protocol.Limiter
	// Observer is told about every answer.
	Observer protocol.Observer
	// Logger takes server faults (slog.Default when nil).
	Logger *slog.Logger
	// MaxBodyBytes bounds a POST body (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	services     []*Service
}

// Handle adds a service; one with the same signing name and version replaces
// the earlier one.
func (rt *Router) Handle(s *Service) {
	for i, old := range rt.services {
		if old.SigningName == s.SigningName && old.Version == s.Version {
			rt.services[i] = s
			return
		}
	}
	rt.services = append(rt.services, s)
}

// find picks the service a request is for. Several services share the
// endpoint, so a signed request is for the services of its credential scope
// and an unsigned one for any; among those, the one whose Version it names.
// When none matches, near is the service the error should speak for (the
// only candidate, if there is one).
func (rt *Router) find(signingName, version string) (svc, near *Service) {
	var candidates []*Service
	for _, s := range rt.services {
		if signingName == "" || s.SigningName == signingName {
			candidates = append(candidates, s)
		}
	}
	for _, s := range candidates {
		if s.Version == version {
			return s, s
		}
	}
	if len(candidates) == 1 {
		return nil, candidates[0]
	}
	return nil, nil
}

// SigningName is the service named in a request's SigV4 credential scope
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request), from the Authorization
// header or, for a presigned request, the X-Amz-Credential query parameter;
// empty when the request is unsigned or the scope is malformed. It reads the
// scope only to route: the Authenticator verifies it.
func SigningName(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, params, _ := strings.Cut(auth, " ")
		for _, p := range strings.Split(params, ",") {
			if cred, ok := strings.CutPrefix(strings.TrimSpace(p), "Credential="); ok {
				return scopeService(cred)
			}
		}
		return ""
	}
	return scopeService(r.URL.Query().Get("X-Amz-Credential"))
}

// scopeService reads the service from a credential: the part before the
// final aws4_request. SigV4's scope has a region before it, SigV4a's does not.
func scopeService(cred string) string {
	parts := strings.Split(cred, "/")
	if len(parts) < 4 || parts[len(parts)-1] != "aws4_request" {
		return ""
	}
	return parts[len(parts)-2]
}

// ServeHTTP answers one request.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", reqID)
	logger := rt.Logger
	if logger == nil {
		logger = slog.Default()
	}
	svcName, opLabel, namespace := "unknown", "unknown", ""
	observe := func(code string) {
		if rt.Observer != nil {
			rt.Observer.ObserveRequest(svcName, opLabel, code, time.Since(start))
		}
	}
	fail := func(err APIError) {
		observe(err.ErrorCode())
		WriteError(w, namespace, reqID, err)
	}

	params, body, apiErr := rt.readParams(r)
	if apiErr != nil {
		fail(apiErr)
		return
	}
	action := params.Get("Action")
	if action == "" {
		fail(&model.Error{Code: "MissingAction", Status: http.StatusBadRequest, Message: "Missing Action"})
		return
	}
	version := params.Get("Version")
	svc, near := rt.find(SigningName(r), version)
	if near != nil {
		svcName, namespace = near.SigningName, near.Namespace
	}
	if svc == nil {
		if version == "" {
			version = noVersion
		}
		fail(&model.Error{Code: "InvalidAction", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Could not find operation %s for version %s", action, version)})
		return
	}
	handler, known := svc.Ops[action]
	if known {
		opLabel = action
	}

	ctx := protocol.WithSourceIP(r.Context(), r.RemoteAddr)
	if rt.Auth != nil && !svc.Public[action] {
		var err error
		ctx, err = rt.Auth.Authenticate(ctx, r, body, svc.SigningName)
		if err != nil {
			rt.answerError(w, logger, svc, reqID, opLabel, err, observe)
			return
		}
		if rt.Limit != nil {
			if ok, wait := rt.Limit.Allow(ctx); !ok {
				setRetryAfter(w.Header(), wait)
				fail(Throttled())
				return
			}
		}
	}
	if !known {
		fail(&model.Error{Code: "InvalidAction", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Could not find operation %s for version %s", action, version)})
		return
	}
	if rt.Authz != nil && !svc.Public[action] {
		on := func() ([]string, map[string][]string) {
			resources, conditions := []string{"*"}, map[string][]string{}
			if svc.Resources != nil {
				resources, conditions = svc.Resources(ctx, action, params)
				if conditions == nil {
					conditions = map[string][]string{}
				}
			}
			conditions["aws:SourceIp"] = []string{protocol.SourceIP(ctx)}
			return resources, conditions
		}
		if err := rt.Authz.Authorize(ctx, svc.ActionPrefix+":"+action, on); err != nil {
			rt.answerError(w, logger, svc, reqID, opLabel, err, observe)
			return
		}
	}
	out, err := handler(ctx, params)
	if err != nil && r.Context().Err() != nil {
		// The caller went away: nobody to answer.
		logger.Debug("caller left before the answer", "service", svc.SigningName, "operation", opLabel, "request_id", reqID)
		observe("ClientClosedRequest")
		return
	}
	if err != nil {
		rt.answerError(w, logger, svc, reqID, opLabel, err, observe)
		return
	}
	var payload bytes.Buffer
	if err := Encode(&payload, action, svc.Namespace, reqID, out); err != nil {
		rt.answerError(w, logger, svc, reqID, opLabel, fmt.Errorf("encode %s result: %w", action, err), observe)
		return
	}
	observe("OK")
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	w.Write(payload.Bytes())
}

// readParams reads a request's parameters: a POST's form body (under the
// size limit; parameters in its URL join them, as a presigned request's
// X-Amz-* do) or a GET's query string. body is what the Authenticator hashes.
func (rt *Router) readParams(r *http.Request) (params url.Values, body []byte, _ APIError) {
	switch r.Method {
	case http.MethodGet:
		params, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, nil, malformedQuery(err)
		}
		return params, nil, nil
	case http.MethodPost:
	default:
		return nil, nil, &model.Error{Code: "InvalidAction", Status: http.StatusBadRequest,
			Message: "Query services take POST (or GET) requests; " + r.Method + " is not an operation."}
	}
	limit := rt.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, nil, &model.Error{Code: "MalformedQueryString", Status: http.StatusBadRequest, Message: "The request body could not be read."}
	}
	if int64(len(body)) > limit {
		return nil, nil, &model.Error{Code: "RequestEntityTooLarge", Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("The request body is larger than the limit of %d bytes.", limit)}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != ContentType {
		return nil, nil, &model.Error{Code: "MissingAction", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Query requests are POSTed as %s; this one is %q.", ContentType, r.Header.Get("Content-Type"))}
	}
	params, err = url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, malformedQuery(err)
	}
	if r.URL.RawQuery != "" {
		extra, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, nil, malformedQuery(err)
		}
		for k, vs := range extra {
			params[k] = append(params[k], vs...)
		}
	}
	return params, body, nil
}

// malformedQuery is AWS's answer to parameters that are not valid form
// encoding (its common errors give MalformedQueryString the status 404).
func malformedQuery(err error) APIError {
	msg := "The query string is malformed."
	var esc url.EscapeError
	if errors.As(err, &esc) {
		msg = fmt.Sprintf("The query string is malformed: invalid escape %q.", string(esc))
	}
	return &model.Error{Code: "MalformedQueryString", Status: http.StatusNotFound, Message: msg}
}

func (rt *Router) answerError(w http.ResponseWriter, logger *slog.Logger, svc *Service, reqID, op string, err error, observe func(string)) {
	apiErr := protocol.AsAPIError(logger, svc.SigningName, op, reqID, svc.InternalErrorCode, err)
	observe(apiErr.ErrorCode())
	WriteError(w, svc.Namespace, reqID, apiErr)
}

// Throttled is the answer to a caller over its request rate, in the words of
// AWS's Query services (code Throttling, status 400).
func Throttled() *model.Error {
	return &model.Error{Code: "Throttling", Status: http.StatusBadRequest, Message: "Rate exceeded"}
}

// setRetryAfter says when a throttled caller may try again: in milliseconds
// in X-Amz-Retry-After, which the AWS SDKs' retryers read, and in whole
// seconds in the standard Retry-After for every other client.
func setRetryAfter(h http.Header, wait time.Duration) {
	h.Set("X-Amz-Retry-After", strconv.FormatInt(max(1, wait.Milliseconds()), 10))
	h.Set("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(wait.Seconds()))), 10))
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

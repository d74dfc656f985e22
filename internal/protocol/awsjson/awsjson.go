// Package awsjson speaks the AWS JSON 1.1 protocol on the server side.
//
// It owns the wire: dispatch on X-Amz-Target, reading the body under a size
// limit, asking an Authenticator to verify the signature, decoding the input
// member by member, encoding the output, and writing errors exactly as AWS
// services do ({"__type": ..., "message": ...} plus the X-Amzn-ErrorType
// header). It knows nothing about what any operation means.
package awsjson

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol"
)

// ContentType is the media type of AWS JSON 1.1 requests and responses.
const ContentType = "application/x-amz-json-1.1"

// DefaultMaxBodyBytes bounds a request body unless the router says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// APIError is protocol.APIError: every refusal a client should see.
type APIError = protocol.APIError

// HandlerFunc runs one operation on a raw request body.
type HandlerFunc func(ctx context.Context, body []byte) (any, error)

// Op adapts a typed operation to a HandlerFunc: it decodes the body into In,
// reporting malformed JSON and members of the wrong type as a
// SerializationException, and passes the result on.
func Op[In any, Out any](fn func(ctx context.Context, in *In) (*Out, error)) HandlerFunc {
	return func(ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if err := Decode(body, in); err != nil {
			return nil, err
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// Decode reads a JSON object into v. An empty body is an empty object. Unknown
// members are ignored, as AWS services do, so that newer SDKs keep working.
// Go int members are AWS Integers and must fit in 32 bits (see checkIntegers).
func Decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return &model.Error{Code: "SerializationException", Status: http.StatusBadRequest,
			Message: "The request body must be a JSON object."}
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return checkIntegers(v)
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		member := typeErr.Field
		if member == "" {
			member = "(top level)"
		}
		return &model.Error{Code: "SerializationException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Member '%s' must be %s, not a JSON %s.", member, describeGoType(typeErr.Type.Kind().String()), typeErr.Value)}
	case errors.As(err, &syntaxErr):
		return &model.Error{Code: "SerializationException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("The request body is not valid JSON: %v (at byte %d).", syntaxErr, syntaxErr.Offset)}
	default:
		return &model.Error{Code: "SerializationException", Status: http.StatusBadRequest,
			Message: "The request body could not be read: " + err.Error()}
	}
}

func describeGoType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "a list"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "of another type"
}

// Service is one AWS service spoken over JSON 1.1.
type Service struct {
	// TargetPrefix is the part of X-Amz-Target before the dot.
	TargetPrefix string
	// SigningName is the service in the SigV4 credential scope.
	SigningName string
	// InternalErrorCode is the error code for server faults (ECS: ServerException).
	InternalErrorCode string
	// Ops maps operation names to handlers.
	Ops map[string]HandlerFunc
	// Public names the operations that take unsigned requests (such as an
	// agent presenting a join token, before it has credentials).
	Public map[string]bool
	// ActionPrefix is the service's namespace in IAM actions ("ecs" makes
	// the action of DeleteCluster "ecs:DeleteCluster").
	ActionPrefix string
	// Resources says what an operation with its body is authorized on: the
	// resource ARNs and the condition keys. nil means "*" and none.
	Resources func(ctx context.Context, op string, body []byte) (resources []string, conditions map[string][]string)
}

// Router dispatches AWS JSON 1.1 requests to services by X-Amz-Target.
type Router struct {
	Auth         protocol.Authenticator
	Authz        protocol.Authorizer
	Limit        protocol.Limiter
	Observer     protocol.Observer
	Logger       *slog.Logger
	MaxBodyBytes int64
	services     map[string]*Service
}

// Handle adds a service.
func (rt *Router) Handle(s *Service) {
	if rt.services == nil {
		rt.services = map[string]*Service{}
	}
	rt.services[s.TargetPrefix] = s
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

	target := r.Header.Get("X-Amz-Target")
	prefix, opName, _ := strings.Cut(target, ".")
	svc := rt.services[prefix]
	svcName, opLabel := "unknown", "unknown"
	if svc != nil {
		svcName = svc.SigningName
		if _, ok := svc.Ops[opName]; ok {
			opLabel = opName
		}
	}
	observe := func(code string) {
		if rt.Observer != nil {
			rt.Observer.ObserveRequest(svcName, opLabel, code, time.Since(start))
		}
	}
	fail := func(err APIError) {
		observe(err.ErrorCode())
		writeError(w, err)
	}

	if r.Method != http.MethodPost {
		fail(&model.Error{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: "AWS JSON services take POST requests; " + r.Method + " " + r.URL.Path + " is not an operation."})
		return
	}
	limit := rt.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		fail(&model.Error{Code: "SerializationException", Status: http.StatusBadRequest, Message: "The request body could not be read."})
		return
	}
	if int64(len(body)) > limit {
		fail(&model.Error{Code: "RequestEntityTooLargeException", Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("The request body is larger than the limit of %d bytes.", limit)})
		return
	}
	if svc == nil {
		fail(&model.Error{Code: "UnknownOperationException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("X-Amz-Target %q names no service this endpoint speaks.", target)})
		return
	}
	ctx := protocol.WithSourceIP(r.Context(), r.RemoteAddr)
	if rt.Auth != nil && !svc.Public[opName] {
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
	handler, ok := svc.Ops[opName]
	if !ok {
		fail(&model.Error{Code: "UnknownOperationException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Operation %q is not supported by this endpoint.", opName)})
		return
	}
	if rt.Authz != nil && !svc.Public[opName] {
		on := func() ([]string, map[string][]string) {
			resources, conditions := []string{"*"}, map[string][]string{}
			if svc.Resources != nil {
				resources, conditions = svc.Resources(ctx, opName, body)
				if conditions == nil {
					conditions = map[string][]string{}
				}
			}
			conditions["aws:SourceIp"] = []string{SourceIP(ctx)}
			return resources, conditions
		}
		if err := rt.Authz.Authorize(ctx, svc.ActionPrefix+":"+opName, on); err != nil {
			rt.answerError(w, logger, svc, reqID, opLabel, err, observe)
			return
		}
	}
	out, err := handler(ctx, body)
	if err != nil && r.Context().Err() != nil {
		// The caller went away (a long poll's agent stopped): nobody to answer.
		logger.Debug("caller left before the answer", "operation", opLabel, "request_id", reqID)
		observe("ClientClosedRequest")
		return
	}
	if err != nil {
		rt.answerError(w, logger, svc, reqID, opLabel, err, observe)
		return
	}
	payload := []byte("{}")
	if out != nil {
		payload, err = json.Marshal(out)
		if err != nil {
			rt.answerError(w, logger, svc, reqID, opLabel, fmt.Errorf("encode %s output: %w", opLabel, err), observe)
			return
		}
	}
	observe("OK")
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	w.Write(payload)
}

// PublicError is protocol.PublicError: a server fault a client may be told of.
type PublicError = protocol.PublicError

func (rt *Router) answerError(w http.ResponseWriter, logger *slog.Logger, svc *Service, reqID, op string, err error, observe func(string)) {
	apiErr := protocol.AsAPIError(logger, svc.SigningName, op, reqID, svc.InternalErrorCode, err)
	observe(apiErr.ErrorCode())
	writeError(w, apiErr)
}

// Throttled is the answer to a caller over its request rate, in ECS's words
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html).
func Throttled() *model.Error {
	return &model.Error{Code: "ThrottlingException", Status: http.StatusBadRequest, Message: "Rate exceeded"}
}

// setRetryAfter says when a throttled caller may try again: in milliseconds
// in X-Amz-Retry-After, which the AWS SDKs' retryers read (aws-sdk-go-v2
// since v1.48.0, botocore's new retries), and in whole seconds in the
// standard Retry-After for every other client.
func setRetryAfter(h http.Header, wait time.Duration) {
	h.Set("X-Amz-Retry-After", strconv.FormatInt(max(1, wait.Milliseconds()), 10))
	h.Set("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(wait.Seconds()))), 10))
}

// ErrorFielder is an APIError that carries members besides its message,
// as some services' exceptions do (Cloud Map's ServiceAlreadyExists names
// the existing service's ServiceId and CreatorRequestId).
type ErrorFielder interface {
	ErrorFields() map[string]string
}

func writeError(w http.ResponseWriter, err APIError) {
	body := map[string]string{"__type": err.ErrorCode()}
	if f, ok := err.(ErrorFielder); ok {
		for k, v := range f.ErrorFields() {
			if v != "" && k != "__type" {
				body[k] = v
			}
		}
	}
	if m := err.ErrorMessage(); m != "" {
		body["message"] = m
	}
	payload, _ := json.Marshal(body)
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Amzn-ErrorType", err.ErrorCode())
	w.WriteHeader(err.HTTPStatus())
	w.Write(payload)
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// SourceIP is the address a request came from (aws:SourceIp), "" outside a
// request; see protocol.SourceIP.
func SourceIP(ctx context.Context) string { return protocol.SourceIP(ctx) }

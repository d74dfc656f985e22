// Package rpcv2cbor speaks the Smithy RPC v2 CBOR protocol on the server
// side, the one current AWS SDKs speak to CloudWatch: every operation is
// POST /service/{ServiceName}/operation/{Operation} with the header
// Smithy-Protocol: rpc-v2-cbor and a body that is a CBOR map of the input's
// members (Content-Type application/cbor); answers are CBOR maps with the
// same header, and errors are CBOR maps {"__type": shape id, "message": ..}
// with the error's HTTP status
// (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html).
//
// It owns the wire: matching the path, checking the protocol header, the
// media type and the body's size, asking an Authenticator, a Limiter and an
// Authorizer before each operation, decoding CBOR into Go structs and
// encoding answers (Unmarshal, Marshal and the Op adapter; the CBOR itself
// is smithy-go's encoding/cbor), and writing errors as the SDKs read them,
// with the X-Amzn-Query-Error header of services that are
// awsQueryCompatible (CloudWatch). It knows nothing about what any
// operation means.
//
// Its siblings awsjson, query and restxml do the same for the other AWS
// protocols; the hooks (protocol.Authenticator, Authorizer, Limiter,
// Observer) are the same, so that one implementation serves all.
package rpcv2cbor

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol"
)

const (
	// ContentType is the media type of request and answer bodies.
	ContentType = "application/cbor"
	// ProtocolHeader names the header that marks a request and its answer
	// as RPC v2 CBOR; ProtocolName is its value.
	ProtocolHeader = "Smithy-Protocol"
	ProtocolName   = "rpc-v2-cbor"
	// DefaultMaxBodyBytes bounds a request body unless the router says
	// otherwise.
	DefaultMaxBodyBytes = 1 << 20
)

// APIError is protocol.APIError: every refusal a client should see.
type APIError = protocol.APIError

// PublicError is protocol.PublicError: a server fault a client may be told of.
type PublicError = protocol.PublicError

// HandlerFunc runs one operation on its decoded input and returns the
// answer, encoded with Marshal (nil answers with an empty structure).
// Op builds one from a typed function.
type HandlerFunc func(ctx context.Context, in *Input) (any, error)

// Op adapts a typed operation to a HandlerFunc: it binds the input to In
// (Input.Decode: a member of the wrong type is a SerializationException)
// and answers with *Out, encoded with Marshal.
func Op[In any, Out any](fn func(ctx context.Context, in *In) (*Out, error)) HandlerFunc {
	return func(ctx context.Context, in *Input) (any, error) {
		v := new(In)
		if err := in.Decode(v); err != nil {
			return nil, err
		}
		out, err := fn(ctx, v)
		if err != nil {
			return nil, err
		}
		if out == nil {
			return nil, nil
		}
		return out, nil
	}
}

// Service is one AWS service spoken over RPC v2 CBOR.
type Service struct {
	// ServiceName is the service shape's name, the path's second segment
	// ("GraniteServiceVersion20100801").
	ServiceName string
	// Namespace is the Smithy namespace of the service's shapes
	// ("com.amazonaws.cloudwatch"): an error's __type is Namespace#Shape.
	// Empty sends the bare shape name, which the SDKs accept as well.
	Namespace string
	// SigningName is the service in the SigV4 credential scope ("monitoring").
	SigningName string
	// ActionPrefix is the service's namespace in IAM actions ("cloudwatch"
	// makes the action of PutMetricData "cloudwatch:PutMetricData").
	ActionPrefix string
	// Ops maps operation names to handlers.
	Ops map[string]HandlerFunc
	// Resources says what an operation with its input is authorized on:
	// the resource ARNs and the condition keys. nil means "*" and none.
	Resources func(ctx context.Context, op string, in *Input) (resources []string, conditions map[string][]string)
	// InternalErrorCode is the error code of server faults (InternalFailure
	// when empty; CloudWatch's is InternalServiceError).
	InternalErrorCode string
	// QueryCompatible marks a service that is awsQueryCompatible, as
	// CloudWatch is: its error codes are those of its AWS Query protocol
	// ("InvalidParameterValue"), sent in the X-Amzn-Query-Error header
	// ("InvalidParameterValue;Sender"), which the SDKs then report as the
	// error's code, while __type names the error's shape.
	QueryCompatible bool
	// ErrorShapes maps an APIError's code to the name of its error shape
	// where the two differ ("InvalidParameterValue" ->
	// "InvalidParameterValueException"); a code missing here is its own
	// shape name. The SDKs pick their typed error by the shape.
	ErrorShapes map[string]string
}

// Router dispatches RPC v2 CBOR requests to services by the path's service
// name. Every hook is optional.
type Router struct {
	Auth     protocol.Authenticator
	Authz    protocol.Authorizer
	Limit    protocol.Limiter
	Observer protocol.Observer
	// Logger takes server faults (slog.Default when nil).
	Logger *slog.Logger
	// MaxBodyBytes bounds a body (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	services     map[string]*Service
}

// Handle adds a service.
func (rt *Router) Handle(s *Service) {
	if rt.services == nil {
		rt.services = map[string]*Service{}
	}
	rt.services[s.ServiceName] = s
}

// Serves says whether a request is RPC v2 CBOR (it has the Smithy-Protocol
// header, or its path is an operation of a service of the router), for a
// caller that shares the endpoint with other protocols.
func (rt *Router) Serves(r *http.Request) bool {
	if r.Header.Get(ProtocolHeader) != "" {
		return true
	}
	name, _, ok := splitPath(r.URL.Path)
	return ok && rt.services[name] != nil
}

// splitPath reads /service/{name}/operation/{op}.
func splitPath(path string) (service, op string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/service/")
	if !ok {
		return "", "", false
	}
	service, op, ok = strings.Cut(rest, "/operation/")
	if !ok || service == "" || op == "" || strings.Contains(service, "/") || strings.Contains(op, "/") {
		return "", "", false
	}
	return service, op, true
}

// ServeHTTP answers one request.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.Header().Set(ProtocolHeader, ProtocolName)
	logger := rt.Logger
	if logger == nil {
		logger = slog.Default()
	}

	svcName, opName, pathOK := splitPath(r.URL.Path)
	svc := rt.services[svcName]
	svcLabel, opLabel := "unknown", "unknown"
	if svc != nil {
		svcLabel = svc.SigningName
		if _, ok := svc.Ops[opName]; ok {
			opLabel = opName
		}
	}
	observe := func(code string) {
		if rt.Observer != nil {
			rt.Observer.ObserveRequest(svcLabel, opLabel, code, time.Since(start))
		}
	}
	fail := func(err error) {
		apiErr := protocol.AsAPIError(logger, svcLabel, opLabel, reqID, internalCode(svc), err)
		observe(apiErr.ErrorCode())
		WriteError(w, svc, apiErr)
	}

	if !pathOK || svc == nil {
		fail(&model.Error{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: "No operation is served at " + r.Method + " " + r.URL.Path + "; RPC v2 CBOR operations are POST /service/{ServiceName}/operation/{Operation}."})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(&model.Error{Code: "UnknownOperationException", Status: http.StatusMethodNotAllowed,
			Message: "RPC v2 CBOR operations take POST requests, not " + r.Method + "."})
		return
	}
	if got := r.Header.Get(ProtocolHeader); got != ProtocolName {
		msg := "The request has no " + ProtocolHeader + " header; RPC v2 CBOR requests carry " + ProtocolHeader + ": " + ProtocolName + "."
		if got != "" {
			msg = fmt.Sprintf("The %s header is %q; this endpoint speaks %s.", ProtocolHeader, got, ProtocolName)
		}
		fail(&model.Error{Code: "SerializationException", Status: http.StatusBadRequest, Message: msg})
		return
	}
	raw, err := rt.readBody(r)
	if err != nil {
		fail(err)
		return
	}
	body, err := rt.decompress(r.Header.Get("Content-Encoding"), raw)
	if err != nil {
		fail(err)
		return
	}
	if len(body) > 0 {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != ContentType {
			fail(&model.Error{Code: "UnsupportedMediaTypeException", Status: http.StatusUnsupportedMediaType,
				Message: fmt.Sprintf("The request body is %q; RPC v2 CBOR bodies are %s.", r.Header.Get("Content-Type"), ContentType)})
			return
		}
	}
	ctx := protocol.WithSourceIP(r.Context(), r.RemoteAddr)
	if rt.Auth != nil {
		// The signature covers the body as sent (compressed or not).
		ctx, err = rt.Auth.Authenticate(ctx, r, raw, svc.SigningName)
		if err != nil {
			fail(err)
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
		fail(&model.Error{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("Operation %q is not supported by this endpoint.", opName)})
		return
	}
	in, err := decodeInput(body)
	if err != nil {
		fail(err)
		return
	}
	if rt.Authz != nil {
		on := func() ([]string, map[string][]string) {
			resources, conditions := []string{"*"}, map[string][]string{}
			if svc.Resources != nil {
				resources, conditions = svc.Resources(ctx, opName, in)
				if conditions == nil {
					conditions = map[string][]string{}
				}
			}
			conditions["aws:SourceIp"] = []string{protocol.SourceIP(ctx)}
			return resources, conditions
		}
		if err := rt.Authz.Authorize(ctx, svc.ActionPrefix+":"+opName, on); err != nil {
			fail(err)
			return
		}
	}
	out, err := handler(ctx, in)
	if err != nil && r.Context().Err() != nil {
		logger.Debug("caller left before the answer", "service", svcLabel, "operation", opLabel, "request_id", reqID)
		observe("ClientClosedRequest")
		return
	}
	if err != nil {
		fail(err)
		return
	}
	payload, err := Marshal(out)
	if err != nil {
		fail(fmt.Errorf("encode %s answer: %w", opName, err))
		return
	}
	observe("OK")
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	w.Write(payload)
}

func internalCode(svc *Service) string {
	if svc == nil {
		return ""
	}
	return svc.InternalErrorCode
}

// readBody reads a request's body under the size limit.
func (rt *Router) readBody(r *http.Request) ([]byte, error) {
	limit := rt.limit()
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, serializationError("The request body could not be read.")
	}
	if int64(len(body)) > limit {
		return nil, &model.Error{Code: "RequestEntityTooLargeException", Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("The request body is larger than the limit of %d bytes.", limit)}
	}
	return body, nil
}

// decompress undoes a request's Content-Encoding: the SDKs gzip the bodies
// of operations with Smithy's requestCompression trait (CloudWatch's
// PutMetricData) once they reach 10 KiB. The body as decompressed is under
// the same limit as a body as sent.
func (rt *Router) decompress(encoding string, raw []byte) ([]byte, error) {
	body := raw
	for _, enc := range strings.Split(encoding, ",") {
		switch strings.ToLower(strings.TrimSpace(enc)) {
		case "", "identity":
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				return nil, serializationError("The request body is not valid gzip: %v.", err)
			}
			limit := rt.limit()
			out, err := io.ReadAll(io.LimitReader(zr, limit+1))
			if err != nil {
				return nil, serializationError("The request body is not valid gzip: %v.", err)
			}
			if int64(len(out)) > limit {
				return nil, &model.Error{Code: "RequestEntityTooLargeException", Status: http.StatusRequestEntityTooLarge,
					Message: fmt.Sprintf("The request body, decompressed, is larger than the limit of %d bytes.", limit)}
			}
			body = out
		default:
			return nil, &model.Error{Code: "UnsupportedMediaTypeException", Status: http.StatusUnsupportedMediaType,
				Message: fmt.Sprintf("The Content-Encoding %q is not supported; request bodies may be gzip-compressed or not at all.", encoding)}
		}
	}
	return body, nil
}

func (rt *Router) limit() int64 {
	if rt.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return rt.MaxBodyBytes
}

// builtinShapes are the shapes of the protocol's own errors whose codes
// are not their shape names.
var builtinShapes = map[string]string{
	"Throttling": "ThrottlingException",
}

// ErrorType is the __type of an error of a service (svc may be nil): the
// shape's id, Namespace#Shape, where the shape is svc.ErrorShapes[code] or
// else the code itself.
func ErrorType(svc *Service, code string) string {
	shape := code
	if svc != nil {
		if s, ok := svc.ErrorShapes[code]; ok {
			shape = s
		} else if s, ok := builtinShapes[code]; ok {
			shape = s
		}
		if svc.Namespace != "" && !strings.Contains(shape, "#") {
			shape = svc.Namespace + "#" + shape
		}
	}
	return shape
}

// ErrorFielder is an APIError that carries members besides its message,
// as some error shapes do (CloudWatch's ResourceNotFoundException has
// ResourceType and ResourceId): they are written as text members of the
// error's map, under the names the shape gives them.
type ErrorFielder interface {
	ErrorFields() map[string]string
}

// WriteError answers with an error as the SDKs read it: the HTTP status,
// and a CBOR map with __type (ErrorType) and the message, under both
// "message" and "Message" because the services' error shapes spell that
// member either way (CloudWatch's InvalidParameterValueException has
// "message", its KmsAccessDeniedException "Message") and the SDKs fill
// their typed errors from the member their shape names. For a
// QueryCompatible service the X-Amzn-Query-Error header carries the code
// and the fault ("InvalidParameterValue;Sender"), which the SDKs report as
// the error's code. svc may be nil (the request named no service).
func WriteError(w http.ResponseWriter, svc *Service, err APIError) {
	status := err.HTTPStatus()
	body := cbor.Map{"__type": cbor.String(ErrorType(svc, err.ErrorCode()))}
	if f, ok := err.(ErrorFielder); ok {
		for k, v := range f.ErrorFields() {
			if v != "" && k != "__type" {
				body[k] = cbor.String(v)
			}
		}
	}
	if m := err.ErrorMessage(); m != "" {
		body["message"] = cbor.String(m)
		body["Message"] = cbor.String(m)
	}
	h := w.Header()
	h.Set(ProtocolHeader, ProtocolName)
	h.Set("Content-Type", ContentType)
	if svc != nil && svc.QueryCompatible {
		fault := "Sender"
		if status >= 500 {
			fault = "Receiver"
		}
		h.Set("X-Amzn-Query-Error", err.ErrorCode()+";"+fault)
	}
	w.WriteHeader(status)
	w.Write(cbor.Encode(body))
}

// Throttled is the answer to a caller over its request rate: CloudWatch's
// Throttling code (its Query protocol's), whose shape is
// ThrottlingException; the SDKs retry both.
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

// Package restxml speaks the AWS REST-XML protocol on the server side, the
// one Route 53 answers: the operation is the request's method and path
// ("POST /2013-04-01/hostedzone/{Id}/rrset"), its members come from path
// segments, the query string, headers and an XML body, and answers are XML
// documents in the service's namespace with an HTTP status and headers of
// their own.
//
// It owns the wire: matching a request to a route (a trailing slash is the
// same path, as the SDKs send some paths with one), reading the body under
// a size limit, asking an Authenticator, a Limiter and an Authorizer before
// each operation, decoding XML bodies (Decode, strict about the document's
// root and namespace), encoding answers (encoding/xml of the handler's
// result) and writing errors as AWS's REST-XML services do
// (<ErrorResponse><Error><Type>Sender</Type><Code>...). It knows nothing
// about what any operation means.
//
// Its siblings awsjson and query do the same for AWS JSON and AWS Query;
// the hooks (protocol.Authenticator, Authorizer, Limiter, Observer) are the
// same, so that one implementation serves all three.
package restxml

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol"
)

// DefaultMaxBodyBytes bounds a request body unless the router says
// otherwise (a Route 53 change batch of 1,000 records fits well inside).
const DefaultMaxBodyBytes = 1 << 20

// APIError is an error that knows its AWS shape (model.Error is one).
// APIError is protocol.APIError: every refusal a client should see.
type APIError = protocol.APIError

// MessagesError is an APIError with a list of messages besides its message
// (Route 53's InvalidChangeBatch): they are written as
// <Messages><Message>..</Message></Messages> inside <Error>.
type MessagesError interface {
	APIError
	ErrorMessages() []string
}

// PublicError is protocol.PublicError: a server fault a client may be told of.
type PublicError = protocol.PublicError

// Request is one operation's input as it came on the wire.
type Request struct {
	// Op is the operation's name ("ChangeResourceRecordSets").
	Op string
	// Path holds the path's parameters by the names of the route's
	// pattern ({Id} is Path["Id"]), unescaped.
	Path   map[string]string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Response is an operation's answer. A nil Body answers with no body.
type Response struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Header holds headers to add (Route 53's Location, say).
	Header http.Header
	// Body is encoded with encoding/xml: a struct whose XMLName names the
	// root element and the namespace.
	Body any
}

// HandlerFunc runs one operation.
type HandlerFunc func(ctx context.Context, r *Request) (*Response, error)

// Route maps a method and a path pattern to an operation. The pattern's
// segments in braces ("{Id}") match any one non-empty segment.
type Route struct {
	Method  string
	Pattern string
	Op      string
	Handler HandlerFunc
}

// Service is one AWS service spoken over REST-XML.
type Service struct {
	// SigningName is the service in the SigV4 credential scope ("route53").
	SigningName string
	// PathPrefix is where the service's paths begin ("/2013-04-01/").
	PathPrefix string
	// Namespace is the XML namespace of answers and errors.
	Namespace string
	// ActionPrefix is the service's namespace in IAM actions ("route53").
	ActionPrefix string
	// Routes are the operations.
	Routes []Route
	// Resources says what an operation is authorized on (resource ARNs and
	// condition keys); nil means "*" and none.
	Resources func(ctx context.Context, r *Request) (resources []string, conditions map[string][]string)
	// InternalErrorCode is the code of server faults (InternalFailure when
	// empty).
	InternalErrorCode string
}

// Router dispatches REST-XML requests to services by path prefix. Every
// hook is optional.
type Router struct {
	Auth     protocol.Authenticator
	Authz    protocol.Authorizer
	Limit    protocol.Limiter
	Observer protocol.Observer
	// Logger takes server faults (slog.Default when nil).
	Logger *slog.Logger
	// MaxBodyBytes bounds a body (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	services     []*Service
}

// Handle adds a service.
func (rt *Router) Handle(s *Service) { rt.services = append(rt.services, s) }

// Serves says whether a request's path is one of a service of the router,
// for a caller that shares the endpoint with other protocols.
func (rt *Router) Serves(r *http.Request) bool {
	return rt.service(r.URL.Path) != nil
}

func (rt *Router) service(path string) *Service {
	for _, s := range rt.services {
		if strings.HasPrefix(path, s.PathPrefix) {
			return s
		}
	}
	return nil
}

// match finds the route of a method and path; pathKnown says whether some
// route has the path (with another method, when route is nil), so that the
// error can say which.
func (s *Service) match(method, path string) (route *Route, params map[string]string, pathKnown bool) {
	segs := splitPath(path)
	for i := range s.Routes {
		rt := &s.Routes[i]
		p, ok := matchPattern(splitPath(rt.Pattern), segs)
		if !ok {
			continue
		}
		pathKnown = true
		if rt.Method == method {
			return rt, p, true
		}
	}
	return nil, nil, pathKnown
}

// splitPath splits a path into its segments, a trailing slash ignored.
func splitPath(path string) []string {
	path = strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

func matchPattern(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
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
	svc := rt.service(r.URL.Path)
	if svc == nil {
		WriteError(w, "", reqID, &model.Error{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: "No operation is served at " + r.Method + " " + r.URL.Path + "."})
		return
	}
	opLabel := "unknown"
	observe := func(code string) {
		if rt.Observer != nil {
			rt.Observer.ObserveRequest(svc.SigningName, opLabel, code, time.Since(start))
		}
	}
	fail := func(err error) {
		rt.answerError(w, logger, svc, reqID, opLabel, err, observe)
	}
	// The escaped path keeps an escaped "/" inside a segment.
	path := r.URL.EscapedPath()
	route, params, pathKnown := svc.match(r.Method, path)
	if route != nil {
		opLabel = route.Op
	}
	body, err := rt.readBody(r)
	if err != nil {
		fail(err)
		return
	}
	ctx := protocol.WithSourceIP(r.Context(), r.RemoteAddr)
	if rt.Auth != nil {
		ctx, err = rt.Auth.Authenticate(ctx, r, body, svc.SigningName)
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
	if route == nil {
		if pathKnown {
			fail(&model.Error{Code: "UnknownOperationException", Status: http.StatusMethodNotAllowed,
				Message: "The method " + r.Method + " is not allowed on " + r.URL.Path + "."})
			return
		}
		fail(&model.Error{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: "No operation is served at " + r.Method + " " + r.URL.Path + "."})
		return
	}
	for k, v := range params {
		if u, err := url.PathUnescape(v); err == nil {
			params[k] = u
		}
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		fail(&model.Error{Code: "InvalidInput", Status: http.StatusBadRequest, Message: "The query string is malformed."})
		return
	}
	req := &Request{Op: route.Op, Path: params, Query: query, Header: r.Header, Body: body}
	if rt.Authz != nil {
		on := func() ([]string, map[string][]string) {
			resources, conditions := []string{"*"}, map[string][]string{}
			if svc.Resources != nil {
				resources, conditions = svc.Resources(ctx, req)
				if conditions == nil {
					conditions = map[string][]string{}
				}
			}
			conditions["aws:SourceIp"] = []string{protocol.SourceIP(ctx)}
			return resources, conditions
		}
		if err := rt.Authz.Authorize(ctx, svc.ActionPrefix+":"+route.Op, on); err != nil {
			fail(err)
			return
		}
	}
	resp, err := route.Handler(ctx, req)
	if err != nil && r.Context().Err() != nil {
		logger.Debug("caller left before the answer", "service", svc.SigningName, "operation", opLabel, "request_id", reqID)
		observe("ClientClosedRequest")
		return
	}
	if err != nil {
		fail(err)
		return
	}
	if resp == nil {
		resp = &Response{}
	}
	var payload []byte
	if resp.Body != nil {
		b, err := xml.Marshal(resp.Body)
		if err != nil {
			fail(fmt.Errorf("encode %s answer: %w", route.Op, err))
			return
		}
		payload = append([]byte(xml.Header), b...)
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	observe("OK")
	if payload != nil {
		w.Header().Set("Content-Type", "text/xml")
	}
	w.WriteHeader(status)
	w.Write(payload)
}

// readBody reads a request's body under the size limit.
func (rt *Router) readBody(r *http.Request) ([]byte, error) {
	limit := rt.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, &model.Error{Code: "InvalidInput", Status: http.StatusBadRequest, Message: "The request body could not be read."}
	}
	if int64(len(body)) > limit {
		return nil, &model.Error{Code: "InvalidInput", Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("The request body is larger than the limit of %d bytes.", limit)}
	}
	return body, nil
}

func (rt *Router) answerError(w http.ResponseWriter, logger *slog.Logger, svc *Service, reqID, op string, err error, observe func(string)) {
	apiErr := protocol.AsAPIError(logger, svc.SigningName, op, reqID, svc.InternalErrorCode, err)
	observe(apiErr.ErrorCode())
	WriteError(w, svc.Namespace, reqID, apiErr)
}

// errorResponse is the shape of every error answer.
type errorResponse struct {
	XMLName   xml.Name  `xml:"ErrorResponse"`
	Xmlns     string    `xml:"xmlns,attr,omitempty"`
	Error     errorBody `xml:"Error"`
	RequestID string    `xml:"RequestId"`
}

type errorBody struct {
	Type     string   `xml:"Type"`
	Code     string   `xml:"Code"`
	Message  string   `xml:"Message"`
	Messages []string `xml:"Messages>Message,omitempty"`
}

// WriteError answers with an error as AWS's REST-XML services do: Type
// Sender for a 4xx status and Receiver for a 5xx one; the SDKs read Code
// (the name they map to a typed error), Message and, for a MessagesError,
// Messages.
func WriteError(w http.ResponseWriter, namespace, requestID string, err APIError) {
	status := err.HTTPStatus()
	kind := "Sender"
	if status >= 500 {
		kind = "Receiver"
	}
	e := errorResponse{Xmlns: namespace, RequestID: requestID,
		Error: errorBody{Type: kind, Code: err.ErrorCode(), Message: err.ErrorMessage()}}
	var me MessagesError
	if errors.As(err, &me) {
		e.Error.Messages = me.ErrorMessages()
	}
	b, merr := xml.Marshal(e)
	if merr != nil {
		b = []byte("<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code></Error></ErrorResponse>")
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-ErrorType", err.ErrorCode())
	w.WriteHeader(status)
	w.Write(append([]byte(xml.Header), b...))
}

// Decode reads an XML request body into v, whose XMLName names the root
// element. A body that is not well-formed XML, or whose root is another
// element or in another namespace than namespace, is InvalidInput; members
// the struct does not know are ignored (newer SDKs send members an older
// server does not know).
func Decode(body []byte, namespace string, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &model.Error{Code: "InvalidInput", Status: http.StatusBadRequest, Message: "The request body is empty; this operation takes an XML document."}
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	// Find the root element first, to say clearly when it is wrong.
	var root xml.StartElement
	for {
		tok, err := d.Token()
		if err != nil {
			return malformed(err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	if namespace != "" && root.Name.Space != namespace {
		return &model.Error{Code: "InvalidInput", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("The root element <%s> is not in the namespace %s.", root.Name.Local, namespace)}
	}
	if err := d.DecodeElement(v, &root); err != nil {
		return malformed(err)
	}
	// Nothing but whitespace, comments or processing instructions may follow.
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return malformed(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return malformed(errors.New("text after the root element"))
			}
		case xml.Comment, xml.ProcInst:
		default:
			return malformed(errors.New("another element after the root element"))
		}
	}
}

func malformed(err error) error {
	var se *xml.SyntaxError
	msg := err.Error()
	if errors.As(err, &se) {
		msg = fmt.Sprintf("line %d: %s", se.Line, se.Msg)
	}
	var ue xml.UnmarshalError
	if errors.As(err, &ue) {
		msg = string(ue)
	}
	return &model.Error{Code: "InvalidInput", Status: http.StatusBadRequest, Message: "Could not parse the request body as XML: " + msg}
}

// Throttled is the answer to a caller over its request rate.
func Throttled() *model.Error {
	return &model.Error{Code: "Throttling", Status: http.StatusBadRequest, Message: "Rate exceeded"}
}

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

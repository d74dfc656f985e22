package query

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol"
)

const (
	iamVersion = "2010-05-08"
	stsVersion = "2011-06-15"
	stsNS      = "https://sts.amazonaws.com/doc/2011-06-15/"
)

type getUserIn struct {
	UserName string
	MaxItems *int
}

type getUserOut struct {
	User user `xml:"User"`
}

type publicErr struct{}

func (publicErr) Error() string         { return "disk full on /var/lib/flotta" }
func (publicErr) PublicMessage() string { return "The server's disk is full." }

// routerServices are a small IAM, a small STS, and a service that shares
// IAM's version but not its signing name.
func routerServices() []*Service {
	iam := &Service{SigningName: "iam", Version: iamVersion, Namespace: ns, ActionPrefix: "iam", InternalErrorCode: "ServiceFailure",
		Ops: map[string]HandlerFunc{
			"GetUser": Op(func(ctx context.Context, in *getUserIn) (*getUserOut, error) {
				switch in.UserName {
				case "missing":
					return nil, &model.Error{Code: "NoSuchEntity", Status: http.StatusNotFound, Message: "The user with name missing cannot be found."}
				case "crash":
					return nil, errors.New("etcd said secret-detail")
				case "full":
					return nil, publicErr{}
				case "leave":
					return nil, context.Canceled
				}
				return &getUserOut{User: user{UserName: in.UserName, CreateDate: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}}, nil
			}),
			"DeleteUser": OpNoResult(func(ctx context.Context, in *getUserIn) error { return nil }),
		},
	}
	sts := &Service{SigningName: "sts", Version: stsVersion, Namespace: stsNS, ActionPrefix: "sts",
		Ops: map[string]HandlerFunc{
			"GetCallerIdentity": Op(func(ctx context.Context, in *struct{}) (*struct{ Account string }, error) {
				return &struct{ Account string }{"000000000000"}, nil
			}),
			"AssumeRoleWithWebIdentity": Op(func(ctx context.Context, in *struct{}) (*struct{}, error) { return nil, nil }),
		},
		Public: map[string]bool{"AssumeRoleWithWebIdentity": true},
	}
	other := &Service{SigningName: "other", Version: iamVersion, Namespace: "urn:other", ActionPrefix: "other",
		Ops: map[string]HandlerFunc{
			"GetUser": Op(func(ctx context.Context, in *getUserIn) (*getUserOut, error) {
				return &getUserOut{User: user{UserName: "from-other"}}, nil
			}),
		},
	}
	return []*Service{iam, sts, other}
}

func newRouter(log *bytes.Buffer) *Router {
	rt := &Router{MaxBodyBytes: 256, Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, s := range routerServices() {
		rt.Handle(s)
	}
	return rt
}

func authHeader(service string) string {
	return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/" + service + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
}

func post(body string, header ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

// errorBody is the XML of an error answer.
type errorBody struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func TestRouter(t *testing.T) {
	big := "Action=GetUser&Version=" + iamVersion + "&UserName=" + strings.Repeat("x", 256)
	cases := []struct {
		name      string
		req       *http.Request
		status    int
		code      string // "" for a success
		message   string // checked when set
		namespace string // of the answer, checked when set
		contains  string // of a success's body
	}{
		{"POST form", post("Action=GetUser&Version=" + iamVersion + "&UserName=bob"), 200, "", "", ns,
			"<GetUserResult><User><UserName>bob</UserName><CreateDate>2024-01-02T03:04:05Z</CreateDate></User></GetUserResult>"},
		{"GET query string", httptest.NewRequest(http.MethodGet, "/?Action=GetUser&Version="+iamVersion+"&UserName=carol", nil), 200, "", "", ns,
			"<UserName>carol</UserName>"},
		{"no result", post("Action=DeleteUser&Version=" + iamVersion + "&UserName=bob"), 200, "", "", ns,
			`<DeleteUserResponse xmlns="` + ns + `"><ResponseMetadata><RequestId>`},
		{"signed for sts", post("Action=GetCallerIdentity&Version="+stsVersion, "Authorization", authHeader("sts")), 200, "", "", stsNS,
			"<GetCallerIdentityResult><Account>000000000000</Account></GetCallerIdentityResult>"},
		{"the signing name picks among services of one version", post("Action=GetUser&Version="+iamVersion, "Authorization", authHeader("other")), 200, "", "", "urn:other",
			"<UserName>from-other</UserName>"},
		{"signed for iam", post("Action=GetUser&Version="+iamVersion+"&UserName=dan", "Authorization", authHeader("iam")), 200, "", "", ns,
			"<UserName>dan</UserName>"},
		{"PUT", httptest.NewRequest(http.MethodPut, "/", strings.NewReader("Action=GetUser")), 400, "InvalidAction",
			"Query services take POST (or GET) requests; PUT is not an operation.", "", ""},
		{"JSON body", post("{}", "Content-Type", "application/x-amz-json-1.1"), 400, "MissingAction",
			`Query requests are POSTed as application/x-www-form-urlencoded; this one is "application/x-amz-json-1.1".`, "", ""},
		{"no Action", post("Version=" + iamVersion), 400, "MissingAction", "Missing Action", "", ""},
		{"unknown Action", post("Action=Nope&Version=" + iamVersion), 400, "InvalidAction", "Could not find operation Nope for version 2010-05-08", ns, ""},
		{"unknown Version", post("Action=GetUser&Version=2099-01-01"), 400, "InvalidAction", "Could not find operation GetUser for version 2099-01-01", "", ""},
		{"no Version", post("Action=GetUser"), 400, "InvalidAction", "Could not find operation GetUser for version NO_VERSION_SPECIFIED", "", ""},
		{"no Version, signed", post("Action=GetUser", "Authorization", authHeader("iam")), 400, "InvalidAction",
			"Could not find operation GetUser for version NO_VERSION_SPECIFIED", ns, ""},
		{"another service's Version", post("Action=GetCallerIdentity&Version="+iamVersion, "Authorization", authHeader("sts")), 400, "InvalidAction",
			"Could not find operation GetCallerIdentity for version 2010-05-08", stsNS, ""},
		{"a signing name nobody serves", post("Action=GetUser&Version="+iamVersion, "Authorization", authHeader("ec2")), 400, "InvalidAction",
			"Could not find operation GetUser for version 2010-05-08", "", ""},
		{"body over the limit", post(big), 413, "RequestEntityTooLarge", "The request body is larger than the limit of 256 bytes.", "", ""},
		{"malformed form", post("Action=GetUser&Version=" + iamVersion + "&UserName=%zz"), 404, "MalformedQueryString",
			`The query string is malformed: invalid escape "%zz".`, "", ""},
		{"malformed GET", httptest.NewRequest(http.MethodGet, "/?Action=GetUser&x=%zz", nil), 404, "MalformedQueryString", "", "", ""},
		{"malformed value", post("Action=GetUser&Version=" + iamVersion + "&UserName=bob&MaxItems=ten"), 400, "ValidationError",
			"1 validation error detected: Value 'ten' at 'maxItems' failed to satisfy constraint: Member must be an integer", ns, ""},
		{"handler refusal", post("Action=GetUser&Version=" + iamVersion + "&UserName=missing"), 404, "NoSuchEntity",
			"The user with name missing cannot be found.", ns, ""},
		{"server fault", post("Action=GetUser&Version=" + iamVersion + "&UserName=crash"), 500, "ServiceFailure", "", ns, ""},
		{"server fault with a public message", post("Action=GetUser&Version=" + iamVersion + "&UserName=full"), 500, "ServiceFailure",
			"The server's disk is full.", ns, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log bytes.Buffer
			w := httptest.NewRecorder()
			newRouter(&log).ServeHTTP(w, c.req)
			reqID := w.Header().Get("X-Amzn-RequestId")
			if len(reqID) != 36 {
				t.Errorf("X-Amzn-RequestId = %q", reqID)
			}
			if w.Code != c.status {
				t.Errorf("status %d, want %d; body %s", w.Code, c.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type %q", ct)
			}
			if c.namespace != "" && !strings.Contains(w.Body.String(), `xmlns="`+c.namespace+`"`) {
				t.Errorf("body %s lacks namespace %s", w.Body, c.namespace)
			}
			if c.code == "" {
				body := w.Body.String()
				if !strings.Contains(body, c.contains) || !strings.Contains(body, "<RequestId>"+reqID+"</RequestId></ResponseMetadata></") || !strings.HasSuffix(body, "Response>") {
					t.Errorf("body %s\nwant it to contain %s and end with request id %s", w.Body, c.contains, reqID)
				}
				return
			}
			var e errorBody
			if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil {
				t.Fatalf("error body %s: %v", w.Body, err)
			}
			wantType := "Sender"
			if c.status >= 500 {
				wantType = "Receiver"
			}
			if e.Code != c.code || e.Type != wantType || e.RequestID != reqID {
				t.Errorf("error %+v, want code %s type %s request id %s", e, c.code, wantType, reqID)
			}
			if c.message != "" && e.Message != c.message {
				t.Errorf("message %q, want %q", e.Message, c.message)
			}
		})
	}
}

func TestServerFaultIsLoggedNotShown(t *testing.T) {
	var log bytes.Buffer
	w := httptest.NewRecorder()
	newRouter(&log).ServeHTTP(w, post("Action=GetUser&Version="+iamVersion+"&UserName=crash"))
	reqID := w.Header().Get("X-Amzn-RequestId")
	if strings.Contains(w.Body.String(), "secret-detail") {
		t.Errorf("the answer shows the cause: %s", w.Body)
	}
	want := "The server could not complete the request; its log has the details under request id " + reqID + "."
	if !strings.Contains(w.Body.String(), want) {
		t.Errorf("answer %s lacks %q", w.Body, want)
	}
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "secret-detail") || !strings.Contains(log.String(), reqID) {
		t.Errorf("log %q lacks the error, its cause and the request id", log.String())
	}
}

func TestDefaultInternalErrorCode(t *testing.T) {
	rt := &Router{Logger: slog.New(slog.DiscardHandler)}
	rt.Handle(&Service{SigningName: "sts", Version: stsVersion, Ops: map[string]HandlerFunc{
		"Boom": func(context.Context, url.Values) (any, error) { return nil, errors.New("boom") },
	}})
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, post("Action=Boom&Version="+stsVersion))
	if w.Code != 500 || !strings.Contains(w.Body.String(), "<Code>InternalFailure</Code>") {
		t.Errorf("got %d %s, want 500 InternalFailure", w.Code, w.Body)
	}
}

func TestHandleReplacesAService(t *testing.T) {
	rt := newRouter(&bytes.Buffer{})
	rt.Handle(&Service{SigningName: "iam", Version: iamVersion, Namespace: ns, Ops: map[string]HandlerFunc{}})
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, post("Action=GetUser&Version="+iamVersion, "Authorization", authHeader("iam")))
	if w.Code != 400 || !strings.Contains(w.Body.String(), "<Code>InvalidAction</Code>") {
		t.Errorf("got %d %s, want the replaced service's InvalidAction", w.Code, w.Body)
	}
}

type hooks struct {
	authErr    error
	authzErr   error
	allow      bool
	authCalls  []string // signing name and body
	authzCalls []string
	observed   []string
}

type whoKey struct{}

func (h *hooks) Authenticate(ctx context.Context, r *http.Request, body []byte, signingName string) (context.Context, error) {
	h.authCalls = append(h.authCalls, signingName+" "+string(body))
	if h.authErr != nil {
		return nil, h.authErr
	}
	return context.WithValue(ctx, whoKey{}, "alice"), nil
}

func (h *hooks) Authorize(ctx context.Context, action string, on protocol.Resolver) error {
	h.authzCalls = append(h.authzCalls, ctx.Value(whoKey{}).(string)+" "+action)
	resources, conditions := on()
	if len(resources) != 1 || resources[0] != "*" || len(conditions["aws:SourceIp"]) != 1 {
		return fmt.Errorf("authorized on %v with %v, want * and the source address", resources, conditions)
	}
	return h.authzErr
}

func (h *hooks) Allow(ctx context.Context) (bool, time.Duration) {
	return h.allow, 1500 * time.Millisecond
}

func (h *hooks) ObserveRequest(service, operation, code string, _ time.Duration) {
	h.observed = append(h.observed, service+" "+operation+" "+code)
}

func hookedRouter(h *hooks) *Router {
	rt := newRouter(&bytes.Buffer{})
	rt.Auth, rt.Authz, rt.Limit, rt.Observer = h, h, h, h
	return rt
}

func TestHooks(t *testing.T) {
	t.Run("authenticated, authorized, observed", func(t *testing.T) {
		h := &hooks{allow: true}
		body := "Action=GetUser&Version=" + iamVersion + "&UserName=bob"
		w := httptest.NewRecorder()
		hookedRouter(h).ServeHTTP(w, post(body, "Authorization", authHeader("iam")))
		if w.Code != 200 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if len(h.authCalls) != 1 || h.authCalls[0] != "iam "+body {
			t.Errorf("Authenticate calls %q", h.authCalls)
		}
		if len(h.authzCalls) != 1 || h.authzCalls[0] != "alice iam:GetUser" {
			t.Errorf("Authorize calls %q", h.authzCalls)
		}
		if len(h.observed) != 1 || h.observed[0] != "iam GetUser OK" {
			t.Errorf("observed %q", h.observed)
		}
	})
	t.Run("GET authenticates an empty body", func(t *testing.T) {
		h := &hooks{allow: true}
		w := httptest.NewRecorder()
		hookedRouter(h).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/?Action=GetCallerIdentity&Version="+stsVersion+"&X-Amz-Credential=AKID%2F20240102%2Fus-east-1%2Fsts%2Faws4_request", nil))
		if w.Code != 200 || len(h.authCalls) != 1 || h.authCalls[0] != "sts " {
			t.Errorf("status %d, Authenticate calls %q", w.Code, h.authCalls)
		}
	})
	t.Run("authentication refused", func(t *testing.T) {
		h := &hooks{allow: true, authErr: &model.Error{Code: "InvalidClientTokenId", Status: 403, Message: "The security token included in the request is invalid."}}
		w := httptest.NewRecorder()
		hookedRouter(h).ServeHTTP(w, post("Action=GetUser&Version="+iamVersion, "Authorization", authHeader("iam")))
		if w.Code != 403 || !strings.Contains(w.Body.String(), "<Code>InvalidClientTokenId</Code>") || len(h.authzCalls) != 0 {
			t.Errorf("got %d %s, Authorize calls %q", w.Code, w.Body, h.authzCalls)
		}
		if len(h.observed) != 1 || h.observed[0] != "iam GetUser InvalidClientTokenId" {
			t.Errorf("observed %q", h.observed)
		}
	})
	t.Run("unknown action is authenticated first, then refused before authorization", func(t *testing.T) {
		h := &hooks{allow: true}
		w := httptest.NewRecorder()
		hookedRouter(h).ServeHTTP(w, post("Action=Nope&Version="+iamVersion, "Authorization", authHeader("iam")))
		if w.Code != 400 || len(h.authCalls) != 1 || len(h.authzCalls) != 0 {
			t.Errorf("got %d, Authenticate %q, Authorize %q", w.Code, h.authCalls, h.authzCalls)
		}
		if len(h.observed) != 1 || h.observed[0] != "iam unknown InvalidAction" {
			t.Errorf("observed %q", h.observed)
		}
	})
	t.Run("authorization refused", func(t *testing.T) {
		h := &hooks{allow: true, authzErr: &model.Error{Code: "AccessDenied", Status: 403, Message: "User: alice is not authorized to perform: iam:DeleteUser"}}
		w := httptest.NewRecorder()
		hookedRouter(h).ServeHTTP(w, post("Action=DeleteUser&Version="+iamVersion+"&UserName=bob", "Authorization", authHeader("iam")))
		if w.Code != 403 || !strings.Contains(w.Body.String(), "<Code>AccessDenied</Code><Message>User: alice is not authorized to perform: iam:DeleteUser</Message>") {
			t.Errorf("got %d %s", w.Code, w.Body)
		}
	})
	t.Run("throttled", func(t *testing.T) {
		h := &hooks{allow: false}
		w := httptest.NewRecorder()
		hookedRouter(h).ServeHTTP(w, post("Action=GetUser&Version="+iamVersion, "Authorization", authHeader("iam")))
		if w.Code != 400 || !strings.Contains(w.Body.String(), "<Code>Throttling</Code><Message>Rate exceeded</Message>") {
			t.Errorf("got %d %s", w.Code, w.Body)
		}
		if w.Header().Get("X-Amz-Retry-After") != "1500" || w.Header().Get("Retry-After") != "2" || len(h.authzCalls) != 0 {
			t.Errorf("retry headers %v, Authorize calls %q", w.Header(), h.authzCalls)
		}
	})
	t.Run("public actions skip both", func(t *testing.T) {
		h := &hooks{allow: false, authErr: errors.New("must not be asked")}
		w := httptest.NewRecorder()
		hookedRouter(h).ServeHTTP(w, post("Action=AssumeRoleWithWebIdentity&Version="+stsVersion))
		if w.Code != 200 || len(h.authCalls) != 0 || len(h.authzCalls) != 0 {
			t.Errorf("got %d %s, Authenticate %q, Authorize %q", w.Code, w.Body, h.authCalls, h.authzCalls)
		}
		if !strings.Contains(w.Body.String(), "<AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResult>") {
			t.Errorf("a nil result of an operation with an output must still write its Result: %s", w.Body)
		}
	})
}

func TestCanceledCallerGetsNothing(t *testing.T) {
	var log bytes.Buffer
	h := &hooks{}
	rt := newRouter(&log)
	rt.Observer = h
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, post("Action=GetUser&Version="+iamVersion+"&UserName=leave").WithContext(ctx))
	if w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" {
		t.Errorf("wrote %q to a caller that left", w.Body)
	}
	if len(h.observed) != 1 || h.observed[0] != "iam GetUser ClientClosedRequest" {
		t.Errorf("observed %q", h.observed)
	}
	if !strings.Contains(log.String(), "level=DEBUG") || strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("log %q: want a debug line and no error", log.String())
	}

	// A canceled context from below, with the caller still there, is an
	// internal error logged at debug: the server is stopping.
	log.Reset()
	w = httptest.NewRecorder()
	rt.ServeHTTP(w, post("Action=GetUser&Version="+iamVersion+"&UserName=leave"))
	if w.Code != 500 || strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "request abandoned") {
		t.Errorf("got %d, log %q", w.Code, log.String())
	}
}

func TestSigningName(t *testing.T) {
	cases := []struct {
		auth, query, want string
	}{
		{authHeader("iam"), "", "iam"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240102/eu-west-1/sts/aws4_request,SignedHeaders=host,Signature=x", "", "sts"},
		{"AWS4-HMAC-SHA256 SignedHeaders=host, Credential=AKID/20240102/us-east-1/elasticloadbalancing/aws4_request, Signature=x", "", "elasticloadbalancing"},
		{"AWS4-ECDSA-P256-SHA256 Credential=AKID/20240102/monitoring/aws4_request, SignedHeaders=host, Signature=x", "", "monitoring"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/iam/aws4_requestX, Signature=x", "", ""},
		{"AWS4-HMAC-SHA256 Credential=AKID/iam/aws4_request", "", ""},
		{"AWS4-HMAC-SHA256 Signature=x", "X-Amz-Credential=AKID%2F20240102%2Fus-east-1%2Fsts%2Faws4_request", ""},
		{"", "X-Amz-Credential=AKID%2F20240102%2Fus-east-1%2Fsts%2Faws4_request", "sts"},
		{"", "X-Amz-Credential=garbage", ""},
		{"", "", ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "/?"+c.query, nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		if got := SigningName(r); got != c.want {
			t.Errorf("SigningName(%q, %q) = %q, want %q", c.auth, c.query, got, c.want)
		}
	}
}

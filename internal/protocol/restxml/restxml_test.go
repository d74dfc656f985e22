package restxml

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol"
)

const ns = "urn:test"

type thing struct {
	XMLName xml.Name `xml:"Thing"`
	Xmlns   string   `xml:"xmlns,attr"`
	Name    string   `xml:"Name"`
}

type batchErr struct{ msgs []string }

func (e *batchErr) Error() string           { return "batch" }
func (e *batchErr) ErrorCode() string       { return "InvalidChangeBatch" }
func (e *batchErr) HTTPStatus() int         { return 400 }
func (e *batchErr) ErrorMessage() string    { return "[" + strings.Join(e.msgs, ", ") + "]" }
func (e *batchErr) ErrorMessages() []string { return e.msgs }

type denyAll struct{}

func (denyAll) Authorize(ctx context.Context, action string, on protocol.Resolver) error {
	res, _ := on()
	return &model.Error{Code: "AccessDenied", Status: 403, Message: action + " on " + strings.Join(res, ",")}
}

type noRate struct{}

func (noRate) Allow(context.Context) (bool, time.Duration) { return false, 1500 * time.Millisecond }

type okAuth struct{}

func (okAuth) Authenticate(ctx context.Context, r *http.Request, body []byte, signingName string) (context.Context, error) {
	if signingName != "svc" {
		return ctx, errors.New("wrong signing name " + signingName)
	}
	return ctx, nil
}

func router() *Router {
	rt := &Router{}
	rt.Handle(&Service{SigningName: "svc", PathPrefix: "/v1/", Namespace: ns, ActionPrefix: "svc",
		Resources: func(ctx context.Context, r *Request) ([]string, map[string][]string) {
			return []string{"thing/" + r.Path["Id"]}, nil
		},
		Routes: []Route{
			{Method: "GET", Pattern: "/v1/thing/{Id}", Op: "GetThing", Handler: func(ctx context.Context, r *Request) (*Response, error) {
				if r.Path["Id"] == "bad" {
					return nil, &batchErr{msgs: []string{"one <1>", "two"}}
				}
				if r.Path["Id"] == "boom" {
					return nil, errors.New("disk on fire")
				}
				return &Response{Body: &thing{Xmlns: ns, Name: r.Path["Id"] + "?" + r.Query.Get("q")}}, nil
			}},
			{Method: "POST", Pattern: "/v1/thing", Op: "CreateThing", Handler: func(ctx context.Context, r *Request) (*Response, error) {
				var in thing
				if err := Decode(r.Body, ns, &in); err != nil {
					return nil, err
				}
				return &Response{Status: 201, Header: http.Header{"Location": {"/v1/thing/" + in.Name}}}, nil
			}},
		}})
	return rt
}

func do(rt http.Handler, method, target, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, httptest.NewRequest(method, target, strings.NewReader(body)))
	return w
}

func TestRoutesAndAnswers(t *testing.T) {
	rt := router()
	rt.Auth = okAuth{}
	for _, tc := range []struct {
		method, target, body string
		status               int
		want                 string
	}{
		{"GET", "/v1/thing/a%2Fb?q=1", "", 200, `<Thing xmlns="urn:test"><Name>a/b?1</Name></Thing>`},
		{"GET", "/v1/thing/x/", "", 200, `<Name>x?</Name>`},
		{"POST", "/v1/thing", `<Thing xmlns="urn:test"><Name>n</Name><Unknown/></Thing>`, 201, ""},
		{"POST", "/v1/thing", `<Thing><Name>n</Name></Thing>`, 400, "<Code>InvalidInput</Code>"},
		{"POST", "/v1/thing", `<Thing xmlns="urn:test"><Name>n</Name></Thing><Thing/>`, 400, "another element after the root"},
		{"POST", "/v1/thing", `<Thing xmlns="urn:test"><Name>n</Name></Thing>junk`, 400, "text after the root"},
		{"POST", "/v1/thing", `<Thing xmlns="urn:test"><Name>&bogus;</Name></Thing>`, 400, "Could not parse"},
		{"GET", "/v1/thing/bad", "", 400, `<Error><Type>Sender</Type><Code>InvalidChangeBatch</Code><Message>[one &lt;1&gt;, two]</Message><Messages><Message>one &lt;1&gt;</Message><Message>two</Message></Messages></Error>`},
		{"GET", "/v1/thing/boom", "", 500, "<Type>Receiver</Type><Code>InternalFailure</Code>"},
		{"DELETE", "/v1/thing/x", "", 405, "UnknownOperationException"},
		{"GET", "/v1/widget", "", 404, "UnknownOperationException"},
	} {
		w := do(rt, tc.method, tc.target, tc.body)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) || w.Header().Get("X-Amzn-RequestId") == "" {
			t.Errorf("%s %s: %d %s\nwant %d %s", tc.method, tc.target, w.Code, w.Body.String(), tc.status, tc.want)
		}
	}
	if w := do(rt, "POST", "/v1/thing", `<Thing xmlns="urn:test"><Name>n</Name></Thing>`); w.Header().Get("Location") != "/v1/thing/n" || w.Body.Len() != 0 {
		t.Errorf("created: %v %q", w.Header(), w.Body.String())
	}
	if !rt.Serves(httptest.NewRequest("GET", "/v1/x", nil)) || rt.Serves(httptest.NewRequest("GET", "/", nil)) {
		t.Error("Serves")
	}
}

func TestHooks(t *testing.T) {
	rt := router()
	rt.Authz = denyAll{}
	w := do(rt, "GET", "/v1/thing/a", "")
	if w.Code != 403 || !strings.Contains(w.Body.String(), "svc:GetThing on thing/a") {
		t.Fatalf("denied: %d %s", w.Code, w.Body.String())
	}
	rt = router()
	rt.Auth, rt.Limit = okAuth{}, noRate{}
	w = do(rt, "GET", "/v1/thing/a", "")
	if w.Code != 400 || !strings.Contains(w.Body.String(), "<Code>Throttling</Code>") || w.Header().Get("Retry-After") != "2" || w.Header().Get("X-Amz-Retry-After") != "1500" {
		t.Fatalf("throttled: %d %v %s", w.Code, w.Header(), w.Body.String())
	}
	rt = router()
	rt.MaxBodyBytes = 10
	if w := do(rt, "POST", "/v1/thing", strings.Repeat("x", 11)); w.Code != 413 {
		t.Fatalf("too large: %d", w.Code)
	}
}

package awsjson

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
)

type echoIn struct {
	Name  string `json:"name"`
	Count *int   `json:"count"`
	Tags  []struct {
		Key string `json:"key"`
	} `json:"tags"`
}

type observed struct{ op, code string }

type recorder struct{ got []observed }

func (r *recorder) ObserveRequest(service, operation, code string, _ time.Duration) {
	r.got = append(r.got, observed{operation, code})
}

func testRouter() (*Router, *recorder) {
	rec := &recorder{}
	rt := &Router{Observer: rec, MaxBodyBytes: 64}
	rt.Handle(&Service{TargetPrefix: "Svc_1", SigningName: "svc", InternalErrorCode: "ServerException", Ops: map[string]HandlerFunc{
		"Echo": Op(func(ctx context.Context, in *echoIn) (*echoIn, error) {
			if in.Name == "refuse" {
				return nil, model.Client("refused %s", in.Name)
			}
			if in.Name == "crash" {
				return nil, errors.New("disk on fire")
			}
			return in, nil
		}),
	}})
	return rt, rec
}

func call(rt http.Handler, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, req)
	return w
}

func TestRouter(t *testing.T) {
	rt, rec := testRouter()
	cases := []struct {
		target, body string
		status       int
		errType      string
	}{
		{"Svc_1.Echo", `{"name":"a","count":2}`, 200, ""},
		{"Svc_1.Echo", ``, 200, ""},
		{"Svc_1.Echo", `{"name":"refuse"}`, 400, "ClientException"},
		{"Svc_1.Echo", `{"name":"crash"}`, 500, "ServerException"},
		{"Svc_1.Echo", `{"name":1}`, 400, "SerializationException"},
		{"Svc_1.Echo", `{"tags":[{"key":true}]}`, 400, "SerializationException"},
		{"Svc_1.Echo", `{"name":`, 400, "SerializationException"},
		{"Svc_1.Echo", `{"count":2147483647}`, 200, ""},
		{"Svc_1.Echo", `{"count":-2147483648}`, 200, ""},
		{"Svc_1.Echo", `{"count":2147483648}`, 400, "SerializationException"},
		{"Svc_1.Echo", `{"count":-2147483649}`, 400, "SerializationException"},
		{"Svc_1.Echo", `{"name":"` + strings.Repeat("x", 80) + `"}`, 413, "RequestEntityTooLargeException"},
		{"Svc_1.Nope", `{}`, 400, "UnknownOperationException"},
		{"", `{}`, 400, "UnknownOperationException"},
	}
	for _, c := range cases {
		w := call(rt, c.target, c.body)
		if w.Code != c.status {
			t.Errorf("%s %q: status %d, want %d (%s)", c.target, c.body, w.Code, c.status, w.Body)
			continue
		}
		var body struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(w.Body.Bytes(), &body)
		if body.Type != c.errType || w.Header().Get("X-Amzn-ErrorType") != c.errType {
			t.Errorf("%s %q: __type %q header %q, want %q", c.target, c.body, body.Type, w.Header().Get("X-Amzn-ErrorType"), c.errType)
		}
		if c.errType != "" && body.Message == "" {
			t.Errorf("%s %q: no message", c.target, c.body)
		}
		if strings.Contains(w.Body.String(), "disk on fire") {
			t.Errorf("an internal error's detail leaked to the client: %s", w.Body)
		}
	}
	if rec.got[0] != (observed{"Echo", "OK"}) || rec.got[2] != (observed{"Echo", "ClientException"}) || rec.got[12] != (observed{"unknown", "UnknownOperationException"}) {
		t.Errorf("observations %v", rec.got)
	}
}

func TestIntegersMustFitIn32Bits(t *testing.T) {
	type limits struct {
		Soft int `json:"softLimit"`
		Hard int `json:"hardLimit"`
	}
	type container struct {
		Name    string   `json:"name"`
		Memory  *int     `json:"memory"`
		Ulimits []limits `json:"ulimits"`
		Codes   []int    `json:"ignoredExitCodes"`
		Labels  map[string]int
		Raw     json.RawMessage `json:"raw"`
	}
	type paging struct {
		MaxResults *int `json:"maxResults"`
	}
	type input struct {
		paging
		Containers []container `json:"containerDefinitions"`
		Version    int64       `json:"version"`
		Internal   int         `json:"-"`
	}
	cases := []struct{ body, member string }{
		{`{"containerDefinitions":[{"name":"a","memory":1099511627776}]}`, "containerDefinitions.memory"},
		{`{"containerDefinitions":[{"ulimits":[{"softLimit":1,"hardLimit":4611686018427387904}]}]}`, "containerDefinitions.ulimits.hardLimit"},
		{`{"containerDefinitions":[{"ignoredExitCodes":[1,2,4294967296]}]}`, "containerDefinitions.ignoredExitCodes"},
		{`{"containerDefinitions":[{"Labels":{"x":-4294967296}}]}`, "containerDefinitions.Labels"},
		{`{"maxResults":1099511627776}`, "maxResults"},
	}
	for _, c := range cases {
		var in input
		err := Decode([]byte(c.body), &in)
		var e *model.Error
		if !errors.As(err, &e) || e.Code != "SerializationException" || !strings.Contains(e.Message, "'"+c.member+"'") {
			t.Errorf("%s: got %v, want a SerializationException naming %s", c.body, err, c.member)
		}
	}
	// Longs (int64) may be wide; raw JSON is not looked into.
	var in input
	if err := Decode([]byte(`{"version":1099511627776,"containerDefinitions":[{"raw":{"n":1099511627776},"memory":2147483647}]}`), &in); err != nil {
		t.Fatalf("a Long and raw JSON: %v", err)
	}
	in.Internal = 1 << 40
	if err := checkIntegers(&in); err != nil {
		t.Fatalf("a member that is not on the wire: %v", err)
	}
}

// FuzzDecode checks that no request body makes decoding panic and that every
// refusal is a SerializationException.
func FuzzDecode(f *testing.F) {
	f.Add(`{"name":"a","count":1,"tags":[{"key":"k"}]}`)
	f.Add(`{"count":1e999}`)
	f.Add(`[1,2]`)
	f.Add(`{"name":"\ud800"}`)
	f.Fuzz(func(t *testing.T, body string) {
		var in echoIn
		err := Decode([]byte(body), &in)
		if err == nil {
			return
		}
		var e *model.Error
		if !errors.As(err, &e) || e.Code != "SerializationException" || e.Status != 400 {
			t.Fatalf("decode refusal %#v", err)
		}
	})
}

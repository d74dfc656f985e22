package rpcv2cbor

import (
	"bytes"
	"compress/gzip"
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/flotta-dev/flotta/internal/model"
)

const opPath = "/service/GraniteServiceVersion20100801/operation/"

func newTestRouter(max int64) *Router {
	rt := &Router{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: max}
	rt.Handle((&fakeCloudWatch{}).service())
	return rt
}

func cborRequest(method, op string, body []byte, header ...string) *http.Request {
	r := httptest.NewRequest(method, opPath+op, bytes.NewReader(body))
	r.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	if len(body) > 0 {
		r.Header.Set("Content-Type", "application/cbor")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			r.Header.Del(header[i])
		} else {
			r.Header.Set(header[i], header[i+1])
		}
	}
	return r
}

// errorAnswer reads an error answer: its __type and message.
func errorAnswer(t *testing.T, w *httptest.ResponseRecorder) (typ, msg string) {
	t.Helper()
	if w.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" || w.Header().Get("Content-Type") != "application/cbor" {
		t.Errorf("error answer headers %v", w.Header())
	}
	v, err := cbor.Decode(w.Body.Bytes())
	if err != nil {
		t.Fatalf("error answer is not CBOR: %v (% x)", err, w.Body.Bytes())
	}
	m, ok := v.(cbor.Map)
	if !ok {
		t.Fatalf("error answer is %T, want a map", v)
	}
	s, _ := m["__type"].(cbor.String)
	msgv, _ := m["message"].(cbor.String)
	return string(s), string(msgv)
}

func TestRequestChecks(t *testing.T) {
	listBody := cbor.Encode(cbor.Map{"Namespace": cbor.String("Flotta/Test")})
	for _, tc := range []struct {
		name       string
		req        *http.Request
		max        int64
		status     int
		typ, query string
		msg        string
	}{
		{name: "no Smithy-Protocol header", req: cborRequest("POST", "ListMetrics", listBody, "Smithy-Protocol", ""),
			status: 400, typ: "com.amazonaws.cloudwatch#SerializationException", query: "SerializationException;Sender", msg: "no Smithy-Protocol header"},
		{name: "another protocol", req: cborRequest("POST", "ListMetrics", listBody, "Smithy-Protocol", "rpc-v2-json"),
			status: 400, typ: "com.amazonaws.cloudwatch#SerializationException", msg: `"rpc-v2-json"`},
		{name: "GET", req: cborRequest("GET", "ListMetrics", nil),
			status: 405, typ: "com.amazonaws.cloudwatch#UnknownOperationException", msg: "POST"},
		{name: "unknown operation", req: cborRequest("POST", "DescribeAlarms", cbor.Encode(cbor.Map{})),
			status: 404, typ: "com.amazonaws.cloudwatch#UnknownOperationException", query: "UnknownOperationException;Sender", msg: `"DescribeAlarms"`},
		{name: "unknown service", req: httptest.NewRequest("POST", "/service/Nope/operation/ListMetrics", nil),
			status: 404, typ: "UnknownOperationException", msg: "/service/Nope/operation/ListMetrics"},
		{name: "path with more segments", req: cborRequest("POST", "ListMetrics/extra", listBody),
			status: 404, typ: "UnknownOperationException"},
		{name: "body over the limit", req: cborRequest("POST", "ListMetrics", bytes.Repeat([]byte{0x60}, 101)), max: 100,
			status: 413, typ: "com.amazonaws.cloudwatch#RequestEntityTooLargeException", msg: "limit of 100 bytes"},
		{name: "gzipped body over the limit", req: cborRequest("POST", "ListMetrics", gzipped(bytes.Repeat([]byte{0x60}, 101)), "Content-Encoding", "gzip"), max: 100,
			status: 413, typ: "com.amazonaws.cloudwatch#RequestEntityTooLargeException", msg: "decompressed"},
		{name: "bad gzip", req: cborRequest("POST", "ListMetrics", listBody, "Content-Encoding", "gzip"),
			status: 400, typ: "com.amazonaws.cloudwatch#SerializationException", msg: "gzip"},
		{name: "unknown encoding", req: cborRequest("POST", "ListMetrics", listBody, "Content-Encoding", "br"),
			status: 415, typ: "com.amazonaws.cloudwatch#UnsupportedMediaTypeException", msg: `"br"`},
		{name: "JSON body", req: cborRequest("POST", "ListMetrics", []byte(`{}`), "Content-Type", "application/json"),
			status: 415, typ: "com.amazonaws.cloudwatch#UnsupportedMediaTypeException", msg: "application/cbor"},
		{name: "malformed CBOR", req: cborRequest("POST", "ListMetrics", []byte{0xa1, 0x61}),
			status: 400, typ: "com.amazonaws.cloudwatch#SerializationException", msg: "not valid CBOR"},
		{name: "not a map", req: cborRequest("POST", "ListMetrics", cbor.Encode(cbor.List{})),
			status: 400, typ: "com.amazonaws.cloudwatch#SerializationException", msg: "not a list"},
		{name: "member of the wrong type", req: cborRequest("POST", "PutMetricData", cbor.Encode(cbor.Map{"Namespace": cbor.String("n"),
			"MetricData": cbor.List{cbor.Map{"MetricName": cbor.String("m"), "StorageResolution": cbor.String("1")}}})),
			status: 400, typ: "com.amazonaws.cloudwatch#SerializationException", msg: "Member 'MetricData[0].StorageResolution' must be an integer of 32 bits, not a text string."},
		{name: "integer over 32 bits", req: cborRequest("POST", "PutMetricData", cbor.Encode(cbor.Map{
			"MetricData": cbor.List{cbor.Map{"StorageResolution": cbor.Uint(1 << 31)}}})),
			status: 400, typ: "com.amazonaws.cloudwatch#SerializationException", msg: "MetricData[0].StorageResolution"},
		{name: "timestamp without its tag", req: cborRequest("POST", "PutMetricData", cbor.Encode(cbor.Map{
			"MetricData": cbor.List{cbor.Map{"Timestamp": cbor.Float64(1.5e9)}}})),
			status: 400, typ: "com.amazonaws.cloudwatch#SerializationException", msg: "must be a timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			newTestRouter(tc.max).ServeHTTP(w, tc.req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d (% x)", w.Code, tc.status, w.Body.Bytes())
			}
			typ, msg := errorAnswer(t, w)
			if typ != tc.typ || !strings.Contains(msg, tc.msg) {
				t.Errorf("answered %q %q, want %q and a message with %q", typ, msg, tc.typ, tc.msg)
			}
			if tc.query != "" && w.Header().Get("X-Amzn-Query-Error") != tc.query {
				t.Errorf("X-Amzn-Query-Error %q, want %q", w.Header().Get("X-Amzn-Query-Error"), tc.query)
			}
			if len(w.Header().Get("X-Amzn-RequestId")) != 36 {
				t.Errorf("no request id")
			}
		})
	}
}

func gzipped(p []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(p)
	zw.Close()
	return b.Bytes()
}

func TestAnswer(t *testing.T) {
	// An operation with no input and an empty answer: 200, an empty map.
	w := httptest.NewRecorder()
	newTestRouter(0).ServeHTTP(w, cborRequest("POST", "ListMetrics", nil))
	if w.Code != 200 || w.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" || w.Header().Get("Content-Type") != "application/cbor" {
		t.Fatalf("answer %d %v", w.Code, w.Header())
	}
	v, err := cbor.Decode(w.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := v.(cbor.Map); !ok || len(m) != 1 || len(m["Metrics"].(cbor.List)) != 0 {
		t.Errorf("answer %#v, want {Metrics: []} (NextToken left out)", v)
	}
}

func TestServes(t *testing.T) {
	rt := newTestRouter(0)
	for path, want := range map[string]bool{
		opPath + "ListMetrics":       true,
		"/service/Other/operation/X": false,
		"/":                          false,
		"/service/GraniteServiceVersion20100801/operation/": false,
	} {
		if got := rt.Serves(httptest.NewRequest("POST", path, nil)); got != want {
			t.Errorf("Serves(%s) = %v", path, got)
		}
	}
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	if !rt.Serves(r) {
		t.Errorf("a request with the Smithy-Protocol header is not served")
	}
}

type codecSample struct {
	Name    string `cbor:"name"`
	Count   int
	Big     int64
	Ratio   float64
	OK      *bool
	When    time.Time
	Raw     []byte
	Tags    map[string]string
	Nested  []codecSample `cbor:",omitempty"`
	Skipped string        `cbor:"-"`
	Empty   string        `cbor:",omitempty"`
}

func TestCodecRoundTrip(t *testing.T) {
	yes := true
	in := codecSample{Name: "a", Count: -7, Big: math.MinInt64, Ratio: -0.25, OK: &yes,
		When: time.Date(1969, 7, 20, 20, 17, 40, 999_000_000, time.UTC), Raw: []byte{0, 1, 0xff},
		Tags: map[string]string{"k": "v"}, Nested: []codecSample{{Name: "b", Count: math.MaxInt32, When: time.Unix(0, 0).UTC()}}, Skipped: "x"}
	b, err := Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := cbor.Decode(b)
	m := v.(cbor.Map)
	if _, ok := m["Skipped"]; ok {
		t.Errorf("a `cbor:\"-\"` field was encoded")
	}
	if _, ok := m["Empty"]; ok {
		t.Errorf("an empty omitempty field was encoded")
	}
	if _, ok := m["name"]; !ok {
		t.Errorf("the tag's name was not used: %v", m)
	}
	var out codecSample
	if err := Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	in.Skipped = ""
	if out.Name != in.Name || out.Count != in.Count || out.Big != in.Big || out.Ratio != in.Ratio || out.OK == nil || !*out.OK ||
		!out.When.Equal(in.When) || !bytes.Equal(out.Raw, in.Raw) || out.Tags["k"] != "v" || len(out.Nested) != 1 ||
		out.Nested[0].Count != math.MaxInt32 || !out.Nested[0].When.Equal(time.Unix(0, 0)) || out.Nested[0].OK != nil {
		t.Errorf("round trip gave %+v, want %+v", out, in)
	}
}

// TestTimestampsAsTheSDKReadsThem: the SDK reads a float timestamp as
// time.UnixMilli(int64(f * 1e3)), truncating; every millisecond must come
// back as itself.
func TestTimestampsAsTheSDKReadsThem(t *testing.T) {
	base := time.Date(2026, 12, 8, 3, 4, 5, 0, time.UTC).UnixMilli()
	for _, start := range []int64{base, -base} {
		for ms := start; ms < start+5000; ms++ {
			tag := encodeTime(time.UnixMilli(ms)).(*cbor.Tag)
			var got int64
			switch v := tag.Value.(type) {
			case cbor.Float64:
				got = time.UnixMilli(int64(float64(v) * 1e3)).UnixMilli()
			default:
				secs, err := cbor.AsInt64(v)
				if err != nil {
					t.Fatal(err)
				}
				got = secs * 1000
			}
			if got != ms {
				t.Fatalf("%d ms reads back as %d", ms, got)
			}
			if back, err := asTime(tag); err != nil || back.UnixMilli() != ms {
				t.Fatalf("%d ms decodes as %v, %v", ms, back, err)
			}
		}
	}
}

func TestOpDecodesIntoTheHandlersType(t *testing.T) {
	var got *putMetricDataIn
	h := Op(func(ctx context.Context, in *putMetricDataIn) (*struct{}, error) {
		got = in
		return nil, nil
	})
	in, err := decodeInput(cbor.Encode(cbor.Map{"Namespace": cbor.String("n"), "Unknown": cbor.Map{"x": cbor.Uint(1)},
		"MetricData": cbor.List{cbor.Map{"MetricName": cbor.String("m"), "Value": cbor.Uint(3), "Timestamp": &cbor.Tag{ID: 1, Value: cbor.Uint(1700000000)},
			"Unit": &cbor.Nil{}}}}))
	if err != nil {
		t.Fatal(err)
	}
	if !in.Has("Namespace") || in.Has("Unit") || in.Has("Nope") {
		t.Errorf("Has is wrong")
	}
	if out, err := h(context.Background(), in); err != nil || out != nil {
		t.Fatalf("handler gave %v, %v", out, err)
	}
	d := got.MetricData[0]
	if got.Namespace != "n" || d.MetricName != "m" || d.Value == nil || *d.Value != 3 || !d.Timestamp.Equal(time.Unix(1700000000, 0)) || d.Unit != "" {
		t.Errorf("decoded %+v %+v", got, d)
	}
	if err := in.Decode(codecSample{}); err == nil || model.IsCode(err, "SerializationException") {
		t.Errorf("Decode into a non-pointer: %v, want a programming error", err)
	}
}

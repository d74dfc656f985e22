package rpcv2cbor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol"
)

// The test service's shapes: plain Go structs whose field names are
// CloudWatch's member names.

type dimension struct {
	Name  string
	Value string
}

type statisticSet struct {
	SampleCount, Sum, Minimum, Maximum float64
}

type metricDatum struct {
	MetricName        string
	Dimensions        []dimension
	Timestamp         *time.Time
	Value             *float64
	Values            []float64
	Counts            []float64
	StatisticValues   *statisticSet
	Unit              string
	StorageResolution *int
}

type putMetricDataIn struct {
	Namespace  string
	MetricData []metricDatum
}

type listMetricsIn struct {
	Namespace  *string
	MetricName *string
	NextToken  *string
}

type metric struct {
	Namespace  string
	MetricName string
	Dimensions []dimension
}

type listMetricsOut struct {
	Metrics   []metric
	NextToken *string `cbor:",omitempty"`
}

type getMetricDataIn struct {
	StartTime         time.Time
	EndTime           time.Time
	MetricDataQueries []struct{ Id string }
}

type metricDataResult struct {
	Id         string
	Label      string
	Timestamps []time.Time
	Values     []float64
	StatusCode string
}

type getMetricDataOut struct {
	MetricDataResults []metricDataResult
}

type widgetIn struct{ MetricWidget string }

type widgetOut struct{ MetricWidgetImage []byte }

type resourceNotFound struct{ id string }

func (e *resourceNotFound) Error() string        { return "ResourceNotFoundException: " + e.ErrorMessage() }
func (e *resourceNotFound) ErrorCode() string    { return "ResourceNotFoundException" }
func (e *resourceNotFound) HTTPStatus() int      { return http.StatusNotFound }
func (e *resourceNotFound) ErrorMessage() string { return "No metric stream " + e.id + "." }
func (e *resourceNotFound) ErrorFields() map[string]string {
	return map[string]string{"ResourceType": "MetricStream", "ResourceId": e.id}
}

// fakeCloudWatch keeps what PutMetricData was given and lists it back.
type fakeCloudWatch struct {
	mu  sync.Mutex
	put []putMetricDataIn
}

func (f *fakeCloudWatch) service() *Service {
	return &Service{
		ServiceName: "GraniteServiceVersion20100801", Namespace: "com.amazonaws.cloudwatch",
		SigningName: "monitoring", ActionPrefix: "cloudwatch", InternalErrorCode: "InternalServiceError",
		QueryCompatible: true,
		ErrorShapes: map[string]string{
			"InvalidParameterValue": "InvalidParameterValueException",
			"InternalServiceError":  "InternalServiceFault",
		},
		Ops: map[string]HandlerFunc{
			"PutMetricData": Op(func(ctx context.Context, in *putMetricDataIn) (*struct{}, error) {
				if strings.HasPrefix(in.Namespace, "AWS/") {
					return nil, &model.Error{Code: "InvalidParameterValue", Status: http.StatusBadRequest,
						Message: "The value " + in.Namespace + " for parameter Namespace is invalid."}
				}
				if in.Namespace == "crash" {
					return nil, errors.New("the time-series store is on fire")
				}
				f.mu.Lock()
				defer f.mu.Unlock()
				f.put = append(f.put, *in)
				return nil, nil
			}),
			"ListMetrics": Op(func(ctx context.Context, in *listMetricsIn) (*listMetricsOut, error) {
				f.mu.Lock()
				defer f.mu.Unlock()
				var all []metric
				for _, p := range f.put {
					for _, d := range p.MetricData {
						if in.Namespace == nil || *in.Namespace == p.Namespace {
							all = append(all, metric{Namespace: p.Namespace, MetricName: d.MetricName, Dimensions: d.Dimensions})
						}
					}
				}
				// Pages of two; the token is the index of the next.
				start := 0
				if in.NextToken != nil {
					fmt.Sscan(*in.NextToken, &start)
				}
				out := &listMetricsOut{Metrics: []metric{}}
				for i := start; i < len(all) && i < start+2; i++ {
					out.Metrics = append(out.Metrics, all[i])
				}
				if start+2 < len(all) {
					out.NextToken = aws.String(fmt.Sprint(start + 2))
				}
				return out, nil
			}),
			"GetMetricData": Op(func(ctx context.Context, in *getMetricDataIn) (*getMetricDataOut, error) {
				out := &getMetricDataOut{}
				for _, q := range in.MetricDataQueries {
					r := metricDataResult{Id: q.Id, Label: "label of " + q.Id, StatusCode: "Complete"}
					for i, t := 0, in.StartTime; !t.After(in.EndTime); i, t = i+1, t.Add(90*time.Second+123*time.Millisecond) {
						r.Timestamps = append(r.Timestamps, t)
						r.Values = append(r.Values, float64(i)+0.5)
					}
					out.MetricDataResults = append(out.MetricDataResults, r)
				}
				return out, nil
			}),
			"GetMetricWidgetImage": Op(func(ctx context.Context, in *widgetIn) (*widgetOut, error) {
				return &widgetOut{MetricWidgetImage: append([]byte{0x89, 'P', 'N', 'G', 0, 0xff}, in.MetricWidget...)}, nil
			}),
			"DescribeMetricStream": Op(func(ctx context.Context, in *struct{ Name string }) (*struct{}, error) {
				return nil, &resourceNotFound{id: in.Name}
			}),
			"GetMetricStream": Op(func(ctx context.Context, in *struct{ Name string }) (*struct{}, error) {
				return nil, &resourceNotFound{id: in.Name}
			}),
		},
	}
}

// sdkHooks is a stub of the server's hooks: it accepts every signature
// (or refuses all with authErr), records what it was asked, and lets a
// test throttle.
type sdkHooks struct {
	mu         sync.Mutex
	authErr    error
	throttle   bool
	signing    []string
	bodies     [][]byte
	authorized []string
	observed   []string
}

func (h *sdkHooks) Authenticate(ctx context.Context, r *http.Request, body []byte, signingName string) (context.Context, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !strings.Contains(r.Header.Get("Authorization"), "/monitoring/aws4_request") {
		return nil, &model.Error{Code: "IncompleteSignature", Status: http.StatusForbidden, Message: "not signed for monitoring"}
	}
	h.signing = append(h.signing, signingName)
	h.bodies = append(h.bodies, body)
	if h.authErr != nil {
		return nil, h.authErr
	}
	return ctx, nil
}

func (h *sdkHooks) Authorize(ctx context.Context, action string, on protocol.Resolver) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.authorized = append(h.authorized, action)
	return nil
}

func (h *sdkHooks) Allow(ctx context.Context) (bool, time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.throttle, 2500 * time.Millisecond
}

func (h *sdkHooks) ObserveRequest(service, operation, code string, _ time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.observed = append(h.observed, service+" "+operation+" "+code)
}

func newSDKServer(t *testing.T) (*fakeCloudWatch, *sdkHooks, *cloudwatch.Client) {
	t.Helper()
	fake := &fakeCloudWatch{}
	h := &sdkHooks{}
	rt := &Router{Auth: h, Authz: h, Limit: h, Observer: h, Logger: slog.New(slog.DiscardHandler)}
	rt.Handle(fake.service())
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	client := cloudwatch.New(cloudwatch.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1})
	return fake, h, client
}

// TestRealSDKClient stands the router up with a tiny CloudWatch and calls
// it with aws-sdk-go-v2's own CloudWatch client, which speaks RPC v2 CBOR:
// what the SDK sends must decode exactly, and what the router answers the
// SDK must parse, errors into their typed exceptions.
func TestRealSDKClient(t *testing.T) {
	fake, h, client := newSDKServer(t)
	ctx := context.Background()

	at := time.Date(2026, 12, 8, 3, 4, 5, 678_000_000, time.UTC)
	whole := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	_, err := client.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("Flotta/Test"),
		MetricData: []cwtypes.MetricDatum{
			{
				MetricName: aws.String("CPUUtilization"),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String("default")}, {Name: aws.String("ServiceName"), Value: aws.String("web")}},
				Timestamp:  aws.Time(at), Value: aws.Float64(42.25), Unit: cwtypes.StandardUnitPercent, StorageResolution: aws.Int32(1),
			},
			{
				MetricName: aws.String("Latency"), Timestamp: aws.Time(whole),
				Values: []float64{0.5, 1, -3, 1e300}, Counts: []float64{1, 2, 3, 4},
			},
			{
				MetricName:      aws.String("Requests"),
				StatisticValues: &cwtypes.StatisticSet{SampleCount: aws.Float64(3), Sum: aws.Float64(30), Minimum: aws.Float64(5), Maximum: aws.Float64(15)},
				Unit:            cwtypes.StandardUnitCount,
			},
		},
	})
	if err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	want := putMetricDataIn{Namespace: "Flotta/Test", MetricData: []metricDatum{
		{MetricName: "CPUUtilization", Dimensions: []dimension{{"ClusterName", "default"}, {"ServiceName", "web"}},
			Timestamp: &at, Value: ptr(42.25), Unit: "Percent", StorageResolution: ptr(1)},
		{MetricName: "Latency", Timestamp: &whole, Values: []float64{0.5, 1, -3, 1e300}, Counts: []float64{1, 2, 3, 4}},
		{MetricName: "Requests", StatisticValues: &statisticSet{SampleCount: 3, Sum: 30, Minimum: 5, Maximum: 15}, Unit: "Count"},
	}}
	if len(fake.put) != 1 {
		t.Fatalf("PutMetricData reached the fake %d times", len(fake.put))
	}
	if diff := cmp.Diff(want, fake.put[0]); diff != "" {
		t.Errorf("PutMetricData decoded (-want +got):\n%s", diff)
	}

	// A body over 10 KiB: the SDK gzips PutMetricData (Smithy's
	// requestCompression), and the signature covers the compressed body.
	big := make([]cwtypes.MetricDatum, 200)
	for i := range big {
		big[i] = cwtypes.MetricDatum{MetricName: aws.String(fmt.Sprintf("Metric%03d-%s", i, strings.Repeat("x", 40))), Value: aws.Float64(float64(i))}
	}
	if _, err := client.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Flotta/Big"), MetricData: big}); err != nil {
		t.Fatalf("PutMetricData of 200 data: %v", err)
	}
	if len(fake.put) != 2 || len(fake.put[1].MetricData) != 200 || fake.put[1].MetricData[199].MetricName != *big[199].MetricName || *fake.put[1].MetricData[199].Value != 199 {
		t.Errorf("the gzipped PutMetricData decoded wrong: %d calls", len(fake.put))
	}
	if b := h.bodies[len(h.bodies)-1]; len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("the authenticator saw % x..., want the gzipped body as signed", b[:min(len(b), 4)])
	}

	// ListMetrics in pages, through the SDK's paginator.
	var listed []string
	pages := 0
	for p := cloudwatch.NewListMetricsPaginator(client, &cloudwatch.ListMetricsInput{Namespace: aws.String("Flotta/Test")}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListMetrics page %d: %v", pages+1, err)
		}
		pages++
		for _, m := range page.Metrics {
			s := aws.ToString(m.Namespace) + "/" + aws.ToString(m.MetricName)
			for _, d := range m.Dimensions {
				s += " " + aws.ToString(d.Name) + "=" + aws.ToString(d.Value)
			}
			listed = append(listed, s)
		}
	}
	if want := []string{"Flotta/Test/CPUUtilization ClusterName=default ServiceName=web", "Flotta/Test/Latency", "Flotta/Test/Requests"}; !slices.Equal(listed, want) || pages != 2 {
		t.Errorf("ListMetrics gave %q in %d pages, want %q in 2", listed, pages, want)
	}

	// Timestamps with milliseconds and doubles come back exactly.
	start := time.Date(2026, 12, 8, 2, 0, 0, 0, time.UTC)
	got, err := client.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(start.Add(10 * time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("q1")}}})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	if len(got.MetricDataResults) != 1 {
		t.Fatalf("GetMetricData gave %d results", len(got.MetricDataResults))
	}
	r := got.MetricDataResults[0]
	if aws.ToString(r.Id) != "q1" || aws.ToString(r.Label) != "label of q1" || r.StatusCode != cwtypes.StatusCodeComplete || len(r.Timestamps) != 7 || len(r.Values) != 7 {
		t.Fatalf("GetMetricData answered %+v", r)
	}
	for i, ts := range r.Timestamps {
		if want := start.Add(time.Duration(i) * (90*time.Second + 123*time.Millisecond)); !ts.Equal(want) || r.Values[i] != float64(i)+0.5 {
			t.Errorf("point %d: %v %v, want %v %v", i, ts.UTC(), r.Values[i], want, float64(i)+0.5)
		}
	}

	// Blobs are byte strings.
	img, err := client.GetMetricWidgetImage(ctx, &cloudwatch.GetMetricWidgetImageInput{MetricWidget: aws.String(`{"metrics":[]}`)})
	if err != nil || string(img.MetricWidgetImage) != "\x89PNG\x00\xff"+`{"metrics":[]}` {
		t.Errorf("GetMetricWidgetImage = %q, %v", img.MetricWidgetImage, err)
	}

	if want := []string{"monitoring"}; !slices.Equal(slices.Compact(h.signing), want) {
		t.Errorf("signing names %q, want %q", h.signing, want)
	}
	if h.authorized[0] != "cloudwatch:PutMetricData" || h.authorized[len(h.authorized)-1] != "cloudwatch:GetMetricWidgetImage" {
		t.Errorf("authorized %q", h.authorized)
	}
	if h.observed[0] != "monitoring PutMetricData OK" {
		t.Errorf("observed %q", h.observed)
	}
}

func ptr[T any](v T) *T { return &v }

// TestRealSDKClientErrors: every error the router answers reaches the SDK
// as the exception it models, with the code CloudWatch's Query protocol
// gives it (the service is awsQueryCompatible), the message and the status.
func TestRealSDKClientErrors(t *testing.T) {
	_, h, client := newSDKServer(t)
	ctx := context.Background()
	var resp *awshttp.ResponseError

	var invalid *cwtypes.InvalidParameterValueException
	_, err := client.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1)}}})
	if !errors.As(err, &invalid) || invalid.ErrorCode() != "InvalidParameterValue" || invalid.ErrorMessage() != "The value AWS/EC2 for parameter Namespace is invalid." ||
		invalid.ErrorFault() != smithy.FaultClient {
		t.Errorf("PutMetricData in AWS/: %v, want InvalidParameterValueException coded InvalidParameterValue", err)
	}
	if !errors.As(err, &resp) || resp.HTTPStatusCode() != 400 || len(resp.ServiceRequestID()) != 36 {
		t.Errorf("the SDK saw %v, want status 400 and the request id", err)
	}

	// A server fault: InternalServiceFault, whose shape spells its member
	// "Message", and which hides the cause.
	var fault *cwtypes.InternalServiceFault
	_, err = client.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("crash"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1)}}})
	if !errors.As(err, &fault) || fault.ErrorCode() != "InternalServiceError" || !strings.Contains(fault.ErrorMessage(), "request id") ||
		strings.Contains(fault.ErrorMessage(), "fire") || !errors.As(err, &resp) || resp.HTTPStatusCode() != 500 {
		t.Errorf("a server fault: %v, want InternalServiceFault (500) that hides its cause", err)
	}

	// An error with members besides its message.
	var notFound *cwtypes.ResourceNotFoundException
	_, err = client.GetMetricStream(ctx, &cloudwatch.GetMetricStreamInput{Name: aws.String("s1")})
	if !errors.As(err, &notFound) || notFound.ErrorCode() != "ResourceNotFoundException" || notFound.ErrorMessage() != "No metric stream s1." ||
		aws.ToString(notFound.ResourceType) != "MetricStream" || aws.ToString(notFound.ResourceId) != "s1" {
		t.Errorf("GetMetricStream: %#v, want ResourceNotFoundException with its members", err)
	}

	// An operation the service lacks.
	var apiErr smithy.APIError
	_, err = client.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnknownOperationException" || !strings.Contains(apiErr.ErrorMessage(), "DescribeAlarms") ||
		!errors.As(err, &resp) || resp.HTTPStatusCode() != 404 {
		t.Errorf("an operation the fake lacks: %v, want UnknownOperationException (404)", err)
	}

	// Throttled: Throttling, with when to come back.
	h.mu.Lock()
	h.throttle = true
	h.mu.Unlock()
	_, err = client.ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "Throttling" || apiErr.ErrorMessage() != "Rate exceeded" ||
		!errors.As(err, &resp) || resp.HTTPStatusCode() != 400 || resp.Response.Header.Get("X-Amz-Retry-After") != "2500" {
		t.Errorf("throttled: %v, want Throttling (400) with X-Amz-Retry-After", err)
	}
	h.mu.Lock()
	h.throttle = false
	// The authenticator refuses: its error, in the protocol's shape.
	h.authErr = &model.Error{Code: "InvalidClientTokenId", Status: http.StatusForbidden, Message: "The security token included in the request is invalid."}
	h.mu.Unlock()
	_, err = client.ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidClientTokenId" || apiErr.ErrorMessage() != "The security token included in the request is invalid." ||
		!errors.As(err, &resp) || resp.HTTPStatusCode() != 403 {
		t.Errorf("refused signature: %v, want InvalidClientTokenId (403)", err)
	}
}

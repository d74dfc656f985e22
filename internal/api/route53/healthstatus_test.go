package route53_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestGetHealthCheckStatus: the server really probes a health check, and
// GetHealthCheckStatus, through the SDK, reports the result in Route 53's
// words from one checker; it follows the endpoint when it starts failing,
// and an unknown id is NoSuchHealthCheck.
func TestGetHealthCheckStatus(t *testing.T) {
	var code atomic.Int32
	code.Store(200)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(code.Load()))
	}))
	defer web.Close()
	host, portStr, _ := net.SplitHostPort(web.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)

	e := flottatest.StartServer(t, flottatest.Options{Route53HealthChecks: true, Route53CheckInterval: 100 * time.Millisecond})
	c := e.R53()
	ctx := context.Background()
	start := time.Now().Add(-time.Second)
	hc, err := c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("status"),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String(host), Port: aws.Int32(int32(port)),
			ResourcePath: aws.String("/healthz"), RequestInterval: aws.Int32(10), FailureThreshold: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	id := hc.HealthCheck.Id
	await := func(want string) *types.HealthCheckObservation {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		var last *route53.GetHealthCheckStatusOutput
		for time.Now().Before(deadline) {
			out, err := c.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: id})
			if err != nil {
				t.Fatal(err)
			}
			last = out
			if len(out.HealthCheckObservations) == 1 && aws.ToString(out.HealthCheckObservations[0].StatusReport.Status) == want {
				return &out.HealthCheckObservations[0]
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("waited 10 s for the status %q; last answer %+v", want, last)
		return nil
	}
	ok := await("Success: HTTP Status Code 200, OK")
	if ok.Region != "us-east-1" || aws.ToString(ok.IPAddress) != "127.0.0.1" {
		t.Fatalf("observation from region %q, address %q", ok.Region, aws.ToString(ok.IPAddress))
	}
	if at := aws.ToTime(ok.StatusReport.CheckedTime); at.Before(start) || at.After(time.Now().Add(time.Second)) {
		t.Fatalf("checked at %v, not between %v and now", at, start)
	}
	code.Store(503)
	await("Failure: HTTP Status Code 503, Service Unavailable")

	_, err = c.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: aws.String("00000000-0000-4000-8000-000000000000")})
	var missing *types.NoSuchHealthCheck
	if !errors.As(err, &missing) {
		t.Fatalf("an unknown health check: %v", err)
	}
}

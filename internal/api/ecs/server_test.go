package ecs_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthAndMetrics(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	if code, body := get(t, e.Server.Endpoint()+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("m")}); err != nil {
		t.Fatal(err)
	}
	e.ECS.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("missing")})
	code, body := get(t, e.Server.Endpoint()+"/metrics")
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{
		`flotta_api_requests_total{code="OK",operation="CreateCluster",service="ecs"} 1`,
		`flotta_api_requests_total{code="ClusterNotFoundException",operation="DeleteCluster",service="ecs"} 1`,
		`flotta_api_request_duration_seconds_count{code="OK",operation="CreateCluster",service="ecs"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

package lb

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestApplyBusyPort: a listener whose port is taken is named in Apply's
// error while the other listener serves; once the port is free a later
// Apply binds it.
func TestApplyBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := busy.Addr().(*net.TCPAddr).Port
	a := backend(t, "a")
	cfg := albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, a, "a")))
	cfg.LoadBalancers[0].Listeners = append(cfg.LoadBalancers[0].Listeners,
		Listener{ARN: "l-busy", Host: "127.0.0.1", Port: port, Protocol: ProtocolHTTP, DefaultActions: forward("tg")})
	b, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	err = b.Apply(cfg)
	if err == nil || !strings.Contains(err.Error(), "l-busy") {
		t.Fatalf("Apply error %v, want one naming l-busy", err)
	}
	if _, body := get(t, http.DefaultClient, "http://"+b.Addr("l-1").String()); body != "a" {
		t.Fatalf("the other listener answered %q", body)
	}
	busy.Close()
	if err := b.Apply(cfg); err != nil {
		t.Fatalf("Apply after the port was freed: %v", err)
	}
	if _, body := get(t, http.DefaultClient, "http://"+b.Addr("l-busy").String()); body != "a" {
		t.Fatalf("the freed listener answered %q", body)
	}
}

// TestApplyRefusesInvalid: an invalid configuration changes nothing.
func TestApplyRefusesInvalid(t *testing.T) {
	a := backend(t, "a")
	good := albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, a, "a")))
	b, url := start(t, Options{}, good)
	for name, bad := range map[string]Config{
		"unknown group": albConfig(forward("tg-missing"), nil, httpGroup("tg", targetOf(t, a, "a"))),
		"bad priority":  albConfig(forward("tg"), []Rule{rule(0, "x", Condition{Field: FieldPathPattern, Values: []string{"/"}})}, httpGroup("tg")),
		"bad matcher": func() Config {
			c := albConfig(forward("tg"), nil, httpGroup("tg"))
			c.TargetGroups[0].HealthCheck.Matcher = "abc"
			return c
		}(),
	} {
		if err := b.Apply(bad); err == nil {
			t.Errorf("%s: Apply accepted it", name)
		}
	}
	if _, body := get(t, http.DefaultClient, url); body != "a" {
		t.Fatalf("after refused configurations the listener answered %q", body)
	}
}

// TestApplySwapsRoutes: a new configuration takes effect on the same port.
func TestApplySwapsRoutes(t *testing.T) {
	a, c := backend(t, "a"), backend(t, "c")
	cfg := albConfig(forward("tg-a"), nil, httpGroup("tg-a", targetOf(t, a, "a")), httpGroup("tg-c", targetOf(t, c, "c")))
	b, url := start(t, Options{}, cfg)
	cfg.LoadBalancers[0].Listeners[0].DefaultActions = forward("tg-c")
	if err := b.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if "http://"+b.Addr("l-1").String() != url {
		t.Fatal("the listener moved")
	}
	if _, body := get(t, http.DefaultClient, url); body != "c" {
		t.Fatalf("after the swap got %q, want c", body)
	}
}

// TestConfigJSON: the configuration survives the wire.
func TestConfigJSON(t *testing.T) {
	cfg := albConfig(forward("tg"), []Rule{rule(3, "r", Condition{Field: FieldQueryString, QueryString: []QueryPair{{Key: "a", Value: "b"}}})}, httpGroup("tg", Target{ID: "i-1", Host: "10.0.0.1", Port: 8080, State: TargetDraining}))
	cfg.TargetGroups[0].Attributes = Attributes{StickinessEnabled: true, DeregistrationDelaySeconds: 30}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"deregistration_delay.timeout_seconds":30`) {
		t.Fatalf("attributes not under ELB's keys: %s", data)
	}
	var back Config
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if string(again) != string(data) {
		t.Fatalf("round trip changed it:\n%s\n%s", data, again)
	}
}

func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return -1
}

// TestMetrics: counters carry CloudWatch's dimensions and count what the
// load balancer did.
func TestMetrics(t *testing.T) {
	a := backend(t, "a")
	rules := []Rule{
		{ARN: "r", Priority: 1, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/empty"}}}, Actions: forward("tg-empty")},
		{ARN: "r2", Priority: 2, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/fixed"}}},
			Actions: []Action{{Type: ActionFixedResponse, FixedResponse: &FixedResponse{StatusCode: "404"}}}},
	}
	reg := prometheus.NewRegistry()
	_, url := start(t, Options{Registerer: reg}, albConfig(forward("tg"), rules, httpGroup("tg", targetOf(t, a, "a")), httpGroup("tg-empty")))
	for range 3 {
		get(t, http.DefaultClient, url+"/")
	}
	get(t, http.DefaultClient, url+"/empty")
	get(t, http.DefaultClient, url+"/fixed")
	lb := map[string]string{"LoadBalancer": "app/web/1"}
	tg := map[string]string{"LoadBalancer": "app/web/1", "TargetGroup": "targetgroup/tg/1"}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"flotta_lb_request_count_total", lb, 5},
		{"flotta_lb_request_count_per_target_total", tg, 3},
		{"flotta_lb_httpcode_target_2xx_count_total", tg, 3},
		{"flotta_lb_target_response_time_seconds", tg, 3},
		{"flotta_lb_httpcode_elb_5xx_count_total", lb, 1},
		{"flotta_lb_httpcode_elb_4xx_count_total", lb, 1},
		{"flotta_lb_unhealthy_host_count", tg, 0},
	} {
		if got := metricValue(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// TestApplyMovesPort: a port that passes from one listener to another in
// one Apply is freed before it is bound again.
func TestApplyMovesPort(t *testing.T) {
	a := backend(t, "a")
	cfg := albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, a, "a")))
	b, url := start(t, Options{}, cfg)
	port := b.Addr("l-1").(*net.TCPAddr).Port
	cfg.LoadBalancers[0].Listeners[0].ARN = "l-2"
	cfg.LoadBalancers[0].Listeners[0].Port = port
	if err := b.Apply(cfg); err != nil {
		t.Fatalf("moving port %d to another listener: %v", port, err)
	}
	if b.Addr("l-1") != nil {
		t.Fatal("the old listener is still bound")
	}
	if _, body := get(t, &http.Client{}, url); body != "a" {
		t.Fatalf("the moved port answered %q", body)
	}
}

func TestDecodeConfigStrict(t *testing.T) {
	if _, err := DecodeConfig(strings.NewReader(`{"loadBalancers":[],"targetGroups":[{"arn":"tg","protocol":"HTTP","healthCheck":{},"attributes":{"stickiness.enabled":true}}]}`)); err != nil {
		t.Fatalf("valid configuration: %v", err)
	}
	for _, bad := range []string{`{"loadBalancer":[]}`, `{"targetGroups":[{"arn":"tg","weight":3}]}`, `{} {}`, `{"loadBalancers":`} {
		if _, err := DecodeConfig(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: decoded, want an error", bad)
		}
	}
}

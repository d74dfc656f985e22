package lb

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// groupConfig is a target group's settings, checked and with ELB's
// defaults filled in.
type groupConfig struct {
	arn, dimension string
	scheme         string // http, https, h2c or tcp: how requests reach targets
	port           int

	hcProto     string // HTTP, HTTPS or TCP
	hcPort      int    // 0: the target's traffic port
	hcPath      string
	interval    time.Duration
	timeout     time.Duration
	healthyN    int
	unhealthyN  int
	matcher     codeMatcher
	stickyFor   time.Duration // lb_cookie stickiness; 0 when off
	slowStart   time.Duration
	leastOutstd bool
}

// codeMatcher is a compiled HttpCode matcher: ranges of accepted codes.
type codeMatcher [][2]int

func (m codeMatcher) match(code int) bool {
	for _, r := range m {
		if r[0] <= code && code <= r[1] {
			return true
		}
	}
	return false
}

func parseMatcher(s string) (codeMatcher, error) {
	var m codeMatcher
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 100 || b > 599 || a > b {
			return nil, fmt.Errorf("health check matcher %q: want codes like 200, 200-299 or 200,202", s)
		}
		m = append(m, [2]int{a, b})
	}
	return m, nil
}

func seconds(n, def int) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Second
}

func atLeast(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// compileGroup checks a target group and fills in ELB's defaults.
func compileGroup(tg TargetGroup) (*groupConfig, error) {
	if tg.ARN == "" {
		return nil, fmt.Errorf("target group %q has no ARN", tg.Name)
	}
	gc := &groupConfig{arn: tg.ARN, dimension: tg.Dimension, port: tg.Port}
	switch tg.Protocol {
	case ProtocolHTTP:
		gc.scheme = "http"
		if tg.ProtocolVersion == "HTTP2" || tg.ProtocolVersion == "GRPC" {
			gc.scheme = "h2c"
		}
	case ProtocolHTTPS:
		gc.scheme = "https"
	case ProtocolTCP:
		gc.scheme = "tcp"
	default:
		return nil, fmt.Errorf("target group %s: protocol %q is not HTTP, HTTPS or TCP", tg.ARN, tg.Protocol)
	}
	hc := tg.HealthCheck
	gc.hcProto = hc.Protocol
	if gc.hcProto == "" {
		gc.hcProto = tg.Protocol
	}
	if gc.hcProto != ProtocolHTTP && gc.hcProto != ProtocolHTTPS && gc.hcProto != ProtocolTCP {
		return nil, fmt.Errorf("target group %s: health check protocol %q is not HTTP, HTTPS or TCP", tg.ARN, gc.hcProto)
	}
	if hc.Port != "" && hc.Port != "traffic-port" {
		p, err := strconv.Atoi(hc.Port)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("target group %s: health check port %q is not 1-65535 or traffic-port", tg.ARN, hc.Port)
		}
		gc.hcPort = p
	}
	gc.hcPath = hc.Path
	if gc.hcPath == "" {
		gc.hcPath = "/"
	}
	tcp := gc.hcProto == ProtocolTCP
	gc.interval = seconds(hc.IntervalSeconds, 30)
	gc.timeout = seconds(hc.TimeoutSeconds, map[bool]int{true: 10, false: 5}[tcp])
	gc.healthyN = atLeast(hc.HealthyThreshold, 5)
	gc.unhealthyN = atLeast(hc.UnhealthyThreshold, 2)
	matcher := hc.Matcher
	if matcher == "" {
		matcher = "200"
	}
	m, err := parseMatcher(matcher)
	if err != nil {
		return nil, fmt.Errorf("target group %s: %w", tg.ARN, err)
	}
	gc.matcher = m
	a := tg.Attributes
	if a.StickinessEnabled && (a.StickinessType == "" || a.StickinessType == "lb_cookie") {
		gc.stickyFor = seconds(a.StickinessSeconds, 86400)
	}
	if a.SlowStartSeconds > 0 {
		gc.slowStart = time.Duration(a.SlowStartSeconds) * time.Second
	}
	switch a.Algorithm {
	case "", AlgorithmRoundRobin:
	case AlgorithmLeastOutstanding:
		gc.leastOutstd = true
	default:
		return nil, fmt.Errorf("target group %s: load_balancing.algorithm.type %q is not round_robin or least_outstanding_requests", tg.ARN, a.Algorithm)
	}
	for _, t := range tg.Targets {
		if t.Host == "" || t.Port < 1 || t.Port > 65535 {
			return nil, fmt.Errorf("target group %s: target %q needs a host and a port 1-65535", tg.ARN, t.ID)
		}
		if t.State != "" && t.State != TargetRegistered && t.State != TargetDraining {
			return nil, fmt.Errorf("target group %s: target %q state %q is not registered or draining", tg.ARN, t.ID, t.State)
		}
	}
	return gc, nil
}

package elbv2

import (
	"regexp"
	"strconv"

	"github.com/flotta-dev/flotta/internal/state"
)

// healthCheckIn is the health check members of CreateTargetGroup and
// ModifyTargetGroup.
type healthCheckIn struct {
	HealthCheckEnabled         *bool
	HealthCheckProtocol        string
	HealthCheckPort            string
	HealthCheckPath            string
	HealthCheckIntervalSeconds *int32
	HealthCheckTimeoutSeconds  *int32
	HealthyThresholdCount      *int32
	UnhealthyThresholdCount    *int32
	Matcher                    *struct {
		HTTPCode string `query:"HttpCode"`
	}
}

// defaultHealthCheck is ELB's default health check for a target group
// protocol and a health check protocol.
func defaultHealthCheck(tgProtocol, hcProtocol string) state.ELBHealthCheck {
	hc := state.ELBHealthCheck{Enabled: true, Protocol: hcProtocol, Port: "traffic-port", IntervalSeconds: 30, TimeoutSeconds: 5,
		HealthyThreshold: 5, UnhealthyThreshold: 2}
	switch {
	case tgProtocol == "TCP" && hcProtocol == "TCP":
		hc.TimeoutSeconds = 10
	case tgProtocol == "TCP":
		// A TCP group's HTTP check waits 6 seconds, its HTTPS check 10
		// (API_CreateTargetGroup: "HTTP, the default is 6 seconds ... TCP,
		// TLS or HTTPS, the default is 10 seconds").
		hc.TimeoutSeconds, hc.Path, hc.Matcher = 6, "/", "200-399"
		if hcProtocol == "HTTPS" {
			hc.TimeoutSeconds = 10
		}
	default:
		hc.Path, hc.Matcher = "/", "200"
	}
	return hc
}

var matcherPattern = regexp.MustCompile(`^[0-9]{3}(-[0-9]{3})?(,[0-9]{3}(-[0-9]{3})?)*$`)

// healthCheck applies in to cur (the defaults, for a new group) and checks
// the result by ELB's rules.
func healthCheck(tgProtocol string, cur state.ELBHealthCheck, in healthCheckIn) (state.ELBHealthCheck, error) {
	hc := cur
	if in.HealthCheckProtocol != "" && in.HealthCheckProtocol != hc.Protocol {
		switch in.HealthCheckProtocol {
		case "HTTP", "HTTPS":
		case "TCP":
			if tgProtocol != "TCP" {
				return hc, invalid("Health check protocol '%s' is not supported for target groups with the protocol '%s'", in.HealthCheckProtocol, tgProtocol)
			}
		default:
			return hc, invalid("1 validation error detected: Value '%s' at 'healthCheckProtocol' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, HTTPS, TCP]", in.HealthCheckProtocol)
		}
		// Between HTTP and HTTPS the path and matcher stay; to or from TCP
		// they are the new protocol's defaults.
		if (in.HealthCheckProtocol == "TCP") != (hc.Protocol == "TCP") {
			fresh := defaultHealthCheck(tgProtocol, in.HealthCheckProtocol)
			hc.Path, hc.Matcher = fresh.Path, fresh.Matcher
		}
		hc.Protocol = in.HealthCheckProtocol
	}
	if in.HealthCheckEnabled != nil {
		hc.Enabled = *in.HealthCheckEnabled
	}
	if in.HealthCheckPort != "" {
		if in.HealthCheckPort != "traffic-port" {
			if n, err := strconv.Atoi(in.HealthCheckPort); err != nil || n < 1 || n > 65535 {
				return hc, invalid("Health check port '%s' must be 'traffic-port' or a number between 1 and 65535", in.HealthCheckPort)
			}
		}
		hc.Port = in.HealthCheckPort
	}
	http := hc.Protocol == "HTTP" || hc.Protocol == "HTTPS"
	if in.HealthCheckPath != "" {
		if !http {
			return hc, invalid("Health check path cannot be specified for '%s' health checks", hc.Protocol)
		}
		if in.HealthCheckPath[0] != '/' || len(in.HealthCheckPath) > 1024 {
			return hc, invalid("Health check path '%s' must begin with '/' and be at most 1024 characters long", in.HealthCheckPath)
		}
		hc.Path = in.HealthCheckPath
	}
	if in.Matcher != nil {
		if !http {
			return hc, invalid("Health check matcher HTTP code cannot be specified for '%s' health checks", hc.Protocol)
		}
		if !matcherPattern.MatchString(in.Matcher.HTTPCode) {
			return hc, invalid("Health check matcher HTTP code '%s' must be a code, a range (200-299) or a list (200,202) of codes", in.Matcher.HTTPCode)
		}
		hc.Matcher = in.Matcher.HTTPCode
	}
	for _, f := range []struct {
		v      *int32
		to     *int32
		name   string
		lo, hi int32
	}{
		{in.HealthCheckIntervalSeconds, &hc.IntervalSeconds, "healthCheckIntervalSeconds", 5, 300},
		{in.HealthCheckTimeoutSeconds, &hc.TimeoutSeconds, "healthCheckTimeoutSeconds", 2, 120},
		{in.HealthyThresholdCount, &hc.HealthyThreshold, "healthyThresholdCount", 2, 10},
		{in.UnhealthyThresholdCount, &hc.UnhealthyThreshold, "unhealthyThresholdCount", 2, 10},
	} {
		if f.v == nil {
			continue
		}
		if *f.v < f.lo {
			return hc, invalid("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", *f.v, f.name, f.lo)
		}
		if *f.v > f.hi {
			return hc, invalid("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", *f.v, f.name, f.hi)
		}
		*f.to = *f.v
	}
	// An HTTP or HTTPS group's timeout must be below the interval; a TCP
	// group's may equal it.
	if tgProtocol == "TCP" {
		if hc.TimeoutSeconds > hc.IntervalSeconds {
			return hc, invalid("Health check timeout '%d' must be smaller than or equal to the interval '%d'", hc.TimeoutSeconds, hc.IntervalSeconds)
		}
	} else if hc.TimeoutSeconds >= hc.IntervalSeconds {
		return hc, invalid("Health check timeout '%d' must be smaller than the interval '%d'", hc.TimeoutSeconds, hc.IntervalSeconds)
	}
	return hc, nil
}

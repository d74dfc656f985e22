package elbv2

import (
	"slices"
	"strconv"
)

// The attributes of load balancers and target groups: each key ELB knows
// for a kind, its default and the values it takes. Flotta stores every
// attribute and the data plane acts on those it implements
// (deregistration_delay.timeout_seconds, stickiness.*, slow_start.*,
// load_balancing.algorithm.type, idle_timeout.timeout_seconds,
// deletion_protection.enabled by this package).

// attrSpec is one attribute: its default and whether a value is valid.
type attrSpec struct {
	def   string
	valid func(string) bool
}

func boolean(def bool) attrSpec {
	return attrSpec{def: strconv.FormatBool(def), valid: func(v string) bool { return v == "true" || v == "false" }}
}

func between(def, lo, hi int) attrSpec {
	return attrSpec{def: strconv.Itoa(def), valid: func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= lo && n <= hi
	}}
}

func oneOf(def string, values ...string) attrSpec {
	return attrSpec{def: def, valid: func(v string) bool { return slices.Contains(values, v) }}
}

func anyString(def string) attrSpec {
	return attrSpec{def: def, valid: func(v string) bool { return len(v) <= 1024 }}
}

var (
	commonLBAttrs = map[string]attrSpec{
		"access_logs.s3.enabled":      boolean(false),
		"access_logs.s3.bucket":       anyString(""),
		"access_logs.s3.prefix":       anyString(""),
		"deletion_protection.enabled": boolean(false),
		"ipv6.deny_all_igw_traffic":   boolean(false),
		"zonal_shift.config.enabled":  boolean(false),
	}
	applicationLBAttrs = map[string]attrSpec{
		"idle_timeout.timeout_seconds":                             between(60, 1, 4000),
		"client_keep_alive.seconds":                                between(3600, 60, 604800),
		"routing.http2.enabled":                                    boolean(true),
		"routing.http.drop_invalid_header_fields.enabled":          boolean(false),
		"routing.http.preserve_host_header.enabled":                boolean(false),
		"routing.http.xff_client_port.enabled":                     boolean(false),
		"routing.http.xff_header_processing.mode":                  oneOf("append", "append", "preserve", "remove"),
		"routing.http.desync_mitigation_mode":                      oneOf("defensive", "monitor", "defensive", "strictest"),
		"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": boolean(false),
		"waf.fail_open.enabled":                                    boolean(false),
		"load_balancing.cross_zone.enabled":                        oneOf("true", "true"),
		"connection_logs.s3.enabled":                               boolean(false),
		"connection_logs.s3.bucket":                                anyString(""),
		"connection_logs.s3.prefix":                                anyString(""),
		"health_check_logs.s3.enabled":                             boolean(false),
		"health_check_logs.s3.bucket":                              anyString(""),
		"health_check_logs.s3.prefix":                              anyString(""),
	}
	networkLBAttrs = map[string]attrSpec{
		"load_balancing.cross_zone.enabled":    boolean(false),
		"dns_record.client_routing_policy":     oneOf("any_availability_zone", "availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone"),
		"secondary_ips.auto_assign.per_subnet": between(0, 0, 7),
	}
	httpTGAttrs = map[string]attrSpec{
		"deregistration_delay.timeout_seconds":   between(300, 0, 3600),
		"stickiness.enabled":                     boolean(false),
		"stickiness.type":                        oneOf("lb_cookie", "lb_cookie", "app_cookie"),
		"stickiness.lb_cookie.duration_seconds":  between(86400, 1, 604800),
		"stickiness.app_cookie.cookie_name":      anyString(""),
		"stickiness.app_cookie.duration_seconds": between(86400, 1, 604800),
		"slow_start.duration_seconds": {def: "0", valid: func(v string) bool {
			n, err := strconv.Atoi(v)
			return err == nil && (n == 0 || n >= 30 && n <= 900)
		}},
		"load_balancing.algorithm.type":                                                  oneOf("round_robin", "round_robin", "least_outstanding_requests", "weighted_random"),
		"load_balancing.algorithm.anomaly_mitigation":                                    oneOf("off", "on", "off"),
		"load_balancing.cross_zone.enabled":                                              oneOf("use_load_balancer_configuration", "true", "false", "use_load_balancer_configuration"),
		"target_group_health.dns_failover.minimum_healthy_targets.count":                 countOrOff("1"),
		"target_group_health.dns_failover.minimum_healthy_targets.percentage":            percentOrOff("off"),
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      countOrOff("1"),
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": percentOrOff("off"),
	}
	tcpTGAttrs = map[string]attrSpec{
		"deregistration_delay.timeout_seconds":                                           between(300, 0, 3600),
		"deregistration_delay.connection_termination.enabled":                            boolean(false),
		"stickiness.enabled":                                                             boolean(false),
		"stickiness.type":                                                                oneOf("source_ip", "source_ip"),
		"proxy_protocol_v2.enabled":                                                      boolean(false),
		"preserve_client_ip.enabled":                                                     boolean(true),
		"load_balancing.cross_zone.enabled":                                              oneOf("use_load_balancer_configuration", "true", "false", "use_load_balancer_configuration"),
		"target_health_state.unhealthy.connection_termination.enabled":                   boolean(true),
		"target_health_state.unhealthy.draining_interval_seconds":                        between(0, 0, 360000),
		"target_group_health.dns_failover.minimum_healthy_targets.count":                 countOrOff("1"),
		"target_group_health.dns_failover.minimum_healthy_targets.percentage":            percentOrOff("off"),
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      countOrOff("1"),
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": percentOrOff("off"),
	}
)

// countOrOff is a count of healthy targets (1 or more) or "off".
func countOrOff(def string) attrSpec {
	return attrSpec{def: def, valid: func(v string) bool {
		n, err := strconv.Atoi(v)
		return v == "off" || err == nil && n >= 1 && n <= 5000
	}}
}

// percentOrOff is a percentage of healthy targets (1-100) or "off".
func percentOrOff(def string) attrSpec {
	return attrSpec{def: def, valid: func(v string) bool {
		n, err := strconv.Atoi(v)
		return v == "off" || err == nil && n >= 1 && n <= 100
	}}
}

// lbAttrSpecs are the attributes of a load balancer type.
func lbAttrSpecs(lbType string) map[string]attrSpec {
	out := map[string]attrSpec{}
	for k, v := range commonLBAttrs {
		out[k] = v
	}
	more := applicationLBAttrs
	if lbType == "network" {
		more = networkLBAttrs
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// tgAttrSpecs are the attributes of a target group protocol.
func tgAttrSpecs(protocol string) map[string]attrSpec {
	if protocol == "TCP" {
		return tcpTGAttrs
	}
	return httpTGAttrs
}

func defaults(specs map[string]attrSpec) map[string]string {
	out := make(map[string]string, len(specs))
	for k, s := range specs {
		out[k] = s.def
	}
	return out
}

// Attribute is ELB's LoadBalancerAttribute and TargetGroupAttribute.
type Attribute struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func attributesOut(attrs map[string]string) []Attribute {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Attribute, 0, len(keys))
	for _, k := range keys {
		out = append(out, Attribute{Key: k, Value: attrs[k]})
	}
	return out
}

// applyAttributes checks changes against specs and returns the attributes
// with them applied, or ELB's refusal (what is "Load balancer" or "Target
// group").
func applyAttributes(what string, specs map[string]attrSpec, cur map[string]string, changes []Attribute) (map[string]string, error) {
	if len(changes) == 0 {
		return nil, needed("attributes")
	}
	out := make(map[string]string, len(cur))
	for k, v := range cur {
		out[k] = v
	}
	for _, c := range changes {
		spec, ok := specs[c.Key]
		if !ok {
			return nil, invalid("%s attribute key '%s' is not recognized", what, c.Key)
		}
		if !spec.valid(c.Value) {
			return nil, invalid("%s attribute '%s' has an invalid value '%s'", what, c.Key, c.Value)
		}
		out[c.Key] = c.Value
	}
	return out, nil
}

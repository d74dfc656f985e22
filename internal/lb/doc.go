// Package lb owns Flotta's load balancer data plane: the HTTP and TCP proxy
// behind the ELBv2 API's Application and Network Load Balancers. It binds
// the listeners, matches listener rules, spreads requests over weighted
// target groups and their targets, checks target health, drains
// deregistered targets and counts what it did.
//
// It is driven by one plain value, Config, so that the same code runs inside
// `flotta server` and as a separate `flotta lb` process that receives its
// configuration over the wire. It imports no part of the control plane:
// the control plane calls Balancer.Apply with each new configuration, reads
// Balancer.Health, and learns of changes through Options.OnHealthChange and
// Options.OnDrained.
//
// Behaviour follows ELB: rules by priority with the default actions last;
// conditions AND, their values OR; path patterns case sensitive, hosts,
// header values and query strings not, * and ? wildcards; weighted
// forwarding by smooth weighted round robin (exact, not random); round robin
// or least outstanding requests within a group, over healthy targets, or
// over all of them when none is healthy (fail open); 503 with no target,
// 502 when a target fails, 504 when it does not answer within the load
// balancer's idle timeout; AWSALB and AWSALBTG stickiness cookies;
// X-Forwarded-For appended, X-Forwarded-Proto and -Port set; HTTP/1.1,
// HTTP/2 over TLS, h2c, WebSocket upgrades and streamed responses.
//
// # Metrics
//
// Collectors go to Options.Registerer. Labels are CloudWatch's dimensions
// of AWS/ApplicationELB: LoadBalancer ("app/NAME/ID") and TargetGroup
// ("targetgroup/NAME/ID").
//
//	flotta_lb_request_count_total{LoadBalancer}                       RequestCount
//	flotta_lb_request_count_per_target_total{LoadBalancer,TargetGroup} RequestCountPerTarget (sum; divide by healthy hosts)
//	flotta_lb_target_response_time_seconds{LoadBalancer,TargetGroup}   TargetResponseTime (histogram)
//	flotta_lb_httpcode_target_2xx_count_total{LoadBalancer,TargetGroup} HTTPCode_Target_2XX_Count (also 3xx, 4xx, 5xx)
//	flotta_lb_httpcode_elb_4xx_count_total{LoadBalancer}               HTTPCode_ELB_4XX_Count (also 3xx, 5xx)
//	flotta_lb_healthy_host_count{LoadBalancer,TargetGroup}             HealthyHostCount (gauge)
//	flotta_lb_unhealthy_host_count{LoadBalancer,TargetGroup}           UnHealthyHostCount (gauge)
package lb

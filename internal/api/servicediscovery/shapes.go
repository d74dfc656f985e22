package servicediscovery

import (
	"regexp"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// The wire shapes Cloud Map shares between operations, and their checks.

// Tag is a resource tag.
type Tag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

// SOA is a DNS namespace's SOA record settings.
type SOA struct {
	TTL *int64 `json:"TTL"`
}

// DnsProperties are a DNS namespace's properties.
type DnsProperties struct {
	HostedZoneID string `json:"HostedZoneId,omitempty"`
	SOA          *SOA   `json:"SOA,omitempty"`
}

// HttpProperties are the namespace's HTTP properties.
type HttpProperties struct {
	HttpName string `json:"HttpName"`
}

// NamespaceProperties are a namespace's properties.
type NamespaceProperties struct {
	DnsProperties  *DnsProperties  `json:"DnsProperties,omitempty"`
	HttpProperties *HttpProperties `json:"HttpProperties,omitempty"`
}

// DnsRecord is one record type of a DNS service.
type DnsRecord struct {
	Type string `json:"Type"`
	TTL  *int64 `json:"TTL"`
}

// DnsConfig is a DNS service's records and routing policy.
type DnsConfig struct {
	NamespaceID   string      `json:"NamespaceId,omitempty"`
	RoutingPolicy string      `json:"RoutingPolicy,omitempty"`
	DnsRecords    []DnsRecord `json:"DnsRecords"`
}

// HealthCheckConfig is a Route 53 health check's settings.
type HealthCheckConfig struct {
	Type             string `json:"Type"`
	ResourcePath     string `json:"ResourcePath,omitempty"`
	FailureThreshold *int   `json:"FailureThreshold,omitempty"`
}

// HealthCheckCustomConfig says a service's instances' health is reported
// through UpdateInstanceCustomHealthStatus.
type HealthCheckCustomConfig struct {
	FailureThreshold *int `json:"FailureThreshold,omitempty"`
}

// Quotas and lengths of the API reference.
const (
	maxTags           = 200
	maxDescriptionLen = 1024
	maxRequestIDLen   = 64
	maxIDLen          = 64
	maxAttributes     = 30
	maxAttrKeyLen     = 255
	maxAttrValueLen   = 1024
	maxTTL            = 2147483647
)

func checkTags(tags []Tag, resource string) ([]model.Tag, error) {
	if len(tags) > maxTags {
		return nil, withFields(errorf(codeTooManyTags, "The resource can have at most %d tags; %d were given.", maxTags, len(tags)),
			map[string]string{"ResourceName": resource})
	}
	out := make([]model.Tag, 0, len(tags))
	for _, t := range tags {
		if t.Key == nil || t.Value == nil {
			return nil, invalid("A tag must have a Key and a Value.")
		}
		if n := len(*t.Key); n < 1 || n > 128 {
			return nil, invalid("Tag keys must be 1 to 128 characters long.")
		}
		if len(*t.Value) > 256 {
			return nil, invalid("Tag values must be at most 256 characters long.")
		}
		if strings.HasPrefix(strings.ToLower(*t.Key), "aws:") {
			return nil, invalid("Tag keys may not begin with aws:.")
		}
		out = append(out, model.Tag{Key: *t.Key, Value: *t.Value})
	}
	return out, nil
}

// mergeTags adds or replaces tags by key.
func mergeTags(cur, add []model.Tag) []model.Tag {
	for _, t := range add {
		i := slices.IndexFunc(cur, func(c model.Tag) bool { return c.Key == t.Key })
		if i >= 0 {
			cur[i].Value = t.Value
		} else {
			cur = append(cur, t)
		}
	}
	return cur
}

func wireTags(tags []model.Tag) []Tag {
	out := make([]Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, Tag{Key: &t.Key, Value: &t.Value})
	}
	return out
}

func checkDescription(d *string) error {
	if d != nil && len(*d) > maxDescriptionLen {
		return invalid("Description must be at most %d characters long.", maxDescriptionLen)
	}
	return nil
}

func checkRequestID(id string) error {
	if len(id) > maxRequestIDLen {
		return invalid("CreatorRequestId must be at most %d characters long.", maxRequestIDLen)
	}
	return nil
}

func checkTTL(member string, ttl *int64) error {
	if ttl == nil {
		return invalid("%s is required.", member)
	}
	if *ttl < 0 || *ttl > maxTTL {
		return invalid("%s must be from 0 to %d; got %d.", member, maxTTL, *ttl)
	}
	return nil
}

// printable is Cloud Map's pattern for HTTP namespace names, [!-~]{1,1024}.
var printable = regexp.MustCompile(`^[!-~]+$`)

// dnsLabel is one label of a domain name.
var dnsLabel = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$`)

// checkDomain checks a DNS namespace's name.
func checkDomain(name string) error {
	n := strings.TrimSuffix(name, ".")
	if n == "" || len(n) > 253 {
		return invalid("Name must be a domain name of 1 to 253 characters.")
	}
	for _, l := range strings.Split(n, ".") {
		if !dnsLabel.MatchString(l) {
			return invalid("Name %q is not a valid domain name: the label %q is not 1 to 63 letters, digits, hyphens or underscores.", name, l)
		}
	}
	return nil
}

// serviceName is Cloud Map's pattern for service names: one or more DNS
// labels (SRV services start theirs with _), at most 127 characters.
func checkServiceName(name string) error {
	if name == "" || len(name) > 127 {
		return invalid("Name must be 1 to 127 characters long.")
	}
	for _, l := range strings.Split(name, ".") {
		if !dnsLabel.MatchString(l) {
			return invalid("Name %q is not valid: each label must be 1 to 63 letters, digits, hyphens or underscores, not starting or ending with a hyphen.", name)
		}
	}
	return nil
}

var instanceIDRE = regexp.MustCompile(`^[0-9a-zA-Z_/:.@-]+$`)

func checkInstanceID(id string) error {
	if id == "" {
		return invalid("InstanceId is required.")
	}
	if len(id) > 64 || !instanceIDRE.MatchString(id) {
		return invalid("InstanceId %q is not valid: it must be 1 to 64 of the characters 0-9 a-z A-Z _ / : . @ -.", id)
	}
	return nil
}

func requireID(member, id string) error {
	if id == "" {
		return invalid("%s is required.", member)
	}
	if len(id) > maxIDLen {
		return invalid("%s must be at most %d characters long.", member, maxIDLen)
	}
	return nil
}

// pageSize checks MaxResults against 1..max.
func pageSize(n *int, def, max int) (int, error) {
	if n == nil {
		return def, nil
	}
	if *n < 1 || *n > max {
		return 0, invalid("MaxResults must be from 1 to %d; got %d.", max, *n)
	}
	return *n, nil
}

// page cuts a sorted list of ids-with-values at the token and the size.
// A token is the id of the last item of the page before.
func page[T any](items []T, id func(T) string, token string, size int) ([]T, string, error) {
	start := 0
	if token != "" {
		start = slices.IndexFunc(items, func(t T) bool { return id(t) > token })
		if start < 0 {
			start = len(items)
		}
		if !validToken(token) {
			return nil, "", invalid("NextToken is not valid: use the NextToken of the previous answer.")
		}
	}
	rest := items[start:]
	if len(rest) <= size {
		return rest, "", nil
	}
	return rest[:size], id(rest[size-1]), nil
}

var tokenRE = regexp.MustCompile(`^[!-~]+$`)

func validToken(t string) bool { return len(t) <= 4096 && tokenRE.MatchString(t) }

// filter is the Filters member of the List operations.
type filter struct {
	Name      string   `json:"Name"`
	Values    []string `json:"Values"`
	Condition string   `json:"Condition"`
}

// match checks a value against a filter; conds are the conditions the
// filter's name allows (the first is the default).
func (f filter) check(conds ...string) error {
	if f.Condition == "" {
		f.Condition = conds[0]
	}
	if !slices.Contains(conds, f.Condition) {
		return invalid("Condition %s is not valid for the filter %s; use %s.", f.Condition, f.Name, strings.Join(conds, " or "))
	}
	switch f.Condition {
	case "EQ", "BEGINS_WITH":
		if len(f.Values) != 1 {
			return invalid("The filter %s with condition %s takes exactly one value; got %d.", f.Name, f.Condition, len(f.Values))
		}
	case "IN":
		if len(f.Values) < 1 {
			return invalid("The filter %s with condition IN takes at least one value.", f.Name)
		}
	case "BETWEEN":
		if len(f.Values) != 2 {
			return invalid("The filter %s with condition BETWEEN takes exactly two values; got %d.", f.Name, len(f.Values))
		}
	}
	return nil
}

func (f filter) matches(v string) bool {
	switch f.Condition {
	case "BEGINS_WITH":
		return strings.HasPrefix(v, f.Values[0])
	default: // EQ, IN
		return slices.Contains(f.Values, v)
	}
}

// healthOf is an instance's health as Cloud Map reports it: its custom
// status for a service with a HealthCheckCustomConfig, otherwise UNKNOWN
// (Flotta runs no Route 53 health checks).
func healthOf(svc *state.SDService, inst *state.SDInstance) string {
	if svc.HealthCheckCustom != nil {
		if inst.CustomHealth == "" {
			return "HEALTHY"
		}
		return inst.CustomHealth
	}
	return "UNKNOWN"
}

func ptr[T any](v T) *T { return &v }

package elbv2

import (
	"net/netip"
	"regexp"
	"slices"

	"github.com/flotta-dev/flotta/internal/state"
)

type valuesIn struct {
	Values []string
}

type conditionIn struct {
	Field             string
	Values            []string
	HostHeaderConfig  *valuesIn
	PathPatternConfig *valuesIn
	HTTPHeaderConfig  *struct {
		HTTPHeaderName string `query:"HttpHeaderName"`
		Values         []string
	} `query:"HttpHeaderConfig"`
	QueryStringConfig *struct {
		Values []struct {
			Key   string
			Value string
		}
	}
	HTTPRequestMethodConfig *valuesIn `query:"HttpRequestMethodConfig"`
	SourceIPConfig          *valuesIn `query:"SourceIpConfig"`
}

// The characters ELB allows in each kind of condition value.
var (
	pathChars   = regexp.MustCompile(`^[A-Za-z0-9_\-.$/~"'@:+&*?]+$`)
	hostChars   = regexp.MustCompile(`^[A-Za-z0-9\-.*?]+$`)
	headerName  = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$")
	methodChars = regexp.MustCompile(`^[A-Z_\-]+$`)
	queryChars  = regexp.MustCompile(`^[^\s]*$`)
)

var conditionFields = []string{"http-header", "http-request-method", "host-header", "path-pattern", "query-string", "source-ip"}

// conditions checks a rule's conditions by ELB's rules and makes their
// records: a known field each, its values in its config (or one value in
// Values for path-pattern and host-header), each field but http-header and
// query-string at most once, at most MaxConditionValues values in all. The
// refusals are ELB's words as moto's test_create_rule_validate_condition
// records them.
func conditions(in []conditionIn) ([]state.ELBCondition, error) {
	if len(in) == 0 {
		return nil, needed("conditions")
	}
	var out []state.ELBCondition
	total := 0
	seen := map[string]bool{}
	for _, c := range in {
		if !slices.Contains(conditionFields, c.Field) {
			return nil, invalid("Condition field '%s' must be one of '[http-header, http-request-method, host-header, path-pattern, query-string, source-ip]'", c.Field)
		}
		if seen[c.Field] && c.Field != "http-header" && c.Field != "query-string" {
			return nil, invalid("A rule can have only one '%s' condition", c.Field)
		}
		seen[c.Field] = true
		configs := map[string]bool{"host-header": c.HostHeaderConfig != nil, "path-pattern": c.PathPatternConfig != nil,
			"http-header": c.HTTPHeaderConfig != nil, "query-string": c.QueryStringConfig != nil,
			"http-request-method": c.HTTPRequestMethodConfig != nil, "source-ip": c.SourceIPConfig != nil}
		for field, set := range configs {
			if set && field != c.Field {
				return nil, invalid("The condition config for '%s' cannot be specified with the condition field '%s'", field, c.Field)
			}
		}
		legacy := c.Field == "path-pattern" || c.Field == "host-header"
		if len(c.Values) > 0 && !legacy {
			return nil, invalid("The 'Values' field is not compatible with '%s'", c.Field)
		}
		rec := state.ELBCondition{Field: c.Field}
		var check func(string) bool
		limit := 128
		switch c.Field {
		case "path-pattern", "host-header":
			config, configName := c.PathPatternConfig, "PathPatternConfig"
			check = pathChars.MatchString
			if c.Field == "host-header" {
				config, configName, check = c.HostHeaderConfig, "HostHeaderConfig", hostChars.MatchString
			}
			if config != nil && len(c.Values) > 0 {
				return nil, invalid("You cannot provide both Values and '%s' for a condition of type '%s'", configName, c.Field)
			}
			if len(c.Values) > 1 {
				return nil, invalid("The '%s' field contains too many values; the limit is '1'", c.Field)
			}
			rec.Values = c.Values
			if config != nil {
				rec.Values = config.Values
			}
			if len(rec.Values) == 0 {
				return nil, invalid("A condition value must be specified")
			}
		case "http-header":
			if c.HTTPHeaderConfig == nil {
				return nil, invalid("A 'HttpHeaderConfig' must be specified with 'http-header'")
			}
			name := c.HTTPHeaderConfig.HTTPHeaderName
			if len(name) > 40 {
				return nil, invalid("The 'HttpHeaderName' value is too long; the limit is '40'")
			}
			if !headerName.MatchString(name) {
				return nil, invalid("The HTTP header name '%s' is not valid", name)
			}
			rec.HeaderName, rec.Values, check = name, c.HTTPHeaderConfig.Values, func(v string) bool { return v != "" }
		case "http-request-method":
			if c.HTTPRequestMethodConfig == nil {
				return nil, invalid("A 'HttpRequestMethodConfig' must be specified with 'http-request-method'")
			}
			rec.Values, check, limit = c.HTTPRequestMethodConfig.Values, methodChars.MatchString, 40
		case "source-ip":
			if c.SourceIPConfig == nil {
				return nil, invalid("A 'SourceIpConfig' must be specified with 'source-ip'")
			}
			if rec.Values = c.SourceIPConfig.Values; len(rec.Values) == 0 {
				return nil, invalid("A 'source-ip' value must be specified")
			}
			check = func(v string) bool { _, err := netip.ParsePrefix(v); return err == nil }
		case "query-string":
			if c.QueryStringConfig == nil {
				return nil, invalid("A 'QueryStringConfig' must be specified with 'query-string'")
			}
			for _, kv := range c.QueryStringConfig.Values {
				switch {
				case kv.Value == "":
					return nil, invalid("A 'Value' must be specified in 'QueryStringKeyValuePair'")
				case len(kv.Key) > 128:
					return nil, invalid("The 'Key' value is too long; the limit is '128'")
				case len(kv.Value) > 128:
					return nil, invalid("The 'Value' value is too long; the limit is '128'")
				case !queryChars.MatchString(kv.Key + kv.Value):
					return nil, invalid("Condition value '%s=%s' is not valid for the condition field 'query-string'", kv.Key, kv.Value)
				}
				rec.QueryStrings = append(rec.QueryStrings, state.ELBKeyValue{Key: kv.Key, Value: kv.Value})
			}
			if len(rec.QueryStrings) == 0 {
				return nil, invalid("A condition value must be specified")
			}
			total += len(rec.QueryStrings)
			out = append(out, rec)
			continue
		}
		if len(rec.Values) == 0 {
			return nil, invalid("A condition value must be specified")
		}
		for _, v := range rec.Values {
			if len(v) > limit {
				return nil, invalid("The '%s' value is too long; the limit is '%d'", c.Field, limit)
			}
			if !check(v) {
				if c.Field == "http-request-method" {
					return nil, invalid("The 'http-request-method' value is invalid; the allowed characters are A-Z, hyphen and underscore")
				}
				return nil, invalid("Condition value '%s' is not valid for the condition field '%s'", v, c.Field)
			}
		}
		total += len(rec.Values)
		out = append(out, rec)
	}
	if total > MaxConditionValues {
		return nil, invalid("A rule can only have '%d' condition values", MaxConditionValues)
	}
	return out, nil
}

package route53

import (
	"context"
	"strings"

	"github.com/flotta-dev/flotta/internal/protocol/restxml"
)

// resources is what a Route 53 action is authorized on, as the service
// authorization reference for route53 lists it: the hosted zone
// (arn:aws:route53:::hostedzone/ID) of the zone operations and of the
// tags of a zone, the change (arn:aws:route53:::change/ID) of GetChange,
// and "*" for CreateHostedZone and the listings of every zone. Route 53's
// ARNs name neither a region nor an account.
func (a *API) resources(_ context.Context, r *restxml.Request) ([]string, map[string][]string) {
	switch r.Op {
	case "GetHostedZone", "UpdateHostedZoneComment", "DeleteHostedZone", "ChangeResourceRecordSets", "ListResourceRecordSets",
		"AssociateVPCWithHostedZone", "DisassociateVPCFromHostedZone":
		return []string{ZoneARN(zoneID(r.Path["Id"]))}, nil
	case "GetHealthCheck", "DeleteHealthCheck", "GetHealthCheckStatus":
		return []string{"arn:aws:route53:::healthcheck/" + r.Path["HealthCheckId"]}, nil
	case "GetChange":
		return []string{"arn:aws:route53:::change/" + strings.TrimPrefix(strings.TrimPrefix(r.Path["Id"], "/"), "change/")}, nil
	case "ChangeTagsForResource", "ListTagsForResource":
		if r.Path["ResourceType"] == "hostedzone" {
			return []string{ZoneARN(zoneID(r.Path["ResourceId"]))}, nil
		}
		if r.Path["ResourceType"] == "healthcheck" {
			return []string{"arn:aws:route53:::healthcheck/" + r.Path["ResourceId"]}, nil
		}
	}
	return []string{"*"}, nil
}

// ZoneARN is a hosted zone's ARN.
func ZoneARN(id string) string { return "arn:aws:route53:::hostedzone/" + id }

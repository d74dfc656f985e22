package route53_test

import (
	"context"
	"slices"
	"testing"

	r53api "github.com/flotta-dev/flotta/internal/api/route53"
	"github.com/flotta-dev/flotta/internal/protocol/restxml"
)

type authzCase struct {
	op   string
	path map[string]string
	want []string
}

func authzCases() []authzCase {
	zone := []string{"arn:aws:route53:::hostedzone/Z1"}
	star := []string{"*"}
	return []authzCase{
		{"CreateHostedZone", nil, star},
		{"ListHostedZones", nil, star},
		{"ListHostedZonesByName", nil, star},
		{"GetHostedZoneCount", nil, star},
		{"GetHostedZone", map[string]string{"Id": "Z1"}, zone},
		{"UpdateHostedZoneComment", map[string]string{"Id": "/hostedzone/Z1"}, zone},
		{"DeleteHostedZone", map[string]string{"Id": "Z1"}, zone},
		{"ChangeResourceRecordSets", map[string]string{"Id": "Z1"}, zone},
		{"ListResourceRecordSets", map[string]string{"Id": "Z1"}, zone},
		{"CreateHealthCheck", nil, star},
		{"ListHealthChecks", nil, star},
		{"GetHealthCheckCount", nil, star},
		{"GetHealthCheck", map[string]string{"HealthCheckId": "h1"}, []string{"arn:aws:route53:::healthcheck/h1"}},
		{"DeleteHealthCheck", map[string]string{"HealthCheckId": "h1"}, []string{"arn:aws:route53:::healthcheck/h1"}},
		{"GetHealthCheckStatus", map[string]string{"HealthCheckId": "h1"}, []string{"arn:aws:route53:::healthcheck/h1"}},
		{"AssociateVPCWithHostedZone", map[string]string{"Id": "Z1"}, zone},
		{"DisassociateVPCFromHostedZone", map[string]string{"Id": "Z1"}, zone},
		{"ListHostedZonesByVPC", nil, star},
		{"GetChange", map[string]string{"Id": "/change/C1"}, []string{"arn:aws:route53:::change/C1"}},
		{"ChangeTagsForResource", map[string]string{"ResourceType": "hostedzone", "ResourceId": "Z1"}, zone},
		{"ListTagsForResource", map[string]string{"ResourceType": "healthcheck", "ResourceId": "h1"}, []string{"arn:aws:route53:::healthcheck/h1"}},
	}
}

// TestAuthzCoversEveryOperation: every operation served has a row in the
// table, and each is authorized on the resource the service authorization
// reference names.
func TestAuthzCoversEveryOperation(t *testing.T) {
	svc := (&r53api.API{}).Service()
	tested := map[string]bool{}
	for _, c := range authzCases() {
		tested[c.op] = true
		got, _ := svc.Resources(context.Background(), &restxml.Request{Op: c.op, Path: c.path})
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %v: authorized on %v, want %v", c.op, c.path, got, c.want)
		}
	}
	for _, r := range svc.Routes {
		if !tested[r.Op] {
			t.Errorf("%s has no row in authzCases", r.Op)
		}
	}
	if svc.ActionPrefix != "route53" || svc.SigningName != "route53" {
		t.Fatalf("signing name %q, action prefix %q", svc.SigningName, svc.ActionPrefix)
	}
}

package servicediscovery_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestServiceAttributes: a service's own attributes are added, replaced,
// read (by id and by ARN) and deleted; more than 30 is
// ServiceAttributesLimitExceededException, and refusals change nothing.
func TestServiceAttributes(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.SD()
	ctx := context.Background()
	nsID := privateNS(t, c, "attrs.local")
	out, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(nsID),
		DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(10)}}}})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.Service.Id, out.Service.Arn
	get := func(ref *string) map[string]string {
		t.Helper()
		got, err := c.GetServiceAttributes(ctx, &sd.GetServiceAttributesInput{ServiceId: ref})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(got.ServiceAttributes.ServiceArn) != aws.ToString(arn) || aws.ToString(got.ServiceAttributes.ResourceOwner) != e.Server.Account().ID {
			t.Fatalf("service attributes of %+v", got.ServiceAttributes)
		}
		return got.ServiceAttributes.Attributes
	}
	if got := get(id); len(got) != 0 {
		t.Fatalf("a new service has attributes %v", got)
	}
	if _, err := c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: id, Attributes: map[string]string{"team": "web", "tier": "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: arn, Attributes: map[string]string{"tier": "2"}}); err != nil {
		t.Fatal(err)
	}
	if got := get(arn); !maps.Equal(got, map[string]string{"team": "web", "tier": "2"}) {
		t.Fatalf("attributes %v", got)
	}

	many := map[string]string{}
	for i := range 29 {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	unchanged := func(what string, call func() error, code string) {
		t.Helper()
		before := e.Revision(t)
		wantCode(t, what, call(), code)
		if after := e.Revision(t); after != before {
			t.Fatalf("%s changed the store", what)
		}
	}
	unchanged("31 attributes", func() error {
		_, err := c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: id, Attributes: many})
		return err
	}, "ServiceAttributesLimitExceededException")
	unchanged("no attributes", func() error {
		_, err := c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: id, Attributes: map[string]string{}})
		return err
	}, "InvalidInput")
	unchanged("a value too long", func() error {
		_, err := c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: id, Attributes: map[string]string{"k": strings.Repeat("v", 1025)}})
		return err
	}, "InvalidInput")
	unchanged("an unknown service", func() error {
		_, err := c.GetServiceAttributes(ctx, &sd.GetServiceAttributesInput{ServiceId: aws.String("srv-0000000000000000")})
		return err
	}, "ServiceNotFound")

	if _, err := c.DeleteServiceAttributes(ctx, &sd.DeleteServiceAttributesInput{ServiceId: id, Attributes: []string{"team", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if got := get(id); !maps.Equal(got, map[string]string{"tier": "2"}) {
		t.Fatalf("after the delete: %v", got)
	}
}

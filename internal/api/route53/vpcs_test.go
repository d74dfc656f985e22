package route53_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestVPCAssociations: a private zone takes more VPCs and gives them up,
// never its last; ListHostedZonesByVPC finds it in each.
func TestVPCAssociations(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.R53()
	ctx := context.Background()
	id := aws.ToString(mustZone(t, c, "example.com", "r1").HostedZone.Id)
	vpc2 := &types.VPC{VPCId: aws.String("vpc-2"), VPCRegion: types.VPCRegionUsEast1}
	out, err := c.AssociateVPCWithHostedZone(ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: aws.String(id), VPC: vpc2, Comment: aws.String("more")})
	if err != nil || out.ChangeInfo.Status != types.ChangeStatusPending {
		t.Fatalf("associate: %v %+v", err, out)
	}
	if _, err := c.GetChange(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id}); err != nil {
		t.Fatalf("its change: %v", err)
	}
	if _, err := c.AssociateVPCWithHostedZone(ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: aws.String(id), VPC: vpc2}); code(err) != "ConflictingDomainExists" {
		t.Fatalf("associate again: %v", err)
	}
	z, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
	if err != nil || len(z.VPCs) != 2 {
		t.Fatalf("get: %v %+v", err, z)
	}
	byVPC, err := c.ListHostedZonesByVPC(ctx, &route53.ListHostedZonesByVPCInput{VPCId: aws.String("vpc-2"), VPCRegion: types.VPCRegionUsEast1})
	if err != nil || len(byVPC.HostedZoneSummaries) != 1 || aws.ToString(byVPC.HostedZoneSummaries[0].Name) != "example.com." {
		t.Fatalf("by VPC: %v %+v", err, byVPC)
	}
	if _, err := c.DisassociateVPCFromHostedZone(ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: aws.String(id),
		VPC: &types.VPC{VPCId: aws.String("vpc-9"), VPCRegion: types.VPCRegionUsEast1}}); code(err) != "VPCAssociationNotFound" {
		t.Fatalf("disassociate a stranger: %v", err)
	}
	if _, err := c.DisassociateVPCFromHostedZone(ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: aws.String(id), VPC: vpc2}); err != nil {
		t.Fatal(err)
	}
	before := e.Revision(t)
	if _, err := c.DisassociateVPCFromHostedZone(ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: aws.String(id),
		VPC: &types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: types.VPCRegionUsEast1}}); code(err) != "LastVPCAssociation" {
		t.Fatalf("disassociate the last: %v", err)
	}
	if e.Revision(t) != before {
		t.Fatal("a refused disassociation wrote")
	}
}

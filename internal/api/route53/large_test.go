package route53_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestLargeZone: batches of 1,000 changes (Route 53's most) commit whole,
// a zone of 2,000 record sets pages in Route 53's order, and a batch over
// the limit is refused.
func TestLargeZone(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.R53()
	ctx := context.Background()
	id := aws.ToString(mustZone(t, c, "big.internal", "big").HostedZone.Id)
	for b := range 2 {
		var changes []types.Change
		for i := range 1000 {
			n := b*1000 + i
			changes = append(changes, ch(types.ChangeActionCreate, rrset(fmt.Sprintf("h%04d.big.internal", n), types.RRTypeA, 60, fmt.Sprintf("10.%d.%d.%d", n/65536, n/256%256, n%256))))
		}
		start := time.Now()
		if _, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: batch(changes...)}); err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
		t.Logf("a batch of 1,000 took %v", time.Since(start))
	}
	all := listAll(t, c, id, 300)
	if len(all) != 2002 {
		t.Fatalf("listed %d", len(all))
	}
	for i, rs := range all[2:] {
		if want := fmt.Sprintf("h%04d.big.internal.", i); aws.ToString(rs.Name) != want {
			t.Fatalf("record %d is %s, want %s", i, aws.ToString(rs.Name), want)
		}
	}
	var changes []types.Change
	for i := range 1001 {
		changes = append(changes, ch(types.ChangeActionCreate, rrset(fmt.Sprintf("x%04d.big.internal", i), types.RRTypeA, 60, "10.9.9.9")))
	}
	before := e.Revision(t)
	if _, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: batch(changes...)}); code(err) != "InvalidInput" {
		t.Fatalf("1,001 changes: %v", err)
	}
	if e.Revision(t) != before {
		t.Fatal("a refused batch wrote")
	}
}

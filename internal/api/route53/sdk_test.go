package route53_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func mustZone(t *testing.T, c *route53.Client, name, ref string) *route53.CreateHostedZoneOutput {
	t.Helper()
	out, err := c.CreateHostedZone(context.Background(), &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(ref),
		VPC: &types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: types.VPCRegionUsEast1}, HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("test"), PrivateZone: true}})
	if err != nil {
		t.Fatalf("create zone %s: %v", name, err)
	}
	return out
}

func rrset(name string, typ types.RRType, ttl int64, values ...string) *types.ResourceRecordSet {
	rs := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

func batch(changes ...types.Change) *types.ChangeBatch { return &types.ChangeBatch{Changes: changes} }

func ch(action types.ChangeAction, rs *types.ResourceRecordSet) types.Change {
	return types.Change{Action: action, ResourceRecordSet: rs}
}

// listAll reads every record set of a zone, one page of size at a time.
func listAll(t *testing.T, c *route53.Client, zone string, size int32) []types.ResourceRecordSet {
	t.Helper()
	var out []types.ResourceRecordSet
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), MaxItems: aws.Int32(size)}
	for {
		page, err := c.ListResourceRecordSets(context.Background(), in)
		if err != nil {
			t.Fatalf("list record sets: %v", err)
		}
		out = append(out, page.ResourceRecordSets...)
		if !page.IsTruncated {
			return out
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = page.NextRecordName, page.NextRecordType, page.NextRecordIdentifier
	}
}

func names(sets []types.ResourceRecordSet) []string {
	var out []string
	for _, s := range sets {
		n := aws.ToString(s.Name) + " " + string(s.Type)
		if s.SetIdentifier != nil {
			n += " " + *s.SetIdentifier
		}
		out = append(out, n)
	}
	return out
}

// TestZoneLifecycle: a private zone is made with its SOA and NS, answers
// Get, List, ListByName and the count, takes a comment and tags, and is
// deleted only once it holds nothing else.
func TestZoneLifecycle(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.R53()
	ctx := context.Background()
	made := mustZone(t, c, "Example.COM", "ref-1")
	id := aws.ToString(made.HostedZone.Id)
	if !strings.HasPrefix(id, "/hostedzone/Z") || len(id) != len("/hostedzone/")+21 {
		t.Fatalf("zone id %q", id)
	}
	if aws.ToString(made.HostedZone.Name) != "example.com." || !made.HostedZone.Config.PrivateZone || made.HostedZone.ResourceRecordSetCount == nil || *made.HostedZone.ResourceRecordSetCount != 2 {
		t.Fatalf("zone %+v %+v", made.HostedZone, made.HostedZone.Config)
	}
	if made.ChangeInfo.Status != types.ChangeStatusPending || !strings.HasPrefix(aws.ToString(made.ChangeInfo.Id), "/change/C") {
		t.Fatalf("change %+v", made.ChangeInfo)
	}
	if loc := aws.ToString(made.Location); !strings.HasSuffix(loc, "/2013-04-01/hostedzone/"+strings.TrimPrefix(id, "/hostedzone/")) {
		t.Fatalf("location %q", loc)
	}
	if made.VPC == nil || aws.ToString(made.VPC.VPCId) != "vpc-1" {
		t.Fatalf("vpc %+v", made.VPC)
	}
	got, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
	if err != nil || aws.ToString(got.HostedZone.Name) != "example.com." || len(got.VPCs) != 1 || aws.ToString(got.HostedZone.Config.Comment) != "test" {
		t.Fatalf("get: %v %+v", err, got)
	}
	sets := listAll(t, c, id, 100)
	if fmt.Sprint(names(sets)) != "[example.com. NS example.com. SOA]" {
		t.Fatalf("a new zone holds %v", names(sets))
	}

	// The same caller reference again: HostedZoneAlreadyExists, nothing written.
	before := e.Revision(t)
	_, err = c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("other.com"), CallerReference: aws.String("ref-1"),
		VPC: &types.VPC{VPCId: aws.String("vpc-2"), VPCRegion: types.VPCRegionUsEast1}})
	var exists *types.HostedZoneAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("reused caller reference: %v", err)
	}
	// A public zone is refused clearly.
	_, err = c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("public.com"), CallerReference: aws.String("ref-p")})
	var bad *types.InvalidInput
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "private hosted zones only") {
		t.Fatalf("public zone: %v", err)
	}
	// Another zone of the same name in the same VPC conflicts.
	_, err = c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com."), CallerReference: aws.String("ref-dup"),
		VPC: &types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: types.VPCRegionUsEast1}})
	if code(err) != "ConflictingDomainExists" {
		t.Fatalf("same name, same VPC: %v", err)
	}
	if after := e.Revision(t); after != before {
		t.Fatalf("refused creates wrote (revision %d to %d)", before, after)
	}

	// Paging through zones.
	for i := range 4 {
		mustZone(t, c, fmt.Sprintf("z%d.internal", i), fmt.Sprintf("ref-z%d", i))
	}
	var seen []string
	in := &route53.ListHostedZonesInput{MaxItems: aws.Int32(2)}
	for {
		page, err := c.ListHostedZones(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.HostedZones) > 2 {
			t.Fatalf("page of %d", len(page.HostedZones))
		}
		for _, z := range page.HostedZones {
			seen = append(seen, aws.ToString(z.Name))
		}
		if !page.IsTruncated {
			break
		}
		in.Marker = page.NextMarker
	}
	if len(seen) != 5 {
		t.Fatalf("listed %v", seen)
	}
	byName, err := c.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("z1.internal"), MaxItems: aws.Int32(2)})
	if err != nil || len(byName.HostedZones) != 2 || aws.ToString(byName.HostedZones[0].Name) != "z1.internal." || !byName.IsTruncated || aws.ToString(byName.NextDNSName) != "z3.internal." {
		t.Fatalf("by name: %v %+v", err, byName)
	}
	count, err := c.GetHostedZoneCount(ctx, &route53.GetHostedZoneCountInput{})
	if err != nil || aws.ToInt64(count.HostedZoneCount) != 5 {
		t.Fatalf("count: %v %+v", err, count)
	}
	upd, err := c.UpdateHostedZoneComment(ctx, &route53.UpdateHostedZoneCommentInput{Id: aws.String(id), Comment: aws.String("new words")})
	if err != nil || aws.ToString(upd.HostedZone.Config.Comment) != "new words" {
		t.Fatalf("comment: %v %+v", err, upd)
	}

	// Tags.
	zid := strings.TrimPrefix(id, "/hostedzone/")
	if _, err := c.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(zid),
		AddTags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(zid),
		RemoveTagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(zid)})
	if err != nil || len(tags.ResourceTagSet.Tags) != 1 || aws.ToString(tags.ResourceTagSet.Tags[0].Key) != "team" {
		t.Fatalf("tags: %v %+v", err, tags)
	}
	if _, err := c.ListTagsForResource(ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: aws.String("abc")}); code(err) != "NoSuchHealthCheck" {
		t.Fatalf("health check tags: %v", err)
	}

	// Not empty: refused; emptied: deleted, and then it is gone.
	if _, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id),
		ChangeBatch: batch(ch(types.ChangeActionCreate, rrset("www.example.com", types.RRTypeA, 60, "192.0.2.1")))}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	var notEmpty *types.HostedZoneNotEmpty
	if !errors.As(err, &notEmpty) {
		t.Fatalf("delete a zone with records: %v", err)
	}
	if _, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id),
		ChangeBatch: batch(ch(types.ChangeActionDelete, rrset("www.example.com.", types.RRTypeA, 60, "192.0.2.1")))}); err != nil {
		t.Fatal(err)
	}
	del, err := c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	if err != nil || del.ChangeInfo == nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
	var noZone *types.NoSuchHostedZone
	if !errors.As(err, &noZone) {
		t.Fatalf("get a deleted zone: %v", err)
	}
	if _, err := c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)}); !errors.As(err, &noZone) {
		t.Fatalf("delete a deleted zone: %v", err)
	}
	// GetChange: PENDING at first, INSYNC within the sync delay.
	chID := del.ChangeInfo.Id
	flottatest.Eventually(t, 10*time.Second, "the deletion INSYNC", func() (bool, string) {
		got, err := c.GetChange(ctx, &route53.GetChangeInput{Id: chID})
		if err != nil {
			return false, err.Error()
		}
		return got.ChangeInfo.Status == types.ChangeStatusInsync, string(got.ChangeInfo.Status)
	})
	if _, err := c.GetChange(ctx, &route53.GetChangeInput{Id: aws.String("CNOSUCHCHANGE")}); code(err) != "NoSuchChange" {
		t.Fatalf("unknown change: %v", err)
	}
}

// TestRecordSets: every record type and routing policy, paging in Route
// 53's order, and the errors of a batch, each of which writes nothing.
func TestRecordSets(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.R53()
	ctx := context.Background()
	id := aws.ToString(mustZone(t, c, "example.com", "r1").HostedZone.Id)
	change := func(changes ...types.Change) (*route53.ChangeResourceRecordSetsOutput, error) {
		return c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: batch(changes...)})
	}
	weighted := func(setID string, w int64, v string) *types.ResourceRecordSet {
		rs := rrset("w.example.com.", types.RRTypeA, 30, v)
		rs.SetIdentifier, rs.Weight = aws.String(setID), aws.Int64(w)
		return rs
	}
	primary := rrset("f.example.com.", types.RRTypeA, 30, "192.0.2.10")
	primary.SetIdentifier, primary.Failover = aws.String("p"), types.ResourceRecordSetFailoverPrimary
	multi := rrset("m.example.com.", types.RRTypeAaaa, 30, "2001:db8::1")
	multi.SetIdentifier, multi.MultiValueAnswer = aws.String("m1"), aws.Bool(true)
	alias := &types.ResourceRecordSet{Name: aws.String("alias.example.com"), Type: types.RRTypeA,
		AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(strings.TrimPrefix(id, "/hostedzone/")), DNSName: aws.String("www.example.com"), EvaluateTargetHealth: true}}
	out, err := change(
		ch(types.ChangeActionCreate, rrset("www.example.com", types.RRTypeA, 300, "192.0.2.1", "192.0.2.2")),
		ch(types.ChangeActionCreate, rrset("www.example.com", types.RRTypeAaaa, 300, "2001:db8::2")),
		ch(types.ChangeActionCreate, rrset("api.example.com", types.RRTypeCname, 60, "www.example.com")),
		ch(types.ChangeActionCreate, rrset("example.com", types.RRTypeMx, 3600, "10 mail.example.com.", "20 mail2.example.com.")),
		ch(types.ChangeActionCreate, rrset("example.com", types.RRTypeTxt, 3600, `"v=spf1 -all"`, `"a" "b c"`)),
		ch(types.ChangeActionCreate, rrset("_http._tcp.example.com", types.RRTypeSrv, 60, "1 10 8080 www.example.com.")),
		ch(types.ChangeActionCreate, rrset("*.example.com", types.RRTypeA, 60, "192.0.2.9")),
		ch(types.ChangeActionCreate, rrset("sub.example.com", types.RRTypeNs, 60, "ns1.example.net.")),
		ch(types.ChangeActionCreate, weighted("one", 10, "192.0.2.3")),
		ch(types.ChangeActionCreate, weighted("two", 0, "192.0.2.4")),
		ch(types.ChangeActionCreate, primary),
		ch(types.ChangeActionCreate, multi),
		ch(types.ChangeActionCreate, alias),
	)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if out.ChangeInfo.Status != types.ChangeStatusPending {
		t.Fatalf("change %+v", out.ChangeInfo)
	}
	all := listAll(t, c, id, 300)
	want := "[example.com. MX example.com. NS example.com. SOA example.com. TXT \\052.example.com. A _http._tcp.example.com. SRV alias.example.com. A api.example.com. CNAME f.example.com. A p m.example.com. AAAA m1 sub.example.com. NS w.example.com. A one w.example.com. A two www.example.com. A www.example.com. AAAA]"
	if got := fmt.Sprint(names(all)); got != want {
		t.Fatalf("listed\n%s\nwant\n%s", got, want)
	}
	// Two at a time, the same order.
	if got := fmt.Sprint(names(listAll(t, c, id, 2))); got != want {
		t.Fatalf("paged by 2:\n%s", got)
	}
	// From a name, and from a name and type.
	page, err := c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), StartRecordName: aws.String("w.example.com"), StartRecordType: types.RRTypeA, StartRecordIdentifier: aws.String("two"), MaxItems: aws.Int32(1)})
	if err != nil || fmt.Sprint(names(page.ResourceRecordSets)) != "[w.example.com. A two]" || !page.IsTruncated || aws.ToString(page.NextRecordName) != "www.example.com." {
		t.Fatalf("from w/A/two: %v %+v", err, page)
	}
	for _, rs := range all {
		switch aws.ToString(rs.Name) + string(rs.Type) {
		case "alias.example.com.A":
			if rs.AliasTarget == nil || aws.ToString(rs.AliasTarget.DNSName) != "www.example.com." || !rs.AliasTarget.EvaluateTargetHealth || rs.TTL != nil {
				t.Fatalf("alias %+v", rs)
			}
		case "www.example.com.A":
			if aws.ToInt64(rs.TTL) != 300 || len(rs.ResourceRecords) != 2 {
				t.Fatalf("www %+v", rs)
			}
		}
	}
	z, _ := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
	if aws.ToInt64(z.HostedZone.ResourceRecordSetCount) != int64(len(all)) {
		t.Fatalf("count %d, listed %d", aws.ToInt64(z.HostedZone.ResourceRecordSetCount), len(all))
	}

	// Refusals: each writes nothing.
	var icb *types.InvalidChangeBatch
	refused := []struct {
		name    string
		changes []types.Change
		code    string
		message string
	}{
		{"create an existing set", []types.Change{ch(types.ChangeActionCreate, rrset("www.example.com.", types.RRTypeA, 300, "192.0.2.1"))},
			"InvalidChangeBatch", "Tried to create resource record set [name='www.example.com.', type='A'] but it already exists"},
		{"delete a missing set", []types.Change{ch(types.ChangeActionDelete, rrset("nope.example.com.", types.RRTypeA, 300, "192.0.2.1"))},
			"InvalidChangeBatch", "Tried to delete resource record set [name='nope.example.com.', type='A'] but it was not found"},
		{"delete with other values", []types.Change{ch(types.ChangeActionDelete, rrset("www.example.com.", types.RRTypeA, 300, "192.0.2.1"))},
			"InvalidChangeBatch", "Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values"},
		{"bad IPv4", []types.Change{ch(types.ChangeActionCreate, rrset("x.example.com.", types.RRTypeA, 300, "300.1.1.1"))},
			"InvalidChangeBatch", "ARRDATAIllegalIPv4Address"},
		{"bad MX", []types.Change{ch(types.ChangeActionCreate, rrset("x.example.com.", types.RRTypeMx, 300, "mail.example.com"))}, "InvalidChangeBatch", "MX"},
		{"bad SRV", []types.Change{ch(types.ChangeActionCreate, rrset("x.example.com.", types.RRTypeSrv, 300, "1 2 host"))}, "InvalidChangeBatch", "SRV"},
		{"unquoted TXT", []types.Change{ch(types.ChangeActionCreate, rrset("x.example.com.", types.RRTypeTxt, 300, "hello"))}, "InvalidChangeBatch", "InvalidCharacterString"},
		{"CNAME beside A", []types.Change{ch(types.ChangeActionCreate, rrset("www.example.com.", types.RRTypeCname, 300, "other.example.com"))},
			"InvalidChangeBatch", "conflicting RRSet of type CNAME"},
		{"CNAME at apex", []types.Change{ch(types.ChangeActionCreate, rrset("example.com.", types.RRTypeCname, 300, "other.example.com"))},
			"InvalidChangeBatch", "not permitted at apex"},
		{"outside the zone", []types.Change{ch(types.ChangeActionCreate, rrset("www.example.org.", types.RRTypeA, 300, "192.0.2.1"))},
			"InvalidChangeBatch", "RRSet with DNS name www.example.org. is not permitted in zone example.com."},
		{"delete the apex SOA", []types.Change{ch(types.ChangeActionDelete, rrset("example.com.", types.RRTypeSoa, 900, "ns-1.flotta.internal. hostmaster.flotta.internal. 1 7200 900 1209600 86400"))},
			"InvalidChangeBatch", "A HostedZone must contain exactly one SOA record."},
		{"delete the apex NS", []types.Change{ch(types.ChangeActionDelete, rrset("example.com.", types.RRTypeNs, 172800, "ns-1.flotta.internal."))},
			"InvalidChangeBatch", "A HostedZone must contain at least one NS record for the zone itself."},
		{"simple beside weighted", []types.Change{ch(types.ChangeActionCreate, rrset("w.example.com.", types.RRTypeA, 30, "192.0.2.7"))},
			"InvalidChangeBatch", "cannot be created"},
		{"alias to nothing", []types.Change{ch(types.ChangeActionCreate, &types.ResourceRecordSet{Name: aws.String("a2.example.com"), Type: types.RRTypeA,
			AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(id), DNSName: aws.String("nothing.example.com")}})}, "InvalidChangeBatch", "but that target was not found"},
		{"alias to an unknown load balancer", []types.Change{ch(types.ChangeActionCreate, &types.ResourceRecordSet{Name: aws.String("a3.example.com"), Type: types.RRTypeA,
			AliasTarget: &types.AliasTarget{HostedZoneId: aws.String("ZFLOTTAELB00001"), DNSName: aws.String("nope.elb.example")}})}, "InvalidChangeBatch", "does not lie within the target zone"},
		{"TTL out of range", []types.Change{ch(types.ChangeActionCreate, rrset("x.example.com.", types.RRTypeA, -1, "192.0.2.1"))}, "InvalidInput", "resourceRecordSet.tTL"},
		{"no TTL", []types.Change{ch(types.ChangeActionCreate, &types.ResourceRecordSet{Name: aws.String("x.example.com"), Type: types.RRTypeA,
			ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}}})}, "InvalidInput", "Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords]"},
		{"weight out of range", []types.Change{ch(types.ChangeActionCreate, weighted("three", 256, "192.0.2.5"))}, "InvalidInput", "weight"},
		{"weight without an identifier", []types.Change{ch(types.ChangeActionCreate, &types.ResourceRecordSet{Name: aws.String("x.example.com"), Type: types.RRTypeA,
			TTL: aws.Int64(1), Weight: aws.Int64(1), ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}}})}, "InvalidInput", "Missing field 'SetIdentifier'"},
		{"health check", []types.Change{ch(types.ChangeActionCreate, &types.ResourceRecordSet{Name: aws.String("x.example.com"), Type: types.RRTypeA,
			TTL: aws.Int64(1), HealthCheckId: aws.String("hc-1"), ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}}})}, "NoSuchHealthCheck", "hc-1"},
		// Atomicity: a good change and a bad one: neither is made.
		{"one bad change of two", []types.Change{
			ch(types.ChangeActionCreate, rrset("good.example.com.", types.RRTypeA, 300, "192.0.2.1")),
			ch(types.ChangeActionDelete, rrset("missing.example.com.", types.RRTypeA, 300, "192.0.2.1"))},
			"InvalidChangeBatch", "Tried to delete resource record set [name='missing.example.com.', type='A'] but it was not found"},
	}
	for _, tc := range refused {
		before := e.Revision(t)
		_, err := change(tc.changes...)
		if code(err) != tc.code || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s: got %v; want %s with %q", tc.name, err, tc.code, tc.message)
		}
		if tc.code == "InvalidChangeBatch" && (!errors.As(err, &icb) || len(icb.Messages) == 0) {
			t.Errorf("%s: InvalidChangeBatch without Messages: %#v", tc.name, err)
		}
		if after := e.Revision(t); after != before {
			t.Errorf("%s wrote to the store (revision %d to %d)", tc.name, before, after)
		}
	}
	// Two problems, two messages.
	_, err = change(ch(types.ChangeActionDelete, rrset("n1.example.com.", types.RRTypeA, 1, "192.0.2.1")), ch(types.ChangeActionDelete, rrset("n2.example.com.", types.RRTypeA, 1, "192.0.2.1")))
	if !errors.As(err, &icb) || len(icb.Messages) != 2 {
		t.Fatalf("two problems: %#v", err)
	}
	if _, err := c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZNOSUCHZONE"), MaxItems: aws.Int32(1)}); code(err) != "NoSuchHostedZone" {
		t.Fatalf("list an unknown zone: %v", err)
	}

	// UPSERT replaces; DELETE then CREATE in one batch moves a record.
	if _, err := change(ch(types.ChangeActionUpsert, rrset("www.example.com", types.RRTypeA, 60, "192.0.2.100"))); err != nil {
		t.Fatal(err)
	}
	if _, err := change(
		ch(types.ChangeActionDelete, rrset("www.example.com", types.RRTypeA, 60, "192.0.2.100")),
		ch(types.ChangeActionCreate, rrset("www.example.com", types.RRTypeA, 120, "192.0.2.101"))); err != nil {
		t.Fatal(err)
	}
	page, err = c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), StartRecordName: aws.String("www.example.com"), StartRecordType: types.RRTypeA, MaxItems: aws.Int32(1)})
	if err != nil || len(page.ResourceRecordSets) != 1 || aws.ToInt64(page.ResourceRecordSets[0].TTL) != 120 || aws.ToString(page.ResourceRecordSets[0].ResourceRecords[0].Value) != "192.0.2.101" {
		t.Fatalf("after the move: %v %+v", err, page)
	}
	// The apex SOA may be edited with UPSERT.
	if _, err := change(ch(types.ChangeActionUpsert, rrset("example.com.", types.RRTypeSoa, 900, "ns-1.flotta.internal. hostmaster.example.com. 2 7200 900 1209600 86400"))); err != nil {
		t.Fatalf("upsert the SOA: %v", err)
	}
}

// TestAliasToLoadBalancer: an alias may target a Flotta load balancer's
// DNS name.
func TestAliasToLoadBalancer(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	lb := createLoadBalancer(t, e)
	c := e.R53()
	id := aws.ToString(mustZone(t, c, "example.com", "r1").HostedZone.Id)
	_, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: batch(
		ch(types.ChangeActionCreate, &types.ResourceRecordSet{Name: aws.String("app.example.com"), Type: types.RRTypeA,
			AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(lb.zone), DNSName: aws.String("dualstack." + lb.dns), EvaluateTargetHealth: true}}))})
	if code(err) != "InvalidChangeBatch" {
		t.Fatalf("an alias to a name no load balancer has: %v", err)
	}
	_, err = c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: batch(
		ch(types.ChangeActionCreate, &types.ResourceRecordSet{Name: aws.String("app.example.com"), Type: types.RRTypeA,
			AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(lb.zone), DNSName: aws.String(lb.dns), EvaluateTargetHealth: true}}))})
	if err != nil {
		t.Fatalf("alias to %s: %v", lb.dns, err)
	}
	_, sets, _, err := e.Server.State().ReadRoute53(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rs := range sets[strings.TrimPrefix(id, "/hostedzone/")] {
		if rs.Name == "app.example.com." && rs.Alias != nil && rs.Alias.EvaluateTargetHealth && strings.EqualFold(strings.TrimSuffix(rs.Alias.DNSName, "."), lb.dns) {
			found = true
		}
	}
	if !found {
		t.Fatalf("ReadRoute53 has no alias: %+v", sets)
	}
}

package route53_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

const ns = `xmlns="https://route53.amazonaws.com/doc/2013-04-01/"`

// TestBadInput: malformed bodies, wrong roots, missing members, unknown
// paths and methods, and unsigned requests are answered in Route 53's
// error shape with the right status, and change nothing.
func TestBadInput(t *testing.T) {
	e := flottatest.StartServer(t)
	c := e.R53()
	id := strings.TrimPrefix(aws.ToString(mustZone(t, c, "example.com", "r1").HostedZone.Id), "/hostedzone/")
	rrset := "/2013-04-01/hostedzone/" + id + "/rrset/"
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, message            string
	}{
		{"not XML", "POST", rrset, "{json}", 400, "InvalidInput", "Could not parse the request body as XML"},
		{"empty body", "POST", rrset, "", 400, "InvalidInput", "empty"},
		{"truncated", "POST", rrset, `<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch>`, 400, "InvalidInput", "Could not parse"},
		{"wrong namespace", "POST", rrset, `<ChangeResourceRecordSetsRequest xmlns="urn:x"><ChangeBatch/></ChangeResourceRecordSetsRequest>`, 400, "InvalidInput", "namespace"},
		{"wrong root", "POST", rrset, `<CreateHostedZoneRequest ` + ns + `/>`, 400, "InvalidInput", "Could not parse"},
		{"no batch", "POST", rrset, `<ChangeResourceRecordSetsRequest ` + ns + `/>`, 400, "InvalidInput", "ChangeBatch is required"},
		{"empty batch", "POST", rrset, `<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch><Changes/></ChangeBatch></ChangeResourceRecordSetsRequest>`, 400, "InvalidInput", "length greater than or equal to 1"},
		{"bad action", "POST", rrset, `<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch><Changes><Change><Action>MOVE</Action><ResourceRecordSet><Name>a.example.com</Name><Type>A</Type><TTL>1</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`, 400, "InvalidInput", "enum value set: [CREATE, DELETE, UPSERT]"},
		{"bad type", "POST", rrset, `<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>a.example.com</Name><Type>AX</Type><TTL>1</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`, 400, "InvalidInput", "resourceRecordSet.type"},
		{"TTL not a number", "POST", rrset, `<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>a.example.com</Name><Type>A</Type><TTL>soon</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`, 400, "InvalidInput", "Could not parse"},
		{"unknown zone", "GET", "/2013-04-01/hostedzone/ZNOPE", "", 404, "NoSuchHostedZone", "No hosted zone found with ID: ZNOPE"},
		{"unknown path", "GET", "/2013-04-01/widgets", "", 404, "UnknownOperationException", ""},
		{"wrong method", "PUT", "/2013-04-01/hostedzone", "", 405, "UnknownOperationException", ""},
		{"bad maxitems", "GET", "/2013-04-01/hostedzone?maxitems=lots", "", 400, "InvalidInput", "maxItems"},
		{"type without name", "GET", "/2013-04-01/hostedzone/" + id + "/rrset?type=A", "", 400, "InvalidInput", "needs a name"},
		{"no caller reference", "POST", "/2013-04-01/hostedzone", `<CreateHostedZoneRequest ` + ns + `><Name>x.com</Name></CreateHostedZoneRequest>`, 400, "InvalidInput", "CallerReference"},
		{"bad zone name", "POST", "/2013-04-01/hostedzone", `<CreateHostedZoneRequest ` + ns + `><Name>a..com</Name><CallerReference>x</CallerReference><VPC><VPCId>vpc-1</VPCId></VPC></CreateHostedZoneRequest>`, 400, "InvalidDomainName", "empty label"},
		{"private without a VPC", "POST", "/2013-04-01/hostedzone", `<CreateHostedZoneRequest ` + ns + `><Name>x.com</Name><CallerReference>x</CallerReference><HostedZoneConfig><PrivateZone>true</PrivateZone></HostedZoneConfig></CreateHostedZoneRequest>`, 400, "InvalidVPCId", "VPC is required"},
		{"too large", "POST", rrset, strings.Repeat(" ", 2<<20), 413, "InvalidInput", "larger than the limit"},
	} {
		before := e.Revision(t)
		r := raw(t, e, tc.method, tc.path, tc.body)
		if r.status != tc.status || !strings.Contains(r.body, "<Code>"+tc.code+"</Code>") || !strings.Contains(r.body, tc.message) ||
			!strings.Contains(r.body, "<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type>") || !strings.Contains(r.body, "<RequestId>") {
			t.Errorf("%s: %d %s\nwant %d %s %q", tc.name, r.status, r.body, tc.status, tc.code, tc.message)
		}
		if after := e.Revision(t); after != before {
			t.Errorf("%s wrote to the store (revision %d to %d)", tc.name, before, after)
		}
	}
	// A trailing slash, a prefixed id and an answer's shape on the wire.
	r := raw(t, e, "GET", "/2013-04-01/hostedzone/"+id+"/rrset/?maxitems=1", "")
	if r.status != 200 || !strings.Contains(r.body, `<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">`) ||
		!strings.Contains(r.body, "<IsTruncated>true</IsTruncated>") || !strings.Contains(r.body, "<MaxItems>1</MaxItems>") {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := raw(t, e, "GET", "/2013-04-01/hostedzone/%2Fhostedzone%2F"+id, ""); r.status != 200 {
		t.Fatalf("a prefixed id: %d %s", r.status, r.body)
	}
	// Unsigned: refused before anything is read.
	resp, err := http.Get(e.Server.Endpoint() + "/2013-04-01/hostedzone")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned: %d", resp.StatusCode)
	}
	// The other protocols still answer beside it.
	if _, err := e.ECS.ListClusters(context.Background(), nil); err != nil {
		t.Fatalf("ECS beside Route 53: %v", err)
	}
	if resp, err := http.Get(e.Server.Endpoint() + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	// Every answer is counted, under the operation and its code.
	resp, err = http.Get(e.Server.Endpoint() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`code="NoSuchHostedZone",operation="GetHostedZone",service="route53"`, `code="OK",operation="CreateHostedZone",service="route53"`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}

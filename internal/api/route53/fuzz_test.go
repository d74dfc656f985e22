package route53

import (
	"testing"

	"github.com/flotta-dev/flotta/internal/protocol/restxml"
	"github.com/flotta-dev/flotta/internal/state"
)

// FuzzChangeBatchXML feeds ChangeResourceRecordSets bodies through the
// REST-XML decoder, the per-change checks and the batch planner: whatever
// the body, they answer (an error or a plan) and never panic, and a plan
// only writes record sets inside the zone.
func FuzzChangeBatchXML(f *testing.F) {
	ns := `xmlns="https://route53.amazonaws.com/doc/2013-04-01/"`
	for _, seed := range []string{
		`<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>www.example.com</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`,
		`<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch><Comment>c</Comment><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>\052.example.com.</Name><Type>TXT</Type><TTL>1</TTL><ResourceRecords><ResourceRecord><Value>"a" "b\"c"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change><Change><Action>DELETE</Action><ResourceRecordSet><Name>example.com</Name><Type>SOA</Type><TTL>900</TTL><ResourceRecords><ResourceRecord><Value>ns. h. 1 2 3 4 5</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`,
		`<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>a.example.com</Name><Type>A</Type><SetIdentifier>x</SetIdentifier><Weight>3</Weight><AliasTarget><HostedZoneId>ZFLOTTAELB00001</HostedZoneId><DNSName>lb.example</DNSName><EvaluateTargetHealth>true</EvaluateTargetHealth></AliasTarget></ResourceRecordSet></Change><Change><Action>CREATE</Action><ResourceRecordSet><Name>b.example.com</Name><Type>CNAME</Type><AliasTarget><HostedZoneId>Z1</HostedZoneId><DNSName>a.example.com</DNSName></AliasTarget></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`,
		`<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>_s._tcp.example.com</Name><Type>SRV</Type><TTL>1</TTL><ResourceRecords><ResourceRecord><Value>1 2 3 t.example.com.</Value></ResourceRecord><ResourceRecord><Value>1 2 3 t.example.com.</Value></ResourceRecord></ResourceRecords><Failover>PRIMARY</Failover><SetIdentifier>p</SetIdentifier></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`,
		`<ChangeResourceRecordSetsRequest ` + ns + `><ChangeBatch>`,
		`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>`,
		``,
	} {
		f.Add([]byte(seed))
	}
	zone := &state.R53Zone{ID: "Z1", Name: "example.com."}
	look := lookups{loadBalancers: func() (map[string]bool, error) { return map[string]bool{"lb.example.": true}, nil },
		healthCheck: func(id string) (bool, error) { return id == "hc-1", nil }}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in ChangeResourceRecordSetsRequest
		if err := restxml.Decode(body, Namespace, &in); err != nil {
			return
		}
		if in.ChangeBatch == nil || len(in.ChangeBatch.Changes) == 0 || len(in.ChangeBatch.Changes) > MaxChangesPerBatch {
			return
		}
		z := *zone
		changes, err := checkChanges(&z, in.ChangeBatch.Changes, look)
		if err != nil {
			return
		}
		b := state.R53Batch{Zone: &z, ByName: map[string][]state.R53RecordSet{"example.com.": {
			{Name: "example.com.", Type: "NS", TTL: 172800, Values: []string{NameServer}},
			{Name: "example.com.", Type: "SOA", TTL: 900, Values: []string{NameServer + " " + soaRName + " 1 7200 900 1209600 86400"}},
		}}}
		w, err := plan(b, changes)
		if err != nil {
			return
		}
		for _, rs := range append(w.Put, w.Delete...) {
			if !within(rs.Name, z.Name) {
				t.Fatalf("a plan writes %s outside %s", rs.Name, z.Name)
			}
			if n, err := normalizeName(rs.Name); err != nil || n != rs.Name {
				t.Fatalf("a plan writes the name %q, which normalizes to %q (%v)", rs.Name, n, err)
			}
		}
	})
}

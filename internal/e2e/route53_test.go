package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRoute53WithAWSCLIAndBoto3: Debian's AWS CLI makes a private hosted
// zone in a VPC, writes record sets from a change batch file, lists them,
// follows the change to INSYNC (its resource-record-sets-changed waiter
// then returns at once), gets Route 53's InvalidChangeBatch and
// HostedZoneNotEmpty, and deletes it all; boto3 does the same with its
// paginator and waiter and reads NoSuchHostedZone.
func TestRoute53WithAWSCLIAndBoto3(t *testing.T) {
	requireClients(t)
	srv := serverWith(t, t.TempDir(), "--account-id", "123456789012")
	env := clientEnv(srv)
	aws := func(args ...string) (string, string, error) { return awsCLI(srv, env, args...) }
	must := func(into any, args ...string) { t.Helper(); awsMust(t, srv, env, into, args...) }

	var zone struct {
		HostedZone struct {
			Id, Name string
			Config   struct{ PrivateZone bool }
		}
		ChangeInfo struct{ Id, Status string }
		VPC        struct{ VPCId string }
		Location   string
	}
	must(&zone, "route53", "create-hosted-zone", "--name", "cli.internal", "--caller-reference", "cli-1",
		"--vpc", "VPCRegion=us-east-1,VPCId=vpc-cli", "--hosted-zone-config", "Comment=from the CLI,PrivateZone=true")
	if !strings.HasPrefix(zone.HostedZone.Id, "/hostedzone/Z") || zone.HostedZone.Name != "cli.internal." || !zone.HostedZone.Config.PrivateZone ||
		zone.ChangeInfo.Status != "PENDING" || zone.VPC.VPCId != "vpc-cli" {
		t.Fatalf("create-hosted-zone: %+v", zone)
	}
	id := zone.HostedZone.Id

	dir := t.TempDir()
	writeBatch := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	create := writeBatch("create.json", `{"Comment": "web", "Changes": [
	  {"Action": "CREATE", "ResourceRecordSet": {"Name": "www.cli.internal", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.1"}, {"Value": "10.0.0.2"}]}},
	  {"Action": "CREATE", "ResourceRecordSet": {"Name": "cli.internal", "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": "\"hello world\""}]}},
	  {"Action": "CREATE", "ResourceRecordSet": {"Name": "_web._tcp.cli.internal", "Type": "SRV", "TTL": 60, "ResourceRecords": [{"Value": "1 10 8080 www.cli.internal."}]}}
	]}`)
	var changed struct {
		ChangeInfo struct{ Id, Status, Comment string }
	}
	must(&changed, "route53", "change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", create)
	if !strings.HasPrefix(changed.ChangeInfo.Id, "/change/C") || changed.ChangeInfo.Status != "PENDING" || changed.ChangeInfo.Comment != "web" {
		t.Fatalf("change-resource-record-sets: %+v", changed)
	}
	// Follow the change to INSYNC, then the waiter agrees at once.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got struct{ ChangeInfo struct{ Status string } }
		must(&got, "route53", "get-change", "--id", changed.ChangeInfo.Id)
		if got.ChangeInfo.Status == "INSYNC" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("change %s still %s", changed.ChangeInfo.Id, got.ChangeInfo.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	start := time.Now()
	must(nil, "route53", "wait", "resource-record-sets-changed", "--id", changed.ChangeInfo.Id)
	if waited := time.Since(start); waited > 20*time.Second {
		t.Fatalf("the waiter took %v on an INSYNC change", waited)
	}

	var sets struct {
		ResourceRecordSets []struct {
			Name, Type      string
			TTL             int64
			ResourceRecords []struct{ Value string }
		}
	}
	must(&sets, "route53", "list-resource-record-sets", "--hosted-zone-id", id)
	var listed []string
	for _, s := range sets.ResourceRecordSets {
		listed = append(listed, s.Name+" "+s.Type)
	}
	if strings.Join(listed, ", ") != "cli.internal. NS, cli.internal. SOA, cli.internal. TXT, _web._tcp.cli.internal. SRV, www.cli.internal. A" {
		t.Fatalf("list-resource-record-sets: %v", listed)
	}
	// The CLI's own paging (one a page) sees the same.
	var paged struct{ ResourceRecordSets []struct{ Name, Type string } }
	must(&paged, "route53", "list-resource-record-sets", "--hosted-zone-id", id, "--page-size", "1")
	if len(paged.ResourceRecordSets) != 5 {
		t.Fatalf("paged by 1: %+v", paged)
	}

	if out, errOut, err := aws("route53", "change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", create); err == nil ||
		!strings.Contains(errOut, "InvalidChangeBatch") || !strings.Contains(errOut, "Tried to create resource record set [name='www.cli.internal.', type='A'] but it already exists") {
		t.Fatalf("the same batch again: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := aws("route53", "delete-hosted-zone", "--id", id); err == nil || !strings.Contains(errOut, "HostedZoneNotEmpty") {
		t.Fatalf("delete-hosted-zone with records: %v\n%s%s", err, out, errOut)
	}

	py := exec.Command("/usr/bin/python3", "-c", `
import sys, time, boto3, botocore
r53 = boto3.client("route53", endpoint_url=sys.argv[1])
z = r53.create_hosted_zone(Name="py.internal", CallerReference="py-1", VPC={"VPCRegion": "us-east-1", "VPCId": "vpc-py"})
zid = z["HostedZone"]["Id"]
assert zid.startswith("/hostedzone/Z") and z["HostedZone"]["Config"]["PrivateZone"], z
changes = [{"Action": "UPSERT", "ResourceRecordSet": {"Name": "h%d.py.internal" % i, "Type": "A", "TTL": 30, "ResourceRecords": [{"Value": "10.1.0.%d" % i}]}} for i in range(5)]
c = r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": changes})
cid = c["ChangeInfo"]["Id"]
for _ in range(100):
    if r53.get_change(Id=cid)["ChangeInfo"]["Status"] == "INSYNC":
        break
    time.sleep(0.2)
r53.get_waiter("resource_record_sets_changed").wait(Id=cid, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
names = [s["Name"] for page in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zid, PaginationConfig={"PageSize": 2}) for s in page["ResourceRecordSets"]]
assert names == ["py.internal.", "py.internal.", "h0.py.internal.", "h1.py.internal.", "h2.py.internal.", "h3.py.internal.", "h4.py.internal."], names
try:
    r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": {"Name": "h0.py.internal", "Type": "A", "TTL": 30, "ResourceRecords": [{"Value": "10.1.0.0"}]}},
        {"Action": "DELETE", "ResourceRecordSet": {"Name": "gone.py.internal", "Type": "A", "TTL": 30, "ResourceRecords": [{"Value": "10.1.0.9"}]}}]})
    sys.exit("a batch with a missing record set was applied")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidChangeBatch", e.response
    assert "Tried to delete resource record set [name='gone.py.internal.', type='A'] but it was not found" in e.response["Error"]["Message"], e.response
assert len(r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]) == 7, "the refused batch deleted h0"
zones = [z["Name"] for z in r53.list_hosted_zones()["HostedZones"]]
assert sorted(zones) == ["cli.internal.", "py.internal."], zones
r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [dict(c, Action="DELETE") for c in changes]})
r53.delete_hosted_zone(Id=zid)
try:
    r53.get_hosted_zone(Id=zid)
    sys.exit("a deleted zone was found")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "NoSuchHostedZone", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response
print("boto3", boto3.__version__, "ok")
`, srv.endpoint)
	py.Env = env
	out, err := py.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}

	remove := writeBatch("delete.json", `{"Changes": [
	  {"Action": "DELETE", "ResourceRecordSet": {"Name": "www.cli.internal", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.2"}, {"Value": "10.0.0.1"}]}},
	  {"Action": "DELETE", "ResourceRecordSet": {"Name": "cli.internal", "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": "\"hello world\""}]}},
	  {"Action": "DELETE", "ResourceRecordSet": {"Name": "_web._tcp.cli.internal", "Type": "SRV", "TTL": 60, "ResourceRecords": [{"Value": "1 10 8080 www.cli.internal."}]}}
	]}`)
	must(nil, "route53", "change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", remove)
	var deleted struct{ ChangeInfo struct{ Status string } }
	must(&deleted, "route53", "delete-hosted-zone", "--id", id)
	if deleted.ChangeInfo.Status != "PENDING" {
		t.Fatalf("delete-hosted-zone: %+v", deleted)
	}
	if out, errOut, err := aws("route53", "get-hosted-zone", "--id", id); err == nil || !strings.Contains(errOut, "NoSuchHostedZone") {
		t.Fatalf("get-hosted-zone after delete: %v\n%s%s", err, out, errOut)
	}
	t.Logf("%s; aws %s", strings.TrimSpace(string(out)), strings.TrimSpace(version()))
}

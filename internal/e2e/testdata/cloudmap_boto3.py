"""Drives Flotta's Cloud Map API with Debian's boto3, as a user's script would:
a private DNS namespace, its operation polled to SUCCESS, a service, an
instance, discovery, and everything taken down again.

Usage: python3 cloudmap_boto3.py ENDPOINT

Credentials and region come from the shared files the server wrote
(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE). Each check prints
one line; the first that fails raises, and the script exits non-zero.
"""
import sys
import time

import boto3
import botocore.config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
# DiscoverInstances is sent to "data-" + the endpoint's host unless host
# prefixes are off: Flotta serves every operation on one endpoint.
sd = boto3.client("servicediscovery", endpoint_url=endpoint,
                  config=botocore.config.Config(inject_host_prefix=False, retries={"max_attempts": 1}))


def ok(what):
    print("ok   " + what)


def refused(what, call, code):
    try:
        call()
    except ClientError as e:
        got = e.response["Error"]["Code"]
        if got != code:
            raise AssertionError("%s: want %s, got %s (%s)" % (what, code, got, e))
        ok("%s: %s" % (what, code))
        return e
    raise AssertionError("%s: want %s, it succeeded" % (what, code))


def done(op_id, what):
    deadline = time.time() + 30
    seen = []
    while True:
        op = sd.get_operation(OperationId=op_id)["Operation"]
        if not seen or seen[-1] != op["Status"]:
            seen.append(op["Status"])
        if op["Status"] in ("SUCCESS", "FAIL"):
            break
        if time.time() > deadline:
            raise AssertionError("%s: operation %s still %s" % (what, op_id, op["Status"]))
        time.sleep(0.05)
    if op["Status"] != "SUCCESS":
        raise AssertionError("%s: %s" % (what, op))
    ok("%s: operation went %s" % (what, " -> ".join(seen)))
    return op


op = sd.create_private_dns_namespace(Name="boto.local", Vpc="vpc-1", CreatorRequestId="boto-1")
ns_id = done(op["OperationId"], "create_private_dns_namespace")["Targets"]["NAMESPACE"]
ns = sd.get_namespace(Id=ns_id)["Namespace"]
assert ns["Type"] == "DNS_PRIVATE" and ns["Properties"]["DnsProperties"]["HostedZoneId"].startswith("Z"), ns
ok("get_namespace: %s %s" % (ns["Id"], ns["Properties"]["DnsProperties"]["HostedZoneId"]))
e = refused("create_private_dns_namespace again", lambda: sd.create_private_dns_namespace(Name="boto.local", Vpc="vpc-1"), "NamespaceAlreadyExists")
assert e.response.get("NamespaceId") == ns_id, e.response

svc = sd.create_service(Name="api", NamespaceId=ns_id,
                        DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}, {"Type": "SRV", "TTL": 10}]},
                        HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]
ok("create_service: %s %s" % (svc["Id"], svc["Type"]))
refused("create_service again", lambda: sd.create_service(Name="api", NamespaceId=ns_id), "ServiceAlreadyExists")
refused("register_instance without a port", lambda: sd.register_instance(ServiceId=svc["Id"], InstanceId="i-1",
        Attributes={"AWS_INSTANCE_IPV4": "10.0.0.1"}), "InvalidInput")
op = sd.register_instance(ServiceId=svc["Id"], InstanceId="i-1",
                          Attributes={"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "8080", "stage": "prod"})
done(op["OperationId"], "register_instance")
found = sd.discover_instances(NamespaceName="boto.local", ServiceName="api", QueryParameters={"stage": "prod"})
assert [i["InstanceId"] for i in found["Instances"]] == ["i-1"] and found["Instances"][0]["HealthStatus"] == "HEALTHY", found
ok("discover_instances: i-1")
sd.update_instance_custom_health_status(ServiceId=svc["Id"], InstanceId="i-1", Status="UNHEALTHY")
found = sd.discover_instances(NamespaceName="boto.local", ServiceName="api", HealthStatus="HEALTHY")
assert found["Instances"] == [], found
ok("discover_instances after UNHEALTHY: none healthy")
listed = sd.list_instances(ServiceId=svc["Id"])["Instances"]
assert [i["Id"] for i in listed] == ["i-1"], listed
ok("list_instances")
refused("delete_service with an instance", lambda: sd.delete_service(Id=svc["Id"]), "ResourceInUse")
refused("delete_namespace with a service", lambda: sd.delete_namespace(Id=ns_id), "ResourceInUse")
done(sd.deregister_instance(ServiceId=svc["Id"], InstanceId="i-1")["OperationId"], "deregister_instance")
refused("get_instance after deregistering", lambda: sd.get_instance(ServiceId=svc["Id"], InstanceId="i-1"), "InstanceNotFound")
sd.delete_service(Id=svc["Id"])
ok("delete_service")
done(sd.delete_namespace(Id=ns_id)["OperationId"], "delete_namespace")
refused("get_namespace after deleting", lambda: sd.get_namespace(Id=ns_id), "NamespaceNotFound")

"""Drives a running Flotta server with Debian's boto3, as a user's script would.

Usage: python3 boto3_check.py ENDPOINT THROTTLED_ENDPOINT THROTTLED_CREDENTIALS_FILE

Credentials and region come from the shared files the first server wrote
(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE); the throttled
server's from the credentials file it wrote. Each check prints one line; the
first that fails raises, and the script exits non-zero.
"""
import configparser
import json
import sys

import boto3
import botocore.config
from botocore.exceptions import ClientError

endpoint, throttled_endpoint, throttled_credentials = sys.argv[1], sys.argv[2], sys.argv[3]
ecs = boto3.client("ecs", endpoint_url=endpoint)
region = ecs.meta.region_name


def ok(what):
    print("ok   " + what)


def refused(what, call, code, message=None):
    """call must fail with the error code, and the message when given."""
    try:
        call()
    except ClientError as e:
        err = e.response["Error"]
        if err["Code"] != code or (message is not None and message not in err.get("Message", "")):
            raise AssertionError("%s: got %s %r, want %s %r" % (what, err["Code"], err.get("Message"), code, message))
        if e.response["ResponseMetadata"]["HTTPStatusCode"] >= 500:
            raise AssertionError("%s: answered with a server error" % what)
        ok(what + " -> " + code)
        return
    raise AssertionError("%s: was accepted" % what)


# DiscoverPollEndpoint answers this server.
out = ecs.discover_poll_endpoint()
assert out["endpoint"].rstrip("/") == endpoint, out
assert out["telemetryEndpoint"].rstrip("/") == endpoint, out
ok("discover_poll_endpoint")

# Tags on a cluster, a service and a container instance.
ecs.create_cluster(clusterName="clients", tags=[{"key": "team", "value": "blue"}])
td = ecs.register_task_definition(family="clients", containerDefinitions=[{"name": "app", "image": "demo", "memory": 64}])
assert td["taskDefinition"]["networkMode"] == "bridge", td["taskDefinition"]
svc = ecs.create_service(cluster="clients", serviceName="web", taskDefinition="clients", desiredCount=0)["service"]
inst = ecs.register_container_instance(
    cluster="clients",
    instanceIdentityDocument=json.dumps({"instanceId": "i-boto3"}),
    totalResources=[{"name": "CPU", "type": "INTEGER", "integerValue": 1024},
                    {"name": "MEMORY", "type": "INTEGER", "integerValue": 1024}],
)["containerInstance"]
for arn in (svc["serviceArn"], inst["containerInstanceArn"]):
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "prod"}, {"key": "drop", "value": "me"}])
    ecs.untag_resource(resourceArn=arn, tagKeys=["drop"])
    tags = {t["key"]: t["value"] for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]}
    assert tags.get("env") == "prod" and "drop" not in tags, (arn, tags)
ok("tag, untag and list the tags of a service and a container instance")
described = ecs.describe_services(cluster="clients", services=["web"], include=["TAGS"])["services"][0]
assert {t["key"] for t in described["tags"]} == {"env"}, described["tags"]
ok("describe_services include TAGS")

short = "arn:aws:ecs:%s:%s:service/web" % (region, svc["serviceArn"].split(":")[4])
refused("tag a short service ARN", lambda: ecs.tag_resource(resourceArn=short, tags=[{"key": "a", "value": "b"}]),
        "InvalidParameterException", "Long arn format must be used for tagging operations")
refused("list the tags of a missing service",
        lambda: ecs.list_tags_for_resource(resourceArn=svc["serviceArn"].replace("/web", "/ghost")),
        "ServiceNotFoundException", "Service not found.")
refused("list the tags of a missing task definition",
        lambda: ecs.list_tags_for_resource(resourceArn=td["taskDefinition"]["taskDefinitionArn"].replace(":1", ":99")),
        "ClientException", "Unable to describe task definition.")

# ECS's answers for missing things.
missing = ecs.describe_services(cluster="clients", services=["ghost"])["failures"]
assert missing == [{"arn": short.replace("/web", "/ghost"), "reason": "MISSING"}], missing
ok("describe_services names a missing service service/NAME")
refused("describe_tasks with no tasks on a missing cluster", lambda: ecs.describe_tasks(cluster="ghost", tasks=[]),
        "ClusterNotFoundException", "Cluster not found.")
refused("describe_container_instances with none", lambda: ecs.describe_container_instances(cluster="clients", containerInstances=[]),
        "ClientException", "Container Instances cannot be empty.")
refused("deregister a family without a revision", lambda: ecs.deregister_task_definition(taskDefinition="fake_task"),
        "ClientException", "Revision is missing.")
refused("deregister revision foo", lambda: ecs.deregister_task_definition(taskDefinition="fake_task:foo"),
        "InvalidParameterException", "Invalid revision number. Number: foo")
refused("deregister an unknown revision", lambda: ecs.deregister_task_definition(taskDefinition="fake_task:1"),
        "ClientException", "Unable to describe task definition.")

# Numbers beyond their type and ECS's quotas (botocore checks types, not ranges).
refused("desiredCount 2^40", lambda: ecs.create_service(cluster="clients", serviceName="big", taskDefinition="clients",
                                                        desiredCount=1099511627776), "SerializationException", "desiredCount")
refused("desiredCount 5001", lambda: ecs.create_service(cluster="clients", serviceName="big", taskDefinition="clients",
                                                        desiredCount=5001), "InvalidParameterException", "Desired count exceeds limit.")
refused("container memory 2^40", lambda: ecs.register_task_definition(
    family="big", containerDefinitions=[{"name": "a", "image": "x", "memory": 1099511627776}]), "SerializationException", "memory")
names = ecs.list_services(cluster="clients")["serviceArns"]
assert names == [svc["serviceArn"]], names
ok("the refused services were not created")

refused("a capacity provider not associated with the cluster", lambda: ecs.run_task(
    cluster="clients", taskDefinition="clients", capacityProviderStrategy=[{"capacityProvider": "nope", "weight": 1}]),
    "InvalidParameterException", "not associated with the cluster")
refused("pidMode host on Fargate", lambda: ecs.register_task_definition(
    family="fg", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512", pidMode="host",
    containerDefinitions=[{"name": "a", "image": "x"}]),
    "ClientException", "Tasks using the Fargate launch type do not support pidMode 'host'. The supported value for pidMode is 'task'.")
efs = ecs.register_task_definition(family="efs", containerDefinitions=[{"name": "a", "image": "x", "memory": 64}],
                                   volumes=[{"name": "v", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}])
assert efs["taskDefinition"]["volumes"][0]["efsVolumeConfiguration"]["rootDirectory"] == "/", efs["taskDefinition"]["volumes"]
ok("an EFS volume without rootDirectory reads back as /")

# Throttling: ECS's ThrottlingException, which botocore's retries wait out.
keys = configparser.ConfigParser()
keys.read(throttled_credentials)
throttled = boto3.Session(aws_access_key_id=keys["flotta"]["aws_access_key_id"],
                          aws_secret_access_key=keys["flotta"]["aws_secret_access_key"], region_name=region)
once = throttled.client("ecs", endpoint_url=throttled_endpoint,
                        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "legacy"}))
patient = throttled.client("ecs", endpoint_url=throttled_endpoint)
codes = []
for _ in range(6):
    try:
        once.list_clusters()
        codes.append("OK")
    except ClientError as e:
        codes.append(e.response["Error"]["Code"])
        assert e.response["Error"]["Message"] == "Rate exceeded", e.response["Error"]
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response["ResponseMetadata"]
assert "ThrottlingException" in codes, codes
ok("past its rate a caller gets ThrottlingException: %s" % codes)
for _ in range(3):
    patient.list_clusters()
ok("botocore's default retries wait throttling out")
print("all boto3 checks passed")

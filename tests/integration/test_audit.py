"""Every call becomes a CloudTrail record in the journal, in the same commit; LookupEvents reads
the caller's management events. Driven by boto3 and the AWS CLI."""

import json
import os
import re
import signal
import concurrent.futures

import botocore.exceptions
import pytest

from conftest import MANAGEMENT, Server, shifted

ORG_ROLE = "OrganizationAccountAccessRole"


def lookup(client, **kw):
    events = []
    for page in client.get_paginator("lookup_events").paginate(**kw):
        events.extend(page["Events"])
    return events


def by_name(client, name):
    return lookup(client, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])


def test_get_caller_identity_is_recorded(fresh):
    r = fresh.client("sts").get_caller_identity()
    rid = r["ResponseMetadata"]["RequestId"]
    events = by_name(fresh.client("cloudtrail"), "GetCallerIdentity")
    assert len(events) == 1
    ev = events[0]
    assert ev["EventName"] == "GetCallerIdentity"
    assert ev["ReadOnly"] == "true"
    assert ev["EventSource"] == "sts.amazonaws.com"
    assert ev["Username"] == "admin"
    assert ev["AccessKeyId"] == "test"
    assert ev["Resources"] == []
    rec = json.loads(ev["CloudTrailEvent"])
    assert list(rec)[:7] == ["eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress"]
    assert rec["eventVersion"] == "1.08"
    assert rec["userIdentity"] == {
        "type": "IAMUser", "principalId": r["UserId"], "arn": f"arn:aws:iam::{MANAGEMENT}:user/admin",
        "accountId": MANAGEMENT, "accessKeyId": "test", "userName": "admin",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rec["eventTime"])
    assert rec["awsRegion"] == "us-east-2"
    assert rec["sourceIPAddress"] == "127.0.0.1"
    assert rec["userAgent"].startswith("Boto3/")
    assert rec["requestParameters"] is None and rec["responseElements"] is None
    assert rec["requestID"] == rid
    assert ev["EventId"] == rec["eventID"]
    assert (rec["readOnly"], rec["eventType"], rec["managementEvent"], rec["eventCategory"]) == (True, "AwsApiCall", True, "Management")
    assert rec["recipientAccountId"] == MANAGEMENT
    assert "errorCode" not in rec and "tlsDetails" not in rec


def test_cli_lookup_finds_call_just_made(fresh):
    _, out, _ = fresh.cli("sts", "get-caller-identity")
    _, out, _ = fresh.cli("cloudtrail", "lookup-events", "--lookup-attributes",
                          "AttributeKey=EventName,AttributeValue=GetCallerIdentity")
    events = json.loads(out)["Events"]
    assert len(events) == 1 and events[0]["EventName"] == "GetCallerIdentity"
    # The lookup itself is a recorded, read-only management call.
    _, out, _ = fresh.cli("cloudtrail", "lookup-events", "--lookup-attributes",
                          "AttributeKey=EventName,AttributeValue=LookupEvents")
    assert len(json.loads(out)["Events"]) >= 1


def test_refused_and_mutating_calls_are_recorded(fresh):
    sts = fresh.client("sts")
    missing = "arn:aws:iam::333333333333:role/Nope"
    with pytest.raises(botocore.exceptions.ClientError):
        sts.assume_role(RoleArn=missing, RoleSessionName="denied")
    fresh.admin("create-account", "--account-id", "222222222222")
    ok = sts.assume_role(RoleArn=f"arn:aws:iam::222222222222:role/{ORG_ROLE}", RoleSessionName="granted", DurationSeconds=900)
    events = by_name(fresh.client("cloudtrail"), "AssumeRole")
    assert len(events) == 2
    recs = [json.loads(e["CloudTrailEvent"]) for e in events]
    newest, oldest = recs
    assert oldest["errorCode"] == "AccessDenied"
    assert oldest["errorMessage"].endswith(f"sts:AssumeRole on resource: {missing}")
    assert oldest["responseElements"] is None
    assert oldest["requestParameters"] == {"roleArn": missing, "roleSessionName": "denied"}
    assert "errorCode" not in newest
    assert newest["requestParameters"] == {
        "roleArn": f"arn:aws:iam::222222222222:role/{ORG_ROLE}", "roleSessionName": "granted", "durationSeconds": 900}
    creds = newest["responseElements"]["credentials"]
    assert creds["accessKeyId"] == ok["Credentials"]["AccessKeyId"]
    assert "secretAccessKey" not in creds
    assert ok["Credentials"]["SecretAccessKey"] not in json.dumps(newest)
    assert newest["responseElements"]["assumedRoleUser"]["arn"] == ok["AssumedRoleUser"]["Arn"]
    assert newest["readOnly"] is False


def test_assumed_role_identity_and_account_scoping(fresh):
    fresh.admin("create-account", "--account-id", "222222222222")
    c = fresh.client("sts").assume_role(RoleArn=f"arn:aws:iam::222222222222:role/{ORG_ROLE}", RoleSessionName="ops")["Credentials"]
    kw = dict(key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])
    fresh.client("sts", **kw).get_caller_identity()
    member_events = by_name(fresh.client("cloudtrail", **kw), "GetCallerIdentity")
    assert len(member_events) == 1
    ev = member_events[0]
    assert ev["Username"] == "ops" and ev["AccessKeyId"] == c["AccessKeyId"]
    uid = json.loads(ev["CloudTrailEvent"])["userIdentity"]
    assert uid["type"] == "AssumedRole"
    assert uid["arn"] == f"arn:aws:sts::222222222222:assumed-role/{ORG_ROLE}/ops"
    issuer = uid["sessionContext"]["sessionIssuer"]
    assert issuer["type"] == "Role" and issuer["arn"] == f"arn:aws:iam::222222222222:role/{ORG_ROLE}"
    assert issuer["userName"] == ORG_ROLE and issuer["principalId"] == uid["principalId"].split(":")[0]
    assert uid["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    # The management account does not see the member's events, nor other regions.
    assert by_name(fresh.client("cloudtrail"), "GetCallerIdentity") == []
    assert by_name(fresh.client("cloudtrail", region="eu-west-1", **kw), "GetCallerIdentity") == []


def test_root_and_minted_user_identities(fresh):
    user = fresh.admin("create-access-key", "--account-id", MANAGEMENT, "--user-name", "alice")["AccessKey"]
    alice = fresh.client("sts", key=user["AccessKeyId"], secret=user["SecretAccessKey"]).get_caller_identity()
    root = fresh.admin("create-access-key", "--account-id", MANAGEMENT, "--root")["AccessKey"]
    fresh.client("sts", key=root["AccessKeyId"], secret=root["SecretAccessKey"]).get_caller_identity()
    ct = fresh.client("cloudtrail")
    [ev] = lookup(ct, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "alice"}])
    assert (ev["EventName"], ev["AccessKeyId"]) == ("GetCallerIdentity", user["AccessKeyId"])
    assert json.loads(ev["CloudTrailEvent"])["userIdentity"] == {
        "type": "IAMUser", "principalId": alice["UserId"], "arn": f"arn:aws:iam::{MANAGEMENT}:user/alice",
        "accountId": MANAGEMENT, "accessKeyId": user["AccessKeyId"], "userName": "alice",
    }
    [ev] = lookup(ct, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "root"}])
    assert ev["AccessKeyId"] == root["AccessKeyId"]
    assert json.loads(ev["CloudTrailEvent"])["userIdentity"] == {
        "type": "Root", "principalId": MANAGEMENT, "arn": f"arn:aws:iam::{MANAGEMENT}:root",
        "accountId": MANAGEMENT, "accessKeyId": root["AccessKeyId"],
    }
    # Neither secret is anywhere in the account's event history.
    everything = json.dumps([e["CloudTrailEvent"] for e in lookup(ct)])
    assert user["SecretAccessKey"] not in everything and root["SecretAccessKey"] not in everything


def test_global_service_events_are_in_us_east_1(fresh):
    with pytest.raises(botocore.exceptions.ClientError):
        fresh.client("organizations", region="eu-west-1").describe_organization()
    assert by_name(fresh.client("cloudtrail", region="eu-west-1"), "DescribeOrganization") == []
    events = by_name(fresh.client("cloudtrail", region="us-east-1"), "DescribeOrganization")
    assert len(events) == 1
    rec = json.loads(events[0]["CloudTrailEvent"])
    assert rec["eventSource"] == "organizations.amazonaws.com" and rec["awsRegion"] == "us-east-1"


def test_attributes_and_pagination(fresh):
    sts = fresh.client("sts")
    ids = [sts.get_caller_identity()["ResponseMetadata"]["RequestId"] for _ in range(7)]
    ct = fresh.client("cloudtrail")
    page = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}], MaxResults=3)
    assert len(page["Events"]) == 3 and "NextToken" in page
    got = lookup(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}],
                 PaginationConfig={"PageSize": 3})
    assert [json.loads(e["CloudTrailEvent"])["requestID"] for e in got] == list(reversed(ids))
    for key, value in [("EventSource", "sts.amazonaws.com"), ("ReadOnly", "true"), ("Username", "admin"), ("AccessKeyId", "test")]:
        found = lookup(ct, LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
        assert len([e for e in found if e["EventName"] == "GetCallerIdentity"]) == 7, key
    one = lookup(ct, LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": got[3]["EventId"]}])
    assert [e["EventId"] for e in one] == [got[3]["EventId"]]
    assert lookup(ct, LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}]) == []
    # A time window that ends before the calls holds none of them.
    assert lookup(ct, EndTime=got[-1]["EventTime"].timestamp() - 120) == []


def test_next_token_is_stable_while_events_arrive(fresh):
    sts = fresh.client("sts")
    first = [sts.get_caller_identity()["ResponseMetadata"]["RequestId"] for _ in range(6)]
    ct = fresh.client("cloudtrail")
    query = dict(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}], MaxResults=4)
    page = ct.lookup_events(**query)
    ids = lambda p: [json.loads(e["CloudTrailEvent"])["requestID"] for e in p["Events"]]
    assert ids(page) == list(reversed(first))[:4]
    later = [sts.get_caller_identity()["ResponseMetadata"]["RequestId"] for _ in range(5)]
    # The next page continues below the first one, whatever arrived since.
    rest = ct.lookup_events(NextToken=page["NextToken"], **query)
    assert ids(rest) == list(reversed(first))[4:] and "NextToken" not in rest
    # A new query sees the newest events first.
    assert ids(ct.lookup_events(**query)) == list(reversed(later))[:4]


def test_lookup_keeps_ninety_days(fresh):
    fresh.client("sts").get_caller_identity()
    name = [{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}]
    fresh.advance_clock(89 * 86400)
    with shifted(89 * 86400):
        assert len(lookup(fresh.client("cloudtrail"), LookupAttributes=name)) == 1
        # A window reaching further back than 90 days is clamped, not refused.
        assert len(lookup(fresh.client("cloudtrail"), LookupAttributes=name, StartTime=0)) == 1
    fresh.advance_clock(2 * 86400)
    with shifted(91 * 86400):
        assert lookup(fresh.client("cloudtrail"), LookupAttributes=name) == []


def test_a_reset_empties_event_history(fresh):
    sts, ct = fresh.client("sts"), fresh.client("cloudtrail")
    for _ in range(5):
        sts.get_caller_identity()
    name = [{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}]
    assert len(lookup(ct, LookupAttributes=name)) == 5
    fresh.reset()
    after = [sts.get_caller_identity()["ResponseMetadata"]["RequestId"] for _ in range(2)]
    page = ct.lookup_events(LookupAttributes=name, MaxResults=2)
    assert [json.loads(e["CloudTrailEvent"])["requestID"] for e in page["Events"]] == list(reversed(after))
    assert "NextToken" not in page
    assert [e["EventName"] for e in lookup(ct)] == ["LookupEvents", "GetCallerIdentity", "GetCallerIdentity"]


def test_lookup_validation(fresh):
    ct = fresh.client("cloudtrail")
    def code(**kw):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ct.lookup_events(**kw)
        return e.value.response["Error"]["Code"]
    two = [{"AttributeKey": "EventName", "AttributeValue": "a"}, {"AttributeKey": "Username", "AttributeValue": "b"}]
    assert code(LookupAttributes=two) == "InvalidLookupAttributesException"
    assert code(StartTime=2000000000, EndTime=1000000000) == "InvalidTimeRangeException"
    assert code(MaxResults=51) == "InvalidMaxResultsException"
    assert code(EventCategory="management") == "InvalidEventCategoryException"
    assert code(NextToken="bm90LWEtdG9rZW4") == "InvalidNextTokenException"
    # A token is bound to the query that produced it.
    for _ in range(3):
        fresh.client("sts").get_caller_identity()
    token = ct.lookup_events(MaxResults=1)["NextToken"]
    assert code(MaxResults=2, NextToken=token) == "InvalidNextTokenException"
    # Each refusal is recorded with its error.
    recs = [json.loads(e["CloudTrailEvent"]) for e in by_name(ct, "LookupEvents")]
    refused = [r for r in recs if "errorCode" in r]
    assert [r["errorCode"] for r in reversed(refused)] == [
        "InvalidLookupAttributesException", "InvalidTimeRangeException", "InvalidMaxResultsException",
        "InvalidEventCategoryException", "InvalidNextTokenException", "InvalidNextTokenException"]
    assert refused[0]["errorMessage"] == "Invalid NextToken."


def test_every_acknowledged_call_survives_kill_9(tmpdir_path):
    s = Server(os.path.join(tmpdir_path, "data")).start()
    try:
        sts = s.client("sts")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda _: sts.get_caller_identity()["ResponseMetadata"]["RequestId"], range(200)))
        s.stop(signal.SIGKILL)
        s.start()
        events = by_name(s.client("cloudtrail"), "GetCallerIdentity")
        recorded = {json.loads(e["CloudTrailEvent"])["requestID"] for e in events}
        assert set(ids) <= recorded
        assert len(events) == len(recorded) == 200
    finally:
        s.stop()


def test_s3_bucket_calls_are_management_events(fresh):
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="audited-bucket", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    events = by_name(fresh.client("cloudtrail"), "CreateBucket")
    assert len(events) == 1
    ev = events[0]
    assert ev["EventSource"] == "s3.amazonaws.com" and ev["ReadOnly"] == "false"
    assert ev["Resources"] == [{"ResourceType": "AWS::S3::Bucket", "ResourceName": "audited-bucket"}]
    rec = json.loads(ev["CloudTrailEvent"])
    assert rec["requestParameters"]["bucketName"] == "audited-bucket"
    assert rec["requestParameters"]["Host"].startswith("127.0.0.1:")
    assert (rec["managementEvent"], rec["eventCategory"]) == (True, "Management")
    assert rec["resources"] == [{"accountId": MANAGEMENT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::audited-bucket"}]
    assert rec["additionalEventData"]["SignatureVersion"] == "SigV4"
    found = lookup(fresh.client("cloudtrail"), LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "audited-bucket"}])
    assert [e["EventName"] for e in found] == ["CreateBucket"]
    assert rec["additionalEventData"]["AuthenticationMethod"] == "AuthHeader"
    assert re.fullmatch(r"[0-9A-F]{16}", rec["requestID"])
    # A refused S3 call is recorded with its error.
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_bucket_policy(Bucket="audited-bucket")
    rec = json.loads(by_name(fresh.client("cloudtrail"), "GetBucketPolicy")[0]["CloudTrailEvent"])
    assert rec["errorCode"] == "NoSuchBucketPolicy"


def test_s3_object_calls_are_data_events_outside_event_history(fresh):
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="data-bucket", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    s3.put_object(Bucket="data-bucket", Key="a/b.txt", Body=b"hello")
    s3.get_object(Bucket="data-bucket", Key="a/b.txt")["Body"].read()
    ct = fresh.client("cloudtrail")
    assert by_name(ct, "PutObject") == [] and by_name(ct, "GetObject") == []
    assert len(by_name(ct, "CreateBucket")) == 1


def test_trail_calls_name_their_resources(fresh):
    ct = fresh.client("cloudtrail")
    with pytest.raises(botocore.exceptions.ClientError):
        ct.create_trail(Name="named-trail", S3BucketName="missing-bucket-x")
    ev = by_name(ct, "CreateTrail")[0]
    assert ev["Resources"] == [
        {"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": f"arn:aws:cloudtrail:us-east-2:{MANAGEMENT}:trail/named-trail"},
        {"ResourceType": "AWS::S3::Bucket", "ResourceName": "missing-bucket-x"},
    ]
    found = lookup(ct, LookupAttributes=[{"AttributeKey": "ResourceType", "AttributeValue": "AWS::CloudTrail::Trail"}])
    assert [e["EventName"] for e in found] == ["CreateTrail"]
    rec = json.loads(ev["CloudTrailEvent"])
    assert rec["errorCode"] == "S3BucketDoesNotExistException"

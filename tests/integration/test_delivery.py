"""Trails deliver gzip log files into S3, as AWS lays them out, exactly once, through the bucket
policy like any other caller."""

import gzip
import json
import os
import re
import signal
import time
import concurrent.futures

import pytest

from conftest import MANAGEMENT, Server

BUCKET = "trail-logs-bucket"


def policy(bucket, trail_arn, roots, prefix=""):
    p = f"{prefix}/" if prefix else ""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": f"arn:aws:s3:::{bucket}", "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
            {"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": [f"arn:aws:s3:::{bucket}/{p}AWSLogs/{r}/*" for r in roots],
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn}}},
        ],
    })


def logging_trail(server, name="trail-1", region="us-east-2", **kw):
    s3 = server.client("s3", region=region)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": region})
    arn = f"arn:aws:cloudtrail:{region}:{MANAGEMENT}:trail/{name}"
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(BUCKET, arn, [MANAGEMENT], kw.get("S3KeyPrefix", "")))
    ct = server.client("cloudtrail", region=region)
    ct.create_trail(Name=name, S3BucketName=BUCKET, **kw)
    ct.start_logging(Name=name)
    return ct, s3, arn


def delivered(s3, prefix=""):
    """Every record in every delivered log file, with the file's key."""
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for o in page.get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
            for rec in json.loads(gzip.decompress(body))["Records"]:
                out.append((o["Key"], rec))
    return out


def wait_for(fn, timeout=15):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.2)


@pytest.fixture
def quick(tmpdir_path):
    s = Server(os.path.join(tmpdir_path, "data"), ["--delivery-interval", "300ms"]).start()
    yield s
    s.stop()


def test_log_files_land_under_awss_layout(quick):
    ct, s3, arn = logging_trail(quick)
    ident = quick.client("sts").get_caller_identity()
    rid = ident["ResponseMetadata"]["RequestId"]
    recs = wait_for(lambda: [r for r in delivered(s3) if r[1]["requestID"] == rid])
    assert len(recs) == 1
    key, rec = recs[0]
    assert re.fullmatch(
        rf"AWSLogs/{MANAGEMENT}/CloudTrail/us-east-2/\d{{4}}/\d\d/\d\d/{MANAGEMENT}_CloudTrail_us-east-2_\d{{8}}T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz",
        key), key
    assert rec["eventName"] == "GetCallerIdentity" and rec["eventSource"] == "sts.amazonaws.com"
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "application/json" and head["ContentEncoding"] == "gzip"
    # StartLogging itself is in the log; the CreateTrail before it is not.
    names = [r[1]["eventName"] for r in delivered(s3)]
    assert "StartLogging" in names and "CreateTrail" not in names
    status = ct.get_trail_status(Name="trail-1")
    assert status["IsLogging"] is True
    assert "LatestDeliveryTime" in status and "LatestDeliveryError" not in status
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", status["LatestDeliveryAttemptSucceeded"])
    # The CLI lists and copies them.
    _, out, _ = quick.cli("s3", "ls", f"s3://{BUCKET}/", "--recursive")
    assert key in out


def test_nothing_between_stop_and_start_is_delivered(quick):
    ct, s3, _ = logging_trail(quick)
    sts = quick.client("sts")
    before = sts.get_caller_identity()["ResponseMetadata"]["RequestId"]
    ct.stop_logging(Name="trail-1")
    during = sts.get_caller_identity()["ResponseMetadata"]["RequestId"]
    ct.start_logging(Name="trail-1")
    after = sts.get_caller_identity()["ResponseMetadata"]["RequestId"]
    ids = wait_for(lambda: {r["requestID"] for _, r in delivered(s3)} if after in {r["requestID"] for _, r in delivered(s3)} else None)
    assert before in ids and after in ids and during not in ids
    names = [r["eventName"] for _, r in delivered(s3)]
    assert names.count("StopLogging") == 1


def test_refused_delivery_is_reported_and_resumes_without_loss(quick):
    ct, s3, arn = logging_trail(quick)
    first = quick.client("sts").get_caller_identity()["ResponseMetadata"]["RequestId"]
    assert wait_for(lambda: first in {r["requestID"] for _, r in delivered(s3)})
    s3.delete_bucket_policy(Bucket=BUCKET)
    lost = quick.client("sts").get_caller_identity()["ResponseMetadata"]["RequestId"]
    status = wait_for(lambda: (lambda st: st if st.get("LatestDeliveryError") else None)(ct.get_trail_status(Name="trail-1")))
    assert status["LatestDeliveryError"] == "AccessDenied"
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(BUCKET, arn, [MANAGEMENT]))
    assert wait_for(lambda: lost in {r["requestID"] for _, r in delivered(s3)})
    assert "LatestDeliveryError" not in ct.get_trail_status(Name="trail-1")
    ids = [r["eventID"] for _, r in delivered(s3)]
    assert len(ids) == len(set(ids))


def test_prefix_and_multi_region_and_global_events(quick):
    ct, s3, _ = logging_trail(quick, S3KeyPrefix="logs", IsMultiRegionTrail=True)
    rid = quick.client("sts", region="eu-west-1").get_caller_identity()["ResponseMetadata"]["RequestId"]
    orgs = quick.client("organizations", region="eu-west-1")
    orgs.create_organization(FeatureSet="ALL")
    recs = wait_for(lambda: (lambda d: d if any(r["eventName"] == "CreateOrganization" for _, r in d) and any(r["requestID"] == rid for _, r in d) else None)(delivered(s3)))
    by_name = {r["eventName"]: k for k, r in recs}
    assert by_name["GetCallerIdentity"].startswith(f"logs/AWSLogs/{MANAGEMENT}/CloudTrail/eu-west-1/")
    assert by_name["CreateOrganization"].startswith(f"logs/AWSLogs/{MANAGEMENT}/CloudTrail/us-east-1/")
    assert sum(1 for _, r in recs if r["eventName"] == "CreateOrganization") == 1


def test_exactly_once_through_repeated_kill_9(tmpdir_path):
    s = Server(os.path.join(tmpdir_path, "data"), ["--delivery-interval", "200ms"]).start()
    try:
        _, s3, _ = logging_trail(s)
        acknowledged = set()
        for _ in range(4):
            sts = s.client("sts")
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                futures = [pool.submit(sts.get_caller_identity) for _ in range(150)]
                time.sleep(0.3)
                s.stop(signal.SIGKILL)
                for f in futures:
                    try:
                        acknowledged.add(f.result()["ResponseMetadata"]["RequestId"])
                    except Exception:
                        pass  # not acknowledged: the server died first
            s.start()
        # Most calls were acknowledged before each kill; the check below covers them all.
        assert len(acknowledged) >= 100, len(acknowledged)
        s3 = s.client("s3")
        def complete():
            got = [r["requestID"] for _, r in delivered(s3) if r["eventName"] == "GetCallerIdentity"]
            return got if acknowledged <= set(got) else None
        got = wait_for(complete, timeout=30)
        assert got, "some acknowledged calls never reached a log file"
        assert len(got) == len(set(got)), "an event was delivered twice"
        ids = [r["eventID"] for _, r in delivered(s3)]
        assert len(ids) == len(set(ids))
    finally:
        s.stop()


def test_data_events_reach_trails_that_select_them(quick):
    ct, s3, arn = logging_trail(quick)
    ct.put_event_selectors(TrailName="trail-1", EventSelectors=[{
        "ReadWriteType": "WriteOnly", "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{BUCKET}/data/"]}]}])
    s3.put_object(Bucket=BUCKET, Key="data/x.txt", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="other/y.txt", Body=b"y")
    s3.get_object(Bucket=BUCKET, Key="data/x.txt")["Body"].read()
    recs = wait_for(lambda: [r for _, r in delivered(s3, "AWSLogs") if r["eventName"] == "PutObject"
                             and r["requestParameters"].get("key") == "data/x.txt"])
    assert len(recs) == 1
    rec = recs[0]
    assert (rec["managementEvent"], rec["eventCategory"], rec["readOnly"]) == (False, "Data", False)
    assert rec["resources"] == [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{BUCKET}/data/x.txt"},
        {"accountId": MANAGEMENT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{BUCKET}"},
    ]
    time.sleep(1)
    names = [(r["eventName"], r["requestParameters"].get("key") if r.get("requestParameters") else None)
             for _, r in delivered(s3, "AWSLogs")]
    assert ("PutObject", "other/y.txt") not in names
    assert ("GetObject", "data/x.txt") not in names


def test_cloudtrail_own_writes_are_data_events_by_the_service(quick):
    # The loop AWS documents: a trail that logs data events on its own bucket records
    # CloudTrail's writes of its log files, made by the service principal.
    ct, s3, arn = logging_trail(quick)
    ct.put_event_selectors(TrailName="trail-1", EventSelectors=[{
        "ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{BUCKET}/AWSLogs/"]}]}])
    quick.client("sts").get_caller_identity()
    recs = wait_for(lambda: [(k, r) for k, r in delivered(s3, "AWSLogs") if r["eventName"] == "PutObject"])
    assert recs
    keys = {k for k, _ in delivered(s3, "AWSLogs")}
    key, rec = recs[0]
    assert rec["requestParameters"]["key"] in keys and rec["requestParameters"]["key"] != key
    assert rec["userIdentity"] == {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}
    assert (rec["sourceIPAddress"], rec["userAgent"]) == ("cloudtrail.amazonaws.com", "cloudtrail.amazonaws.com")
    assert (rec["managementEvent"], rec["eventCategory"], rec["readOnly"]) == (False, "Data", False)
    assert rec["recipientAccountId"] == MANAGEMENT
    assert "errorCode" not in rec
    # Data events stay out of event history.
    assert [e for e in ct.get_paginator("lookup_events").paginate().build_full_result()["Events"]
            if e["EventName"] == "PutObject"] == []


def test_refused_calls_are_delivered_with_their_errors(quick):
    """A call the authorization decision refuses is delivered like any other, with the error
    code and message the caller got; IAM's own calls arrive as global service events."""
    ct, s3, arn = logging_trail(quick, IncludeGlobalServiceEvents=True, IsMultiRegionTrail=True)
    iam = quick.client("iam")
    iam.create_user(UserName="reader")
    iam.put_user_policy(UserName="reader", PolicyName="describe", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "cloudtrail:DescribeTrails", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    reader = quick.client("cloudtrail", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert [t["Name"] for t in reader.describe_trails()["trailList"]] == ["trail-1"]
    with pytest.raises(Exception) as e:
        reader.stop_logging(Name="trail-1")
    message = e.value.response["Error"]["Message"]
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert message == (
        f"User: arn:aws:iam::{MANAGEMENT}:user/reader is not authorized to perform: cloudtrail:StopLogging "
        f"on resource: {arn} because no identity-based policy allows the cloudtrail:StopLogging action")
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    [(_, rec)] = wait_for(lambda: [r for r in delivered(s3) if r[1]["requestID"] == rid])
    assert (rec["eventName"], rec["errorCode"], rec["errorMessage"]) == ("StopLogging", "AccessDeniedException", message)
    assert rec["userIdentity"]["arn"] == f"arn:aws:iam::{MANAGEMENT}:user/reader"
    assert rec["userIdentity"]["accessKeyId"] == key["AccessKeyId"]
    # The trail kept logging.
    assert ct.get_trail_status(Name="trail-1")["IsLogging"] is True
    # IAM's calls: us-east-1, iam.amazonaws.com, delivered under us-east-1's prefix.
    created = wait_for(lambda: [r for r in delivered(s3) if r[1]["eventName"] == "CreateUser"])
    [(created_key, created_rec)] = created
    assert (created_rec["eventSource"], created_rec["awsRegion"]) == ("iam.amazonaws.com", "us-east-1")
    assert f"/CloudTrail/us-east-1/" in created_key
    assert created_rec["requestParameters"] == {"userName": "reader"}

"""S3 server access logging: records of requests to a logged bucket delivered as log objects
into the target bucket, in AWS's format and key layouts, written by logging.s3.amazonaws.com
under the target bucket's policy (or its ACL's LogDelivery grant). Driven by boto3."""

import hashlib
import json
import os
import re
import time

import botocore.exceptions
import pytest

from conftest import MANAGEMENT, Server
from test_s3 import anonymous, make_bucket, policy_doc

FIELD = re.compile(r'\[[^\]]*\]|"(?:[^"\\]|\\.)*"|\S+')
OWNER_ID = hashlib.sha256(MANAGEMENT.encode()).hexdigest()


@pytest.fixture
def logged(tmpdir_path):
    s = Server(os.path.join(tmpdir_path, "data"), ["--delivery-interval", "300ms"]).start()
    yield s
    s.stop()


def allow_logging(c, target, source, prefix=""):
    c.put_bucket_policy(Bucket=target, Policy=policy_doc({
        "Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{target}/{prefix}*",
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{source}"},
                      "StringEquals": {"aws:SourceAccount": MANAGEMENT}}}))


def enable(c, source, target, prefix, key_format=None):
    status = {"TargetBucket": target, "TargetPrefix": prefix}
    if key_format:
        status["TargetObjectKeyFormat"] = key_format
    c.put_bucket_logging(Bucket=source, BucketLoggingStatus={"LoggingEnabled": status})


def records(c, target, prefix, want, timeout=10):
    """Every log record delivered under the prefix, once at least `want` have arrived."""
    deadline = time.time() + timeout
    while True:
        keys = [o["Key"] for o in c.list_objects_v2(Bucket=target, Prefix=prefix).get("Contents", [])]
        lines = []
        for k in keys:
            body = c.get_object(Bucket=target, Key=k)["Body"].read().decode()
            lines += [FIELD.findall(line) for line in body.splitlines() if line]
        if len(lines) >= want or time.time() > deadline:
            return keys, lines
        time.sleep(0.2)


def test_access_log_records_arrive_in_aws_format(logged):
    c = make_bucket(logged, "app-data", region="us-east-2")
    make_bucket(logged, "access-logs", region="us-east-2")
    allow_logging(c, "access-logs", "app-data", "logs/")
    enable(c, "app-data", "access-logs", "logs/")
    assert c.get_bucket_logging(Bucket="app-data")["LoggingEnabled"] == {
        "TargetBucket": "access-logs", "TargetPrefix": "logs/"}
    put = c.put_object(Bucket="app-data", Key="dir/a b.txt", Body=b"hello world")
    got = c.get_object(Bucket="app-data", Key="dir/a b.txt")
    assert got["Body"].read() == b"hello world"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.get_object(Bucket="app-data", Key="missing")
    missing_id = e.value.response["ResponseMetadata"]["RequestId"]
    with pytest.raises(botocore.exceptions.ClientError):
        anonymous(logged).get_object(Bucket="app-data", Key="dir/a b.txt")
    c.list_objects_v2(Bucket="app-data")

    keys, lines = records(c, "access-logs", "logs/", 6)
    assert keys and all(re.fullmatch(r"logs/\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9A-F]{16}", k) for k in keys)
    by_id = {f[5]: f for f in lines}
    # The GetBucketLogging after logging was turned on is a request to the bucket too.
    assert [f[6] for f in lines] == ["REST.GET.LOGGING_STATUS", "REST.PUT.OBJECT", "REST.GET.OBJECT",
                                     "REST.GET.OBJECT", "REST.GET.OBJECT", "REST.GET.BUCKET"]
    for f in lines:
        assert len(f) == 26, f
        assert f[0] == OWNER_ID and f[1] == "app-data"
        assert re.fullmatch(r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\]", f[2])
        assert f[3] == "127.0.0.1"
    p = by_id[put["ResponseMetadata"]["RequestId"]]
    assert p[4] == f"arn:aws:iam::{MANAGEMENT}:user/admin"
    assert p[6:10] == ["REST.PUT.OBJECT", "dir/a%20b.txt", '"PUT /app-data/dir/a%20b.txt HTTP/1.1"', "200"]
    assert p[10] == "-" and p[12] == "11"
    assert p[19] == "SigV4" and p[21] == "AuthHeader"
    g = by_id[got["ResponseMetadata"]["RequestId"]]
    assert g[6] == "REST.GET.OBJECT" and g[9] == "200" and g[11] == "11" and g[12] == "11"
    assert g[18] == got["ResponseMetadata"]["HTTPHeaders"]["x-amz-id-2"]
    m = by_id[missing_id]
    assert (m[6], m[9], m[10]) == ("REST.GET.OBJECT", "404", "NoSuchKey")
    anon = [f for f in lines if f[4] == "-"]
    assert len(anon) == 1 and anon[0][9:11] == ["403", "AccessDenied"] and anon[0][19] == "-"
    assert [f[6] for f in lines if f[6] == "REST.GET.BUCKET"] == ["REST.GET.BUCKET"]


def test_delivery_needs_the_target_bucket_to_allow_it(logged):
    c = make_bucket(logged, "src-bucket", region="us-east-2")
    make_bucket(logged, "closed-logs", region="us-east-2")
    enable(c, "src-bucket", "closed-logs", "")
    c.put_object(Bucket="src-bucket", Key="k", Body=b"x")
    time.sleep(1.2)
    # The bucket policy grants the logging service nothing: nothing was delivered.
    assert c.list_objects_v2(Bucket="closed-logs").get("KeyCount") == 0
    allow_logging(c, "closed-logs", "src-bucket")
    # The records kept waiting; they arrive once the policy lets them in.
    _, lines = records(c, "closed-logs", "", 1)
    assert [f[6] for f in lines][:1] == ["REST.PUT.OBJECT"]


def test_a_policy_for_another_source_does_not_let_logs_in(logged):
    c = make_bucket(logged, "one-src", region="us-east-2")
    make_bucket(logged, "other-logs", region="us-east-2")
    allow_logging(c, "other-logs", "some-other-bucket")
    enable(c, "one-src", "other-logs", "x/")
    c.head_bucket(Bucket="one-src")
    time.sleep(1.2)
    assert c.list_objects_v2(Bucket="other-logs", Prefix="x/").get("KeyCount") == 0


def test_partitioned_keys_and_acl_delivery(logged):
    c = make_bucket(logged, "part-src", region="us-east-2")
    make_bucket(logged, "acl-logs", region="us-east-2")
    # A target with ACLs enabled takes logs through the LogDelivery group's grant.
    c.put_bucket_ownership_controls(Bucket="acl-logs", OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    c.put_bucket_acl(Bucket="acl-logs", ACL="log-delivery-write")
    enable(c, "part-src", "acl-logs", "p/", {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}})
    c.get_bucket_versioning(Bucket="part-src")
    keys, lines = records(c, "acl-logs", "p/", 1)
    assert re.fullmatch(
        rf"p/{MANAGEMENT}/us-east-2/part-src/\d{{4}}/\d\d/\d\d/\d{{4}}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9A-F]{{16}}",
        keys[0]), keys
    assert lines[0][6:8] == ["REST.GET.VERSIONING", "-"]
    assert lines[0][8] == '"GET /part-src?versioning HTTP/1.1"'


def test_logging_off_stops_records(logged):
    c = make_bucket(logged, "quiet-src", region="us-east-2")
    make_bucket(logged, "quiet-logs", region="us-east-2")
    allow_logging(c, "quiet-logs", "quiet-src")
    enable(c, "quiet-src", "quiet-logs", "")
    c.put_object(Bucket="quiet-src", Key="one", Body=b"1")
    _, lines = records(c, "quiet-logs", "", 1)
    c.put_bucket_logging(Bucket="quiet-src", BucketLoggingStatus={})
    assert "LoggingEnabled" not in c.get_bucket_logging(Bucket="quiet-src")
    c.put_object(Bucket="quiet-src", Key="two", Body=b"2")
    time.sleep(1.2)
    _, after = records(c, "quiet-logs", "", 100, timeout=0)
    ops = [(f[6], f[7]) for f in after]
    assert ("REST.PUT.OBJECT", "one") in ops and ("REST.PUT.OBJECT", "two") not in ops
    # The PutBucketLogging that turned it off is logged (the bucket was logged when it came).
    assert ("REST.PUT.LOGGING_STATUS", "-") in ops and ("REST.GET.LOGGING_STATUS", "-") not in ops

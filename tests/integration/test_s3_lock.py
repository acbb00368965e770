"""S3 Object Lock: bucket lock configuration, per-version retention and legal holds, and the
enforcement that keeps a locked version (a trail's delivered log files among them) from being
deleted."""

import datetime
import gzip
import json
import os
import time

import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import MANAGEMENT, Server, shifted
from test_delivery import policy, wait_for

PROTECTED = "Access Denied because object protected by object lock."


def err(fn):
    with pytest.raises(ClientError) as e:
        fn()
    return e.value.response


def until(seconds):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


def locked_bucket(s3, name="lockb", rule=None):
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-east-2"},
                     ObjectLockEnabledForBucket=True)
    if rule:
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": rule}})
    return name


def test_configuration_versioning_and_refusals(fresh):
    s3 = fresh.client("s3")
    b = locked_bucket(s3)
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    r = err(lambda: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"}))
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]) == (409, "InvalidBucketState")
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 1}}})
    got = s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"]
    assert got["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Years": 1}
    for bad in ({"Mode": "GOVERNANCE", "Days": 1, "Years": 1}, {"Mode": "GOVERNANCE"}):
        r = err(lambda: s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": bad}}))
        assert r["Error"]["Code"] == "MalformedXML"
    r = err(lambda: s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 0}}}))
    assert r["Error"]["Code"] == "InvalidArgument"

    s3.create_bucket(Bucket="plain", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    r = err(lambda: s3.get_object_lock_configuration(Bucket="plain"))
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]) == (
        404, "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket")
    r = err(lambda: s3.put_object_lock_configuration(Bucket="plain", ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}))
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]) == (
        409, "InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
    r = err(lambda: s3.put_object(Bucket="plain", Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                                  ObjectLockRetainUntilDate=until(60)))
    assert r["Error"]["Code"] == "InvalidRequest"
    s3.put_object(Bucket="plain", Key="k", Body=b"x")
    r = err(lambda: s3.get_object_retention(Bucket="plain", Key="k"))
    assert r["Error"]["Code"] == "InvalidRequest"
    # An existing bucket may turn Object Lock on once it is versioned (AWS since November 2023).
    s3.put_bucket_versioning(Bucket="plain", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket="plain", ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert s3.get_object_lock_configuration(Bucket="plain")["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}

    # Management events under their own names.
    ct = fresh.client("cloudtrail")
    names = {e["EventName"] for e in ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": b}])["Events"]}
    assert {"PutObjectLockConfiguration", "GetObjectLockConfiguration", "CreateBucket"} <= names


def test_compliance_refuses_every_delete_until_the_date_passes(fresh):
    s3 = fresh.client("s3")
    b = locked_bucket(s3)
    v = s3.put_object(Bucket=b, Key="log", Body=b"audit", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until(60))["VersionId"]
    head = s3.head_object(Bucket=b, Key="log")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.datetime.now(datetime.timezone.utc)
    ret = s3.get_object_retention(Bucket=b, Key="log", VersionId=v)["Retention"]
    assert ret["Mode"] == "COMPLIANCE"
    r = err(lambda: s3.delete_object(Bucket=b, Key="log", VersionId=v))
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]) == (
        403, "AccessDenied", PROTECTED)
    r = err(lambda: s3.delete_object(Bucket=b, Key="log", VersionId=v, BypassGovernanceRetention=True))
    assert r["Error"]["Message"] == PROTECTED
    # Shortening, removing or weakening a COMPLIANCE retention: refused, bypass or not.
    for ret in ({"Mode": "COMPLIANCE", "RetainUntilDate": until(30)},
                {"Mode": "GOVERNANCE", "RetainUntilDate": until(3600)}):
        r = err(lambda: s3.put_object_retention(Bucket=b, Key="log", VersionId=v, Retention=ret,
                                                BypassGovernanceRetention=True))
        assert r["Error"]["Code"] == "AccessDenied"
    # Extending is allowed.
    s3.put_object_retention(Bucket=b, Key="log", VersionId=v,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until(90)})
    # DeleteObjects honours the same rule per version.
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "log", "VersionId": v}]})
    assert out["Errors"][0]["Code"] == "AccessDenied" and "Deleted" not in out
    # A delete without a version id only adds a delete marker.
    d = s3.delete_object(Bucket=b, Key="log")
    assert d["DeleteMarker"] is True
    assert s3.get_object(Bucket=b, Key="log", VersionId=v)["Body"].read() == b"audit"

    fresh.advance_clock(120)
    with shifted(120):
        s3.delete_object(Bucket=b, Key="log", VersionId=v)
        r = err(lambda: s3.get_object(Bucket=b, Key="log", VersionId=v))
        assert r["Error"]["Code"] == "NoSuchVersion"


def test_governance_yields_only_to_bypass_with_permission(fresh):
    s3 = fresh.client("s3")
    b = locked_bucket(s3)
    v = s3.put_object(Bucket=b, Key="g", Body=b"1", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=until(3600))["VersionId"]
    r = err(lambda: s3.delete_object(Bucket=b, Key="g", VersionId=v))
    assert r["Error"]["Message"] == PROTECTED

    iam = fresh.client("iam")
    iam.create_user(UserName="ops")
    allow = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:GetObjectRetention"]

    def grant(actions):
        iam.put_user_policy(UserName="ops", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": f"arn:aws:s3:::{b}/*"}]}))
    grant(allow)
    k = iam.create_access_key(UserName="ops")["AccessKey"]
    user = fresh.client("s3", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    # Bypass without s3:BypassGovernanceRetention: still protected.
    r = err(lambda: user.delete_object(Bucket=b, Key="g", VersionId=v, BypassGovernanceRetention=True))
    assert (r["Error"]["Code"], r["Error"]["Message"]) == ("AccessDenied", PROTECTED)
    r = err(lambda: user.put_object_retention(Bucket=b, Key="g", VersionId=v, BypassGovernanceRetention=True,
                                              Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until(60)}))
    assert r["Error"]["Code"] == "AccessDenied"
    out = user.delete_objects(Bucket=b, BypassGovernanceRetention=True,
                              Delete={"Objects": [{"Key": "g", "VersionId": v}]})
    assert out["Errors"][0]["Code"] == "AccessDenied"
    # The permission without the header: still protected.
    grant(allow + ["s3:BypassGovernanceRetention"])
    r = err(lambda: user.delete_object(Bucket=b, Key="g", VersionId=v))
    assert r["Error"]["Message"] == PROTECTED
    # Both: the retention can be shortened, and the version deleted.
    user.put_object_retention(Bucket=b, Key="g", VersionId=v, BypassGovernanceRetention=True,
                              Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until(1800)})
    user.delete_object(Bucket=b, Key="g", VersionId=v, BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket=b)

    # The AWS CLI: the same refusal, then the bypass.
    v2 = s3.put_object(Bucket=b, Key="c", Body=b"2", ObjectLockMode="GOVERNANCE",
                       ObjectLockRetainUntilDate=until(3600))["VersionId"]
    code, _, stderr = fresh.cli("s3api", "delete-object", "--bucket", b, "--key", "c", "--version-id", v2, check=False)
    assert code != 0 and "AccessDenied" in stderr
    fresh.cli("s3api", "delete-object", "--bucket", b, "--key", "c", "--version-id", v2,
              "--bypass-governance-retention")


def test_legal_hold_blocks_deletes_regardless(fresh):
    s3 = fresh.client("s3")
    b = locked_bucket(s3)
    v = s3.put_object(Bucket=b, Key="h", Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert s3.head_object(Bucket=b, Key="h")["ObjectLockLegalHoldStatus"] == "ON"
    assert s3.get_object_legal_hold(Bucket=b, Key="h")["LegalHold"] == {"Status": "ON"}
    r = err(lambda: s3.delete_object(Bucket=b, Key="h", VersionId=v, BypassGovernanceRetention=True))
    assert r["Error"]["Message"] == PROTECTED
    s3.put_object_legal_hold(Bucket=b, Key="h", VersionId=v, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=b, Key="h", VersionId=v)

    v = s3.put_object(Bucket=b, Key="n", Body=b"y")["VersionId"]
    r = err(lambda: s3.get_object_legal_hold(Bucket=b, Key="n"))
    assert r["Error"]["Code"] == "NoSuchObjectLockConfiguration"
    r = err(lambda: s3.get_object_retention(Bucket=b, Key="n"))
    assert r["Error"]["Code"] == "NoSuchObjectLockConfiguration"
    fresh.cli("s3api", "put-object-legal-hold", "--bucket", b, "--key", "n", "--legal-hold", "Status=ON")
    _, out, _ = fresh.cli("s3api", "get-object-legal-hold", "--bucket", b, "--key", "n")
    assert json.loads(out)["LegalHold"]["Status"] == "ON"
    r = err(lambda: s3.delete_object(Bucket=b, Key="n", VersionId=v))
    assert r["Error"]["Code"] == "AccessDenied"


def test_default_retention_copies_and_multipart(fresh):
    s3 = fresh.client("s3")
    b = locked_bucket(s3, rule={"Mode": "GOVERNANCE", "Days": 1})
    v = s3.put_object(Bucket=b, Key="d", Body=b"z")["VersionId"]
    ret = s3.get_object_retention(Bucket=b, Key="d", VersionId=v)["Retention"]
    assert ret["Mode"] == "GOVERNANCE"
    left = ret["RetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(hours=23) < left <= datetime.timedelta(days=1, minutes=1)
    # Explicit headers win over the default.
    s3.put_object(Bucket=b, Key="e", Body=b"z", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until(60))
    assert s3.head_object(Bucket=b, Key="e")["ObjectLockMode"] == "COMPLIANCE"
    # A copy gets the default (not the source's lock).
    s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "e"})
    assert s3.head_object(Bucket=b, Key="copy")["ObjectLockMode"] == "GOVERNANCE"
    # Multipart: the upload's lock headers reach the completed object.
    up = s3.create_multipart_upload(Bucket=b, Key="mp", ObjectLockLegalHoldStatus="ON")["UploadId"]
    p = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=b"part", ContentMD5=
                       __import__("base64").b64encode(__import__("hashlib").md5(b"part").digest()).decode())
    s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
    h = s3.head_object(Bucket=b, Key="mp")
    assert (h["ObjectLockLegalHoldStatus"], h["ObjectLockMode"]) == ("ON", "GOVERNANCE")
    # Without Content-MD5 or a checksum, a locked write is refused.
    bare = fresh.client("s3", request_checksum_calculation="when_required")
    r = err(lambda: bare.put_object(Bucket=b, Key="nomd5", Body=b"q"))
    assert (r["Error"]["Code"], r["Error"]["Message"]) == (
        "InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters")
    r = err(lambda: bare.upload_part(Bucket=b, Key="mp2", PartNumber=1, Body=b"q",
                                     UploadId=s3.create_multipart_upload(Bucket=b, Key="mp2")["UploadId"]))
    assert r["Error"]["Code"] == "InvalidRequest"
    # Past dates and half the headers are refused.
    r = err(lambda: s3.put_object(Bucket=b, Key="p", Body=b"q", ObjectLockMode="GOVERNANCE",
                                  ObjectLockRetainUntilDate=until(-60)))
    assert r["Error"]["Code"] == "InvalidArgument"
    # Data events: the retention calls are recorded as object-level events (not management).
    ct = fresh.client("cloudtrail")
    names = {e["EventName"] for e in ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": b}])["Events"]}
    assert "GetObjectRetention" not in names and "PutObjectLockConfiguration" in names


@pytest.fixture
def quick(tmpdir_path):
    s = Server(os.path.join(tmpdir_path, "data"), ["--delivery-interval", "300ms"]).start()
    yield s
    s.stop()


def test_trail_delivers_into_a_locked_bucket(quick):
    bucket = "locked-trail-logs"
    s3 = quick.client("s3")
    locked_bucket(s3, bucket, rule={"Mode": "COMPLIANCE", "Days": 1})
    arn = f"arn:aws:cloudtrail:us-east-2:{MANAGEMENT}:trail/lock-trail"
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(bucket, arn, [MANAGEMENT]))
    ct = quick.client("cloudtrail")
    ct.create_trail(Name="lock-trail", S3BucketName=bucket, EnableLogFileValidation=True)
    ct.start_logging(Name="lock-trail")
    rid = quick.client("sts").get_caller_identity()["ResponseMetadata"]["RequestId"]

    def logs():
        out = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="AWSLogs"):
            out.extend(v for v in page.get("Versions", []) if "/CloudTrail/" in v["Key"])
        for v in out:
            body = s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
            if any(r["requestID"] == rid for r in json.loads(gzip.decompress(body))["Records"]):
                return out
        return None

    files = wait_for(logs, timeout=20)
    assert files, "no log file delivered into the locked bucket"
    assert ct.get_trail_status(Name="lock-trail").get("LatestDeliveryError") in (None, "")
    f = files[0]
    ret = s3.get_object_retention(Bucket=bucket, Key=f["Key"], VersionId=f["VersionId"])["Retention"]
    assert ret["Mode"] == "COMPLIANCE"
    r = err(lambda: s3.delete_object(Bucket=bucket, Key=f["Key"], VersionId=f["VersionId"],
                                     BypassGovernanceRetention=True))
    assert (r["Error"]["Code"], r["Error"]["Message"]) == ("AccessDenied", PROTECTED)
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f["Key"], "VersionId": f["VersionId"]}]})
    assert out["Errors"][0]["Code"] == "AccessDenied"
    # A delete marker hides the file but the locked version stays.
    s3.delete_object(Bucket=bucket, Key=f["Key"])
    assert s3.get_object(Bucket=bucket, Key=f["Key"], VersionId=f["VersionId"])["Body"].read()

    # Digest files land under the same default retention.
    def digests():
        vs = s3.list_object_versions(Bucket=bucket, Prefix="AWSLogs").get("Versions", [])
        return [v for v in vs if "/CloudTrail-Digest/" in v["Key"]]
    # Digests are hourly; only check them when this server made one already.
    for d in digests():
        assert s3.get_object_retention(Bucket=bucket, Key=d["Key"], VersionId=d["VersionId"])["Retention"]["Mode"] == "COMPLIANCE"


def test_lock_calls_are_recorded_as_aws_records_them(quick):
    bucket = "locked-trail-logs"
    s3 = quick.client("s3")
    locked_bucket(s3, bucket)
    arn = f"arn:aws:cloudtrail:us-east-2:{MANAGEMENT}:trail/lock-trail"
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(bucket, arn, [MANAGEMENT]))
    ct = quick.client("cloudtrail")
    ct.create_trail(Name="lock-trail", S3BucketName=bucket)
    ct.put_event_selectors(TrailName="lock-trail", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{bucket}/data/"]}]}])
    ct.start_logging(Name="lock-trail")
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    s3.put_object(Bucket=bucket, Key="data/x", Body=b"x")
    s3.put_object_retention(Bucket=bucket, Key="data/x",
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until(3600)})
    s3.get_object_retention(Bucket=bucket, Key="data/x")
    s3.put_object_legal_hold(Bucket=bucket, Key="data/x", LegalHold={"Status": "ON"})
    s3.get_object_legal_hold(Bucket=bucket, Key="data/x")
    wanted = {"PutObjectLockConfiguration", "PutObjectRetention", "GetObjectRetention",
              "PutObjectLegalHold", "GetObjectLegalHold"}

    def records():
        out = {}
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="AWSLogs"):
            for v in page.get("Versions", []):
                if "/CloudTrail/" not in v["Key"]:
                    continue
                body = s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
                for r in json.loads(gzip.decompress(body))["Records"]:
                    if r["eventName"] in wanted:
                        out[r["eventName"]] = r
        return out if set(out) == wanted else None

    recs = wait_for(records, timeout=20)
    assert recs, "lock calls not delivered"
    assert recs["PutObjectLockConfiguration"]["managementEvent"] is True
    assert recs["PutObjectLockConfiguration"]["requestParameters"]["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
    for name in wanted - {"PutObjectLockConfiguration"}:
        r = recs[name]
        assert (r["managementEvent"], r["eventCategory"]) == (False, "Data"), name
        assert r["readOnly"] is name.startswith("Get")
        assert {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/data/x"} in r["resources"]
    assert recs["PutObjectRetention"]["requestParameters"]["Retention"]["Mode"] == "GOVERNANCE"

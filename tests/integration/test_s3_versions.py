"""S3 versioning: version ids, delete markers, ListObjectVersions, version-level authorization,
and CloudTrail's own log files in a versioned bucket."""

import json
import os
import re

import botocore.exceptions
import pytest

from conftest import MANAGEMENT, Server
from test_delivery import BUCKET as LOG_BUCKET, logging_trail, wait_for

VID = re.compile(r"[A-Za-z0-9_-]{32}")


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def versioned(fresh, name="vbk"):
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3


def test_bucket_versioning_configuration(fresh):
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="vbk", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    got = s3.get_bucket_versioning(Bucket="vbk")
    assert "Status" not in got and "MFADelete" not in got
    s3.put_bucket_versioning(Bucket="vbk", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="vbk")["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket="vbk", VersioningConfiguration={"Status": "Suspended", "MFADelete": "Disabled"})
    got = s3.get_bucket_versioning(Bucket="vbk")
    assert (got["Status"], got["MFADelete"]) == ("Suspended", "Disabled")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_versioning(Bucket="vbk", VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                                 MFA="arn:aws:iam::111111111111:mfa/x 123456")
    assert err(e) == ("AccessDenied", 403)
    assert s3.get_bucket_versioning(Bucket="vbk")["Status"] == "Suspended"
    _, out, _ = fresh.cli("s3api", "get-bucket-versioning", "--bucket", "vbk")
    assert json.loads(out) == {"Status": "Suspended", "MFADelete": "Disabled"}


def test_never_versioned_bucket_has_no_version_headers(fresh):
    s3 = fresh.client("s3")
    s3.create_bucket(Bucket="plain", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    put = s3.put_object(Bucket="plain", Key="k", Body=b"1")
    assert "VersionId" not in put
    assert "VersionId" not in s3.get_object(Bucket="plain", Key="k")
    assert s3.get_object(Bucket="plain", Key="k", VersionId="null")["Body"].read() == b"1"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="plain", Key="k", VersionId="0" * 32)
    assert err(e) == ("NoSuchVersion", 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="plain", Key="k", VersionId="bad")
    assert err(e) == ("InvalidArgument", 400)
    v = s3.list_object_versions(Bucket="plain")["Versions"]
    assert [(x["Key"], x["VersionId"], x["IsLatest"]) for x in v] == [("k", "null", True)]
    d = s3.delete_object(Bucket="plain", Key="k")
    assert "DeleteMarker" not in d and "VersionId" not in d
    assert "Versions" not in s3.list_object_versions(Bucket="plain")


def test_versions_and_delete_markers(fresh):
    s3 = versioned(fresh)
    v1 = s3.put_object(Bucket="vbk", Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="vbk", Key="k", Body=b"two")["VersionId"]
    assert VID.fullmatch(v1) and VID.fullmatch(v2) and v1 != v2
    got = s3.get_object(Bucket="vbk", Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"two", v2)
    old = s3.get_object(Bucket="vbk", Key="k", VersionId=v1)
    assert (old["Body"].read(), old["VersionId"]) == (b"one", v1)
    assert s3.head_object(Bucket="vbk", Key="k", VersionId=v1)["ContentLength"] == 3

    d = s3.delete_object(Bucket="vbk", Key="k")
    assert d["DeleteMarker"] is True and VID.fullmatch(d["VersionId"])
    marker = d["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="vbk", Key="k")
    assert err(e) == ("NoSuchKey", 404)
    h = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert h["x-amz-delete-marker"] == "true" and h["x-amz-version-id"] == marker
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="vbk", Key="k", VersionId=marker)
    assert err(e) == ("MethodNotAllowed", 405)
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="vbk", Key="k")
    assert err(e) == ("404", 404)
    # The noncurrent bodies stay.
    assert s3.get_object(Bucket="vbk", Key="k", VersionId=v2)["Body"].read() == b"two"
    assert s3.list_objects_v2(Bucket="vbk")["KeyCount"] == 0

    listed = s3.list_object_versions(Bucket="vbk")
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(v2, False), (v1, False)]
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [("k", marker, True)]
    assert listed["Versions"][0]["ETag"] == '"%s"' % __import__("hashlib").md5(b"two").hexdigest()

    # Removing the marker brings v2 back.
    d = s3.delete_object(Bucket="vbk", Key="k", VersionId=marker)
    assert d["DeleteMarker"] is True and d["VersionId"] == marker
    assert s3.get_object(Bucket="vbk", Key="k")["VersionId"] == v2
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="vbk")["Contents"]] == ["k"]
    # Deleting the current version for good makes v1 current.
    d = s3.delete_object(Bucket="vbk", Key="k", VersionId=v2)
    assert d["VersionId"] == v2 and "DeleteMarker" not in d
    got = s3.get_object(Bucket="vbk", Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"one", v1)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="vbk", Key="k", VersionId=v2)
    assert err(e) == ("NoSuchVersion", 404)
    # A bucket with versions left is not empty.
    s3.delete_object(Bucket="vbk", Key="k")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket="vbk")
    assert err(e) == ("BucketNotEmpty", 409)


def test_suspended_writes_the_null_version(fresh):
    s3 = versioned(fresh)
    v1 = s3.put_object(Bucket="vbk", Key="k", Body=b"one")["VersionId"]
    s3.put_bucket_versioning(Bucket="vbk", VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket="vbk", Key="k", Body=b"two")["VersionId"] == "null"
    assert s3.put_object(Bucket="vbk", Key="k", Body=b"three")["VersionId"] == "null"
    got = s3.get_object(Bucket="vbk", Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"three", "null")
    vs = s3.list_object_versions(Bucket="vbk")["Versions"]
    assert [(v["VersionId"], v["IsLatest"], v["Size"]) for v in vs] == [("null", True, 5), (v1, False, 3)]
    d = s3.delete_object(Bucket="vbk", Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    lv = s3.list_object_versions(Bucket="vbk")
    assert [v["VersionId"] for v in lv["Versions"]] == [v1]
    assert [(m["VersionId"], m["IsLatest"]) for m in lv["DeleteMarkers"]] == [("null", True)]


def test_copy_multipart_tagging_acl_by_version(fresh):
    s3 = versioned(fresh)
    v1 = s3.put_object(Bucket="vbk", Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket="vbk", Key="src", Body=b"second")
    c = s3.copy_object(Bucket="vbk", Key="dst", CopySource={"Bucket": "vbk", "Key": "src", "VersionId": v1})
    assert c["CopySourceVersionId"] == v1 and VID.fullmatch(c["VersionId"])
    assert s3.get_object(Bucket="vbk", Key="dst")["Body"].read() == b"first"
    up = s3.create_multipart_upload(Bucket="vbk", Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket="vbk", Key="mp", UploadId=up, PartNumber=1, Body=b"x")["ETag"]
    done = s3.complete_multipart_upload(Bucket="vbk", Key="mp", UploadId=up,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert VID.fullmatch(done["VersionId"])
    assert s3.head_object(Bucket="vbk", Key="mp")["VersionId"] == done["VersionId"]
    t = s3.put_object_tagging(Bucket="vbk", Key="src", VersionId=v1, Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    assert t["VersionId"] == v1
    assert s3.get_object_tagging(Bucket="vbk", Key="src", VersionId=v1)["TagSet"] == [{"Key": "a", "Value": "1"}]
    assert s3.get_object_tagging(Bucket="vbk", Key="src")["TagSet"] == []
    acl = s3.get_object_acl(Bucket="vbk", Key="src", VersionId=v1)
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL"


def test_list_object_versions_paging_prefix_delimiter(fresh):
    s3 = versioned(fresh)
    ids = {}
    for key in ["a", "b", "dir/x", "dir/y", "c+d"]:
        ids[key] = [s3.put_object(Bucket="vbk", Key=key, Body=key.encode() * n)["VersionId"] for n in (1, 2)]
    marker = s3.delete_object(Bucket="vbk", Key="b")["VersionId"]
    expected = [("a", ids["a"][1]), ("a", ids["a"][0]), ("b", marker), ("b", ids["b"][1]), ("b", ids["b"][0]),
                ("c+d", ids["c+d"][1]), ("c+d", ids["c+d"][0]), ("dir/x", ids["dir/x"][1]),
                ("dir/x", ids["dir/x"][0]), ("dir/y", ids["dir/y"][1]), ("dir/y", ids["dir/y"][0])]
    seen, kw, pages = [], {}, 0
    while True:
        page = s3.list_object_versions(Bucket="vbk", MaxKeys=3, **kw)
        pages += 1
        assert page["MaxKeys"] == 3
        entries = [(v["Key"], v["VersionId"], v["LastModified"]) for v in page.get("Versions", [])]
        entries += [(m["Key"], m["VersionId"], m["LastModified"]) for m in page.get("DeleteMarkers", [])]
        # Interleaved in key order then newest first: order by the expected position.
        entries.sort(key=lambda e: expected.index((e[0], e[1])))
        seen += [(k, v) for k, v, _ in entries]
        if not page["IsTruncated"]:
            assert "NextKeyMarker" not in page
            break
        assert page["NextKeyMarker"] == seen[-1][0] and page["NextVersionIdMarker"] == seen[-1][1]
        kw = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert seen == expected and pages == 4
    latest = s3.list_object_versions(Bucket="vbk", KeyMarker="a", VersionIdMarker=ids["a"][1])
    assert [(v["Key"], v["IsLatest"]) for v in latest["Versions"]][:1] == [("a", False)]
    assert [(m["Key"], m["IsLatest"]) for m in latest["DeleteMarkers"]] == [("b", True)]
    # Key marker alone: after every version of that key.
    after = s3.list_object_versions(Bucket="vbk", KeyMarker="b")
    assert {v["Key"] for v in after["Versions"]} == {"c+d", "dir/x", "dir/y"}
    d = s3.list_object_versions(Bucket="vbk", Delimiter="/", Prefix="")
    assert [p["Prefix"] for p in d["CommonPrefixes"]] == ["dir/"]
    assert {v["Key"] for v in d["Versions"]} == {"a", "b", "c+d"}
    p = s3.list_object_versions(Bucket="vbk", Prefix="dir/", Delimiter="/")
    assert [(v["Key"], v["IsLatest"]) for v in p["Versions"]] == [
        ("dir/x", True), ("dir/x", False), ("dir/y", True), ("dir/y", False)]
    # The CLI url-encodes on the wire and decodes for the user.
    _, out, _ = fresh.cli("s3api", "list-object-versions", "--bucket", "vbk", "--prefix", "c+")
    assert [v["Key"] for v in json.loads(out)["Versions"]] == ["c+d", "c+d"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_object_versions(Bucket="vbk", VersionIdMarker=ids["a"][0])
    assert err(e) == ("InvalidArgument", 400)
    # Listings show only current, non-deleted versions.
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="vbk")["Contents"]] == ["a", "c+d", "dir/x", "dir/y"]
    assert [o["Key"] for o in s3.list_objects(Bucket="vbk")["Contents"]] == ["a", "c+d", "dir/x", "dir/y"]


def test_delete_objects_with_versions(fresh):
    s3 = versioned(fresh)
    v1 = s3.put_object(Bucket="vbk", Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket="vbk", Key="b", Body=b"1")
    out = s3.delete_objects(Bucket="vbk", Delete={"Objects": [{"Key": "a", "VersionId": v1}, {"Key": "b"},
                                                             {"Key": "c", "VersionId": "bad"}]})
    deleted = {d["Key"]: d for d in out["Deleted"]}
    assert deleted["a"]["VersionId"] == v1 and "DeleteMarker" not in deleted["a"]
    assert deleted["b"]["DeleteMarker"] is True and VID.fullmatch(deleted["b"]["DeleteMarkerVersionId"])
    assert [(e["Key"], e["VersionId"], e["Code"]) for e in out["Errors"]] == [("c", "bad", "InvalidArgument")]
    lv = s3.list_object_versions(Bucket="vbk")
    assert "Versions" in lv and [v["Key"] for v in lv["Versions"]] == ["b"]
    assert [m["VersionId"] for m in lv["DeleteMarkers"]] == [deleted["b"]["DeleteMarkerVersionId"]]
    # Removing the marker through DeleteObjects answers DeleteMarker too.
    out = s3.delete_objects(Bucket="vbk", Delete={"Objects": [
        {"Key": "b", "VersionId": deleted["b"]["DeleteMarkerVersionId"]}]})
    assert out["Deleted"][0]["DeleteMarker"] is True
    assert s3.get_object(Bucket="vbk", Key="b")["Body"].read() == b"1"


def test_version_actions_are_authorized_separately(fresh):
    s3 = versioned(fresh)
    v1 = s3.put_object(Bucket="vbk", Key="k", Body=b"1")["VersionId"]
    iam = fresh.client("iam")
    iam.create_user(UserName="reader")
    iam.put_user_policy(UserName="reader", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "s3:DeleteObject"],
                       "Resource": ["arn:aws:s3:::vbk", "arn:aws:s3:::vbk/*"]}]}))
    k = iam.create_access_key(UserName="reader")["AccessKey"]
    user = fresh.client("s3", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    assert user.get_object(Bucket="vbk", Key="k")["Body"].read() == b"1"
    for call in (lambda: user.get_object(Bucket="vbk", Key="k", VersionId=v1),
                 lambda: user.list_object_versions(Bucket="vbk"),
                 lambda: user.delete_object(Bucket="vbk", Key="k", VersionId=v1),
                 lambda: user.get_object_acl(Bucket="vbk", Key="k", VersionId=v1)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert err(e) == ("AccessDenied", 403)
    # s3:DeleteObject is enough to add a delete marker.
    assert user.delete_object(Bucket="vbk", Key="k")["DeleteMarker"] is True
    assert s3.get_object(Bucket="vbk", Key="k", VersionId=v1)["Body"].read() == b"1"


def test_delivered_log_files_get_versions(tmpdir_path):
    s = Server(os.path.join(tmpdir_path, "data"), ["--delivery-interval", "300ms"]).start()
    try:
        s3 = s.client("s3")
        ct, s3, arn = logging_trail(s)
        s3.put_bucket_versioning(Bucket=LOG_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        rid = s.client("sts").get_caller_identity()["ResponseMetadata"]["RequestId"]

        def versions():
            out = []
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=LOG_BUCKET):
                out += page.get("Versions", [])
            return out

        def has_rid():
            import gzip
            for v in versions():
                body = s3.get_object(Bucket=LOG_BUCKET, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
                if any(r["requestID"] == rid for r in json.loads(gzip.decompress(body))["Records"]):
                    return v
            return None

        v = wait_for(has_rid)
        assert v and VID.fullmatch(v["VersionId"]) and v["IsLatest"] is True
        assert s3.head_object(Bucket=LOG_BUCKET, Key=v["Key"])["VersionId"] == v["VersionId"]
        assert v["Key"].startswith(f"AWSLogs/{MANAGEMENT}/CloudTrail/us-east-2/")
    finally:
        s.stop()

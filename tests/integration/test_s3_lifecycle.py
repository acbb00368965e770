"""S3 Lifecycle applied: the worker runs every --delivery-interval on Cairn's clock, so the test
clock makes days pass. Each test advances the clock and asserts exactly which keys, versions
and uploads remain."""

import contextlib
import datetime
import os
import time

import pytest
from botocore.exceptions import ClientError

from conftest import Server, shifted

DAY = 86400
LAST_BUCKET = "zzz-settle"


@pytest.fixture(scope="module")
def lc_server(tmp_path_factory):
    data = os.path.join(str(tmp_path_factory.mktemp("lifecycle")), "data")
    s = Server(data, ["--delivery-interval", "200ms"]).start()
    yield s
    s.stop()


class Env:
    def __init__(self, server, stack):
        self.server = server
        self.stack = stack
        self.s3 = server.client("s3")

    def advance(self, days):
        """Moves the server's clock on and signs what follows with the clock moved as well
        (shifted() nests: each one adds to the last)."""
        self.server.advance_clock(days * DAY)
        self.stack.enter_context(shifted(days * DAY))

    def settle(self):
        """Returns once a whole lifecycle pass ran after this call: the last bucket of a pass
        expires an object at once (a past Date), twice over, so the pass that removed the
        second one started after the first was gone."""
        if LAST_BUCKET not in [b["Name"] for b in self.s3.list_buckets()["Buckets"]]:
            make_bucket(self.s3, LAST_BUCKET)
            put_rules(self.s3, LAST_BUCKET, [{"ID": "now", "Filter": {}, "Status": "Enabled",
                                             "Expiration": {"Date": datetime.datetime(2000, 1, 1)}}])
        for _ in range(2):
            self.s3.put_object(Bucket=LAST_BUCKET, Key="tick", Body=b"t")
            assert until(lambda: keys(self.s3, LAST_BUCKET) == []), "no lifecycle pass ran"


@pytest.fixture
def lc(lc_server):
    lc_server.reset()
    with contextlib.ExitStack() as stack:
        yield Env(lc_server, stack)


def until(fn, timeout=10):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.1)


def make_bucket(s3, name, **kw):
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-east-2"}, **kw)
    return name


def versioned(s3, name):
    make_bucket(s3, name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def put_rules(s3, bucket, rules):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})


def keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def versions(s3, bucket):
    """{key: [(version id, is delete marker, is latest)]}, each key's versions newest first."""
    r = s3.list_object_versions(Bucket=bucket)
    rows = [(v["Key"], v["LastModified"], v["VersionId"], False, v["IsLatest"]) for v in r.get("Versions", [])]
    rows += [(m["Key"], m["LastModified"], m["VersionId"], True, m["IsLatest"]) for m in r.get("DeleteMarkers", [])]
    out = {}
    for key, _, vid, marker, latest in sorted(rows, key=lambda x: (x[0], not x[4])):
        out.setdefault(key, []).append((vid, marker, latest))
    return out


def put(s3, bucket, key, body=b"x", **kw):
    return s3.put_object(Bucket=bucket, Key=key, Body=body, **kw).get("VersionId")


def bodies(server):
    """How many object bodies the blob store holds (files under objects/, temporaries aside)."""
    root = os.path.join(server.data_dir, "objects")
    return sum(len(files) for d, _, files in os.walk(root) if os.path.relpath(d, root).split(os.sep)[0] != "tmp")


def err(fn):
    with pytest.raises(ClientError) as e:
        fn()
    return e.value.response["Error"]["Code"]


def test_expiration_in_an_unversioned_bucket(lc):
    s3 = lc.s3
    b = make_bucket(s3, "plain")
    for k in ["logs/a", "logs/b", "keep/c", "legacy/z"]:
        put(s3, b, k)
    put(s3, b, "tmp/x", Tagging="class=scratch")
    put(s3, b, "tmp/y", Tagging="class=keep")
    put(s3, b, "big/large", body=b"L" * 100)
    put(s3, b, "big/small", body=b"s" * 5)
    put_rules(s3, b, [
        {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "scratch", "Filter": {"Tag": {"Key": "class", "Value": "scratch"}}, "Status": "Enabled",
         "Expiration": {"Days": 1}},
        {"ID": "big", "Filter": {"And": {"Prefix": "big/", "ObjectSizeGreaterThan": 10}}, "Status": "Enabled",
         "Expiration": {"Days": 1}},
        {"ID": "legacy", "Prefix": "legacy/", "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "later", "Filter": {"Prefix": "keep/"}, "Status": "Enabled", "Expiration": {"Days": 30},
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]},
    ])
    everything = sorted(["logs/a", "logs/b", "keep/c", "legacy/z", "tmp/x", "tmp/y", "big/large", "big/small"])
    assert bodies(lc.server) == len(everything)
    # One day on, nothing is due yet: S3 rounds creation + 1 day up to the next midnight UTC.
    lc.advance(1)
    lc.settle()
    assert keys(s3, b) == everything
    lc.advance(1)
    expected = ["big/small", "keep/c", "tmp/y"]
    assert until(lambda: keys(s3, b) == expected), keys(s3, b)
    lc.settle()
    assert keys(s3, b) == expected
    # The expired objects' bodies are removed after the commit.
    assert until(lambda: bodies(lc.server) == len(expected)), bodies(lc.server)
    # Transitions are not applied: the object keeps its storage class.
    assert s3.head_object(Bucket=b, Key="keep/c").get("StorageClass", "STANDARD") == "STANDARD"
    assert err(lambda: s3.get_object(Bucket=b, Key="logs/a")) == "NoSuchKey"


def test_versioned_expiration_puts_a_delete_marker(lc):
    s3 = lc.s3
    b = versioned(s3, "vers")
    v1 = put(s3, b, "k", b"1")
    v2 = put(s3, b, "k", b"2")
    # A delete marker whose versions are all gone is removed by Expiration Days too, once old
    # enough.
    l1 = put(s3, b, "lone")
    s3.delete_object(Bucket=b, Key="lone")
    s3.delete_object(Bucket=b, Key="lone", VersionId=l1)
    put_rules(s3, b, [{"ID": "expire", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}])
    lc.advance(2)
    got = until(lambda: (lambda v: v if "lone" not in v and len(v.get("k", [])) == 3 else None)(versions(s3, b)))
    assert got, versions(s3, b)
    marker, *rest = got["k"]
    assert marker[1:] == (True, True)
    assert rest == [(v2, False, False), (v1, False, False)]
    lc.settle()
    assert versions(s3, b) == got, "nothing more happens: the current version is a delete marker"
    assert keys(s3, b) == []
    assert s3.get_object(Bucket=b, Key="k", VersionId=v2)["Body"].read() == b"2"


def test_suspended_expiration_replaces_the_null_version(lc):
    s3 = lc.s3
    b = versioned(s3, "susp")
    va = put(s3, b, "k", b"a")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    assert put(s3, b, "k", b"null") == "null"
    put_rules(s3, b, [{"ID": "expire", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}])
    lc.advance(2)
    want = {"k": [("null", True, True), (va, False, False)]}
    assert until(lambda: versions(s3, b) == want), versions(s3, b)


def test_noncurrent_expiration_keeps_newer_versions_and_counts_from_the_successor(lc):
    s3 = lc.s3
    b = versioned(s3, "nonc")
    ids = [put(s3, b, "keep1/obj", str(i).encode()) for i in range(4)]
    s1 = put(s3, b, "succ/obj", b"first")
    put_rules(s3, b, [
        {"ID": "keep-one", "Filter": {"Prefix": "keep1/"}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}},
        {"ID": "succ", "Filter": {"Prefix": "succ/"}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    ])
    lc.advance(1)
    # succ/obj's first version becomes noncurrent only now.
    s2 = put(s3, b, "succ/obj", b"second")
    lc.settle()
    assert len(versions(s3, b)["keep1/obj"]) == 4
    lc.advance(1)
    keep = [(ids[3], False, True), (ids[2], False, False)]
    assert until(lambda: versions(s3, b)["keep1/obj"] == keep), versions(s3, b)
    lc.settle()
    assert versions(s3, b) == {"keep1/obj": keep, "succ/obj": [(s2, False, True), (s1, False, False)]}
    lc.advance(1)
    assert until(lambda: versions(s3, b)["succ/obj"] == [(s2, False, True)]), versions(s3, b)
    lc.settle()
    assert versions(s3, b) == {"keep1/obj": keep, "succ/obj": [(s2, False, True)]}


def test_expired_object_delete_marker(lc):
    s3 = lc.s3
    b = versioned(s3, "markers")
    va = put(s3, b, "a")
    s3.delete_object(Bucket=b, Key="a")
    s3.delete_object(Bucket=b, Key="a", VersionId=va)
    vb = put(s3, b, "b")
    mb = s3.delete_object(Bucket=b, Key="b")["VersionId"]
    assert list(versions(s3, b)) == ["a", "b"]
    put_rules(s3, b, [{"ID": "markers", "Filter": {"Prefix": ""}, "Status": "Enabled",
                       "Expiration": {"ExpiredObjectDeleteMarker": True}}])
    # No age is needed: the lone marker goes at the next pass; b's marker has a version under it.
    assert until(lambda: "a" not in versions(s3, b)), versions(s3, b)
    lc.settle()
    assert versions(s3, b) == {"b": [(mb, True, True), (vb, False, False)]}


def test_incomplete_multipart_uploads_are_aborted(lc):
    s3 = lc.s3
    b = make_bucket(s3, "mpu")
    u1 = s3.create_multipart_upload(Bucket=b, Key="up/big")["UploadId"]
    s3.upload_part(Bucket=b, Key="up/big", UploadId=u1, PartNumber=1, Body=b"p" * 10)
    u2 = s3.create_multipart_upload(Bucket=b, Key="other/big")["UploadId"]
    put_rules(s3, b, [{"ID": "abort", "Filter": {"Prefix": "up/"}, "Status": "Enabled",
                       "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}])

    def uploads():
        return sorted((u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", []))

    lc.advance(1)
    lc.settle()
    assert uploads() == sorted([("up/big", u1), ("other/big", u2)])
    lc.advance(1)
    assert until(lambda: uploads() == [("other/big", u2)]), uploads()
    assert err(lambda: s3.list_parts(Bucket=b, Key="up/big", UploadId=u1)) == "NoSuchUpload"
    s3.upload_part(Bucket=b, Key="other/big", UploadId=u2, PartNumber=1, Body=b"still here")


def test_disabled_or_deleted_rules_do_nothing(lc):
    s3 = lc.s3
    d = make_bucket(s3, "disabled")
    g = versioned(s3, "gone")
    for k in ["a", "b"]:
        put(s3, d, k)
        put(s3, g, k)
        put(s3, g, k)
    s3.delete_object(Bucket=g, Key="b")
    put_rules(s3, d, [{"ID": "off", "Filter": {}, "Status": "Disabled", "Expiration": {"Days": 1},
                       "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}])
    put_rules(s3, g, [{"ID": "all", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1},
                       "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}])
    s3.delete_bucket_lifecycle(Bucket=g)
    upload = s3.create_multipart_upload(Bucket=d, Key="up")["UploadId"]
    before = versions(s3, g)
    lc.advance(5)
    lc.settle()
    assert keys(s3, d) == ["a", "b"]
    assert versions(s3, g) == before
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=d)["Uploads"]] == [upload]


def test_object_lock_keeps_locked_versions(lc):
    s3 = lc.s3
    b = make_bucket(s3, "locked", ObjectLockEnabledForBucket=True)
    held = put(s3, b, "k", b"1", ObjectLockLegalHoldStatus="ON")
    retained = put(s3, b, "k", b"2", ObjectLockMode="GOVERNANCE",
                   ObjectLockRetainUntilDate=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30))
    f1 = put(s3, b, "free", b"1")
    f2 = put(s3, b, "free", b"2")
    put_rules(s3, b, [{"ID": "all", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1},
                       "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}])
    lc.advance(3)

    def settled():
        v = versions(s3, b)
        return v if len(v["free"]) == 2 and v["k"][0][1] else None

    got = until(settled)
    assert got, versions(s3, b)
    lc.settle()
    got = versions(s3, b)
    # The expired current versions got delete markers, the locked one too; the noncurrent free
    # version went, the locked noncurrent one stays.
    assert [x[1:] for x in got["free"]] == [(True, True), (False, False)]
    assert got["free"][1][0] == f2
    assert f1 not in [x[0] for x in got["free"]]
    assert [x[1:] for x in got["k"]] == [(True, True), (False, False), (False, False)]
    assert [x[0] for x in got["k"][1:]] == [retained, held]
    assert s3.get_object(Bucket=b, Key="k", VersionId=held)["Body"].read() == b"1"

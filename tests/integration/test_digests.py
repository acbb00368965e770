"""Log file integrity validation: validated trails deliver signed, chained digest files that the
stock `aws cloudtrail validate-logs` verifies, and that catch altered and deleted log files."""

import datetime
import gzip
import json
import os
import re
import time

import pytest

from conftest import MANAGEMENT, Server
from test_delivery import BUCKET, policy

REGION = "us-east-2"
NAME = "validated"
ARN = f"arn:aws:cloudtrail:{REGION}:{MANAGEMENT}:trail/{NAME}"
DIGEST_RE = re.compile(
    rf"AWSLogs/{MANAGEMENT}/CloudTrail-Digest/{REGION}/\d{{4}}/\d\d/\d\d/"
    rf"{MANAGEMENT}_CloudTrail-Digest_{REGION}_{NAME}_{REGION}_\d{{8}}T\d{{6}}Z\.json\.gz"
)


@pytest.fixture
def quick(tmpdir_path):
    s = Server(
        os.path.join(tmpdir_path, "data"), ["--delivery-interval", "300ms", "--digest-interval", "2s"]
    ).start()
    yield s
    s.stop()


def keys(s3, prefix):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def digests(s3):
    return [json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()))
            for k in keys(s3, f"AWSLogs/{MANAGEMENT}/CloudTrail-Digest/")]


def validated_trail(server):
    s3 = server.client("s3", region=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(BUCKET, ARN, [MANAGEMENT]))
    # The CLI, as a user would do it.
    server.cli("cloudtrail", "create-trail", "--name", NAME, "--s3-bucket-name", BUCKET,
               "--enable-log-file-validation", region=REGION)
    server.cli("cloudtrail", "start-logging", "--name", NAME, region=REGION)
    return s3


def wait_until(fn, timeout=30):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.3)


def validate(server, start):
    return server.cli("cloudtrail", "validate-logs", "--trail-arn", ARN, "--start-time", start,
                      "--verbose", region=REGION, check=False)


def run_calls_and_digests(server, s3):
    sts = server.client("sts", region=REGION)
    for _ in range(3):
        sts.get_caller_identity()
        time.sleep(0.5)
    # Wait until digests list log files, and one more digest closes the chain after them.
    logs = wait_until(lambda: [f for d in digests(s3) for f in d["logFiles"]])
    assert logs
    n = len(digests(s3))
    assert wait_until(lambda: len(digests(s3)) >= n + 1)
    # StopLogging ends the chain with a final digest; after it the bucket holds still.
    server.cli("cloudtrail", "stop-logging", "--name", NAME, region=REGION)
    seen = []

    def settled():
        seen.append(len(keys(s3, "")))
        return len(seen) > 12 and len(set(seen[-12:])) == 1

    assert wait_until(settled)
    return logs


def test_list_public_keys_is_pkcs1_der_with_md5_fingerprints(quick):
    ct = quick.client("cloudtrail", region=REGION)
    keys_ = ct.list_public_keys()["PublicKeyList"]
    assert len(keys_) == 1
    k = keys_[0]
    import base64
    import hashlib
    der = k["Value"]  # boto3 decodes the blob
    assert base64.b64encode(der).decode().startswith("MIIBCgKCAQEA")
    assert k["Fingerprint"] == hashlib.md5(der).hexdigest()
    assert k["ValidityStartTime"] < k["ValidityEndTime"]
    # The same key again; a range in the future still finds it; a reversed range is an error.
    now = datetime.datetime.now(datetime.timezone.utc)
    again = ct.list_public_keys(StartTime=now, EndTime=now + datetime.timedelta(hours=2))["PublicKeyList"]
    assert [x["Fingerprint"] for x in again] == [k["Fingerprint"]]
    assert ct.list_public_keys(StartTime=now + datetime.timedelta(days=400),
                               EndTime=now + datetime.timedelta(days=401))["PublicKeyList"] == []
    with pytest.raises(ct.exceptions.InvalidTimeRangeException):
        ct.list_public_keys(StartTime=now, EndTime=now - datetime.timedelta(hours=1))


def test_digests_are_chained_signed_and_validate(quick):
    start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    s3 = validated_trail(quick)
    run_calls_and_digests(quick, s3)
    ks = keys(s3, f"AWSLogs/{MANAGEMENT}/CloudTrail-Digest/")
    assert all(DIGEST_RE.fullmatch(k) for k in ks), ks
    ds = digests(s3)
    assert ds[0]["previousDigestSignature"] is None and ds[0]["previousDigestS3Object"] is None
    for prev, d in zip(ds, ds[1:]):
        assert d["digestStartTime"] == prev["digestEndTime"]
        assert d["previousDigestS3Object"] == prev["digestS3Object"]
    head = s3.head_object(Bucket=BUCKET, Key=ks[-1])
    assert head["Metadata"]["signature-algorithm"] == "SHA256withRSA"
    assert re.fullmatch(r"[0-9a-f]{512}", head["Metadata"]["signature"])
    assert ds[-1]["previousDigestSignature"] == s3.head_object(Bucket=BUCKET, Key=ks[-2])["Metadata"]["signature"]

    code, out, err = validate(quick, start)
    print(out, err)
    assert code == 0, out + err
    n_logs = len({f["s3Object"] for d in ds for f in d["logFiles"]})
    assert f"{len(ds)}/{len(ds)} digest files valid" in out
    assert f"{n_logs}/{n_logs} log files valid" in out
    assert out.count("\tvalid") >= len(ds) + n_logs
    assert "INVALID" not in out

    # An altered log file is reported, and only it.
    victim = ds[-2]["logFiles"][0]["s3Object"] if ds[-2]["logFiles"] else next(
        f["s3Object"] for d in ds for f in d["logFiles"])
    s3.put_object(Bucket=BUCKET, Key=victim, Body=gzip.compress(b'{"Records":[]}'))
    code, out, err = validate(quick, start)
    print(out, err)
    assert code == 1
    assert f"{len(ds)}/{len(ds)} digest files valid" in out
    assert f"{n_logs - 1}/{n_logs} log files valid, 1/{n_logs} log files INVALID" in out
    invalid = [line for line in err.splitlines() if "INVALID" in line]
    assert invalid == [f"Log file\ts3://{BUCKET}/{victim}\tINVALID: hash value doesn't match"], invalid


def test_deleted_log_file_and_altered_digest_are_reported(quick):
    start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    s3 = validated_trail(quick)
    run_calls_and_digests(quick, s3)
    ks = keys(s3, f"AWSLogs/{MANAGEMENT}/CloudTrail-Digest/")
    ds = digests(s3)
    # The StopLogging event's log file is in the final digest.
    final = [json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=f["s3Object"])["Body"].read()))
             for f in ds[-1]["logFiles"]]
    assert "StopLogging" in [r["eventName"] for f in final for r in f["Records"]]

    gone = next(f["s3Object"] for d in ds for f in d["logFiles"])
    s3.delete_object(Bucket=BUCKET, Key=gone)
    code, out, err = validate(quick, start)
    assert code == 1, out + err
    invalid = [line for line in err.splitlines() if "INVALID" in line]
    assert invalid == [f"Log file\ts3://{BUCKET}/{gone}\tINVALID: not found"], invalid

    # A digest rewritten with other content under its own signature no longer verifies.
    victim = ks[-1]
    head = s3.head_object(Bucket=BUCKET, Key=victim)
    body = json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=victim)["Body"].read()))
    body["logFiles"] = []
    s3.put_object(Bucket=BUCKET, Key=victim, Body=gzip.compress(json.dumps(body).encode()),
                  Metadata=head["Metadata"])
    code, out, err = validate(quick, start)
    assert code == 1, out + err
    assert f"Digest file\ts3://{BUCKET}/{victim}\tINVALID: signature verification failed" in err, err

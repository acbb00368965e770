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


def digests(s3, prefix=f"AWSLogs/{MANAGEMENT}/CloudTrail-Digest/{REGION}/"):
    """The digests under `prefix`, oldest first (keys sort by their end time)."""
    return [json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()))
            for k in keys(s3, prefix)]


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
    settle(s3)
    return logs


def settle(s3):
    """Waits until the bucket holds still (final log files and digests delivered)."""
    seen = []

    def settled():
        seen.append(len(keys(s3, "")))
        return len(seen) > 12 and len(set(seen[-12:])) == 1

    assert wait_until(settled)


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


def digest_prefix(region=REGION, account=MANAGEMENT, org=None):
    return f"AWSLogs/{org + '/' if org else ''}{account}/CloudTrail-Digest/{region}/"


def logged(ds):
    return sorted({f["s3Object"] for d in ds for f in d["logFiles"]})


def assert_all_valid(out, err, code, n_digests, n_logs):
    assert code == 0, out + err
    assert "INVALID" not in out + err
    assert f"{n_digests}/{n_digests} digest files valid" in out, out
    if n_logs:
        assert f"{n_logs}/{n_logs} log files valid" in out, out
    else:
        assert "log files valid" not in out, out


def since(minutes=2):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# The regions every account has enabled by default: a multi-region trail digests each of them.
DEFAULT_REGIONS = {
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
    "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}


def test_multi_region_trail_digests_every_region_and_validates_from_another(quick):
    start = since()
    s3 = quick.client("s3", region=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(BUCKET, ARN, [MANAGEMENT]))
    quick.cli("cloudtrail", "create-trail", "--name", NAME, "--s3-bucket-name", BUCKET,
              "--is-multi-region-trail", "--enable-log-file-validation", region=REGION)
    quick.cli("cloudtrail", "start-logging", "--name", NAME, region=REGION)
    west = quick.client("cloudtrail", region="us-west-2")
    for _ in range(3):
        west.list_trails()
        time.sleep(0.5)
    assert wait_until(lambda: logged(digests(s3, digest_prefix("us-west-2"))))
    n = len(digests(s3, digest_prefix("us-west-2")))
    assert wait_until(lambda: len(digests(s3, digest_prefix("us-west-2"))) > n)
    quick.cli("cloudtrail", "stop-logging", "--name", NAME, region=REGION)
    settle(s3)

    # A chain per default region, empty ones included, each named for the trail's home region.
    regions = {k.split("/")[3] for k in keys(s3, f"AWSLogs/{MANAGEMENT}/CloudTrail-Digest/")}
    assert regions == DEFAULT_REGIONS
    quiet = digests(s3, digest_prefix("eu-west-1"))
    assert quiet and all(d["logFiles"] == [] and d["newestEventTime"] is None for d in quiet)
    assert quiet[0]["previousDigestSignature"] is None
    assert all(k.endswith(".json.gz") and f"_CloudTrail-Digest_eu-west-1_{NAME}_{REGION}_" in k
               for k in keys(s3, digest_prefix("eu-west-1")))
    # Each region signs with its own key, which ListPublicKeys lists in that region only.
    fingerprints = {r: {d["digestPublicKeyFingerprint"] for d in digests(s3, digest_prefix(r))}
                    for r in ("us-west-2", "eu-west-1")}
    listed = {f["Fingerprint"] for f in west.list_public_keys()["PublicKeyList"]}
    assert fingerprints["us-west-2"] == listed
    assert not fingerprints["eu-west-1"] & listed

    # validate-logs checks the region named by --region (the home region without it), with
    # the public keys ListPublicKeys gives in the CLI's region.
    for region in ("us-west-2", "eu-west-1", REGION):
        ds = digests(s3, digest_prefix(region))
        code, out, err = quick.cli("cloudtrail", "validate-logs", "--trail-arn", ARN, "--start-time", start,
                                   "--region", region, region=region, check=False)
        assert_all_valid(out, err, code, len(ds), len(logged(ds)))
    assert len(logged(digests(s3, digest_prefix("us-west-2")))) >= 1

    # Without --region the CLI checks the home region's digests, but asks for keys in its
    # configured region: as on AWS, none of them signed those digests.
    ds = digests(s3, digest_prefix(REGION))
    code, out, err = quick.cli("cloudtrail", "validate-logs", "--trail-arn", ARN, "--start-time", start,
                               region="us-west-2", check=False)
    assert code == 1
    home_key = ds[-1]["digestPublicKeyFingerprint"]
    assert (f"Digest file\ts3://{BUCKET}/{ds[-1]['digestS3Object']}\tINVALID: public key not found in region "
            f"{REGION} for fingerprint {home_key}") in err, err
    assert f"0/{len(ds)} digest files valid, {len(ds)}/{len(ds)} digest files INVALID" in out


def test_organization_trail_digests_member_accounts(quick):
    start = since()
    orgs = quick.client("organizations", region="us-east-1")
    org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    orgs.enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    car = orgs.create_account(Email="member@example.com", AccountName="Member")["CreateAccountStatus"]
    quick.advance_clock(2)
    member = orgs.describe_create_account_status(
        CreateAccountRequestId=car["Id"])["CreateAccountStatus"]["AccountId"]
    s3 = quick.client("s3", region=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(BUCKET, ARN, [MANAGEMENT, org_id]))
    quick.cli("cloudtrail", "create-trail", "--name", NAME, "--s3-bucket-name", BUCKET,
              "--is-organization-trail", "--enable-log-file-validation", region=REGION)
    quick.cli("cloudtrail", "start-logging", "--name", NAME, region=REGION)
    c = quick.client("sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                                        RoleSessionName="member")["Credentials"]
    as_member = dict(key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])
    sts = quick.client("sts", region=REGION, **as_member)
    for _ in range(3):
        sts.get_caller_identity()
        time.sleep(0.5)
    theirs = digest_prefix(account=member, org=org_id)
    assert wait_until(lambda: logged(digests(s3, theirs)))
    n = len(digests(s3, theirs))
    assert wait_until(lambda: len(digests(s3, theirs)) > n)
    quick.cli("cloudtrail", "stop-logging", "--name", NAME, region=REGION)
    settle(s3)

    # The member's chain lives under the organization's folder, named for the member account.
    ds = digests(s3, theirs)
    assert all(d["awsAccountId"] == member for d in ds)
    assert all(re.fullmatch(rf"{theirs}\d{{4}}/\d\d/\d\d/{member}_CloudTrail-Digest_{REGION}_{NAME}_{REGION}_"
                            rf"\d{{8}}T\d{{6}}Z\.json\.gz", k) for k in keys(s3, theirs))
    member_logs = logged(ds)
    assert member_logs and all(k.startswith(f"AWSLogs/{org_id}/{member}/CloudTrail/") for k in member_logs)
    assert keys(s3, f"AWSLogs/{MANAGEMENT}/") == []

    code, out, err = quick.cli("cloudtrail", "validate-logs", "--trail-arn", ARN, "--start-time", start,
                               "--account-id", member, "--verbose", region=REGION, check=False)
    assert_all_valid(out, err, code, len(ds), len(member_logs))
    for k in member_logs:
        assert f"Log file\ts3://{BUCKET}/{k}\tvalid" in out
    mine = digests(s3, digest_prefix(org=org_id))
    code, out, err = quick.cli("cloudtrail", "validate-logs", "--trail-arn", ARN, "--start-time", start,
                               "--account-id", MANAGEMENT, region=REGION, check=False)
    assert_all_valid(out, err, code, len(mine), len(logged(mine)))
    # An organization trail needs the account, as the CLI says.
    code, out, err = quick.cli("cloudtrail", "validate-logs", "--trail-arn", ARN, "--start-time", start,
                               region=REGION, check=False)
    assert code != 0 and "Missing required parameter for organization trail: '--account-id'" in err


def test_stopped_logging_leaves_a_gap_that_validate_logs_reports(quick):
    start = since()
    s3 = validated_trail(quick)
    run_calls_and_digests(quick, s3)
    first = digests(s3)
    quick.cli("cloudtrail", "start-logging", "--name", NAME, region=REGION)
    run_calls_and_digests(quick, s3)
    ds = digests(s3)
    second = ds[len(first):]
    # Nothing was digested while stopped; the new chain starts afresh where logging restarted.
    assert first == ds[:len(first)]
    assert second[0]["digestStartTime"] >= first[-1]["digestEndTime"]
    assert all(second[0][f] is None for f in (
        "previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue",
        "previousDigestHashAlgorithm", "previousDigestSignature"))
    assert [d["previousDigestS3Object"] for d in second[1:]] == [d["digestS3Object"] for d in second[:-1]]

    code, out, err = validate(quick, start)
    n_logs = len(logged(ds))
    assert_all_valid(out, "", code, len(ds), n_logs)
    # The CLI's report of the gap, on stderr, between the old chain's end and the new one's start.
    gap = (f"No log files were delivered by CloudTrail between {first[-1]['digestEndTime']} "
           f"and {second[0]['digestStartTime']}")
    assert [line for line in err.splitlines() if line] == [gap], err


def test_deleted_trail_delivers_a_final_digest(quick):
    start = since()
    s3 = validated_trail(quick)
    sts = quick.client("sts", region=REGION)
    sts.get_caller_identity()
    assert wait_until(lambda: logged(digests(s3)))
    quick.cli("cloudtrail", "delete-trail", "--name", NAME, region=REGION)
    settle(s3)
    ds = digests(s3)
    final = [json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=f["s3Object"])["Body"].read()))
             for f in ds[-1]["logFiles"]]
    assert "DeleteTrail" in [r["eventName"] for f in final for r in f["Records"]]
    # The trail is gone, so validate-logs is told where its files are.
    code, out, err = quick.cli("cloudtrail", "validate-logs", "--trail-arn", ARN, "--start-time", start,
                               "--s3-bucket", BUCKET, region=REGION, check=False)
    assert_all_valid(out, err, code, len(ds), len(logged(ds)))
    code, out, err = validate(quick, start)
    assert code == 255 and f"A trail could not be found for {ARN}" in err

    # A trail created again under the name starts a chain of its own.
    quick.cli("cloudtrail", "create-trail", "--name", NAME, "--s3-bucket-name", BUCKET,
              "--enable-log-file-validation", region=REGION)
    quick.cli("cloudtrail", "start-logging", "--name", NAME, region=REGION)
    assert wait_until(lambda: len(digests(s3)) > len(ds))
    assert digests(s3)[len(ds)]["previousDigestSignature"] is None


def test_rotated_keys_still_validate_older_digests(tmpdir_path):
    s = Server(os.path.join(tmpdir_path, "data"), ["--delivery-interval", "300ms", "--digest-interval", "1s",
                                                   "--signing-key-validity", "3s"]).start()
    try:
        start = since()
        s3 = validated_trail(s)
        sts = s.client("sts", region=REGION)

        def rotated():
            sts.get_caller_identity()
            return len({d["digestPublicKeyFingerprint"] for d in digests(s3)}) >= 3

        assert wait_until(rotated, timeout=40)
        s.cli("cloudtrail", "stop-logging", "--name", NAME, region=REGION)
        settle(s3)
        ds = digests(s3)
        used = [d["digestPublicKeyFingerprint"] for d in ds]
        ct = s.client("cloudtrail", region=REGION)
        now = datetime.datetime.now(datetime.timezone.utc)
        listed = ct.list_public_keys(StartTime=now - datetime.timedelta(minutes=5),
                                     EndTime=now + datetime.timedelta(hours=2))["PublicKeyList"]
        # Every key that signed a digest is listed with its own three-second window, in order.
        assert set(used) <= {k["Fingerprint"] for k in listed}
        windows = [(k["ValidityStartTime"], k["ValidityEndTime"]) for k in listed]
        assert all((end - begin).total_seconds() == 3 for begin, end in windows)
        assert windows == sorted(windows)
        assert all(a[1] <= b[0] for a, b in zip(windows, windows[1:]))
        # Without a range, only the key in force now (a fresh one: the last has expired).
        current = ct.list_public_keys()["PublicKeyList"]
        assert len(current) == 1 and current[0]["ValidityStartTime"] <= now + datetime.timedelta(seconds=5)

        code, out, err = validate(s, start)
        assert_all_valid(out, err, code, len(ds), len(logged(ds)))
    finally:
        s.stop()

#!/usr/bin/env python3
"""Named workloads for bench/load.sh, signed by botocore.

Each workload is a function that takes an endpoint URL (``http://127.0.0.1:PORT``) and returns
the SigV4-signed request an AWS SDK would send for one operation: method, path, headers and
body. The signature covers the host header, so a request is signed for one server, and it is
valid for five minutes, so load.sh signs right before each run.

Commands:
  list                                      the workload names, one a line
  validate OP[,OP...]                       exit 1 naming any unknown workload
  principals NAME[,NAME...]                 exit 1 naming any unknown principal
  principal --endpoint URL --name NAME --out FILE
                                            make the principal NAME on the running server at URL
                                            through its own API (as the admin) and write its keys
                                            to FILE; `heavy` is the user of bench/heavy.json
  sign --endpoint URL --op OP --out PREFIX [--principal-file FILE]
                                            write PREFIX.lua (read by replay.lua under wrk) and
                                            PREFIX.json (the same request, read by `check`),
                                            signed by the admin or by FILE's principal
  check PREFIX.json                         send that exact request once; exit 1 unless it is
                                            answered 200, printing the status and the body

To add a workload, write a function decorated with @workload("Name") that returns
capture(endpoint, "<service>", lambda client: client.<operation>(...)). See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"
HEAVY_SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "heavy.json")


@dataclass
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


ADMIN = Credentials(ACCESS_KEY, SECRET_KEY)
# Who signs the captured request, and who makes the state a workload needs (a bucket, a trail):
# the admin for both, unless `sign --principal-file` names another principal, whose state is then
# made by an administrator of its own account.
SIGNER = ADMIN
SETUP = ADMIN

# Headers that are not replayed verbatim: wrk computes Content-Length from the body itself, and
# neither wrk nor the check speaks Expect: 100-continue.
DROPPED_HEADERS = {"content-length", "expect"}


@dataclass
class SignedRequest:
    method: str
    path: str  # path and query string, exactly as signed
    headers: dict[str, str] = field(default_factory=dict)  # includes Host
    body: bytes = b""


WORKLOADS: dict[str, Callable[[str], SignedRequest]] = {}


def workload(name: str):
    """Registers a workload under the name used by `load.sh --ops`."""

    def register(fn: Callable[[str], SignedRequest]):
        if name in WORKLOADS:
            raise ValueError(f"duplicate workload {name}")
        WORKLOADS[name] = fn
        return fn

    return register


class _Captured(Exception):
    def __init__(self, request):
        super().__init__("captured")
        self.request = request


def make_client(endpoint: str, service: str, region: str = REGION, config=None, creds: Credentials | None = None):
    """A botocore client for `service` at `endpoint`, with `creds` or else those that make a
    workload's state (the default test credentials, unless another principal signs). It really
    sends: a workload that needs state (a bucket, an object) creates it with one of these before
    capturing its own request."""
    import botocore.session
    from botocore.config import Config

    creds = creds or SETUP
    base = Config(retries={"max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})
    return botocore.session.Session().create_client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
        config=base.merge(config) if config else base,
    )


def capture(endpoint: str, service: str, call, region: str = REGION, config=None) -> SignedRequest:
    """Runs `call(client)` on a botocore client for `service` at `endpoint` and returns the
    request it would have sent, signed by the signing principal, instead of sending it."""
    client = make_client(endpoint, service, region, config, creds=SIGNER)

    def stop(request, **_):
        raise _Captured(request)

    client.meta.events.register("before-send", stop)
    try:
        call(client)
    except _Captured as captured:
        return _from_prepared(captured.request)
    raise RuntimeError(f"{service}: the call sent no request")


def _from_prepared(prepared) -> SignedRequest:
    url = urlsplit(prepared.url)
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    body = prepared.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, (bytes, bytearray)):
        body = body.read()  # a file-like streaming body
        if isinstance(body, str):
            body = body.encode("utf-8")
    headers: dict[str, str] = {}
    # botocore signs the host as urllib3 will send it: the port is left out when it is the
    # scheme's default.
    default_port = {"http": 80, "https": 443}[url.scheme]
    headers["Host"] = url.hostname if url.port in (None, default_port) else f"{url.hostname}:{url.port}"
    for name, value in prepared.headers.items():
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        lower = name.lower()
        if lower in DROPPED_HEADERS or lower == "host":
            continue
        if lower == "transfer-encoding":
            raise RuntimeError("chunked request bodies cannot be replayed by wrk")
        headers[name] = value
    return SignedRequest(prepared.method, path, headers, bytes(body))


# ---------------------------------------------------------------------------------------------
# The workloads. Each returns one request that must be answered 200 every time it is replayed
# against a freshly started server; one that needs state creates it first with make_client().


@workload("GetCallerIdentity")
def get_caller_identity(endpoint: str) -> SignedRequest:
    # POST / with the form body Action=GetCallerIdentity&Version=2011-06-15.
    return capture(endpoint, "sts", lambda c: c.get_caller_identity())


def _organization(endpoint: str):
    """An Organizations client at `endpoint` for the admin, who manages an organization."""
    org = make_client(endpoint, "organizations", creds=ADMIN)
    try:
        org.create_organization(FeatureSet="ALL")
    except org.exceptions.AlreadyInOrganizationException:
        pass
    return org


@workload("DescribeOrganization")
def describe_organization(endpoint: str) -> SignedRequest:
    _organization(endpoint)
    return capture(endpoint, "organizations", lambda c: c.describe_organization())


ORG_ACCOUNTS = 100


@workload("ListAccounts")
def list_accounts(endpoint: str) -> SignedRequest:
    # An organization of 100 accounts (the management account and 99 created ones); the
    # request reads the first page of 20, as an SDK paginating through them does.
    import time

    org = _organization(endpoint)
    have = sum(len(p["Accounts"]) for p in org.get_paginator("list_accounts").paginate())
    for i in range(have, ORG_ACCOUNTS):
        org.create_account(Email=f"bench-{i}@example.com", AccountName=f"Bench {i}")
    deadline = time.monotonic() + 60
    while have < ORG_ACCOUNTS:  # CreateAccount completes asynchronously
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {have} of {ORG_ACCOUNTS} accounts after 60 s")
        time.sleep(0.2)
        have = sum(len(p["Accounts"]) for p in org.get_paginator("list_accounts").paginate())
    return capture(endpoint, "organizations", lambda c: c.list_accounts(MaxResults=20))


BENCH_BUCKET = "bench-bucket"
LIST_BUCKET = "bench-list-bucket"
LIST_KEYS = 10_000


def _bucket(client, name: str) -> None:
    """Creates `name` unless this account already has it."""
    try:
        client.head_bucket(Bucket=name)
    except Exception:
        client.create_bucket(Bucket=name)


@workload("PutObject1KiB")
def put_object_1kib(endpoint: str) -> SignedRequest:
    # PUT /bench-bucket/object-1k with a 1 KiB body and botocore's default CRC32 header; replays
    # overwrite the same key.
    _bucket(make_client(endpoint, "s3"), BENCH_BUCKET)
    return capture(endpoint, "s3", lambda c: c.put_object(Bucket=BENCH_BUCKET, Key="object-1k", Body=b"x" * 1024))


@workload("GetObject1KiB")
def get_object_1kib(endpoint: str) -> SignedRequest:
    # GET of a 1 KiB object (botocore adds x-amz-checksum-mode: ENABLED).
    client = make_client(endpoint, "s3")
    _bucket(client, BENCH_BUCKET)
    client.put_object(Bucket=BENCH_BUCKET, Key="object-1k-read", Body=b"r" * 1024)
    return capture(endpoint, "s3", lambda c: c.get_object(Bucket=BENCH_BUCKET, Key="object-1k-read"))


HARDENED_BUCKET = "bench-hardened"
ACCESS_LOG_BUCKET = "bench-access-logs"


def _hardened_bucket(endpoint: str):
    """A log bucket as the security guides set one up: versioned, encrypted by default (SSE-S3,
    put explicitly), and access-logged into a second bucket whose policy lets S3's logging in."""
    client = make_client(endpoint, "s3")
    _bucket(client, HARDENED_BUCKET)
    _bucket(client, ACCESS_LOG_BUCKET)
    client.put_bucket_versioning(Bucket=HARDENED_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    client.put_bucket_encryption(Bucket=HARDENED_BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    client.put_bucket_policy(Bucket=ACCESS_LOG_BUCKET, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                       "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{ACCESS_LOG_BUCKET}/*"}]}))
    client.put_bucket_logging(Bucket=HARDENED_BUCKET, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": ACCESS_LOG_BUCKET, "TargetPrefix": "access/"}})
    return client


@workload("PutObject1KiBHardened")
def put_object_1kib_hardened(endpoint: str) -> SignedRequest:
    # PutObject1KiB on a versioned, encrypted, access-logged bucket: every replay is a new version.
    _hardened_bucket(endpoint)
    return capture(endpoint, "s3", lambda c: c.put_object(Bucket=HARDENED_BUCKET, Key="object-1k", Body=b"x" * 1024))


@workload("GetObject1KiBHardened")
def get_object_1kib_hardened(endpoint: str) -> SignedRequest:
    # GetObject1KiB on the same kind of bucket.
    client = _hardened_bucket(endpoint)
    client.put_object(Bucket=HARDENED_BUCKET, Key="object-1k-read", Body=b"r" * 1024)
    return capture(endpoint, "s3", lambda c: c.get_object(Bucket=HARDENED_BUCKET, Key="object-1k-read"))


@workload("ListObjectsV2_10k")
def list_objects_v2_10k(endpoint: str) -> SignedRequest:
    # The first page (1000 keys, encoding-type=url) of a bucket holding 10,000 keys.
    from concurrent.futures import ThreadPoolExecutor

    client = make_client(endpoint, "s3")
    _bucket(client, LIST_BUCKET)
    have = client.list_objects_v2(Bucket=LIST_BUCKET, Prefix="logs/", MaxKeys=1, StartAfter=f"logs/{LIST_KEYS - 2:06d}")
    if have.get("KeyCount", 0) == 0:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: client.put_object(Bucket=LIST_BUCKET, Key=f"logs/{i:06d}", Body=b"l"), range(LIST_KEYS)))
    return capture(endpoint, "s3", lambda c: c.list_objects_v2(Bucket=LIST_BUCKET))


TRAIL = "bench-trail"


@workload("DescribeTrails")
def describe_trails(endpoint: str) -> SignedRequest:
    # POST / {} with X-Amz-Target CloudTrail_20131101.DescribeTrails: every trail of the caller's
    # account, which has one (made first, with the bucket and bucket policy it delivers to).
    ct = make_client(endpoint, "cloudtrail")
    if not ct.describe_trails(trailNameList=[TRAIL])["trailList"]:
        account = make_client(endpoint, "sts").get_caller_identity()["Account"]
        bucket = f"bench-trail-{account}"
        s3 = make_client(endpoint, "s3")
        _bucket(s3, bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(_trail_bucket_policy(bucket, account)))
        ct.create_trail(Name=TRAIL, S3BucketName=bucket)
    return capture(endpoint, "cloudtrail", lambda c: c.describe_trails())


def _trail_bucket_policy(bucket: str, account: str) -> dict:
    service = {"Service": "cloudtrail.amazonaws.com"}
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": service,
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": service,
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{account}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
    ]}


# ---------------------------------------------------------------------------------------------
# Principals other than the admin, made on the running server through its own API.

PRINCIPALS: dict[str, Callable[[str], dict]] = {}


def principal(name: str):
    """Registers a principal under the name used by `load.sh --principals`."""

    def register(fn: Callable[[str], dict]):
        PRINCIPALS[name] = fn
        return fn

    return register


def _document(statements, account: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}).replace("ACCOUNT_ID", account)


def _assume(endpoint: str, role_arn: str) -> Credentials:
    c = make_client(endpoint, "sts", creds=ADMIN).assume_role(RoleArn=role_arn, RoleSessionName="bench-setup")
    c = c["Credentials"]
    return Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


@principal("heavy")
def make_heavy(endpoint: str) -> dict:
    """bench/heavy.json's user: in a member account under an OU, with SCPs on root, OU and
    account (the SCP type enabled), 10 attached managed policies, 2 groups with policies of
    their own and a permissions boundary; made by the admin (Organizations) and by the member
    account's OrganizationAccountAccessRole (IAM), as a customer would."""
    spec = json.load(open(HEAVY_SPEC, encoding="utf-8"))
    org = make_client(endpoint, "organizations", creds=ADMIN)
    try:
        org.create_organization(FeatureSet="ALL")
    except org.exceptions.AlreadyInOrganizationException:
        pass
    root = org.list_roots()["Roots"][0]
    if {"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"} not in root["PolicyTypes"]:
        org.enable_policy_type(RootId=root["Id"], PolicyType="SERVICE_CONTROL_POLICY")
    request = org.create_account(Email=spec["account"]["email"], AccountName=spec["account"]["name"])
    request_id = request["CreateAccountStatus"]["Id"]
    deadline = time.monotonic() + 60
    while True:  # CreateAccount completes asynchronously
        status = org.describe_create_account_status(CreateAccountRequestId=request_id)["CreateAccountStatus"]
        if status["State"] == "SUCCEEDED":
            account = status["AccountId"]
            break
        if status["State"] != "IN_PROGRESS" or time.monotonic() > deadline:
            raise RuntimeError(f"account creation: {status}")
        time.sleep(0.2)
    ou = org.create_organizational_unit(ParentId=root["Id"], Name=spec["ou"])["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=account, SourceParentId=root["Id"], DestinationParentId=ou)
    targets = {"root": root["Id"], "ou": ou, "account": account}
    for scp in spec["scps"]:
        policy = org.create_policy(
            Name=scp["name"], Description=scp["name"], Type="SERVICE_CONTROL_POLICY",
            Content=_document(scp["statements"], account),
        )["Policy"]["PolicySummary"]["Id"]
        target = targets[scp["level"]]
        org.attach_policy(PolicyId=policy, TargetId=target)
        if scp.get("replaces_full_access"):
            org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=target)

    role_arn = f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
    iam = make_client(endpoint, "iam", creds=_assume(endpoint, role_arn))
    arn = lambda name: f"arn:aws:iam::{account}:policy/{name}"  # noqa: E731
    for p in spec["policies"]:
        iam.create_policy(PolicyName=p["name"], PolicyDocument=_document(p["statements"], account))
    u = spec["user"]
    iam.create_user(UserName=u["name"], Tags=[{"Key": k, "Value": v} for k, v in u["tags"].items()])
    for m in u["managed"]:
        iam.attach_user_policy(UserName=u["name"], PolicyArn=f"arn:aws:iam::aws:policy/{m}")
    for p in u["attached"]:
        iam.attach_user_policy(UserName=u["name"], PolicyArn=arn(p))
    iam.put_user_permissions_boundary(UserName=u["name"], PermissionsBoundary=arn(u["boundary"]))
    for g in spec["groups"]:
        iam.create_group(GroupName=g["name"])
        for name, statements in g["inline"].items():
            iam.put_group_policy(GroupName=g["name"], PolicyName=name, PolicyDocument=_document(statements, account))
        for p in g["attached"]:
            iam.attach_group_policy(GroupName=g["name"], PolicyArn=arn(p))
        iam.add_user_to_group(GroupName=g["name"], UserName=u["name"])
    key = iam.create_access_key(UserName=u["name"])["AccessKey"]
    return {
        "name": "heavy",
        "arn": f"arn:aws:iam::{account}:user/{u['name']}",
        "account": account,
        "access_key_id": key["AccessKeyId"],
        "secret_access_key": key["SecretAccessKey"],
        "setup_role_arn": role_arn,
    }


def use_principal(endpoint: str, path: str) -> str:
    """Signs with the principal `principal` wrote to `path` (its state made by its account's
    administrator role); returns its name."""
    global SIGNER, SETUP
    with open(path, encoding="utf-8") as f:
        p = json.load(f)
    SIGNER = Credentials(p["access_key_id"], p["secret_access_key"], p.get("session_token"))
    SETUP = _assume(endpoint, p["setup_role_arn"]) if p.get("setup_role_arn") else SIGNER
    return p["name"]


# ---------------------------------------------------------------------------------------------


def _lua_string(data: bytes) -> str:
    out = ['"']
    for byte in data:
        if byte in (0x22, 0x5C):  # " and backslash
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")  # Lua's decimal escape, always 3 digits
    out.append('"')
    return "".join(out)


def to_lua(req: SignedRequest) -> str:
    lines = ["-- written by bench/signed_request.py; read by bench/replay.lua", "return {"]
    lines.append(f"  method = {_lua_string(req.method.encode())},")
    lines.append(f"  path = {_lua_string(req.path.encode())},")
    lines.append("  headers = {")
    for name, value in req.headers.items():
        lines.append(f"    [{_lua_string(name.encode())}] = {_lua_string(value.encode('latin-1'))},")
    lines.append("  },")
    lines.append(f"  body = {_lua_string(req.body)},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(req: SignedRequest, endpoint: str, op: str, signer: str = "admin") -> dict:
    return {
        "op": op,
        "principal": signer,
        "endpoint": endpoint,
        "method": req.method,
        "path": req.path,
        "headers": req.headers,
        "body_base64": base64.b64encode(req.body).decode("ascii"),
    }


def check(path: str, timeout: float = 30.0) -> int:
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    url = urlsplit(spec["endpoint"])
    body = base64.b64decode(spec["body_base64"])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        conn.putrequest(spec["method"], spec["path"], skip_host=True, skip_accept_encoding=True)
        for name, value in spec["headers"].items():
            conn.putheader(name, value)
        if body or spec["method"] not in ("GET", "HEAD"):  # as replay.lua does
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        answer = resp.read()
    finally:
        conn.close()
    if resp.status != 200:
        sys.stderr.write(
            f"check: {spec['op']} by {spec.get('principal', 'admin')} at {spec['endpoint']} answered "
            f"{resp.status} {resp.reason}, "
            "not 200; body:\n"
        )
        sys.stderr.write(answer.decode("utf-8", "replace") + "\n")
        return 1
    print(f"check: {spec['op']} by {spec.get('principal', 'admin')} at {spec['endpoint']}: 200 ({len(answer)} bytes)")
    return 0


def unknown_ops(ops: list[str]) -> list[str]:
    return [op for op in ops if op not in WORKLOADS]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list")
    p_validate = sub.add_parser("validate")
    p_validate.add_argument("ops")
    p_sign = sub.add_parser("sign")
    p_sign.add_argument("--endpoint", required=True)
    p_sign.add_argument("--op", required=True)
    p_sign.add_argument("--out", required=True, help="output prefix: writes PREFIX.lua and PREFIX.json")
    p_sign.add_argument("--principal-file", help="sign as this principal (written by `principal`)")
    p_principals = sub.add_parser("principals")
    p_principals.add_argument("names")
    p_principal = sub.add_parser("principal")
    p_principal.add_argument("--endpoint", required=True)
    p_principal.add_argument("--name", required=True)
    p_principal.add_argument("--out", required=True)
    p_check = sub.add_parser("check")
    p_check.add_argument("request_json")
    args = parser.parse_args(argv)

    if args.cmd == "list":
        print("\n".join(WORKLOADS))
        return 0
    if args.cmd == "validate":
        ops = [op.strip() for op in args.ops.split(",") if op.strip()]
        if not ops:
            sys.stderr.write("no operations given\n")
            return 1
        bad = unknown_ops(ops)
        if bad:
            sys.stderr.write(
                f"unknown operation(s): {', '.join(bad)}; known: {', '.join(WORKLOADS)}\n"
            )
            return 1
        return 0
    if args.cmd == "principals":
        names = [n.strip() for n in args.names.split(",") if n.strip()]
        known = ["admin", *PRINCIPALS]
        bad = [n for n in names if n not in known]
        if not names or bad or len(set(names)) != len(names):
            sys.stderr.write(
                f"bad principal list '{args.names}' (unknown or repeated names); known: {', '.join(known)}\n"
            )
            return 1
        return 0
    if args.cmd == "principal":
        if args.name not in PRINCIPALS:
            sys.stderr.write(f"unknown principal {args.name}; known: {', '.join(PRINCIPALS)}\n")
            return 1
        made = PRINCIPALS[args.name](args.endpoint)
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(made, f, indent=2)
            f.write("\n")
        print(f"principal {args.name}: {made['arn']}")
        return 0
    if args.cmd == "sign":
        if args.op not in WORKLOADS:
            sys.stderr.write(f"unknown operation {args.op}; known: {', '.join(WORKLOADS)}\n")
            return 1
        signer = "admin"
        if args.principal_file:
            signer = use_principal(args.endpoint, args.principal_file)
        req = WORKLOADS[args.op](args.endpoint)
        with open(args.out + ".lua", "w", encoding="utf-8") as f:
            f.write(to_lua(req))
        with open(args.out + ".json", "w", encoding="utf-8") as f:
            json.dump(to_json(req, args.endpoint, args.op, signer), f, indent=2)
            f.write("\n")
        return 0
    if args.cmd == "check":
        return check(args.request_json)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

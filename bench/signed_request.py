#!/usr/bin/env python3
"""Named workloads for bench/load.sh, signed by botocore.

Each workload is a function that takes an endpoint URL (``http://127.0.0.1:PORT``) and returns
the SigV4-signed request an AWS SDK would send for one operation: method, path, headers and
body. The signature covers the host header, so a request is signed for one server, and it is
valid for five minutes, so load.sh signs right before each run.

Commands:
  list                                      the workload names, one a line
  validate OP[,OP...]                       exit 1 naming any unknown workload
  sign --endpoint URL --op OP --out PREFIX  write PREFIX.lua (read by replay.lua under wrk) and
                                            PREFIX.json (the same request, read by `check`)
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
import sys
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"

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


def make_client(endpoint: str, service: str, region: str = REGION, config=None):
    """A botocore client for `service` at `endpoint` with the default test credentials. It
    really sends: a workload that needs state (a bucket, an object) creates it with one of
    these before capturing its own request."""
    import botocore.session
    from botocore.config import Config

    base = Config(retries={"max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})
    return botocore.session.Session().create_client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=base.merge(config) if config else base,
    )


def capture(endpoint: str, service: str, call, region: str = REGION, config=None) -> SignedRequest:
    """Runs `call(client)` on a botocore client for `service` at `endpoint` and returns the
    request it would have sent, signed, instead of sending it."""
    client = make_client(endpoint, service, region, config)

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
    """An Organizations client at `endpoint` whose caller manages an organization."""
    org = make_client(endpoint, "organizations")
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


def to_json(req: SignedRequest, endpoint: str, op: str) -> dict:
    return {
        "op": op,
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
            f"check: {spec['op']} at {spec['endpoint']} answered {resp.status} {resp.reason}, "
            "not 200; body:\n"
        )
        sys.stderr.write(answer.decode("utf-8", "replace") + "\n")
        return 1
    print(f"check: {spec['op']} at {spec['endpoint']}: 200 ({len(answer)} bytes)")
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
    if args.cmd == "sign":
        if args.op not in WORKLOADS:
            sys.stderr.write(f"unknown operation {args.op}; known: {', '.join(WORKLOADS)}\n")
            return 1
        req = WORKLOADS[args.op](args.endpoint)
        with open(args.out + ".lua", "w", encoding="utf-8") as f:
            f.write(to_lua(req))
        with open(args.out + ".json", "w", encoding="utf-8") as f:
            json.dump(to_json(req, args.endpoint, args.op), f, indent=2)
            f.write("\n")
        return 0
    if args.cmd == "check":
        return check(args.request_json)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Event history at scale: fills a fresh Cairn's journal with N recorded calls (wrk replaying a
signed GetCallerIdentity), then measures LookupEvents latency and the data directory's size.

    bench/history.py [--events N] [--lookups K] [--cairn-bin PATH]

Prints the journal's size on disk per event and LookupEvents p50/p99 for: no attribute, the
newest page; EventName (a name with every event, and a rare one); Username; EventId.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def du(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--lookups", type=int, default=200)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ap.add_argument("--cairn-bin", default=os.path.join(target, "release", "cairn"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cairn-history-")
    env = dict(os.environ, CAIRN_LOG="warn")
    proc = subprocess.Popen([args.cairn_bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", f"{work}/data"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        endpoint = re.search(r"(http://\S+)", proc.stdout.readline().decode()).group(1)
        ct = boto3.client("cloudtrail", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
        sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        prefix = f"{work}/gci"
        filled = 0
        start = time.time()
        while filled < args.events:
            # A signature is good for 5 minutes: sign afresh for every round of load.
            subprocess.run([sys.executable, os.path.join(HERE, "signed_request.py"), "sign", "--endpoint", endpoint,
                            "--op", "GetCallerIdentity", "--out", prefix], check=True)
            wrk = subprocess.run(["wrk", "-t2", "-c16", "-d20s", "-s", os.path.join(HERE, "replay.lua"), endpoint,
                                  "--", prefix + ".lua"], capture_output=True, text=True)
            filled += int(re.search(r"(\d+) requests in", wrk.stdout).group(1))
            print(f"  {filled} events recorded ({time.time() - start:.0f} s)", file=sys.stderr)
        # A rare event: one AssumeRole refusal among a million reads.
        try:
            sts.assume_role(RoleArn="arn:aws:iam::333333333333:role/Nope", RoleSessionName="rare")
        except Exception:
            pass
        one = ct.lookup_events(MaxResults=1)["Events"][0]
        queries = {
            "newest page (no attribute)": {},
            "EventName=GetCallerIdentity": {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}]},
            "EventName=AssumeRole (1 match)": {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}]},
            "Username=admin": {"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "admin"}]},
            "EventId": {"LookupAttributes": [{"AttributeKey": "EventId", "AttributeValue": one["EventId"]}]},
        }
        for name, q in queries.items():
            times = []
            for _ in range(args.lookups // len(queries)):
                t = time.perf_counter()
                ct.lookup_events(MaxResults=50, **q)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            print(f"LookupEvents {name}: p50 {statistics.median(times):.2f} ms, p99 {times[int(0.99 * (len(times) - 1))]:.2f} ms")
        size = du(f"{work}/data")
        # The journal: its rows in cairn.db and the records in its segment files.
        journal = sum(os.path.getsize(f"{work}/data/{f}") for f in os.listdir(f"{work}/data") if f.startswith("cairn.db"))
        journal += du(f"{work}/data/cairn.journal")
        print(f"{filled} events: data directory {size / 1e6:.0f} MB ({size / filled:.0f} B/event); "
              f"journal database {journal / 1e6:.0f} MB; history index {(size - journal) / 1e6:.0f} MB")
        return 0
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

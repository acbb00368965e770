#!/usr/bin/env python3
"""End to end: signed API calls from concurrent clients, recorded and delivered by a trail.

    bench/delivery_e2e.py [--duration S] [--connections N] [--interval DUR] [--cairn-bin PATH]

Starts a fresh Cairn (release build) with a logging trail whose bucket policy lets CloudTrail
write, drives it with wrk replaying a signed GetCallerIdentity for --duration seconds, then
polls the bucket until every acknowledged call is in a delivered log file. Prints:
  - calls acknowledged (wrk's count of 2xx responses) and recorded-and-delivered events/s, from
    the start of the load to the moment the last one was delivered;
  - delivery latency per event (object's LastModified minus the record's eventTime), p50/p99;
  - Cairn's RSS before, during and after the load.
Needs wrk and botocore (as bench/load.sh does).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--interval", default="1s")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ap.add_argument("--cairn-bin", default=os.path.join(target, "release", "cairn"))
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk (bench/load.sh installs it)")

    work = tempfile.mkdtemp(prefix="cairn-e2e-")
    env = dict(os.environ, CAIRN_LOG=os.environ.get("CAIRN_LOG", "warn"))
    proc = subprocess.Popen(
        [args.cairn_bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", f"{work}/data",
         "--delivery-interval", args.interval],
        stdout=subprocess.PIPE, stderr=open(f"{work}/cairn.err", "w"), env=env, start_new_session=True)
    try:
        endpoint = re.search(r"(http://\S+)", proc.stdout.readline().decode()).group(1)
        mk = lambda svc: boto3.client(svc, endpoint_url=endpoint, region_name="us-east-1",
                                      aws_access_key_id="test", aws_secret_access_key="test")
        s3, ct = mk("s3"), mk("cloudtrail")
        bucket, arn = "e2e-bucket", "arn:aws:cloudtrail:us-east-1:111111111111:trail/e2e-trail"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": f"arn:aws:s3:::{bucket}"},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/111111111111/*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": arn}}}]}))
        ct.create_trail(Name="e2e-trail", S3BucketName=bucket)
        ct.start_logging(Name="e2e-trail")
        prefix = f"{work}/gci"
        subprocess.run([sys.executable, os.path.join(HERE, "signed_request.py"), "sign", "--endpoint", endpoint,
                        "--op", "GetCallerIdentity", "--out", prefix], check=True)
        rss_before = rss_kib(proc.pid)
        start = time.time()
        load = subprocess.Popen(
            ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "-s", os.path.join(HERE, "replay.lua"),
             endpoint, "--", prefix + ".lua"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # RSS once a second under load: flat memory means the second half grows no more than noise.
        samples = []
        while load.poll() is None:
            samples.append(rss_kib(proc.pid))
            time.sleep(1)
        out, _ = load.communicate()
        wrk = subprocess.CompletedProcess(load.args, load.returncode, out, "")
        rss_during = rss_kib(proc.pid)
        m = re.search(r"(\d+) requests in", wrk.stdout)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk.stdout)
        sent = int(m.group(1)) if m else 0
        acked = sent - (int(non2xx.group(1)) if non2xx else 0)
        seen_keys: set[str] = set()
        delivered = 0
        request_ids: set[str] = set()
        latencies: list[float] = []
        last = start
        deadline = time.time() + 120
        while delivered < acked and time.time() < deadline:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for o in page.get("Contents", []):
                    if o["Key"] in seen_keys:
                        continue
                    seen_keys.add(o["Key"])
                    body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
                    at = o["LastModified"].timestamp()
                    for r in json.loads(gzip.decompress(body))["Records"]:
                        if r["eventName"] == "GetCallerIdentity":
                            delivered += 1
                            request_ids.add(r["requestID"])
                            t = time.mktime(time.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
                            latencies.append(at - t)
                            last = max(last, at)
            time.sleep(0.2)
        rss_after = rss_kib(proc.pid)
        latencies.sort()
        pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")
        elapsed = max(last - start, 1e-9)
        # Calls still in flight when wrk stops are served too, so more than wrk counted may arrive.
        complete = delivered >= acked and len(request_ids) == delivered
        print(f"calls acknowledged: {acked} in {args.duration} s ({acked / args.duration:.0f}/s), "
              f"delivered: {delivered}, distinct: {len(request_ids)}{'' if complete else '  INCOMPLETE OR DUPLICATED'}")
        print(f"recorded-and-delivered: {delivered / elapsed:.0f} events/s end to end "
              f"(load start to last delivery {elapsed:.1f} s; delivery interval {args.interval})")
        print(f"delivery latency: p50 {pct(0.5):.2f} s, p99 {pct(0.99):.2f} s (eventTime has 1 s resolution)")
        print(f"Cairn RSS: before {rss_before / 1024:.1f} MiB, end of load {rss_during / 1024:.1f} MiB, "
              f"after delivery {rss_after / 1024:.1f} MiB")
        if len(samples) >= 4:
            half = len(samples) // 2
            print(f"RSS under load, once a second (MiB): {' '.join(f'{x / 1024:.0f}' for x in samples)}; "
                  f"max of first half {max(samples[:half]) / 1024:.1f}, max of second half {max(samples[half:]) / 1024:.1f}")
        return 0 if complete else 3
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

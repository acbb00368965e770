"""Fixtures: a real Cairn server on an ephemeral port with a temporary data directory, driven
by boto3 and the AWS CLI exactly as users drive it."""

import datetime
import os
import json
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from unittest import mock

import boto3
import botocore.auth
import botocore.config
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("CAIRN_BIN") or os.path.join(ROOT, "target", "debug", "cairn")
MANAGEMENT = "111111111111"


def shifted(seconds):
    """Signs requests as if the client's clock were `seconds` ahead (to follow the test clock)."""
    real = botocore.auth.get_current_datetime
    return mock.patch.object(
        botocore.auth, "get_current_datetime", lambda: real() + datetime.timedelta(seconds=seconds)
    )


class Server:
    """A running `cairn serve`; restartable on the same data directory."""

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.proc = None
        self.endpoint = None
        self.log_path = os.path.join(os.path.dirname(data_dir), os.path.basename(data_dir) + ".log")

    def start(self, listen="127.0.0.1:0"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--listen", listen, "--data-dir", self.data_dir, "--allow-reset", *self.extra_args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
        )
        line = self.proc.stdout.readline().decode()
        m = re.search(r"listening on (http://\S+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r}; log: {open(self.log_path).read()[-2000:]}")
        self.endpoint = m.group(1)
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
        self.proc = None

    def reset(self):
        req = urllib.request.Request(self.endpoint + "/_cairn/reset", method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200

    def advance_clock(self, seconds):
        req = urllib.request.Request(f"{self.endpoint}/_cairn/clock?advance={seconds}", method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200

    def client(self, service, key="test", secret="test", token=None, region="us-east-2", **cfg):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            region_name=region,
            config=botocore.config.Config(retries={"max_attempts": 1}, **cfg),
        )

    def cli(self, *args, key="test", secret="test", token=None, region="us-east-2", check=True):
        """Runs the AWS CLI against this server; returns (exit code, stdout, stderr)."""
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID=key,
            AWS_SECRET_ACCESS_KEY=secret,
            AWS_DEFAULT_REGION=region,
            AWS_CONFIG_FILE="/dev/null",
            AWS_SHARED_CREDENTIALS_FILE="/dev/null",
            AWS_MAX_ATTEMPTS="1",
        )
        if token:
            env["AWS_SESSION_TOKEN"] = token
        p = subprocess.run([aws_cli(), *args], env=env, capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p.returncode, p.stdout, p.stderr

    def admin(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        p = subprocess.run(
            [BINARY, "admin", *args, "--data-dir", self.data_dir], env=env, capture_output=True, text=True, timeout=60
        )
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)


def aws_cli():
    venv_aws = os.path.join(os.path.dirname(os.path.realpath(os.sys.executable)), "aws")
    return venv_aws if os.path.exists(venv_aws) else shutil.which("aws")


@pytest.fixture(scope="session")
def server():
    tmp = tempfile.mkdtemp(prefix="cairn-test-")
    # Trails on the shared server never deliver during a test (an hour-long interval), so their
    # status stays as the test set it; delivery is tested on servers of its own.
    s = Server(os.path.join(tmp, "data"), ["--delivery-interval", "1h"]).start()
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def fresh(server):
    """The shared server, wiped back to first start."""
    server.reset()
    return server


@pytest.fixture
def tmpdir_path():
    tmp = tempfile.mkdtemp(prefix="cairn-test-")
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)

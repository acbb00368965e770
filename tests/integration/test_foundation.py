"""The server foundation: one port, SigV4 on every request, accounts, STS, persistence, reset,
and AWS's error codes for bad input. Driven by boto3, the AWS CLI and raw HTTP."""

import datetime
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import urllib.parse
import urllib.request
from unittest import mock

import botocore.auth
import botocore.exceptions
import pytest

from conftest import BINARY, MANAGEMENT, Server

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ORG_ROLE = "OrganizationAccountAccessRole"


def err(exc):
    e = exc.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"].get("Message", "")


def shifted(seconds):
    """Signs requests as if the client's clock were `seconds` off."""
    real = botocore.auth.get_current_datetime
    return mock.patch.object(
        botocore.auth, "get_current_datetime", lambda: real() + datetime.timedelta(seconds=seconds)
    )


def raw(server, method, path, body=b"", headers=None):
    u = urllib.parse.urlparse(server.endpoint)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    out = (r.status, dict(r.getheaders()), r.read())
    c.close()
    return out


def test_health(server):
    with urllib.request.urlopen(server.endpoint + "/_cairn/health") as r:
        body = json.loads(r.read())
    assert r.status == 200
    assert body["status"] == "ok"
    assert body["managementAccountId"] == MANAGEMENT


def test_cli_get_caller_identity_is_the_admin_user(fresh):
    _, out, _ = fresh.cli("sts", "get-caller-identity")
    doc = json.loads(out)
    assert list(doc) == ["UserId", "Account", "Arn"]
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", doc["UserId"])
    assert doc["Account"] == MANAGEMENT
    assert doc["Arn"] == f"arn:aws:iam::{MANAGEMENT}:user/admin"


def test_request_ids_on_every_protocol(fresh):
    r = fresh.client("sts").get_caller_identity()
    assert UUID.match(r["ResponseMetadata"]["RequestId"])
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == r["ResponseMetadata"]["RequestId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("organizations").describe_organization()
    assert UUID.match(e.value.response["ResponseMetadata"]["RequestId"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("s3", key="AKIANOSUCHKEY0000000").list_buckets()
    headers = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert re.fullmatch(r"[0-9A-F]{16}", headers["x-amz-request-id"])
    assert headers["x-amz-id-2"]


def test_wrong_secret_and_unknown_key_per_protocol(fresh):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("sts", secret="wrong").get_caller_identity()
    code, status, msg = err(e)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert msg.startswith("The request signature we calculated does not match")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("sts", key="AKIANOSUCHKEY0000000").get_caller_identity()
    assert err(e) == ("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("organizations", secret="wrong").list_roots()
    assert err(e)[:2] == ("InvalidSignatureException", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("organizations", key="AKIANOSUCHKEY0000000").list_roots()
    assert err(e) == ("UnrecognizedClientException", 400, "The security token included in the request is invalid.")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("cloudtrail", secret="wrong").describe_trails()
    assert err(e)[:2] == ("InvalidSignatureException", 403)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("s3", secret="wrong").list_buckets()
    code, status, _ = err(e)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert e.value.response["Error"]["AWSAccessKeyId"] == "test"
    assert "CanonicalRequest" in e.value.response["Error"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("s3", key="AKIANOSUCHKEY0000000").list_buckets()
    assert err(e)[:2] == ("InvalidAccessKeyId", 403)
    assert e.value.response["Error"]["AWSAccessKeyId"] == "AKIANOSUCHKEY0000000"


def test_cli_prints_aws_error_for_bad_signature(fresh):
    code, _, stderr = fresh.cli("sts", "get-caller-identity", secret="nope", check=False)
    assert code == 255
    assert "An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation" in stderr


def test_skewed_requests(fresh):
    with shifted(-600):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fresh.client("sts").get_caller_identity()
        code, status, msg = err(e)
        assert (code, status) == ("SignatureDoesNotMatch", 403)
        assert re.fullmatch(r"Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)", msg), msg
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fresh.client("organizations").list_roots()
        assert err(e)[:2] == ("InvalidSignatureException", 400)
    with shifted(+1200):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fresh.client("s3").list_buckets()
        assert err(e)[:2] == ("RequestTimeTooSkewed", 403)
        assert e.value.response["Error"]["MaxAllowedSkewMilliseconds"] == "900000"
    # Within S3's 15 minutes but outside the 5 minutes of the other protocols.
    with shifted(+420):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fresh.client("sts").get_caller_identity()
        assert err(e)[2].startswith("Signature not yet current:")


def test_missing_authentication(fresh):
    status, headers, body = raw(
        fresh, "POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert status == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in body
    assert b"<Type>Sender</Type>" in body
    status, headers, body = raw(
        fresh, "POST", "/", b"{}",
        {"X-Amz-Target": "AWSOrganizationsV20161128.ListRoots", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert status == 400
    assert json.loads(body) == {"__type": "MissingAuthenticationTokenException", "Message": "Missing Authentication Token"}
    status, headers, body = raw(fresh, "POST", "/", b"Action=GetCallerIdentity", {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261123/us-east-1/sts/aws4_request, SignedHeaders=host",
    })
    assert status == 400
    assert b"<Code>IncompleteSignature</Code>" in body


def test_unknown_operations_get_protocol_errors(fresh):
    status, _, body = raw(
        fresh, "POST", "/", b"{}",
        {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert status == 400 and json.loads(body)["__type"] == "UnknownOperationException"
    sts = fresh.client("sts")
    # A signed call to an operation that no model has.
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", lambda request, **kw: setattr(
        request, "data", {"Action": "NoSuchAction", "Version": "2011-06-15"}))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.get_caller_identity()
    assert err(e) == ("InvalidAction", 400, "Could not find operation NoSuchAction for version 2011-06-15")
    # Real operations Cairn does not serve yet say so, never a fake success.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("sts").get_web_identity_token(Audience=["x"], SigningAlgorithm="RS256")
    assert err(e)[:2] == ("NotImplemented", 501)


def test_bad_bodies_get_errors_and_server_keeps_serving(fresh):
    org = fresh.client("organizations")
    for body in [b"{not json", b"\xff\xfe\x00garbage", b"[1,2]"]:
        def swap(request, body=body, **kw):
            request.data = body
        org.meta.events.register_first("before-sign.organizations.ListRoots", swap)
        with pytest.raises(botocore.exceptions.ClientError) as e:
            org.list_roots()
        assert err(e)[:2] == ("SerializationException", 400), body
        org.meta.events.unregister("before-sign.organizations.ListRoots", swap)
    # Oversized bodies are refused from their declared length, before they are read.
    u = urllib.parse.urlparse(fresh.endpoint)
    with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSOrganizationsV20161128.ListRoots\r\n"
            b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2097152\r\n\r\n" + b"x" * 65536
        )
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 413"), reply
    assert b'"__type":"RequestEntityTooLargeException"' in reply
    status, _, body = raw(fresh, "POST", "/", b"Action=%FF%FE", {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261123/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00"})
    assert status in (400, 403)
    status, _, body = raw(fresh, "GET", "/", b"", {"Authorization": "Garbage"})
    assert status == 400 and b"<Code>" in body
    assert fresh.client("sts").get_caller_identity()["Account"] == MANAGEMENT


def test_presigned_query_auth(fresh):
    url = fresh.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url) as r:
        body = r.read().decode()
    assert f"<Arn>arn:aws:iam::{MANAGEMENT}:user/admin</Arn>" in body
    tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=61")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(tampered)
    assert e.value.code == 403 and b"SignatureDoesNotMatch" in e.value.read()


def test_minted_user_and_root_keys(fresh):
    user = fresh.admin("create-access-key", "--account-id", MANAGEMENT, "--user-name", "alice")["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", user["AccessKeyId"]) and len(user["SecretAccessKey"]) == 40
    ident = fresh.client("sts", key=user["AccessKeyId"], secret=user["SecretAccessKey"]).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{MANAGEMENT}:user/alice"
    root = fresh.admin("create-access-key", "--account-id", MANAGEMENT, "--root")["AccessKey"]
    sts = fresh.client("sts", key=root["AccessKeyId"], secret=root["SecretAccessKey"])
    ident = sts.get_caller_identity()
    assert (ident["UserId"], ident["Arn"]) == (MANAGEMENT, f"arn:aws:iam::{MANAGEMENT}:root")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::222222222222:role/{ORG_ROLE}", RoleSessionName="xx")
    assert err(e) == ("AccessDenied", 403, "Roles may not be assumed by root accounts.")


def test_data_directory_copy_holds_no_plain_secrets(fresh):
    key = fresh.admin("create-access-key", "--account-id", MANAGEMENT, "--user-name", "bob")["AccessKey"]
    for root, _, files in os.walk(fresh.data_dir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert key["SecretAccessKey"].encode() not in fh.read(), f


def test_assume_role_into_member_account(fresh):
    fresh.admin("create-account", "--account-id", "222222222222")
    role_arn = f"arn:aws:iam::222222222222:role/{ORG_ROLE}"
    _, out, _ = fresh.cli("sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "xx")
    r = json.loads(out)
    creds = r["Credentials"]
    assert list(r) == ["Credentials", "AssumedRoleUser"]
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", creds["AccessKeyId"])
    assert len(creds["SecretAccessKey"]) == 40 and len(creds["SessionToken"]) > 100
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", creds["Expiration"])
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::222222222222:assumed-role/{ORG_ROLE}/xx"
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:xx", r["AssumedRoleUser"]["AssumedRoleId"])
    member = fresh.client("sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    ident = member.get_caller_identity()
    assert ident["Account"] == "222222222222"
    assert ident["Arn"] == f"arn:aws:sts::222222222222:assumed-role/{ORG_ROLE}/xx"
    assert ident["UserId"] == r["AssumedRoleUser"]["AssumedRoleId"]
    # Without its token the temporary key is unknown; with a tampered token it is refused.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"]).get_caller_identity()
    assert err(e)[:2] == ("InvalidClientTokenId", 403)
    bad = creds["SessionToken"][:-4] + ("AAAA" if not creds["SessionToken"].endswith("AAAA") else "BBBB")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=bad).get_caller_identity()
    assert err(e)[:2] == ("InvalidClientTokenId", 403)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("s3", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=bad).list_buckets()
    assert err(e)[:2] == ("InvalidToken", 400)
    # The role trusts the management account only, not sessions of the member account.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        member.assume_role(RoleArn=role_arn, RoleSessionName="yy")
    assert err(e)[:2] == ("AccessDenied", 403)


def test_assume_role_refusals(fresh):
    sts = fresh.client("sts")
    missing = "arn:aws:iam::333333333333:role/Nope"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn=missing, RoleSessionName="xx")
    assert err(e) == (
        "AccessDenied", 403,
        f"User: arn:aws:iam::{MANAGEMENT}:user/admin is not authorized to perform: sts:AssumeRole on resource: {missing}",
    )
    fresh.admin("create-account", "--account-id", "222222222222")
    role_arn = f"arn:aws:iam::222222222222:role/{ORG_ROLE}"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="xx", DurationSeconds=7200)
    assert err(e) == ("ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    code, _, stderr = fresh.cli("sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "bad name!", check=False)
    assert code != 0 and "roleSessionName" in stderr or "RoleSessionName" in stderr


def test_expired_session_is_refused_per_protocol(fresh):
    fresh.admin("create-account", "--account-id", "222222222222")
    creds = fresh.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::222222222222:role/{ORG_ROLE}", RoleSessionName="short", DurationSeconds=900
    )["Credentials"]
    kw = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    fresh.advance_clock(1000)
    with shifted(1000):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fresh.client("sts", **kw).get_caller_identity()
        assert err(e) == ("ExpiredToken", 403, "The security token included in the request is expired")
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fresh.client("organizations", **kw).list_roots()
        assert err(e)[:2] == ("ExpiredTokenException", 400)
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fresh.client("s3", **kw).list_buckets()
        assert err(e)[:2] == ("ExpiredToken", 400)


def test_reset_wipes_state_but_keeps_bootstrap(fresh):
    key = fresh.admin("create-access-key", "--account-id", MANAGEMENT, "--user-name", "carol")["AccessKey"]
    fresh.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_caller_identity()
    fresh.reset()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_caller_identity()
    assert err(e)[0] == "InvalidClientTokenId"
    assert fresh.client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{MANAGEMENT}:user/admin"


def test_reset_is_refused_without_the_flag(tmpdir_path):
    s = Server(os.path.join(tmpdir_path, "d"))
    s.extra_args = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    p = subprocess.Popen([BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir", s.data_dir],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        endpoint = re.search(r"(http://\S+)", p.stdout.readline().decode()).group(1)
        req = urllib.request.Request(endpoint + "/_cairn/reset", method="POST")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req)
        assert e.value.code == 403
    finally:
        p.kill()
        p.wait()


def test_state_survives_kill_and_restart(tmpdir_path):
    s = Server(os.path.join(tmpdir_path, "data")).start()
    try:
        s.admin("create-account", "--account-id", "222222222222")
        key = s.admin("create-access-key", "--account-id", MANAGEMENT, "--user-name", "dave")["AccessKey"]
        admin_id = s.client("sts").get_caller_identity()["UserId"]
        s.stop(signal.SIGKILL)
        s.start()
        ident = s.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_caller_identity()
        assert ident["Arn"] == f"arn:aws:iam::{MANAGEMENT}:user/dave"
        assert s.client("sts").get_caller_identity()["UserId"] == admin_id
        creds = s.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::222222222222:role/{ORG_ROLE}", RoleSessionName="after")["Credentials"]
        assert creds["AccessKeyId"].startswith("ASIA")
    finally:
        s.stop()


def test_management_account_from_env_and_flag_precedence(tmpdir_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    env["CAIRN_MANAGEMENT_ACCOUNT_ID"] = "999999999999"
    env["CAIRN_DATA_DIR"] = os.path.join(tmpdir_path, "envdata")
    p = subprocess.Popen([BINARY, "serve", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    try:
        endpoint = re.search(r"(http://\S+)", p.stdout.readline().decode()).group(1)
        s = Server(env["CAIRN_DATA_DIR"])
        s.endpoint = endpoint
        assert s.client("sts").get_caller_identity()["Account"] == "999999999999"
        assert os.path.exists(os.path.join(env["CAIRN_DATA_DIR"], "cairn.db"))
        assert os.path.exists(env["CAIRN_DATA_DIR"] + ".key")
    finally:
        p.kill()
        p.wait()


def test_refuses_default_key_off_loopback(tmpdir_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    p = subprocess.run([BINARY, "serve", "--listen", "0.0.0.0:0", "--data-dir", os.path.join(tmpdir_path, "d")],
                       capture_output=True, text=True, timeout=10, env=env)
    assert p.returncode != 0
    assert "refusing to listen on 0.0.0.0:0 with the default admin key" in p.stderr


def test_s3_requests_are_authenticated_as_s3(fresh):
    s3 = fresh.client("s3", secret="wrong")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_bucket(Bucket="some-bucket")
    # HEAD errors carry no body: the client sees the status alone.
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="some-bucket", Key="a b/ü+c")
    assert err(e)[:2] == ("SignatureDoesNotMatch", 403)


def test_garbage_never_gets_a_5xx(fresh):
    """A bounded burst of malformed requests across the four protocols: every one is answered
    with a client error (or NotImplemented for what is not served), and the server keeps
    serving."""
    import random

    rng = random.Random(7)
    targets = ["AWSOrganizationsV20161128.ListRoots", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateTrail",
               "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", None]
    auths = [None, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=test/2026/us-east-1/s3/aws4_request",
             "AWS4-HMAC-SHA256 Credential=test/20261123/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=zz",
             "AWS test:c2lnbmF0dXJl", "Bearer x"]
    paths = ["/", "/bucket", "/bucket/key%FF", "/b/" + "k" * 2000, "/?Action=GetCallerIdentity", "/b?uploads",
             "/b/k?partNumber=x&uploadId=y", "/%2e%2e/%2e%2e", "/b?list-type=2&max-keys=-1"]
    for i in range(300):
        headers = {}
        target = rng.choice(targets)
        if target:
            headers["X-Amz-Target"] = target
            headers["Content-Type"] = "application/x-amz-json-1.1"
        auth = rng.choice(auths)
        if auth:
            headers["Authorization"] = auth
        if rng.random() < 0.3:
            headers["x-amz-content-sha256"] = rng.choice(["STREAMING-UNSIGNED-PAYLOAD-TRAILER", "zz", "UNSIGNED-PAYLOAD"])
            headers["Content-Encoding"] = "aws-chunked"
        body = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 17, 300])))
        method = rng.choice(["GET", "PUT", "POST", "DELETE", "HEAD"])
        status, _, reply = raw(fresh, method, rng.choice(paths), body, headers)
        # 501 NotImplemented is AWS's answer for an operation not served; any other 5xx is a bug.
        not_served = status == 501 and (b"NotImplemented" in reply or method == "HEAD")
        assert 200 <= status < 500 or not_served, (i, method, headers, status, reply[:200])
    assert fresh.client("sts").get_caller_identity()["Account"] == MANAGEMENT


def test_a_session_token_must_belong_to_its_temporary_key(fresh):
    """A token sent with a long-term key, or a garbage token, is refused by every protocol."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("sts", token="garbage").get_caller_identity()
    assert err(e) == ("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
    # A real session token, but sent with the admin's long-term key.
    c = fresh.client("sts").get_session_token()["Credentials"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("sts", token=c["SessionToken"]).get_caller_identity()
    assert err(e)[:2] == ("InvalidClientTokenId", 403)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("cloudtrail", token="garbage").describe_trails()
    assert err(e)[:2] == ("UnrecognizedClientException", 403)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("organizations", token="garbage").list_roots()
    assert err(e)[:2] == ("UnrecognizedClientException", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fresh.client("s3", token="garbage").list_buckets()
    assert err(e)[:2] == ("InvalidToken", 400)
    # The CLI, as the issue reproduced it.
    rc, _, stderr = fresh.cli("sts", "get-caller-identity", token="garbage", check=False)
    assert rc != 0 and "InvalidClientTokenId" in stderr
    # The session's own key with its token works.
    ident = fresh.client("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                         token=c["SessionToken"]).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{MANAGEMENT}:user/admin"


def scoped_to(service, region=None):
    """Signs requests with another service (or region) in the credential scope."""
    real = botocore.auth.SigV4Auth.__init__

    def init(self, credentials, service_name, region_name, *a, **kw):
        real(self, credentials, service, region or region_name, *a, **kw)
    return mock.patch.object(botocore.auth.SigV4Auth, "__init__", init)


def test_the_credential_scope_must_name_the_service_and_a_region(fresh):
    with scoped_to("s3"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fresh.client("cloudtrail").describe_trails()
    assert err(e) == ("InvalidSignatureException", 403, "Credential should be scoped to correct service: 'cloudtrail'. ")
    with scoped_to("cloudtrail"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fresh.client("organizations").list_roots()
    assert err(e) == ("InvalidSignatureException", 400, "Credential should be scoped to correct service: 'organizations'. ")
    with scoped_to("sts", region="not_a_region"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fresh.client("sts").get_caller_identity()
    assert err(e) == ("SignatureDoesNotMatch", 403, "Credential should be scoped to a valid region. ")
    with scoped_to("cloudtrail", region="nowhere"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fresh.client("cloudtrail").describe_trails()
    assert err(e) == ("InvalidSignatureException", 403, "Credential should be scoped to a valid region. ")

"""S3: buckets, objects, listing, multipart, ACLs and ownership, bucket policies, over the real
wire protocol, driven by boto3, the AWS CLI and raw signed requests (aws-chunked bodies,
virtual-hosted addressing, broken uploads)."""

import base64
import binascii
import hashlib
import hmac
import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

import boto3
import botocore
import botocore.auth
import botocore.config
import botocore.credentials
import botocore.exceptions
import pytest
from botocore.awsrequest import AWSRequest

from conftest import MANAGEMENT

MEMBER = "222222222222"
ORG_ROLE = "OrganizationAccountAccessRole"


def err(exc):
    e = exc.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"].get("Message", "")


def s3(server, region="us-east-1", **kw):
    return server.client("s3", region=region, **kw)


def anonymous(server):
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        config=botocore.config.Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}),
    )


def member(server, account=MEMBER):
    """Credentials of a session in another account (its OrganizationAccountAccessRole)."""
    server.admin("create-account", "--account-id", account)
    c = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ORG_ROLE}", RoleSessionName="xx"
    )["Credentials"]
    return dict(key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])


def canonical_id(account):
    return hashlib.sha256(account.encode()).hexdigest()


def b64(data):
    return base64.b64encode(data).decode()


def crc32_b64(data):
    return b64(zlib.crc32(data).to_bytes(4, "big"))


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c_b64(data):
    c = 0xFFFFFFFF
    for byte in data:
        c = CRC32C_TABLE[(c ^ byte) & 0xFF] ^ (c >> 8)
    return b64((c ^ 0xFFFFFFFF).to_bytes(4, "big"))


def crc64nvme_b64(data):
    c = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        c ^= byte
        for _ in range(8):
            c = (c >> 1) ^ 0x9A6C9329AC4BC9B5 if c & 1 else c >> 1
    return b64((c ^ 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big"))


class LiteralPayload(botocore.auth.S3SigV4Auth):
    """SigV4 with a chosen x-amz-content-sha256 (streaming literals, wrong digests)."""

    def __init__(self, creds, region, value):
        super().__init__(creds, "s3", region)
        self.value = value

    def payload(self, request):
        return self.value


def signed(server, method, path, body=b"", headers=None, host=None, payload=None, region="us-east-1"):
    """Signs a request as botocore would and sends it over a raw connection, so the Host may name
    a virtual-hosted bucket (`<bucket>.localhost:<port>`) while the socket goes to 127.0.0.1.
    Returns (status, headers, body, authorization header)."""
    u = urllib.parse.urlparse(server.endpoint)
    host = host or f"{u.hostname}:{u.port}"
    req = AWSRequest(method=method, url=f"http://{host}{path}", data=body, headers=dict(headers or {}))
    creds = botocore.credentials.Credentials("test", "test")
    if payload is None:
        botocore.auth.S3SigV4Auth(creds, "s3", region).add_auth(req)
    else:
        LiteralPayload(creds, region, payload).add_auth(req)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    c.putheader("Host", host)
    for k, v in req.headers.items():
        c.putheader(k, v)
    if "Content-Length" not in req.headers:
        c.putheader("Content-Length", str(len(body)))
    c.endheaders(body)
    r = c.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read(), req.headers["Authorization"])
    c.close()
    return out


def code_of(body):
    text = body.decode()
    return text.split("<Code>")[1].split("</Code>")[0]


def make_bucket(server, name, region="us-east-1", **kw):
    client = s3(server, region=region, **kw)
    if region == "us-east-1":
        client.create_bucket(Bucket=name)
    else:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return client


# --- buckets ---------------------------------------------------------------------------------


def test_create_bucket_location_rules(fresh):
    east1 = s3(fresh)
    r = east1.create_bucket(Bucket="b-one")
    assert r["Location"] == "/b-one"
    # us-east-1's legacy quirk: re-creating an owned bucket there succeeds.
    assert east1.create_bucket(Bucket="b-one")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert east1.get_bucket_location(Bucket="b-one")["LocationConstraint"] is None

    east2 = s3(fresh, region="us-east-2")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        east2.create_bucket(Bucket="b-two")
    assert err(e) == (
        "IllegalLocationConstraintException",
        400,
        "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
    )
    r = east2.create_bucket(Bucket="b-two", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    assert r["Location"] == "http://b-two.s3.amazonaws.com/"
    assert east2.get_bucket_location(Bucket="b-two")["LocationConstraint"] == "us-east-2"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        east2.create_bucket(Bucket="b-two", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    assert err(e) == (
        "BucketAlreadyOwnedByYou",
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
    )
    # The global endpoint takes any region; a regional one only its own.
    east1.create_bucket(Bucket="b-three", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    assert east1.get_bucket_location(Bucket="b-three")["LocationConstraint"] == "eu-west-2"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3(fresh, region="eu-west-1").create_bucket(
            Bucket="b-four", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
        )
    assert err(e) == (
        "IllegalLocationConstraintException",
        400,
        "The eu-west-2 location constraint is incompatible for the region specific endpoint this request was sent to.",
    )
    for lc in ["us-east-1", "mars-east-1"]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            east1.create_bucket(Bucket="b-five", CreateBucketConfiguration={"LocationConstraint": lc})
        assert err(e) == ("InvalidLocationConstraint", 400, "The specified location-constraint is not valid")
        assert e.value.response["Error"]["LocationConstraint"] == lc

    # Another account asking for a taken name.
    other = s3(fresh, **member(fresh))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        other.create_bucket(Bucket="b-one")
    assert err(e)[:2] == ("BucketAlreadyExists", 409)
    assert e.value.response["Error"]["BucketName"] == "b-one"


@pytest.mark.parametrize(
    "name", ["ab", "Upper-case", "under_score", "double..dot", "dash-.dot", "192.168.5.4", "xn--punycode", "x" * 64,
             "ends-s3alias", "-leading"]
)
def test_invalid_bucket_names(fresh, name):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3(fresh).create_bucket(Bucket=name)
    assert err(e) == ("InvalidBucketName", 400, "The specified bucket is not valid.")
    assert e.value.response["Error"]["BucketName"] == name


def test_create_bucket_malformed_xml_and_anonymous(fresh):
    status, _, body, _ = signed(fresh, "PUT", "/b-xml", b"<CreateBucketConfiguration><LocationConstraint>")
    assert (status, code_of(body)) == (400, "MalformedXML")
    status, _, body, _ = signed(fresh, "PUT", "/b-xml", b"<Other/>")
    assert (status, code_of(body)) == (400, "MalformedXML")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        anonymous(fresh).create_bucket(Bucket="b-anon")
    assert err(e) == ("AccessDenied", 403, "Access Denied")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        anonymous(fresh).list_buckets()
    assert err(e)[:2] == ("AccessDenied", 403)


def test_list_head_delete_buckets(fresh):
    client = make_bucket(fresh, "zeta-bucket")
    make_bucket(fresh, "alpha-bucket", region="us-west-2")
    make_bucket(fresh, "theirs-bucket", **member(fresh))
    listed = client.list_buckets()
    assert [b["Name"] for b in listed["Buckets"]] == ["alpha-bucket", "zeta-bucket"]
    assert [b["BucketRegion"] for b in listed["Buckets"]] == ["us-west-2", "us-east-1"]
    assert listed["Owner"]["ID"] == canonical_id(MANAGEMENT)

    h = client.head_bucket(Bucket="alpha-bucket")
    assert h["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-west-2"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.head_bucket(Bucket="no-such-bucket")
    assert err(e)[:2] == ("404", 404)
    # Another account's bucket: 403, and still told where it is.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.head_bucket(Bucket="theirs-bucket")
    assert err(e)[:2] == ("403", 403)
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"

    client.put_object(Bucket="zeta-bucket", Key="k", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.delete_bucket(Bucket="zeta-bucket")
    assert err(e) == ("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
    client.delete_object(Bucket="zeta-bucket", Key="k")
    r = client.delete_bucket(Bucket="zeta-bucket")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.delete_bucket(Bucket="zeta-bucket")
    assert err(e) == ("NoSuchBucket", 404, "The specified bucket does not exist")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_object(Bucket="zeta-bucket", Key="k")
    assert err(e)[:2] == ("NoSuchBucket", 404)


def test_unsupported_operations_say_not_implemented(fresh):
    client = make_bucket(fresh, "ni-bucket")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_bucket_replication(Bucket="ni-bucket")
    assert err(e)[:2] == ("NotImplemented", 501)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_object_attributes(Bucket="ni-bucket", Key="k", ObjectAttributes=["ETag"])
    assert err(e)[:2] == ("NotImplemented", 501)
    # Object features Cairn does not keep are refused, not silently dropped.
    for extra in [{"StorageClass": "GLACIER"}, {"WebsiteRedirectLocation": "/x"}]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            client.put_object(Bucket="ni-bucket", Key="k", Body=b"x", **extra)
        assert err(e)[:2] == ("NotImplemented", 501)
    client.put_object(Bucket="ni-bucket", Key="k", Body=b"x", ServerSideEncryption="AES256", StorageClass="STANDARD_IA")
    h = client.head_object(Bucket="ni-bucket", Key="k")
    assert (h["StorageClass"], h["ServerSideEncryption"]) == ("STANDARD_IA", "AES256")


# --- ACLs and ownership ----------------------------------------------------------------------


def test_acls_under_bucket_owner_enforced(fresh):
    client = make_bucket(fresh, "acl-bucket")
    assert client.get_bucket_ownership_controls(Bucket="acl-bucket")["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    acl = client.get_bucket_acl(Bucket="acl-bucket")
    assert acl["Owner"] == {"ID": canonical_id(MANAGEMENT)}
    assert acl["Grants"] == [
        {"Grantee": {"ID": canonical_id(MANAGEMENT), "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}
    ]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_bucket_acl(Bucket="acl-bucket", ACL="public-read")
    assert err(e) == ("AccessControlListNotSupported", 400, "The bucket does not allow ACLs")
    for canned in ["private", "public-read"]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            client.put_object(Bucket="acl-bucket", Key="k", Body=b"x", ACL=canned)
        assert err(e)[:2] == ("AccessControlListNotSupported", 400)
    # CloudTrail's mandatory header is always accepted.
    client.put_object(Bucket="acl-bucket", Key="k", Body=b"x", ACL="bucket-owner-full-control")
    assert client.get_object_acl(Bucket="acl-bucket", Key="k")["Grants"][0]["Permission"] == "FULL_CONTROL"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.create_bucket(Bucket="acl-public", ACL="public-read")
    assert err(e) == (
        "InvalidBucketAclWithObjectOwnership",
        400,
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    )


def test_acls_when_enabled_grant_access(fresh):
    client = s3(fresh)
    client.create_bucket(Bucket="acl-on", ObjectOwnership="ObjectWriter")
    # New buckets block public access (as on AWS since April 2023): public ACLs need it off.
    client.delete_public_access_block(Bucket="acl-on")
    assert client.get_bucket_ownership_controls(Bucket="acl-on")["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}
    ]
    client.put_object(Bucket="acl-on", Key="pub", Body=b"public", ACL="public-read")
    client.put_object(Bucket="acl-on", Key="priv", Body=b"private")
    anon = anonymous(fresh)
    assert anon.get_object(Bucket="acl-on", Key="pub")["Body"].read() == b"public"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        anon.get_object(Bucket="acl-on", Key="priv")
    assert err(e)[:2] == ("AccessDenied", 403)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        anon.list_objects_v2(Bucket="acl-on")
    assert err(e)[:2] == ("AccessDenied", 403)
    client.put_bucket_acl(Bucket="acl-on", ACL="public-read")
    grants = client.get_bucket_acl(Bucket="acl-on")["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ"} in grants
    assert [o["Key"] for o in anon.list_objects_v2(Bucket="acl-on")["Contents"]] == ["priv", "pub"]
    # Back to enforced: ACLs granting others must go first.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_bucket_ownership_controls(
            Bucket="acl-on", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
    assert err(e)[:2] == ("InvalidBucketAclWithObjectOwnership", 400)
    client.put_bucket_acl(Bucket="acl-on", ACL="private")
    client.put_bucket_ownership_controls(
        Bucket="acl-on", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    with pytest.raises(botocore.exceptions.ClientError) as e:
        anon.get_object(Bucket="acl-on", Key="pub")
    assert err(e)[:2] == ("AccessDenied", 403)
    client.delete_bucket_ownership_controls(Bucket="acl-on")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_bucket_ownership_controls(Bucket="acl-on")
    assert err(e) == ("OwnershipControlsNotFoundError", 404, "The bucket ownership controls were not found")


# --- objects ---------------------------------------------------------------------------------


def test_put_get_head_delete_object(fresh):
    client = make_bucket(fresh, "obj-bucket")
    body = b"hello world"
    r = client.put_object(
        Bucket="obj-bucket", Key="dir/hello.txt", Body=body, ContentType="text/plain",
        Metadata={"Color": "blue", "x": "1"}, CacheControl="max-age=60", ContentDisposition="inline",
    )
    assert r["ETag"] == '"5eb63bbbe01eeed093cb22bb8f5acdc3"'
    # botocore sends a CRC32 by default; S3 echoes it.
    assert r["ChecksumCRC32"] == "DUoRhQ=="
    assert r["ServerSideEncryption"] == "AES256"

    g = client.get_object(Bucket="obj-bucket", Key="dir/hello.txt")
    assert g["Body"].read() == body
    assert (g["ContentType"], g["ContentLength"], g["ETag"]) == ("text/plain", 11, '"5eb63bbbe01eeed093cb22bb8f5acdc3"')
    assert g["Metadata"] == {"color": "blue", "x": "1"}
    assert (g["CacheControl"], g["ContentDisposition"], g["AcceptRanges"]) == ("max-age=60", "inline", "bytes")
    g = client.get_object(Bucket="obj-bucket", Key="dir/hello.txt", ChecksumMode="ENABLED")
    assert (g["ChecksumCRC32"], g["ChecksumType"]) == ("DUoRhQ==", "FULL_OBJECT")

    h = client.head_object(Bucket="obj-bucket", Key="dir/hello.txt")
    assert (h["ContentLength"], h["ETag"], h["Metadata"]) == (11, '"5eb63bbbe01eeed093cb22bb8f5acdc3"', {"color": "blue", "x": "1"})

    part = client.get_object(Bucket="obj-bucket", Key="dir/hello.txt", Range="bytes=6-")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert (part["Body"].read(), part["ContentRange"], part["ContentLength"]) == (b"world", "bytes 6-10/11", 5)
    tail = client.get_object(Bucket="obj-bucket", Key="dir/hello.txt", Range="bytes=-3", ChecksumMode="ENABLED")
    assert tail["Body"].read() == b"rld" and "ChecksumCRC32" not in tail
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_object(Bucket="obj-bucket", Key="dir/hello.txt", Range="bytes=11-20")
    assert err(e) == ("InvalidRange", 416, "The requested range is not satisfiable")

    etag = '"5eb63bbbe01eeed093cb22bb8f5acdc3"'
    assert client.get_object(Bucket="obj-bucket", Key="dir/hello.txt", IfMatch=etag)["Body"].read() == body
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_object(Bucket="obj-bucket", Key="dir/hello.txt", IfMatch='"0000"')
    assert err(e)[:2] == ("PreconditionFailed", 412)
    assert e.value.response["Error"]["Condition"] == "If-Match"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_object(Bucket="obj-bucket", Key="dir/hello.txt", IfNoneMatch=etag)
    assert err(e)[:2] == ("304", 304)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_object(Bucket="obj-bucket", Key="dir/hello.txt", Body=b"again", IfNoneMatch="*")
    assert err(e)[:2] == ("PreconditionFailed", 412)

    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_object(Bucket="obj-bucket", Key="missing")
    assert err(e) == ("NoSuchKey", 404, "The specified key does not exist.")
    assert e.value.response["Error"]["Key"] == "missing"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.head_object(Bucket="obj-bucket", Key="missing")
    assert err(e)[:2] == ("404", 404)

    assert client.delete_object(Bucket="obj-bucket", Key="dir/hello.txt")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.delete_object(Bucket="obj-bucket", Key="dir/hello.txt")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_object(Bucket="obj-bucket", Key="dir/hello.txt")
    assert err(e)[:2] == ("NoSuchKey", 404)

    # Overwrites replace the body and the bytes of the old one are gone from disk.
    client.put_object(Bucket="obj-bucket", Key="o", Body=b"first")
    client.put_object(Bucket="obj-bucket", Key="o", Body=b"second")
    assert client.get_object(Bucket="obj-bucket", Key="o")["Body"].read() == b"second"
    client.put_object(Bucket="obj-bucket", Key="empty", Body=b"")
    g = client.get_object(Bucket="obj-bucket", Key="empty")
    assert (g["Body"].read(), g["ETag"]) == (b"", '"d41d8cd98f00b204e9800998ecf8427e"')
    time.sleep(0.2)
    assert blob_files(fresh) == 1


def blob_files(server):
    root = os.path.join(server.data_dir, "objects")
    return sum(len(files) for d, _, files in os.walk(root) if not d.endswith("tmp"))


def temp_files(server):
    return os.listdir(os.path.join(server.data_dir, "objects", "tmp"))


def test_checksums_and_digests(fresh):
    client = make_bucket(fresh, "sum-bucket")
    data = b"checksum me"
    for alg, expected in [
        ("SHA256", b64(hashlib.sha256(data).digest())),
        ("SHA1", b64(hashlib.sha1(data).digest())),
        ("CRC32", crc32_b64(data)),
    ]:
        r = client.put_object(Bucket="sum-bucket", Key=alg, Body=data, ChecksumAlgorithm=alg)
        assert r[f"Checksum{alg}"] == expected
        h = client.head_object(Bucket="sum-bucket", Key=alg, ChecksumMode="ENABLED")
        assert h[f"Checksum{alg}"] == expected
    # CRC32C (botocore needs the CRT for it): a raw request with the header.
    status, headers, _, _ = signed(fresh, "PUT", "/sum-bucket/crc32c", data, {"x-amz-checksum-crc32c": crc32c_b64(data)})
    assert status == 200 and headers["x-amz-checksum-crc32c"] == crc32c_b64(data)
    h = client.head_object(Bucket="sum-bucket", Key="crc32c", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32C"] == crc32c_b64(data)
    assert crc64nvme_b64(b"123456789") == b64(bytes.fromhex("ae8b14860a799888"))
    status, headers, _, _ = signed(fresh, "PUT", "/sum-bucket/crc64", data, {"x-amz-checksum-crc64nvme": crc64nvme_b64(data)})
    assert status == 200 and headers["x-amz-checksum-crc64nvme"] == crc64nvme_b64(data)
    listed = client.list_objects_v2(Bucket="sum-bucket")["Contents"]
    assert {o["Key"]: o["ChecksumAlgorithm"] for o in listed} == {
        "CRC32": ["CRC32"], "SHA1": ["SHA1"], "SHA256": ["SHA256"], "crc32c": ["CRC32C"], "crc64": ["CRC64NVME"]
    }
    status, _, body, _ = signed(fresh, "PUT", "/sum-bucket/bad", data, {"x-amz-checksum-crc64nvme": crc64nvme_b64(b"x")})
    assert (status, code_of(body)) == (400, "BadDigest")

    status, _, body, _ = signed(fresh, "PUT", "/sum-bucket/bad", data, {"x-amz-checksum-crc32": crc32_b64(b"other")})
    assert (status, code_of(body)) == (400, "BadDigest")
    assert b"<Message>The CRC32 you specified did not match the calculated checksum.</Message>" in body
    status, _, body, _ = signed(fresh, "PUT", "/sum-bucket/bad", data, {"x-amz-checksum-crc32c": crc32c_b64(b"other")})
    assert (status, code_of(body)) == (400, "BadDigest")
    status, _, body, _ = signed(fresh, "PUT", "/sum-bucket/bad", data, {"x-amz-checksum-sha256": "not-base64"})
    assert (status, code_of(body)) == (400, "InvalidRequest")
    status, _, body, _ = signed(fresh, "PUT", "/sum-bucket/bad", data, {
        "x-amz-checksum-crc32": crc32_b64(data), "x-amz-checksum-sha1": b64(hashlib.sha1(data).digest())})
    assert (status, code_of(body)) == (400, "InvalidRequest")
    status, _, body, _ = signed(fresh, "PUT", "/sum-bucket/bad", data, {"Content-MD5": "nope"})
    assert (status, code_of(body)) == (400, "InvalidDigest")
    assert b"<Message>The Content-MD5 you specified is not valid.</Message>" in body
    status, _, body, _ = signed(fresh, "PUT", "/sum-bucket/bad", data, {"Content-MD5": b64(hashlib.md5(b"x").digest())})
    assert (status, code_of(body)) == (400, "BadDigest")
    assert b"<Message>The Content-MD5 you specified did not match what we received.</Message>" in body
    status, _, _, _ = signed(fresh, "PUT", "/sum-bucket/md5", data, {"Content-MD5": b64(hashlib.md5(data).digest())})
    assert status == 200
    # A body that is not what x-amz-content-sha256 claims.
    status, _, body, _ = signed(fresh, "PUT", "/sum-bucket/bad", data, payload=hashlib.sha256(b"else").hexdigest())
    assert (status, code_of(body)) == (400, "XAmzContentSHA256Mismatch")
    assert f"<S3ComputedContentSHA256>{hashlib.sha256(data).hexdigest()}</S3ComputedContentSHA256>".encode() in body
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.head_object(Bucket="sum-bucket", Key="bad")
    assert err(e)[:2] == ("404", 404)
    time.sleep(0.2)
    assert temp_files(fresh) == []


def unsigned_chunked(data, chunk=5, trailer=None):
    out = b""
    for i in range(0, len(data), chunk):
        piece = data[i:i + chunk]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    out += b"0\r\n"
    if trailer:
        out += trailer.encode() + b"\r\n"
    return out + b"\r\n"


def signing_key(date, region="us-east-1"):
    k = hmac.new(b"AWS4test", date.encode(), hashlib.sha256).digest()
    for part in [region, "s3", "aws4_request"]:
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def signed_chunked(data, authorization, amz_date, chunk=7, corrupt=False):
    """aws-chunked body with chunk signatures chained from the request's signature."""
    seed = authorization.split("Signature=")[1]
    scope = authorization.split("Credential=")[1].split(",")[0].split("/", 1)[1]
    key = signing_key(scope.split("/")[0])
    prev = seed
    out = b""
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    for n, piece in enumerate(pieces):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev,
                         hashlib.sha256(b"").hexdigest(), hashlib.sha256(piece).hexdigest()])
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if corrupt and n == 1:
            sig = "0" * 64
        out += b"%x;chunk-signature=%s\r\n" % (len(piece), sig.encode()) + piece + b"\r\n"
        prev = sig
    return out


def send_prepared(server, method, path, headers, body):
    u = urllib.parse.urlparse(server.endpoint)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for k, v in headers.items():
        c.putheader(k, v)
    c.endheaders(body)
    r = c.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    c.close()
    return out


def sign_headers(server, method, path, headers, payload):
    u = urllib.parse.urlparse(server.endpoint)
    host = f"{u.hostname}:{u.port}"
    req = AWSRequest(method=method, url=f"http://{host}{path}", data=b"", headers=dict(headers))
    LiteralPayload(botocore.credentials.Credentials("test", "test"), "us-east-1", payload).add_auth(req)
    out = dict(req.headers.items())
    out["Host"] = host
    return out


def test_aws_chunked_uploads(fresh):
    client = make_bucket(fresh, "chunk-bucket")
    data = b"streamed with a checksum trailer, " * 3
    # What botocore sends over https: unsigned chunks, CRC32 in the trailer.
    headers = sign_headers(fresh, "PUT", "/chunk-bucket/unsigned", {
        "Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Sdk-Checksum-Algorithm": "CRC32",
        "Content-Type": "text/plain"}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    body = unsigned_chunked(data, trailer=f"x-amz-checksum-crc32:{crc32_b64(data)}")
    status, resp, text = send_prepared(fresh, "PUT", "/chunk-bucket/unsigned", {**headers, "Content-Length": str(len(body))}, body)
    assert status == 200, text
    assert resp["x-amz-checksum-crc32"] == crc32_b64(data)
    g = client.get_object(Bucket="chunk-bucket", Key="unsigned", ChecksumMode="ENABLED")
    assert g["Body"].read() == data and g["ChecksumCRC32"] == crc32_b64(data)
    # aws-chunked is not a stored content encoding.
    assert "ContentEncoding" not in g and g["ContentType"] == "text/plain"

    # The same over HTTP chunked transfer encoding, as botocore frames it.
    headers = sign_headers(fresh, "PUT", "/chunk-bucket/te", {
        "Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": "x-amz-checksum-crc32"}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    inner = unsigned_chunked(data, chunk=16, trailer=f"x-amz-checksum-crc32:{crc32_b64(data)}")
    outer = b"%x\r\n" % len(inner) + inner + b"\r\n0\r\n\r\n"
    status, _, text = send_prepared(fresh, "PUT", "/chunk-bucket/te", {**headers, "Transfer-Encoding": "chunked"}, outer)
    assert status == 200, text
    assert client.get_object(Bucket="chunk-bucket", Key="te")["Body"].read() == data

    # A wrong trailer checksum.
    headers = sign_headers(fresh, "PUT", "/chunk-bucket/badtrailer", {
        "Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": "x-amz-checksum-crc32"}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    body = unsigned_chunked(data, trailer=f"x-amz-checksum-crc32:{crc32_b64(b'no')}")
    status, _, text = send_prepared(fresh, "PUT", "/chunk-bucket/badtrailer", {**headers, "Content-Length": str(len(body))}, body)
    assert (status, code_of(text)) == (400, "BadDigest")

    # Fewer bytes than X-Amz-Decoded-Content-Length.
    headers = sign_headers(fresh, "PUT", "/chunk-bucket/short", {
        "Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data) + 10),
        "X-Amz-Trailer": "x-amz-checksum-crc32"}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    body = unsigned_chunked(data, trailer=f"x-amz-checksum-crc32:{crc32_b64(data)}")
    status, _, text = send_prepared(fresh, "PUT", "/chunk-bucket/short", {**headers, "Content-Length": str(len(body))}, body)
    assert (status, code_of(text)) == (400, "IncompleteBody")

    # Signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), then one with a broken chunk signature.
    for key, corrupt, expected in [("signed", False, 200), ("forged", True, 403)]:
        headers = sign_headers(fresh, "PUT", f"/chunk-bucket/{key}", {
            "Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data))},
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        body = signed_chunked(data, headers["Authorization"], headers["X-Amz-Date"], corrupt=corrupt)
        status, _, text = send_prepared(fresh, "PUT", f"/chunk-bucket/{key}", {**headers, "Content-Length": str(len(body))}, body)
        assert status == expected, text
    assert client.get_object(Bucket="chunk-bucket", Key="signed")["Body"].read() == data
    assert code_of(text) == "SignatureDoesNotMatch"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.head_object(Bucket="chunk-bucket", Key="forged")
    assert err(e)[:2] == ("404", 404)
    for key in ["badtrailer", "short"]:
        with pytest.raises(botocore.exceptions.ClientError):
            client.head_object(Bucket="chunk-bucket", Key=key)
    time.sleep(0.2)
    assert temp_files(fresh) == []


def test_disconnected_and_truncated_uploads_leave_nothing(fresh):
    client = make_bucket(fresh, "cut-bucket")
    u = urllib.parse.urlparse(fresh.endpoint)
    headers = sign_headers(fresh, "PUT", "/cut-bucket/partial", {}, "UNSIGNED-PAYLOAD")
    sock = socket.create_connection((u.hostname, u.port))
    head = "PUT /cut-bucket/partial HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {8 * 1024 * 1024}\r\n\r\n"
    sock.sendall(head.encode() + b"x" * (3 * 1024 * 1024))
    time.sleep(0.3)
    sock.close()
    time.sleep(0.5)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.head_object(Bucket="cut-bucket", Key="partial")
    assert err(e)[:2] == ("404", 404)
    assert temp_files(fresh) == []
    assert blob_files(fresh) == 0
    # The server keeps serving.
    client.put_object(Bucket="cut-bucket", Key="after", Body=b"ok")
    assert client.get_object(Bucket="cut-bucket", Key="after")["Body"].read() == b"ok"


def test_bad_keys_and_metadata(fresh):
    client = make_bucket(fresh, "key-bucket")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_object(Bucket="key-bucket", Key="k" * 1025, Body=b"x")
    assert err(e) == ("KeyTooLongError", 400, "Your key is too long")
    client.put_object(Bucket="key-bucket", Key="k" * 1024, Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_object(Bucket="key-bucket", Key="m", Body=b"x", Metadata={"big": "v" * 2100})
    assert err(e)[:2] == ("MetadataTooLarge", 400)
    # Odd characters survive the round trip, path style.
    for key in ["a b+c/ü?x=1&y", "semi;colon", "dir//double", "%41"]:
        client.put_object(Bucket="key-bucket", Key=key, Body=key.encode())
        assert client.get_object(Bucket="key-bucket", Key=key)["Body"].read() == key.encode()


def test_copy_object(fresh):
    client = make_bucket(fresh, "copy-src")
    make_bucket(fresh, "copy-dst")
    client.put_object(Bucket="copy-src", Key="a b", Body=b"copy me", ContentType="text/x", Metadata={"m": "1"},
                      ChecksumAlgorithm="SHA256")
    r = client.copy_object(Bucket="copy-dst", Key="copy", CopySource={"Bucket": "copy-src", "Key": "a b"})
    assert r["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copy me").hexdigest()}"'
    assert r["CopyObjectResult"]["ChecksumSHA256"] == b64(hashlib.sha256(b"copy me").digest())
    g = client.get_object(Bucket="copy-dst", Key="copy")
    assert (g["Body"].read(), g["ContentType"], g["Metadata"]) == (b"copy me", "text/x", {"m": "1"})
    client.copy_object(Bucket="copy-dst", Key="copy", CopySource="copy-src/a b", MetadataDirective="REPLACE",
                       ContentType="text/y", Metadata={"n": "2"})
    g = client.get_object(Bucket="copy-dst", Key="copy")
    assert (g["ContentType"], g["Metadata"]) == ("text/y", {"n": "2"})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.copy_object(Bucket="copy-src", Key="a b", CopySource={"Bucket": "copy-src", "Key": "a b"})
    assert err(e)[:2] == ("InvalidRequest", 400)
    assert err(e)[2].startswith("This copy request is illegal because it is trying to copy an object to itself")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.copy_object(Bucket="copy-dst", Key="x", CopySource={"Bucket": "copy-src", "Key": "missing"})
    assert err(e)[:2] == ("NoSuchKey", 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.copy_object(Bucket="copy-dst", Key="x", CopySource={"Bucket": "copy-src", "Key": "a b"},
                           CopySourceIfMatch='"nope"')
    assert err(e)[:2] == ("PreconditionFailed", 412)


def test_delete_objects(fresh):
    client = make_bucket(fresh, "multi-del")
    for k in ["a", "b", "c"]:
        client.put_object(Bucket="multi-del", Key=k, Body=b"x")
    r = client.delete_objects(Bucket="multi-del", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["a", "b", "zz"]
    assert "Errors" not in r
    r = client.delete_objects(Bucket="multi-del", Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in r
    assert client.list_objects_v2(Bucket="multi-del")["KeyCount"] == 0
    status, _, body, _ = signed(fresh, "POST", "/multi-del?delete", b"<Delete><Object><Key>a</Key></Object></Delete>")
    assert (status, code_of(body)) == (400, "InvalidRequest")
    body = b"<Delete><Object><Key>a</Key></Object>"
    status, _, text, _ = signed(fresh, "POST", "/multi-del?delete", body, {"Content-MD5": b64(hashlib.md5(body).digest())})
    assert (status, code_of(text)) == (400, "MalformedXML")


# --- multipart -------------------------------------------------------------------------------


def test_multipart_api(fresh):
    client = make_bucket(fresh, "mpu-bucket")
    up = client.create_multipart_upload(Bucket="mpu-bucket", Key="big", ChecksumAlgorithm="CRC32",
                                        ContentType="application/x-big", Metadata={"k": "v"})
    uid = up["UploadId"]
    assert up["ChecksumAlgorithm"] == "CRC32"
    p1 = b"a" * (5 * 1024 * 1024)
    p2 = b"tail"
    r1 = client.upload_part(Bucket="mpu-bucket", Key="big", UploadId=uid, PartNumber=1, Body=p1, ChecksumAlgorithm="CRC32")
    r2 = client.upload_part(Bucket="mpu-bucket", Key="big", UploadId=uid, PartNumber=2, Body=p2, ChecksumAlgorithm="CRC32")
    assert r1["ETag"] == f'"{hashlib.md5(p1).hexdigest()}"' and r1["ChecksumCRC32"] == crc32_b64(p1)
    parts = client.list_parts(Bucket="mpu-bucket", Key="big", UploadId=uid)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts["Parts"]] == [
        (1, len(p1), r1["ETag"]), (2, 4, r2["ETag"])]
    uploads = client.list_multipart_uploads(Bucket="mpu-bucket")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big", uid)]
    # Not visible before completion.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.head_object(Bucket="mpu-bucket", Key="big")
    assert err(e)[:2] == ("404", 404)

    def complete(parts):
        return client.complete_multipart_upload(Bucket="mpu-bucket", Key="big", UploadId=uid,
                                                MultipartUpload={"Parts": parts})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        complete([{"PartNumber": 2, "ETag": r2["ETag"]}, {"PartNumber": 1, "ETag": r1["ETag"]}])
    assert err(e)[:2] == ("InvalidPartOrder", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        complete([{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}])
    assert err(e)[:2] == ("InvalidPart", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        complete([{"PartNumber": 1, "ETag": r1["ETag"], "ChecksumCRC32": crc32_b64(b"wrong")}])
    assert err(e)[:2] == ("InvalidPart", 400)
    done = complete([
        {"PartNumber": 1, "ETag": r1["ETag"], "ChecksumCRC32": r1["ChecksumCRC32"]},
        {"PartNumber": 2, "ETag": r2["ETag"], "ChecksumCRC32": r2["ChecksumCRC32"]},
    ])
    md5s = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest()
    assert done["ETag"] == f'"{md5s}-2"'
    composite = b64(zlib.crc32(base64.b64decode(r1["ChecksumCRC32"]) + base64.b64decode(r2["ChecksumCRC32"])).to_bytes(4, "big"))
    assert done["ChecksumCRC32"] == f"{composite}-2"
    g = client.get_object(Bucket="mpu-bucket", Key="big")
    assert g["Body"].read() == p1 + p2
    assert (g["ContentType"], g["Metadata"], g["ETag"]) == ("application/x-big", {"k": "v"}, f'"{md5s}-2"')
    r = client.get_object(Bucket="mpu-bucket", Key="big", Range=f"bytes={len(p1) - 2}-{len(p1) + 1}")
    assert r["Body"].read() == b"aata"
    p = client.get_object(Bucket="mpu-bucket", Key="big", PartNumber=2)
    assert (p["Body"].read(), p["PartsCount"], p["ResponseMetadata"]["HTTPStatusCode"]) == (b"tail", 2, 206)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.upload_part(Bucket="mpu-bucket", Key="big", UploadId=uid, PartNumber=3, Body=b"x")
    assert err(e)[:2] == ("NoSuchUpload", 404)

    # Parts copied from ranges of an existing object.
    uid3 = client.create_multipart_upload(Bucket="mpu-bucket", Key="copied")["UploadId"]
    c1 = client.upload_part_copy(Bucket="mpu-bucket", Key="copied", UploadId=uid3, PartNumber=1,
                                 CopySource={"Bucket": "mpu-bucket", "Key": "big"},
                                 CopySourceRange=f"bytes=0-{len(p1) - 1}")
    c2 = client.upload_part_copy(Bucket="mpu-bucket", Key="copied", UploadId=uid3, PartNumber=2,
                                 CopySource={"Bucket": "mpu-bucket", "Key": "big"},
                                 CopySourceRange=f"bytes={len(p1)}-{len(p1) + 3}")
    assert c1["CopyPartResult"]["ETag"] == r1["ETag"] and c2["CopyPartResult"]["ETag"] == r2["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.upload_part_copy(Bucket="mpu-bucket", Key="copied", UploadId=uid3, PartNumber=3,
                                CopySource={"Bucket": "mpu-bucket", "Key": "big"}, CopySourceRange="bytes=0-99999999")
    assert err(e)[:2] == ("InvalidArgument", 400)
    done = client.complete_multipart_upload(Bucket="mpu-bucket", Key="copied", UploadId=uid3, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": c1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": c2["CopyPartResult"]["ETag"]}]})
    assert done["ETag"] == f'"{md5s}-2"'
    assert client.get_object(Bucket="mpu-bucket", Key="copied")["Body"].read() == p1 + p2
    client.delete_object(Bucket="mpu-bucket", Key="copied")

    # Small parts, and aborting.
    uid2 = client.create_multipart_upload(Bucket="mpu-bucket", Key="small")["UploadId"]
    e1 = client.upload_part(Bucket="mpu-bucket", Key="small", UploadId=uid2, PartNumber=1, Body=b"x")["ETag"]
    e2 = client.upload_part(Bucket="mpu-bucket", Key="small", UploadId=uid2, PartNumber=2, Body=b"y")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.complete_multipart_upload(Bucket="mpu-bucket", Key="small", UploadId=uid2, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert err(e) == ("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.upload_part(Bucket="mpu-bucket", Key="small", UploadId=uid2, PartNumber=10001, Body=b"x")
    assert err(e)[:2] == ("InvalidArgument", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.delete_bucket(Bucket="mpu-bucket")
    assert err(e)[:2] == ("BucketNotEmpty", 409)
    r = client.abort_multipart_upload(Bucket="mpu-bucket", Key="small", UploadId=uid2)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.abort_multipart_upload(Bucket="mpu-bucket", Key="small", UploadId=uid2)
    assert err(e)[:2] == ("NoSuchUpload", 404)
    assert client.list_multipart_uploads(Bucket="mpu-bucket").get("Uploads", []) == []
    time.sleep(0.2)
    assert blob_files(fresh) == 2  # the two parts of "big"


def test_cli_large_files_sync_rm_and_presign(fresh, tmpdir_path):
    fresh.cli("s3", "mb", "s3://cli-bucket", region="us-east-1")
    big = os.path.join(tmpdir_path, "big.bin")
    chunk = os.urandom(1024 * 1024)
    with open(big, "wb") as f:
        for i in range(100):
            f.write(chunk[i:] + chunk[:i])
    fresh.cli("s3", "cp", big, "s3://cli-bucket/big.bin")
    head = s3(fresh).head_object(Bucket="cli-bucket", Key="big.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == 100 * 1024 * 1024
    # 100 MiB in 8 MiB parts: a multipart upload of 13 parts with a composite CRC32.
    assert head["ETag"].endswith('-13"') and head["ChecksumCRC32"].endswith("-13")
    # Bucket to bucket: a multipart copy (UploadPartCopy) for an object this size.
    fresh.cli("s3", "cp", "s3://cli-bucket/big.bin", "s3://cli-bucket/copy.bin")
    copy = s3(fresh).head_object(Bucket="cli-bucket", Key="copy.bin")
    assert copy["ContentLength"] == 100 * 1024 * 1024 and copy["ETag"].endswith('-13"')
    tail = s3(fresh).get_object(Bucket="cli-bucket", Key="copy.bin", Range="bytes=-1048576")["Body"].read()
    assert tail == chunk[99:] + chunk[:99]
    back = os.path.join(tmpdir_path, "back.bin")
    fresh.cli("s3", "cp", "s3://cli-bucket/big.bin", back)
    with open(big, "rb") as a, open(back, "rb") as b:
        assert hashlib.sha256(a.read()).digest() == hashlib.sha256(b.read()).digest()

    tree = os.path.join(tmpdir_path, "tree")
    for rel in ["a/1.txt", "a/b/2.txt", "c d/3+4.txt"]:
        os.makedirs(os.path.dirname(os.path.join(tree, rel)), exist_ok=True)
        with open(os.path.join(tree, rel), "w") as f:
            f.write(rel)
    fresh.cli("s3", "sync", tree, "s3://cli-bucket/tree/")
    _, out, _ = fresh.cli("s3", "ls", "--recursive", "s3://cli-bucket/tree/")
    assert [line.split(None, 3)[3] for line in out.splitlines()] == ["tree/a/1.txt", "tree/a/b/2.txt", "tree/c d/3+4.txt"]
    _, out, _ = fresh.cli("s3", "ls", "s3://cli-bucket/tree/")
    assert [line.split(None, 1)[1] for line in out.splitlines()] == ["a/", "c d/"]
    # A second sync has nothing to do.
    _, out, _ = fresh.cli("s3", "sync", tree, "s3://cli-bucket/tree/")
    assert out == ""

    # us-east-1: SigV2 query strings (the CLI's default there); other regions: SigV4.
    for region, marker in [("us-east-1", "AWSAccessKeyId="), ("us-east-2", "X-Amz-Signature=")]:
        _, url, _ = fresh.cli("s3", "presign", "s3://cli-bucket/tree/a/1.txt", "--expires-in", "60", region=region)
        assert marker in url
        with urllib.request.urlopen(url.strip()) as r:
            assert r.read() == b"a/1.txt"
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url.strip().replace("1.txt", "2.txt"))
        assert e.value.code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in e.value.read()

    _, out, _ = fresh.cli("s3", "rm", "--recursive", "s3://cli-bucket/tree/")
    assert out.count("delete: s3://cli-bucket/tree/") == 3
    assert s3(fresh).list_objects_v2(Bucket="cli-bucket", Prefix="tree/")["KeyCount"] == 0


# --- listing ---------------------------------------------------------------------------------


def test_listing_prefixes_delimiters_and_encoding(fresh):
    client = make_bucket(fresh, "list-bucket")
    keys = ["AWSLogs/111111111111/a.json", "AWSLogs/111111111111/b.json", "AWSLogs/o-x/222/c.json",
            "AWSLogs/o-x/333/d.json", "top.txt", "plus+and space.txt", "z/ü.txt"]
    for k in keys:
        client.put_object(Bucket="list-bucket", Key=k, Body=b"x")
    r = client.list_objects_v2(Bucket="list-bucket", Delimiter="/")
    assert [c["Prefix"] for c in r["CommonPrefixes"]] == ["AWSLogs/", "z/"]
    assert [c["Key"] for c in r["Contents"]] == ["plus+and space.txt", "top.txt"]
    assert (r["KeyCount"], r["IsTruncated"], r["EncodingType"]) == (4, False, "url")
    assert "Owner" not in r["Contents"][0]
    r = client.list_objects_v2(Bucket="list-bucket", Prefix="AWSLogs/", Delimiter="/")
    assert [c["Prefix"] for c in r["CommonPrefixes"]] == ["AWSLogs/111111111111/", "AWSLogs/o-x/"]
    r = client.list_objects_v2(Bucket="list-bucket", Prefix="AWSLogs/o-x/", StartAfter="AWSLogs/o-x/222/c.json")
    assert [c["Key"] for c in r["Contents"]] == ["AWSLogs/o-x/333/d.json"]
    assert r["StartAfter"] == "AWSLogs/o-x/222/c.json"
    r = client.list_objects_v2(Bucket="list-bucket", FetchOwner=True, MaxKeys=1)
    assert r["Contents"][0]["Owner"]["ID"] == canonical_id(MANAGEMENT)
    assert (r["IsTruncated"], r["KeyCount"], r["MaxKeys"]) == (True, 1, 1)
    c = r["Contents"][0]
    assert (c["Size"], c["ETag"], c["StorageClass"], c["ChecksumAlgorithm"]) == (
        1, '"9dd4e461268c8034f5c8564e155c67a6"', "STANDARD", ["CRC32"])

    # The raw wire form: + and space percent-encoded, as botocore's unquote_plus needs.
    status, _, body, _ = signed(fresh, "GET", "/list-bucket?list-type=2&prefix=plus&encoding-type=url")
    assert status == 200 and b"<Key>plus%2Band%20space.txt</Key>" in body
    status, _, body, _ = signed(fresh, "GET", "/list-bucket?list-type=2&encoding-type=xml")
    assert (status, code_of(body)) == (400, "InvalidArgument")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.list_objects_v2(Bucket="list-bucket", ContinuationToken="!!!not-a-token")
    assert err(e) == ("InvalidArgument", 400, "The continuation token provided is incorrect")

    # v1 with a delimiter pages by NextMarker, which may be a common prefix.
    r = client.list_objects(Bucket="list-bucket", Delimiter="/", MaxKeys=1)
    assert (r["IsTruncated"], r["NextMarker"], [p["Prefix"] for p in r["CommonPrefixes"]]) == (True, "AWSLogs/", ["AWSLogs/"])
    r = client.list_objects(Bucket="list-bucket", Delimiter="/", Marker="AWSLogs/")
    assert [c["Key"] for c in r["Contents"]] == ["plus+and space.txt", "top.txt"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["z/"]
    assert r["Contents"][0]["Owner"]["ID"] == canonical_id(MANAGEMENT)
    assert "NextMarker" not in r and r["IsTruncated"] is False


def test_listing_pagination_over_many_keys(fresh):
    client = make_bucket(fresh, "page-bucket")
    keys = sorted(f"k/{i:05d}" for i in range(1203)) + ["m/x"]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: client.put_object(Bucket="page-bucket", Key=k, Body=b""), keys))
    pages = list(client.get_paginator("list_objects_v2").paginate(Bucket="page-bucket", PaginationConfig={"PageSize": 500}))
    assert [p["KeyCount"] for p in pages] == [500, 500, 204]
    assert [c["Key"] for p in pages for c in p["Contents"]] == keys
    assert all("NextContinuationToken" in p for p in pages[:2]) and "NextContinuationToken" not in pages[2]
    first = client.list_objects_v2(Bucket="page-bucket")
    assert (first["KeyCount"], first["IsTruncated"], first["MaxKeys"]) == (1000, True, 1000)
    # v1, as `aws cloudtrail validate-logs` pages it (Marker = last key).
    pages = list(client.get_paginator("list_objects").paginate(Bucket="page-bucket", PaginationConfig={"PageSize": 700}))
    assert [len(p["Contents"]) for p in pages] == [700, 504]
    assert pages[1]["Marker"] == keys[699]
    # With a delimiter, a thousand keys under one prefix are one entry.
    r = client.list_objects_v2(Bucket="page-bucket", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["k/", "m/"] and r["KeyCount"] == 2
    _, out, _ = fresh.cli("s3", "ls", "s3://page-bucket/k/")
    assert len(out.splitlines()) == 1203


# --- bucket policies -------------------------------------------------------------------------


def policy_doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_bucket_policy_crud_and_validation(fresh):
    client = make_bucket(fresh, "pol-bucket")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_bucket_policy(Bucket="pol-bucket")
    assert err(e) == ("NoSuchBucketPolicy", 404, "The bucket policy does not exist")
    text = policy_doc({"Sid": "R", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                       "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pol-bucket/*"})
    r = client.put_bucket_policy(Bucket="pol-bucket", Policy=text)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.get_bucket_policy(Bucket="pol-bucket")["Policy"] == text
    for bad, message in [
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        ('{"Version": "2012-10-17"}', "Missing required field Statement"),
        (policy_doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::other-bucket/*"}), "Policy has invalid resource"),
        (policy_doc({"Effect": "Allow", "Principal": "*", "Action": "ec2:RunInstances",
                     "Resource": "arn:aws:s3:::pol-bucket/*"}), "Policy has invalid action"),
        (policy_doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pol-bucket/*"}), "Invalid principal in policy"),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            client.put_bucket_policy(Bucket="pol-bucket", Policy=bad)
        assert err(e) == ("MalformedPolicy", 400, message)
    assert client.get_bucket_policy(Bucket="pol-bucket")["Policy"] == text
    assert client.delete_bucket_policy(Bucket="pol-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.delete_bucket_policy(Bucket="pol-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_bucket_policy(Bucket="pol-bucket")
    assert err(e)[:2] == ("NoSuchBucketPolicy", 404)


def test_policies_enforced_across_accounts_and_anonymous(fresh):
    owner = make_bucket(fresh, "shared-bucket")
    # Public policies need the bucket's default public access block off.
    owner.delete_public_access_block(Bucket="shared-bucket")
    owner.put_object(Bucket="shared-bucket", Key="AWSLogs/222222222222/log.json", Body=b"theirs")
    owner.put_object(Bucket="shared-bucket", Key="private/secret", Body=b"mine")
    other = s3(fresh, **member(fresh))
    for call in [
        lambda: other.get_object(Bucket="shared-bucket", Key="AWSLogs/222222222222/log.json"),
        lambda: other.list_objects_v2(Bucket="shared-bucket"),
        lambda: other.put_object(Bucket="shared-bucket", Key="x", Body=b"x"),
        lambda: other.get_bucket_acl(Bucket="shared-bucket"),
        lambda: other.delete_object(Bucket="shared-bucket", Key="private/secret"),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert err(e) == ("AccessDenied", 403, "Access Denied")
    # Without a grant, policy operations are refused; with one, only the owner may (405).
    with pytest.raises(botocore.exceptions.ClientError) as e:
        other.get_bucket_policy(Bucket="shared-bucket")
    assert err(e)[:2] == ("AccessDenied", 403)

    owner.put_bucket_policy(Bucket="shared-bucket", Policy=policy_doc(
        {"Effect": "Allow", "Principal": {"AWS": MEMBER}, "Action": ["s3:GetObject"],
         "Resource": f"arn:aws:s3:::shared-bucket/AWSLogs/{MEMBER}/*"},
        {"Effect": "Allow", "Principal": {"AWS": MEMBER}, "Action": ["s3:GetBucketPolicy"],
         "Resource": "arn:aws:s3:::shared-bucket"},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::shared-bucket/public/*"},
    ))
    assert other.get_object(Bucket="shared-bucket", Key=f"AWSLogs/{MEMBER}/log.json")["Body"].read() == b"theirs"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        other.get_object(Bucket="shared-bucket", Key="private/secret")
    assert err(e)[:2] == ("AccessDenied", 403)
    # A missing key reads as AccessDenied to a caller who may not list the bucket.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        other.get_object(Bucket="shared-bucket", Key=f"AWSLogs/{MEMBER}/missing.json")
    assert err(e) == ("AccessDenied", 403, "Access Denied")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        other.get_bucket_policy(Bucket="shared-bucket")
    assert err(e) == ("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")

    anon = anonymous(fresh)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        anon.get_object(Bucket="shared-bucket", Key="public/nothing")
    assert err(e)[:2] == ("AccessDenied", 403)
    owner.put_object(Bucket="shared-bucket", Key="public/page.html", Body=b"<p>hi</p>")
    assert anon.get_object(Bucket="shared-bucket", Key="public/page.html")["Body"].read() == b"<p>hi</p>"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        anon.get_object(Bucket="shared-bucket", Key="private/secret")
    assert err(e)[:2] == ("AccessDenied", 403)
    # aws:SourceIp: the anonymous grant can be limited to an address range.
    for cidr, allowed in [("127.0.0.0/8", True), ("10.0.0.0/8", False)]:
        owner.put_bucket_policy(Bucket="shared-bucket", Policy=policy_doc(
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::shared-bucket/public/*",
             "Condition": {"IpAddress": {"aws:SourceIp": cidr}}}))
        if allowed:
            assert anon.get_object(Bucket="shared-bucket", Key="public/page.html")["Body"].read() == b"<p>hi</p>"
        else:
            with pytest.raises(botocore.exceptions.ClientError) as e:
                anon.get_object(Bucket="shared-bucket", Key="public/page.html")
            assert err(e)[:2] == ("AccessDenied", 403)
    # With s3:ListBucket, the member learns the key is missing.
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": MEMBER}, "Action": ["s3:GetObject"],
         "Resource": f"arn:aws:s3:::shared-bucket/AWSLogs/{MEMBER}/*"}]}
    policy["Statement"].append({"Effect": "Allow", "Principal": {"AWS": MEMBER}, "Action": "s3:ListBucket",
                                "Resource": "arn:aws:s3:::shared-bucket"})
    owner.put_bucket_policy(Bucket="shared-bucket", Policy=json.dumps(policy))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        other.get_object(Bucket="shared-bucket", Key=f"AWSLogs/{MEMBER}/missing.json")
    assert err(e)[:2] == ("NoSuchKey", 404)
    assert other.list_objects_v2(Bucket="shared-bucket")["KeyCount"] == 3


def test_deny_statements_conditions_and_the_owner_root(fresh):
    owner = make_bucket(fresh, "deny-bucket")
    owner.put_object(Bucket="deny-bucket", Key="k", Body=b"x")
    owner.put_bucket_policy(Bucket="deny-bucket", Policy=policy_doc(
        {"Sid": "NoPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::deny-bucket", "arn:aws:s3:::deny-bucket/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
    # Cairn is reached over plain HTTP here: the bucket's own admin is now locked out...
    for call in [lambda: owner.get_object(Bucket="deny-bucket", Key="k"),
                 lambda: owner.get_bucket_policy(Bucket="deny-bucket"),
                 lambda: owner.delete_bucket_policy(Bucket="deny-bucket")]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert err(e)[:2] == ("AccessDenied", 403)
    # ...but the owner account's root can always manage the policy.
    root = fresh.admin("create-access-key", "--account-id", MANAGEMENT, "--root")["AccessKey"]
    root_client = s3(fresh, key=root["AccessKeyId"], secret=root["SecretAccessKey"])
    assert "NoPlainHttp" in root_client.get_bucket_policy(Bucket="deny-bucket")["Policy"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        root_client.get_object(Bucket="deny-bucket", Key="k")
    assert err(e)[:2] == ("AccessDenied", 403)
    root_client.delete_bucket_policy(Bucket="deny-bucket")
    assert owner.get_object(Bucket="deny-bucket", Key="k")["Body"].read() == b"x"

    # s3:x-amz-acl, as the CloudTrail bucket policy requires it, for a writer from another account.
    writer = s3(fresh, **member(fresh))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        writer.put_object(Bucket="deny-bucket", Key="w", Body=b"x")
    assert err(e)[:2] == ("AccessDenied", 403)
    owner.put_bucket_policy(Bucket="deny-bucket", Policy=policy_doc(
        {"Effect": "Allow", "Principal": {"AWS": MEMBER}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::deny-bucket/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        writer.put_object(Bucket="deny-bucket", Key="w", Body=b"x")
    assert err(e)[:2] == ("AccessDenied", 403)
    writer.put_object(Bucket="deny-bucket", Key="w", Body=b"x", ACL="bucket-owner-full-control")
    # Under BucketOwnerEnforced the bucket owner owns what others write.
    acl = owner.get_object_acl(Bucket="deny-bucket", Key="w")
    assert acl["Owner"]["ID"] == canonical_id(MANAGEMENT)
    # The same kind of rule on listings: s3:prefix.
    owner.put_bucket_policy(Bucket="deny-bucket", Policy=policy_doc(
        {"Effect": "Allow", "Principal": {"AWS": MEMBER}, "Action": "s3:ListBucket",
         "Resource": "arn:aws:s3:::deny-bucket", "Condition": {"StringLike": {"s3:prefix": "mine/*"}}}))
    assert writer.list_objects_v2(Bucket="deny-bucket", Prefix="mine/")["KeyCount"] == 0
    with pytest.raises(botocore.exceptions.ClientError) as e:
        writer.list_objects_v2(Bucket="deny-bucket")
    assert err(e)[:2] == ("AccessDenied", 403)


# --- addressing ------------------------------------------------------------------------------


def test_virtual_hosted_requests(fresh):
    client = make_bucket(fresh, "vhost-bucket")
    port = urllib.parse.urlparse(fresh.endpoint).port
    host = f"vhost-bucket.localhost:{port}"
    status, headers, body, _ = signed(fresh, "PUT", "/dir/a%20b.txt", b"virtual", host=host)
    assert status == 200 and headers["etag"] == f'"{hashlib.md5(b"virtual").hexdigest()}"'
    assert client.get_object(Bucket="vhost-bucket", Key="dir/a b.txt")["Body"].read() == b"virtual"
    status, _, body, _ = signed(fresh, "GET", "/dir/a%20b.txt", host=host)
    assert (status, body) == (200, b"virtual")
    status, _, body, _ = signed(fresh, "GET", "/?list-type=2", host=host)
    assert status == 200 and b"<Name>vhost-bucket</Name>" in body and b"<Key>dir/a b.txt</Key>" in body
    status, _, body, _ = signed(fresh, "GET", "/?location", host=host)
    assert status == 200 and b"<LocationConstraint" in body
    status, headers, _, _ = signed(fresh, "HEAD", "/", host=host)
    assert status == 200 and headers["x-amz-bucket-region"] == "us-east-1"
    status, _, body, _ = signed(fresh, "GET", "/missing", host=host)
    assert (status, code_of(body)) == (404, "NoSuchKey")
    # A SigV2 presigned URL for a virtual-hosted address (signed over /<bucket>/<key>).
    v = boto3.client("s3", endpoint_url=f"http://localhost:{port}", region_name="us-east-1",
                     aws_access_key_id="test", aws_secret_access_key="test",
                     config=botocore.config.Config(s3={"addressing_style": "virtual"}))
    url = urllib.parse.urlparse(v.generate_presigned_url("get_object", Params={"Bucket": "vhost-bucket", "Key": "dir/a b.txt"}))
    assert url.netloc == host and "AWSAccessKeyId=" in url.query
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", f"{url.path}?{url.query}", headers={"Host": host})
    r = c.getresponse()
    assert (r.status, r.read()) == (200, b"virtual")


def test_sigv4_presigned_get_and_expiry(fresh):
    client = make_bucket(fresh, "presign-bucket")
    client.put_object(Bucket="presign-bucket", Key="p", Body=b"presigned")
    v4 = s3(fresh, signature_version="s3v4")
    url = v4.generate_presigned_url("get_object", Params={"Bucket": "presign-bucket", "Key": "p"}, ExpiresIn=30)
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url) as r:
        assert r.read() == b"presigned"
    fresh.advance_clock(60)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url)
    body = e.value.read()
    assert e.value.code == 403 and b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body

"""S3 bucket and object configurations: tags (and tag conditions in policies), default
encryption and the encryption headers of objects, Block Public Access (and its enforcement),
CORS, website, notifications, logging and lifecycle configurations; their authorization and
their CloudTrail records. Driven by boto3 and the AWS CLI."""

import json

import botocore.exceptions
import pytest

from conftest import MANAGEMENT
from test_s3 import anonymous, err, make_bucket, member, MEMBER, policy_doc, s3

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def raises(call, *args, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(*args, **kw)
    return err(e)


def tagset(d):
    return [{"Key": k, "Value": v} for k, v in d.items()]


# --- tags ------------------------------------------------------------------------------------


def test_bucket_tagging(fresh):
    c = make_bucket(fresh, "tag-bucket")
    assert raises(c.get_bucket_tagging, Bucket="tag-bucket") == ("NoSuchTagSet", 404, "The TagSet does not exist")
    r = c.put_bucket_tagging(Bucket="tag-bucket", Tagging={"TagSet": tagset({"env": "prod", "team": "a b"})})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert c.get_bucket_tagging(Bucket="tag-bucket")["TagSet"] == tagset({"env": "prod", "team": "a b"})
    _, out, _ = fresh.cli("s3api", "get-bucket-tagging", "--bucket", "tag-bucket", region="us-east-1")
    assert json.loads(out) == {"TagSet": tagset({"env": "prod", "team": "a b"})}
    for bad, message in [
        ([{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}], "Cannot provide multiple Tags with the same key"),
        (tagset({"aws:x": "1"}), "System tags cannot be added/updated by requester"),
        (tagset({"k#": "1"}), "The TagKey you have provided is invalid"),
        (tagset({"k": "v" * 257}), "The TagValue you have provided is invalid"),
        (tagset({f"k{i}": "v" for i in range(51)}), "Bucket tag count cannot be greater than 50"),
    ]:
        assert raises(c.put_bucket_tagging, Bucket="tag-bucket", Tagging={"TagSet": bad}) == ("InvalidTag", 400, message)
    c.put_bucket_tagging(Bucket="tag-bucket", Tagging={"TagSet": tagset({f"k{i}": "v" for i in range(50)})})
    assert len(c.get_bucket_tagging(Bucket="tag-bucket")["TagSet"]) == 50
    assert c.delete_bucket_tagging(Bucket="tag-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert raises(c.get_bucket_tagging, Bucket="tag-bucket")[:2] == ("NoSuchTagSet", 404)
    assert raises(c.get_bucket_tagging, Bucket="no-such-tag-bucket")[:2] == ("NoSuchBucket", 404)


def test_object_tagging(fresh):
    c = make_bucket(fresh, "otag-bucket")
    c.put_object(Bucket="otag-bucket", Key="k", Body=b"x", Tagging="a=1&b=x%20y")
    assert c.head_object(Bucket="otag-bucket", Key="k")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    assert c.get_object(Bucket="otag-bucket", Key="k")["TagCount"] == 2
    assert c.get_object_tagging(Bucket="otag-bucket", Key="k")["TagSet"] == tagset({"a": "1", "b": "x y"})
    c.put_object_tagging(Bucket="otag-bucket", Key="k", Tagging={"TagSet": tagset({"c": "3"})})
    assert c.get_object_tagging(Bucket="otag-bucket", Key="k")["TagSet"] == tagset({"c": "3"})
    assert raises(c.put_object_tagging, Bucket="otag-bucket", Key="k",
                  Tagging={"TagSet": tagset({f"k{i}": "v" for i in range(11)})}) == (
        "BadRequest", 400, "Object tags cannot be greater than 10")
    assert raises(c.put_object_tagging, Bucket="otag-bucket", Key="k", Tagging={"TagSet": tagset({"aws:k": "v"})}) == (
        "InvalidTag", 400, "Your TagKey cannot be prefixed with aws:")
    assert raises(c.put_object, Bucket="otag-bucket", Key="k2", Body=b"x", Tagging="a=1&a=2")[:2] == ("InvalidArgument", 400)
    assert raises(c.get_object_tagging, Bucket="otag-bucket", Key="missing")[:2] == ("NoSuchKey", 404)
    # CopyObject: the source's tags by default, the request's with REPLACE.
    c.copy_object(Bucket="otag-bucket", Key="copy", CopySource="otag-bucket/k")
    assert c.get_object_tagging(Bucket="otag-bucket", Key="copy")["TagSet"] == tagset({"c": "3"})
    c.copy_object(Bucket="otag-bucket", Key="copy2", CopySource="otag-bucket/k", Tagging="d=4", TaggingDirective="REPLACE")
    assert c.get_object_tagging(Bucket="otag-bucket", Key="copy2")["TagSet"] == tagset({"d": "4"})
    # Multipart uploads take their tags at creation.
    up = c.create_multipart_upload(Bucket="otag-bucket", Key="mp", Tagging="m=1")
    part = c.upload_part(Bucket="otag-bucket", Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    c.complete_multipart_upload(Bucket="otag-bucket", Key="mp", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert c.get_object_tagging(Bucket="otag-bucket", Key="mp")["TagSet"] == tagset({"m": "1"})
    assert c.delete_object_tagging(Bucket="otag-bucket", Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert c.get_object_tagging(Bucket="otag-bucket", Key="k")["TagSet"] == []
    assert "TagCount" not in c.head_object(Bucket="otag-bucket", Key="k")
    _, out, _ = fresh.cli("s3api", "get-object-tagging", "--bucket", "otag-bucket", "--key", "mp", region="us-east-1")
    assert json.loads(out) == {"TagSet": [{"Key": "m", "Value": "1"}]}


def test_tag_conditions_in_a_bucket_policy(fresh):
    owner = make_bucket(fresh, "cond-bucket")
    other = s3(fresh, **member(fresh))
    owner.put_object(Bucket="cond-bucket", Key="open", Body=b"o", Tagging="share=yes")
    owner.put_object(Bucket="cond-bucket", Key="closed", Body=b"c", Tagging="share=no")
    owner.put_bucket_policy(Bucket="cond-bucket", Policy=policy_doc(
        {"Effect": "Allow", "Principal": {"AWS": MEMBER}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::cond-bucket/*",
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/share": "yes"}}},
        {"Effect": "Allow", "Principal": {"AWS": MEMBER}, "Action": ["s3:PutObject", "s3:PutObjectTagging"],
         "Resource": "arn:aws:s3:::cond-bucket/*",
         "Condition": {"StringEquals": {"s3:RequestObjectTag/team": "blue"},
                       "ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team"]}}},
    ))
    assert other.get_object(Bucket="cond-bucket", Key="open")["Body"].read() == b"o"
    assert raises(other.get_object, Bucket="cond-bucket", Key="closed") == ("AccessDenied", 403, "Access Denied")
    other.put_object(Bucket="cond-bucket", Key="w", Body=b"w", Tagging="team=blue")
    assert owner.get_object_tagging(Bucket="cond-bucket", Key="w")["TagSet"] == tagset({"team": "blue"})
    for tagging in ["team=red", "team=blue&extra=1", None]:
        kw = {"Tagging": tagging} if tagging else {}
        assert raises(other.put_object, Bucket="cond-bucket", Key="w2", Body=b"w", **kw)[:2] == ("AccessDenied", 403)
    # Re-tagging an object opens or closes it.
    owner.put_object_tagging(Bucket="cond-bucket", Key="closed", Tagging={"TagSet": tagset({"share": "yes"})})
    assert other.get_object(Bucket="cond-bucket", Key="closed")["Body"].read() == b"c"


# --- encryption ------------------------------------------------------------------------------


def test_default_encryption_and_object_headers(fresh):
    c = make_bucket(fresh, "enc-bucket")
    default = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}
    assert c.get_bucket_encryption(Bucket="enc-bucket")["ServerSideEncryptionConfiguration"] == default
    _, out, _ = fresh.cli("s3api", "get-bucket-encryption", "--bucket", "enc-bucket", region="us-east-1")
    assert json.loads(out) == {"ServerSideEncryptionConfiguration": default}
    r = c.put_object(Bucket="enc-bucket", Key="plain", Body=b"x")
    assert r["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in r
    kms = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "1234abcd-12ab-34cd-56ef-1234567890ab"},
                      "BucketKeyEnabled": True}]}
    c.put_bucket_encryption(Bucket="enc-bucket", ServerSideEncryptionConfiguration=kms)
    assert c.get_bucket_encryption(Bucket="enc-bucket")["ServerSideEncryptionConfiguration"] == kms
    key_arn = f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    r = c.put_object(Bucket="enc-bucket", Key="k", Body=b"x")
    assert (r["ServerSideEncryption"], r["SSEKMSKeyId"], r["BucketKeyEnabled"]) == ("aws:kms", key_arn, True)
    for h in [c.head_object(Bucket="enc-bucket", Key="k"), c.get_object(Bucket="enc-bucket", Key="k")]:
        assert (h["ServerSideEncryption"], h["SSEKMSKeyId"], h["BucketKeyEnabled"]) == ("aws:kms", key_arn, True)
    # Objects written before keep their encryption; a request may ask for its own.
    assert c.head_object(Bucket="enc-bucket", Key="plain")["ServerSideEncryption"] == "AES256"
    r = c.put_object(Bucket="enc-bucket", Key="own", Body=b"x", ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in r
    r = c.put_object(Bucket="enc-bucket", Key="own-kms", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/mine")
    assert (r["ServerSideEncryption"], r["SSEKMSKeyId"]) == ("aws:kms", f"arn:aws:kms:us-east-1:{MANAGEMENT}:alias/mine")
    assert raises(c.put_object, Bucket="enc-bucket", Key="bad", Body=b"x", ServerSideEncryption="DES") == (
        "InvalidArgument", 400, "The encryption method specified is not supported")
    assert raises(c.put_object, Bucket="enc-bucket", Key="bad", Body=b"x", ServerSideEncryption="AES256", SSEKMSKeyId="k")[:2] == (
        "InvalidArgument", 400)
    r = c.copy_object(Bucket="enc-bucket", Key="copy", CopySource="enc-bucket/plain")
    assert (r["ServerSideEncryption"], r["SSEKMSKeyId"]) == ("aws:kms", key_arn)
    up = c.create_multipart_upload(Bucket="enc-bucket", Key="mp")
    assert up["ServerSideEncryption"] == "aws:kms"
    part = c.upload_part(Bucket="enc-bucket", Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    assert part["ServerSideEncryption"] == "aws:kms"
    done = c.complete_multipart_upload(Bucket="enc-bucket", Key="mp", UploadId=up["UploadId"],
                                       MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert (done["ServerSideEncryption"], done["SSEKMSKeyId"]) == ("aws:kms", key_arn)
    bad = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]}
    assert raises(c.put_bucket_encryption, Bucket="enc-bucket", ServerSideEncryptionConfiguration=bad)[:2] == ("InvalidArgument", 400)
    bad = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "DES"}}]}
    assert raises(c.put_bucket_encryption, Bucket="enc-bucket", ServerSideEncryptionConfiguration=bad)[:2] == ("MalformedXML", 400)
    assert c.delete_bucket_encryption(Bucket="enc-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert c.get_bucket_encryption(Bucket="enc-bucket")["ServerSideEncryptionConfiguration"] == default
    # aws:kms without a key: the account's AWS managed key for S3.
    r = c.put_object(Bucket="enc-bucket", Key="managed", Body=b"x", ServerSideEncryption="aws:kms")
    assert r["SSEKMSKeyId"].startswith(f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/")


# --- Block Public Access ---------------------------------------------------------------------

PUBLIC_READ = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pab-bucket/*"}


def test_public_access_block_defaults_and_policy_status(fresh):
    c = make_bucket(fresh, "pab-bucket")
    all_on = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    assert c.get_public_access_block(Bucket="pab-bucket")["PublicAccessBlockConfiguration"] == all_on
    assert raises(c.get_bucket_policy_status, Bucket="pab-bucket") == ("NoSuchBucketPolicy", 404, "The bucket policy does not exist")
    code, status, message = raises(c.put_bucket_policy, Bucket="pab-bucket", Policy=policy_doc(PUBLIC_READ))
    assert (code, status) == ("AccessDenied", 403)
    assert message.endswith("because public policies are prevented by the BlockPublicPolicy setting in S3 Block Public Access.")
    # A grant pinned by aws:SourceAccount is not public.
    c.put_bucket_policy(Bucket="pab-bucket", Policy=policy_doc(
        dict(PUBLIC_READ, Condition={"StringEquals": {"aws:SourceAccount": MANAGEMENT}})))
    assert c.get_bucket_policy_status(Bucket="pab-bucket")["PolicyStatus"] == {"IsPublic": False}
    assert c.delete_public_access_block(Bucket="pab-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert raises(c.get_public_access_block, Bucket="pab-bucket") == (
        "NoSuchPublicAccessBlockConfiguration", 404, "The public access block configuration was not found")
    c.put_bucket_policy(Bucket="pab-bucket", Policy=policy_doc(PUBLIC_READ))
    assert c.get_bucket_policy_status(Bucket="pab-bucket")["PolicyStatus"] == {"IsPublic": True}
    _, out, _ = fresh.cli("s3api", "get-bucket-policy-status", "--bucket", "pab-bucket", region="us-east-1")
    assert json.loads(out) == {"PolicyStatus": {"IsPublic": True}}
    c.put_object(Bucket="pab-bucket", Key="page", Body=b"hi")
    anon = anonymous(fresh)
    assert anon.get_object(Bucket="pab-bucket", Key="page")["Body"].read() == b"hi"
    # RestrictPublicBuckets: the public policy stops counting for anyone outside the account.
    c.put_public_access_block(Bucket="pab-bucket", PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    assert c.get_public_access_block(Bucket="pab-bucket")["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": True}
    assert raises(anon.get_object, Bucket="pab-bucket", Key="page")[:2] == ("AccessDenied", 403)
    assert c.get_object(Bucket="pab-bucket", Key="page")["Body"].read() == b"hi"
    c.put_public_access_block(Bucket="pab-bucket", PublicAccessBlockConfiguration={"RestrictPublicBuckets": False})
    assert anon.get_object(Bucket="pab-bucket", Key="page")["Body"].read() == b"hi"


def test_public_acls_blocked_and_ignored(fresh):
    c = s3(fresh)
    assert raises(c.create_bucket, Bucket="pacl-bucket", ObjectOwnership="ObjectWriter", ACL="public-read") == (
        "InvalidBucketAclWithBlockPublicAccessError", 400, "Bucket cannot have public ACLs set with BlockPublicAccess enabled")
    c.create_bucket(Bucket="pacl-bucket", ObjectOwnership="ObjectWriter")
    c.put_object(Bucket="pacl-bucket", Key="k", Body=b"x")
    for call in [lambda: c.put_object_acl(Bucket="pacl-bucket", Key="k", ACL="public-read"),
                 lambda: c.put_bucket_acl(Bucket="pacl-bucket", ACL="authenticated-read"),
                 lambda: c.put_object(Bucket="pacl-bucket", Key="k2", Body=b"x", ACL="public-read"),
                 lambda: c.put_bucket_acl(Bucket="pacl-bucket", GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')]:
        code, status, message = raises(call)
        assert (code, status) == ("AccessDenied", 403)
        assert "BlockPublicAcls" in message
    # With only IgnorePublicAcls, a public ACL can be set but grants nothing.
    c.put_public_access_block(Bucket="pacl-bucket", PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    c.put_object_acl(Bucket="pacl-bucket", Key="k", ACL="public-read")
    anon = anonymous(fresh)
    assert raises(anon.get_object, Bucket="pacl-bucket", Key="k")[:2] == ("AccessDenied", 403)
    c.delete_public_access_block(Bucket="pacl-bucket")
    assert anon.get_object(Bucket="pacl-bucket", Key="k")["Body"].read() == b"x"


# --- CORS, website, notifications, logging, lifecycle ---------------------------------------


def test_cors(fresh):
    c = make_bucket(fresh, "cors-bucket")
    assert raises(c.get_bucket_cors, Bucket="cors-bucket") == (
        "NoSuchCORSConfiguration", 404, "The CORS configuration does not exist")
    rules = [{"ID": "web", "AllowedHeaders": ["*"], "AllowedMethods": ["GET", "PUT"],
              "AllowedOrigins": ["https://*.example.com"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300},
             {"AllowedMethods": ["HEAD"], "AllowedOrigins": ["*"]}]
    c.put_bucket_cors(Bucket="cors-bucket", CORSConfiguration={"CORSRules": rules})
    assert c.get_bucket_cors(Bucket="cors-bucket")["CORSRules"] == rules
    assert raises(c.put_bucket_cors, Bucket="cors-bucket", CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]}) == (
        "InvalidRequest", 400, "Found unsupported HTTP method in CORS config. Unsupported method is PATCH")
    assert raises(c.put_bucket_cors, Bucket="cors-bucket", CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}] * 101})[:2] == ("MalformedXML", 400)
    assert c.delete_bucket_cors(Bucket="cors-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert raises(c.get_bucket_cors, Bucket="cors-bucket")[:2] == ("NoSuchCORSConfiguration", 404)


def test_website(fresh):
    c = make_bucket(fresh, "web-bucket")
    assert raises(c.get_bucket_website, Bucket="web-bucket") == (
        "NoSuchWebsiteConfiguration", 404, "The specified bucket does not have a website configuration")
    cfg = {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"},
           "RoutingRules": [{"Condition": {"KeyPrefixEquals": "docs/"}, "Redirect": {"ReplaceKeyPrefixWith": "documents/"}}]}
    c.put_bucket_website(Bucket="web-bucket", WebsiteConfiguration=cfg)
    got = c.get_bucket_website(Bucket="web-bucket")
    assert {k: got[k] for k in cfg} == cfg
    assert raises(c.put_bucket_website, Bucket="web-bucket", WebsiteConfiguration={"ErrorDocument": {"Key": "e"}}) == (
        "InvalidArgument", 400, "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty")
    c.put_bucket_website(Bucket="web-bucket", WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}})
    assert c.get_bucket_website(Bucket="web-bucket")["RedirectAllRequestsTo"] == {"HostName": "example.com", "Protocol": "https"}
    assert c.delete_bucket_website(Bucket="web-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert raises(c.get_bucket_website, Bucket="web-bucket")[:2] == ("NoSuchWebsiteConfiguration", 404)


def test_notifications(fresh):
    c = make_bucket(fresh, "note-bucket")
    got = c.get_bucket_notification_configuration(Bucket="note-bucket")
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {}
    queue = f"arn:aws:sqs:us-east-1:{MANAGEMENT}:no-such-queue"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.put_bucket_notification_configuration(Bucket="note-bucket", NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}]})
    assert err(e) == ("InvalidArgument", 400, "Unable to validate the following destination configurations")
    assert e.value.response["Error"]["ArgumentName1"] == queue
    c.put_bucket_notification_configuration(Bucket="note-bucket", NotificationConfiguration={"EventBridgeConfiguration": {}})
    got = c.get_bucket_notification_configuration(Bucket="note-bucket")
    assert got["EventBridgeConfiguration"] == {}
    c.put_bucket_notification_configuration(Bucket="note-bucket", NotificationConfiguration={})
    assert "EventBridgeConfiguration" not in c.get_bucket_notification_configuration(Bucket="note-bucket")


def test_logging(fresh):
    c = make_bucket(fresh, "logged-bucket")
    make_bucket(fresh, "log-target")
    assert "LoggingEnabled" not in c.get_bucket_logging(Bucket="logged-bucket")
    enabled = {"TargetBucket": "log-target", "TargetPrefix": "logs/",
               "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}
    c.put_bucket_logging(Bucket="logged-bucket", BucketLoggingStatus={"LoggingEnabled": enabled})
    assert c.get_bucket_logging(Bucket="logged-bucket")["LoggingEnabled"] == enabled
    assert raises(c.put_bucket_logging, Bucket="logged-bucket", BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "no-such-target", "TargetPrefix": ""}}) == (
        "InvalidTargetBucketForLogging", 400, "The target bucket for logging does not exist")
    make_bucket(fresh, "log-elsewhere", region="eu-west-1")
    assert raises(c.put_bucket_logging, Bucket="logged-bucket", BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "log-elsewhere", "TargetPrefix": ""}})[:2] == ("CrossLocationLoggingProhibited", 403)
    theirs = s3(fresh, **member(fresh))
    theirs.create_bucket(Bucket="their-target")
    assert raises(c.put_bucket_logging, Bucket="logged-bucket", BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "their-target", "TargetPrefix": ""}})[:2] == ("InvalidTargetBucketForLogging", 400)
    c.put_bucket_logging(Bucket="logged-bucket", BucketLoggingStatus={})
    assert "LoggingEnabled" not in c.get_bucket_logging(Bucket="logged-bucket")


def test_lifecycle(fresh):
    c = make_bucket(fresh, "life-bucket")
    assert raises(c.get_bucket_lifecycle_configuration, Bucket="life-bucket") == (
        "NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist")
    rules = [
        {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 365},
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}],
         "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
        {"ID": "tmp", "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "t", "Value": "1"}]}},
         "Status": "Disabled", "Expiration": {"Days": 1}},
    ]
    r = c.put_bucket_lifecycle_configuration(Bucket="life-bucket", LifecycleConfiguration={"Rules": rules})
    assert r["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    assert c.get_bucket_lifecycle_configuration(Bucket="life-bucket")["Rules"] == rules
    for bad, expected in [
        ({"ID": "x" * 256, "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}},
         ("InvalidArgument", 400, "ID length should not exceed allowed limit of 255")),
        ({"Filter": {}, "Status": "Enabled", "Expiration": {"Days": 0}},
         ("InvalidArgument", 400, "'Days' for Expiration action must be a positive integer")),
        ({"Filter": {}, "Status": "Enabled"}, ("InvalidRequest", 400, "At least one action needs to be specified in a rule")),
        ({"Filter": {"Tag": {"Key": "a", "Value": "b"}}, "Status": "Enabled",
          "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
         ("InvalidRequest", 400, "AbortIncompleteMultipartUpload cannot be specified with Tags.")),
    ]:
        assert raises(c.put_bucket_lifecycle_configuration, Bucket="life-bucket",
                      LifecycleConfiguration={"Rules": [bad]}) == expected
    assert c.delete_bucket_lifecycle(Bucket="life-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert raises(c.get_bucket_lifecycle_configuration, Bucket="life-bucket")[:2] == ("NoSuchLifecycleConfiguration", 404)


# --- authorization and records ---------------------------------------------------------------


def test_refused_calls_and_records(fresh):
    c = make_bucket(fresh, "auth-bucket")
    c.put_object(Bucket="auth-bucket", Key="k", Body=b"x")
    alice = fresh.admin("create-access-key", "--account-id", MANAGEMENT, "--user-name", "alice")["AccessKey"]
    a = s3(fresh, key=alice["AccessKeyId"], secret=alice["SecretAccessKey"])
    for call, action in [
        (lambda: a.get_bucket_tagging(Bucket="auth-bucket"), "s3:GetBucketTagging"),
        (lambda: a.put_bucket_tagging(Bucket="auth-bucket", Tagging={"TagSet": []}), "s3:PutBucketTagging"),
        (lambda: a.get_bucket_encryption(Bucket="auth-bucket"), "s3:GetEncryptionConfiguration"),
        (lambda: a.delete_public_access_block(Bucket="auth-bucket"), "s3:PutBucketPublicAccessBlock"),
        (lambda: a.get_bucket_policy_status(Bucket="auth-bucket"), "s3:GetBucketPolicyStatus"),
        (lambda: a.get_bucket_cors(Bucket="auth-bucket"), "s3:GetBucketCORS"),
        (lambda: a.delete_bucket_website(Bucket="auth-bucket"), "s3:DeleteBucketWebsite"),
        (lambda: a.get_bucket_notification_configuration(Bucket="auth-bucket"), "s3:GetBucketNotification"),
        (lambda: a.get_bucket_logging(Bucket="auth-bucket"), "s3:GetBucketLogging"),
        (lambda: a.delete_bucket_lifecycle(Bucket="auth-bucket"), "s3:PutLifecycleConfiguration"),
        (lambda: a.put_object_tagging(Bucket="auth-bucket", Key="k", Tagging={"TagSet": []}), "s3:PutObjectTagging"),
        (lambda: a.get_object_tagging(Bucket="auth-bucket", Key="k"), "s3:GetObjectTagging"),
    ]:
        code, status, message = raises(call)
        assert (code, status) == ("AccessDenied", 403)
        assert f"is not authorized to perform: {action} on resource" in message, message
    # Nothing changed.
    assert c.get_public_access_block(Bucket="auth-bucket")["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True

    c.put_bucket_tagging(Bucket="auth-bucket", Tagging={"TagSet": tagset({"env": "prod"})})
    c.put_public_access_block(Bucket="auth-bucket", PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    ct = fresh.client("cloudtrail", region="us-east-1")

    def record(name):
        events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
        assert events, name
        return json.loads(events[0]["CloudTrailEvent"])

    rec = record("PutBucketTagging")
    assert rec["eventSource"] == "s3.amazonaws.com" and rec["managementEvent"] is True and rec["readOnly"] is False
    params = rec["requestParameters"]
    assert params["bucketName"] == "auth-bucket" and params["tagging"] == ""
    assert params["Tagging"] == {"xmlns": NS, "TagSet": {"Tag": {"Key": "env", "Value": "prod"}}}
    rec = record("PutBucketPublicAccessBlock")
    assert rec["requestParameters"]["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    refused = record("GetBucketEncryption")
    assert refused["errorCode"] == "AccessDenied" and refused["readOnly"] is True
    assert record("DeleteBucketLifecycle")["errorCode"] == "AccessDenied"

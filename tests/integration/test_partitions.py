"""Partitions: a call made to a region of another partition (aws-cn, aws-us-gov, aws-iso*) sees
and records every ARN in that partition, and may name ARNs in it."""

import json

import botocore.exceptions
import pytest

from conftest import MANAGEMENT


def test_caller_identity_in_each_partition(fresh):
    for region, partition in [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
                              ("us-iso-east-1", "aws-iso"), ("us-east-2", "aws")]:
        ident = fresh.client("sts", region=region).get_caller_identity()
        assert ident["Arn"] == f"arn:{partition}:iam::{MANAGEMENT}:user/admin", region


def test_iam_roles_and_sessions_in_aws_cn(fresh):
    iam = fresh.client("iam", region="cn-north-1")
    user = iam.create_user(UserName="cn-user")["User"]
    assert user["Arn"] == f"arn:aws-cn:iam::{MANAGEMENT}:user/cn-user"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws-cn:iam::{MANAGEMENT}:root"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="cn-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    assert role["Arn"] == f"arn:aws-cn:iam::{MANAGEMENT}:role/cn-role"
    # The trust policy comes back as it was written.
    assert iam.get_role(RoleName="cn-role")["Role"]["AssumeRolePolicyDocument"] == trust
    iam.attach_role_policy(RoleName="cn-role", PolicyArn="arn:aws-cn:iam::aws:policy/ReadOnlyAccess")
    assert iam.list_attached_role_policies(RoleName="cn-role")["AttachedPolicies"] == [
        {"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws-cn:iam::aws:policy/ReadOnlyAccess"}]
    sts = fresh.client("sts", region="cn-north-1")
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="cn-session")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws-cn:sts::{MANAGEMENT}:assumed-role/cn-role/cn-session"
    c = out["Credentials"]
    session = fresh.client("sts", region="cn-north-1", key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                           token=c["SessionToken"])
    assert session.get_caller_identity()["Arn"] == f"arn:aws-cn:sts::{MANAGEMENT}:assumed-role/cn-role/cn-session"
    # Read-only: creating a trail is refused, in the partition's words.
    ct = fresh.client("cloudtrail", region="cn-north-1", key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                      token=c["SessionToken"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.create_trail(Name="t", S3BucketName="b")
    assert e.value.response["Error"]["Message"] == (
        f"User: arn:aws-cn:sts::{MANAGEMENT}:assumed-role/cn-role/cn-session is not authorized to perform: "
        f"cloudtrail:CreateTrail on resource: arn:aws-cn:cloudtrail:cn-north-1:{MANAGEMENT}:trail/t "
        "because no identity-based policy allows the cloudtrail:CreateTrail action")


def test_trails_and_records_in_aws_us_gov(fresh):
    region = "us-gov-west-1"
    s3 = fresh.client("s3", region=region)
    s3.create_bucket(Bucket="gov-trail-bucket", CreateBucketConfiguration={"LocationConstraint": region})
    arn = f"arn:aws-us-gov:cloudtrail:{region}:{MANAGEMENT}:trail/gov"
    s3.put_bucket_policy(Bucket="gov-trail-bucket", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": "arn:aws-us-gov:s3:::gov-trail-bucket", "Condition": {"StringEquals": {"aws:SourceArn": arn}}},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": f"arn:aws-us-gov:s3:::gov-trail-bucket/AWSLogs/{MANAGEMENT}/*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": arn}}}]}))
    ct = fresh.client("cloudtrail", region=region)
    made = ct.create_trail(Name="gov", S3BucketName="gov-trail-bucket")
    assert made["TrailARN"] == arn
    assert ct.get_trail(Name=arn)["Trail"]["TrailARN"] == arn
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}])["Events"]
    [event] = [e for e in events if json.loads(e["CloudTrailEvent"])["awsRegion"] == region]
    rec = json.loads(event["CloudTrailEvent"])
    assert rec["userIdentity"]["arn"] == f"arn:aws-us-gov:iam::{MANAGEMENT}:user/admin"
    assert rec["responseElements"]["trailARN"] == arn
    assert [r["ResourceName"] for r in event["Resources"] if r["ResourceType"] == "AWS::CloudTrail::Trail"] == [arn]

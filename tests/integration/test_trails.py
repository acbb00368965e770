"""CloudTrail trail management as AWS behaves: outputs, validation order and error codes."""

import json

import botocore.exceptions
import pytest

from conftest import MANAGEMENT


def error(fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kw)
    r = e.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_name_rules_come_first(fresh):
    ct = fresh.client("cloudtrail")
    assert error(ct.create_trail, Name="my--trail", S3BucketName="no-such-bucket") == (
        "InvalidTrailNameException", "Trail name cannot have adjacent periods, underscores or dashes.", 400)
    assert error(ct.create_trail, Name="192.168.5.4", S3BucketName="b-b-b")[:2] == (
        "InvalidTrailNameException", "Trail name cannot be formatted as an IP address.")
    assert error(ct.create_trail, Name="ab", S3BucketName="b-b-b")[1] == (
        "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters.")
    assert error(ct.create_trail, Name="good-name", S3BucketName="Bad_Bucket")[0] == "InvalidS3BucketNameException"
    assert error(ct.create_trail, Name="good-name", S3BucketName="bucket-x", IsMultiRegionTrail=True,
                 IncludeGlobalServiceEvents=False)[:2] == (
        "InvalidParameterCombinationException", "Multi-Region trail must include global service events.")
    assert error(ct.create_trail, Name="good-name", S3BucketName="no-such-bucket-here")[0] == "S3BucketDoesNotExistException"
    # Nothing was created by any of these.
    assert ct.describe_trails()["trailList"] == []
    assert ct.list_trails()["Trails"] == []


def test_missing_trails(fresh):
    ct = fresh.client("cloudtrail")
    assert error(ct.get_trail, Name="nope-trail") == (
        "TrailNotFoundException",
        f"Unknown trail: arn:aws:cloudtrail:us-east-2:{MANAGEMENT}:trail/nope-trail for the user: {MANAGEMENT}", 400)
    assert error(ct.get_trail, Name="arn:aws:cloudtrail:us-east-2:222222222222:trail/x-y")[:2] == (
        "CloudTrailARNInvalidException",
        f"AccountID in ARN is wrong, you can only access resources with AccountID {MANAGEMENT}.")
    assert error(ct.get_trail, Name="arn:aws:cloudtrail:us-east-2:1111:trail/x")[0] == "CloudTrailARNInvalidException"
    for op in (ct.start_logging, ct.stop_logging, ct.delete_trail, ct.get_trail_status):
        assert error(op, Name="nope-trail")[0] == "TrailNotFoundException"
    assert ct.describe_trails(trailNameList=["nope-trail"])["trailList"] == []
    assert error(ct.describe_trails, trailNameList=["-bad"])[0] == "InvalidTrailNameException"


def test_organization_trail_needs_an_organization(fresh):
    code, message, _ = error(fresh.client("cloudtrail").create_trail, Name="org-trail", S3BucketName="some-bucket",
                             IsOrganizationTrail=True)
    assert code == "OrganizationsNotInUseException"


def test_cli_prints_aws_errors_for_trails(fresh):
    code, _, stderr = fresh.cli("cloudtrail", "get-trail-status", "--name", "missing-trail", check=False)
    assert code == 255
    assert "An error occurred (TrailNotFoundException) when calling the GetTrailStatus operation: Unknown trail:" in stderr

"""CloudTrail trail management as AWS behaves, driven with boto3 and the AWS CLI: outputs, the
validation order and error codes, multi-region shadows, organization trails as members and
delegated administrators see them, selectors, tags and logging status."""

import json
import time

import botocore.exceptions
import pytest

from conftest import MANAGEMENT

CT = "cloudtrail.amazonaws.com"
ORG_ROLE = "OrganizationAccountAccessRole"
REGION = "us-east-2"
NOT_MASTER = (
    "NotOrganizationMasterAccountException",
    "You cannot configure or manage trails for an organization because this action requires being signed in with "
    "the management account.",
)


def error(fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kw)
    r = e.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def code(fn, **kw):
    return error(fn, **kw)[0]


def arn(name, account=MANAGEMENT, region=REGION):
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def creds_for(server, account, session="member"):
    c = server.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ORG_ROLE}", RoleSessionName=session)
    c = c["Credentials"]
    return {"key": c["AccessKeyId"], "secret": c["SecretAccessKey"], "token": c["SessionToken"]}


def cloudtrail(server, account=None, region=REGION):
    """A CloudTrail client of the management account's admin, or of `account` through
    OrganizationAccountAccessRole."""
    if account is None:
        return server.client("cloudtrail", region=region)
    return server.client("cloudtrail", region=region, **creds_for(server, account))


def policy(bucket, roots=(MANAGEMENT,), source_arn=None, prefix=None, acl_condition=True, extra=()):
    """The bucket policy of create-s3-bucket-policy-for-cloudtrail: an ACL check and one write
    statement per `AWSLogs/<root>/` (the owner account, and the organization for org trails)."""
    cond = {"aws:SourceArn": source_arn} if source_arn else {}
    pfx = f"{prefix}/" if prefix else ""
    statements = [{
        "Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow",
        "Principal": {"Service": CT}, "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}",
        **({"Condition": {"StringEquals": cond}} if cond else {}),
    }]
    for root in roots:
        write_cond = dict(cond)
        if acl_condition:
            write_cond["s3:x-amz-acl"] = "bucket-owner-full-control"
        statements.append({
            "Sid": f"AWSCloudTrailWrite{root}", "Effect": "Allow",
            "Principal": {"Service": CT}, "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/{pfx}AWSLogs/{root}/*",
            **({"Condition": {"StringEquals": write_cond}} if write_cond else {}),
        })
    statements.extend(extra)
    return {"Version": "2012-10-17", "Statement": statements}


def bucket(server, name, pol=None):
    """A bucket of the management account with `pol` (default: the documented policy)."""
    s3 = server.client("s3", region="us-east-1")
    s3.create_bucket(Bucket=name)
    pol = policy(name) if pol is None else pol
    if pol:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(pol))
    return name


def set_policy(server, name, pol):
    server.client("s3", region="us-east-1").put_bucket_policy(Bucket=name, Policy=json.dumps(pol))


def organization(server, trusted=True, feature_set="ALL"):
    orgs = server.client("organizations")
    o = orgs.create_organization(FeatureSet=feature_set)["Organization"]
    if trusted:
        orgs.enable_aws_service_access(ServicePrincipal=CT)
    return o["Id"]


def new_account(server, name):
    orgs = server.client("organizations")
    car = orgs.create_account(Email=f"{name.lower()}@example.com", AccountName=name)["CreateAccountStatus"]
    server.advance_clock(2)
    done = orgs.describe_create_account_status(CreateAccountRequestId=car["Id"])["CreateAccountStatus"]
    assert done["State"] == "SUCCEEDED", done
    return done["AccountId"]


def org_bucket(server, org_id, name="org-bucket", trail="org-trail"):
    return bucket(server, name, policy(name, roots=(MANAGEMENT, org_id), source_arn=arn(trail)))


def wire(client):
    """The raw JSON body of each response `client` receives (botocore drops members its model
    does not know, so only the wire shows extra ones)."""
    bodies = []
    client.meta.events.register("after-call.cloudtrail", lambda http_response, **_: bodies.append(
        json.loads(http_response.content)))
    return bodies


def ordered(stdout):
    """CLI JSON output as (key, value) pairs in the order printed."""
    return json.loads(stdout, object_pairs_hook=lambda pairs: [list(p) for p in pairs])


# --- Create and its outputs ------------------------------------------------------------------


def test_cli_create_trail_prints_awss_members_in_model_order(fresh):
    bucket(fresh, "my-bucket")
    _, out, _ = fresh.cli("cloudtrail", "create-trail", "--name", "my-trail", "--s3-bucket-name", "my-bucket",
                          "--is-multi-region-trail")
    # Spec §4: the example output, byte for byte apart from the account.
    assert out == json.dumps({
        "Name": "my-trail",
        "S3BucketName": "my-bucket",
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": True,
        "TrailARN": arn("my-trail"),
        "LogFileValidationEnabled": False,
        "IsOrganizationTrail": False,
    }, indent=4) + "\n"
    bucket(fresh, "prefixed", policy("prefixed", prefix="logs/x"))
    _, out, _ = fresh.cli("cloudtrail", "create-trail", "--name", "second", "--s3-bucket-name", "prefixed",
                          "--s3-key-prefix", "logs/x", "--enable-log-file-validation", "--no-include-global-service-events",
                          "--tags-list", "Key=team,Value=audit")
    assert ordered(out) == [
        ["Name", "second"], ["S3BucketName", "prefixed"], ["S3KeyPrefix", "logs/x"],
        ["IncludeGlobalServiceEvents", False], ["IsMultiRegionTrail", False], ["TrailARN", arn("second")],
        ["LogFileValidationEnabled", True], ["IsOrganizationTrail", False],
    ]
    # The API never starts logging by itself.
    assert fresh.client("cloudtrail").get_trail_status(Name="second")["IsLogging"] is False
    # Event history finds the trails just created, with the command of the documentation.
    _, out, _ = fresh.cli("cloudtrail", "lookup-events", "--lookup-attributes",
                          "AttributeKey=EventName,AttributeValue=CreateTrail")
    events = json.loads(out)["Events"]
    assert [e["Resources"][0] for e in events] == [
        {"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": arn(n)} for n in ("second", "my-trail")]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    assert [r["requestParameters"]["name"] for r in records] == ["second", "my-trail"]
    assert [r["responseElements"]["trailARN"] for r in records] == [arn("second"), arn("my-trail")]
    assert all("errorCode" not in r and r["userAgent"].startswith("aws-cli/") for r in records)


def test_describe_get_and_list_shapes(fresh):
    ct = cloudtrail(fresh)
    bucket(fresh, "my-bucket")
    ct.create_trail(Name="t-one", S3BucketName="my-bucket")
    _, out, _ = fresh.cli("cloudtrail", "describe-trails")
    assert ordered(out) == [["trailList", [[
        ["Name", "t-one"], ["S3BucketName", "my-bucket"], ["IncludeGlobalServiceEvents", True],
        ["IsMultiRegionTrail", False], ["HomeRegion", REGION], ["TrailARN", arn("t-one")],
        ["LogFileValidationEnabled", False], ["HasCustomEventSelectors", False], ["HasInsightSelectors", False],
        ["IsOrganizationTrail", False],
    ]]]]
    _, out, _ = fresh.cli("cloudtrail", "get-trail", "--name", "t-one")
    assert json.loads(out) == {"Trail": json.loads(fresh.cli("cloudtrail", "describe-trails")[1])["trailList"][0]}
    assert ct.get_trail(Name=arn("t-one"))["Trail"]["Name"] == "t-one"
    _, out, _ = fresh.cli("cloudtrail", "list-trails")
    assert json.loads(out) == {"Trails": [{"TrailARN": arn("t-one"), "Name": "t-one", "HomeRegion": REGION}]}
    assert ct.describe_trails(trailNameList=["t-one", "nope-trail", arn("nope-trail")])["trailList"][0]["Name"] == "t-one"
    assert len(ct.describe_trails(trailNameList=["t-one", "nope-trail"])["trailList"]) == 1


def test_list_trails_pages_every_region(fresh):
    bucket(fresh, "my-bucket")
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1"]
    names = []
    for region in regions:
        for i in range(5):
            names.append(f"{region}-t{i}")
            cloudtrail(fresh, region=region).create_trail(Name=names[-1], S3BucketName="my-bucket")
    # 25 trails, 50 to a page: add enough in more regions for a second page.
    for region in ["eu-west-2", "eu-central-1", "ap-south-1", "ap-northeast-1", "sa-east-1", "ca-central-1"]:
        for i in range(5):
            names.append(f"{region}-t{i}")
            cloudtrail(fresh, region=region).create_trail(Name=names[-1], S3BucketName="my-bucket")
    ct = cloudtrail(fresh, region="eu-west-1")
    first = ct.list_trails()
    assert len(first["Trails"]) == 50 and "NextToken" in first
    second = ct.list_trails(NextToken=first["NextToken"])
    assert len(second["Trails"]) == 5 and "NextToken" not in second
    assert sorted(t["Name"] for t in first["Trails"] + second["Trails"]) == sorted(names)
    _, out, _ = fresh.cli("cloudtrail", "list-trails", region="ap-south-1")
    assert len(json.loads(out)["Trails"]) == 55


# --- Validation order (§3.4) ----------------------------------------------------------------


def test_name_rules_come_first(fresh):
    ct = fresh.client("cloudtrail")
    assert error(ct.create_trail, Name="my--trail", S3BucketName="no-such-bucket") == (
        "InvalidTrailNameException", "Trail name cannot have adjacent periods, underscores or dashes.", 400)
    assert error(ct.create_trail, Name="192.168.5.4", S3BucketName="b-b-b")[:2] == (
        "InvalidTrailNameException", "Trail name cannot be formatted as an IP address.")
    assert error(ct.create_trail, Name="ab", S3BucketName="b-b-b")[1] == (
        "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters.")
    assert error(ct.create_trail, Name="_abc", S3BucketName="b-b-b")[1] == "Trail name must starts with a letter or number."
    assert error(ct.create_trail, Name="abc.", S3BucketName="b-b-b")[1] == "Trail name must ends with a letter or number."
    assert error(ct.create_trail, Name="a b c", S3BucketName="b-b-b")[1].startswith(
        "Trail name or ARN can only contain uppercase letters")
    assert error(ct.create_trail, Name="good-name", S3BucketName="Bad_Bucket")[0] == "InvalidS3BucketNameException"
    assert error(ct.create_trail, Name="good-name", S3BucketName="bucket-x", IsMultiRegionTrail=True,
                 IncludeGlobalServiceEvents=False)[:2] == (
        "InvalidParameterCombinationException", "Multi-Region trail must include global service events.")
    assert error(ct.create_trail, Name="good-name", S3BucketName="no-such-bucket-here")[:2] == (
        "S3BucketDoesNotExistException", "S3 bucket no-such-bucket-here does not exist.")
    # Nothing was created by any of these.
    assert ct.describe_trails()["trailList"] == []
    assert ct.list_trails()["Trails"] == []


def test_each_check_wins_over_every_later_one(fresh):
    """Every request below also breaks every later rule; the first rule's exception comes back."""
    ct = cloudtrail(fresh)
    bucket(fresh, "good-bucket")
    bucket(fresh, "no-grant", {})
    for i in range(5):
        ct.create_trail(Name=f"existing-{i}", S3BucketName="good-bucket")
    lg = f"arn:aws:logs:{REGION}:{MANAGEMENT}:log-group:trail-logs:*"
    role = f"arn:aws:iam::{MANAGEMENT}:role/CloudTrail_CloudWatchLogs_Role"
    kms = f"arn:aws:kms:{REGION}:{MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    later = dict(SnsTopicName="my-topic", KmsKeyId=kms, CloudWatchLogsLogGroupArn=lg, CloudWatchLogsRoleArn=role)
    cases = [
        (dict(Name="-bad", S3BucketName="Bad_Bucket", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False),
         "InvalidTrailNameException"),
        (dict(Name="existing-0", S3BucketName="Bad_Bucket", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False),
         "InvalidParameterCombinationException"),
        (dict(Name="existing-0", S3BucketName="Bad_Bucket", CloudWatchLogsLogGroupArn=lg),
         "InvalidParameterCombinationException"),
        (dict(Name="existing-0", S3BucketName="Bad_Bucket", S3KeyPrefix="p" * 201), "InvalidS3BucketNameException"),
        (dict(Name="existing-0", S3BucketName="nope", S3KeyPrefix="p" * 201, SnsTopicName="bad topic"),
         "InvalidS3PrefixException"),
        (dict(Name="existing-0", S3BucketName="nope", SnsTopicName="bad topic", KmsKeyId="bad"),
         "InvalidSnsTopicNameException"),
        (dict(Name="existing-0", S3BucketName="nope", KmsKeyId="bad", CloudWatchLogsLogGroupArn="bad",
              CloudWatchLogsRoleArn=role), "InvalidKmsKeyIdException"),
        (dict(Name="existing-0", S3BucketName="nope", CloudWatchLogsLogGroupArn="bad", CloudWatchLogsRoleArn="bad"),
         "InvalidCloudWatchLogsLogGroupArnException"),
        (dict(Name="existing-0", S3BucketName="nope", CloudWatchLogsLogGroupArn=lg, CloudWatchLogsRoleArn="bad"),
         "InvalidCloudWatchLogsRoleArnException"),
        (dict(Name="existing-0", S3BucketName="nope", TagsList=[{"Key": "a"}, {"Key": "a"}], IsOrganizationTrail=True),
         "InvalidTagParameterException"),
        (dict(Name="existing-0", S3BucketName="nope", TagsList=[{"Key": "aws:x", "Value": "v"}]),
         "InvalidTagParameterException"),
        (dict(Name="existing-0", S3BucketName="nope", TagsList=[{"Key": f"k{i}"} for i in range(51)],
              IsOrganizationTrail=True), "TagsLimitExceededException"),
        (dict(Name="existing-0", S3BucketName="nope", IsOrganizationTrail=True), "OrganizationsNotInUseException"),
        (dict(Name="existing-0", S3BucketName="nope", **later), "TrailAlreadyExistsException"),
        (dict(Name="sixth", S3BucketName="nope", **later), "MaximumNumberOfTrailsExceededException"),
    ]
    for kw, expected in cases:
        assert code(ct.create_trail, **kw) == expected, kw
    assert error(ct.create_trail, Name="existing-0", S3BucketName="good-bucket")[1] == (
        f"Trail existing-0 already exists for customer: {MANAGEMENT}")
    assert error(ct.create_trail, Name="sixth", S3BucketName="good-bucket")[1] == (
        f"User: {MANAGEMENT} already has 5 trails in {REGION}.")
    # A region with room: the resource checks, in order.
    west = cloudtrail(fresh, region="us-west-2")
    assert code(west.create_trail, Name="t-1", S3BucketName="nope", **later) == "S3BucketDoesNotExistException"
    assert error(west.create_trail, Name="t-1", S3BucketName="no-grant", **later)[:2] == (
        "InsufficientS3BucketPolicyException", "Incorrect S3 bucket policy is detected for bucket: no-grant")
    assert code(west.create_trail, Name="t-1", S3BucketName="good-bucket", **later) == (
        "InsufficientSnsTopicPolicyException")
    later.pop("SnsTopicName")
    assert code(west.create_trail, Name="t-1", S3BucketName="good-bucket", **later) == "KmsKeyNotFoundException"
    later.pop("KmsKeyId")
    assert code(west.create_trail, Name="t-1", S3BucketName="good-bucket", **later) == (
        "InvalidCloudWatchLogsLogGroupArnException")
    # Nothing half-made: only the five trails of the setup exist.
    assert sorted(t["Name"] for t in ct.list_trails()["Trails"]) == [f"existing-{i}" for i in range(5)]
    assert west.describe_trails()["trailList"] == []


def test_missing_trails(fresh):
    ct = fresh.client("cloudtrail")
    assert error(ct.get_trail, Name="nope-trail") == (
        "TrailNotFoundException",
        f"Unknown trail: arn:aws:cloudtrail:us-east-2:{MANAGEMENT}:trail/nope-trail for the user: {MANAGEMENT}", 400)
    assert error(ct.get_trail, Name="arn:aws:cloudtrail:us-east-2:222222222222:trail/x-y")[:2] == (
        "CloudTrailARNInvalidException",
        f"AccountID in ARN is wrong, you can only access resources with AccountID {MANAGEMENT}.")
    assert error(ct.get_trail, Name="arn:aws:cloudtrail:us-east-2:1111:trail/x")[0] == "CloudTrailARNInvalidException"
    assert error(ct.get_trail, Name=arn("nope-trail"))[:2] == (
        "TrailNotFoundException", f"Unknown trail: {arn('nope-trail')} for the user: {MANAGEMENT}")
    for op in (ct.start_logging, ct.stop_logging, ct.delete_trail, ct.get_trail_status, ct.update_trail):
        assert error(op, Name="nope-trail")[0] == "TrailNotFoundException"
    for op in (ct.get_event_selectors, ct.get_insight_selectors):
        assert error(op, TrailName="nope-trail")[0] == "TrailNotFoundException"
    assert ct.describe_trails(trailNameList=["nope-trail"])["trailList"] == []
    assert ct.describe_trails(trailNameList=["arn:aws:cloudtrail:us-east-2:222222222222:trail/x-y"])["trailList"] == []
    assert error(ct.describe_trails, trailNameList=["-bad"])[0] == "InvalidTrailNameException"
    assert error(ct.describe_trails, trailNameList=["arn:aws:cloudtrail:x"])[0] == "CloudTrailARNInvalidException"


def test_cli_prints_aws_errors_for_trails(fresh):
    code_, _, stderr = fresh.cli("cloudtrail", "get-trail-status", "--name", "missing-trail", check=False)
    assert code_ == 255
    assert "An error occurred (TrailNotFoundException) when calling the GetTrailStatus operation: Unknown trail:" in stderr


# --- The bucket policy (§3.5) ----------------------------------------------------------------

SRC = arn("pol-trail")


@pytest.mark.parametrize("pol,ok", [
    (policy("pol-bucket"), True),
    (policy("pol-bucket", source_arn=SRC), True),
    (policy("pol-bucket", source_arn=[arn("other"), SRC]), True),
    (None, False),  # no policy at all: the owner's own bucket still needs the grants
    (policy("pol-bucket", source_arn=arn("other")), False),
    (policy("pol-bucket", roots=("222222222222",)), False),
    (policy("pol-bucket", roots=()), False),
    (policy("pol-bucket", prefix="logs"), False),  # the grant is for a prefix the trail does not use
    ({"Version": "2012-10-17", "Statement": policy("pol-bucket")["Statement"][1:]}, False),  # no GetBucketAcl
    ({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": CT}, "Action": "s3:*", "Resource": [
            "arn:aws:s3:::pol-bucket", "arn:aws:s3:::pol-bucket/*"],
         "Condition": {"StringLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{MANAGEMENT}:trail/*"}}}]}, True),
    ({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": CT}, "Action": "s3:*", "Resource": [
            "arn:aws:s3:::pol-bucket", "arn:aws:s3:::pol-bucket/*"],
         "Condition": {"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:222222222222:trail/*"}}}]}, False),
    ({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": [CT]}, "Action": ["s3:GetBucketAcl", "s3:PutObject"],
         "Resource": ["arn:aws:s3:::pol-bucket", f"arn:aws:s3:::pol-bucket/AWSLogs/{MANAGEMENT}/*"],
         "Condition": {"StringEquals": {"aws:sourceaccount": MANAGEMENT}}}]}, True),
    ({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": [CT]}, "Action": ["s3:GetBucketAcl", "s3:PutObject"],
         "Resource": ["arn:aws:s3:::pol-bucket", f"arn:aws:s3:::pol-bucket/AWSLogs/{MANAGEMENT}/*"],
         "Condition": {"StringEquals": {"aws:SourceAccount": "222222222222"}}}]}, False),
    ({"Version": "2012-10-17", "Statement": policy("pol-bucket")["Statement"] + [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::pol-bucket/*"}]}, False),
    # The usual enforce-TLS Deny never blocks CloudTrail.
    ({"Version": "2012-10-17", "Statement": policy("pol-bucket")["Statement"] + [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::pol-bucket/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}, True),
    # An ACL condition CloudTrail's writes do not meet.
    ({"Version": "2012-10-17", "Statement": [policy("pol-bucket")["Statement"][0], {
        "Effect": "Allow", "Principal": {"Service": CT}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::pol-bucket/AWSLogs/{MANAGEMENT}/*",
        "Condition": {"StringEquals": {"s3:x-amz-acl": "private"}}}]}, False),
])
def test_bucket_policy_check(fresh, pol, ok):
    ct = cloudtrail(fresh)
    bucket(fresh, "pol-bucket", pol if pol is not None else {})
    if ok:
        assert ct.create_trail(Name="pol-trail", S3BucketName="pol-bucket")["TrailARN"] == SRC
    else:
        assert error(ct.create_trail, Name="pol-trail", S3BucketName="pol-bucket")[:2] == (
            "InsufficientS3BucketPolicyException", "Incorrect S3 bucket policy is detected for bucket: pol-bucket")
        assert ct.describe_trails()["trailList"] == []


def test_prefix_must_match_the_grant(fresh):
    ct = cloudtrail(fresh)
    bucket(fresh, "pfx-bucket", policy("pfx-bucket", prefix="logs"))
    assert code(ct.create_trail, Name="t-1", S3BucketName="pfx-bucket") == "InsufficientS3BucketPolicyException"
    assert code(ct.create_trail, Name="t-1", S3BucketName="pfx-bucket", S3KeyPrefix="other") == (
        "InsufficientS3BucketPolicyException")
    ct.create_trail(Name="t-1", S3BucketName="pfx-bucket", S3KeyPrefix="logs")
    # Changing the prefix re-checks the policy; a refused update changes nothing.
    assert code(ct.update_trail, Name="t-1", S3KeyPrefix="") == "InsufficientS3BucketPolicyException"
    assert ct.get_trail(Name="t-1")["Trail"]["S3KeyPrefix"] == "logs"
    # A bucket of another account works when its policy grants CloudTrail.
    other = creds_for_new_standalone(fresh, "333333333333")
    s3 = fresh.client("s3", region="us-east-1", **other)
    s3.create_bucket(Bucket="their-bucket")
    assert code(ct.update_trail, Name="t-1", S3BucketName="their-bucket") == "InsufficientS3BucketPolicyException"
    s3.put_bucket_policy(Bucket="their-bucket", Policy=json.dumps(policy("their-bucket", prefix="logs")))
    assert ct.update_trail(Name="t-1", S3BucketName="their-bucket")["S3BucketName"] == "their-bucket"


def creds_for_new_standalone(server, account):
    server.admin("create-account", "--account-id", account, "--name", "Other", "--email", f"{account}@example.com")
    return creds_for(server, account, "other")


# --- Regions: limits, names, shadows (§3.7) --------------------------------------------------


def test_five_trails_per_region_multi_region_counts_everywhere(fresh):
    bucket(fresh, "my-bucket")
    east, west = cloudtrail(fresh), cloudtrail(fresh, region="us-west-2")
    east.create_trail(Name="everywhere", S3BucketName="my-bucket", IsMultiRegionTrail=True)
    for i in range(4):
        west.create_trail(Name=f"west-{i}", S3BucketName="my-bucket")
    assert error(west.create_trail, Name="west-4", S3BucketName="my-bucket")[:2] == (
        "MaximumNumberOfTrailsExceededException", f"User: {MANAGEMENT} already has 5 trails in us-west-2.")
    # us-east-2 holds two (everywhere, and a single-region one); a new multi-region trail would
    # make a sixth in us-west-2.
    east.create_trail(Name="east-0", S3BucketName="my-bucket")
    assert code(east.create_trail, Name="multi-2", S3BucketName="my-bucket", IsMultiRegionTrail=True) == (
        "MaximumNumberOfTrailsExceededException")
    assert code(east.update_trail, Name="east-0", IsMultiRegionTrail=True) == "MaximumNumberOfTrailsExceededException"
    assert east.get_trail(Name="east-0")["Trail"]["IsMultiRegionTrail"] is False
    # Other regions have room for the rest.
    for i in range(3):
        east.create_trail(Name=f"east-{i + 1}", S3BucketName="my-bucket")
    assert code(east.create_trail, Name="east-4", S3BucketName="my-bucket") == "MaximumNumberOfTrailsExceededException"
    west.delete_trail(Name="west-0")
    east.update_trail(Name="east-0", IsMultiRegionTrail=True)
    assert code(west.create_trail, Name="west-0", S3BucketName="my-bucket") == "MaximumNumberOfTrailsExceededException"


def test_names_are_per_region_unless_multi_region(fresh):
    bucket(fresh, "my-bucket")
    east, west = cloudtrail(fresh), cloudtrail(fresh, region="us-west-2")
    east.create_trail(Name="same", S3BucketName="my-bucket")
    assert west.create_trail(Name="same", S3BucketName="my-bucket")["TrailARN"] == arn("same", region="us-west-2")
    assert error(east.update_trail, Name="same", IsMultiRegionTrail=True)[:2] == (
        "TrailAlreadyExistsException", f"Trail same already exists for customer: {MANAGEMENT}")
    assert code(cloudtrail(fresh, region="eu-west-1").create_trail, Name="same", S3BucketName="my-bucket",
                IsMultiRegionTrail=True) == "TrailAlreadyExistsException"
    east.create_trail(Name="global", S3BucketName="my-bucket", IsMultiRegionTrail=True)
    assert code(west.create_trail, Name="global", S3BucketName="my-bucket") == "TrailAlreadyExistsException"


def test_multi_region_shadows(fresh):
    bucket(fresh, "my-bucket")
    east, west = cloudtrail(fresh), cloudtrail(fresh, region="us-west-2")
    east.create_trail(Name="multi", S3BucketName="my-bucket", IsMultiRegionTrail=True)
    east.create_trail(Name="single", S3BucketName="my-bucket")
    shadow = west.describe_trails()["trailList"]
    assert shadow == [{
        "Name": "multi", "S3BucketName": "my-bucket", "IncludeGlobalServiceEvents": True, "IsMultiRegionTrail": True,
        "HomeRegion": REGION, "TrailARN": arn("multi"), "LogFileValidationEnabled": False,
        "HasCustomEventSelectors": False, "HasInsightSelectors": False, "IsOrganizationTrail": False,
    }]
    assert west.describe_trails(includeShadowTrails=False)["trailList"] == []
    assert west.describe_trails(trailNameList=["multi"])["trailList"] == []
    assert west.describe_trails(trailNameList=[arn("multi"), arn("single")])["trailList"] == shadow
    _, out, _ = fresh.cli("cloudtrail", "describe-trails", "--no-include-shadow-trails", region="us-west-2")
    assert json.loads(out) == {"trailList": []}
    # By ARN only, and read-only outside the home region.
    assert code(west.get_trail, Name="multi") == "TrailNotFoundException"
    assert west.get_trail(Name=arn("multi"))["Trail"] == shadow[0]
    assert west.get_trail_status(Name=arn("multi"))["IsLogging"] is False
    assert west.get_event_selectors(TrailName=arn("multi"))["TrailARN"] == arn("multi")
    assert code(west.get_trail, Name=arn("single")) == "TrailNotFoundException"
    for op in (west.update_trail, west.delete_trail, west.start_logging, west.stop_logging):
        assert code(op, Name=arn("multi")) == "InvalidHomeRegionException"
    assert code(west.put_event_selectors, TrailName=arn("multi"), EventSelectors=[{"ReadWriteType": "All"}]) == (
        "InvalidHomeRegionException")
    assert code(west.put_insight_selectors, TrailName=arn("multi"),
                InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]) == "InvalidHomeRegionException"
    assert error(west.add_tags, ResourceId=arn("multi"), TagsList=[{"Key": "k"}])[:2] == (
        "CloudTrailARNInvalidException", "Region in ARN is wrong, you can only access resources in region us-west-2.")
    assert code(west.list_tags, ResourceIdList=[arn("multi")]) == "CloudTrailARNInvalidException"
    # Shadows follow the trail: logging everywhere, and gone once it is single-region again.
    east.start_logging(Name="multi")
    assert west.get_trail_status(Name=arn("multi"))["IsLogging"] is True
    east.update_trail(Name="multi", IsMultiRegionTrail=False)
    assert west.describe_trails()["trailList"] == []
    assert code(west.get_trail, Name=arn("multi")) == "TrailNotFoundException"
    east.update_trail(Name="multi", IsMultiRegionTrail=True)
    assert [t["Name"] for t in west.describe_trails()["trailList"]] == ["multi"]
    east.delete_trail(Name="multi")
    assert west.describe_trails()["trailList"] == []


# --- UpdateTrail ------------------------------------------------------------------------------


def test_update_trail(fresh):
    ct = cloudtrail(fresh)
    bucket(fresh, "my-bucket")
    bucket(fresh, "prefixed", policy("prefixed", prefix="p1"))
    ct.create_trail(Name="upd", S3BucketName="my-bucket", IncludeGlobalServiceEvents=False)
    _, out, _ = fresh.cli("cloudtrail", "update-trail", "--name", "upd", "--s3-bucket-name", "prefixed",
                          "--s3-key-prefix", "p1", "--enable-log-file-validation")
    assert ordered(out) == [
        ["Name", "upd"], ["S3BucketName", "prefixed"], ["S3KeyPrefix", "p1"], ["IncludeGlobalServiceEvents", False],
        ["IsMultiRegionTrail", False], ["TrailARN", arn("upd")], ["LogFileValidationEnabled", True],
        ["IsOrganizationTrail", False],
    ]
    # Members not in the request keep their values.
    out = ct.update_trail(Name="upd")
    assert (out["S3BucketName"], out["S3KeyPrefix"], out["LogFileValidationEnabled"]) == ("prefixed", "p1", True)
    # Becoming multi-region brings global service events in; they cannot be turned off then.
    assert code(ct.update_trail, Name="upd", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False) == (
        "InvalidParameterCombinationException")
    out = ct.update_trail(Name=arn("upd"), IsMultiRegionTrail=True)
    assert (out["IsMultiRegionTrail"], out["IncludeGlobalServiceEvents"]) == (True, True)
    assert error(ct.update_trail, Name="upd", IncludeGlobalServiceEvents=False)[:2] == (
        "InvalidParameterCombinationException", "Multi-Region trail must include global service events.")
    # An empty prefix clears it (and the policy is checked for the new place).
    assert code(ct.update_trail, Name="upd", S3KeyPrefix="") == "InsufficientS3BucketPolicyException"
    out = ct.update_trail(Name="upd", S3BucketName="my-bucket", S3KeyPrefix="")
    assert "S3KeyPrefix" not in out and out["S3BucketName"] == "my-bucket"
    assert code(ct.update_trail, Name="upd", S3BucketName="missing-bucket") == "S3BucketDoesNotExistException"
    assert code(ct.update_trail, Name="upd", SnsTopicName="topic") == "InsufficientSnsTopicPolicyException"
    assert code(ct.update_trail, Name="upd", KmsKeyId="alias/k") == "KmsKeyNotFoundException"
    # Clearing settings that are not there is fine.
    assert ct.update_trail(Name="upd", SnsTopicName="", KmsKeyId="")["Name"] == "upd"
    assert code(ct.update_trail, Name="upd", IsOrganizationTrail=True) == "OrganizationsNotInUseException"
    assert ct.get_trail(Name="upd")["Trail"]["IsOrganizationTrail"] is False


# --- Organization trails (§3.9) ----------------------------------------------------------------


def test_organization_trail_preconditions(fresh):
    ct = cloudtrail(fresh)
    bucket(fresh, "org-bucket", policy("org-bucket", roots=(MANAGEMENT, "o-aaaaaaaaaa")))
    e = error(ct.create_trail, Name="org-trail", S3BucketName="org-bucket", IsOrganizationTrail=True)
    assert e[:2] == ("OrganizationsNotInUseException", "This account is not a member of an organization.")
    orgs = fresh.client("organizations")
    org_id = organization(fresh, trusted=False, feature_set="CONSOLIDATED_BILLING")
    member = new_account(fresh, "Member")
    assert code(ct.create_trail, Name="org-trail", S3BucketName="org-bucket", IsOrganizationTrail=True) == (
        "OrganizationNotInAllFeaturesModeException")
    # All features comes before who the caller is.
    assert code(cloudtrail(fresh, member).create_trail, Name="org-trail", S3BucketName="org-bucket",
                IsOrganizationTrail=True) == "OrganizationNotInAllFeaturesModeException"
    orgs.enable_all_features()
    assert error(cloudtrail(fresh, member).create_trail, Name="org-trail", S3BucketName="org-bucket",
                 IsOrganizationTrail=True)[:2] == NOT_MASTER
    assert code(ct.create_trail, Name="org-trail", S3BucketName="org-bucket", IsOrganizationTrail=True) == (
        "CloudTrailAccessNotEnabledException")
    orgs.enable_aws_service_access(ServicePrincipal=CT)
    # The organization's root must be writable too: this policy names another organization.
    assert code(ct.create_trail, Name="org-trail", S3BucketName="org-bucket", IsOrganizationTrail=True) == (
        "InsufficientS3BucketPolicyException")
    # ... and the management account's root as well (observed on AWS).
    set_policy(fresh, "org-bucket", policy("org-bucket", roots=(org_id,)))
    assert code(ct.create_trail, Name="org-trail", S3BucketName="org-bucket", IsOrganizationTrail=True) == (
        "InsufficientS3BucketPolicyException")
    # aws:SourceArn must name the management account's trail.
    set_policy(fresh, "org-bucket", policy("org-bucket", roots=(MANAGEMENT, org_id),
                                           source_arn=arn("org-trail", account=member)))
    assert code(ct.create_trail, Name="org-trail", S3BucketName="org-bucket", IsOrganizationTrail=True) == (
        "InsufficientS3BucketPolicyException")
    assert ct.describe_trails()["trailList"] == []
    set_policy(fresh, "org-bucket", policy("org-bucket", roots=(MANAGEMENT, org_id), source_arn=arn("org-trail")))
    out = ct.create_trail(Name="org-trail", S3BucketName="org-bucket", IsOrganizationTrail=True)
    assert out["IsOrganizationTrail"] is True and out["TrailARN"] == arn("org-trail")


def test_members_see_organization_trails_and_cannot_change_them(fresh):
    org_id = organization(fresh)
    member = new_account(fresh, "Member")
    org_bucket(fresh, org_id)
    ct = cloudtrail(fresh)
    _, out, _ = fresh.cli("cloudtrail", "create-trail", "--name", "org-trail", "--s3-bucket-name", "org-bucket",
                          "--is-organization-trail", "--is-multi-region-trail", "--enable-log-file-validation")
    assert ordered(out) == [
        ["Name", "org-trail"], ["S3BucketName", "org-bucket"], ["IncludeGlobalServiceEvents", True],
        ["IsMultiRegionTrail", True], ["TrailARN", arn("org-trail")], ["LogFileValidationEnabled", True],
        ["IsOrganizationTrail", True],
    ]
    expected = {
        "Name": "org-trail", "S3BucketName": "org-bucket", "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": True, "HomeRegion": REGION, "TrailARN": arn("org-trail"),
        "LogFileValidationEnabled": True, "HasCustomEventSelectors": False, "HasInsightSelectors": False,
        "IsOrganizationTrail": True,
    }
    assert ct.describe_trails()["trailList"] == [expected]
    raw = wire(ct)
    ct.get_trail(Name="org-trail")
    ct.get_trail_status(Name="org-trail")
    ct.update_trail(Name="org-trail")
    assert raw == [{"Trail": expected}, NEVER_STARTED, {
        "Name": "org-trail", "S3BucketName": "org-bucket", "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": True, "TrailARN": arn("org-trail"), "LogFileValidationEnabled": True,
        "IsOrganizationTrail": True}]
    for region in (REGION, "eu-west-1"):
        m = cloudtrail(fresh, member, region=region)
        assert m.describe_trails()["trailList"] == [expected]
        assert m.describe_trails(includeShadowTrails=False)["trailList"] == []
        assert m.describe_trails(trailNameList=[arn("org-trail")])["trailList"] == [expected]
        assert m.describe_trails(trailNameList=["org-trail"])["trailList"] == []
        assert m.list_trails()["Trails"] == [{"TrailARN": arn("org-trail"), "Name": "org-trail", "HomeRegion": REGION}]
        assert m.get_trail(Name=arn("org-trail"))["Trail"] == expected
        assert error(m.get_trail, Name="org-trail")[:2] == (
            "TrailNotFoundException",
            f"Unknown trail: {arn('org-trail', account=member, region=region)} for the user: {member}")
        assert m.get_trail_status(Name=arn("org-trail"))["IsLogging"] is False
        assert m.get_event_selectors(TrailName=arn("org-trail"))["TrailARN"] == arn("org-trail")
        assert code(m.get_insight_selectors, TrailName=arn("org-trail")) == "InsightNotEnabledException"
        for op in (m.update_trail, m.delete_trail, m.start_logging, m.stop_logging):
            assert error(op, Name=arn("org-trail"))[:2] == NOT_MASTER, op
        assert error(m.put_event_selectors, TrailName=arn("org-trail"),
                     EventSelectors=[{"ReadWriteType": "All"}])[:2] == NOT_MASTER
        assert error(m.put_insight_selectors, TrailName=arn("org-trail"),
                     InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])[:2] == NOT_MASTER
    m = cloudtrail(fresh, member)
    assert error(m.add_tags, ResourceId=arn("org-trail"), TagsList=[{"Key": "k"}])[:2] == NOT_MASTER
    assert error(m.remove_tags, ResourceId=arn("org-trail"), TagsList=[{"Key": "k"}])[:2] == NOT_MASTER
    ct.add_tags(ResourceId=arn("org-trail"), TagsList=[{"Key": "k", "Value": "v"}])
    assert m.list_tags(ResourceIdList=[arn("org-trail")])["ResourceTagList"] == [
        {"ResourceId": arn("org-trail"), "TagsList": [{"Key": "k", "Value": "v"}]}]
    # The management account starts it; the member sees it logging.
    ct.start_logging(Name="org-trail")
    assert m.get_trail_status(Name=arn("org-trail"))["IsLogging"] is True
    # The replica does not count against the member's own five.
    bucket(fresh, "member-bucket", policy("member-bucket", roots=(member,)))
    for i in range(5):
        m.create_trail(Name=f"own-{i}", S3BucketName="member-bucket")
    assert len(m.describe_trails()["trailList"]) == 6
    # A member's own trail may share the organization trail's name.
    m.delete_trail(Name="own-0")
    m.create_trail(Name="org-trail", S3BucketName="member-bucket")
    assert m.get_trail(Name="org-trail")["Trail"]["TrailARN"] == arn("org-trail", account=member)
    assert m.get_trail(Name=arn("org-trail"))["Trail"]["TrailARN"] == arn("org-trail")


def test_single_region_organization_trail_is_seen_in_its_region_only(fresh):
    org_id = organization(fresh)
    member = new_account(fresh, "Member")
    org_bucket(fresh, org_id)
    cloudtrail(fresh).create_trail(Name="org-trail", S3BucketName="org-bucket", IsOrganizationTrail=True)
    assert [t["Name"] for t in cloudtrail(fresh, member).describe_trails()["trailList"]] == ["org-trail"]
    west = cloudtrail(fresh, member, region="us-west-2")
    assert west.describe_trails()["trailList"] == []
    assert code(west.get_trail, Name=arn("org-trail")) == "TrailNotFoundException"
    # ListTrails covers every region.
    assert [t["TrailARN"] for t in west.list_trails()["Trails"]] == [arn("org-trail")]


def test_accounts_that_join_see_org_trails_and_those_that_leave_do_not(fresh):
    org_id = organization(fresh)
    org_bucket(fresh, org_id)
    cloudtrail(fresh).create_trail(Name="org-trail", S3BucketName="org-bucket", IsOrganizationTrail=True,
                                   IsMultiRegionTrail=True)
    later = new_account(fresh, "Later")
    m = cloudtrail(fresh, later)
    assert [t["TrailARN"] for t in m.describe_trails()["trailList"]] == [arn("org-trail")]
    fresh.client("organizations").remove_account_from_organization(AccountId=later)
    assert m.describe_trails()["trailList"] == []
    assert m.list_trails()["Trails"] == []
    assert error(m.get_trail, Name=arn("org-trail"))[:2] == (
        "CloudTrailARNInvalidException", f"AccountID in ARN is wrong, you can only access resources with AccountID {later}.")


def test_organization_trails_revert_when_trusted_access_ends(fresh):
    org_id = organization(fresh)
    member = new_account(fresh, "Member")
    org_bucket(fresh, org_id)
    ct = cloudtrail(fresh)
    ct.create_trail(Name="org-trail", S3BucketName="org-bucket", IsOrganizationTrail=True)
    fresh.client("organizations").disable_aws_service_access(ServicePrincipal=CT)
    assert ct.get_trail(Name="org-trail")["Trail"]["IsOrganizationTrail"] is False
    assert cloudtrail(fresh, member).describe_trails()["trailList"] == []
    # Turning access on again does not make it an organization trail again by itself.
    fresh.client("organizations").enable_aws_service_access(ServicePrincipal=CT)
    ct.update_trail(Name="org-trail", S3KeyPrefix="")
    fresh.client("organizations").disable_aws_service_access(ServicePrincipal=CT)
    fresh.client("organizations").enable_aws_service_access(ServicePrincipal=CT)
    assert ct.get_trail(Name="org-trail")["Trail"]["IsOrganizationTrail"] is False
    assert ct.update_trail(Name="org-trail", IsOrganizationTrail=True)["IsOrganizationTrail"] is True
    assert [t["Name"] for t in cloudtrail(fresh, member).describe_trails()["trailList"]] == ["org-trail"]


def test_converting_trails_to_and_from_organization_trails(fresh):
    org_id = organization(fresh)
    member = new_account(fresh, "Member")
    bucket(fresh, "org-bucket", policy("org-bucket", roots=(MANAGEMENT,), source_arn=arn("org-trail")))
    ct = cloudtrail(fresh)
    ct.create_trail(Name="org-trail", S3BucketName="org-bucket", IsMultiRegionTrail=True)
    m = cloudtrail(fresh, member)
    assert m.describe_trails()["trailList"] == []
    # The policy must take the organization's logs before the trail can cover it.
    assert code(ct.update_trail, Name="org-trail", IsOrganizationTrail=True) == "InsufficientS3BucketPolicyException"
    assert ct.get_trail(Name="org-trail")["Trail"]["IsOrganizationTrail"] is False
    set_policy(fresh, "org-bucket", policy("org-bucket", roots=(MANAGEMENT, org_id), source_arn=arn("org-trail")))
    _, out, _ = fresh.cli("cloudtrail", "update-trail", "--name", "org-trail", "--is-organization-trail")
    assert ordered(out) == [
        ["Name", "org-trail"], ["S3BucketName", "org-bucket"], ["IncludeGlobalServiceEvents", True],
        ["IsMultiRegionTrail", True], ["TrailARN", arn("org-trail")], ["LogFileValidationEnabled", False],
        ["IsOrganizationTrail", True],
    ]
    assert [t["TrailARN"] for t in m.describe_trails()["trailList"]] == [arn("org-trail")]
    assert error(m.update_trail, Name=arn("org-trail"), IsOrganizationTrail=False)[:2] == NOT_MASTER
    _, out, _ = fresh.cli("cloudtrail", "update-trail", "--name", "org-trail", "--no-is-organization-trail")
    assert json.loads(out)["IsOrganizationTrail"] is False
    assert m.describe_trails()["trailList"] == []
    # A member converts nothing of its own into an organization trail.
    bucket(fresh, "member-bucket", policy("member-bucket", roots=(member,)))
    m.create_trail(Name="mine", S3BucketName="member-bucket")
    assert error(m.update_trail, Name="mine", IsOrganizationTrail=True)[:2] == NOT_MASTER


# --- Delegated administrators ------------------------------------------------------------------


def test_register_and_deregister_delegated_admin_rules(fresh):
    ct = cloudtrail(fresh)
    assert code(ct.register_organization_delegated_admin, MemberAccountId="222222222222") == (
        "OrganizationsNotInUseException")
    orgs = fresh.client("organizations")
    orgs.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    a, b, c, d = (new_account(fresh, n) for n in ("A", "B", "C", "D"))
    assert error(cloudtrail(fresh, a).register_organization_delegated_admin, MemberAccountId=b)[0] == (
        "NotOrganizationManagementAccountException")
    assert code(ct.register_organization_delegated_admin, MemberAccountId=a) == (
        "OrganizationNotInAllFeaturesModeException")
    orgs.enable_all_features()
    assert code(ct.register_organization_delegated_admin, MemberAccountId=a) == "CloudTrailAccessNotEnabledException"
    assert code(ct.deregister_organization_delegated_admin, DelegatedAdminAccountId=a) == (
        "CloudTrailAccessNotEnabledException")
    orgs.enable_aws_service_access(ServicePrincipal=CT)
    assert code(ct.register_organization_delegated_admin, MemberAccountId="12345678901x") == "InvalidParameterException"
    assert code(ct.register_organization_delegated_admin, MemberAccountId=MANAGEMENT) == (
        "CannotDelegateManagementAccountException")
    assert code(ct.register_organization_delegated_admin, MemberAccountId="999999999999") == (
        "AccountNotFoundException")
    _, out, _ = fresh.cli("cloudtrail", "register-organization-delegated-admin", "--member-account-id", a)
    assert out == ""
    assert code(ct.register_organization_delegated_admin, MemberAccountId=a) == "AccountRegisteredException"
    ct.register_organization_delegated_admin(MemberAccountId=b)
    ct.register_organization_delegated_admin(MemberAccountId=c)
    assert code(ct.register_organization_delegated_admin, MemberAccountId=d) == (
        "DelegatedAdminAccountLimitExceededException")
    # Organizations knows them as CloudTrail's delegated administrators.
    admins = orgs.list_delegated_administrators(ServicePrincipal=CT)["DelegatedAdministrators"]
    assert sorted(x["Id"] for x in admins) == sorted([a, b, c])
    assert code(ct.deregister_organization_delegated_admin, DelegatedAdminAccountId=d) == (
        "AccountNotRegisteredException")
    assert code(ct.deregister_organization_delegated_admin, DelegatedAdminAccountId="999999999999") == (
        "AccountNotFoundException")
    assert code(cloudtrail(fresh, a).deregister_organization_delegated_admin, DelegatedAdminAccountId=b) == (
        "NotOrganizationManagementAccountException")
    _, out, _ = fresh.cli("cloudtrail", "deregister-organization-delegated-admin", "--delegated-admin-account-id", c)
    assert out == ""
    ct.register_organization_delegated_admin(MemberAccountId=d)
    admins = orgs.list_delegated_administrators(ServicePrincipal=CT)["DelegatedAdministrators"]
    assert sorted(x["Id"] for x in admins) == sorted([a, b, d])


def test_delegated_admin_creates_and_manages_organization_trails(fresh):
    org_id = organization(fresh)
    da, other = new_account(fresh, "Admin"), new_account(fresh, "Other")
    org_bucket(fresh, org_id, trail="da-trail")
    d = cloudtrail(fresh, da)
    assert error(d.create_trail, Name="da-trail", S3BucketName="org-bucket", IsOrganizationTrail=True)[:2] == NOT_MASTER
    cloudtrail(fresh).register_organization_delegated_admin(MemberAccountId=da)
    out = d.create_trail(Name="da-trail", S3BucketName="org-bucket", IsOrganizationTrail=True, IsMultiRegionTrail=True)
    # Owned by the management account: its ARN, its name space.
    assert out["TrailARN"] == arn("da-trail")
    ct = cloudtrail(fresh)
    assert ct.get_trail(Name="da-trail")["Trail"]["IsOrganizationTrail"] is True
    assert [t["TrailARN"] for t in cloudtrail(fresh, other).describe_trails()["trailList"]] == [arn("da-trail")]
    assert code(d.create_trail, Name="da-trail", S3BucketName="org-bucket", IsOrganizationTrail=True) == (
        "TrailAlreadyExistsException")
    # The delegated administrator manages it by ARN, in its home region.
    assert code(d.update_trail, Name="da-trail", EnableLogFileValidation=True) == "TrailNotFoundException"
    assert d.update_trail(Name=arn("da-trail"), EnableLogFileValidation=True)["LogFileValidationEnabled"] is True
    assert code(cloudtrail(fresh, da, region="us-west-2").update_trail, Name=arn("da-trail")) == (
        "InvalidHomeRegionException")
    d.start_logging(Name=arn("da-trail"))
    assert ct.get_trail_status(Name="da-trail")["IsLogging"] is True
    d.stop_logging(Name=arn("da-trail"))
    sel = d.put_event_selectors(TrailName=arn("da-trail"), EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    assert sel["TrailARN"] == arn("da-trail")
    d.add_tags(ResourceId=arn("da-trail"), TagsList=[{"Key": "owner", "Value": "security"}])
    assert ct.list_tags(ResourceIdList=[arn("da-trail")])["ResourceTagList"][0]["TagsList"] == [
        {"Key": "owner", "Value": "security"}]
    # Converting to a regular trail is for the management account only.
    assert error(d.update_trail, Name=arn("da-trail"), IsOrganizationTrail=False)[:2] == NOT_MASTER
    # Another member is still just a member.
    assert error(cloudtrail(fresh, other).update_trail, Name=arn("da-trail"))[:2] == NOT_MASTER
    # Deregistered, it is a member again; the trail stays.
    ct.deregister_organization_delegated_admin(DelegatedAdminAccountId=da)
    assert error(d.update_trail, Name=arn("da-trail"))[:2] == NOT_MASTER
    assert ct.get_trail(Name="da-trail")["Trail"]["IsOrganizationTrail"] is True
    ct.register_organization_delegated_admin(MemberAccountId=da)
    d.delete_trail(Name=arn("da-trail"))
    assert ct.describe_trails()["trailList"] == []


# --- Logging status ---------------------------------------------------------------------------

NEVER_STARTED = {
    "IsLogging": False, "LatestDeliveryAttemptTime": "", "LatestNotificationAttemptTime": "",
    "LatestNotificationAttemptSucceeded": "", "LatestDeliveryAttemptSucceeded": "", "TimeLoggingStarted": "",
    "TimeLoggingStopped": "",
}


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def test_trail_status_lifecycle(fresh):
    ct = cloudtrail(fresh)
    bucket(fresh, "my-bucket")
    ct.create_trail(Name="status", S3BucketName="my-bucket")
    _, out, _ = fresh.cli("cloudtrail", "get-trail-status", "--name", "status")
    assert ordered(out) == [[k, v] for k, v in NEVER_STARTED.items()]
    _, out, _ = fresh.cli("cloudtrail", "start-logging", "--name", "status")
    assert out == ""
    _, out, _ = fresh.cli("cloudtrail", "get-trail-status", "--name", "status")
    st = json.loads(out)
    assert list(st) == ["IsLogging", "StartLoggingTime", "LatestDeliveryAttemptTime", "LatestNotificationAttemptTime",
                        "LatestNotificationAttemptSucceeded", "LatestDeliveryAttemptSucceeded", "TimeLoggingStarted",
                        "TimeLoggingStopped"]
    assert st["IsLogging"] is True and abs(st["StartLoggingTime"] - time.time()) < 60
    assert st["TimeLoggingStarted"] == iso(st["StartLoggingTime"]) and st["TimeLoggingStopped"] == ""
    # Starting again changes nothing.
    fresh.advance_clock(5)
    ct.start_logging(Name="status")
    assert json.loads(fresh.cli("cloudtrail", "get-trail-status", "--name", "status")[1]) == st
    ct.stop_logging(Name=arn("status"))
    stopped = ct.get_trail_status(Name="status")
    assert stopped["IsLogging"] is False
    assert stopped["StartLoggingTime"].timestamp() == st["StartLoggingTime"]
    assert stopped["StopLoggingTime"].timestamp() >= st["StartLoggingTime"] + 5
    assert stopped["TimeLoggingStarted"] == st["TimeLoggingStarted"]
    assert stopped["TimeLoggingStopped"] == iso(stopped["StopLoggingTime"].timestamp())
    # A deleted trail takes its status with it.
    ct.delete_trail(Name="status")
    ct.create_trail(Name="status", S3BucketName="my-bucket")
    got = ct.get_trail_status(Name="status")
    got.pop("ResponseMetadata")
    assert got == NEVER_STARTED


# --- Event and insight selectors (§5) ---------------------------------------------------------

DEFAULT_SELECTORS = [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
                      "ExcludeManagementEventSources": []}]


def test_event_selectors_basic_and_advanced_replace_each_other(fresh):
    ct = cloudtrail(fresh)
    bucket(fresh, "my-bucket")
    ct.create_trail(Name="sel", S3BucketName="my-bucket")
    _, out, _ = fresh.cli("cloudtrail", "get-event-selectors", "--trail-name", "sel")
    assert json.loads(out) == {"TrailARN": arn("sel"), "EventSelectors": DEFAULT_SELECTORS}
    basic = [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
              "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::my-bucket/"]}],
              "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]
    out = ct.put_event_selectors(TrailName="sel", EventSelectors=basic)
    assert (out["TrailARN"], out["EventSelectors"], "AdvancedEventSelectors" in out) == (arn("sel"), basic, False)
    assert ct.get_trail(Name="sel")["Trail"]["HasCustomEventSelectors"] is True
    advanced = [
        {"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "S3 writes", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "readOnly", "Equals": ["false"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::my-bucket/"]}]},
    ]
    _, out, _ = fresh.cli("cloudtrail", "put-event-selectors", "--trail-name", "sel", "--advanced-event-selectors",
                          json.dumps(advanced))
    echoed = json.loads(out)
    assert list(echoed) == ["TrailARN", "AdvancedEventSelectors"]
    ops = ["Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith"]
    assert echoed["AdvancedEventSelectors"][0] == {"Name": "Management events", "FieldSelectors": [
        {"Field": "eventCategory", **{op: (["Management"] if op == "Equals" else []) for op in ops}}]}
    got = ct.get_event_selectors(TrailName="sel")
    assert "EventSelectors" not in got
    assert got["AdvancedEventSelectors"] == echoed["AdvancedEventSelectors"]
    # And back to basic: the advanced ones are gone.
    ct.put_event_selectors(TrailName="sel", EventSelectors=[{"ReadWriteType": "ReadOnly"}])
    got = ct.get_event_selectors(TrailName="sel")
    assert "AdvancedEventSelectors" not in got
    assert got["EventSelectors"] == [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True,
                                      "DataResources": [], "ExcludeManagementEventSources": []}]


def test_event_selector_validation(fresh):
    ct = cloudtrail(fresh)
    bucket(fresh, "my-bucket")
    ct.create_trail(Name="sel", S3BucketName="my-bucket")
    s3 = lambda *values: {"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": list(values)}]}
    mgmt = {"Field": "eventCategory", "Equals": ["Management"]}
    bad_basic = [
        [],
        [{"ReadWriteType": "All"}] * 6,
        [s3("arn:aws:s3:::my-bucket")],  # a whole bucket needs the trailing slash
        [s3("arn:aws:s3:::")] + [s3(*[f"arn:aws:s3:::b{j}-{i}/" for i in range(50)]) for j in range(5)][:4]
        + [s3(*[f"arn:aws:s3:::c-{i}/" for i in range(51)])],  # 251 values
        [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::EC2::Instance", "Values": ["arn:aws:ec2"]}]}],
        [{"ReadWriteType": "All", "ExcludeManagementEventSources": ["s3.amazonaws.com"]}],
    ]
    for sel in bad_basic:
        assert code(ct.put_event_selectors, TrailName="sel", EventSelectors=sel) == "InvalidEventSelectorsException"
    bad_advanced = [
        [{"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]}],  # no eventCategory
        [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Everything"]}]}],
        [{"FieldSelectors": [{"Field": "eventCategory", "StartsWith": ["Man"]}]}],
        [{"FieldSelectors": [mgmt, {"Field": "eventName", "Equals": ["PutObject"]}]}],
        [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}],  # no resources.type
        [{"FieldSelectors": [mgmt, {"Field": "noSuchField", "Equals": ["x"]}]}],
        [{"FieldSelectors": [mgmt, {"Field": "readOnly", "Equals": ["maybe"]}]}],
        [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                             {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                             {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::b/{i}" for i in range(499)]}]}],
    ]
    for sel in bad_advanced:
        assert code(ct.put_event_selectors, TrailName="sel", AdvancedEventSelectors=sel) == (
            "InvalidEventSelectorsException"), sel
    assert code(ct.put_event_selectors, TrailName="sel") == "InvalidEventSelectorsException"
    assert code(ct.put_event_selectors, TrailName="sel", EventSelectors=[{"ReadWriteType": "All"}],
                AdvancedEventSelectors=[{"FieldSelectors": [mgmt]}]) == "InvalidEventSelectorsException"
    # Limits themselves are allowed.
    ct.put_event_selectors(TrailName="sel", EventSelectors=[s3(*[f"arn:aws:s3:::c-{i}/" for i in range(50)])] * 5)
    assert ct.get_event_selectors(TrailName="sel")["EventSelectors"][4]["DataResources"][0]["Values"][49] == (
        "arn:aws:s3:::c-49/")
    # Nothing a refused call sent was kept.
    assert ct.get_trail(Name="sel")["Trail"]["HasCustomEventSelectors"] is True
    assert len(ct.get_event_selectors(TrailName="sel")["EventSelectors"]) == 5


def test_insight_selectors(fresh):
    ct = cloudtrail(fresh)
    bucket(fresh, "my-bucket")
    ct.create_trail(Name="ins", S3BucketName="my-bucket")
    assert error(ct.get_insight_selectors, TrailName="ins")[0] == "InsightNotEnabledException"
    _, out, _ = fresh.cli("cloudtrail", "put-insight-selectors", "--trail-name", "ins", "--insight-selectors",
                          '[{"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}]')
    assert json.loads(out) == {"TrailARN": arn("ins"), "InsightSelectors": [
        {"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}]}
    assert ct.get_insight_selectors(TrailName="ins")["InsightSelectors"] == json.loads(out)["InsightSelectors"]
    assert ct.get_trail(Name="ins")["Trail"]["HasInsightSelectors"] is True
    for bad in ([{"InsightType": "ApiCallRateInsight"}] * 2, [{"InsightType": "Nope"}]):
        assert code(ct.put_insight_selectors, TrailName="ins", InsightSelectors=bad) == "InvalidInsightSelectorsException"
    assert code(ct.put_insight_selectors, TrailName="ins", EventDataStore="eds",
                InsightSelectors=[]) == "InvalidParameterCombinationException"
    assert code(ct.get_insight_selectors) == "InvalidParameterCombinationException"
    # Call-rate insights need write management events; error-rate insights read or write.
    ct.put_event_selectors(TrailName="ins", EventSelectors=[{"ReadWriteType": "ReadOnly"}])
    assert code(ct.put_insight_selectors, TrailName="ins", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]) == (
        "InvalidInsightSelectorsException")
    ct.put_insight_selectors(TrailName="ins", InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}])
    # The bucket must still take the files.
    set_policy(fresh, "my-bucket", policy("my-bucket", roots=("222222222222",)))
    assert code(ct.put_insight_selectors, TrailName="ins", InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}]) == (
        "InsufficientS3BucketPolicyException")
    set_policy(fresh, "my-bucket", policy("my-bucket"))
    # [] turns Insights off.
    assert ct.put_insight_selectors(TrailName="ins", InsightSelectors=[])["InsightSelectors"] == []
    assert ct.get_trail(Name="ins")["Trail"]["HasInsightSelectors"] is False
    assert code(ct.get_insight_selectors, TrailName="ins") == "InsightNotEnabledException"


# --- Tags (§3.11) -----------------------------------------------------------------------------


def test_tags(fresh):
    ct = cloudtrail(fresh)
    bucket(fresh, "my-bucket")
    ct.create_trail(Name="tagged", S3BucketName="my-bucket", TagsList=[{"Key": "team", "Value": "audit"}])
    ct.create_trail(Name="bare", S3BucketName="my-bucket")
    _, out, _ = fresh.cli("cloudtrail", "add-tags", "--resource-id", arn("tagged"), "--tags-list",
                          "Key=env,Value=prod", "Key=flag", "Key=team,Value=security")
    assert out == ""
    _, out, _ = fresh.cli("cloudtrail", "list-tags", "--resource-id-list", arn("tagged"), arn("bare"))
    assert json.loads(out) == {"ResourceTagList": [
        {"ResourceId": arn("tagged"), "TagsList": [
            {"Key": "team", "Value": "security"}, {"Key": "env", "Value": "prod"}, {"Key": "flag"}]},
        {"ResourceId": arn("bare"), "TagsList": []},
    ]}
    ct.remove_tags(ResourceId=arn("tagged"), TagsList=[{"Key": "env"}, {"Key": "not-there"}])
    assert [t["Key"] for t in ct.list_tags(ResourceIdList=[arn("tagged")])["ResourceTagList"][0]["TagsList"]] == [
        "team", "flag"]
    ct.add_tags(ResourceId=arn("bare"), TagsList=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert code(ct.add_tags, ResourceId=arn("bare"), TagsList=[{"Key": "one-more"}]) == "TagsLimitExceededException"
    ct.add_tags(ResourceId=arn("bare"), TagsList=[{"Key": "k0", "Value": "changed"}])
    assert code(ct.add_tags, ResourceId=arn("tagged"), TagsList=[{"Key": "a"}, {"Key": "a"}]) == (
        "InvalidTagParameterException")
    assert code(ct.add_tags, ResourceId=arn("tagged"), TagsList=[{"Key": "aws:reserved"}]) == (
        "InvalidTagParameterException")
    assert code(ct.add_tags, ResourceId="tagged", TagsList=[{"Key": "k"}]) == "CloudTrailARNInvalidException"
    assert code(ct.add_tags, ResourceId="arn:aws:s3:::my-bucket", TagsList=[{"Key": "k"}]) == (
        "ResourceTypeNotSupportedException")
    assert code(ct.add_tags, ResourceId=arn("missing"), TagsList=[{"Key": "k"}]) == "ResourceNotFoundException"
    assert code(ct.list_tags, ResourceIdList=[arn("missing")]) == "ResourceNotFoundException"
    assert code(ct.add_tags, ResourceId=arn("x-y", account="222222222222"), TagsList=[{"Key": "k"}]) == (
        "CloudTrailARNInvalidException")
    # Tags go with the trail.
    ct.delete_trail(Name="tagged")
    ct.create_trail(Name="tagged", S3BucketName="my-bucket")
    assert ct.list_tags(ResourceIdList=[arn("tagged")])["ResourceTagList"][0]["TagsList"] == []


def test_organization_trails_revert_when_the_organization_goes(fresh):
    org_id = organization(fresh)
    org_bucket(fresh, org_id)
    ct = cloudtrail(fresh)
    ct.create_trail(Name="org-trail", S3BucketName="org-bucket", IsOrganizationTrail=True)
    orgs = fresh.client("organizations")
    orgs.delete_organization()
    assert ct.get_trail(Name="org-trail")["Trail"]["IsOrganizationTrail"] is False
    # A new organization is not the one the trail was made for.
    new_id = organization(fresh)
    member = new_account(fresh, "Member")
    assert ct.describe_trails()["trailList"][0]["IsOrganizationTrail"] is False
    assert cloudtrail(fresh, member).describe_trails()["trailList"] == []
    set_policy(fresh, "org-bucket", policy("org-bucket", roots=(MANAGEMENT, new_id), source_arn=arn("org-trail")))
    assert ct.update_trail(Name="org-trail", IsOrganizationTrail=True)["IsOrganizationTrail"] is True
    assert [t["Name"] for t in cloudtrail(fresh, member).describe_trails()["trailList"]] == ["org-trail"]

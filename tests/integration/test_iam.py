"""AWS IAM as AWS behaves, driven with boto3 and the AWS CLI: users, groups, roles, instance
profiles, managed and inline policies, access keys, tags and the account; then the one
authorization decision every call (CloudTrail, Organizations, S3, STS, IAM) goes through:
identity policies, explicit denies, permissions boundaries, session policies and service control
policies, with AWS's refusal messages, the policy simulator agreeing with real outcomes, and
refusals recorded in event history."""

import csv
import datetime
import io
import json
import re
import time
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.exceptions
import pytest

from conftest import MANAGEMENT

ORG_ROLE = "OrganizationAccountAccessRole"
CT = "cloudtrail.amazonaws.com"
REGION = "us-east-2"
AWS_POLICY = "arn:aws:iam::aws:policy/"
ADMIN_ARN = f"arn:aws:iam::{MANAGEMENT}:user/admin"
ADMINISTRATOR = AWS_POLICY + "AdministratorAccess"
NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"

USER_ID = re.compile(r"AIDA[A-Z2-7]{17}")
GROUP_ID = re.compile(r"AGPA[A-Z2-7]{17}")
ROLE_ID = re.compile(r"AROA[A-Z2-7]{17}")
POLICY_ID = re.compile(r"ANPA[A-Z2-7]{17}")
PROFILE_ID = re.compile(r"AIPA[A-Z2-7]{17}")
ACCESS_KEY_ID = re.compile(r"AKIA[A-Z2-7]{16}")

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}, "Action": "sts:AssumeRole"}],
}
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}

# The endings of AWS's refusal messages, by which part of the evaluation refused.
NO_IDENTITY = "because no identity-based policy allows the {} action"
EXPLICIT_IDENTITY = "with an explicit deny in an identity-based policy"
NO_BOUNDARY = "because no permissions boundary allows the {} action"
NO_SESSION = "because no session policy allows the {} action"
EXPLICIT_SCP = "with an explicit deny in a service control policy"
NO_SCP = "because no service control policy allows the {} action"


# --- helpers --------------------------------------------------------------------------------


def err(exc):
    """(code, HTTP status, message) of a ClientError."""
    e = exc.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"].get("Message", "")


def raises(fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(*args, **kwargs)
    return e


def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resource="*"):
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def deny(actions, resource="*"):
    return {"Effect": "Deny", "Action": actions, "Resource": resource}


def iam(server, **kw):
    return server.client("iam", **kw)


def unchecked(server, **kw):
    """An IAM client that skips botocore's own parameter validation, so the server's is tested."""
    return server.client("iam", parameter_validation=False, **kw)


def user_arn(name, path="/", account=MANAGEMENT):
    return f"arn:aws:iam::{account}:user{path}{name}"


def trail_arn(name, account=MANAGEMENT, region=REGION):
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def refusal(principal, action, resource, why):
    """AWS's message for a refused call."""
    return f"User: {principal} is not authorized to perform: {action} on resource: {resource} {why}"


def assert_refused(exc, code, principal, action, why, status=None):
    """A refusal whose resource part is not pinned (actions without a resource of their own)."""
    c, s, msg = err(exc)
    assert c == code, (c, msg)
    if status is not None:
        assert s == status
    assert msg.startswith(f"User: {principal} is not authorized to perform: {action}"), msg
    assert msg.endswith(why), msg


def make_user(server, name, policy=None, managed=(), boundary=None, groups=(), path="/"):
    """An IAM user created through the API, with an access key; returns client keyword args
    (key=, secret=) for that key."""
    c = iam(server)
    c.create_user(UserName=name, Path=path)
    if policy is not None:
        c.put_user_policy(UserName=name, PolicyName=f"{name}-inline",
                          PolicyDocument=policy if isinstance(policy, str) else document(*policy))
    for arn in managed:
        c.attach_user_policy(UserName=name, PolicyArn=arn)
    if boundary is not None:
        c.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
    for g in groups:
        c.add_user_to_group(GroupName=g, UserName=name)
    k = c.create_access_key(UserName=name)["AccessKey"]
    return {"key": k["AccessKeyId"], "secret": k["SecretAccessKey"]}


def minted(server, name):
    """A user minted by `cairn admin create-access-key`: an IAM user with no policies."""
    k = server.admin("create-access-key", "--account-id", MANAGEMENT, "--user-name", name)["AccessKey"]
    return {"key": k["AccessKeyId"], "secret": k["SecretAccessKey"]}


def assumed(server, role_arn, session, **kw):
    c = server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session, **kw)["Credentials"]
    return {"key": c["AccessKeyId"], "secret": c["SecretAccessKey"], "token": c["SessionToken"]}


def trail_bucket_policy(bucket, accounts=(MANAGEMENT,)):
    """The bucket policy CloudTrail needs to write `accounts`' logs into `bucket`."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": CT},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
    ] + [
        {"Sid": f"AWSCloudTrailWrite{a}", "Effect": "Allow", "Principal": {"Service": CT},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{a}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}
        for a in accounts
    ]})


def trail(server, name, bucket, creds=None, account=MANAGEMENT):
    """A bucket CloudTrail may write to and a trail delivering to it, made by the admin (or by
    `creds`, acting in `account`)."""
    creds = creds or {}
    s3 = server.client("s3", region="us-east-1", **creds)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=trail_bucket_policy(bucket, (account,)))
    return server.client("cloudtrail", **creds).create_trail(Name=name, S3BucketName=bucket)["TrailARN"]


def organization(server):
    """An organization with the SERVICE_CONTROL_POLICY type enabled on its root; returns the
    root's id."""
    org = server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]
    # On AWS a new organization's root has no policy types enabled until enable-policy-type.
    if {"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"} not in root["PolicyTypes"]:
        enabled = org.enable_policy_type(RootId=root["Id"], PolicyType="SERVICE_CONTROL_POLICY")["Root"]
        assert {"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"} in enabled["PolicyTypes"]
    return root["Id"]


def wait_account(server, org, request_id):
    """Polls describe-create-account-status until the request is done; returns the account id."""
    for _ in range(30):
        s = org.describe_create_account_status(CreateAccountRequestId=request_id)["CreateAccountStatus"]
        if s["State"] == "SUCCEEDED":
            return s["AccountId"]
        assert s["State"] == "IN_PROGRESS", s
        server.advance_clock(1)
        time.sleep(0.1)
    raise AssertionError(f"account creation {request_id} still in progress")


def member_account(server, name="Member"):
    org = server.client("organizations")
    car = org.create_account(Email=f"{name.lower()}@example.com", AccountName=name)["CreateAccountStatus"]
    return wait_account(server, org, car["Id"])


def scp(server, name, *statements):
    return server.client("organizations").create_policy(
        Name=name, Description=name, Type="SERVICE_CONTROL_POLICY", Content=document(*statements),
    )["Policy"]["PolicySummary"]["Id"]


def wire(client, operation):
    """The raw bodies of `operation`'s responses to `client` (botocore decodes policy documents)."""
    bodies = []
    client.meta.events.register(f"after-call.iam.{operation}", lambda http_response, **_: bodies.append(
        http_response.content))
    return bodies


def lookup(client, name):
    events = []
    for page in client.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]):
        events.extend(page["Events"])
    return events


def recent(when, seconds=120):
    return abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) < seconds


# --- users ----------------------------------------------------------------------------------


def test_create_user_with_path_tags_and_boundary(fresh):
    c = iam(fresh)
    boundary = AWS_POLICY + "AmazonS3FullAccess"
    tags = [{"Key": "team", "Value": "eng"}, {"Key": "cost", "Value": "42"}]
    u = c.create_user(UserName="alice", Path="/eng/", Tags=tags, PermissionsBoundary=boundary)["User"]
    assert u["Path"] == "/eng/"
    assert u["UserName"] == "alice"
    assert USER_ID.fullmatch(u["UserId"])
    assert u["Arn"] == user_arn("alice", "/eng/")
    assert recent(u["CreateDate"])
    # AWS echoes the boundary in CreateUser's response (moto leaves it out).
    assert u["PermissionsBoundary"] == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": boundary}
    assert sorted(u["Tags"], key=lambda t: t["Key"]) == sorted(tags, key=lambda t: t["Key"])
    got = c.get_user(UserName="alice")["User"]
    assert {k: got[k] for k in ("Path", "UserName", "UserId", "Arn", "CreateDate", "PermissionsBoundary")} == {
        k: u[k] for k in ("Path", "UserName", "UserId", "Arn", "CreateDate", "PermissionsBoundary")}
    assert sorted(got["Tags"], key=lambda t: t["Key"]) == sorted(tags, key=lambda t: t["Key"])
    # ListUsers leaves out PermissionsBoundary and Tags (documented for AWS's list operations).
    [listed] = [x for x in c.list_users()["Users"] if x["UserName"] == "alice"]
    assert "Tags" not in listed and "PermissionsBoundary" not in listed
    assert listed["UserId"] == u["UserId"]


def test_cli_create_user_prints_awss_members_in_order(fresh):
    _, out, _ = fresh.cli("iam", "create-user", "--user-name", "cli-user")
    doc = json.loads(out)
    assert list(doc) == ["User"]
    assert list(doc["User"]) == ["Path", "UserName", "UserId", "Arn", "CreateDate"]
    assert doc["User"]["Path"] == "/"
    assert doc["User"]["Arn"] == user_arn("cli-user")
    _, out, _ = fresh.cli("iam", "get-user", "--user-name", "cli-user")
    assert json.loads(out)["User"]["UserId"] == doc["User"]["UserId"]


def test_get_user_without_name_is_the_caller(fresh):
    me = iam(fresh).get_user()["User"]
    assert (me["UserName"], me["Arn"], me["Path"]) == ("admin", ADMIN_ARN, "/")
    assert me["UserId"] == fresh.client("sts").get_caller_identity()["UserId"]
    creds = make_user(fresh, "bob", policy=[allow("iam:GetUser", user_arn("bob"))])
    bob = iam(fresh, **creds).get_user()["User"]
    assert (bob["UserName"], bob["Arn"]) == ("bob", user_arn("bob"))
    assert bob["UserId"] == fresh.client("sts", **creds).get_caller_identity()["UserId"]


def test_list_users_by_path_prefix(fresh):
    c = iam(fresh)
    c.create_user(UserName="a1", Path="/eng/")
    c.create_user(UserName="a2", Path="/eng/backend/")
    c.create_user(UserName="b1", Path="/ops/")
    names = lambda **kw: sorted(u["UserName"] for u in c.list_users(**kw)["Users"])
    assert names(PathPrefix="/eng/") == ["a1", "a2"]
    assert names(PathPrefix="/eng/backend/") == ["a2"]
    assert names(PathPrefix="/nobody/") == []
    assert {"admin", "a1", "a2", "b1"} <= set(names())
    r = c.list_users(PathPrefix="/ops/")
    assert r["IsTruncated"] is False and "Marker" not in r


def test_update_user_renames_and_moves_and_keys_follow(fresh):
    c = iam(fresh)
    creds = make_user(fresh, "old")
    before = c.get_user(UserName="old")["User"]
    c.update_user(UserName="old", NewUserName="new", NewPath="/moved/")
    after = c.get_user(UserName="new")["User"]
    assert after["UserId"] == before["UserId"]
    assert (after["Path"], after["Arn"]) == ("/moved/", user_arn("new", "/moved/"))
    assert err(raises(c.get_user, UserName="old")) == ("NoSuchEntity", 404, "The user with name old cannot be found.")
    assert fresh.client("sts", **creds).get_caller_identity()["Arn"] == user_arn("new", "/moved/")
    assert [k["UserName"] for k in c.list_access_keys(UserName="new")["AccessKeyMetadata"]] == ["new"]
    c.create_user(UserName="taken")
    e = raises(c.update_user, UserName="new", NewUserName="taken")
    assert err(e) == ("EntityAlreadyExists", 409, "User with name taken already exists.")


def test_user_exists_and_missing_errors(fresh):
    c = iam(fresh)
    c.create_user(UserName="alice")
    assert err(raises(c.create_user, UserName="alice")) == ("EntityAlreadyExists", 409, "User with name alice already exists.")
    # IAM names are unique regardless of case.
    assert err(raises(c.create_user, UserName="ALICE"))[:2] == ("EntityAlreadyExists", 409)
    missing = ("NoSuchEntity", 404, "The user with name nobody cannot be found.")
    assert err(raises(c.get_user, UserName="nobody")) == missing
    assert err(raises(c.delete_user, UserName="nobody")) == missing
    assert err(raises(c.update_user, UserName="nobody", NewPath="/x/")) == missing
    assert err(raises(c.create_access_key, UserName="nobody")) == missing
    assert err(raises(c.list_access_keys, UserName="nobody")) == missing


def test_invalid_user_names_are_validation_errors(fresh):
    # moto does not validate names at all; AWS answers with its Coral validation message.
    c = unchecked(fresh)
    e = raises(c.create_user, UserName="bad name!")
    assert err(e) == (
        "ValidationError", 400,
        "1 validation error detected: Value 'bad name!' at 'userName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    )
    long = "a" * 65
    e = raises(c.create_user, UserName=long)
    assert err(e) == (
        "ValidationError", 400,
        f"1 validation error detected: Value '{long}' at 'userName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64",
    )
    code, _, stderr = fresh.cli("iam", "get-user", "--user-name", "no/slash", check=False)
    assert code != 0 and "(ValidationError)" in stderr and "at 'userName'" in stderr
    assert [u["UserName"] for u in c.list_users()["Users"]] == ["admin"]


def test_delete_user_conflicts_until_everything_is_gone(fresh):
    c = iam(fresh)
    c.create_user(UserName="busy")
    key = c.create_access_key(UserName="busy")["AccessKey"]["AccessKeyId"]
    e = raises(c.delete_user, UserName="busy")
    assert err(e) == ("DeleteConflict", 409, "Cannot delete entity, must delete access keys first.")
    c.delete_access_key(UserName="busy", AccessKeyId=key)

    c.attach_user_policy(UserName="busy", PolicyArn=AWS_POLICY + "ReadOnlyAccess")
    e = raises(c.delete_user, UserName="busy")
    assert err(e) == ("DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    c.detach_user_policy(UserName="busy", PolicyArn=AWS_POLICY + "ReadOnlyAccess")

    c.put_user_policy(UserName="busy", PolicyName="inline", PolicyDocument=document(allow("s3:ListAllMyBuckets")))
    e = raises(c.delete_user, UserName="busy")
    assert err(e) == ("DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
    c.delete_user_policy(UserName="busy", PolicyName="inline")

    c.create_group(GroupName="g")
    c.add_user_to_group(GroupName="g", UserName="busy")
    e = raises(c.delete_user, UserName="busy")
    code, status, msg = err(e)
    assert (code, status) == ("DeleteConflict", 409)
    assert msg.startswith("Cannot delete entity, must remove"), msg  # wording not pinned
    c.remove_user_from_group(GroupName="g", UserName="busy")

    c.delete_user(UserName="busy")
    assert err(raises(c.get_user, UserName="busy"))[:2] == ("NoSuchEntity", 404)
    assert c.get_group(GroupName="g")["Users"] == []


# --- groups ---------------------------------------------------------------------------------


def test_groups_and_membership(fresh):
    c = iam(fresh)
    g = c.create_group(GroupName="devs", Path="/eng/")["Group"]
    assert g["Path"] == "/eng/" and g["GroupName"] == "devs"
    assert GROUP_ID.fullmatch(g["GroupId"])
    assert g["Arn"] == f"arn:aws:iam::{MANAGEMENT}:group/eng/devs"
    assert recent(g["CreateDate"])
    assert err(raises(c.create_group, GroupName="devs")) == ("EntityAlreadyExists", 409, "Group with name devs already exists.")
    got = c.get_group(GroupName="devs")
    # IsTruncated is always present on AWS (moto omits it).
    assert got["Group"] == g and got["Users"] == [] and got["IsTruncated"] is False
    u1 = c.create_user(UserName="u1")["User"]
    c.create_user(UserName="u2")
    c.add_user_to_group(GroupName="devs", UserName="u1")
    c.add_user_to_group(GroupName="devs", UserName="u2")
    c.add_user_to_group(GroupName="devs", UserName="u1")  # already a member: no error, no duplicate
    users = c.get_group(GroupName="devs")["Users"]
    assert sorted(u["UserName"] for u in users) == ["u1", "u2"]
    [first] = [u for u in users if u["UserName"] == "u1"]
    assert (first["UserId"], first["Arn"]) == (u1["UserId"], u1["Arn"])
    c.create_group(GroupName="ops")
    c.add_user_to_group(GroupName="ops", UserName="u1")
    assert sorted(x["GroupName"] for x in c.list_groups_for_user(UserName="u1")["Groups"]) == ["devs", "ops"]
    assert [x["GroupName"] for x in c.list_groups_for_user(UserName="u2")["Groups"]] == ["devs"]
    assert [x["GroupName"] for x in c.list_groups(PathPrefix="/eng/")["Groups"]] == ["devs"]
    assert sorted(x["GroupName"] for x in c.list_groups()["Groups"]) == ["devs", "ops"]

    assert err(raises(c.add_user_to_group, GroupName="nope", UserName="u1")) == (
        "NoSuchEntity", 404, "The group with name nope cannot be found.")
    assert err(raises(c.add_user_to_group, GroupName="devs", UserName="nobody")) == (
        "NoSuchEntity", 404, "The user with name nobody cannot be found.")
    e = raises(c.delete_group, GroupName="devs")
    assert err(e) == ("DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
    c.remove_user_from_group(GroupName="devs", UserName="u1")
    c.remove_user_from_group(GroupName="devs", UserName="u2")
    assert [x["GroupName"] for x in c.list_groups_for_user(UserName="u1")["Groups"]] == ["ops"]
    c.delete_group(GroupName="devs")
    assert err(raises(c.get_group, GroupName="devs")) == ("NoSuchEntity", 404, "The group with name devs cannot be found.")
    assert err(raises(c.delete_group, GroupName="devs"))[:2] == ("NoSuchEntity", 404)


def test_delete_group_with_policies_conflicts(fresh):
    c = iam(fresh)
    c.create_group(GroupName="g")
    c.attach_group_policy(GroupName="g", PolicyArn=AWS_POLICY + "ReadOnlyAccess")
    assert err(raises(c.delete_group, GroupName="g")) == (
        "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    c.detach_group_policy(GroupName="g", PolicyArn=AWS_POLICY + "ReadOnlyAccess")
    c.put_group_policy(GroupName="g", PolicyName="p", PolicyDocument=document(allow("s3:*")))
    assert err(raises(c.delete_group, GroupName="g")) == (
        "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
    c.delete_group_policy(GroupName="g", PolicyName="p")
    c.delete_group(GroupName="g")
    assert c.list_groups()["Groups"] == []


# --- roles and instance profiles ------------------------------------------------------------


def test_create_and_get_role_with_trust_policy(fresh):
    c = iam(fresh)
    submitted = json.dumps(TRUST, indent=2)
    r = c.create_role(RoleName="deployer", Path="/ci/", AssumeRolePolicyDocument=submitted, Description="deploys")["Role"]
    assert (r["Path"], r["RoleName"]) == ("/ci/", "deployer")
    assert ROLE_ID.fullmatch(r["RoleId"])
    assert r["Arn"] == f"arn:aws:iam::{MANAGEMENT}:role/ci/deployer"
    assert recent(r["CreateDate"])
    assert r["AssumeRolePolicyDocument"] == TRUST
    bodies = wire(c, "GetRole")
    got = c.get_role(RoleName="deployer")["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST  # boto3 decodes it into a dict
    assert got["Description"] == "deploys"
    assert got["MaxSessionDuration"] == 3600
    assert (got["RoleId"], got["Arn"]) == (r["RoleId"], r["Arn"])
    # On the wire the document is URL-encoded, exactly as submitted.
    raw = ET.fromstring(bodies[0]).find(f"{NS}GetRoleResult/{NS}Role/{NS}AssumeRolePolicyDocument").text
    assert raw.startswith("%7B")
    assert urllib.parse.unquote(raw) == submitted
    assert err(raises(c.create_role, RoleName="deployer", AssumeRolePolicyDocument=json.dumps(TRUST))) == (
        "EntityAlreadyExists", 409, "Role with name deployer already exists.")
    assert err(raises(c.get_role, RoleName="nope")) == ("NoSuchEntity", 404, "The role with name nope cannot be found.")


def test_malformed_trust_policies_are_refused(fresh):
    c = iam(fresh)
    e = raises(c.create_role, RoleName="r", AssumeRolePolicyDocument="{not json")
    assert err(e) == ("MalformedPolicyDocument", 400, "This policy contains invalid Json")
    no_principal = document({"Effect": "Allow", "Action": "sts:AssumeRole"})
    assert err(raises(c.create_role, RoleName="r", AssumeRolePolicyDocument=no_principal))[:2] == (
        "MalformedPolicyDocument", 400)
    c.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    e = raises(c.update_assume_role_policy, RoleName="r", PolicyDocument="[1,2")
    assert err(e) == ("MalformedPolicyDocument", 400, "This policy contains invalid Json")
    assert c.get_role(RoleName="r")["Role"]["AssumeRolePolicyDocument"] == TRUST
    assert [x["RoleName"] for x in c.list_roles(PathPrefix="/")["Roles"] if x["RoleName"] == "r"] == ["r"]


def test_update_assume_role_policy_and_update_role(fresh):
    c = iam(fresh)
    c.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    role_arn = f"arn:aws:iam::{MANAGEMENT}:role/r"
    # Trusting only EC2, the role refuses the admin.
    e = raises(fresh.client("sts").assume_role, RoleArn=role_arn, RoleSessionName="ss")
    assert err(e)[:2] == ("AccessDenied", 403)
    c.update_assume_role_policy(RoleName="r", PolicyDocument=json.dumps(TRUST))
    assert c.get_role(RoleName="r")["Role"]["AssumeRolePolicyDocument"] == TRUST
    sts = fresh.client("sts")
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="ss")["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{MANAGEMENT}:assumed-role/r/ss")
    e = raises(sts.assume_role, RoleArn=role_arn, RoleSessionName="ss", DurationSeconds=7200)
    assert err(e) == ("ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    c.update_role(RoleName="r", MaxSessionDuration=43200, Description="long sessions")
    got = c.get_role(RoleName="r")["Role"]
    assert (got["MaxSessionDuration"], got["Description"]) == (43200, "long sessions")
    exp = sts.assume_role(RoleArn=role_arn, RoleSessionName="ss", DurationSeconds=7200)["Credentials"]["Expiration"]
    assert 7100 < (exp - datetime.datetime.now(datetime.timezone.utc)).total_seconds() < 7300
    raw = unchecked(fresh)
    for value, bound in ((100, "greater than or equal to 3600"), (43201, "less than or equal to 43200")):
        e = raises(raw.update_role, RoleName="r", MaxSessionDuration=value)
        assert err(e) == (
            "ValidationError", 400,
            f"1 validation error detected: Value '{value}' at 'maxSessionDuration' failed to satisfy constraint: "
            f"Member must have value {bound}",
        )
    assert c.get_role(RoleName="r")["Role"]["MaxSessionDuration"] == 43200
    assert err(raises(c.update_role, RoleName="nope", MaxSessionDuration=3600))[:2] == ("NoSuchEntity", 404)


def test_list_roles_and_delete_role(fresh):
    c = iam(fresh)
    c.create_role(RoleName="a", Path="/app/", AssumeRolePolicyDocument=json.dumps(TRUST))
    c.create_role(RoleName="b", Path="/app/", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    c.create_role(RoleName="c", Path="/other/", AssumeRolePolicyDocument=json.dumps(TRUST))
    listed = c.list_roles(PathPrefix="/app/")["Roles"]
    assert sorted(r["RoleName"] for r in listed) == ["a", "b"]
    assert {r["RoleName"]: r["AssumeRolePolicyDocument"] for r in listed} == {"a": TRUST, "b": EC2_TRUST}
    c.tag_role(RoleName="a", Tags=[{"Key": "k", "Value": "v"}])
    # ListRoles leaves out PermissionsBoundary, RoleLastUsed and Tags (documented).
    [a] = [r for r in c.list_roles(PathPrefix="/app/")["Roles"] if r["RoleName"] == "a"]
    assert not {"Tags", "PermissionsBoundary", "RoleLastUsed"} & set(a)
    c.delete_role(RoleName="a")
    assert [r["RoleName"] for r in c.list_roles(PathPrefix="/app/")["Roles"]] == ["b"]
    assert err(raises(c.delete_role, RoleName="a")) == ("NoSuchEntity", 404, "The role with name a cannot be found.")


def test_delete_role_with_policies_conflicts(fresh):
    c = iam(fresh)
    c.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    c.attach_role_policy(RoleName="r", PolicyArn=AWS_POLICY + "ReadOnlyAccess")
    assert err(raises(c.delete_role, RoleName="r")) == (
        "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    c.detach_role_policy(RoleName="r", PolicyArn=AWS_POLICY + "ReadOnlyAccess")
    c.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=document(allow("s3:*")))
    assert err(raises(c.delete_role, RoleName="r")) == (
        "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
    c.delete_role_policy(RoleName="r", PolicyName="p")
    c.delete_role(RoleName="r")
    assert err(raises(c.get_role, RoleName="r"))[:2] == ("NoSuchEntity", 404)


def test_instance_profiles(fresh):
    c = iam(fresh)
    role = c.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))["Role"]
    c.create_role(RoleName="other", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    ip = c.create_instance_profile(InstanceProfileName="web-profile", Path="/web/")["InstanceProfile"]
    assert (ip["Path"], ip["InstanceProfileName"], ip["Roles"]) == ("/web/", "web-profile", [])
    assert PROFILE_ID.fullmatch(ip["InstanceProfileId"])
    assert ip["Arn"] == f"arn:aws:iam::{MANAGEMENT}:instance-profile/web/web-profile"
    assert err(raises(c.create_instance_profile, InstanceProfileName="web-profile")) == (
        "EntityAlreadyExists", 409, "Instance Profile web-profile already exists.")
    c.add_role_to_instance_profile(InstanceProfileName="web-profile", RoleName="web")
    got = c.get_instance_profile(InstanceProfileName="web-profile")["InstanceProfile"]
    [r] = got["Roles"]
    assert (r["RoleName"], r["RoleId"], r["Arn"]) == ("web", role["RoleId"], role["Arn"])
    assert r["AssumeRolePolicyDocument"] == EC2_TRUST
    e = raises(c.add_role_to_instance_profile, InstanceProfileName="web-profile", RoleName="other")
    assert err(e) == ("LimitExceeded", 409, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    [listed] = c.list_instance_profiles_for_role(RoleName="web")["InstanceProfiles"]
    assert (listed["InstanceProfileName"], listed["Arn"]) == ("web-profile", ip["Arn"])
    assert c.list_instance_profiles_for_role(RoleName="other")["InstanceProfiles"] == []
    assert [p["InstanceProfileName"] for p in c.list_instance_profiles(PathPrefix="/web/")["InstanceProfiles"]] == [
        "web-profile"]
    conflict = ("DeleteConflict", 409, "Cannot delete entity, must remove roles from instance profile first.")
    assert err(raises(c.delete_role, RoleName="web")) == conflict
    assert err(raises(c.delete_instance_profile, InstanceProfileName="web-profile")) == conflict
    c.remove_role_from_instance_profile(InstanceProfileName="web-profile", RoleName="web")
    assert c.get_instance_profile(InstanceProfileName="web-profile")["InstanceProfile"]["Roles"] == []
    c.delete_instance_profile(InstanceProfileName="web-profile")
    c.delete_role(RoleName="web")
    assert err(raises(c.get_instance_profile, InstanceProfileName="web-profile")) == (
        "NoSuchEntity", 404, "Instance Profile web-profile cannot be found.")


# --- managed policies -----------------------------------------------------------------------


READ_TRAILS = document(allow(["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"]))


def test_create_policy_and_its_first_version(fresh):
    c = iam(fresh)
    p = c.create_policy(PolicyName="ReadTrails", PolicyDocument=READ_TRAILS, Description="read trails")["Policy"]
    arn = f"arn:aws:iam::{MANAGEMENT}:policy/ReadTrails"
    assert p["Arn"] == arn
    assert (p["PolicyName"], p["Path"], p["DefaultVersionId"]) == ("ReadTrails", "/", "v1")
    assert (p["AttachmentCount"], p["PermissionsBoundaryUsageCount"], p["IsAttachable"]) == (0, 0, True)
    assert POLICY_ID.fullmatch(p["PolicyId"])
    assert recent(p["CreateDate"]) and recent(p["UpdateDate"])
    got = c.get_policy(PolicyArn=arn)["Policy"]
    assert got["Description"] == "read trails"
    assert {k: got[k] for k in ("PolicyId", "Arn", "DefaultVersionId", "AttachmentCount", "IsAttachable")} == {
        k: p[k] for k in ("PolicyId", "Arn", "DefaultVersionId", "AttachmentCount", "IsAttachable")}
    v = c.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert (v["VersionId"], v["IsDefaultVersion"]) == ("v1", True)
    assert v["Document"] == json.loads(READ_TRAILS)
    assert recent(v["CreateDate"])
    assert err(raises(c.create_policy, PolicyName="ReadTrails", PolicyDocument=READ_TRAILS)) == (
        "EntityAlreadyExists", 409, "A policy called ReadTrails already exists. Duplicate names are not allowed.")
    pathed = c.create_policy(PolicyName="Scoped", Path="/team/", PolicyDocument=READ_TRAILS)["Policy"]
    assert pathed["Arn"] == f"arn:aws:iam::{MANAGEMENT}:policy/team/Scoped"
    missing = f"arn:aws:iam::{MANAGEMENT}:policy/Nope"
    assert err(raises(c.get_policy, PolicyArn=missing)) == ("NoSuchEntity", 404, f"Policy {missing} was not found.")
    assert err(raises(c.get_policy_version, PolicyArn=arn, VersionId="v9"))[:2] == ("NoSuchEntity", 404)


def test_policy_versions_default_and_the_five_version_limit(fresh):
    c = iam(fresh)
    arn = c.create_policy(PolicyName="P", PolicyDocument=document(allow("s3:GetObject")))["Policy"]["Arn"]
    v2 = c.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow("s3:PutObject")))["PolicyVersion"]
    assert (v2["VersionId"], v2["IsDefaultVersion"]) == ("v2", False)
    assert "Document" not in v2  # CreatePolicyVersion leaves the document out (documented; moto returns it)
    assert c.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    v3 = c.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow("s3:ListBucket")), SetAsDefault=True)
    assert (v3["PolicyVersion"]["VersionId"], v3["PolicyVersion"]["IsDefaultVersion"]) == ("v3", True)
    assert c.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    versions = c.list_policy_versions(PolicyArn=arn)["Versions"]
    assert sorted((v["VersionId"], v["IsDefaultVersion"]) for v in versions) == [
        ("v1", False), ("v2", False), ("v3", True)]
    assert "Document" not in versions[0]  # ListPolicyVersions leaves documents out
    assert c.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]["Document"] == json.loads(
        document(allow("s3:PutObject")))

    c.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert c.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    assert c.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]["IsDefaultVersion"] is False
    e = raises(c.delete_policy_version, PolicyArn=arn, VersionId="v1")
    assert err(e) == ("DeleteConflict", 409, "Cannot delete the default version of a policy.")
    c.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert err(raises(c.get_policy_version, PolicyArn=arn, VersionId="v2"))[:2] == ("NoSuchEntity", 404)

    # Version ids are never reused: after v3 comes v4 even though v2 is gone.
    for n in (4, 5, 6):
        made = c.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow(f"s3:Get{n}*")))
        assert made["PolicyVersion"]["VersionId"] == f"v{n}"
    assert len(c.list_policy_versions(PolicyArn=arn)["Versions"]) == 5
    e = raises(c.create_policy_version, PolicyArn=arn, PolicyDocument=document(allow("s3:*")))
    assert err(e) == (
        "LimitExceeded", 409,
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
    )
    assert err(raises(c.set_default_policy_version, PolicyArn=arn, VersionId="v2"))[:2] == ("NoSuchEntity", 404)


@pytest.mark.parametrize("doc, message", [
    ("{not json", "This policy contains invalid Json"),
    ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}',
     "Policy statement must contain resources."),
    ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", '
     '"Principal": {"AWS": "*"}}]}', "Policy document should not specify a principal."),
    ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "DescribeTrails", "Resource": "*"}]}',
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ('{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}', None),
    ('{"Version": "2012-10-17"}', None),
    ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Bogus": 1}]}', None),
])
def test_malformed_policy_documents(fresh, doc, message):
    # moto accepts most of these and says "Syntax errors in policy." for bad JSON; AWS as below.
    c = iam(fresh)
    c.create_user(UserName="u")
    arn = c.create_policy(PolicyName="Good", PolicyDocument=READ_TRAILS)["Policy"]["Arn"]
    calls = [
        lambda: c.create_policy(PolicyName="Bad", PolicyDocument=doc),
        lambda: c.create_policy_version(PolicyArn=arn, PolicyDocument=doc),
        lambda: c.put_user_policy(UserName="u", PolicyName="bad", PolicyDocument=doc),
    ]
    for call in calls:
        code, status, msg = err(raises(call))
        assert (code, status) == ("MalformedPolicyDocument", 400), msg
        if message is not None:
            assert msg == message
    assert [p["PolicyName"] for p in c.list_policies(Scope="Local")["Policies"]] == ["Good"]
    assert len(c.list_policy_versions(PolicyArn=arn)["Versions"]) == 1
    assert c.list_user_policies(UserName="u")["PolicyNames"] == []


def test_delete_policy_needs_no_attachments_and_no_other_versions(fresh):
    c = iam(fresh)
    arn = c.create_policy(PolicyName="P", PolicyDocument=READ_TRAILS)["Policy"]["Arn"]
    c.create_user(UserName="u")
    c.attach_user_policy(UserName="u", PolicyArn=arn)
    assert c.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    assert err(raises(c.delete_policy, PolicyArn=arn)) == (
        "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
    c.detach_user_policy(UserName="u", PolicyArn=arn)
    assert c.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    c.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow("s3:*")))
    e = raises(c.delete_policy, PolicyArn=arn)
    assert err(e) == (
        "DeleteConflict", 409,
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. "
        "The default version is deleted with the policy.",
    )
    c.delete_policy_version(PolicyArn=arn, VersionId="v2")
    c.delete_policy(PolicyArn=arn)
    assert err(raises(c.get_policy, PolicyArn=arn)) == ("NoSuchEntity", 404, f"Policy {arn} was not found.")
    assert c.list_policies(Scope="Local")["Policies"] == []


AWS_MANAGED = [
    "AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess", "AWSCloudTrail_FullAccess",
    "AWSCloudTrail_ReadOnlyAccess", "AWSOrganizationsFullAccess", "AmazonS3FullAccess", "AmazonS3ReadOnlyAccess",
    "IAMFullAccess", "SecurityAudit",
]


def all_policies(c, **kw):
    out = []
    for page in c.get_paginator("list_policies").paginate(**kw):
        out.extend(page["Policies"])
    return out


def test_list_policies_by_scope(fresh):
    c = iam(fresh)
    mine = c.create_policy(PolicyName="Mine", PolicyDocument=READ_TRAILS, Description="mine")["Policy"]["Arn"]
    local = all_policies(c, Scope="Local")
    assert [p["Arn"] for p in local] == [mine]
    aws = {p["PolicyName"]: p for p in all_policies(c, Scope="AWS")}
    for name in AWS_MANAGED:
        assert name in aws, name
        p = aws[name]
        assert p["Arn"] == AWS_POLICY + name
        assert (p["Path"], p["IsAttachable"]) == ("/", True)
        assert POLICY_ID.fullmatch(p["PolicyId"])
    assert all(p["Arn"].startswith(AWS_POLICY) for p in aws.values())
    assert "Description" not in local[0]  # ListPolicies leaves descriptions out (documented)
    assert mine not in {p["Arn"] for p in aws.values()}
    everything = {p["Arn"] for p in all_policies(c, Scope="All")}
    assert mine in everything and ADMINISTRATOR in everything
    # The bootstrap admin holds AdministratorAccess: OnlyAttached finds it.
    attached = {p["Arn"] for p in all_policies(c, Scope="AWS", OnlyAttached=True)}
    assert ADMINISTRATOR in attached and AWS_POLICY + "SecurityAudit" not in attached


def test_aws_managed_policy_documents(fresh):
    c = iam(fresh)
    admin = c.get_policy(PolicyArn=ADMINISTRATOR)["Policy"]
    assert (admin["PolicyName"], admin["DefaultVersionId"], admin["IsAttachable"]) == ("AdministratorAccess", "v1", True)
    assert admin["AttachmentCount"] >= 1  # the bootstrap admin
    v = c.get_policy_version(PolicyArn=ADMINISTRATOR, VersionId="v1")["PolicyVersion"]
    assert v["Document"] == {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert v["IsDefaultVersion"] is True
    s3 = c.get_policy(PolicyArn=AWS_POLICY + "AmazonS3ReadOnlyAccess")["Policy"]
    doc = c.get_policy_version(PolicyArn=s3["Arn"], VersionId=s3["DefaultVersionId"])["PolicyVersion"]["Document"]
    actions = [a for st in doc["Statement"] for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])]
    assert "s3:Get*" in actions and "s3:List*" in actions


def test_attach_and_detach_managed_policies_everywhere(fresh):
    c = iam(fresh)
    arn = c.create_policy(PolicyName="P", PolicyDocument=READ_TRAILS)["Policy"]["Arn"]
    u = c.create_user(UserName="u")["User"]
    g = c.create_group(GroupName="g")["Group"]
    r = c.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    c.attach_user_policy(UserName="u", PolicyArn=arn)
    c.attach_user_policy(UserName="u", PolicyArn=arn)  # attaching again is no error and no second attachment
    c.attach_group_policy(GroupName="g", PolicyArn=arn)
    c.attach_role_policy(RoleName="r", PolicyArn=arn)
    c.attach_role_policy(RoleName="r", PolicyArn=AWS_POLICY + "ReadOnlyAccess")
    entry = {"PolicyName": "P", "PolicyArn": arn}
    assert c.list_attached_user_policies(UserName="u")["AttachedPolicies"] == [entry]
    assert c.list_attached_group_policies(GroupName="g")["AttachedPolicies"] == [entry]
    assert sorted(c.list_attached_role_policies(RoleName="r")["AttachedPolicies"], key=lambda p: p["PolicyName"]) == [
        entry, {"PolicyName": "ReadOnlyAccess", "PolicyArn": AWS_POLICY + "ReadOnlyAccess"}]
    assert c.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3  # moto counts the repeat attach too
    ents = c.list_entities_for_policy(PolicyArn=arn)
    assert ents["PolicyUsers"] == [{"UserName": "u", "UserId": u["UserId"]}]
    assert ents["PolicyGroups"] == [{"GroupName": "g", "GroupId": g["GroupId"]}]
    assert ents["PolicyRoles"] == [{"RoleName": "r", "RoleId": r["RoleId"]}]
    only_roles = c.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
    assert (only_roles["PolicyUsers"], only_roles["PolicyGroups"]) == ([], [])
    assert [x["RoleName"] for x in only_roles["PolicyRoles"]] == ["r"]
    c.detach_user_policy(UserName="u", PolicyArn=arn)
    c.detach_group_policy(GroupName="g", PolicyArn=arn)
    c.detach_role_policy(RoleName="r", PolicyArn=arn)
    assert c.list_attached_user_policies(UserName="u")["AttachedPolicies"] == []
    assert c.list_attached_group_policies(GroupName="g")["AttachedPolicies"] == []
    assert c.list_attached_role_policies(RoleName="r")["AttachedPolicies"] == [
        {"PolicyName": "ReadOnlyAccess", "PolicyArn": AWS_POLICY + "ReadOnlyAccess"}]
    assert c.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    ents = c.list_entities_for_policy(PolicyArn=arn)
    assert (ents["PolicyUsers"], ents["PolicyGroups"], ents["PolicyRoles"]) == ([], [], [])
    assert err(raises(c.detach_user_policy, UserName="u", PolicyArn=arn))[:2] == ("NoSuchEntity", 404)
    missing = f"arn:aws:iam::{MANAGEMENT}:policy/Nope"
    assert err(raises(c.attach_user_policy, UserName="u", PolicyArn=missing)) == (
        "NoSuchEntity", 404, f"Policy {missing} does not exist or is not attachable.")
    assert err(raises(c.attach_user_policy, UserName="nobody", PolicyArn=arn)) == (
        "NoSuchEntity", 404, "The user with name nobody cannot be found.")


@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_inline_policies(fresh, kind):
    c = iam(fresh)
    Kind = kind.capitalize()
    if kind == "role":
        c.create_role(RoleName="e", AssumeRolePolicyDocument=json.dumps(TRUST))
    else:
        getattr(c, f"create_{kind}")(**{f"{Kind}Name": "e"})
    name = {f"{Kind}Name": "e"}
    put, get = getattr(c, f"put_{kind}_policy"), getattr(c, f"get_{kind}_policy")
    lst, delete = getattr(c, f"list_{kind}_policies"), getattr(c, f"delete_{kind}_policy")
    put(PolicyName="one", PolicyDocument=READ_TRAILS, **name)
    put(PolicyName="two", PolicyDocument=document(allow("s3:*")), **name)
    got = get(PolicyName="one", **name)
    got.pop("ResponseMetadata")
    assert got == {f"{Kind}Name": "e", "PolicyName": "one", "PolicyDocument": json.loads(READ_TRAILS)}
    assert sorted(lst(**name)["PolicyNames"]) == ["one", "two"]
    put(PolicyName="one", PolicyDocument=document(allow("sts:*")), **name)  # replaces
    assert get(PolicyName="one", **name)["PolicyDocument"] == json.loads(document(allow("sts:*")))
    delete(PolicyName="one", **name)
    assert lst(**name)["PolicyNames"] == ["two"]
    assert err(raises(get, PolicyName="one", **name)) == (
        "NoSuchEntity", 404, f"The {kind} policy with name one cannot be found.")
    assert err(raises(delete, PolicyName="one", **name))[:2] == ("NoSuchEntity", 404)
    e = raises(put, PolicyName="x", PolicyDocument=READ_TRAILS, **{f"{Kind}Name": "nobody"})
    assert err(e) == ("NoSuchEntity", 404, f"The {kind} with name nobody cannot be found.")
    # Inline policies are not managed policies.
    assert all_policies(c, Scope="Local") == []


def test_permissions_boundaries_on_users_and_roles(fresh):
    c = iam(fresh)
    arn = c.create_policy(PolicyName="Boundary", PolicyDocument=document(allow("s3:*")))["Policy"]["Arn"]
    c.create_user(UserName="u")
    assert "PermissionsBoundary" not in c.get_user(UserName="u")["User"]
    c.put_user_permissions_boundary(UserName="u", PermissionsBoundary=arn)
    assert c.get_user(UserName="u")["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}
    p = c.get_policy(PolicyArn=arn)["Policy"]
    assert (p["PermissionsBoundaryUsageCount"], p["AttachmentCount"]) == (1, 0)
    # A boundary is not an attachment.
    assert c.list_attached_user_policies(UserName="u")["AttachedPolicies"] == []
    c.delete_user_permissions_boundary(UserName="u")
    assert "PermissionsBoundary" not in c.get_user(UserName="u")["User"]
    assert c.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 0
    c.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    c.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=AWS_POLICY + "ReadOnlyAccess")
    assert c.get_role(RoleName="r")["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": AWS_POLICY + "ReadOnlyAccess"}
    c.delete_role_permissions_boundary(RoleName="r")
    assert "PermissionsBoundary" not in c.get_role(RoleName="r")["Role"]
    assert err(raises(c.put_user_permissions_boundary, UserName="nobody", PermissionsBoundary=arn))[:2] == (
        "NoSuchEntity", 404)


# --- access keys ----------------------------------------------------------------------------


def test_access_keys_for_another_user(fresh):
    c = iam(fresh)
    c.create_user(UserName="bob")
    k = c.create_access_key(UserName="bob")["AccessKey"]
    assert (k["UserName"], k["Status"]) == ("bob", "Active")
    assert ACCESS_KEY_ID.fullmatch(k["AccessKeyId"])
    assert len(k["SecretAccessKey"]) == 40
    assert recent(k["CreateDate"])
    creds = {"key": k["AccessKeyId"], "secret": k["SecretAccessKey"]}
    assert fresh.client("sts", **creds).get_caller_identity()["Arn"] == user_arn("bob")
    [meta] = c.list_access_keys(UserName="bob")["AccessKeyMetadata"]
    assert meta == {"UserName": "bob", "AccessKeyId": k["AccessKeyId"], "Status": "Active", "CreateDate": meta["CreateDate"]}
    k2 = c.create_access_key(UserName="bob")["AccessKey"]
    assert k2["AccessKeyId"] != k["AccessKeyId"]
    e = raises(c.create_access_key, UserName="bob")
    assert err(e) == ("LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2")
    assert len(c.list_access_keys(UserName="bob")["AccessKeyMetadata"]) == 2

    c.update_access_key(UserName="bob", AccessKeyId=k["AccessKeyId"], Status="Inactive")
    statuses = {m["AccessKeyId"]: m["Status"] for m in c.list_access_keys(UserName="bob")["AccessKeyMetadata"]}
    assert statuses == {k["AccessKeyId"]: "Inactive", k2["AccessKeyId"]: "Active"}
    e = raises(fresh.client("sts", **creds).get_caller_identity)
    assert err(e) == ("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
    c.update_access_key(UserName="bob", AccessKeyId=k["AccessKeyId"], Status="Active")
    assert fresh.client("sts", **creds).get_caller_identity()["Arn"] == user_arn("bob")

    c.delete_access_key(UserName="bob", AccessKeyId=k["AccessKeyId"])
    assert [m["AccessKeyId"] for m in c.list_access_keys(UserName="bob")["AccessKeyMetadata"]] == [k2["AccessKeyId"]]
    assert err(raises(fresh.client("sts", **creds).get_caller_identity))[:2] == ("InvalidClientTokenId", 403)
    e = raises(c.delete_access_key, UserName="bob", AccessKeyId=k["AccessKeyId"])
    assert err(e) == ("NoSuchEntity", 404, f"The Access Key with id {k['AccessKeyId']} cannot be found.")
    # With a slot free again a new key can be made.
    assert c.create_access_key(UserName="bob")["AccessKey"]["Status"] == "Active"


def test_inactive_key_is_refused_by_every_protocol(fresh):
    c = iam(fresh)
    creds = make_user(fresh, "idle", managed=[ADMINISTRATOR])
    fresh.client("s3", **creds).list_buckets()
    c.update_access_key(UserName="idle", AccessKeyId=creds["key"], Status="Inactive")
    assert err(raises(iam(fresh, **creds).list_users)) == (
        "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
    assert err(raises(fresh.client("cloudtrail", **creds).describe_trails))[0] == "UnrecognizedClientException"
    assert err(raises(fresh.client("s3", **creds).list_buckets))[:2] == ("InvalidAccessKeyId", 403)


def test_create_access_key_without_user_name_is_for_the_caller(fresh):
    c = iam(fresh)
    k = c.create_access_key()["AccessKey"]
    assert k["UserName"] == "admin"
    creds = {"key": k["AccessKeyId"], "secret": k["SecretAccessKey"]}
    assert fresh.client("sts", **creds).get_caller_identity()["Arn"] == ADMIN_ARN
    assert k["AccessKeyId"] in {m["AccessKeyId"] for m in c.list_access_keys()["AccessKeyMetadata"]}
    c.delete_access_key(AccessKeyId=k["AccessKeyId"])
    assert k["AccessKeyId"] not in {m["AccessKeyId"] for m in c.list_access_keys(UserName="admin")["AccessKeyMetadata"]}


def test_get_access_key_last_used(fresh):
    c = iam(fresh)
    creds = make_user(fresh, "carol")
    before = c.get_access_key_last_used(AccessKeyId=creds["key"])
    assert before["UserName"] == "carol"
    assert before["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    fresh.client("sts", **creds).get_caller_identity()
    after = c.get_access_key_last_used(AccessKeyId=creds["key"])["AccessKeyLastUsed"]
    # AWS updates this within hours; Cairn at once.
    assert recent(after["LastUsedDate"])
    assert (after["ServiceName"], after["Region"]) == ("sts", REGION)
    assert err(raises(c.get_access_key_last_used, AccessKeyId="AKIAIOSFODNN7EXAMPLE"))[0] in (
        "NoSuchEntity", "AccessDenied")


# --- tags -----------------------------------------------------------------------------------


def by_key(tags):
    return sorted(tags, key=lambda t: t["Key"])


def test_user_tags(fresh):
    c = iam(fresh)
    c.create_user(UserName="u", Tags=[{"Key": "a", "Value": "1"}])
    c.tag_user(UserName="u", Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "one"}])
    assert by_key(c.list_user_tags(UserName="u")["Tags"]) == [{"Key": "a", "Value": "one"}, {"Key": "b", "Value": "2"}]
    assert by_key(c.get_user(UserName="u")["User"]["Tags"]) == [{"Key": "a", "Value": "one"}, {"Key": "b", "Value": "2"}]
    c.untag_user(UserName="u", TagKeys=["a", "missing"])
    r = c.list_user_tags(UserName="u")
    assert (r["Tags"], r["IsTruncated"]) == ([{"Key": "b", "Value": "2"}], False)
    assert err(raises(c.tag_user, UserName="nobody", Tags=[{"Key": "k", "Value": "v"}])) == (
        "NoSuchEntity", 404, "The user with name nobody cannot be found.")
    assert err(raises(c.list_user_tags, UserName="nobody"))[:2] == ("NoSuchEntity", 404)


def test_role_and_policy_tags(fresh):
    c = iam(fresh)
    c.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    c.tag_role(RoleName="r", Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "x"}])
    assert by_key(c.list_role_tags(RoleName="r")["Tags"]) == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "x"}]
    assert by_key(c.get_role(RoleName="r")["Role"]["Tags"]) == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "x"}]
    c.untag_role(RoleName="r", TagKeys=["team"])
    assert c.list_role_tags(RoleName="r")["Tags"] == [{"Key": "env", "Value": "prod"}]
    arn = c.create_policy(PolicyName="P", PolicyDocument=READ_TRAILS, Tags=[{"Key": "k", "Value": "v"}])["Policy"]["Arn"]
    c.tag_policy(PolicyArn=arn, Tags=[{"Key": "k2", "Value": "v2"}])
    assert by_key(c.list_policy_tags(PolicyArn=arn)["Tags"]) == [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": "v2"}]
    assert by_key(c.get_policy(PolicyArn=arn)["Policy"]["Tags"]) == [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": "v2"}]
    c.untag_policy(PolicyArn=arn, TagKeys=["k"])
    assert c.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "k2", "Value": "v2"}]
    assert err(raises(c.tag_role, RoleName="nope", Tags=[{"Key": "k", "Value": "v"}])) == (
        "NoSuchEntity", 404, "The role with name nope cannot be found.")
    assert err(raises(c.tag_policy, PolicyArn=arn + "x", Tags=[{"Key": "k", "Value": "v"}]))[:2] == (
        "NoSuchEntity", 404)


# --- the bootstrap admin and minted users ---------------------------------------------------


def test_cli_bootstrap_admin_is_a_user_with_administrator_access(fresh):
    _, out, _ = fresh.cli("iam", "list-users")
    [admin] = [u for u in json.loads(out)["Users"] if u["UserName"] == "admin"]
    assert admin["Arn"] == ADMIN_ARN and admin["Path"] == "/"
    assert admin["UserId"] == fresh.client("sts").get_caller_identity()["UserId"]
    _, out, _ = fresh.cli("iam", "list-attached-user-policies", "--user-name", "admin")
    assert json.loads(out)["AttachedPolicies"] == [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMINISTRATOR}]
    ents = iam(fresh).list_entities_for_policy(PolicyArn=ADMINISTRATOR)["PolicyUsers"]
    assert [u["UserName"] for u in ents] == ["admin"]


def test_minted_user_is_an_ordinary_user_without_policies(fresh):
    creds = minted(fresh, "alice")
    c = iam(fresh)
    u = c.get_user(UserName="alice")["User"]
    assert u["Arn"] == user_arn("alice")
    assert c.list_attached_user_policies(UserName="alice")["AttachedPolicies"] == []
    assert c.list_user_policies(UserName="alice")["PolicyNames"] == []
    assert [k["AccessKeyId"] for k in c.list_access_keys(UserName="alice")["AccessKeyMetadata"]] == [creds["key"]]
    alice = user_arn("alice")
    assert fresh.client("sts", **creds).get_caller_identity()["Arn"] == alice
    e = raises(fresh.client("cloudtrail", **creds).describe_trails)
    assert_refused(e, "AccessDeniedException", alice, "cloudtrail:DescribeTrails", NO_IDENTITY.format("cloudtrail:DescribeTrails"))
    e = raises(fresh.client("s3", **creds).list_buckets)
    assert_refused(e, "AccessDenied", alice, "s3:ListAllMyBuckets", NO_IDENTITY.format("s3:ListAllMyBuckets"), 403)
    e = raises(iam(fresh, **creds).list_users)
    assert_refused(e, "AccessDenied", alice, "iam:ListUsers", NO_IDENTITY.format("iam:ListUsers"), 403)
    # Refused before the organization's absence is even looked at.
    e = raises(fresh.client("organizations", **creds).describe_organization)
    assert err(e)[:2] == ("AccessDeniedException", 400)


def test_cli_prints_iam_refusals(fresh):
    creds = minted(fresh, "alice")
    code, _, stderr = fresh.cli("iam", "list-users", key=creds["key"], secret=creds["secret"], check=False)
    assert code != 0
    assert (
        "An error occurred (AccessDenied) when calling the ListUsers operation: "
        f"User: {user_arn('alice')} is not authorized to perform: iam:ListUsers" in stderr
    )


# --- authorization end to end ---------------------------------------------------------------


def test_least_privilege_user_can_do_only_what_its_policy_allows(fresh):
    trail(fresh, "audit", "audit-bucket")
    creds = make_user(fresh, "reader", policy=[allow(["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"])])
    ct = fresh.client("cloudtrail", **creds)
    assert [t["Name"] for t in ct.describe_trails()["trailList"]] == ["audit"]
    assert ct.get_trail_status(Name="audit")["IsLogging"] is False
    e = raises(ct.create_trail, Name="sneaky", S3BucketName="audit-bucket")
    code, _, msg = err(e)
    assert code == "AccessDeniedException"
    assert msg == refusal(user_arn("reader"), "cloudtrail:CreateTrail", trail_arn("sneaky"),
                          NO_IDENTITY.format("cloudtrail:CreateTrail"))
    e = raises(ct.start_logging, Name="audit")
    assert err(e)[2] == refusal(user_arn("reader"), "cloudtrail:StartLogging", trail_arn("audit"),
                                NO_IDENTITY.format("cloudtrail:StartLogging"))
    e = raises(iam(fresh, **creds).create_user, UserName="newbie")
    assert err(e) == (
        "AccessDenied", 403,
        refusal(user_arn("reader"), "iam:CreateUser", user_arn("newbie"), NO_IDENTITY.format("iam:CreateUser")),
    )
    # Nothing the refusals asked for happened.
    assert [t["Name"] for t in fresh.client("cloudtrail").describe_trails()["trailList"]] == ["audit"]
    assert err(raises(iam(fresh).get_user, UserName="newbie"))[0] == "NoSuchEntity"
    assert fresh.client("cloudtrail").get_trail_status(Name="audit")["IsLogging"] is False


def test_resource_scoped_and_wildcard_actions(fresh):
    trail(fresh, "trail-a", "bucket-a")
    trail(fresh, "trail-b", "bucket-b")
    creds = make_user(fresh, "scoped", policy=[
        allow("cloudtrail:Get*", trail_arn("trail-a")),
        allow("cloudtrail:Describe*"),
    ])
    ct = fresh.client("cloudtrail", **creds)
    assert ct.get_trail_status(Name="trail-a")["IsLogging"] is False
    assert ct.get_trail(Name="trail-a")["Trail"]["Name"] == "trail-a"
    assert len(ct.describe_trails()["trailList"]) == 2
    e = raises(ct.get_trail_status, Name="trail-b")
    assert err(e)[::2] == ("AccessDeniedException", refusal(
        user_arn("scoped"), "cloudtrail:GetTrailStatus", trail_arn("trail-b"), NO_IDENTITY.format("cloudtrail:GetTrailStatus")))


def test_explicit_deny_wins_over_administrator_access(fresh):
    trail(fresh, "the-trail", "t-bucket")
    creds = make_user(fresh, "almost", managed=[ADMINISTRATOR], policy=[deny("cloudtrail:CreateTrail")])
    ct = fresh.client("cloudtrail", **creds)
    assert [t["Name"] for t in ct.describe_trails()["trailList"]] == ["the-trail"]
    e = raises(ct.create_trail, Name="the-trail-2", S3BucketName="t-bucket")
    assert err(e)[::2] == ("AccessDeniedException", refusal(
        user_arn("almost"), "cloudtrail:CreateTrail", trail_arn("the-trail-2"), EXPLICIT_IDENTITY))
    # The deny is about CreateTrail alone: everything else AdministratorAccess allows still works.
    assert iam(fresh, **creds).create_user(UserName="made-by-almost")["User"]["UserName"] == "made-by-almost"
    # A deny added later takes effect on the very next call.
    iam(fresh).put_user_policy(UserName="almost", PolicyName="no-iam", PolicyDocument=document(deny("iam:*")))
    e = raises(iam(fresh, **creds).create_user, UserName="another")
    assert err(e) == ("AccessDenied", 403, refusal(
        user_arn("almost"), "iam:CreateUser", user_arn("another"), EXPLICIT_IDENTITY))


def test_group_policies_apply_to_members_and_stop_when_they_leave(fresh):
    c = iam(fresh)
    c.create_group(GroupName="readers")
    c.put_group_policy(GroupName="readers", PolicyName="p", PolicyDocument=document(allow("cloudtrail:DescribeTrails")))
    c.create_group(GroupName="s3-readers")
    c.attach_group_policy(GroupName="s3-readers", PolicyArn=AWS_POLICY + "AmazonS3ReadOnlyAccess")
    creds = make_user(fresh, "member", groups=["readers", "s3-readers"])
    ct, s3 = fresh.client("cloudtrail", **creds), fresh.client("s3", region="us-east-1", **creds)
    assert ct.describe_trails()["trailList"] == []
    assert s3.list_buckets()["Buckets"] == []
    c.remove_user_from_group(GroupName="readers", UserName="member")
    e = raises(ct.describe_trails)
    assert_refused(e, "AccessDeniedException", user_arn("member"), "cloudtrail:DescribeTrails",
                   NO_IDENTITY.format("cloudtrail:DescribeTrails"))
    assert s3.list_buckets()["Buckets"] == []
    e = raises(s3.create_bucket, Bucket="not-allowed")
    assert err(e)[:2] == ("AccessDenied", 403)


def test_permissions_boundary_caps_administrator_access(fresh):
    c = iam(fresh)
    boundary = c.create_policy(PolicyName="S3Only", PolicyDocument=document(allow("s3:*")))["Policy"]["Arn"]
    creds = make_user(fresh, "capped", managed=[ADMINISTRATOR], boundary=boundary)
    capped = user_arn("capped")
    assert fresh.client("s3", **creds).list_buckets()["Buckets"] == []
    e = raises(fresh.client("cloudtrail", **creds).describe_trails)
    assert_refused(e, "AccessDeniedException", capped, "cloudtrail:DescribeTrails",
                   NO_BOUNDARY.format("cloudtrail:DescribeTrails"))
    e = raises(iam(fresh, **creds).create_user, UserName="x")
    assert err(e) == ("AccessDenied", 403, refusal(capped, "iam:CreateUser", user_arn("x"), NO_BOUNDARY.format("iam:CreateUser")))
    # The boundary grants nothing by itself: without AdministratorAccess, S3 is refused too.
    c.detach_user_policy(UserName="capped", PolicyArn=ADMINISTRATOR)
    e = raises(fresh.client("s3", **creds).list_buckets)
    assert_refused(e, "AccessDenied", capped, "s3:ListAllMyBuckets", NO_IDENTITY.format("s3:ListAllMyBuckets"), 403)
    c.attach_user_policy(UserName="capped", PolicyArn=ADMINISTRATOR)
    c.delete_user_permissions_boundary(UserName="capped")
    assert fresh.client("cloudtrail", **creds).describe_trails()["trailList"] == []


def test_session_policy_narrows_an_assumed_role(fresh):
    c = iam(fresh)
    c.create_role(RoleName="Ops", AssumeRolePolicyDocument=json.dumps(TRUST))
    c.attach_role_policy(RoleName="Ops", PolicyArn=ADMINISTRATOR)
    role_arn = f"arn:aws:iam::{MANAGEMENT}:role/Ops"
    wide = assumed(fresh, role_arn, "wide")
    assert fresh.client("cloudtrail", **wide).describe_trails()["trailList"] == []
    narrow = assumed(fresh, role_arn, "narrow", Policy=document(allow("s3:ListAllMyBuckets")))
    session = f"arn:aws:sts::{MANAGEMENT}:assumed-role/Ops/narrow"
    assert fresh.client("sts", **narrow).get_caller_identity()["Arn"] == session
    assert fresh.client("s3", **narrow).list_buckets()["Buckets"] == []
    e = raises(fresh.client("cloudtrail", **narrow).describe_trails)
    assert_refused(e, "AccessDeniedException", session, "cloudtrail:DescribeTrails",
                   NO_SESSION.format("cloudtrail:DescribeTrails"))
    e = raises(iam(fresh, **narrow).create_user, UserName="x")
    assert err(e) == ("AccessDenied", 403, refusal(session, "iam:CreateUser", user_arn("x"), NO_SESSION.format("iam:CreateUser")))
    # A session policy grants nothing the role's own policies do not.
    c.detach_role_policy(RoleName="Ops", PolicyArn=ADMINISTRATOR)
    e = raises(fresh.client("s3", **narrow).list_buckets)
    assert_refused(e, "AccessDenied", session, "s3:ListAllMyBuckets", NO_IDENTITY.format("s3:ListAllMyBuckets"), 403)


def test_get_caller_identity_works_even_under_explicit_deny_all(fresh):
    creds = make_user(fresh, "locked", managed=[ADMINISTRATOR], policy=[deny("*")])
    ident = fresh.client("sts", **creds).get_caller_identity()
    assert ident["Arn"] == user_arn("locked")
    e = raises(iam(fresh, **creds).get_user)
    assert err(e) == ("AccessDenied", 403, refusal(user_arn("locked"), "iam:GetUser", user_arn("locked"), EXPLICIT_IDENTITY))
    e = raises(fresh.client("s3", **creds).list_buckets)
    assert_refused(e, "AccessDenied", user_arn("locked"), "s3:ListAllMyBuckets", EXPLICIT_IDENTITY, 403)
    c, _, _ = fresh.cli("sts", "get-caller-identity", key=creds["key"], secret=creds["secret"])
    assert c == 0


def test_policy_changes_take_effect_on_the_next_call(fresh):
    creds = make_user(fresh, "flip")
    ct = fresh.client("cloudtrail", **creds)
    assert err(raises(ct.describe_trails))[0] == "AccessDeniedException"
    iam(fresh).put_user_policy(UserName="flip", PolicyName="p", PolicyDocument=document(allow("cloudtrail:DescribeTrails")))
    assert ct.describe_trails()["trailList"] == []
    iam(fresh).delete_user_policy(UserName="flip", PolicyName="p")
    assert err(raises(ct.describe_trails))[0] == "AccessDeniedException"


# --- service control policies ---------------------------------------------------------------


def test_scp_deny_binds_the_member_admin_but_not_the_management_account(fresh):
    root = organization(fresh)
    org = fresh.client("organizations")
    member = member_account(fresh)
    # The management account's own trail, logging.
    trail(fresh, "mgmt", "mgmt-trail-bucket")
    fresh.client("cloudtrail").start_logging(Name="mgmt")
    # The member's admin: OrganizationAccountAccessRole, with AdministratorAccess as on AWS.
    creds = assumed(fresh, f"arn:aws:iam::{member}:role/{ORG_ROLE}", "admin-session")
    member_iam = iam(fresh, **creds)
    assert member_iam.list_attached_role_policies(RoleName=ORG_ROLE)["AttachedPolicies"] == [
        {"PolicyName": "AdministratorAccess", "PolicyArn": ADMINISTRATOR}]
    principal = f"arn:aws:sts::{member}:assumed-role/{ORG_ROLE}/admin-session"
    member_ct = fresh.client("cloudtrail", **creds)
    trail(fresh, "member-trail", "member-trail-bucket", creds=creds, account=member)
    member_ct.start_logging(Name="member-trail")

    pid = scp(fresh, "no-stop-logging", deny("cloudtrail:StopLogging"))
    org.attach_policy(PolicyId=pid, TargetId=root)
    e = raises(member_ct.stop_logging, Name="member-trail")
    assert err(e)[::2] == ("AccessDeniedException", refusal(
        principal, "cloudtrail:StopLogging", trail_arn("member-trail", member), EXPLICIT_SCP))
    assert member_ct.get_trail_status(Name="member-trail")["IsLogging"] is True
    # Everything else the member's admin could do it still can.
    assert [t["Name"] for t in member_ct.describe_trails()["trailList"]] == ["member-trail"]
    member_ct.create_trail(Name="second", S3BucketName="member-trail-bucket")
    # The management account is never bound by SCPs.
    fresh.client("cloudtrail").stop_logging(Name="mgmt")
    assert fresh.client("cloudtrail").get_trail_status(Name="mgmt")["IsLogging"] is False

    org.detach_policy(PolicyId=pid, TargetId=root)
    member_ct.stop_logging(Name="member-trail")  # the very next call
    assert member_ct.get_trail_status(Name="member-trail")["IsLogging"] is False

    # Attached to an OU holding the account, it binds again.
    ou = org.create_organizational_unit(ParentId=root, Name="Locked")["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    org.attach_policy(PolicyId=pid, TargetId=ou)
    member_ct.start_logging(Name="member-trail")
    e = raises(member_ct.stop_logging, Name="member-trail")
    assert err(e)[::2] == ("AccessDeniedException", refusal(
        principal, "cloudtrail:StopLogging", trail_arn("member-trail", member), EXPLICIT_SCP))
    # Moved out of the OU, the account is free of it.
    org.move_account(AccountId=member, SourceParentId=ou, DestinationParentId=root)
    member_ct.stop_logging(Name="member-trail")


def test_scp_allow_list_without_full_aws_access(fresh):
    organization(fresh)
    org = fresh.client("organizations")
    member = member_account(fresh)
    pid = scp(fresh, "trail-readers", allow(["cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:List*"]))
    org.attach_policy(PolicyId=pid, TargetId=member)
    org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=member)
    creds = assumed(fresh, f"arn:aws:iam::{member}:role/{ORG_ROLE}", "listed")
    principal = f"arn:aws:sts::{member}:assumed-role/{ORG_ROLE}/listed"
    ct = fresh.client("cloudtrail", **creds)
    assert ct.describe_trails()["trailList"] == []
    assert ct.list_trails()["Trails"] == []
    e = raises(ct.create_trail, Name="new-trail", S3BucketName="nowhere-bucket")
    assert err(e)[::2] == ("AccessDeniedException", refusal(
        principal, "cloudtrail:CreateTrail", trail_arn("new-trail", member), NO_SCP.format("cloudtrail:CreateTrail")))
    e = raises(fresh.client("s3", **creds).list_buckets)
    assert_refused(e, "AccessDenied", principal, "s3:ListAllMyBuckets", NO_SCP.format("s3:ListAllMyBuckets"), 403)
    e = raises(iam(fresh, **creds).list_roles)
    assert_refused(e, "AccessDenied", principal, "iam:ListRoles", NO_SCP.format("iam:ListRoles"), 403)
    assert fresh.client("sts", **creds).get_caller_identity()["Account"] == member
    # FullAWSAccess back on the account: the refusal goes; the call now fails on its own merits.
    org.attach_policy(PolicyId="p-FullAWSAccess", TargetId=member)
    e = raises(ct.create_trail, Name="new-trail", S3BucketName="nowhere-bucket")
    assert err(e)[0] == "S3BucketDoesNotExistException"


# --- the policy simulator -------------------------------------------------------------------


SIM_CASES = [
    ("cloudtrail:DescribeTrails", "*", "allowed"),
    ("cloudtrail:GetTrailStatus", trail_arn("trail-a"), "allowed"),
    ("cloudtrail:GetTrailStatus", trail_arn("trail-b"), "implicitDeny"),
    ("cloudtrail:CreateTrail", trail_arn("trail-c"), "implicitDeny"),
    ("cloudtrail:DeleteTrail", trail_arn("trail-a"), "explicitDeny"),
]


def test_simulate_principal_policy_agrees_with_real_outcomes(fresh):
    trail(fresh, "trail-a", "sim-bucket-a")
    trail(fresh, "trail-b", "sim-bucket-b")
    creds = make_user(fresh, "sim", policy=[
        allow("cloudtrail:DescribeTrails"),
        allow("cloudtrail:GetTrailStatus", trail_arn("trail-a")),
        deny("cloudtrail:DeleteTrail"),
        allow("cloudtrail:DeleteTrail"),
    ])
    c = iam(fresh)
    for action, resource, decision in SIM_CASES:
        [r] = c.simulate_principal_policy(
            PolicySourceArn=user_arn("sim"), ActionNames=[action], ResourceArns=[resource])["EvaluationResults"]
        assert (r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"]) == (action, resource, decision)
        if decision != "implicitDeny":
            assert r["MatchedStatements"] and r["MatchedStatements"][0]["SourcePolicyType"] == "user"
        else:
            assert r["MatchedStatements"] == []
    ct = fresh.client("cloudtrail", **creds)
    real = {
        ("cloudtrail:DescribeTrails", "*"): lambda: ct.describe_trails(),
        ("cloudtrail:GetTrailStatus", trail_arn("trail-a")): lambda: ct.get_trail_status(Name="trail-a"),
        ("cloudtrail:GetTrailStatus", trail_arn("trail-b")): lambda: ct.get_trail_status(Name="trail-b"),
        ("cloudtrail:CreateTrail", trail_arn("trail-c")): lambda: ct.create_trail(Name="trail-c", S3BucketName="sim-bucket-a"),
        ("cloudtrail:DeleteTrail", trail_arn("trail-a")): lambda: ct.delete_trail(Name="trail-a"),
    }
    for action, resource, decision in SIM_CASES:
        if decision == "allowed":
            real[(action, resource)]()
            continue
        e = raises(real[(action, resource)])
        code, _, msg = err(e)
        assert code == "AccessDeniedException"
        why = EXPLICIT_IDENTITY if decision == "explicitDeny" else NO_IDENTITY.format(action)
        assert msg.endswith(why), (action, msg)
    # Several actions at once: one result each.
    results = c.simulate_principal_policy(
        PolicySourceArn=user_arn("sim"), ActionNames=["cloudtrail:DescribeTrails", "cloudtrail:StopLogging"],
    )["EvaluationResults"]
    assert {r["EvalActionName"]: r["EvalDecision"] for r in results} == {
        "cloudtrail:DescribeTrails": "allowed", "cloudtrail:StopLogging": "implicitDeny"}
    # The admin's own AdministratorAccess allows everything.
    [r] = c.simulate_principal_policy(PolicySourceArn=ADMIN_ARN, ActionNames=["iam:CreateUser"])["EvaluationResults"]
    assert r["EvalDecision"] == "allowed"
    e = raises(c.simulate_principal_policy, PolicySourceArn=user_arn("ghost"), ActionNames=["s3:ListAllMyBuckets"])
    assert err(e)[:2] == ("NoSuchEntity", 404)


def test_simulate_principal_policy_includes_groups_and_boundaries(fresh):
    c = iam(fresh)
    c.create_group(GroupName="g")
    c.put_group_policy(GroupName="g", PolicyName="p", PolicyDocument=document(allow("s3:*")))
    boundary = c.create_policy(PolicyName="B", PolicyDocument=document(allow("cloudtrail:*")))["Policy"]["Arn"]
    make_user(fresh, "mixed", managed=[AWS_POLICY + "AWSCloudTrail_ReadOnlyAccess"], groups=["g"])
    decide = lambda action: c.simulate_principal_policy(
        PolicySourceArn=user_arn("mixed"), ActionNames=[action])["EvaluationResults"][0]["EvalDecision"]
    assert decide("s3:ListAllMyBuckets") == "allowed"
    assert decide("cloudtrail:DescribeTrails") == "allowed"
    c.put_user_permissions_boundary(UserName="mixed", PermissionsBoundary=boundary)
    assert decide("s3:ListAllMyBuckets") == "implicitDeny"
    assert decide("cloudtrail:DescribeTrails") == "allowed"


def test_simulate_custom_policy(fresh):
    c = iam(fresh)
    policies = [
        document(allow("s3:GetObject", "arn:aws:s3:::b/*"), allow("s3:DeleteObject")),
        document(deny("s3:DeleteObject")),
    ]
    results = c.simulate_custom_policy(
        PolicyInputList=policies, ActionNames=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        ResourceArns=["arn:aws:s3:::b/k"],
    )["EvaluationResults"]
    assert {r["EvalActionName"]: (r["EvalResourceName"], r["EvalDecision"]) for r in results} == {
        "s3:GetObject": ("arn:aws:s3:::b/k", "allowed"),
        "s3:PutObject": ("arn:aws:s3:::b/k", "implicitDeny"),
        "s3:DeleteObject": ("arn:aws:s3:::b/k", "explicitDeny"),
    }
    [other] = c.simulate_custom_policy(
        PolicyInputList=policies, ActionNames=["s3:GetObject"], ResourceArns=["arn:aws:s3:::other/k"])["EvaluationResults"]
    assert other["EvalDecision"] == "implicitDeny"
    e = raises(c.simulate_custom_policy, PolicyInputList=["{not json"], ActionNames=["s3:GetObject"])
    assert err(e)[:2] in (("InvalidInput", 400), ("MalformedPolicyDocument", 400))


# --- refusals and IAM calls recorded --------------------------------------------------------


def test_refused_call_is_recorded_with_its_error(fresh):
    creds = make_user(fresh, "reader", policy=[allow(["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"])])
    e = raises(fresh.client("cloudtrail", **creds).create_trail, Name="sneaky", S3BucketName="some-bucket")
    message = err(e)[2]
    request_id = e.value.response["ResponseMetadata"]["RequestId"]
    events = lookup(fresh.client("cloudtrail"), "CreateTrail")
    [ev] = [x for x in events if json.loads(x["CloudTrailEvent"])["requestID"] == request_id]
    assert ev["Username"] == "reader"
    rec = json.loads(ev["CloudTrailEvent"])
    assert rec["errorCode"] in ("AccessDenied", "AccessDeniedException")
    assert rec["errorMessage"] == message
    assert rec["eventSource"] == CT and rec["awsRegion"] == REGION
    assert rec["userIdentity"]["type"] == "IAMUser"
    assert rec["userIdentity"]["arn"] == user_arn("reader")
    assert rec["userIdentity"]["accessKeyId"] == creds["key"]
    assert rec["responseElements"] is None


def test_iam_calls_are_recorded_in_us_east_1(fresh):
    created = iam(fresh).create_user(UserName="recorded")
    events = lookup(fresh.client("cloudtrail", region="us-east-1"), "CreateUser")
    [ev] = [x for x in events if json.loads(x["CloudTrailEvent"])["requestID"] == created["ResponseMetadata"]["RequestId"]]
    assert ev["EventSource"] == "iam.amazonaws.com"
    assert ev["ReadOnly"] == "false"
    assert ev["Username"] == "admin"
    rec = json.loads(ev["CloudTrailEvent"])
    assert (rec["eventSource"], rec["awsRegion"], rec["eventName"]) == ("iam.amazonaws.com", "us-east-1", "CreateUser")
    assert rec["requestParameters"]["userName"] == "recorded"
    assert "errorCode" not in rec
    # A refused IAM call is recorded with AccessDenied and the message returned.
    creds = minted(fresh, "alice")
    e = raises(iam(fresh, **creds).list_users)
    refused = [json.loads(x["CloudTrailEvent"]) for x in lookup(fresh.client("cloudtrail", region="us-east-1"), "ListUsers")]
    [rec] = [r for r in refused if r["requestID"] == e.value.response["ResponseMetadata"]["RequestId"]]
    assert (rec["errorCode"], rec["errorMessage"]) == ("AccessDenied", err(e)[2])
    assert rec["userIdentity"]["arn"] == user_arn("alice")


# --- the account ----------------------------------------------------------------------------


def test_account_summary_counts_and_quotas(fresh):
    c = iam(fresh)
    before = c.get_account_summary()["SummaryMap"]
    for key in ("Users", "Groups", "Roles", "Policies", "InstanceProfiles", "UsersQuota", "GroupsQuota", "RolesQuota",
                "PoliciesQuota", "AccessKeysPerUserQuota", "VersionsPerPolicyQuota", "AttachedPoliciesPerUserQuota",
                "GroupsPerUserQuota", "MFADevices", "AccountMFAEnabled", "PolicyVersionsInUse"):
        assert key in before, key
    assert before["AccessKeysPerUserQuota"] == 2
    assert before["VersionsPerPolicyQuota"] == 5
    assert (before["UsersQuota"], before["GroupsQuota"], before["RolesQuota"], before["PoliciesQuota"]) == (
        5000, 300, 1000, 1500)
    assert (before["GroupsPerUserQuota"], before["AttachedPoliciesPerUserQuota"]) == (10, 10)
    assert before["Users"] >= 1  # the admin
    c.create_user(UserName="u")
    c.create_group(GroupName="g")
    c.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    c.create_policy(PolicyName="p", PolicyDocument=READ_TRAILS)
    c.create_instance_profile(InstanceProfileName="ip")
    after = c.get_account_summary()["SummaryMap"]
    for key in ("Users", "Groups", "Roles", "Policies", "InstanceProfiles"):
        assert after[key] == before[key] + 1, key


def test_account_aliases(fresh):
    c = iam(fresh)
    assert c.list_account_aliases()["AccountAliases"] == []
    c.create_account_alias(AccountAlias="my-company")
    r = c.list_account_aliases()
    assert (r["AccountAliases"], r["IsTruncated"]) == (["my-company"], False)
    _, out, _ = fresh.cli("iam", "list-account-aliases")
    assert json.loads(out)["AccountAliases"] == ["my-company"]
    e = raises(unchecked(fresh).create_account_alias, AccountAlias="Bad_Alias")
    assert err(e)[:2] == ("ValidationError", 400)
    c.delete_account_alias(AccountAlias="my-company")
    assert c.list_account_aliases()["AccountAliases"] == []


CREDENTIAL_REPORT_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,"
    "mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
    "access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,"
    "access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)


def test_credential_report(fresh):
    c = iam(fresh)
    e = raises(c.get_credential_report)
    assert err(e)[:2] == ("ReportNotPresent", 410)
    creds = make_user(fresh, "reported")
    c.create_user(UserName="keyless")
    fresh.client("sts", **creds).get_caller_identity()
    state = c.generate_credential_report()["State"]
    assert state in ("STARTED", "INPROGRESS", "COMPLETE")
    for _ in range(50):
        if c.generate_credential_report()["State"] == "COMPLETE":
            break
        time.sleep(0.1)
    report = c.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    assert recent(report["GeneratedTime"])
    text = report["Content"].decode()
    lines = text.splitlines()
    assert lines[0] == CREDENTIAL_REPORT_HEADER
    assert lines[1].startswith(f"<root_account>,arn:aws:iam::{MANAGEMENT}:root,")
    rows = {r["user"]: r for r in csv.DictReader(io.StringIO(text))}
    assert {"<root_account>", "admin", "reported", "keyless"} <= set(rows)
    r = rows["reported"]
    assert r["arn"] == user_arn("reported")
    assert (r["password_enabled"], r["mfa_active"]) == ("false", "false")
    assert (r["access_key_1_active"], r["access_key_2_active"]) == ("true", "false")
    assert r["access_key_1_last_used_service"] == "sts" and r["access_key_1_last_used_region"] == REGION
    k = rows["keyless"]
    assert (k["access_key_1_active"], k["access_key_1_last_rotated"]) == ("false", "N/A")
    assert rows["<root_account>"]["password_enabled"] == "not_supported"


def authorization_details(c, **kw):
    """Every page of get-account-authorization-details, merged."""
    out = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for page in c.get_paginator("get_account_authorization_details").paginate(**kw):
        for k in out:
            out[k].extend(page.get(k, []))
    return out


def test_account_authorization_details(fresh):
    c = iam(fresh)
    c.create_group(GroupName="g")
    c.put_group_policy(GroupName="g", PolicyName="gp", PolicyDocument=document(allow("s3:*")))
    arn = c.create_policy(PolicyName="Mine", PolicyDocument=READ_TRAILS)["Policy"]["Arn"]
    make_user(fresh, "detailed", policy=[allow("sts:*")], managed=[arn], groups=["g"])
    c.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    c.put_role_policy(RoleName="r", PolicyName="rp", PolicyDocument=document(allow("iam:Get*")))
    c.create_instance_profile(InstanceProfileName="ip")
    c.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r")
    d = authorization_details(c)
    users = {u["UserName"]: u for u in d["UserDetailList"]}
    assert users["admin"]["AttachedManagedPolicies"] == [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMINISTRATOR}]
    u = users["detailed"]
    assert u["Arn"] == user_arn("detailed")
    assert u["UserPolicyList"] == [{"PolicyName": "detailed-inline", "PolicyDocument": json.loads(document(allow("sts:*")))}]
    assert u["GroupList"] == ["g"]
    assert u["AttachedManagedPolicies"] == [{"PolicyName": "Mine", "PolicyArn": arn}]
    [g] = [x for x in d["GroupDetailList"] if x["GroupName"] == "g"]
    assert g["GroupPolicyList"] == [{"PolicyName": "gp", "PolicyDocument": json.loads(document(allow("s3:*")))}]
    [r] = [x for x in d["RoleDetailList"] if x["RoleName"] == "r"]
    assert r["AssumeRolePolicyDocument"] == TRUST
    assert r["RolePolicyList"] == [{"PolicyName": "rp", "PolicyDocument": json.loads(document(allow("iam:Get*")))}]
    assert [p["InstanceProfileName"] for p in r["InstanceProfileList"]] == ["ip"]
    [p] = [x for x in d["Policies"] if x["Arn"] == arn]
    assert (p["DefaultVersionId"], p["AttachmentCount"]) == ("v1", 1)
    [v] = p["PolicyVersionList"]
    assert (v["VersionId"], v["IsDefaultVersion"], v["Document"]) == ("v1", True, json.loads(READ_TRAILS))
    only_users = authorization_details(c, Filter=["User"])
    assert {u["UserName"] for u in only_users["UserDetailList"]} >= {"admin", "detailed"}
    assert only_users["GroupDetailList"] == [] and only_users["RoleDetailList"] == [] and only_users["Policies"] == []
    local = authorization_details(c, Filter=["LocalManagedPolicy"])["Policies"]
    assert [x["Arn"] for x in local] == [arn]


# --- centralized root access and service-linked roles ---------------------------------------


def test_assume_root_gives_a_task_scoped_root_session(fresh):
    organization(fresh)
    member = member_account(fresh)
    org = fresh.client("organizations")
    sts = fresh.client("sts")
    audit = {"arn": AWS_POLICY + "root-task/IAMAuditRootUserCredentials"}
    # Without centralized root access the management account may not step in.
    e = raises(sts.assume_root, TargetPrincipal=member, TaskPolicyArn=audit)
    assert err(e)[:2] == ("AccessDenied", 403)
    c = iam(fresh)
    e = raises(c.enable_organizations_root_sessions)
    assert err(e)[0] == "ServiceAccessNotEnabledException"
    org.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    out = c.enable_organizations_root_sessions()
    o = org.describe_organization()["Organization"]
    assert (out["OrganizationId"], out["EnabledFeatures"]) == (o["Id"], ["RootSessions"])
    assert c.list_organizations_features()["EnabledFeatures"] == ["RootSessions"]
    # A member's admin is not the management account.
    member_iam = iam(fresh, **assumed(fresh, f"arn:aws:iam::{member}:role/{ORG_ROLE}", "member-admin"))
    assert err(raises(member_iam.list_organizations_features))[0] == (
        "AccountNotManagementOrDelegatedAdministratorException")

    creds = sts.assume_root(TargetPrincipal=member, TaskPolicyArn=audit, DurationSeconds=900)
    assert creds["SourceIdentity"] == ADMIN_ARN
    k = creds["Credentials"]
    assert k["AccessKeyId"].startswith("ASIA")
    left = (k["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 800 < left < 902
    root = {"key": k["AccessKeyId"], "secret": k["SecretAccessKey"], "token": k["SessionToken"]}
    assert fresh.client("sts", **root).get_caller_identity()["Arn"] == f"arn:aws:iam::{member}:root"
    # The audit task may read the root user's credentials, and nothing else.
    root_iam = iam(fresh, **root)
    assert root_iam.list_access_keys()["AccessKeyMetadata"] == []
    e = raises(root_iam.create_user, UserName="sneaky")
    assert err(e)[:2] == ("AccessDenied", 403)
    assert err(e)[2].endswith("with an explicit deny in a session policy"), err(e)[2]
    e = raises(fresh.client("cloudtrail", **root).describe_trails)
    assert err(e)[0] == "AccessDeniedException"
    # Only AWS's task policies, only member accounts, at most 15 minutes.
    e = raises(sts.assume_root, TargetPrincipal=member, TaskPolicyArn={"arn": ADMINISTRATOR})
    assert err(e)[:2] == ("AccessDenied", 403)
    e = raises(sts.assume_root, TargetPrincipal=MANAGEMENT, TaskPolicyArn=audit)
    assert err(e)[:2] == ("AccessDenied", 403)
    e = raises(fresh.client("sts", parameter_validation=False).assume_root, TargetPrincipal=member,
               TaskPolicyArn=audit, DurationSeconds=901)
    assert err(e)[:2] == ("ValidationError", 400)
    c.disable_organizations_root_sessions()
    assert c.list_organizations_features()["EnabledFeatures"] == []


def test_cloudtrail_trusted_access_creates_its_service_linked_role(fresh):
    organization(fresh)
    c = iam(fresh)
    assert err(raises(c.get_role, RoleName="AWSServiceRoleForCloudTrail"))[:2] == ("NoSuchEntity", 404)
    fresh.client("organizations").enable_aws_service_access(ServicePrincipal=CT)
    role = c.get_role(RoleName="AWSServiceRoleForCloudTrail")["Role"]
    assert role["Path"] == "/aws-service-role/cloudtrail.amazonaws.com/"
    assert role["Arn"] == f"arn:aws:iam::{MANAGEMENT}:role/aws-service-role/cloudtrail.amazonaws.com/AWSServiceRoleForCloudTrail"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": CT}
    assert c.list_attached_role_policies(RoleName="AWSServiceRoleForCloudTrail")["AttachedPolicies"] == [{
        "PolicyName": "CloudTrailServiceRolePolicy",
        "PolicyArn": AWS_POLICY + "aws-service-role/CloudTrailServiceRolePolicy"}]
    # AWS's to change, not the account's.
    e = raises(c.delete_role, RoleName="AWSServiceRoleForCloudTrail")
    assert err(e)[0] == "UnmodifiableEntity"
    # The organization's own role is there from the start.
    assert c.get_role(RoleName="AWSServiceRoleForOrganizations")["Role"]["Path"] == (
        "/aws-service-role/organizations.amazonaws.com/")
    # Asking for it again says it is taken.
    e = raises(c.create_service_linked_role, AWSServiceName=CT)
    assert err(e)[0] == "InvalidInput"


def test_resource_control_policies_bound_a_member_accounts_buckets(fresh):
    root = organization(fresh)
    org = fresh.client("organizations")
    member = member_account(fresh)
    enabled = org.enable_policy_type(RootId=root, PolicyType="RESOURCE_CONTROL_POLICY")["Root"]
    assert {"Type": "RESOURCE_CONTROL_POLICY", "Status": "ENABLED"} in enabled["PolicyTypes"]
    creds = assumed(fresh, f"arn:aws:iam::{member}:role/{ORG_ROLE}", "rcp-session")
    s3 = fresh.client("s3", region="us-east-1", **creds)
    s3.create_bucket(Bucket="member-data-bucket")
    s3.put_object(Bucket="member-data-bucket", Key="before", Body=b"x")
    # An RCP that refuses plain HTTP to the member's S3 resources, whoever asks.
    content = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
    pid = org.create_policy(Name="tls-only", Description="", Type="RESOURCE_CONTROL_POLICY",
                            Content=content)["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=pid, TargetId=member)
    e = raises(s3.put_object, Bucket="member-data-bucket", Key="after", Body=b"x")
    assert err(e)[:2] == ("AccessDenied", 403)
    assert err(e)[2] == (
        f"User: arn:aws:sts::{member}:assumed-role/{ORG_ROLE}/rcp-session is not authorized to perform: "
        f"s3:PutObject on resource: \"arn:aws:s3:::member-data-bucket/after\" "
        "with an explicit deny in a resource control policy")
    # The management account's own buckets are never bound by RCPs.
    mgmt = fresh.client("s3", region="us-east-1")
    mgmt.create_bucket(Bucket="mgmt-data-bucket")
    mgmt.put_object(Bucket="mgmt-data-bucket", Key="k", Body=b"x")
    # Other services' resources are not S3's: the member's trails are untouched.
    assert fresh.client("cloudtrail", **creds).describe_trails()["trailList"] == []
    org.detach_policy(PolicyId=pid, TargetId=member)
    s3.put_object(Bucket="member-data-bucket", Key="after", Body=b"x")


def test_role_last_used_follows_assume_role(fresh):
    c = iam(fresh)
    role_arn = c.create_role(RoleName="used", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    assert c.get_role(RoleName="used")["Role"]["RoleLastUsed"] == {}
    fresh.client("sts", region="eu-west-1").assume_role(RoleArn=role_arn, RoleSessionName="first-use")
    last = c.get_role(RoleName="used")["Role"]["RoleLastUsed"]
    assert last["Region"] == "eu-west-1"
    assert abs((last["LastUsedDate"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 60


# --- STS beyond AssumeRole -------------------------------------------------------------------


def test_session_and_federation_tokens_and_key_info(fresh):
    sts = fresh.client("sts")
    # GetAccessKeyInfo reads the account off any key id, stored or temporary.
    keys = make_user(fresh, "fed", policy=document(allow(["sts:GetFederationToken", "s3:ListAllMyBuckets"])))
    assert sts.get_access_key_info(AccessKeyId=keys["key"])["Account"] == MANAGEMENT
    # GetSessionToken: the same user, temporary keys.
    c = fresh.client("sts", **keys).get_session_token(DurationSeconds=900)["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA")
    assert sts.get_access_key_info(AccessKeyId=c["AccessKeyId"])["Account"] == MANAGEMENT
    session = fresh.client("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])
    assert session.get_caller_identity()["Arn"] == user_arn("fed")
    e = raises(session.get_session_token)
    assert err(e) == ("AccessDenied", 403, "Cannot call GetSessionToken with session credentials")
    # GetFederationToken: without a policy the federated user may do nothing; with one, what
    # both the policy and the user's own policies allow.
    fed = fresh.client("sts", **keys)
    out = fed.get_federation_token(Name="bob")
    assert out["FederatedUser"] == {"FederatedUserId": f"{MANAGEMENT}:bob",
                                    "Arn": f"arn:aws:sts::{MANAGEMENT}:federated-user/bob"}
    k = out["Credentials"]
    s3 = fresh.client("s3", key=k["AccessKeyId"], secret=k["SecretAccessKey"], token=k["SessionToken"])
    assert err(raises(s3.list_buckets))[:2] == ("AccessDenied", 403)
    k = fed.get_federation_token(Name="bob", Policy=document(allow("s3:*")))["Credentials"]
    s3 = fresh.client("s3", key=k["AccessKeyId"], secret=k["SecretAccessKey"], token=k["SessionToken"])
    assert s3.list_buckets()["Buckets"] == []
    ct = fresh.client("cloudtrail", key=k["AccessKeyId"], secret=k["SecretAccessKey"], token=k["SessionToken"])
    assert err(raises(ct.describe_trails))[0] == "AccessDeniedException"
    # DecodeAuthorizationMessage refuses what Cairn did not seal.
    e = raises(sts.decode_authorization_message, EncodedMessage="not-a-message")
    assert err(e)[0] == "InvalidAuthorizationMessageException"


def test_assume_role_external_id_tags_and_source_identity(fresh):
    c = iam(fresh)
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}}},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
         "Action": ["sts:TagSession", "sts:SetSourceIdentity"]}]}
    role_arn = c.create_role(RoleName="tagged", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    # The role may read buckets only for sessions tagged team=audit.
    c.put_role_policy(RoleName="tagged", PolicyName="by-tag", PolicyDocument=document(
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "audit", "aws:PrincipalOrgID": "o-none"}}},
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "audit"}}}))
    sts = fresh.client("sts")
    e = raises(sts.assume_role, RoleArn=role_arn, RoleSessionName="no-ext")
    assert err(e)[:2] == ("AccessDenied", 403)
    e = raises(sts.assume_role, RoleArn=role_arn, RoleSessionName="bad-ext", ExternalId="ext-999")
    assert err(e)[:2] == ("AccessDenied", 403)
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="tagged-session", ExternalId="ext-123",
                          Tags=[{"Key": "team", "Value": "audit"}], TransitiveTagKeys=["team"],
                          SourceIdentity="alice")
    assert out["SourceIdentity"] == "alice"
    assert 0 < out["PackedPolicySize"] <= 100
    k = out["Credentials"]
    creds = {"key": k["AccessKeyId"], "secret": k["SecretAccessKey"], "token": k["SessionToken"]}
    # aws:PrincipalOrgID is absent outside an organization: the statement does not apply.
    e = raises(fresh.client("s3", **creds).list_buckets)
    assert err(e)[:2] == ("AccessDenied", 403)
    # Role chaining: the transitive tag and the source identity carry over, and may not change.
    chained = fresh.client("sts", **creds)
    e = raises(chained.assume_role, RoleArn=role_arn, RoleSessionName="again", ExternalId="ext-123",
               SourceIdentity="mallory")
    assert err(e)[:2] == ("AccessDenied", 403)
    again = chained.assume_role(RoleArn=role_arn, RoleSessionName="again", ExternalId="ext-123")
    assert again["SourceIdentity"] == "alice"
    # Session tags are recorded with the session.
    recs = [json.loads(e["CloudTrailEvent"]) for e in lookup(fresh.client("cloudtrail"), "AssumeRole")]
    assert any((r.get("requestParameters") or {}).get("sourceIdentity") == "alice" for r in recs), recs

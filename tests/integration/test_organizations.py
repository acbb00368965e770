"""AWS Organizations driven by the AWS CLI and boto3 against a real Cairn server: organizations,
accounts (created and invited), OUs, handshakes, trusted access, delegated administrators,
policies, tags, pagination and AWS's errors for bad input."""

import json
import re
import time

import botocore.exceptions
import pytest

from conftest import MANAGEMENT, shifted

ORG_ROLE = "OrganizationAccountAccessRole"
CT = "cloudtrail.amazonaws.com"
ORG_ID = re.compile(r"o-[a-z0-9]{10}")
ROOT_ID = re.compile(r"r-[0-9a-z]{4}")
ACCESS_DENIED = ("AccessDeniedException", "You don't have permissions to access this resource.")
NOT_IN_USE = ("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")


def err(exc):
    """(code, message) of a ClientError."""
    e = exc.value.response
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400, e
    return e["Error"]["Code"], e["Error"].get("Message", "")


def reason(exc):
    """(code, Reason) of a ClientError that carries a Reason."""
    return exc.value.response["Error"]["Code"], exc.value.response.get("Reason")


def raises(fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(*args, **kwargs)
    return e


def orgs(server, **kw):
    return server.client("organizations", **kw)


def unchecked(server, **kw):
    """A client that skips botocore's own parameter validation, so the server's is tested."""
    return server.client("organizations", parameter_validation=False, **kw)


def as_account(server, account, service="organizations", session="member"):
    """A client acting in `account` through OrganizationAccountAccessRole, as on AWS."""
    creds = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ORG_ROLE}", RoleSessionName=session
    )["Credentials"]
    return server.client(
        service, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"]
    )


def create_account(server, name, **extra):
    """CreateAccount, then the status once the request is due; returns the account id."""
    org = orgs(server)
    car = org.create_account(Email=f"{name.lower()}@example.com", AccountName=name, **extra)["CreateAccountStatus"]
    assert car["State"] == "IN_PROGRESS"
    server.advance_clock(2)
    done = org.describe_create_account_status(CreateAccountRequestId=car["Id"])["CreateAccountStatus"]
    assert done["State"] == "SUCCEEDED", done
    return done["AccountId"]


def standalone(server, account, name="Guest", email=None):
    """An existing account outside any organization."""
    server.admin("create-account", "--account-id", account, "--name", name, "--email", email or f"{account}@example.com")
    return account


def invite_and_join(server, account):
    org = orgs(server)
    h = org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": account})["Handshake"]
    as_account(server, account).accept_handshake(HandshakeId=h["Id"])
    return h


# --- the organization ---------------------------------------------------------------------


def test_not_in_use_until_created(fresh):
    for call in (orgs(fresh).describe_organization, orgs(fresh).list_roots, orgs(fresh).list_accounts):
        assert err(raises(call)) == NOT_IN_USE


def test_cli_create_and_describe_organization(fresh):
    _, out, _ = fresh.cli("organizations", "create-organization", "--feature-set", "ALL")
    created = json.loads(out)
    o = created["Organization"]
    assert list(o) == [
        "Id", "Arn", "FeatureSet", "MasterAccountArn", "MasterAccountId", "MasterAccountEmail", "AvailablePolicyTypes",
    ]
    assert ORG_ID.fullmatch(o["Id"])
    assert o["Arn"] == f"arn:aws:organizations::{MANAGEMENT}:organization/{o['Id']}"
    assert o["FeatureSet"] == "ALL"
    assert o["MasterAccountArn"] == f"arn:aws:organizations::{MANAGEMENT}:account/{o['Id']}/{MANAGEMENT}"
    assert o["MasterAccountId"] == MANAGEMENT
    assert o["MasterAccountEmail"] == "management@example.com"
    assert o["AvailablePolicyTypes"] == [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
    _, out, _ = fresh.cli("organizations", "describe-organization")
    assert json.loads(out) == created
    code, _, stderr = fresh.cli("organizations", "create-organization", check=False)
    assert code != 0
    assert (
        "An error occurred (AlreadyInOrganizationException) when calling the CreateOrganization operation: "
        "The provided account is already a member of an organization." in stderr
    )


def test_roots_and_the_management_account(fresh):
    o = orgs(fresh).create_organization()["Organization"]
    roots = orgs(fresh).list_roots()
    assert "NextToken" not in roots
    [root] = roots["Roots"]
    assert ROOT_ID.fullmatch(root["Id"])
    assert root == {
        "Id": root["Id"],
        "Arn": f"arn:aws:organizations::{MANAGEMENT}:root/{o['Id']}/{root['Id']}",
        "Name": "Root",
        # A new organization's root has no policy type enabled (SCPs need EnablePolicyType).
        "PolicyTypes": [],
    }
    [acct] = orgs(fresh).list_accounts()["Accounts"]
    assert list(acct) == ["Id", "Arn", "Email", "Name", "Status", "State", "Paths", "JoinedMethod", "JoinedTimestamp"]
    assert acct["Id"] == MANAGEMENT
    assert acct["Arn"] == o["MasterAccountArn"]
    assert (acct["Status"], acct["State"], acct["JoinedMethod"]) == ("ACTIVE", "ACTIVE", "CREATED")
    assert acct["Paths"] == [f"{o['Id']}/{root['Id']}/{MANAGEMENT}/"]
    assert abs(acct["JoinedTimestamp"].timestamp() - time.time()) < 60
    assert orgs(fresh).describe_account(AccountId=MANAGEMENT)["Account"] == acct


def test_consolidated_billing_then_cli_enable_all_features(fresh):
    _, out, _ = fresh.cli("organizations", "create-organization", "--feature-set", "CONSOLIDATED_BILLING")
    o = json.loads(out)["Organization"]
    assert (o["FeatureSet"], o["AvailablePolicyTypes"]) == ("CONSOLIDATED_BILLING", [])
    assert orgs(fresh).list_roots()["Roots"][0]["PolicyTypes"] == []
    e = raises(orgs(fresh).enable_aws_service_access, ServicePrincipal=CT)
    assert reason(e) == ("ConstraintViolationException", "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE")
    # No invited members: the migration completes at once.
    _, out, _ = fresh.cli("organizations", "enable-all-features")
    h = json.loads(out)["Handshake"]
    assert list(h) == ["Id", "Arn", "Parties", "State", "RequestedTimestamp", "ExpirationTimestamp", "Action", "Resources"]
    assert re.fullmatch(r"h-[0-9a-z]{32}", h["Id"])
    assert h["Arn"] == f"arn:aws:organizations::{MANAGEMENT}:handshake/{o['Id']}/enable_all_features/{h['Id']}"
    assert (h["Action"], h["State"]) == ("ENABLE_ALL_FEATURES", "ACCEPTED")
    assert h["Parties"] == [{"Id": o["Id"], "Type": "ORGANIZATION"}]
    assert h["Resources"] == [{"Value": o["Id"], "Type": "ORGANIZATION"}]
    assert round(h["ExpirationTimestamp"] - h["RequestedTimestamp"]) == 90 * 86400
    _, out, _ = fresh.cli("organizations", "describe-organization")
    assert json.loads(out)["Organization"]["FeatureSet"] == "ALL"
    fresh.cli("organizations", "enable-aws-service-access", "--service-principal", CT)
    _, out, _ = fresh.cli("organizations", "list-aws-service-access-for-organization")
    [svc] = json.loads(out)["EnabledServicePrincipals"]
    assert svc["ServicePrincipal"] == CT
    assert abs(svc["DateEnabled"] - time.time()) < 60
    e = raises(orgs(fresh).enable_all_features)
    assert reason(e) == ("HandshakeConstraintViolationException", "ORGANIZATION_ALREADY_HAS_ALL_FEATURES")


def test_enable_all_features_waits_for_invited_members(fresh):
    o = orgs(fresh).create_organization(FeatureSet="CONSOLIDATED_BILLING")["Organization"]
    guest = standalone(fresh, "222222222222")
    invite_and_join(fresh, guest)
    made = create_account(fresh, "Made")  # created accounts are not asked
    p = orgs(fresh).enable_all_features()["Handshake"]
    assert p["State"] == "REQUESTED"
    e = raises(orgs(fresh).enable_all_features)
    assert reason(e) == ("HandshakeConstraintViolationException", "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION")
    standalone(fresh, "333333333333")
    e = raises(orgs(fresh).invite_account_to_organization, Target={"Type": "ACCOUNT", "Id": "333333333333"})
    assert reason(e) == ("HandshakeConstraintViolationException", "INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES")
    assert as_account(fresh, made).list_handshakes_for_account()["Handshakes"] == []
    member = as_account(fresh, guest)
    [child] = member.list_handshakes_for_account(Filter={"ParentHandshakeId": p["Id"]})["Handshakes"]
    assert child["Action"] == "ENABLE_ALL_FEATURES" and child["State"] == "OPEN"
    assert child["Parties"] == [{"Id": o["Id"], "Type": "ORGANIZATION"}, {"Id": guest, "Type": "ACCOUNT"}]
    assert {"Value": p["Id"], "Type": "PARENT_HANDSHAKE"} in child["Resources"]
    assert member.accept_handshake(HandshakeId=child["Id"])["Handshake"]["State"] == "ACCEPTED"
    assert orgs(fresh).describe_organization()["Organization"]["FeatureSet"] == "CONSOLIDATED_BILLING"
    assert orgs(fresh).describe_handshake(HandshakeId=p["Id"])["Handshake"]["State"] == "OPEN"
    [approve] = orgs(fresh).list_handshakes_for_account(Filter={"ActionType": "APPROVE_ALL_FEATURES"})["Handshakes"]
    assert approve["Parties"][1] == {"Id": MANAGEMENT, "Type": "ACCOUNT"}
    orgs(fresh).accept_handshake(HandshakeId=approve["Id"])
    assert orgs(fresh).describe_organization()["Organization"]["FeatureSet"] == "ALL"
    assert orgs(fresh).describe_handshake(HandshakeId=p["Id"])["Handshake"]["State"] == "ACCEPTED"
    for_org = orgs(fresh).list_handshakes_for_organization(Filter={"ParentHandshakeId": p["Id"]})["Handshakes"]
    assert sorted(h["Action"] for h in for_org) == ["APPROVE_ALL_FEATURES", "ENABLE_ALL_FEATURES"]


def test_a_declined_migration_is_canceled(fresh):
    orgs(fresh).create_organization(FeatureSet="CONSOLIDATED_BILLING")
    guest = standalone(fresh, "222222222222")
    invite_and_join(fresh, guest)
    p = orgs(fresh).enable_all_features()["Handshake"]
    member = as_account(fresh, guest)
    [child] = member.list_handshakes_for_account(Filter={"ActionType": "ENABLE_ALL_FEATURES"})["Handshakes"]
    assert member.decline_handshake(HandshakeId=child["Id"])["Handshake"]["State"] == "DECLINED"
    assert orgs(fresh).describe_handshake(HandshakeId=p["Id"])["Handshake"]["State"] == "CANCELED"
    # A new migration may start.
    assert orgs(fresh).enable_all_features()["Handshake"]["State"] == "REQUESTED"


def test_delete_organization(fresh):
    orgs(fresh).create_organization()
    a = create_account(fresh, "Dev")
    e = raises(orgs(fresh).delete_organization)
    assert err(e) == (
        "OrganizationNotEmptyException",
        "To delete an organization you must first remove all member accounts (except the master).",
    )
    orgs(fresh).remove_account_from_organization(AccountId=a)
    orgs(fresh).delete_organization()
    assert err(raises(orgs(fresh).describe_organization)) == NOT_IN_USE
    again = orgs(fresh).create_organization()["Organization"]
    assert [x["Id"] for x in orgs(fresh).list_accounts()["Accounts"]] == [MANAGEMENT]
    assert ORG_ID.fullmatch(again["Id"])


# --- accounts -----------------------------------------------------------------------------


def test_cli_create_account_then_work_in_it(fresh):
    fresh.cli("organizations", "create-organization")
    _, out, _ = fresh.cli(
        "organizations", "create-account", "--email", "dev@example.com", "--account-name", "Dev",
        "--tags", "Key=team,Value=core",
    )
    status = json.loads(out)["CreateAccountStatus"]
    assert list(status) == ["Id", "AccountName", "State", "RequestedTimestamp"]
    assert re.fullmatch(r"car-[a-z0-9]{32}", status["Id"])
    assert (status["AccountName"], status["State"]) == ("Dev", "IN_PROGRESS")
    deadline = time.time() + 10
    while True:
        _, out, _ = fresh.cli("organizations", "describe-create-account-status", "--create-account-request-id", status["Id"])
        status = json.loads(out)["CreateAccountStatus"]
        if status["State"] != "IN_PROGRESS" or time.time() > deadline:
            break
        time.sleep(0.2)
    assert status["State"] == "SUCCEEDED"
    assert list(status) == ["Id", "AccountName", "State", "RequestedTimestamp", "CompletedTimestamp", "AccountId"]
    account = status["AccountId"]
    assert re.fullmatch(r"\d{12}", account)
    assert 0 < status["CompletedTimestamp"] - status["RequestedTimestamp"] < 5
    _, out, _ = fresh.cli("organizations", "describe-account", "--account-id", account)
    a = json.loads(out)["Account"]
    assert (a["Name"], a["Email"], a["JoinedMethod"], a["State"]) == ("Dev", "dev@example.com", "CREATED", "ACTIVE")
    assert orgs(fresh).list_tags_for_resource(ResourceId=account)["Tags"] == [{"Key": "team", "Value": "core"}]
    # The management account steps into the new account with the role Organizations made.
    _, out, _ = fresh.cli(
        "sts", "assume-role", "--role-arn", f"arn:aws:iam::{account}:role/{ORG_ROLE}", "--role-session-name", "xx"
    )
    creds = json.loads(out)["Credentials"]
    _, out, _ = fresh.cli(
        "sts", "get-caller-identity", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"]
    )
    ident = json.loads(out)
    assert ident["Account"] == account
    assert ident["Arn"] == f"arn:aws:sts::{account}:assumed-role/{ORG_ROLE}/xx"


def test_create_account_with_its_own_role_name(fresh):
    orgs(fresh).create_organization()
    a = create_account(fresh, "Ops", RoleName="OrgAdmin")
    sts = fresh.client("sts")
    ident = sts.assume_role(RoleArn=f"arn:aws:iam::{a}:role/OrgAdmin", RoleSessionName="xx")["AssumedRoleUser"]
    assert ident["Arn"] == f"arn:aws:sts::{a}:assumed-role/OrgAdmin/xx"
    e = raises(sts.assume_role, RoleArn=f"arn:aws:iam::{a}:role/{ORG_ROLE}", RoleSessionName="xx")
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def test_create_account_failures_arrive_in_the_status(fresh):
    org = orgs(fresh)
    org.create_organization()
    create_account(fresh, "Dev")
    dup = org.create_account(Email="DEV@example.com", AccountName="Dev2")["CreateAccountStatus"]
    assert dup["State"] == "IN_PROGRESS"  # never a synchronous error
    bad = org.create_account(Email="dev@example..com", AccountName="Odd")["CreateAccountStatus"]
    fresh.advance_clock(2)
    failed = org.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"]
    assert [(s["Id"], s["State"], s["FailureReason"]) for s in failed] == [
        (dup["Id"], "FAILED", "EMAIL_ALREADY_EXISTS"),
        (bad["Id"], "FAILED", "INVALID_EMAIL"),
    ]
    assert "AccountId" not in failed[0] and "CompletedTimestamp" in failed[0]
    succeeded = org.list_create_account_status(States=["SUCCEEDED"])["CreateAccountStatuses"]
    assert [s["AccountName"] for s in succeeded] == ["Dev"]
    assert len(org.list_create_account_status()["CreateAccountStatuses"]) == 3
    assert len(org.list_accounts()["Accounts"]) == 2
    e = raises(org.describe_create_account_status, CreateAccountRequestId="car-" + "0" * 32)
    assert err(e)[0] == "CreateAccountStatusNotFoundException"


def test_create_account_bad_input_creates_nothing(fresh):
    org = unchecked(fresh)
    org.create_organization()
    cases = [
        (dict(Email="not-an-email", AccountName="A"), "INVALID_PATTERN"),
        (dict(Email="a@example.com", AccountName="Caf\u00e9"), "INVALID_FULL_NAME_TARGET"),
        (dict(Email="a@example.com", AccountName="A" * 51), "MAX_LENGTH_EXCEEDED"),
        (dict(Email="a" * 60 + "@example.com", AccountName="A"), "MAX_LENGTH_EXCEEDED"),
        (dict(Email="a@example.com", AccountName="A", RoleName="AWSServiceRoleForX"), "INVALID_ROLE_NAME"),
        (dict(Email="a@example.com", AccountName="A", RoleName="bad role"), "INVALID_PATTERN"),
        (dict(Email="a@example.com", AccountName="A", IamUserAccessToBilling="MAYBE"), "INVALID_ENUM"),
        (dict(Email="a@example.com", AccountName="A", Tags=[{"Key": "aws:x", "Value": "1"}]), "INVALID_SYSTEM_TAGS_PARAMETER"),
        (dict(AccountName="A"), "INPUT_REQUIRED"),
    ]
    for kwargs, want in cases:
        e = raises(org.create_account, **kwargs)
        assert reason(e) == ("InvalidInputException", want), kwargs
    assert org.list_create_account_status()["CreateAccountStatuses"] == []


def test_member_accounts_are_refused_management_operations(fresh):
    orgs(fresh).create_organization()
    a = create_account(fresh, "Dev")
    member = as_account(fresh, a)
    assert member.describe_organization()["Organization"]["MasterAccountId"] == MANAGEMENT
    refused = [
        (member.list_accounts, {}),
        (member.list_roots, {}),
        (member.describe_account, {"AccountId": a}),
        (member.create_account, {"Email": "x@example.com", "AccountName": "X"}),
        (member.enable_aws_service_access, {"ServicePrincipal": CT}),
        (member.register_delegated_administrator, {"AccountId": a, "ServicePrincipal": CT}),
        (member.remove_account_from_organization, {"AccountId": a}),
        (member.delete_organization, {}),
    ]
    for call, kwargs in refused:
        assert err(raises(call, **kwargs)) == ACCESS_DENIED, call
    code, _, stderr = fresh.cli("organizations", "list-accounts", key="AKIANOSUCHKEY0000000", check=False)
    assert code != 0 and "UnrecognizedClientException" in stderr


def test_leave_remove_and_close(fresh):
    org = orgs(fresh)
    org.create_organization()
    guest = invite_and_join(fresh, standalone(fresh, "222222222222"))["Parties"][1]["Id"]
    a = create_account(fresh, "Dev")
    b = create_account(fresh, "Test")
    member = as_account(fresh, guest)
    member.leave_organization()
    assert err(raises(member.describe_organization)) == NOT_IN_USE
    e = raises(org.leave_organization)
    assert err(e)[0] == "MasterCannotLeaveOrganizationException"
    e = raises(org.remove_account_from_organization, AccountId=MANAGEMENT)
    assert err(e)[0] == "MasterCannotLeaveOrganizationException"
    e = raises(org.remove_account_from_organization, AccountId="999999999999")
    assert err(e) == ("AccountNotFoundException", "You specified an account that doesn't exist.")
    org.remove_account_from_organization(AccountId=a)
    assert err(raises(org.describe_account, AccountId=a))[0] == "AccountNotFoundException"
    assert sorted(x["Id"] for x in org.list_accounts()["Accounts"]) == sorted([MANAGEMENT, b])
    # Closing: pending first, then suspended; only once; never the management account.
    org.close_account(AccountId=b)
    acct = org.describe_account(AccountId=b)["Account"]
    assert (acct["Status"], acct["State"]) == ("PENDING_CLOSURE", "PENDING_CLOSURE")
    assert err(raises(org.close_account, AccountId=b))[0] == "AccountAlreadyClosedException"
    fresh.advance_clock(2)
    acct = org.describe_account(AccountId=b)["Account"]
    assert (acct["Status"], acct["State"]) == ("SUSPENDED", "CLOSED")
    e = raises(org.close_account, AccountId=MANAGEMENT)
    assert reason(e) == ("ConstraintViolationException", "CANNOT_CLOSE_MANAGEMENT_ACCOUNT")


# --- invitations and handshakes -------------------------------------------------------------


def test_invite_accept_and_its_errors(fresh):
    org = orgs(fresh)
    o = org.create_organization()["Organization"]
    guest = standalone(fresh, "222222222222", name="Guest", email="guest@example.com")
    invitee = as_account(fresh, guest)
    assert err(raises(invitee.describe_organization)) == NOT_IN_USE
    h = org.invite_account_to_organization(
        Target={"Type": "ACCOUNT", "Id": guest}, Notes="welcome", Tags=[{"Key": "via", "Value": "invite"}]
    )["Handshake"]
    assert re.fullmatch(r"h-[0-9a-z]{32}", h["Id"])
    assert h["Arn"] == f"arn:aws:organizations::{MANAGEMENT}:handshake/{o['Id']}/invite/{h['Id']}"
    assert (h["Action"], h["State"]) == ("INVITE", "OPEN")
    assert h["Parties"] == [{"Id": o["Id"], "Type": "ORGANIZATION"}, {"Id": guest, "Type": "ACCOUNT"}]
    assert h["Resources"] == [
        {
            "Value": o["Id"],
            "Type": "ORGANIZATION",
            "Resources": [
                {"Value": "management@example.com", "Type": "MASTER_EMAIL"},
                {"Value": "Management", "Type": "MASTER_NAME"},
                {"Value": "FULL", "Type": "ORGANIZATION_FEATURE_SET"},
            ],
        },
        {"Value": guest, "Type": "ACCOUNT"},
        {"Value": "welcome", "Type": "NOTES"},
    ]
    assert round((h["ExpirationTimestamp"] - h["RequestedTimestamp"]).total_seconds()) == 15 * 86400
    e = raises(org.invite_account_to_organization, Target={"Type": "ACCOUNT", "Id": guest})
    assert err(e)[0] == "DuplicateHandshakeException"
    # The invitee sees it from outside any organization, and accepts.
    [seen] = invitee.list_handshakes_for_account()["Handshakes"]
    assert seen == h
    assert invitee.describe_handshake(HandshakeId=h["Id"])["Handshake"] == h
    accepted = invitee.accept_handshake(HandshakeId=h["Id"])["Handshake"]
    assert accepted["State"] == "ACCEPTED"
    e = raises(invitee.accept_handshake, HandshakeId=h["Id"])
    assert err(e)[0] == "HandshakeAlreadyInStateException"
    acct = org.describe_account(AccountId=guest)["Account"]
    assert (acct["JoinedMethod"], acct["Name"], acct["Email"]) == ("INVITED", "Guest", "guest@example.com")
    assert org.list_tags_for_resource(ResourceId=guest)["Tags"] == [{"Key": "via", "Value": "invite"}]
    assert invitee.describe_organization()["Organization"]["Id"] == o["Id"]
    e = raises(org.invite_account_to_organization, Target={"Type": "ACCOUNT", "Id": guest})
    assert reason(e) == ("HandshakeConstraintViolationException", "ALREADY_IN_AN_ORGANIZATION")
    e = raises(org.invite_account_to_organization, Target={"Type": "ACCOUNT", "Id": MANAGEMENT})
    assert reason(e) == ("HandshakeConstraintViolationException", "ALREADY_IN_AN_ORGANIZATION")
    # Targets that cannot be invited.
    e = raises(org.invite_account_to_organization, Target={"Type": "ACCOUNT", "Id": "999999999999"})
    assert reason(e) == ("InvalidInputException", "INVALID_PARTY_TYPE_TARGET")
    e = raises(org.invite_account_to_organization, Target={"Type": "ORGANIZATION", "Id": "o-abcdefghij"})
    assert reason(e) == ("InvalidInputException", "INVALID_PARTY_TYPE_TARGET")
    e = raises(org.invite_account_to_organization, Target={"Type": "EMAIL", "Id": "nobody"})
    assert reason(e) == ("InvalidInputException", "INVALID_EMAIL_ADDRESS_TARGET")
    e = raises(org.invite_account_to_organization, Target={"Type": "PHONE", "Id": "1"})
    assert reason(e) == ("InvalidInputException", "INVALID_ENUM")


def test_decline_cancel_and_email_invitations(fresh):
    org = orgs(fresh)
    org.create_organization()
    standalone(fresh, "333333333333", email="three@example.com")
    standalone(fresh, "444444444444")
    by_mail = org.invite_account_to_organization(Target={"Type": "EMAIL", "Id": "Three@Example.com"})["Handshake"]
    assert by_mail["Parties"][1] == {"Id": "Three@Example.com", "Type": "EMAIL"}
    three = as_account(fresh, "333333333333")
    assert three.decline_handshake(HandshakeId=by_mail["Id"])["Handshake"]["State"] == "DECLINED"
    assert err(raises(three.accept_handshake, HandshakeId=by_mail["Id"]))[0] == "InvalidHandshakeTransitionException"
    assert err(raises(three.decline_handshake, HandshakeId=by_mail["Id"]))[0] == "HandshakeAlreadyInStateException"
    h = org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": "444444444444"})["Handshake"]
    four = as_account(fresh, "444444444444")
    assert err(raises(four.cancel_handshake, HandshakeId=h["Id"])) == ACCESS_DENIED
    assert org.cancel_handshake(HandshakeId=h["Id"])["Handshake"]["State"] == "CANCELED"
    assert err(raises(four.accept_handshake, HandshakeId=h["Id"]))[0] == "InvalidHandshakeTransitionException"
    # Strangers do not see other accounts' handshakes.
    e = raises(three.describe_handshake, HandshakeId=h["Id"])
    assert err(e) == ("HandshakeNotFoundException", "We can't find a handshake with the HandshakeId that you specified.")
    states = {x["Id"]: x["State"] for x in org.list_handshakes_for_organization()["Handshakes"]}
    assert states == {by_mail["Id"]: "DECLINED", h["Id"]: "CANCELED"}
    invites = org.list_handshakes_for_organization(Filter={"ActionType": "INVITE"})["Handshakes"]
    assert len(invites) == 2
    e = raises(org.list_handshakes_for_organization, Filter={"ActionType": "INVITE", "ParentHandshakeId": h["Id"]})
    assert reason(e) == ("InvalidInputException", "MAX_LIMIT_EXCEEDED_FILTER")
    # Declined and canceled handshakes leave the listings after 30 days.
    fresh.advance_clock(31 * 86400)
    with shifted(31 * 86400):
        assert orgs(fresh).list_handshakes_for_organization()["Handshakes"] == []
        later = as_account(fresh, "333333333333")
        assert later.list_handshakes_for_account()["Handshakes"] == []


def test_invitations_expire_after_15_days(fresh):
    org = orgs(fresh)
    org.create_organization()
    guest = standalone(fresh, "222222222222")
    h = org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": guest})["Handshake"]
    fresh.advance_clock(15 * 86400 + 60)
    with shifted(15 * 86400 + 60):
        invitee = as_account(fresh, guest)
        assert invitee.describe_handshake(HandshakeId=h["Id"])["Handshake"]["State"] == "EXPIRED"
        e = raises(invitee.accept_handshake, HandshakeId=h["Id"])
        assert err(e)[0] == "InvalidHandshakeTransitionException"
        # An expired invitation is no duplicate: the account can be invited again.
        again = orgs(fresh).invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": guest})["Handshake"]
        assert again["State"] == "OPEN" and again["Id"] != h["Id"]


def test_any_standalone_account_can_found_an_organization(fresh):
    orgs(fresh).create_organization()
    other = standalone(fresh, "222222222222", name="Other", email="other@example.com")
    theirs = as_account(fresh, other)
    o = theirs.create_organization(FeatureSet="ALL")["Organization"]
    assert (o["MasterAccountId"], o["MasterAccountEmail"]) == (other, "other@example.com")
    assert o["Arn"] == f"arn:aws:organizations::{other}:organization/{o['Id']}"
    assert [a["Id"] for a in theirs.list_accounts()["Accounts"]] == [other]
    assert [a["Id"] for a in orgs(fresh).list_accounts()["Accounts"]] == [MANAGEMENT]
    e = raises(orgs(fresh).invite_account_to_organization, Target={"Type": "ACCOUNT", "Id": other})
    assert reason(e) == ("HandshakeConstraintViolationException", "ALREADY_IN_AN_ORGANIZATION")
    e = raises(orgs(fresh).describe_account, AccountId=other)
    assert err(e)[0] == "AccountNotFoundException"


# --- organizational units -----------------------------------------------------------------


def test_organizational_units(fresh):
    org = orgs(fresh)
    o = org.create_organization()["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    a = create_account(fresh, "Dev")
    prod = org.create_organizational_unit(ParentId=root, Name="Prod", Tags=[{"Key": "env", "Value": "prod"}])[
        "OrganizationalUnit"
    ]
    assert list(prod) == ["Id", "Arn", "Name", "Path"]
    assert re.fullmatch(rf"ou-{root[2:]}-[a-z0-9]{{8}}", prod["Id"])
    assert prod["Arn"] == f"arn:aws:organizations::{MANAGEMENT}:ou/{o['Id']}/{prod['Id']}"
    assert prod["Path"] == f"{o['Id']}/{root}/{prod['Id']}/"
    assert org.list_tags_for_resource(ResourceId=prod["Id"])["Tags"] == [{"Key": "env", "Value": "prod"}]
    e = raises(org.create_organizational_unit, ParentId=root, Name="Prod")
    assert err(e) == ("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
    e = raises(org.create_organizational_unit, ParentId="ou-abcd-abcdefgh", Name="X")
    assert err(e) == ("ParentNotFoundException", "You specified parent that doesn't exist.")
    # Five levels below the root, no more.
    parent = prod["Id"]
    for level in range(2, 6):
        parent = org.create_organizational_unit(ParentId=parent, Name=f"L{level}")["OrganizationalUnit"]["Id"]
    e = raises(org.create_organizational_unit, ParentId=parent, Name="L6")
    assert reason(e) == ("ConstraintViolationException", "OU_DEPTH_LIMIT_EXCEEDED")
    renamed = org.update_organizational_unit(OrganizationalUnitId=prod["Id"], Name="Production")["OrganizationalUnit"]
    assert renamed == dict(prod, Name="Production")
    assert org.describe_organizational_unit(OrganizationalUnitId=prod["Id"])["OrganizationalUnit"] == renamed
    assert org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"] == [renamed]
    # Moving an account.
    org.move_account(AccountId=a, SourceParentId=root, DestinationParentId=prod["Id"])
    moved = org.describe_account(AccountId=a)["Account"]
    assert moved["Paths"] == [f"{prod['Path']}{a}/"]
    assert [x["Id"] for x in org.list_accounts_for_parent(ParentId=prod["Id"])["Accounts"]] == [a]
    assert [x["Id"] for x in org.list_accounts_for_parent(ParentId=root)["Accounts"]] == [MANAGEMENT]
    assert org.list_children(ParentId=prod["Id"], ChildType="ACCOUNT")["Children"] == [{"Id": a, "Type": "ACCOUNT"}]
    [sub] = org.list_children(ParentId=prod["Id"], ChildType="ORGANIZATIONAL_UNIT")["Children"]
    assert sub["Type"] == "ORGANIZATIONAL_UNIT"
    assert org.list_parents(ChildId=a)["Parents"] == [{"Id": prod["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert org.list_parents(ChildId=prod["Id"])["Parents"] == [{"Id": root, "Type": "ROOT"}]
    e = raises(org.list_parents, ChildId="999999999999")
    assert err(e)[0] == "ChildNotFoundException"
    e = raises(org.move_account, AccountId=a, SourceParentId=prod["Id"], DestinationParentId=prod["Id"])
    assert err(e)[0] == "DuplicateAccountException"
    e = raises(org.move_account, AccountId=a, SourceParentId=root, DestinationParentId="ou-abcd-abcdefgh")
    assert err(e)[0] == "DestinationParentNotFoundException"
    e = raises(org.move_account, AccountId=a, SourceParentId="ou-abcd-abcdefgh", DestinationParentId=root)
    assert err(e)[0] == "SourceParentNotFoundException"
    e = raises(org.move_account, AccountId=a, SourceParentId=root, DestinationParentId=sub["Id"])
    assert err(e)[0] == "AccountNotFoundException"
    # Only empty OUs can be deleted.
    e = raises(org.delete_organizational_unit, OrganizationalUnitId=prod["Id"])
    assert err(e)[0] == "OrganizationalUnitNotEmptyException"
    org.move_account(AccountId=a, SourceParentId=prod["Id"], DestinationParentId=root)
    leaf = parent
    org.delete_organizational_unit(OrganizationalUnitId=leaf)
    e = raises(org.describe_organizational_unit, OrganizationalUnitId=leaf)
    assert err(e) == ("OrganizationalUnitNotFoundException", "You specified an organizational unit that doesn't exist.")


# --- trusted access and delegated administrators ---------------------------------------------


def test_trusted_access(fresh):
    org = orgs(fresh)
    org.create_organization()
    assert org.list_aws_service_access_for_organization()["EnabledServicePrincipals"] == []
    org.enable_aws_service_access(ServicePrincipal=CT)
    org.enable_aws_service_access(ServicePrincipal=CT)  # idempotent
    org.enable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    listed = org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [x["ServicePrincipal"] for x in listed] == [CT, "config.amazonaws.com"]
    assert list(listed[0]) == ["ServicePrincipal", "DateEnabled"]
    e = raises(org.enable_aws_service_access, ServicePrincipal="nosuch.amazonaws.com")
    assert reason(e) == ("InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")
    assert err(e)[1] == "You specified an unrecognized service principal."
    e = raises(org.enable_aws_service_access, ServicePrincipal="bad principal")
    assert reason(e) == ("InvalidInputException", "INVALID_PATTERN")
    org.disable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    org.disable_aws_service_access(ServicePrincipal="config.amazonaws.com")  # idempotent
    listed = org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [x["ServicePrincipal"] for x in listed] == [CT]


def test_delegated_administrators_and_their_rules(fresh):
    org = orgs(fresh)
    org.create_organization()
    a, b, c, d = (create_account(fresh, n) for n in ("A", "B", "C", "D"))
    e = raises(org.register_delegated_administrator, AccountId=a, ServicePrincipal=CT)
    assert reason(e) == ("ConstraintViolationException", "SERVICE_ACCESS_NOT_ENABLED")
    org.enable_aws_service_access(ServicePrincipal=CT)
    org.enable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    e = raises(org.register_delegated_administrator, AccountId=MANAGEMENT, ServicePrincipal=CT)
    assert reason(e) == ("ConstraintViolationException", "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR")
    assert err(e)[1] == "You cannot register master account/yourself as delegated administrator for your organization."
    e = raises(org.register_delegated_administrator, AccountId=a, ServicePrincipal="nosuch.amazonaws.com")
    assert reason(e) == ("InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")
    e = raises(org.register_delegated_administrator, AccountId="999999999999", ServicePrincipal=CT)
    assert err(e)[0] == "AccountNotFoundException"
    member = as_account(fresh, a)
    assert err(raises(member.register_delegated_administrator, AccountId=b, ServicePrincipal=CT)) == ACCESS_DENIED
    assert err(raises(member.list_accounts)) == ACCESS_DENIED
    for x in (a, b, c):
        org.register_delegated_administrator(AccountId=x, ServicePrincipal=CT)
    e = raises(org.register_delegated_administrator, AccountId=a, ServicePrincipal=CT)
    assert err(e) == (
        "AccountAlreadyRegisteredException",
        "The provided account is already a delegated administrator for your organization.",
    )
    e = raises(org.register_delegated_administrator, AccountId=d, ServicePrincipal=CT)
    assert reason(e) == ("ConstraintViolationException", "MAX_DELEGATED_ADMINISTRATORS_FOR_SERVICE_LIMIT_EXCEEDED")
    org.register_delegated_administrator(AccountId=a, ServicePrincipal="config.amazonaws.com")
    e = raises(org.register_delegated_administrator, AccountId=b, ServicePrincipal="config.amazonaws.com")
    assert reason(e) == ("ConstraintViolationException", "DELEGATED_ADMINISTRATOR_EXISTS_FOR_THIS_SERVICE")

    admins = org.list_delegated_administrators(ServicePrincipal=CT)["DelegatedAdministrators"]
    assert sorted(x["Id"] for x in admins) == sorted([a, b, c])
    assert list(admins[0]) == [
        "Id", "Arn", "Email", "Name", "Status", "State", "JoinedMethod", "JoinedTimestamp", "DelegationEnabledDate",
    ]
    everyone = org.list_delegated_administrators()["DelegatedAdministrators"]
    assert sorted(x["Id"] for x in everyone) == sorted([a, b, c])
    services = org.list_delegated_services_for_account(AccountId=a)["DelegatedServices"]
    assert [s["ServicePrincipal"] for s in services] == [CT, "config.amazonaws.com"]
    assert list(services[0]) == ["ServicePrincipal", "DelegationEnabledDate"]
    e = raises(org.list_delegated_services_for_account, AccountId=d)
    assert err(e) == (
        "AccountNotRegisteredException",
        "The provided account is not a registered delegated administrator for your organization.",
    )
    # A delegated administrator reads the organization, and nothing more.
    member = as_account(fresh, a)
    assert len(member.list_accounts()["Accounts"]) == 5
    assert member.describe_account(AccountId=d)["Account"]["Id"] == d
    assert len(member.list_delegated_administrators()["DelegatedAdministrators"]) == 3
    assert member.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert err(raises(member.create_account, Email="x@example.com", AccountName="X")) == ACCESS_DENIED
    assert err(raises(member.leave_organization))[0] == "ConstraintViolationException"
    e = raises(org.remove_account_from_organization, AccountId=b)
    assert reason(e) == ("ConstraintViolationException", "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG")
    # Deregistering, and disabling trusted access, end delegations.
    org.deregister_delegated_administrator(AccountId=b, ServicePrincipal=CT)
    e = raises(org.deregister_delegated_administrator, AccountId=b, ServicePrincipal=CT)
    assert err(e)[0] == "AccountNotRegisteredException"
    org.remove_account_from_organization(AccountId=b)
    org.disable_aws_service_access(ServicePrincipal=CT)
    admins = org.list_delegated_administrators()["DelegatedAdministrators"]
    assert [x["Id"] for x in admins] == [a]
    assert [s["ServicePrincipal"] for s in org.list_delegated_services_for_account(AccountId=a)["DelegatedServices"]] == [
        "config.amazonaws.com"
    ]


def test_delegated_administrators_need_all_features(fresh):
    org = orgs(fresh)
    org.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    a = create_account(fresh, "A")
    e = raises(org.register_delegated_administrator, AccountId=a, ServicePrincipal=CT)
    assert reason(e) == ("ConstraintViolationException", "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE")
    e = raises(org.list_aws_service_access_for_organization)
    assert reason(e) == ("ConstraintViolationException", "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE")


# --- tags -----------------------------------------------------------------------------------


def test_tags_on_every_kind_of_resource(fresh):
    org = orgs(fresh)
    org.create_organization()
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="OU")["OrganizationalUnit"]["Id"]
    a = create_account(fresh, "A")
    policy = org.create_policy(
        Name="deny-leave", Description="", Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}),
    )["Policy"]["PolicySummary"]["Id"]
    for rid in (root, ou, a, MANAGEMENT, policy):
        org.tag_resource(ResourceId=rid, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])
        org.tag_resource(ResourceId=rid, Tags=[{"Key": "b", "Value": "3"}])  # overwrites
        assert org.list_tags_for_resource(ResourceId=rid)["Tags"] == [
            {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "3"},
        ], rid
        org.untag_resource(ResourceId=rid, TagKeys=["a", "missing"])
        assert org.list_tags_for_resource(ResourceId=rid)["Tags"] == [{"Key": "b", "Value": "3"}]
    e = raises(org.tag_resource, ResourceId=a, Tags=[{"Key": "aws:owner", "Value": "x"}])
    assert reason(e) == ("InvalidInputException", "INVALID_SYSTEM_TAGS_PARAMETER")
    e = raises(org.tag_resource, ResourceId=a, Tags=[{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}])
    assert reason(e) == ("InvalidInputException", "DUPLICATE_TAG_KEY")
    e = raises(org.tag_resource, ResourceId=a, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert reason(e) == ("ConstraintViolationException", "MAX_TAG_LIMIT_EXCEEDED")
    assert org.list_tags_for_resource(ResourceId=a)["Tags"] == [{"Key": "b", "Value": "3"}]
    e = raises(org.tag_resource, ResourceId="999999999999", Tags=[{"Key": "k", "Value": "v"}])
    assert err(e) == ("TargetNotFoundException", "You specified a target that doesn't exist.")
    e = raises(org.list_tags_for_resource, ResourceId="o-abcdefghij")
    assert reason(e) == ("InvalidInputException", "INVALID_PATTERN")
    e = raises(org.untag_resource, ResourceId=a, TagKeys=["aws:x"])
    assert reason(e) == ("InvalidInputException", "INVALID_SYSTEM_TAGS_PARAMETER")
    # An account's organization tags go when it leaves.
    org.remove_account_from_organization(AccountId=a)
    invite_and_join(fresh, a)
    assert org.list_tags_for_resource(ResourceId=a)["Tags"] == []


# --- policies -------------------------------------------------------------------------------


def test_service_control_policies(fresh):
    org = orgs(fresh)
    o = org.create_organization()["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    [full] = org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    assert full == {
        "Id": "p-FullAWSAccess",
        "Arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
        "Name": "FullAWSAccess",
        "Description": "Allows access to every operation",
        "Type": "SERVICE_CONTROL_POLICY",
        "AwsManaged": True,
    }
    # Until SCPs are enabled nothing is attached; enabling attaches FullAWSAccess everywhere, and
    # an account created afterwards gets it too.
    assert org.list_policies_for_target(TargetId=root, Filter="SERVICE_CONTROL_POLICY")["Policies"] == []
    enabled = org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")["Root"]
    assert enabled["PolicyTypes"] == [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
    assert org.list_policies_for_target(TargetId=root, Filter="SERVICE_CONTROL_POLICY")["Policies"] == [full]
    a = create_account(fresh, "A")
    assert org.list_policies_for_target(TargetId=a, Filter="SERVICE_CONTROL_POLICY")["Policies"] == [full]
    content = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})
    p = org.create_policy(Name="no-s3", Description="d", Type="SERVICE_CONTROL_POLICY", Content=content)["Policy"]
    pid = p["PolicySummary"]["Id"]
    assert re.fullmatch(r"p-[a-z0-9]{8}", pid)
    assert p["PolicySummary"]["Arn"] == f"arn:aws:organizations::{MANAGEMENT}:policy/{o['Id']}/service_control_policy/{pid}"
    assert p["Content"] == content
    assert err(raises(org.create_policy, Name="no-s3", Description="", Type="SERVICE_CONTROL_POLICY", Content=content))[0] == (
        "DuplicatePolicyException"
    )
    e = raises(org.create_policy, Name="bad", Description="", Type="SERVICE_CONTROL_POLICY", Content="{not json")
    assert err(e)[0] == "MalformedPolicyDocumentException"
    org.attach_policy(PolicyId=pid, TargetId=a)
    assert err(raises(org.attach_policy, PolicyId=pid, TargetId=a))[0] == "DuplicatePolicyAttachmentException"
    targets = org.list_targets_for_policy(PolicyId=pid)["Targets"]
    assert targets == [{
        "TargetId": a, "Arn": f"arn:aws:organizations::{MANAGEMENT}:account/{o['Id']}/{a}", "Name": "A", "Type": "ACCOUNT",
    }]
    assert err(raises(org.delete_policy, PolicyId=pid))[0] == "PolicyInUseException"
    e = raises(org.detach_policy, PolicyId="p-FullAWSAccess", TargetId=root)
    assert reason(e) == ("ConstraintViolationException", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=a)  # another SCP remains
    assert err(raises(org.detach_policy, PolicyId="p-FullAWSAccess", TargetId=a))[0] == "PolicyNotAttachedException"
    e = raises(org.update_policy, PolicyId="p-FullAWSAccess", Name="x")
    assert reason(e) == ("InvalidInputException", "IMMUTABLE_POLICY")
    assert org.update_policy(PolicyId=pid, Name="no-s3-at-all")["Policy"]["PolicySummary"]["Name"] == "no-s3-at-all"
    assert org.describe_policy(PolicyId=pid)["Policy"]["PolicySummary"]["Name"] == "no-s3-at-all"
    # Tag policies need their type enabled before they can be attached.
    tag_policy = org.create_policy(Name="t", Description="", Type="TAG_POLICY", Content='{"tags":{}}')["Policy"]
    tid = tag_policy["PolicySummary"]["Id"]
    assert err(raises(org.attach_policy, PolicyId=tid, TargetId=a))[0] == "PolicyTypeNotEnabledException"
    enabled = org.enable_policy_type(RootId=root, PolicyType="TAG_POLICY")["Root"]
    assert {"Type": "TAG_POLICY", "Status": "ENABLED"} in enabled["PolicyTypes"]
    assert err(raises(org.enable_policy_type, RootId=root, PolicyType="TAG_POLICY"))[0] == "PolicyTypeAlreadyEnabledException"
    org.attach_policy(PolicyId=tid, TargetId=a)
    disabled = org.disable_policy_type(RootId=root, PolicyType="TAG_POLICY")["Root"]
    assert disabled["PolicyTypes"] == [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
    assert org.list_targets_for_policy(PolicyId=tid)["Targets"] == []
    e = raises(org.enable_policy_type, RootId="r-zzzz", PolicyType="TAG_POLICY")
    assert err(e)[0] == "RootNotFoundException"
    e = raises(org.describe_policy, PolicyId="p-12345678")
    assert err(e)[0] == "PolicyNotFoundException"


def test_policies_need_all_features(fresh):
    org = orgs(fresh)
    org.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    e = raises(org.create_policy, Name="x", Description="", Type="SERVICE_CONTROL_POLICY", Content="{}")
    assert err(e)[0] == "PolicyTypeNotAvailableForOrganizationException"
    assert org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"] == []


def test_resource_policy_delegates_reads_to_a_member(fresh):
    org = orgs(fresh)
    o = org.create_organization()["Organization"]
    a = create_account(fresh, "A")
    member = as_account(fresh, a)
    assert err(raises(member.list_accounts)) == ACCESS_DENIED
    assert err(raises(org.describe_resource_policy))[0] == "ResourcePolicyNotFoundException"
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{a}:root"},
        "Action": ["organizations:ListAccounts", "organizations:DescribeAccount"], "Resource": "*"}]})
    put = org.put_resource_policy(Content=doc)["ResourcePolicy"]
    rp = put["ResourcePolicySummary"]["Id"]
    assert put["ResourcePolicySummary"]["Arn"] == f"arn:aws:organizations::{MANAGEMENT}:resourcepolicy/{o['Id']}/{rp}"
    assert org.describe_resource_policy()["ResourcePolicy"] == put
    assert len(member.list_accounts()["Accounts"]) == 2
    assert err(raises(member.list_roots)) == ACCESS_DENIED
    e = raises(org.put_resource_policy, Content="nope")
    assert reason(e) == ("InvalidInputException", "INVALID_RESOURCE_POLICY_JSON")
    org.delete_resource_policy()
    assert err(raises(member.list_accounts)) == ACCESS_DENIED


# --- pagination and bad input ---------------------------------------------------------------


def test_pagination(fresh):
    org = orgs(fresh)
    org.create_organization()
    made = [create_account(fresh, f"P{i}") for i in range(4)]
    pages, token, seen_tokens = [], None, []
    while True:
        kw = {"MaxResults": 2, **({"NextToken": token} if token else {})}
        page = org.list_accounts(**kw)
        pages.append([a["Id"] for a in page["Accounts"]])
        token = page.get("NextToken")
        if token is None:
            assert "NextToken" not in page
            break
        assert token not in seen_tokens
        seen_tokens.append(token)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sum(pages, []) == [MANAGEMENT] + made  # in the order they joined
    every = [a["Id"] for p in org.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 3}) for a in p["Accounts"]]
    assert every == [MANAGEMENT] + made
    _, out, _ = fresh.cli("organizations", "list-accounts", "--page-size", "2")
    assert [a["Id"] for a in json.loads(out)["Accounts"]] == [MANAGEMENT] + made
    e = raises(org.list_accounts, NextToken="not-a-token")
    assert reason(e) == ("InvalidInputException", "INVALID_NEXT_TOKEN")
    e = raises(org.list_roots, NextToken=seen_tokens[0])  # a token of another listing
    assert reason(e) == ("InvalidInputException", "INVALID_NEXT_TOKEN")
    e = raises(unchecked(fresh).list_accounts, MaxResults=21)
    assert reason(e) == ("InvalidInputException", "MAX_VALUE_EXCEEDED")
    # OUs page the same way.
    root = org.list_roots()["Roots"][0]["Id"]
    ous = sorted(org.create_organizational_unit(ParentId=root, Name=n)["OrganizationalUnit"]["Id"] for n in "xyz")
    got = [u["Id"] for p in org.get_paginator("list_organizational_units_for_parent").paginate(
        ParentId=root, PaginationConfig={"PageSize": 1}) for u in p["OrganizationalUnits"]]
    assert got == ous


def test_server_side_validation_of_ids_and_enums(fresh):
    org = unchecked(fresh)
    e = raises(org.create_organization, FeatureSet="EVERYTHING")
    assert reason(e) == ("InvalidInputException", "INVALID_ENUM")
    org.create_organization()
    cases = [
        (org.describe_account, {"AccountId": "12345"}, "INVALID_PATTERN"),
        (org.describe_account, {"AccountId": "12345678901a"}, "INVALID_PATTERN"),
        (org.describe_organizational_unit, {"OrganizationalUnitId": "ou-bad"}, "INVALID_PATTERN"),
        (org.describe_handshake, {"HandshakeId": "h-NOTVALID"}, "INVALID_PATTERN"),
        (org.describe_create_account_status, {"CreateAccountRequestId": "car-NOPE1234"}, "INVALID_PATTERN"),
        (org.list_children, {"ParentId": "r-abcd", "ChildType": "POLICY"}, "INVALID_ENUM"),
        (org.list_organizational_units_for_parent, {"ParentId": "123456789012"}, "INVALID_PATTERN"),
        (org.create_organizational_unit, {"ParentId": "r-abcd", "Name": "x" * 129}, "MAX_LENGTH_EXCEEDED"),
        (org.describe_policy, {"PolicyId": "p-x"}, "INVALID_SYNTAX_POLICY_ID"),
        (org.attach_policy, {"PolicyId": "p-FullAWSAccess", "TargetId": "o-abcdefghij"}, "INVALID_PATTERN_TARGET_ID"),
        (org.describe_account, {}, "INPUT_REQUIRED"),
    ]
    for call, kwargs, want in cases:
        e = raises(call, **kwargs)
        assert reason(e) == ("InvalidInputException", want), (call, kwargs)
    e = raises(org.describe_account, AccountId=12)
    assert e.value.response["Error"]["Code"] == "SerializationException"


def test_operations_not_served_say_so(fresh):
    orgs(fresh).create_organization()
    for call, kwargs in [
        (orgs(fresh).describe_effective_policy, {"PolicyType": "TAG_POLICY"}),
        (orgs(fresh).create_gov_cloud_account, {"Email": "g@example.com", "AccountName": "G"}),
    ]:
        e = raises(call, **kwargs)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
        assert e.value.response["Error"]["Code"] == "NotImplemented"

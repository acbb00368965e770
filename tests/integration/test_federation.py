"""Federation as AWS behaves, driven with boto3 and the AWS CLI: IAM OIDC and SAML providers,
then AssumeRoleWithWebIdentity with JWTs (RS256, ES256) and AssumeRoleWithSAML with signed
SAML responses, both minted here with `cryptography` (and libxml2's exclusive
canonicalization, through lxml, for the XML signatures), every refusal with AWS's error, the
sessions they make, and how CloudTrail records the calls."""

import base64
import datetime
import json
import re
import subprocess
import urllib.request
import uuid

import botocore.config
import botocore.exceptions
import pytest
from botocore import UNSIGNED
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import NameOID
from lxml import etree

from conftest import BINARY, MANAGEMENT

ISSUER = "https://token.example.com"
HOST = "token.example.com"
OIDC_ARN = f"arn:aws:iam::{MANAGEMENT}:oidc-provider/{HOST}"
AUDIENCE = "sts.amazonaws.com"
SUBJECT = "repo:example/app:ref:refs/heads/main"
SAML_NAME = "Corp"
SAML_ARN = f"arn:aws:iam::{MANAGEMENT}:saml-provider/{SAML_NAME}"
IDP = "https://idp.example.com/saml"
ROLE_ID = re.compile(r"AROA[A-Z2-7]{17}")

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
}


# --- helpers --------------------------------------------------------------------------------


def err(exc):
    e = exc.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"].get("Message", "")


def raises(fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(*args, **kwargs)
    return e


def server_now(server):
    """Cairn's clock (the test clock may run ahead of this machine's)."""
    req = urllib.request.Request(f"{server.endpoint}/_cairn/clock?advance=0", method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return datetime.datetime.fromisoformat(json.load(r)["now"])


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


class RsaIssuer:
    def __init__(self, kid="rsa-1"):
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self):
        pub = self.key.public_key().public_numbers()
        return {"kty": "RSA", "kid": self.kid, "alg": "RS256", "use": "sig", "n": b64url(uint(pub.n)), "e": b64url(uint(pub.e))}

    def token(self, claims, kid=None, alg="RS256"):
        header = {"alg": alg, "typ": "JWT", "kid": kid or self.kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(sig)}"


class EcIssuer:
    def __init__(self, kid="ec-1"):
        self.kid = kid
        self.key = ec.generate_private_key(ec.SECP256R1())

    def jwk(self):
        pub = self.key.public_key().public_numbers()
        return {"kty": "EC", "kid": self.kid, "crv": "P-256", "x": b64url(pub.x.to_bytes(32, "big")), "y": b64url(pub.y.to_bytes(32, "big"))}

    def token(self, claims):
        header = {"alg": "ES256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        r, s = utils.decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def claims(server, **extra):
    now = int(server_now(server).timestamp())
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": SUBJECT, "iat": now, "nbf": now - 5, "exp": now + 600}
    c.update(extra)
    return c


def put_keys(server, tmpdir, *jwks, arn=OIDC_ARN):
    path = f"{tmpdir}/jwks.json"
    with open(path, "w") as f:
        json.dump({"keys": list(jwks)}, f)
    return server.admin("put-oidc-keys", "--provider-arn", arn, "--jwks-file", path)


def unsigned_sts(server, region="us-east-2"):
    return server.client("sts", region=region, signature_version=UNSIGNED)


def web_trust(conditions=None, action="sts:AssumeRoleWithWebIdentity", provider=OIDC_ARN):
    statement = {"Effect": "Allow", "Principal": {"Federated": provider}, "Action": action}
    if conditions is not None:
        statement["Condition"] = conditions
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def make_role(server, name, trust, max_session=3600):
    iam = server.client("iam")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, MaxSessionDuration=max_session)["Role"]
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    return role


def oidc_setup(server, tmpdir, conditions=None, issuers=()):
    server.client("iam").create_open_id_connect_provider(Url=ISSUER, ClientIDList=[AUDIENCE], ThumbprintList=["a" * 40])
    if issuers:
        put_keys(server, tmpdir, *[i.jwk() for i in issuers])
    if conditions is None:
        conditions = {"StringEquals": {f"{HOST}:aud": AUDIENCE, f"{HOST}:sub": SUBJECT}}
    return make_role(server, "WebRole", web_trust(conditions))


def lookup(client, name):
    events = []
    for page in client.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]):
        events.extend(page["Events"])
    return [json.loads(e["CloudTrailEvent"]) for e in events]


# --- SAML: an IdP with a self-signed certificate, responses signed the way IdPs sign them ---


class Idp:
    def __init__(self, entity_id=IDP):
        self.entity_id = entity_id
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example.com")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .sign(self.key, hashes.SHA256())
        )

    def cert_b64(self):
        return base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()

    def metadata(self, valid_until=None):
        until = f' validUntil="{valid_until}"' if valid_until else ""
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<md:EntityDescriptor xmlns:md="{NS["md"]}" xmlns:ds="{NS["ds"]}" entityID="{self.entity_id}"{until}>\n'
            f'  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
            f'    <md:KeyDescriptor use="signing">\n'
            f'      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{self.cert_b64()}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\n'
            f'    </md:KeyDescriptor>\n'
            f'    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>\n'
            f'    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>\n'
            f'  </md:IDPSSODescriptor>\n'
            f'</md:EntityDescriptor>\n'
        )

    def response(self, now, role_arn, provider_arn=SAML_ARN, subject="alice@example.com", session_name="alice",
                 audience="https://signin.aws.amazon.com/saml", issued=None, lifetime=300, attributes=(),
                 sign="assertion", signer=None, tamper=None):
        """A base64 SAML Response with one Assertion, signed (enveloped, exclusive c14n,
        RSA-SHA256) over the Assertion or the Response."""
        issued = issued or now
        t = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
        end = now + datetime.timedelta(seconds=lifetime)
        aid, rid = "_" + uuid.uuid4().hex, "_" + uuid.uuid4().hex
        attrs = [("https://aws.amazon.com/SAML/Attributes/Role", [f"{role_arn},{provider_arn}"]),
                 ("https://aws.amazon.com/SAML/Attributes/RoleSessionName", [session_name]), *attributes]
        attr_xml = "".join(
            f'<saml:Attribute Name="{n}">' + "".join(f"<saml:AttributeValue>{v}</saml:AttributeValue>" for v in vs)
            + "</saml:Attribute>" for n, vs in attrs)
        xml = (
            f'<samlp:Response xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}" ID="{rid}" Version="2.0" '
            f'IssueInstant="{t(issued)}" Destination="https://signin.aws.amazon.com/saml">'
            f'<saml:Issuer>{self.entity_id}</saml:Issuer>'
            f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
            f'<saml:Assertion ID="{aid}" Version="2.0" IssueInstant="{t(issued)}">'
            f'<saml:Issuer>{self.entity_id}</saml:Issuer>'
            f'<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{subject}</saml:NameID>'
            f'<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
            f'<saml:SubjectConfirmationData NotOnOrAfter="{t(end)}" Recipient="https://signin.aws.amazon.com/saml"/>'
            f'</saml:SubjectConfirmation></saml:Subject>'
            f'<saml:Conditions NotBefore="{t(issued - datetime.timedelta(seconds=5))}" NotOnOrAfter="{t(end)}">'
            f'<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>'
            f'</saml:Conditions>'
            f'<saml:AuthnStatement AuthnInstant="{t(issued)}" SessionIndex="{aid}">'
            f'<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>'
            f'</saml:AuthnStatement>'
            f'<saml:AttributeStatement>{attr_xml}</saml:AttributeStatement>'
            f'</saml:Assertion></samlp:Response>'
        )
        root = etree.fromstring(xml.encode())
        target = root if sign == "response" else root.find("saml:Assertion", NS)
        if sign:
            self.sign(target, signer or self)
        if tamper:
            tamper(root)
        return base64.b64encode(etree.tostring(root)).decode()

    @staticmethod
    def sign(element, signer):
        c14n = lambda e: etree.tostring(e, method="c14n", exclusive=True, with_comments=False)
        digest = hashes.Hash(hashes.SHA256())
        digest.update(c14n(element))
        ds = "{%s}" % NS["ds"]
        sig = etree.Element(ds + "Signature", nsmap={"ds": NS["ds"]})
        info = etree.SubElement(sig, ds + "SignedInfo")
        etree.SubElement(info, ds + "CanonicalizationMethod", Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
        etree.SubElement(info, ds + "SignatureMethod", Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
        ref = etree.SubElement(info, ds + "Reference", URI="#" + element.get("ID"))
        transforms = etree.SubElement(ref, ds + "Transforms")
        etree.SubElement(transforms, ds + "Transform", Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature")
        etree.SubElement(transforms, ds + "Transform", Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
        etree.SubElement(ref, ds + "DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
        etree.SubElement(ref, ds + "DigestValue").text = base64.b64encode(digest.finalize()).decode()
        value = etree.SubElement(sig, ds + "SignatureValue")
        key_info = etree.SubElement(sig, ds + "KeyInfo")
        data = etree.SubElement(key_info, ds + "X509Data")
        etree.SubElement(data, ds + "X509Certificate").text = signer.cert_b64()
        # The Signature goes right after the Issuer, as the schema has it.
        element.insert(1, sig)
        value.text = base64.b64encode(signer.key.sign(c14n(info), padding.PKCS1v15(), hashes.SHA256())).decode()


def saml_trust(conditions=None):
    statement = {"Effect": "Allow", "Principal": {"Federated": SAML_ARN}, "Action": "sts:AssumeRoleWithSAML",
                 "Condition": conditions if conditions is not None else
                 {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def saml_setup(server, idp, conditions=None, max_session=3600):
    server.client("iam").create_saml_provider(Name=SAML_NAME, SAMLMetadataDocument=idp.metadata())
    return make_role(server, "SamlRole", saml_trust(conditions), max_session)


def name_qualifier(issuer=IDP, account=MANAGEMENT, name=SAML_NAME):
    digest = hashes.Hash(hashes.SHA1())
    digest.update(f"{issuer}{account}/{name}".encode())
    return base64.b64encode(digest.finalize()).decode()


# --- IAM OIDC providers ---------------------------------------------------------------------


def test_oidc_providers_are_made_read_changed_and_deleted_as_on_aws(fresh):
    iam = fresh.client("iam")
    made = iam.create_open_id_connect_provider(
        Url=ISSUER, ClientIDList=[AUDIENCE, AUDIENCE], ThumbprintList=["0123456789abcdef0123456789abcdef01234567"],
        Tags=[{"Key": "team", "Value": "ci"}])
    assert made["OpenIDConnectProviderArn"] == OIDC_ARN
    assert made["Tags"] == [{"Key": "team", "Value": "ci"}]
    e = raises(iam.create_open_id_connect_provider, Url=ISSUER, ClientIDList=["x"])
    assert err(e) == ("EntityAlreadyExists", 409, f"Provider with url {ISSUER} already exists.")

    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN)
    assert got["Url"] == HOST
    assert got["ClientIDList"] == [AUDIENCE]
    assert got["ThumbprintList"] == ["0123456789abcdef0123456789abcdef01234567"]
    assert got["Tags"] == [{"Key": "team", "Value": "ci"}]
    assert abs((datetime.datetime.now(datetime.timezone.utc) - got["CreateDate"]).total_seconds()) < 120

    # A provider with a path is named by it; providers list by ARN.
    iam.create_open_id_connect_provider(Url="https://oidc.example.com/id/ABC123")
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [
        f"arn:aws:iam::{MANAGEMENT}:oidc-provider/oidc.example.com/id/ABC123", OIDC_ARN]

    # Client IDs: adding one twice or removing one that isn't there are no errors.
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN, ClientID="app-2")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN, ClientID="app-2")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN, ClientID=AUDIENCE)
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN, ClientID="never")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN)["ClientIDList"] == ["app-2"]

    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=OIDC_ARN, ThumbprintList=["b" * 40, "c" * 40])
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN)["ThumbprintList"] == ["b" * 40, "c" * 40]
    e = raises(iam.update_open_id_connect_provider_thumbprint, OpenIDConnectProviderArn=OIDC_ARN, ThumbprintList=["d" * 40] * 6)
    assert err(e) == ("InvalidInput", 400, "Thumbprint list must contain fewer than 5 entries.")

    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN, Tags=[{"Key": "env", "Value": "prod"}])
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN, TagKeys=["team"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=OIDC_ARN)["Tags"] == [{"Key": "env", "Value": "prod"}]

    # Deleting is idempotent; what is gone is NoSuchEntity.
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN)
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=OIDC_ARN)
    for call in (iam.get_open_id_connect_provider, iam.list_open_id_connect_provider_tags):
        e = raises(call, OpenIDConnectProviderArn=OIDC_ARN)
        assert err(e) == ("NoSuchEntity", 404, f"OpenIDConnect Provider not found for arn {OIDC_ARN}")
    e = raises(iam.add_client_id_to_open_id_connect_provider, OpenIDConnectProviderArn=OIDC_ARN, ClientID="x")
    assert err(e)[0] == "NoSuchEntity"


def test_oidc_provider_input_is_checked_as_aws_checks_it(fresh):
    iam = fresh.client("iam", parameter_validation=False)
    for url in ("http://token.example.com", "https://", "token.example.com", "https://a.example.com/x?y=1"):
        e = raises(iam.create_open_id_connect_provider, Url=url)
        assert err(e) == ("ValidationError", 400, "Invalid Open ID Connect Provider URL"), url
    e = raises(iam.create_open_id_connect_provider, Url=ISSUER, ThumbprintList=["a" * 39])
    assert err(e)[0] == "ValidationError" and "thumbprintList" in err(e)[2]
    e = raises(iam.create_open_id_connect_provider, Url=ISSUER, ThumbprintList=["a" * 40] * 6)
    assert err(e) == ("InvalidInput", 400, "Thumbprint list must contain fewer than 5 entries.")
    e = raises(iam.create_open_id_connect_provider, Url=ISSUER, ClientIDList=[f"c{i}" for i in range(101)])
    assert err(e) == ("LimitExceeded", 409, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
    e = raises(iam.get_open_id_connect_provider, OpenIDConnectProviderArn=f"arn:aws:iam::{MANAGEMENT}:user/someone")
    assert err(e)[0] == "InvalidInput"
    # Nothing was made by the refused calls.
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_oidc_keys_are_put_with_the_admin_command(fresh, tmpdir_path):
    fresh.client("iam").create_open_id_connect_provider(Url=ISSUER, ClientIDList=[AUDIENCE])
    rsa_issuer, ec_issuer = RsaIssuer(), EcIssuer()
    out = put_keys(fresh, tmpdir_path, rsa_issuer.jwk(), ec_issuer.jwk())
    assert out == {"OpenIDConnectProviderArn": OIDC_ARN, "Keys": [
        {"kid": "rsa-1", "kty": "RSA", "alg": "RS256"}, {"kid": "ec-1", "kty": "EC", "alg": None}]}
    with open(f"{tmpdir_path}/bad.json", "w") as f:
        f.write('{"keys": [{"kty": "RSA", "n": "!!"}]}')
    p = subprocess.run([BINARY, "admin", "put-oidc-keys", "--provider-arn", OIDC_ARN, "--jwks-file",
                        f"{tmpdir_path}/bad.json", "--data-dir", fresh.data_dir], capture_output=True, text=True)
    assert p.returncode != 0 and "base64url" in p.stderr
    p = subprocess.run([BINARY, "admin", "put-oidc-keys", "--provider-arn", OIDC_ARN + "x", "--jwks-file",
                        f"{tmpdir_path}/jwks.json", "--data-dir", fresh.data_dir], capture_output=True, text=True)
    assert p.returncode != 0 and "not found" in p.stderr


# --- AssumeRoleWithWebIdentity --------------------------------------------------------------


def test_web_identity_tokens_become_role_sessions(fresh, tmpdir_path):
    rsa_issuer, ec_issuer = RsaIssuer(), EcIssuer()
    role = oidc_setup(fresh, tmpdir_path, issuers=(rsa_issuer, ec_issuer))
    sts = unsigned_sts(fresh)
    for issuer in (rsa_issuer, ec_issuer):
        out = sts.assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="ci-run", WebIdentityToken=issuer.token(claims(fresh)), DurationSeconds=900)
        assert out["SubjectFromWebIdentityToken"] == SUBJECT
        assert out["Provider"] == OIDC_ARN
        assert out["Audience"] == AUDIENCE
        assert out["AssumedRoleUser"] == {
            "AssumedRoleId": f"{role['RoleId']}:ci-run",
            "Arn": f"arn:aws:sts::{MANAGEMENT}:assumed-role/WebRole/ci-run"}
        assert "PackedPolicySize" not in out and "SourceIdentity" not in out
        c = out["Credentials"]
        assert c["AccessKeyId"].startswith("ASIA")
        left = (c["Expiration"] - server_now(fresh)).total_seconds()
        assert 890 < left <= 900
        me = fresh.client("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"]).get_caller_identity()
        assert (me["Arn"], me["UserId"], me["Account"]) == (
            f"arn:aws:sts::{MANAGEMENT}:assumed-role/WebRole/ci-run", f"{role['RoleId']}:ci-run", MANAGEMENT)

    # The AWS CLI sends the call unsigned too.
    token = rsa_issuer.token(claims(fresh))
    _, stdout, _ = fresh.cli("sts", "assume-role-with-web-identity", "--role-arn", role["Arn"],
                             "--role-session-name", "cli", "--web-identity-token", token)
    out = json.loads(stdout)
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/WebRole/cli"
    assert out["SubjectFromWebIdentityToken"] == SUBJECT

    # A session policy narrows it and is counted.
    out = sts.assume_role_with_web_identity(
        RoleArn=role["Arn"], RoleSessionName="narrow", WebIdentityToken=token,
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}))
    assert 1 <= out["PackedPolicySize"] <= 100
    c = out["Credentials"]
    iam = fresh.client("iam", key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])
    e = raises(iam.list_users)
    assert err(e)[0] == "AccessDenied"


def test_web_identity_tokens_carry_session_tags_and_source_identity(fresh, tmpdir_path):
    issuer = RsaIssuer()
    trust = json.loads(web_trust({"StringEquals": {f"{HOST}:aud": AUDIENCE}}))
    trust["Statement"][0]["Action"] = ["sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity"]
    fresh.client("iam").create_open_id_connect_provider(Url=ISSUER, ClientIDList=[AUDIENCE])
    put_keys(fresh, tmpdir_path, issuer.jwk())
    role = make_role(fresh, "TaggedRole", json.dumps(trust))
    token = issuer.token(claims(fresh, **{
        "https://aws.amazon.com/tags": {"principal_tags": {"team": ["blue"]}, "transitive_tag_keys": ["team"]},
        "https://aws.amazon.com/source_identity": "alice"}))
    out = unsigned_sts(fresh).assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="tagged", WebIdentityToken=token)
    assert out["SourceIdentity"] == "alice"
    assert out["PackedPolicySize"] >= 1
    # Without sts:TagSession in the trust policy the tags are refused.
    role2 = make_role(fresh, "UntaggedRole", web_trust({"StringEquals": {f"{HOST}:aud": AUDIENCE}}))
    e = raises(unsigned_sts(fresh).assume_role_with_web_identity, RoleArn=role2["Arn"], RoleSessionName="tt", WebIdentityToken=token)
    assert err(e) == ("AccessDenied", 403, "Not authorized to perform sts:TagSession")


def test_web_identity_refusals(fresh, tmpdir_path):
    issuer, stranger = RsaIssuer(), RsaIssuer()
    role = oidc_setup(fresh, tmpdir_path, issuers=(issuer,))
    sts = unsigned_sts(fresh)

    def refused(token, **kwargs):
        args = {"RoleArn": role["Arn"], "RoleSessionName": "ss", "WebIdentityToken": token, **kwargs}
        return err(raises(sts.assume_role_with_web_identity, **args))

    assert refused(issuer.token(claims(fresh, aud="someone-else"))) == (
        "InvalidIdentityToken", 400, "Incorrect token audience")
    assert refused(issuer.token(claims(fresh, iss="https://other.example.com"))) == (
        "InvalidIdentityToken", 400, "No OpenIDConnect provider found in your account for https://other.example.com")
    now = int(server_now(fresh).timestamp())
    code, status, message = refused(issuer.token(claims(fresh, exp=now - 400)))
    assert (code, status) == ("ExpiredTokenException", 400)
    m = re.fullmatch(r"Token expired: current date/time (\d+) must be before the expiration date/time (\d+)", message)
    assert m and int(m.group(2)) == now - 400 and abs(int(m.group(1)) - now) < 60
    # Within AWS's five minutes of leeway a token is still good.
    sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="ss", WebIdentityToken=issuer.token(claims(fresh, exp=now - 60)))
    # Signed by another key under the same key id, or altered after signing.
    bad = "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."
    assert refused(stranger.token(claims(fresh), kid=issuer.kid)) == ("InvalidIdentityToken", 400, bad)
    head, body, sig = issuer.token(claims(fresh)).split(".")
    forged = b64url(json.dumps(claims(fresh, sub="repo:evil/app:ref:refs/heads/main")).encode())
    assert refused(f"{head}.{forged}.{sig}") == ("InvalidIdentityToken", 400, bad)
    # A key the provider does not have.
    assert refused(stranger.token(claims(fresh), kid="unknown"))[2].startswith("Couldn't retrieve verification key")
    assert refused("not-a-jwt")[:2] == ("InvalidIdentityToken", 400)
    # The trust policy's conditions: another subject is not this role's.
    assert refused(issuer.token(claims(fresh, sub="repo:example/other:ref:refs/heads/main"))) == (
        "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    e = raises(sts.assume_role_with_web_identity, RoleArn=f"arn:aws:iam::{MANAGEMENT}:role/Missing",
               RoleSessionName="ss", WebIdentityToken=issuer.token(claims(fresh)))
    assert err(e) == ("AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    # A role that trusts the account, not the provider, is not for web identities.
    other = make_role(fresh, "AccountRole", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}))
    e = raises(sts.assume_role_with_web_identity, RoleArn=other["Arn"], RoleSessionName="ss", WebIdentityToken=issuer.token(claims(fresh)))
    assert err(e)[0] == "AccessDenied"
    # Parameters, session policies, durations.
    assert refused(issuer.token(claims(fresh)), DurationSeconds=7200) == (
        "ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    assert refused(issuer.token(claims(fresh)), Policy="{not json")[0] == "MalformedPolicyDocument"
    big = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::bucket-{i:04d}/*"} for i in range(40)]})
    assert refused(issuer.token(claims(fresh)), Policy=big)[0] in ("PackedPolicyTooLarge", "ValidationError")
    assert refused(issuer.token(claims(fresh)), RoleSessionName="bad name")[0] == "ValidationError"
    # Signed calls of other STS operations still need a signature.
    e = raises(sts.get_caller_identity)
    assert err(e)[0] == "MissingAuthenticationToken"


def test_web_identity_calls_are_recorded_as_aws_records_them(fresh, tmpdir_path):
    issuer = RsaIssuer()
    role = oidc_setup(fresh, tmpdir_path, issuers=(issuer,))
    out = unsigned_sts(fresh).assume_role_with_web_identity(
        RoleArn=role["Arn"], RoleSessionName="recorded", WebIdentityToken=issuer.token(claims(fresh)))
    c = out["Credentials"]
    me = fresh.client("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"]).get_caller_identity()
    e = raises(unsigned_sts(fresh).assume_role_with_web_identity, RoleArn=role["Arn"], RoleSessionName="refused",
               WebIdentityToken=issuer.token(claims(fresh, aud="nope")))

    records = lookup(fresh.client("cloudtrail", region="us-east-1"), "AssumeRoleWithWebIdentity")
    [ok] = [r for r in records if r["requestID"] == out["ResponseMetadata"]["RequestId"]]
    assert ok["userIdentity"] == {
        "type": "WebIdentityUser",
        "principalId": f"{OIDC_ARN}:{AUDIENCE}:{SUBJECT}",
        "userName": SUBJECT,
        "identityProvider": OIDC_ARN,
    }
    assert ok["recipientAccountId"] == MANAGEMENT
    assert ok["requestParameters"] == {"roleArn": role["Arn"], "roleSessionName": "recorded"}
    assert "secretAccessKey" not in ok["responseElements"]["credentials"]
    assert ok["responseElements"]["subjectFromWebIdentityToken"] == SUBJECT
    assert ok["responseElements"]["provider"] == OIDC_ARN
    assert ok["responseElements"]["audience"] == AUDIENCE
    [no] = [r for r in records if r["requestID"] == e.value.response["ResponseMetadata"]["RequestId"]]
    assert (no["errorCode"], no["errorMessage"]) == ("InvalidIdentityToken", "Incorrect token audience")
    assert no["userIdentity"]["principalId"] == f"{OIDC_ARN}:nope:{SUBJECT}"

    # What the session does is recorded as the role session, naming the provider.
    [mine] = [r for r in lookup(fresh.client("cloudtrail"), "GetCallerIdentity")
              if r["requestID"] == me["ResponseMetadata"]["RequestId"]]
    ui = mine["userIdentity"]
    assert ui["type"] == "AssumedRole"
    assert ui["arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/WebRole/recorded"
    assert ui["sessionContext"]["sessionIssuer"]["arn"] == role["Arn"]
    assert ui["sessionContext"]["webIdFederationData"] == {"federatedProvider": OIDC_ARN, "attributes": {}}


# --- IAM SAML providers ---------------------------------------------------------------------


def test_saml_providers_are_made_read_changed_and_deleted_as_on_aws(fresh):
    iam = fresh.client("iam")
    idp = Idp()
    made = iam.create_saml_provider(Name=SAML_NAME, SAMLMetadataDocument=idp.metadata(), Tags=[{"Key": "team", "Value": "it"}])
    assert made["SAMLProviderArn"] == SAML_ARN
    assert made["Tags"] == [{"Key": "team", "Value": "it"}]
    got = iam.get_saml_provider(SAMLProviderArn=SAML_ARN)
    assert got["SAMLMetadataDocument"] == idp.metadata()
    assert re.fullmatch(r"SAML[A-Z2-7]{18}", got["SAMLProviderUUID"])
    assert got["ValidUntil"] == got["CreateDate"].replace(year=got["CreateDate"].year + 100)
    assert got["Tags"] == [{"Key": "team", "Value": "it"}]
    assert "AssertionEncryptionMode" not in got and "PrivateKeyList" not in got
    # The name is matched without regard to case.
    iam.get_saml_provider(SAMLProviderArn=SAML_ARN.replace(SAML_NAME, SAML_NAME.upper()))
    e = raises(iam.create_saml_provider, Name=SAML_NAME.lower(), SAMLMetadataDocument=idp.metadata())
    assert err(e) == ("EntityAlreadyExists", 409, f"Provider with name {SAML_NAME.lower()} already exists.")
    [listed] = iam.list_saml_providers()["SAMLProviderList"]
    assert listed == {"Arn": SAML_ARN, "ValidUntil": got["ValidUntil"], "CreateDate": got["CreateDate"]}

    # A new document, with a validUntil of its own.
    other = Idp("https://idp2.example.com/saml")
    assert iam.update_saml_provider(SAMLProviderArn=SAML_ARN, SAMLMetadataDocument=other.metadata("2031-01-02T03:04:05Z"))[
        "SAMLProviderArn"] == SAML_ARN
    got = iam.get_saml_provider(SAMLProviderArn=SAML_ARN)
    assert got["SAMLMetadataDocument"] == other.metadata("2031-01-02T03:04:05Z")
    assert got["ValidUntil"] == datetime.datetime(2031, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    e = raises(iam.update_saml_provider, SAMLProviderArn=SAML_ARN)
    assert err(e) == ("InvalidInput", 400, "No updates are defined")

    iam.tag_saml_provider(SAMLProviderArn=SAML_ARN, Tags=[{"Key": "env", "Value": "prod"}])
    iam.untag_saml_provider(SAMLProviderArn=SAML_ARN, TagKeys=["team"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=SAML_ARN)["Tags"] == [{"Key": "env", "Value": "prod"}]

    iam.delete_saml_provider(SAMLProviderArn=SAML_ARN)
    for call in (iam.get_saml_provider, iam.delete_saml_provider):
        e = raises(call, SAMLProviderArn=SAML_ARN)
        assert err(e) == ("NoSuchEntity", 404, f"Manifest not found for arn {SAML_ARN}")


def test_saml_provider_input_is_checked_as_aws_checks_it(fresh):
    iam = fresh.client("iam", parameter_validation=False)
    idp = Idp()
    e = raises(iam.create_saml_provider, Name="has space", SAMLMetadataDocument=idp.metadata())
    assert err(e)[0] == "InvalidInput" and "must be 1 to 128" in err(e)[2]
    e = raises(iam.create_saml_provider, Name="n" * 129, SAMLMetadataDocument=idp.metadata())
    assert err(e)[0] == "ValidationError"
    e = raises(iam.create_saml_provider, Name="p", SAMLMetadataDocument="<short/>")
    assert err(e)[0] == "ValidationError" and "greater than or equal to 1000" in err(e)[2]
    for doc in ("<a>" + "x" * 1000 + "</a>", idp.metadata().replace(idp.cert_b64(), "bm90IGEgY2VydA==" * 70)):
        e = raises(iam.create_saml_provider, Name="p", SAMLMetadataDocument=doc)
        assert err(e) == ("InvalidInput", 400, "Could not parse metadata")
    e = raises(iam.create_saml_provider, Name="p", SAMLMetadataDocument=idp.metadata(), AssertionEncryptionMode="Required")
    assert err(e)[:2] == ("NotImplemented", 501)
    assert iam.list_saml_providers()["SAMLProviderList"] == []


# --- AssumeRoleWithSAML ---------------------------------------------------------------------


def test_saml_assertions_become_role_sessions(fresh):
    idp = Idp()
    role = saml_setup(fresh, idp, max_session=7200)
    now = server_now(fresh)
    for sign in ("assertion", "response"):
        out = unsigned_sts(fresh).assume_role_with_saml(
            RoleArn=role["Arn"], PrincipalArn=SAML_ARN, SAMLAssertion=idp.response(now, role["Arn"], sign=sign))
        assert out["AssumedRoleUser"] == {
            "AssumedRoleId": f"{role['RoleId']}:alice",
            "Arn": f"arn:aws:sts::{MANAGEMENT}:assumed-role/SamlRole/alice"}
        assert out["Subject"] == "alice@example.com"
        assert out["SubjectType"] == "persistent"
        assert out["Issuer"] == IDP
        assert out["Audience"] == "https://signin.aws.amazon.com/saml"
        assert out["NameQualifier"] == name_qualifier()
        c = out["Credentials"]
        left = (c["Expiration"] - server_now(fresh)).total_seconds()
        assert 3590 < left <= 3600
        me = fresh.client("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"]).get_caller_identity()
        assert me["Arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/SamlRole/alice"

    # SessionDuration from the IdP; DurationSeconds wins over it.
    attrs = [("https://aws.amazon.com/SAML/Attributes/SessionDuration", ["7200"]),
             ("https://aws.amazon.com/SAML/Attributes/SourceIdentity", ["alice"])]
    trust = json.loads(saml_trust())
    trust["Statement"][0]["Action"] = ["sts:AssumeRoleWithSAML", "sts:SetSourceIdentity"]
    fresh.client("iam").update_assume_role_policy(RoleName="SamlRole", PolicyDocument=json.dumps(trust))
    out = unsigned_sts(fresh).assume_role_with_saml(
        RoleArn=role["Arn"], PrincipalArn=SAML_ARN, SAMLAssertion=idp.response(now, role["Arn"], attributes=attrs))
    assert 7190 < (out["Credentials"]["Expiration"] - server_now(fresh)).total_seconds() <= 7200
    assert out["SourceIdentity"] == "alice"
    out = unsigned_sts(fresh).assume_role_with_saml(
        RoleArn=role["Arn"], PrincipalArn=SAML_ARN, SAMLAssertion=idp.response(now, role["Arn"], attributes=attrs),
        DurationSeconds=1000)
    assert 990 < (out["Credentials"]["Expiration"] - server_now(fresh)).total_seconds() <= 1000

    # The AWS CLI sends it unsigned.
    _, stdout, _ = fresh.cli("sts", "assume-role-with-saml", "--role-arn", role["Arn"], "--principal-arn", SAML_ARN,
                             "--saml-assertion", idp.response(now, role["Arn"], session_name="cli-user"))
    assert json.loads(stdout)["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/SamlRole/cli-user"


def test_saml_refusals(fresh):
    idp, stranger = Idp(), Idp()
    role = saml_setup(fresh, idp, conditions={"StringEquals": {
        "SAML:aud": "https://signin.aws.amazon.com/saml", "saml:sub": "alice@example.com"}})
    now = server_now(fresh)
    sts = unsigned_sts(fresh)

    def refused(assertion, **kwargs):
        args = {"RoleArn": role["Arn"], "PrincipalArn": SAML_ARN, "SAMLAssertion": assertion, **kwargs}
        return err(raises(sts.assume_role_with_saml, **args))

    signature = ("InvalidIdentityToken", 400, "Response signature invalid")
    assert refused(idp.response(now, role["Arn"], signer=stranger)) == signature
    assert refused(idp.response(now, role["Arn"], sign=None)) == signature

    def rename(root):
        root.find(".//saml:NameID", NS).text = "mallory@example.com"

    assert refused(idp.response(now, role["Arn"], tamper=rename)) == signature

    def other_role(root):
        root.find(".//saml:AttributeValue", NS).text = f"arn:aws:iam::{MANAGEMENT}:role/Admin,{SAML_ARN}"

    assert refused(idp.response(now, role["Arn"], tamper=other_role)) == signature
    # Issued too long ago, or already past its conditions.
    assert refused(idp.response(now, role["Arn"], issued=now - datetime.timedelta(minutes=10), lifetime=3600)) == (
        "ExpiredTokenException", 400, "Token must be redeemed within 5 minutes of issuance")
    code, status, _ = refused(idp.response(now - datetime.timedelta(seconds=200), role["Arn"], lifetime=100))
    assert (code, status) == ("ExpiredTokenException", 400)
    # Not for AWS.
    assert refused(idp.response(now, role["Arn"], audience="https://elsewhere.example.com"))[:2] == ("InvalidIdentityToken", 400)
    # The Role attribute must pair this role with this provider.
    other = make_role(fresh, "OtherRole", saml_trust())
    e = raises(sts.assume_role_with_saml, RoleArn=other["Arn"], PrincipalArn=SAML_ARN, SAMLAssertion=idp.response(now, role["Arn"]))
    assert err(e) == ("AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithSAML")
    # The trust policy's conditions.
    assert refused(idp.response(now, role["Arn"], subject="bob@example.com")) == (
        "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithSAML")
    assert refused(idp.response(now, role["Arn"]), PrincipalArn=f"arn:aws:iam::{MANAGEMENT}:saml-provider/Nope") == (
        "InvalidIdentityToken", 400, "Specified provider doesn't exist")
    assert refused(base64.b64encode(b"<not-saml/>").decode())[:2] == ("InvalidIdentityToken", 400)
    assert refused(idp.response(now, role["Arn"]), DurationSeconds=7200) == (
        "ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    assert refused(idp.response(now, role["Arn"]), Policy="[]")[0] == "MalformedPolicyDocument"
    # And the good one still works after all that.
    sts.assume_role_with_saml(RoleArn=role["Arn"], PrincipalArn=SAML_ARN, SAMLAssertion=idp.response(now, role["Arn"]))


def test_saml_calls_are_recorded_as_aws_records_them(fresh):
    idp = Idp()
    role = saml_setup(fresh, idp)
    now = server_now(fresh)
    assertion = idp.response(now, role["Arn"])
    out = unsigned_sts(fresh).assume_role_with_saml(RoleArn=role["Arn"], PrincipalArn=SAML_ARN, SAMLAssertion=assertion)
    c = out["Credentials"]
    me = fresh.client("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"]).get_caller_identity()
    [rec] = [r for r in lookup(fresh.client("cloudtrail", region="us-east-1"), "AssumeRoleWithSAML")
             if r["requestID"] == out["ResponseMetadata"]["RequestId"]]
    assert rec["userIdentity"] == {
        "type": "SAMLUser",
        "principalId": f"{name_qualifier()}:alice@example.com",
        "userName": "alice@example.com",
        "identityProvider": name_qualifier(),
    }
    assertion_id = etree.fromstring(base64.b64decode(assertion)).find("saml:Assertion", NS).get("ID")
    assert rec["requestParameters"] == {
        "sAMLAssertionID": assertion_id, "roleSessionName": "alice", "roleArn": role["Arn"], "principalArn": SAML_ARN}
    assert rec["responseElements"]["nameQualifier"] == name_qualifier()
    assert rec["responseElements"]["subjectType"] == "persistent"
    [mine] = [r for r in lookup(fresh.client("cloudtrail"), "GetCallerIdentity")
              if r["requestID"] == me["ResponseMetadata"]["RequestId"]]
    assert mine["userIdentity"]["type"] == "AssumedRole"
    assert mine["userIdentity"]["sessionContext"]["webIdFederationData"] == {}

//! Table-driven tests of the policy engine. Every table row states the outcome that the rule it
//! names requires, so breaking the rule breaks the row.

use super::matching::{arn_match, can_match_with_prefix, glob, tokenize};
use super::values::{parse_date, Cidr};
use super::*;

const MGMT: &str = "111111111111";
const MEMBER: &str = "222222222222";
const OUTSIDER: &str = "333333333333";
const ORG: &str = "o-exampleorgid";
const BUCKET: &str = "myOrganizationBucket";
const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:111111111111:trail/OrgTrail";

fn bucket_kind() -> PolicyKind {
    PolicyKind::Bucket {
        bucket: BUCKET.to_string(),
    }
}

fn parse(text: &str, kind: &PolicyKind) -> Policy {
    match Policy::parse(text, kind) {
        Ok(p) => p,
        Err(e) => panic!("policy rejected: {}\n{text}", e.message),
    }
}

fn user(account: &str, name: &str) -> Caller {
    Caller::user(
        &format!("arn:aws:iam::{account}:user/{name}"),
        "AIDAEXAMPLEUSERID0001",
    )
}

fn session(account: &str, role_path_and_name: &str, session: &str) -> Caller {
    Caller::assumed_role(
        &format!("arn:aws:iam::{account}:role/{role_path_and_name}"),
        session,
        "AROAEXAMPLEROLEID0001",
    )
}

fn cloudtrail() -> Caller {
    Caller::service("cloudtrail.amazonaws.com")
}

fn ctx(pairs: &[(&str, &str)]) -> Context {
    let mut c = Context::new();
    for (k, v) in pairs {
        c.set(k, *v);
    }
    c
}

fn eval(
    policy: &Policy,
    caller: &Caller,
    action: &str,
    resource: &str,
    context: &Context,
) -> Effect {
    evaluate(
        policy,
        &Request {
            caller,
            action,
            resource,
            context,
        },
    )
}

const ALLOW: Effect = Effect::Allow { direct: true };
const DELEGATED: Effect = Effect::Allow { direct: false };

// ---------------------------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------------------------

fn bucket_statement(body: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{{body}}}]}}"#)
}

const OK: &str = "";

#[test]
fn bucket_policy_validation() {
    let obj = "arn:aws:s3:::myOrganizationBucket/*";
    let bkt = "arn:aws:s3:::myOrganizationBucket";
    let p_any = r#""Effect":"Allow","Principal":"*""#;
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "valid minimal",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            OK,
        ),
        (
            "single statement object",
            format!(r#"{{"Statement":{{{p_any},"Action":"s3:GetObject","Resource":"{obj}"}}}}"#),
            OK,
        ),
        (
            "leading whitespace tolerated",
            format!(
                "\n  {}",
                bucket_statement(&format!(
                    r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}""#
                ))
            ),
            OK,
        ),
        (
            "not JSON",
            "hello".to_string(),
            "Policies must be valid JSON and the first byte must be '{'",
        ),
        (
            "array at top",
            "[]".to_string(),
            "Policies must be valid JSON and the first byte must be '{'",
        ),
        (
            "truncated JSON",
            r#"{"Statement":[{"Effect":"Allow""#.to_string(),
            "Policies must be valid JSON and the first byte must be '{'",
        ),
        (
            "trailing garbage",
            format!(
                "{} x",
                bucket_statement(&format!(
                    r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}""#
                ))
            ),
            "Policies must be valid JSON and the first byte must be '{'",
        ),
        (
            "missing Statement",
            r#"{"Version":"2012-10-17"}"#.to_string(),
            "Missing required field Statement",
        ),
        (
            "empty Statement",
            r#"{"Version":"2012-10-17","Statement":[]}"#.to_string(),
            "Missing required field Statement",
        ),
        (
            "unknown top-level field",
            r#"{"Version":"2012-10-17","Statements":[]}"#.to_string(),
            "Unknown field Statements",
        ),
        (
            "unknown statement field",
            bucket_statement(&format!(
                r#"{p_any},"Actions":"s3:GetObject","Resource":"{obj}""#
            )),
            "Unknown field Actions",
        ),
        (
            "bad version",
            format!(
                r#"{{"Version":"2020-01-01","Statement":{{{p_any},"Action":"s3:GetObject","Resource":"{obj}"}}}}"#
            ),
            "Invalid policy version: 2020-01-01",
        ),
        (
            "2008 version accepted",
            format!(
                r#"{{"Version":"2008-10-17","Statement":{{{p_any},"Action":"s3:GetObject","Resource":"{obj}"}}}}"#
            ),
            OK,
        ),
        (
            "missing Effect",
            bucket_statement(&format!(
                r#""Principal":"*","Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Missing required field Effect",
        ),
        (
            "lower-case effect",
            bucket_statement(&format!(
                r#""Effect":"allow","Principal":"*","Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid effect: allow",
        ),
        (
            "missing Principal",
            bucket_statement(&format!(
                r#""Effect":"Allow","Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Missing required field Principal",
        ),
        (
            "missing Action",
            bucket_statement(&format!(r#"{p_any},"Resource":"{obj}""#)),
            "Missing required field Action",
        ),
        (
            "missing Resource",
            bucket_statement(&format!(r#"{p_any},"Action":"s3:GetObject""#)),
            "Missing required field Resource",
        ),
        (
            "Action and NotAction",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"{obj}""#
            )),
            "Statement cannot contain both Action and NotAction",
        ),
        (
            "Principal and NotPrincipal",
            bucket_statement(&format!(
                r#""Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Statement cannot contain both Principal and NotPrincipal",
        ),
        (
            "Resource and NotResource",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","NotResource":"{obj}""#
            )),
            "Statement cannot contain both Resource and NotResource",
        ),
        // Principals.
        (
            "principal AWS *",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            OK,
        ),
        (
            "principal account id",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"222222222222"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            OK,
        ),
        (
            "principal account id as number",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":222222222222}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            OK,
        ),
        (
            "principal root ARN",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::222222222222:root"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            OK,
        ),
        (
            "principal user with path",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::222222222222:user/division/alice"]}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            OK,
        ),
        (
            "principal role",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::222222222222:role/Reader"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            OK,
        ),
        (
            "principal session",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"arn:aws:sts::222222222222:assumed-role/Reader/s1"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            OK,
        ),
        (
            "principal service array",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"Service":["cloudtrail.amazonaws.com","config.amazonaws.com"]}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            OK,
        ),
        (
            "principal partial wildcard account",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::*:root"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid principal in policy",
        ),
        (
            "principal partial wildcard id",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"2222*"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid principal in policy",
        ),
        (
            "principal bare name",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"alice"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid principal in policy",
        ),
        (
            "principal group",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::222222222222:group/admins"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid principal in policy",
        ),
        (
            "principal short account",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"22222222222"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid principal in policy",
        ),
        (
            "principal unknown type",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"Robot":"x"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid principal in policy",
        ),
        (
            "principal string ARN",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":"arn:aws:iam::222222222222:root","Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid principal in policy",
        ),
        (
            "principal service without domain",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"Service":"cloudtrail"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid principal in policy",
        ),
        (
            "principal service wildcard",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"Service":"*"}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid principal in policy",
        ),
        (
            "principal empty list",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":[]}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid principal in policy",
        ),
        (
            "principal empty object",
            bucket_statement(&format!(
                r#""Effect":"Allow","Principal":{{}},"Action":"s3:GetObject","Resource":"{obj}""#
            )),
            "Invalid principal in policy",
        ),
        // Resources.
        (
            "resource other bucket",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"arn:aws:s3:::otherbucket/*""#
            )),
            "Policy has invalid resource",
        ),
        (
            "resource longer bucket name",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:ListBucket","Resource":"{bkt}x""#
            )),
            "Policy has invalid resource",
        ),
        (
            "resource name case differs",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"arn:aws:s3:::myorganizationbucket/*""#
            )),
            "Policy has invalid resource",
        ),
        (
            "resource not an ARN",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"myOrganizationBucket/*""#
            )),
            "Policy has invalid resource",
        ),
        (
            "resource one of several invalid",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":["{obj}","arn:aws:s3:::other/*"]"#
            )),
            "Policy has invalid resource",
        ),
        (
            "resource star",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"*""#
            )),
            OK,
        ),
        (
            "resource wildcard reaching bucket",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::myOrg*""#
            )),
            OK,
        ),
        (
            "resource with variable",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{bkt}/home/${{aws:username}}/*""#
            )),
            OK,
        ),
        (
            "resource not a string",
            bucket_statement(&format!(r#"{p_any},"Action":"s3:GetObject","Resource":42"#)),
            "Policy has invalid resource",
        ),
        // Actions.
        (
            "action other service",
            bucket_statement(&format!(
                r#"{p_any},"Action":"ec2:RunInstances","Resource":"{obj}""#
            )),
            "Policy has invalid action",
        ),
        (
            "action unknown S3 name",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:ListObjects","Resource":"{bkt}""#
            )),
            "Policy has invalid action",
        ),
        (
            "action without vendor",
            bucket_statement(&format!(
                r#"{p_any},"Action":"GetObject","Resource":"{obj}""#
            )),
            "Policy has invalid action",
        ),
        (
            "action wildcard matching nothing",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:Frobnicate*","Resource":"{obj}""#
            )),
            "Policy has invalid action",
        ),
        (
            "action empty list",
            bucket_statement(&format!(r#"{p_any},"Action":[],"Resource":"{obj}""#)),
            "Policy has invalid action",
        ),
        (
            "action lower-case",
            bucket_statement(&format!(
                r#"{p_any},"Action":"S3:getobject","Resource":"{obj}""#
            )),
            OK,
        ),
        (
            "action star",
            bucket_statement(&format!(r#"{p_any},"Action":"*","Resource":"{obj}""#)),
            OK,
        ),
        (
            "s3:* on objects",
            bucket_statement(&format!(r#"{p_any},"Action":"s3:*","Resource":"{obj}""#)),
            OK,
        ),
        (
            "s3:Get* on objects",
            bucket_statement(&format!(r#"{p_any},"Action":"s3:Get*","Resource":"{obj}""#)),
            OK,
        ),
        (
            "bucket action on objects",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetBucketAcl","Resource":"{obj}""#
            )),
            "Action does not apply to any resource(s) in statement",
        ),
        (
            "object action on bucket",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:PutObject","Resource":"{bkt}""#
            )),
            "Action does not apply to any resource(s) in statement",
        ),
        (
            "account action in bucket policy",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:ListAllMyBuckets","Resource":["{bkt}","{obj}"]"#
            )),
            "Action does not apply to any resource(s) in statement",
        ),
        (
            "one misplaced action among several",
            bucket_statement(&format!(
                r#"{p_any},"Action":["s3:PutObject","s3:ListBucket"],"Resource":"{obj}""#
            )),
            "Action does not apply to any resource(s) in statement",
        ),
        (
            "mixed actions on both resources",
            bucket_statement(&format!(
                r#"{p_any},"Action":["s3:PutObject","s3:ListBucket"],"Resource":["{bkt}","{obj}"]"#
            )),
            OK,
        ),
        (
            "NotAction skips the scope check",
            bucket_statement(&format!(
                r#""Effect":"Deny","Principal":"*","NotAction":"s3:GetBucketAcl","Resource":"{obj}""#
            )),
            OK,
        ),
        (
            "NotResource skips the scope check",
            bucket_statement(&format!(
                r#""Effect":"Deny","Principal":"*","Action":"s3:GetBucketAcl","NotResource":"{obj}""#
            )),
            OK,
        ),
        // Conditions.
        (
            "unknown condition operator",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","Condition":{{"StringEqualz":{{"aws:SourceArn":"x"}}}}"#
            )),
            "Invalid Condition type : StringEqualz",
        ),
        (
            "NullIfExists is not an operator",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","Condition":{{"NullIfExists":{{"aws:SourceArn":"true"}}}}"#
            )),
            "Invalid Condition type : NullIfExists",
        ),
        (
            "bad set qualifier",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","Condition":{{"ForSomeValues:StringEquals":{{"aws:TagKeys":"x"}}}}"#
            )),
            "Invalid Condition type : ForSomeValues:StringEquals",
        ),
        (
            "qualified IfExists operator",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","Condition":{{"ForAllValues:StringLikeIfExists":{{"aws:TagKeys":"x*"}}}}"#
            )),
            OK,
        ),
        (
            "condition key without vendor",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","Condition":{{"StringEquals":{{"SourceArn":"x"}}}}"#
            )),
            "Policy has an invalid condition key",
        ),
        (
            "bad CIDR",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","Condition":{{"IpAddress":{{"aws:SourceIp":"10.0.0.0/33"}}}}"#
            )),
            "Invalid Condition value for IpAddress : 10.0.0.0/33",
        ),
        (
            "bad number",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","Condition":{{"NumericLessThan":{{"s3:max-keys":"ten"}}}}"#
            )),
            "Invalid Condition value for NumericLessThan : ten",
        ),
        (
            "bad date",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","Condition":{{"DateLessThan":{{"aws:CurrentTime":"2024-02-30T00:00:00Z"}}}}"#
            )),
            "Invalid Condition value for DateLessThan : 2024-02-30T00:00:00Z",
        ),
        (
            "bad Null value",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","Condition":{{"Null":{{"aws:SourceArn":"maybe"}}}}"#
            )),
            "Invalid Condition value for Null : maybe",
        ),
        (
            "condition value object",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","Condition":{{"StringEquals":{{"aws:SourceArn":{{"a":1}}}}}}"#
            )),
            "Syntax errors in policy.",
        ),
        (
            "condition values numbers and bools",
            bucket_statement(&format!(
                r#"{p_any},"Action":"s3:GetObject","Resource":"{obj}","Condition":{{"StringEquals":{{"aws:SourceAccount":111111111111}},"Bool":{{"aws:SecureTransport":true}}}}"#
            )),
            OK,
        ),
        (
            "duplicate Sids allowed in bucket policies",
            format!(
                r#"{{"Statement":[{{"Sid":"A",{p_any},"Action":"s3:GetObject","Resource":"{obj}"}},{{"Sid":"A",{p_any},"Action":"s3:GetObject","Resource":"{obj}"}}]}}"#
            ),
            OK,
        ),
    ];
    for (name, text, expected) in cases {
        let got = Policy::parse(&text, &bucket_kind());
        match (expected, got) {
            (OK, Ok(p)) => assert_eq!(p.text(), text, "{name}: text must be kept verbatim"),
            (OK, Err(e)) => panic!("{name}: expected success, got {:?}", e.message),
            (msg, Ok(_)) => panic!("{name}: expected error {msg:?}, got success"),
            (msg, Err(e)) => assert_eq!(e.message, msg, "{name}"),
        }
    }
}

#[test]
fn bucket_policy_size_limit() {
    let bucket_statement = r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::myOrganizationBucket/*"}"#;
    let build = |statement: &str, target: usize| {
        let mut text = format!(r#"{{"Version":"2012-10-17","Statement":[{statement}"#);
        while text.len() + statement.len() + 3 < target {
            text.push(',');
            text.push_str(statement);
        }
        text.push_str("]}");
        // Pad with whitespace inside the JSON to reach the exact size.
        while text.len() < target {
            text.insert(text.len() - 2, ' ');
        }
        text
    };
    let at_limit = build(bucket_statement, BUCKET_POLICY_MAX_BYTES);
    assert_eq!(at_limit.len(), BUCKET_POLICY_MAX_BYTES);
    assert!(Policy::parse(&at_limit, &bucket_kind()).is_ok());
    let over = build(bucket_statement, BUCKET_POLICY_MAX_BYTES + 1);
    assert_eq!(over.len(), BUCKET_POLICY_MAX_BYTES + 1);
    assert_eq!(
        Policy::parse(&over, &bucket_kind()).unwrap_err().message,
        "Policy exceeds the maximum allowed document size."
    );
    // The 20 KB limit is S3's; identity documents are sized by IAM/STS, not here.
    let identity_statement = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#;
    let identity = build(identity_statement, 2 * BUCKET_POLICY_MAX_BYTES);
    assert!(Policy::parse(&identity, &PolicyKind::Identity).is_ok());
}

#[test]
fn identity_and_trust_validation() {
    let cases: Vec<(&str, PolicyKind, &str, &str)> = vec![
        (
            "identity admin",
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            OK,
        ),
        (
            "identity any service",
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":["ec2:*","organizations:List*"],"Resource":"*"}}"#,
            OK,
        ),
        (
            "identity with Principal",
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
            "Policy document should not specify a principal.",
        ),
        (
            "identity with NotPrincipal",
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"s3:*","Resource":"*"}}"#,
            "Policy document should not specify a principal.",
        ),
        (
            "identity missing Resource",
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*"}}"#,
            "Missing required field Resource",
        ),
        (
            "identity resource not ARN",
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"mybucket"}}"#,
            "Resource mybucket must be in ARN format or \"*\".",
        ),
        (
            "identity action without vendor",
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}"#,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            "identity condition key without vendor",
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"SourceIp":"x"}}}}"#,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            "identity duplicate Sid",
            PolicyKind::Identity,
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
            "Statement IDs (SID) in a single policy must be unique.",
        ),
        (
            "trust account root",
            PolicyKind::Trust,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#,
            OK,
        ),
        (
            "trust with Resource",
            PolicyKind::Trust,
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}"#,
            OK,
        ),
        (
            "trust federated",
            PolicyKind::Trust,
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#,
            OK,
        ),
        (
            "trust missing Principal",
            PolicyKind::Trust,
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
            "Missing required field Principal",
        ),
        (
            "trust bad principal",
            PolicyKind::Trust,
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::11111111111*:root"},"Action":"sts:AssumeRole"}]}"#,
            "Invalid principal in policy",
        ),
        (
            "trust unknown operator",
            PolicyKind::Trust,
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEqualz":{"sts:ExternalId":"x"}}}]}"#,
            "Invalid Condition type : StringEqualz",
        ),
        (
            "trust duplicate Sid",
            PolicyKind::Trust,
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Sid":"A","Effect":"Allow","Principal":"*","Action":"sts:TagSession"}]}"#,
            "Statement IDs (SID) in a single policy must be unique.",
        ),
    ];
    for (name, kind, text, expected) in cases {
        match (expected, Policy::parse(text, &kind)) {
            (OK, Ok(p)) => {
                assert_eq!(p.text(), text, "{name}");
                assert_eq!(p.kind(), &kind, "{name}");
            }
            (OK, Err(e)) => panic!("{name}: expected success, got {:?}", e.message),
            (msg, Ok(_)) => panic!("{name}: expected error {msg:?}, got success"),
            (msg, Err(e)) => assert_eq!(e.message, msg, "{name}"),
        }
    }
}

#[test]
fn policy_accessors() {
    let text = r#"{"Version":"2012-10-17","Id":"P1","Statement":[
        {"Effect":"Allow","Principal":{"AWS":["222222222222","arn:aws:iam::333333333333:user/bob","arn:aws:iam::222222222222:root"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::myOrganizationBucket/*"},
        {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::myOrganizationBucket"}]}"#;
    let p = parse(text, &bucket_kind());
    assert_eq!(p.version(), Some("2012-10-17"));
    assert_eq!(p.id(), Some("P1"));
    assert_eq!(p.statement_count(), 2);
    // Account ids are normalised and duplicates collapse; services are not IAM identities.
    assert_eq!(
        p.aws_principals(),
        vec![
            "arn:aws:iam::222222222222:root".to_string(),
            "arn:aws:iam::333333333333:user/bob".to_string()
        ]
    );
    let err = Policy::parse("nope", &PolicyKind::Identity).unwrap_err();
    assert_eq!(err.to_string(), err.message);
}

// ---------------------------------------------------------------------------------------------
// Wildcards, ARNs, typed values
// ---------------------------------------------------------------------------------------------

#[test]
fn glob_patterns() {
    let cases: &[(&str, &str, bool)] = &[
        ("*", "", true),
        ("*", "anything/at:all", true),
        ("a*", "a", true),
        ("a*b", "ab", true),
        ("a*b", "axxb", true),
        ("a*b", "axxbc", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("a?c", "abbc", false),
        (
            "*a*a*a*b",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            false,
        ),
        ("AWSLogs/111111111111/*", "AWSLogs/111111111111/", true),
        ("AWSLogs/111111111111/*", "AWSLogs/222222222222/x", false),
        ("Key", "key", false),
        ("x/*/z", "x/y/w/z", true),
    ];
    for (pat, text, expected) in cases {
        assert_eq!(
            glob(&tokenize(pat), text),
            *expected,
            "glob({pat:?}, {text:?})"
        );
    }
}

#[test]
fn prefix_reachability() {
    let prefix = "arn:aws:s3:::b/";
    let cases: &[(&str, bool)] = &[
        ("arn:aws:s3:::b/*", true),
        ("arn:aws:s3:::b/logs/*", true),
        ("arn:aws:s3:::b", false),
        ("arn:aws:s3:::*", true),
        ("arn:aws:s3:::?/x", true),
        ("arn:aws:s3:::bb/*", false),
        ("*", true),
        ("arn:aws:s3:::c*", false),
        ("arn:aws:s3:::b/", true),
    ];
    for (pat, expected) in cases {
        assert_eq!(
            can_match_with_prefix(&tokenize(pat), prefix),
            *expected,
            "{pat}"
        );
    }
}

#[test]
fn arn_part_matching() {
    let cases: &[(&str, &str, bool)] = &[
        (TRAIL_ARN, TRAIL_ARN, true),
        ("arn:aws:cloudtrail:*:111111111111:trail/*", TRAIL_ARN, true),
        (
            "arn:aws:cloudtrail:*:222222222222:trail/*",
            TRAIL_ARN,
            false,
        ),
        // Each part is matched on its own: a `*` in the region cannot swallow the account.
        (
            "arn:aws:cloudtrail:*:111111111111:trail/*",
            "arn:aws:cloudtrail:us-east-1:999999999999:trail/x:111111111111:trail/y",
            false,
        ),
        // The resource part keeps its own colons.
        (
            "arn:aws:logs:us-east-1:111111111111:log-group:*",
            "arn:aws:logs:us-east-1:111111111111:log-group:g:*",
            true,
        ),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/k", true),
        ("arn:aws:s3:::b/*", "not-an-arn", false),
        ("arn:aws:s3", "arn:aws:s3:::b", false),
        ("*", "anything", true),
        (
            "arn:aws:cloudtrail:us-east-1:111111111111:trail/orgtrail",
            TRAIL_ARN,
            false,
        ),
    ];
    for (pat, value, expected) in cases {
        assert_eq!(
            arn_match(&tokenize(pat), value),
            *expected,
            "{pat} vs {value}"
        );
    }
}

#[test]
fn date_parsing() {
    let base = parse_date("2024-06-01T12:00:00Z").unwrap();
    let cases: &[(&str, Option<i128>)] = &[
        ("1717243200", Some(base)),
        ("2024-06-01T14:00:00+02:00", Some(base)),
        ("2024-06-01T07:00:00-0500", Some(base)),
        ("2024-06-01T12:00Z", Some(base)),
        ("2024-06-01T12:00:00.250Z", Some(base + 250_000_000)),
        ("1717243200.5", Some(base + 500_000_000)),
        ("2024-06-01", Some(base - 12 * 3600 * 1_000_000_000)),
        ("1970-01-01T00:00:00Z", Some(0)),
        ("2024-02-29T00:00:00Z", parse_date("1709164800")),
        ("2023-02-29T00:00:00Z", None),
        ("2024-13-01", None),
        ("2024-06-01T25:00:00Z", None),
        ("yesterday", None),
        ("", None),
    ];
    for (s, expected) in cases {
        assert_eq!(parse_date(s), *expected, "{s}");
    }
}

#[test]
fn cidr_matching() {
    let cases: &[(&str, &str, bool)] = &[
        ("203.0.113.0/24", "203.0.113.7", true),
        ("203.0.113.0/24", "203.0.114.7", false),
        ("203.0.113.5/24", "203.0.113.200", true),
        ("10.0.0.1", "10.0.0.1", true),
        ("10.0.0.1", "10.0.0.2", false),
        ("0.0.0.0/0", "192.0.2.1", true),
        ("2001:db8::/32", "2001:db8:1::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("203.0.113.0/24", "::ffff:203.0.113.7", true),
        ("203.0.113.0/24", "2001:db8::1", false),
        ("2001:db8::/32", "203.0.113.7", false),
        ("203.0.113.0/24", "garbage", false),
    ];
    for (cidr, ip, expected) in cases {
        let block = Cidr::parse(cidr).unwrap();
        assert_eq!(block.contains(ip), *expected, "{cidr} contains {ip}");
    }
    for bad in [
        "10.0.0.0/33",
        "2001:db8::/129",
        "10.0.0/8",
        "10.0.0.0/",
        "x",
    ] {
        assert!(Cidr::parse(bad).is_none(), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

struct CondCase {
    name: &'static str,
    version: &'static str,
    condition: &'static str,
    context: &'static [(&'static str, &'static [&'static str])],
    expected: bool,
}

const V12: &str = "2012-10-17";
const V08: &str = "2008-10-17";

fn cond(
    name: &'static str,
    condition: &'static str,
    context: &'static [(&'static str, &'static [&'static str])],
    expected: bool,
) -> CondCase {
    CondCase {
        name,
        version: V12,
        condition,
        context,
        expected,
    }
}

/// Evaluates an identity policy whose only statement allows under `condition`.
fn condition_holds(version: &str, condition: &str, caller: &Caller, context: &Context) -> bool {
    let text = format!(
        r#"{{"Version":"{version}","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{condition}}}]}}"#
    );
    let p = parse(&text, &PolicyKind::Identity);
    match eval(&p, caller, "s3:GetObject", "arn:aws:s3:::b/k", context) {
        Effect::Allow { .. } => true,
        Effect::NoMatch => false,
        Effect::Deny => unreachable!("the policy has no Deny"),
    }
}

#[test]
fn condition_operators() {
    let cases = [
        // String operators.
        cond(
            "StringEquals match",
            r#"{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}"#,
            &[("s3:x-amz-acl", &["bucket-owner-full-control"])],
            true,
        ),
        cond(
            "StringEquals is case-sensitive",
            r#"{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}"#,
            &[("s3:x-amz-acl", &["Bucket-Owner-Full-Control"])],
            false,
        ),
        cond(
            "StringEquals absent key",
            r#"{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}"#,
            &[],
            false,
        ),
        cond(
            "StringEquals values are ORed",
            r#"{"StringEquals":{"s3:x-amz-acl":["private","bucket-owner-full-control"]}}"#,
            &[("s3:x-amz-acl", &["bucket-owner-full-control"])],
            true,
        ),
        cond(
            "StringEquals keys are ANDed (one missing)",
            r#"{"StringEquals":{"s3:x-amz-acl":"private","aws:SourceAccount":"111111111111"}}"#,
            &[("s3:x-amz-acl", &["private"])],
            false,
        ),
        cond(
            "StringEquals keys are ANDed (both)",
            r#"{"StringEquals":{"s3:x-amz-acl":"private","aws:SourceAccount":"111111111111"}}"#,
            &[
                ("s3:x-amz-acl", &["private"]),
                ("aws:SourceAccount", &["111111111111"]),
            ],
            true,
        ),
        cond(
            "StringEquals has no wildcards",
            r#"{"StringEquals":{"s3:prefix":"home/*"}}"#,
            &[("s3:prefix", &["home/alice"])],
            false,
        ),
        cond(
            "StringEquals literal star",
            r#"{"StringEquals":{"s3:prefix":"home/*"}}"#,
            &[("s3:prefix", &["home/*"])],
            true,
        ),
        cond(
            "StringEquals numeric JSON value",
            r#"{"StringEquals":{"aws:SourceAccount":111111111111}}"#,
            &[("aws:SourceAccount", &["111111111111"])],
            true,
        ),
        cond(
            "StringNotEquals differs",
            r#"{"StringNotEquals":{"s3:x-amz-acl":"public-read"}}"#,
            &[("s3:x-amz-acl", &["private"])],
            true,
        ),
        cond(
            "StringNotEquals equal",
            r#"{"StringNotEquals":{"s3:x-amz-acl":"private"}}"#,
            &[("s3:x-amz-acl", &["private"])],
            false,
        ),
        cond(
            "StringNotEquals absent is true",
            r#"{"StringNotEquals":{"aws:PrincipalOrgID":"o-exampleorgid"}}"#,
            &[],
            true,
        ),
        cond(
            "StringNotEquals must differ from all",
            r#"{"StringNotEquals":{"s3:x-amz-acl":["public-read","private"]}}"#,
            &[("s3:x-amz-acl", &["private"])],
            false,
        ),
        cond(
            "StringEqualsIgnoreCase",
            r#"{"StringEqualsIgnoreCase":{"s3:x-amz-acl":"bucket-owner-full-control"}}"#,
            &[("s3:x-amz-acl", &["BUCKET-owner-FULL-control"])],
            true,
        ),
        cond(
            "StringEqualsIgnoreCase mismatch",
            r#"{"StringEqualsIgnoreCase":{"s3:x-amz-acl":"bucket-owner-full-control"}}"#,
            &[("s3:x-amz-acl", &["private"])],
            false,
        ),
        cond(
            "StringNotEqualsIgnoreCase equal",
            r#"{"StringNotEqualsIgnoreCase":{"s3:x-amz-acl":"PRIVATE"}}"#,
            &[("s3:x-amz-acl", &["private"])],
            false,
        ),
        cond(
            "StringNotEqualsIgnoreCase absent",
            r#"{"StringNotEqualsIgnoreCase":{"s3:x-amz-acl":"PRIVATE"}}"#,
            &[],
            true,
        ),
        cond(
            "StringLike star",
            r#"{"StringLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111111111111:trail/*"}}"#,
            &[("aws:SourceArn", &[TRAIL_ARN])],
            true,
        ),
        cond(
            "StringLike other account",
            r#"{"StringLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111111111111:trail/*"}}"#,
            &[(
                "aws:SourceArn",
                &["arn:aws:cloudtrail:us-east-1:222222222222:trail/t"],
            )],
            false,
        ),
        cond(
            "StringLike question mark",
            r#"{"StringLike":{"s3:prefix":"home/?"}}"#,
            &[("s3:prefix", &["home/a"])],
            true,
        ),
        cond(
            "StringLike question mark is one char",
            r#"{"StringLike":{"s3:prefix":"home/?"}}"#,
            &[("s3:prefix", &["home/ab"])],
            false,
        ),
        cond(
            "StringLike is case-sensitive",
            r#"{"StringLike":{"s3:prefix":"Home/*"}}"#,
            &[("s3:prefix", &["home/x"])],
            false,
        ),
        cond(
            "StringLike absent",
            r#"{"StringLike":{"s3:prefix":"*"}}"#,
            &[],
            false,
        ),
        cond(
            "StringNotLike match",
            r#"{"StringNotLike":{"s3:prefix":"private/*"}}"#,
            &[("s3:prefix", &["private/x"])],
            false,
        ),
        cond(
            "StringNotLike no match",
            r#"{"StringNotLike":{"s3:prefix":"private/*"}}"#,
            &[("s3:prefix", &["public/x"])],
            true,
        ),
        cond(
            "StringNotLike absent",
            r#"{"StringNotLike":{"s3:prefix":"private/*"}}"#,
            &[],
            true,
        ),
        cond(
            "keys are case-insensitive (policy upper)",
            r#"{"StringEquals":{"AWS:SOURCEACCOUNT":"111111111111"}}"#,
            &[("aws:SourceAccount", &["111111111111"])],
            true,
        ),
        cond(
            "keys are case-insensitive (context lower)",
            r#"{"StringEquals":{"aws:SourceAccount":"111111111111"}}"#,
            &[("aws:sourceaccount", &["111111111111"])],
            true,
        ),
        cond(
            "operator names are case-insensitive",
            r#"{"stringequals":{"aws:SourceAccount":"111111111111"}}"#,
            &[("aws:SourceAccount", &["111111111111"])],
            true,
        ),
        cond(
            "IfExists absent",
            r#"{"StringEqualsIfExists":{"s3:x-amz-acl":"private"}}"#,
            &[],
            true,
        ),
        cond(
            "IfExists present mismatch",
            r#"{"StringEqualsIfExists":{"s3:x-amz-acl":"private"}}"#,
            &[("s3:x-amz-acl", &["public-read"])],
            false,
        ),
        cond(
            "IfExists present match",
            r#"{"StringLikeIfExists":{"s3:x-amz-acl":"priv*"}}"#,
            &[("s3:x-amz-acl", &["private"])],
            true,
        ),
        cond(
            "operators are ANDed",
            r#"{"StringEquals":{"s3:x-amz-acl":"private"},"Bool":{"aws:SecureTransport":"true"}}"#,
            &[
                ("s3:x-amz-acl", &["private"]),
                ("aws:SecureTransport", &["false"]),
            ],
            false,
        ),
        cond(
            "operators are ANDed (all hold)",
            r#"{"StringEquals":{"s3:x-amz-acl":"private"},"Bool":{"aws:SecureTransport":"true"}}"#,
            &[
                ("s3:x-amz-acl", &["private"]),
                ("aws:SecureTransport", &["true"]),
            ],
            true,
        ),
        // Numeric.
        cond(
            "NumericLessThan true",
            r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["5"])],
            true,
        ),
        cond(
            "NumericLessThan boundary",
            r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["10"])],
            false,
        ),
        cond(
            "NumericLessThanEquals boundary",
            r#"{"NumericLessThanEquals":{"s3:max-keys":10}}"#,
            &[("s3:max-keys", &["10"])],
            true,
        ),
        cond(
            "NumericGreaterThan",
            r#"{"NumericGreaterThan":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["11"])],
            true,
        ),
        cond(
            "NumericGreaterThan boundary",
            r#"{"NumericGreaterThan":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["10"])],
            false,
        ),
        cond(
            "NumericGreaterThanEquals",
            r#"{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["10"])],
            true,
        ),
        cond(
            "NumericEquals compares numbers",
            r#"{"NumericEquals":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["10.0"])],
            true,
        ),
        cond(
            "NumericEquals decimal",
            r#"{"NumericEquals":{"s3:max-keys":"2.5"}}"#,
            &[("s3:max-keys", &["2.50"])],
            true,
        ),
        cond(
            "NumericNotEquals",
            r#"{"NumericNotEquals":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["10"])],
            false,
        ),
        cond(
            "NumericNotEquals absent",
            r#"{"NumericNotEquals":{"s3:max-keys":"10"}}"#,
            &[],
            true,
        ),
        cond(
            "Numeric absent",
            r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
            &[],
            false,
        ),
        cond(
            "Numeric non-number request",
            r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["abc"])],
            false,
        ),
        cond(
            "NumericLessThanIfExists absent",
            r#"{"NumericLessThanIfExists":{"s3:max-keys":"10"}}"#,
            &[],
            true,
        ),
        // Date.
        cond(
            "DateLessThan ISO",
            r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
            &[("aws:CurrentTime", &["2024-06-01T12:00:00Z"])],
            true,
        ),
        cond(
            "DateLessThan ISO false",
            r#"{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#,
            &[("aws:CurrentTime", &["2024-06-01T12:00:00Z"])],
            false,
        ),
        cond(
            "DateGreaterThan epoch request",
            r#"{"DateGreaterThan":{"aws:EpochTime":"2024-01-01T00:00:00Z"}}"#,
            &[("aws:EpochTime", &["1717243200"])],
            true,
        ),
        cond(
            "DateEquals across zones",
            r#"{"DateEquals":{"aws:CurrentTime":"2024-06-01T14:00:00+02:00"}}"#,
            &[("aws:CurrentTime", &["2024-06-01T12:00:00Z"])],
            true,
        ),
        cond(
            "DateNotEquals",
            r#"{"DateNotEquals":{"aws:CurrentTime":"2024-06-01T12:00:00Z"}}"#,
            &[("aws:CurrentTime", &["1717243200"])],
            false,
        ),
        cond(
            "DateLessThanEquals boundary",
            r#"{"DateLessThanEquals":{"aws:CurrentTime":"2024-06-01"}}"#,
            &[("aws:CurrentTime", &["2024-06-01T00:00:00Z"])],
            true,
        ),
        cond(
            "DateGreaterThanEquals fraction",
            r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-06-01T12:00:00.5Z"}}"#,
            &[("aws:CurrentTime", &["2024-06-01T12:00:00Z"])],
            false,
        ),
        cond(
            "Date policy epoch number",
            r#"{"DateGreaterThan":{"aws:CurrentTime":1700000000}}"#,
            &[("aws:CurrentTime", &["2024-06-01T12:00:00Z"])],
            true,
        ),
        cond(
            "Date absent",
            r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01"}}"#,
            &[],
            false,
        ),
        // Bool and Binary.
        cond(
            "Bool true",
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            &[("aws:SecureTransport", &["true"])],
            true,
        ),
        cond(
            "Bool mismatch",
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            &[("aws:SecureTransport", &["false"])],
            false,
        ),
        cond(
            "Bool JSON boolean",
            r#"{"Bool":{"aws:SecureTransport":false}}"#,
            &[("aws:SecureTransport", &["false"])],
            true,
        ),
        cond(
            "Bool case-insensitive value",
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            &[("aws:SecureTransport", &["True"])],
            true,
        ),
        cond(
            "Bool absent",
            r#"{"Bool":{"aws:MultiFactorAuthPresent":"false"}}"#,
            &[],
            false,
        ),
        cond(
            "BoolIfExists absent",
            r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#,
            &[],
            true,
        ),
        cond(
            "BinaryEquals",
            r#"{"BinaryEquals":{"s3:x-amz-meta-key":"QmluYXJ5"}}"#,
            &[("s3:x-amz-meta-key", &["QmluYXJ5"])],
            true,
        ),
        cond(
            "BinaryEquals mismatch",
            r#"{"BinaryEquals":{"s3:x-amz-meta-key":"QmluYXJ5"}}"#,
            &[("s3:x-amz-meta-key", &["qmluyxj5"])],
            false,
        ),
        // IP.
        cond(
            "IpAddress inside",
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            &[("aws:SourceIp", &["203.0.113.7"])],
            true,
        ),
        cond(
            "IpAddress outside",
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            &[("aws:SourceIp", &["198.51.100.1"])],
            false,
        ),
        cond(
            "IpAddress list ORed",
            r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.0/24"]}}"#,
            &[("aws:SourceIp", &["198.51.100.1"])],
            true,
        ),
        cond(
            "IpAddress IPv6",
            r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#,
            &[("aws:SourceIp", &["2001:db8:1::1"])],
            true,
        ),
        cond(
            "IpAddress IPv6 outside",
            r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#,
            &[("aws:SourceIp", &["2001:db9::1"])],
            false,
        ),
        cond(
            "IpAddress absent",
            r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#,
            &[],
            false,
        ),
        cond(
            "NotIpAddress outside",
            r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            &[("aws:SourceIp", &["198.51.100.1"])],
            true,
        ),
        cond(
            "NotIpAddress inside",
            r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            &[("aws:SourceIp", &["203.0.113.9"])],
            false,
        ),
        cond(
            "NotIpAddress absent",
            r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            &[],
            true,
        ),
        // ARN.
        cond(
            "ArnLike",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111111111111:trail/*"}}"#,
            &[("aws:SourceArn", &[TRAIL_ARN])],
            true,
        ),
        cond(
            "ArnLike parts do not spill",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111111111111:trail/*"}}"#,
            &[(
                "aws:SourceArn",
                &["arn:aws:cloudtrail:us-east-1:999999999999:trail/x:111111111111:trail/y"],
            )],
            false,
        ),
        cond(
            "StringLike would spill where ArnLike does not",
            r#"{"StringLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111111111111:trail/*"}}"#,
            &[(
                "aws:SourceArn",
                &["arn:aws:cloudtrail:us-east-1:999999999999:trail/x:111111111111:trail/y"],
            )],
            true,
        ),
        cond(
            "ArnEquals exact",
            r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111111111111:trail/OrgTrail"}}"#,
            &[("aws:SourceArn", &[TRAIL_ARN])],
            true,
        ),
        cond(
            "ArnEquals is case-sensitive",
            r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111111111111:trail/orgtrail"}}"#,
            &[("aws:SourceArn", &[TRAIL_ARN])],
            false,
        ),
        cond(
            "ArnEquals accepts wildcards too",
            r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-?:111111111111:trail/*"}}"#,
            &[("aws:SourceArn", &[TRAIL_ARN])],
            true,
        ),
        cond(
            "ArnNotEquals same",
            r#"{"ArnNotEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111111111111:trail/OrgTrail"}}"#,
            &[("aws:SourceArn", &[TRAIL_ARN])],
            false,
        ),
        cond(
            "ArnNotLike other",
            r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:222222222222:*"}}"#,
            &[("aws:SourceArn", &[TRAIL_ARN])],
            true,
        ),
        cond(
            "ArnNotLike absent",
            r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:222222222222:*"}}"#,
            &[],
            true,
        ),
        cond(
            "ArnLike non-ARN request",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:*:*"}}"#,
            &[("aws:SourceArn", &["cloudtrail"])],
            false,
        ),
        // Null.
        cond(
            "Null true, absent",
            r#"{"Null":{"aws:SourceArn":"true"}}"#,
            &[],
            true,
        ),
        cond(
            "Null true, present",
            r#"{"Null":{"aws:SourceArn":"true"}}"#,
            &[("aws:SourceArn", &[TRAIL_ARN])],
            false,
        ),
        cond(
            "Null false, present",
            r#"{"Null":{"aws:SourceArn":false}}"#,
            &[("aws:SourceArn", &[TRAIL_ARN])],
            true,
        ),
        cond(
            "Null false, absent",
            r#"{"Null":{"aws:SourceArn":"false"}}"#,
            &[],
            false,
        ),
        cond(
            "Null on empty multivalued key",
            r#"{"Null":{"aws:TagKeys":"true"}}"#,
            &[("aws:TagKeys", &[])],
            true,
        ),
        // Set qualifiers.
        cond(
            "ForAnyValue one matches",
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            &[("aws:TagKeys", &["b", "c"])],
            true,
        ),
        cond(
            "ForAnyValue none matches",
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            &[("aws:TagKeys", &["c"])],
            false,
        ),
        cond(
            "ForAnyValue absent",
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            &[],
            false,
        ),
        cond(
            "ForAnyValue empty",
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            &[("aws:TagKeys", &[])],
            false,
        ),
        cond(
            "ForAllValues all match",
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            &[("aws:TagKeys", &["a", "b"])],
            true,
        ),
        cond(
            "ForAllValues one stray",
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            &[("aws:TagKeys", &["a", "c"])],
            false,
        ),
        cond(
            "ForAllValues absent",
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            &[],
            true,
        ),
        cond(
            "ForAllValues empty",
            r#"{"ForAllValues:StringLike":{"aws:TagKeys":"a*"}}"#,
            &[("aws:TagKeys", &[])],
            true,
        ),
        cond(
            "ForAnyValue negated: some value differs",
            r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}"#,
            &[("aws:TagKeys", &["a", "c"])],
            true,
        ),
        cond(
            "ForAnyValue negated: none differs",
            r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}"#,
            &[("aws:TagKeys", &["a"])],
            false,
        ),
        cond(
            "ForAnyValue negated: absent",
            r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}"#,
            &[],
            false,
        ),
        cond(
            "ForAllValues negated: all differ",
            r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":"a"}}"#,
            &[("aws:TagKeys", &["c", "d"])],
            true,
        ),
        cond(
            "ForAllValues negated: one equal",
            r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":"a"}}"#,
            &[("aws:TagKeys", &["a", "c"])],
            false,
        ),
        cond(
            "unqualified multivalued acts like ForAnyValue",
            r#"{"StringEquals":{"aws:TagKeys":"b"}}"#,
            &[("aws:TagKeys", &["c", "b"])],
            true,
        ),
        cond(
            "unqualified negated multivalued: one equal",
            r#"{"StringNotEquals":{"aws:TagKeys":"b"}}"#,
            &[("aws:TagKeys", &["c", "b"])],
            false,
        ),
        cond(
            "qualifier is case-insensitive",
            r#"{"forallvalues:StringEquals":{"aws:TagKeys":"a"}}"#,
            &[("aws:TagKeys", &["c"])],
            false,
        ),
        cond(
            "ForAnyValue IfExists absent",
            r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"a"}}"#,
            &[],
            true,
        ),
        cond(
            "ForAnyValue IpAddress",
            r#"{"ForAnyValue:IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &[("aws:SourceIp", &["192.0.2.1", "10.1.2.3"])],
            true,
        ),
        // Policy variables in condition values.
        cond(
            "variable in StringEquals",
            r#"{"StringEquals":{"s3:prefix":"home/${aws:username}/"}}"#,
            &[("s3:prefix", &["home/alice/"])],
            true,
        ),
        cond(
            "variable in StringEquals, other user",
            r#"{"StringEquals":{"s3:prefix":"home/${aws:username}/"}}"#,
            &[("s3:prefix", &["home/bob/"])],
            false,
        ),
        cond(
            "variable in StringLike",
            r#"{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}"#,
            &[("s3:prefix", &["home/alice/docs/x"])],
            true,
        ),
        cond(
            "escape ${*} is a literal star",
            r#"{"StringLike":{"s3:prefix":"a${*}b"}}"#,
            &[("s3:prefix", &["axb"])],
            false,
        ),
        cond(
            "escape ${*} matches a star",
            r#"{"StringLike":{"s3:prefix":"a${*}b"}}"#,
            &[("s3:prefix", &["a*b"])],
            true,
        ),
        cond(
            "escape ${?} is a literal question mark",
            r#"{"StringLike":{"s3:prefix":"a${?}"}}"#,
            &[("s3:prefix", &["ax"])],
            false,
        ),
        cond(
            "escape ${$}",
            r#"{"StringEquals":{"s3:prefix":"cost${$}"}}"#,
            &[("s3:prefix", &["cost$"])],
            true,
        ),
        cond(
            "variable default used",
            r#"{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team, 'none'}"}}"#,
            &[("s3:prefix", &["none"])],
            true,
        ),
        cond(
            "variable default not used when set",
            r#"{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team, 'none'}"}}"#,
            &[
                ("s3:prefix", &["none"]),
                ("aws:PrincipalTag/team", &["blue"]),
            ],
            false,
        ),
        cond(
            "unresolved variable never matches",
            r#"{"StringLike":{"s3:prefix":"${aws:PrincipalTag/team}*"}}"#,
            &[("s3:prefix", &["anything"])],
            false,
        ),
        cond(
            "unresolved variable drops only that value",
            r#"{"StringEquals":{"s3:prefix":["${aws:PrincipalTag/team}","x"]}}"#,
            &[("s3:prefix", &["x"])],
            true,
        ),
        cond(
            "unresolved variable in negated operator",
            r#"{"StringNotEquals":{"s3:prefix":"${aws:PrincipalTag/team}"}}"#,
            &[("s3:prefix", &["x"])],
            true,
        ),
        cond(
            "multivalued key is not a variable",
            r#"{"StringEquals":{"s3:prefix":"${aws:TagKeys}"}}"#,
            &[("s3:prefix", &["a"]), ("aws:TagKeys", &["a", "b"])],
            false,
        ),
        cond(
            "variable names are case-insensitive",
            r#"{"StringEquals":{"s3:prefix":"${AWS:UserName}"}}"#,
            &[("s3:prefix", &["alice"])],
            true,
        ),
        cond(
            "variable from context in ArnLike",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:${aws:SourceAccount}:trail/*"}}"#,
            &[
                ("aws:SourceArn", &[TRAIL_ARN]),
                ("aws:SourceAccount", &["111111111111"]),
            ],
            true,
        ),
        cond(
            "variable from context in ArnLike, other account",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:${aws:SourceAccount}:trail/*"}}"#,
            &[
                ("aws:SourceArn", &[TRAIL_ARN]),
                ("aws:SourceAccount", &["222222222222"]),
            ],
            false,
        ),
        CondCase {
            name: "2008 version: no variables",
            version: V08,
            condition: r#"{"StringEquals":{"s3:prefix":"home/${aws:username}/"}}"#,
            context: &[("s3:prefix", &["home/alice/"])],
            expected: false,
        },
        CondCase {
            name: "2008 version: text is literal",
            version: V08,
            condition: r#"{"StringEquals":{"s3:prefix":"home/${aws:username}/"}}"#,
            context: &[("s3:prefix", &["home/${aws:username}/"])],
            expected: true,
        },
    ];
    let alice = user(MGMT, "alice");
    for case in &cases {
        let mut context = Context::new();
        for (k, vs) in case.context {
            context.set_multi(k, vs.iter().map(|v| v.to_string()).collect());
        }
        assert_eq!(
            condition_holds(case.version, case.condition, &alice, &context),
            case.expected,
            "{}",
            case.name
        );
    }
}

#[test]
fn keys_derived_from_the_caller() {
    let root = Caller::root(MGMT);
    let alice = user(MGMT, "alice");
    let sess = session(
        MEMBER,
        "admin/OrganizationAccountAccessRole",
        "mgmt-session",
    );
    let svc = cloudtrail();
    let anon = Caller::anonymous();
    let cases: Vec<(&str, &Caller, &str, &str, bool)> = vec![
        ("user name", &alice, "aws:username", "alice", true),
        (
            "user id",
            &alice,
            "aws:userid",
            "AIDAEXAMPLEUSERID0001",
            true,
        ),
        ("user account", &alice, "aws:PrincipalAccount", MGMT, true),
        (
            "user arn",
            &alice,
            "aws:PrincipalArn",
            "arn:aws:iam::111111111111:user/alice",
            true,
        ),
        ("user type", &alice, "aws:PrincipalType", "User", true),
        (
            "user is not a service",
            &alice,
            "aws:PrincipalIsAWSService",
            "false",
            true,
        ),
        (
            "root arn",
            &root,
            "aws:PrincipalArn",
            "arn:aws:iam::111111111111:root",
            true,
        ),
        (
            "root userid is the account",
            &root,
            "aws:userid",
            MGMT,
            true,
        ),
        ("root type", &root, "aws:PrincipalType", "Account", true),
        (
            "session PrincipalArn is the role",
            &sess,
            "aws:PrincipalArn",
            "arn:aws:iam::222222222222:role/admin/OrganizationAccountAccessRole",
            true,
        ),
        (
            "session PrincipalArn is not the session",
            &sess,
            "aws:PrincipalArn",
            "arn:aws:sts::222222222222:assumed-role/OrganizationAccountAccessRole/mgmt-session",
            false,
        ),
        (
            "session userid",
            &sess,
            "aws:userid",
            "AROAEXAMPLEROLEID0001:mgmt-session",
            true,
        ),
        (
            "session type",
            &sess,
            "aws:PrincipalType",
            "AssumedRole",
            true,
        ),
        (
            "session account",
            &sess,
            "aws:PrincipalAccount",
            MEMBER,
            true,
        ),
        (
            "service name",
            &svc,
            "aws:PrincipalServiceName",
            "cloudtrail.amazonaws.com",
            true,
        ),
        (
            "service flag",
            &svc,
            "aws:PrincipalIsAWSService",
            "true",
            true,
        ),
        (
            "anonymous type",
            &anon,
            "aws:PrincipalType",
            "Anonymous",
            true,
        ),
    ];
    let empty = Context::new();
    for (name, caller, key, value, expected) in cases {
        let condition = format!(r#"{{"StringEquals":{{"{key}":"{value}"}}}}"#);
        assert_eq!(
            condition_holds(V12, &condition, caller, &empty),
            expected,
            "{name}"
        );
    }
    // Keys with no meaning for the caller stay absent.
    let absent: Vec<(&str, &Caller, &str)> = vec![
        ("session has no username", &sess, "aws:username"),
        ("service has no account", &svc, "aws:PrincipalAccount"),
        ("service has no PrincipalArn", &svc, "aws:PrincipalArn"),
        (
            "nobody has an org id unless told",
            &alice,
            "aws:PrincipalOrgID",
        ),
        ("anonymous has no userid", &anon, "aws:userid"),
    ];
    for (name, caller, key) in absent {
        let condition = format!(r#"{{"Null":{{"{key}":"true"}}}}"#);
        assert!(condition_holds(V12, &condition, caller, &empty), "{name}");
    }
    // An explicit context value wins over the derived one.
    let told = ctx(&[("aws:PrincipalAccount", "999999999999")]);
    assert!(condition_holds(
        V12,
        r#"{"StringEquals":{"aws:PrincipalAccount":"999999999999"}}"#,
        &alice,
        &told
    ));
    assert!(!condition_holds(
        V12,
        r#"{"StringEquals":{"aws:PrincipalAccount":"111111111111"}}"#,
        &alice,
        &told
    ));
}

#[test]
fn context_api() {
    let mut c = Context::new();
    c.set("AWS:SourceArn", TRAIL_ARN);
    assert_eq!(c.get("aws:sourcearn"), Some(&[TRAIL_ARN.to_string()][..]));
    assert!(c.contains("Aws:SourceARN"));
    c.set_multi("aws:TagKeys", vec!["a".into(), "b".into()]);
    assert_eq!(c.get("AWS:TAGKEYS").map(<[String]>::len), Some(2));
    c.set("aws:TagKeys", "z");
    assert_eq!(c.get("aws:tagkeys"), Some(&["z".to_string()][..]));
    c.remove("AWS:SOURCEARN");
    assert_eq!(c.get("aws:SourceArn"), None);
    let built = Context::new().with("s3:x-amz-acl", "private");
    assert_eq!(
        built.get("S3:X-AMZ-ACL"),
        Some(&["private".to_string()][..])
    );
}

// ---------------------------------------------------------------------------------------------
// Actions, resources, variables in resources
// ---------------------------------------------------------------------------------------------

#[test]
fn action_and_resource_matching() {
    let alice = user(MGMT, "alice");
    let empty = Context::new();
    let cases: &[(&str, &str, &str, &str, Effect)] = &[
        // (Action element, Resource element, request action, request resource, expected)
        (
            r#""s3:GetObject""#,
            r#""arn:aws:s3:::b/*""#,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            ALLOW,
        ),
        (
            r#""S3:getobject""#,
            r#""arn:aws:s3:::b/*""#,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            ALLOW,
        ),
        (
            r#""s3:GetObject""#,
            r#""arn:aws:s3:::b/*""#,
            "S3:GETOBJECT",
            "arn:aws:s3:::b/k",
            ALLOW,
        ),
        (
            r#""s3:Get*""#,
            r#""*""#,
            "s3:GetBucketAcl",
            "arn:aws:s3:::b",
            ALLOW,
        ),
        (
            r#""s3:Get*""#,
            r#""*""#,
            "s3:PutObject",
            "arn:aws:s3:::b/k",
            Effect::NoMatch,
        ),
        (
            r#""s3:?etObject""#,
            r#""*""#,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            ALLOW,
        ),
        (
            r#""*""#,
            r#""*""#,
            "sts:AssumeRole",
            "arn:aws:iam::1:role/r",
            ALLOW,
        ),
        (
            r#""s3:*""#,
            r#""*""#,
            "sts:AssumeRole",
            "arn:aws:iam::1:role/r",
            Effect::NoMatch,
        ),
        (
            r#"["s3:PutObject","s3:GetObject"]"#,
            r#""*""#,
            "s3:GetObject",
            "x",
            ALLOW,
        ),
        (
            r#""s3:GetObject""#,
            r#""arn:aws:s3:::b/Key""#,
            "s3:GetObject",
            "arn:aws:s3:::b/key",
            Effect::NoMatch,
        ),
        (
            r#""s3:GetObject""#,
            r#""arn:aws:s3:::b/AWSLogs/111111111111/*""#,
            "s3:GetObject",
            "arn:aws:s3:::b/AWSLogs/111111111111/",
            ALLOW,
        ),
        (
            r#""s3:GetObject""#,
            r#""arn:aws:s3:::b/a?c""#,
            "s3:GetObject",
            "arn:aws:s3:::b/abc",
            ALLOW,
        ),
        (
            r#""s3:GetObject""#,
            r#"["arn:aws:s3:::x/*","arn:aws:s3:::b/*"]"#,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            ALLOW,
        ),
        (
            r#""s3:GetObject""#,
            r#""arn:aws:s3:::b/*""#,
            "s3:GetObject",
            "arn:aws:s3:::b",
            Effect::NoMatch,
        ),
        (
            r#""s3:ListAllMyBuckets""#,
            r#""*""#,
            "s3:ListAllMyBuckets",
            "*",
            ALLOW,
        ),
        (
            r#""s3:ListAllMyBuckets""#,
            r#""arn:aws:s3:::*""#,
            "s3:ListAllMyBuckets",
            "*",
            Effect::NoMatch,
        ),
    ];
    for (action, resource, req_action, req_resource, expected) in cases {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{action},"Resource":{resource}}}]}}"#
        );
        let p = parse(&text, &PolicyKind::Identity);
        assert_eq!(
            eval(&p, &alice, req_action, req_resource, &empty),
            *expected,
            "Action {action} Resource {resource} vs {req_action} {req_resource}"
        );
    }
}

#[test]
fn not_action_and_not_resource() {
    let alice = user(MGMT, "alice");
    let empty = Context::new();
    let p = parse(
        r#"{"Statement":[{"Effect":"Allow","NotAction":["iam:*","s3:Delete*"],"NotResource":"arn:aws:s3:::secret/*"}]}"#,
        &PolicyKind::Identity,
    );
    let cases: &[(&str, &str, Effect)] = &[
        ("s3:GetObject", "arn:aws:s3:::b/k", ALLOW),
        ("s3:DeleteObject", "arn:aws:s3:::b/k", Effect::NoMatch),
        ("IAM:CreateUser", "*", Effect::NoMatch),
        ("s3:GetObject", "arn:aws:s3:::secret/k", Effect::NoMatch),
        ("s3:GetObject", "arn:aws:s3:::Secret/k", ALLOW),
    ];
    for (action, resource, expected) in cases {
        assert_eq!(
            eval(&p, &alice, action, resource, &empty),
            *expected,
            "{action} {resource}"
        );
    }
}

#[test]
fn variables_in_resources() {
    let alice = user(MGMT, "alice");
    let sess = session(MGMT, "Reader", "s1");
    let empty = Context::new();
    let cases: &[(&str, &str, &Caller, &str, bool)] = &[
        // (Version, Resource, caller, request resource, allowed)
        (
            V12,
            "arn:aws:s3:::b/home/${aws:username}/*",
            &alice,
            "arn:aws:s3:::b/home/alice/x",
            true,
        ),
        (
            V12,
            "arn:aws:s3:::b/home/${aws:username}/*",
            &alice,
            "arn:aws:s3:::b/home/bob/x",
            false,
        ),
        // A session has no aws:username, so the entry matches nothing...
        (
            V12,
            "arn:aws:s3:::b/home/${aws:username}/*",
            &sess,
            "arn:aws:s3:::b/home//x",
            false,
        ),
        // ...unless a default is given.
        (
            V12,
            "arn:aws:s3:::b/home/${aws:username, 'shared'}/*",
            &sess,
            "arn:aws:s3:::b/home/shared/x",
            true,
        ),
        (
            V12,
            "arn:aws:s3:::b/${aws:PrincipalAccount}/*",
            &sess,
            "arn:aws:s3:::b/111111111111/x",
            true,
        ),
        (
            V12,
            "arn:aws:s3:::b/${aws:userid}/*",
            &sess,
            "arn:aws:s3:::b/AROAEXAMPLEROLEID0001:s1/x",
            true,
        ),
        // Substituted text is literal: a `*` in it would not be a wildcard; the escape is literal too.
        (
            V12,
            "arn:aws:s3:::b/literal${*}",
            &alice,
            "arn:aws:s3:::b/literal*",
            true,
        ),
        (
            V12,
            "arn:aws:s3:::b/literal${*}",
            &alice,
            "arn:aws:s3:::b/literalX",
            false,
        ),
        (
            V12,
            "arn:aws:s3:::b/q${?}",
            &alice,
            "arn:aws:s3:::b/q?",
            true,
        ),
        (
            V12,
            "arn:aws:s3:::b/q${?}",
            &alice,
            "arn:aws:s3:::b/qx",
            false,
        ),
        (
            V12,
            "arn:aws:s3:::b/d${$}",
            &alice,
            "arn:aws:s3:::b/d$",
            true,
        ),
        // Malformed variable syntax stays literal text.
        (
            V12,
            "arn:aws:s3:::b/${aws:username",
            &alice,
            "arn:aws:s3:::b/${aws:username",
            true,
        ),
        (
            V08,
            "arn:aws:s3:::b/home/${aws:username}/*",
            &alice,
            "arn:aws:s3:::b/home/alice/x",
            false,
        ),
        (
            V08,
            "arn:aws:s3:::b/home/${aws:username}/*",
            &alice,
            "arn:aws:s3:::b/home/${aws:username}/x",
            true,
        ),
    ];
    for (version, resource, caller, req_resource, allowed) in cases {
        let text = format!(
            r#"{{"Version":"{version}","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"{resource}"}}]}}"#
        );
        let p = parse(&text, &PolicyKind::Identity);
        let got = eval(&p, caller, "s3:GetObject", req_resource, &empty);
        assert_eq!(
            got == ALLOW,
            *allowed,
            "{version} {resource} vs {req_resource}"
        );
    }
    // NotResource with an unresolved variable: the entry matches nothing, so everything is "not"
    // in it.
    let p = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::b/${aws:username}/*"}]}"#,
        &PolicyKind::Identity,
    );
    assert_eq!(
        eval(&p, &sess, "s3:GetObject", "arn:aws:s3:::b/s1/x", &empty),
        Effect::Deny
    );
    assert_eq!(
        eval(&p, &alice, "s3:GetObject", "arn:aws:s3:::b/alice/x", &empty),
        Effect::NoMatch
    );
}

// ---------------------------------------------------------------------------------------------
// Principals
// ---------------------------------------------------------------------------------------------

#[test]
fn principal_matching() {
    let empty = Context::new();
    let alice = user(MEMBER, "alice");
    let alice_path = Caller::user(
        "arn:aws:iam::222222222222:user/division/alice",
        "AIDAEXAMPLEUSERID0002",
    );
    let bob = user(MEMBER, "bob");
    let root = Caller::root(MEMBER);
    let reader_s1 = session(MEMBER, "Reader", "s1");
    let reader_s2 = session(MEMBER, "Reader", "s2");
    let pathed = session(MEMBER, "team/Reader", "s1");
    let outsider = user(OUTSIDER, "alice");
    let svc = cloudtrail();
    let other_svc = Caller::service("config.amazonaws.com");
    let anon = Caller::anonymous();
    let cases: Vec<(&str, &str, &Caller, Effect)> = vec![
        ("* matches users", r#""*""#, &alice, ALLOW),
        ("* matches services", r#""*""#, &svc, ALLOW),
        ("* matches anonymous", r#""*""#, &anon, ALLOW),
        ("AWS * matches anonymous", r#"{"AWS":"*"}"#, &anon, ALLOW),
        ("AWS * matches services", r#"{"AWS":"*"}"#, &svc, ALLOW),
        (
            "account id delegates to users",
            r#"{"AWS":"222222222222"}"#,
            &alice,
            DELEGATED,
        ),
        (
            "root ARN delegates to sessions",
            r#"{"AWS":"arn:aws:iam::222222222222:root"}"#,
            &reader_s1,
            DELEGATED,
        ),
        (
            "root ARN names the root user itself",
            r#"{"AWS":"arn:aws:iam::222222222222:root"}"#,
            &root,
            ALLOW,
        ),
        (
            "account principal: other account",
            r#"{"AWS":"222222222222"}"#,
            &outsider,
            Effect::NoMatch,
        ),
        (
            "account principal: not services",
            r#"{"AWS":"222222222222"}"#,
            &svc,
            Effect::NoMatch,
        ),
        (
            "account principal: not anonymous",
            r#"{"AWS":"222222222222"}"#,
            &anon,
            Effect::NoMatch,
        ),
        (
            "user ARN",
            r#"{"AWS":"arn:aws:iam::222222222222:user/alice"}"#,
            &alice,
            ALLOW,
        ),
        (
            "user ARN: other user",
            r#"{"AWS":"arn:aws:iam::222222222222:user/alice"}"#,
            &bob,
            Effect::NoMatch,
        ),
        (
            "user ARN: same name, other account",
            r#"{"AWS":"arn:aws:iam::222222222222:user/alice"}"#,
            &outsider,
            Effect::NoMatch,
        ),
        (
            "user ARN with path",
            r#"{"AWS":"arn:aws:iam::222222222222:user/division/alice"}"#,
            &alice_path,
            ALLOW,
        ),
        (
            "user ARN without the path",
            r#"{"AWS":"arn:aws:iam::222222222222:user/alice"}"#,
            &alice_path,
            Effect::NoMatch,
        ),
        (
            "role ARN matches every session",
            r#"{"AWS":"arn:aws:iam::222222222222:role/Reader"}"#,
            &reader_s2,
            ALLOW,
        ),
        (
            "role ARN with path",
            r#"{"AWS":"arn:aws:iam::222222222222:role/team/Reader"}"#,
            &pathed,
            ALLOW,
        ),
        (
            "role ARN without the path",
            r#"{"AWS":"arn:aws:iam::222222222222:role/Reader"}"#,
            &pathed,
            Effect::NoMatch,
        ),
        (
            "session ARN",
            r#"{"AWS":"arn:aws:sts::222222222222:assumed-role/Reader/s1"}"#,
            &reader_s1,
            ALLOW,
        ),
        (
            "session ARN: other session",
            r#"{"AWS":"arn:aws:sts::222222222222:assumed-role/Reader/s1"}"#,
            &reader_s2,
            Effect::NoMatch,
        ),
        (
            "session ARN of a pathed role drops the path",
            r#"{"AWS":"arn:aws:sts::222222222222:assumed-role/Reader/s1"}"#,
            &pathed,
            ALLOW,
        ),
        (
            "role ARN does not match users",
            r#"{"AWS":"arn:aws:iam::222222222222:role/alice"}"#,
            &alice,
            Effect::NoMatch,
        ),
        (
            "service string",
            r#"{"Service":"cloudtrail.amazonaws.com"}"#,
            &svc,
            ALLOW,
        ),
        (
            "service array",
            r#"{"Service":["config.amazonaws.com","cloudtrail.amazonaws.com"]}"#,
            &svc,
            ALLOW,
        ),
        (
            "service: other service",
            r#"{"Service":"cloudtrail.amazonaws.com"}"#,
            &other_svc,
            Effect::NoMatch,
        ),
        (
            "service: not users",
            r#"{"Service":"cloudtrail.amazonaws.com"}"#,
            &alice,
            Effect::NoMatch,
        ),
        (
            "mixed list takes the strongest",
            r#"{"AWS":["222222222222","arn:aws:iam::222222222222:user/alice"]}"#,
            &alice,
            ALLOW,
        ),
        (
            "mixed AWS and Service",
            r#"{"AWS":"222222222222","Service":"cloudtrail.amazonaws.com"}"#,
            &svc,
            ALLOW,
        ),
        (
            "federated never matches (P1)",
            r#"{"Federated":"cognito-identity.amazonaws.com"}"#,
            &alice,
            Effect::NoMatch,
        ),
    ];
    for (name, principal, caller, expected) in cases {
        let text = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"s3:GetObject","Resource":"arn:aws:s3:::myOrganizationBucket/*"}}]}}"#
        );
        let p = parse(&text, &bucket_kind());
        assert_eq!(
            eval(
                &p,
                caller,
                "s3:GetObject",
                "arn:aws:s3:::myOrganizationBucket/k",
                &empty
            ),
            expected,
            "{name}"
        );
    }
}

#[test]
fn not_principal_with_deny() {
    let empty = Context::new();
    let alice = user(MEMBER, "alice");
    let bob = user(MEMBER, "bob");
    let root = Caller::root(MEMBER);
    let outsider = user(OUTSIDER, "alice");
    let s1 = session(MEMBER, "Reader", "s1");
    let s2 = session(MEMBER, "Reader", "s2");
    let svc = cloudtrail();
    let anon = Caller::anonymous();
    let deny_all_but = |not_principal: &str| {
        parse(
            &format!(
                r#"{{"Statement":[{{"Effect":"Deny","NotPrincipal":{not_principal},"Action":"s3:*","Resource":"arn:aws:s3:::myOrganizationBucket/*"}}]}}"#
            ),
            &bucket_kind(),
        )
    };
    let user_and_account =
        r#"{"AWS":["arn:aws:iam::222222222222:user/alice","arn:aws:iam::222222222222:root"]}"#;
    let user_only = r#"{"AWS":"arn:aws:iam::222222222222:user/alice"}"#;
    let session_role_account = r#"{"AWS":["arn:aws:sts::222222222222:assumed-role/Reader/s1","arn:aws:iam::222222222222:role/Reader","222222222222"]}"#;
    let session_only = r#"{"AWS":"arn:aws:sts::222222222222:assumed-role/Reader/s1"}"#;
    let cases: Vec<(&str, &str, &Caller, Effect)> = vec![
        (
            "listed user with account is spared",
            user_and_account,
            &alice,
            Effect::NoMatch,
        ),
        (
            "unlisted user of the account is denied",
            user_and_account,
            &bob,
            Effect::Deny,
        ),
        (
            "root of the listed account is spared",
            user_and_account,
            &root,
            Effect::NoMatch,
        ),
        (
            "user of another account is denied",
            user_and_account,
            &outsider,
            Effect::Deny,
        ),
        ("services are denied", user_and_account, &svc, Effect::Deny),
        ("anonymous is denied", user_and_account, &anon, Effect::Deny),
        (
            "user listed without its account is still denied",
            user_only,
            &alice,
            Effect::Deny,
        ),
        (
            "session with role and account listed is spared",
            session_role_account,
            &s1,
            Effect::NoMatch,
        ),
        (
            "other session of the same role is denied",
            session_role_account,
            &s2,
            Effect::Deny,
        ),
        (
            "session listed alone is still denied",
            session_only,
            &s1,
            Effect::Deny,
        ),
        (
            "listed service is spared",
            r#"{"Service":"cloudtrail.amazonaws.com"}"#,
            &svc,
            Effect::NoMatch,
        ),
        (
            "NotPrincipal * spares everyone",
            r#""*""#,
            &anon,
            Effect::NoMatch,
        ),
    ];
    for (name, not_principal, caller, expected) in cases {
        let p = deny_all_but(not_principal);
        assert_eq!(
            eval(
                &p,
                caller,
                "s3:GetObject",
                "arn:aws:s3:::myOrganizationBucket/k",
                &empty
            ),
            expected,
            "{name}"
        );
    }

    // Allow + NotPrincipal grants directly to everyone not listed.
    let p = parse(
        r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"333333333333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::myOrganizationBucket/*"}]}"#,
        &bucket_kind(),
    );
    assert_eq!(
        eval(
            &p,
            &anon,
            "s3:GetObject",
            "arn:aws:s3:::myOrganizationBucket/k",
            &empty
        ),
        ALLOW
    );
    assert_eq!(
        eval(
            &p,
            &Caller::root(OUTSIDER),
            "s3:GetObject",
            "arn:aws:s3:::myOrganizationBucket/k",
            &empty
        ),
        Effect::NoMatch
    );
}

#[test]
fn deny_beats_allow_within_a_policy() {
    let p = parse(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::myOrganizationBucket/*"},
            {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:user/bob"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::myOrganizationBucket/*"}]}"#,
        &bucket_kind(),
    );
    let empty = Context::new();
    let obj = "arn:aws:s3:::myOrganizationBucket/k";
    assert_eq!(
        eval(&p, &user(MEMBER, "bob"), "s3:DeleteObject", obj, &empty),
        Effect::Deny
    );
    assert_eq!(
        eval(&p, &user(MEMBER, "bob"), "s3:GetObject", obj, &empty),
        ALLOW
    );
    assert_eq!(
        eval(&p, &user(MEMBER, "alice"), "s3:DeleteObject", obj, &empty),
        ALLOW
    );
}

// ---------------------------------------------------------------------------------------------
// authorize(): combining policies
// ---------------------------------------------------------------------------------------------

const ADMIN: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn bucket_policy_for(principal: &str) -> Policy {
    parse(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::myOrganizationBucket/*"}}]}}"#
        ),
        &bucket_kind(),
    )
}

fn decide(
    caller: &Caller,
    identity: &[&Policy],
    session_policies: Option<&[&Policy]>,
    resource_policy: Option<&Policy>,
    owner: Option<&str>,
    action: &str,
    context: &Context,
) -> Decision {
    authorize(
        &Authorization {
            identity_policies: identity,
            session_policies,
            resource_policy,
            resource_owner: owner,
            ..Authorization::default()
        },
        &Request {
            caller,
            action,
            resource: "arn:aws:s3:::myOrganizationBucket/k",
            context,
        },
    )
}

#[test]
fn same_and_cross_account_decisions() {
    let admin = parse(ADMIN, &PolicyKind::Identity);
    let read_only = parse(
        r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
        &PolicyKind::Identity,
    );
    let deny_put = parse(
        r#"{"Statement":{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}}"#,
        &PolicyKind::Identity,
    );
    let grant_account = bucket_policy_for(r#"{"AWS":"222222222222"}"#);
    let grant_alice = bucket_policy_for(r#"{"AWS":"arn:aws:iam::222222222222:user/alice"}"#);
    let grant_bob_mgmt = bucket_policy_for(r#"{"AWS":"arn:aws:iam::111111111111:user/bob"}"#);
    let grant_own_account = bucket_policy_for(r#"{"AWS":"111111111111"}"#);
    let grant_public = bucket_policy_for(r#""*""#);
    let deny_alice = parse(
        r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:user/alice"},"Action":"s3:*","Resource":"arn:aws:s3:::myOrganizationBucket/*"}]}"#,
        &bucket_kind(),
    );

    let alice_member = user(MEMBER, "alice");
    let bob_mgmt = user(MGMT, "bob");
    let root_mgmt = Caller::root(MGMT);
    let root_member = Caller::root(MEMBER);
    let root_outsider = Caller::root(OUTSIDER);
    let anon = Caller::anonymous();
    let svc = cloudtrail();
    let empty = Context::new();
    use Decision::*;

    type Row<'a> = (
        &'a str,
        &'a Caller,
        Vec<&'a Policy>,
        Option<&'a Policy>,
        &'a str,
        Decision,
    );
    let rows: Vec<Row> = vec![
        // Same account (bucket owned by MGMT, caller from MGMT).
        (
            "same account: identity allow, no bucket policy",
            &bob_mgmt,
            vec![&admin],
            None,
            "s3:GetObject",
            Allow,
        ),
        (
            "same account: no identity policy, no bucket policy",
            &bob_mgmt,
            vec![],
            None,
            "s3:GetObject",
            ImplicitDeny,
        ),
        (
            "same account: direct bucket grant suffices",
            &bob_mgmt,
            vec![],
            Some(&grant_bob_mgmt),
            "s3:GetObject",
            Allow,
        ),
        (
            "same account: account grant is only a delegation",
            &bob_mgmt,
            vec![],
            Some(&grant_own_account),
            "s3:GetObject",
            ImplicitDeny,
        ),
        (
            "same account: account grant plus identity allow",
            &bob_mgmt,
            vec![&read_only],
            Some(&grant_own_account),
            "s3:GetObject",
            Allow,
        ),
        (
            "same account: identity allows only reads",
            &bob_mgmt,
            vec![&read_only],
            None,
            "s3:PutObject",
            ImplicitDeny,
        ),
        (
            "same account: identity deny beats bucket grant",
            &bob_mgmt,
            vec![&deny_put],
            Some(&grant_bob_mgmt),
            "s3:PutObject",
            ExplicitDeny,
        ),
        (
            "root: implicit allow on own resources",
            &root_mgmt,
            vec![],
            None,
            "s3:PutObject",
            Allow,
        ),
        // Cross account (bucket owned by MGMT, caller from MEMBER).
        (
            "cross: identity + account grant",
            &alice_member,
            vec![&admin],
            Some(&grant_account),
            "s3:GetObject",
            Allow,
        ),
        (
            "cross: identity + direct grant",
            &alice_member,
            vec![&admin],
            Some(&grant_alice),
            "s3:GetObject",
            Allow,
        ),
        (
            "cross: account grant without identity",
            &alice_member,
            vec![],
            Some(&grant_account),
            "s3:GetObject",
            ImplicitDeny,
        ),
        (
            "cross: direct grant without identity",
            &alice_member,
            vec![],
            Some(&grant_alice),
            "s3:GetObject",
            ImplicitDeny,
        ),
        (
            "cross: identity without any bucket grant",
            &alice_member,
            vec![&admin],
            None,
            "s3:GetObject",
            ImplicitDeny,
        ),
        (
            "cross: identity, grant to someone else",
            &alice_member,
            vec![&admin],
            Some(&grant_bob_mgmt),
            "s3:GetObject",
            ImplicitDeny,
        ),
        (
            "cross: identity allows only reads",
            &alice_member,
            vec![&read_only],
            Some(&grant_account),
            "s3:PutObject",
            ImplicitDeny,
        ),
        (
            "cross: bucket deny beats identity allow",
            &alice_member,
            vec![&admin],
            Some(&deny_alice),
            "s3:GetObject",
            ExplicitDeny,
        ),
        (
            "cross: root of a granted account",
            &root_member,
            vec![],
            Some(&grant_account),
            "s3:GetObject",
            Allow,
        ),
        (
            "cross: root without a grant",
            &root_member,
            vec![],
            None,
            "s3:GetObject",
            ImplicitDeny,
        ),
        (
            "cross: root of an ungranted account",
            &root_outsider,
            vec![],
            Some(&grant_account),
            "s3:GetObject",
            ImplicitDeny,
        ),
        // Services and anonymous need a direct grant.
        (
            "anonymous with public grant",
            &anon,
            vec![],
            Some(&grant_public),
            "s3:GetObject",
            Allow,
        ),
        (
            "anonymous with account grant",
            &anon,
            vec![],
            Some(&grant_account),
            "s3:GetObject",
            ImplicitDeny,
        ),
        (
            "anonymous, no bucket policy",
            &anon,
            vec![],
            None,
            "s3:GetObject",
            ImplicitDeny,
        ),
        (
            "service with public grant",
            &svc,
            vec![],
            Some(&grant_public),
            "s3:PutObject",
            Allow,
        ),
        (
            "service ignores identity policies",
            &svc,
            vec![&admin],
            None,
            "s3:PutObject",
            ImplicitDeny,
        ),
    ];
    for (name, caller, identity, resource_policy, action, expected) in rows {
        assert_eq!(
            decide(
                caller,
                &identity,
                None,
                resource_policy,
                Some(MGMT),
                action,
                &empty
            ),
            expected,
            "{name}"
        );
    }

    // An account-less resource (ListAllMyBuckets on "*") is the caller's own.
    let list = authorize(
        &Authorization {
            identity_policies: &[&admin],
            ..Authorization::default()
        },
        &Request {
            caller: &alice_member,
            action: "s3:ListAllMyBuckets",
            resource: "*",
            context: &empty,
        },
    );
    assert_eq!(list, Allow);
    assert!(list.is_allowed());
    assert!(!ImplicitDeny.is_allowed());
}

#[test]
fn session_policies_intersect() {
    let role_policy = parse(ADMIN, &PolicyKind::Identity);
    let get_only = parse(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
        &PolicyKind::Identity,
    );
    let deny_get = parse(
        r#"{"Statement":{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}}"#,
        &PolicyKind::Identity,
    );
    let s1 = session(MGMT, "Writer", "s1");
    let grant_session =
        bucket_policy_for(r#"{"AWS":"arn:aws:sts::111111111111:assumed-role/Writer/s1"}"#);
    let grant_role = bucket_policy_for(r#"{"AWS":"arn:aws:iam::111111111111:role/Writer"}"#);
    let empty = Context::new();
    use Decision::*;
    type Row<'a> = (
        &'a str,
        Option<Vec<&'a Policy>>,
        Option<&'a Policy>,
        &'a str,
        Decision,
    );
    let rows: Vec<Row> = vec![
        (
            "no session policy: role policy rules",
            None,
            None,
            "s3:PutObject",
            Allow,
        ),
        (
            "session policy allows",
            Some(vec![&get_only]),
            None,
            "s3:GetObject",
            Allow,
        ),
        (
            "session policy narrows",
            Some(vec![&get_only]),
            None,
            "s3:PutObject",
            ImplicitDeny,
        ),
        (
            "session policy deny",
            Some(vec![&deny_get]),
            None,
            "s3:GetObject",
            ExplicitDeny,
        ),
        (
            "grant to the session ARN escapes the session policy",
            Some(vec![&get_only]),
            Some(&grant_session),
            "s3:PutObject",
            Allow,
        ),
        (
            "grant to the role ARN is limited by it",
            Some(vec![&get_only]),
            Some(&grant_role),
            "s3:PutObject",
            ImplicitDeny,
        ),
        (
            "grant to the role ARN within it",
            Some(vec![&get_only]),
            Some(&grant_role),
            "s3:GetObject",
            Allow,
        ),
    ];
    for (name, session_policies, resource_policy, action, expected) in rows {
        assert_eq!(
            decide(
                &s1,
                &[&role_policy],
                session_policies.as_deref(),
                resource_policy,
                Some(MGMT),
                action,
                &empty
            ),
            expected,
            "{name}"
        );
    }
    // A role without policies gets nothing from its session policy alone.
    assert_eq!(
        decide(
            &s1,
            &[],
            Some(&[&get_only]),
            None,
            Some(MGMT),
            "s3:GetObject",
            &empty
        ),
        ImplicitDeny
    );
}

// ---------------------------------------------------------------------------------------------
// Trust policies (spec §7.3-7.4)
// ---------------------------------------------------------------------------------------------

fn assume(
    caller: &Caller,
    identity: &[&Policy],
    trust: &Policy,
    role_arn: &str,
    context: &Context,
) -> Decision {
    let owner = role_arn.split(':').nth(4).unwrap();
    authorize(
        &Authorization {
            identity_policies: identity,
            session_policies: None,
            resource_policy: Some(trust),
            resource_owner: Some(owner),
            ..Authorization::default()
        },
        &Request {
            caller,
            action: "sts:AssumeRole",
            resource: role_arn,
            context,
        },
    )
}

#[test]
fn trust_policies() {
    let role = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole";
    let trust_mgmt = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#,
        &PolicyKind::Trust,
    );
    let trust_external_id = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"unique-id-42"}}}]}"#,
        &PolicyKind::Trust,
    );
    let trust_member_user = parse(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/carol"},"Action":"sts:AssumeRole"}]}"#,
        &PolicyKind::Trust,
    );
    let trust_member_account = parse(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sts:AssumeRole"}]}"#,
        &PolicyKind::Trust,
    );
    let trust_service = parse(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        &PolicyKind::Trust,
    );
    let admin = parse(ADMIN, &PolicyKind::Identity);
    let deny_assume = parse(
        r#"{"Statement":{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/OrganizationAccountAccessRole"}}"#,
        &PolicyKind::Identity,
    );
    let mgmt_admin = user(MGMT, "admin");
    let outsider = user(OUTSIDER, "admin");
    let carol = user(MEMBER, "carol");
    let dave = user(MEMBER, "dave");
    let nobody = user(MGMT, "nobody");
    let svc = cloudtrail();
    let empty = Context::new();
    let good_id = ctx(&[("sts:ExternalId", "unique-id-42")]);
    let bad_id = ctx(&[("sts:ExternalId", "guess")]);
    use Decision::*;

    type Row<'a> = (
        &'a str,
        &'a Caller,
        Vec<&'a Policy>,
        &'a Policy,
        &'a Context,
        Decision,
    );
    let rows: Vec<Row> = vec![
        (
            "management admin into member (spec 7.4)",
            &mgmt_admin,
            vec![&admin],
            &trust_mgmt,
            &empty,
            Allow,
        ),
        (
            "account trust needs the caller's identity allow",
            &nobody,
            vec![],
            &trust_mgmt,
            &empty,
            ImplicitDeny,
        ),
        (
            "identity deny wins",
            &mgmt_admin,
            vec![&admin, &deny_assume],
            &trust_mgmt,
            &empty,
            ExplicitDeny,
        ),
        (
            "untrusted account",
            &outsider,
            vec![&admin],
            &trust_mgmt,
            &empty,
            ImplicitDeny,
        ),
        (
            "ExternalId matches",
            &mgmt_admin,
            vec![&admin],
            &trust_external_id,
            &good_id,
            Allow,
        ),
        (
            "ExternalId wrong",
            &mgmt_admin,
            vec![&admin],
            &trust_external_id,
            &bad_id,
            ImplicitDeny,
        ),
        (
            "ExternalId missing",
            &mgmt_admin,
            vec![&admin],
            &trust_external_id,
            &empty,
            ImplicitDeny,
        ),
        (
            "same account, trust names the user: no identity policy needed",
            &carol,
            vec![],
            &trust_member_user,
            &empty,
            Allow,
        ),
        (
            "same account, trust names the account: identity needed",
            &carol,
            vec![],
            &trust_member_account,
            &empty,
            ImplicitDeny,
        ),
        (
            "same account, trust names the account, identity allows",
            &carol,
            vec![&admin],
            &trust_member_account,
            &empty,
            Allow,
        ),
        (
            "same account, identity allows but trust does not",
            &dave,
            vec![&admin],
            &trust_member_user,
            &empty,
            ImplicitDeny,
        ),
        (
            "service principal trusted",
            &svc,
            vec![],
            &trust_service,
            &empty,
            Allow,
        ),
        (
            "service principal not trusted",
            &svc,
            vec![],
            &trust_mgmt,
            &empty,
            ImplicitDeny,
        ),
    ];
    for (name, caller, identity, trust, context, expected) in rows {
        assert_eq!(
            assume(caller, &identity, trust, role, context),
            expected,
            "{name}"
        );
    }

    // The trust statement covers only the actions it lists.
    let tag = authorize(
        &Authorization {
            identity_policies: &[&admin],
            session_policies: None,
            resource_policy: Some(&trust_mgmt),
            resource_owner: Some(MEMBER),
            ..Authorization::default()
        },
        &Request {
            caller: &mgmt_admin,
            action: "sts:TagSession",
            resource: role,
            context: &empty,
        },
    );
    assert_eq!(tag, ImplicitDeny);
    // Evaluated alone, the account principal is a delegation, not a direct grant.
    assert_eq!(
        eval(&trust_mgmt, &mgmt_admin, "sts:AssumeRole", role, &empty),
        DELEGATED
    );
}

// ---------------------------------------------------------------------------------------------
// CloudTrail organization trail bucket policy (spec §6.7, cloudtrail.md §3.5)
// ---------------------------------------------------------------------------------------------

const ORG_TRAIL_POLICY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AWSCloudTrailAclCheck20150319",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
            "Action": "s3:GetBucketAcl",
            "Resource": "arn:aws:s3:::myOrganizationBucket",
            "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/OrgTrail"}}
        },
        {
            "Sid": "AWSCloudTrailWrite20150319",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::myOrganizationBucket/AWSLogs/111111111111/*",
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                           "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/OrgTrail"}}
        },
        {
            "Sid": "AWSCloudTrailOrganizationWrite20150319",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::myOrganizationBucket/AWSLogs/o-exampleorgid/*",
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                           "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/OrgTrail"}}
        }
    ]
}"#;

/// The context CloudTrail supplies at CreateTrail and at delivery (cloudtrail.md §3.5).
fn delivery_context(source_arn: &str, acl: Option<&str>) -> Context {
    let mut c = ctx(&[
        ("aws:SourceArn", source_arn),
        ("aws:SourceAccount", MGMT),
        ("aws:SourceOrgID", ORG),
        ("aws:SecureTransport", "true"),
    ]);
    if let Some(acl) = acl {
        c.set("s3:x-amz-acl", acl);
    }
    c
}

fn delivery(policy: &Policy, action: &str, key: Option<&str>, context: &Context) -> Decision {
    let resource = match key {
        Some(k) => format!("arn:aws:s3:::{BUCKET}/{k}"),
        None => format!("arn:aws:s3:::{BUCKET}"),
    };
    authorize(
        &Authorization {
            identity_policies: &[],
            session_policies: None,
            resource_policy: Some(policy),
            resource_owner: Some(MGMT),
            ..Authorization::default()
        },
        &Request {
            caller: &cloudtrail(),
            action,
            resource: &resource,
            context,
        },
    )
}

#[test]
fn cloudtrail_org_trail_policy() {
    let policy = parse(ORG_TRAIL_POLICY, &bucket_kind());
    assert_eq!(policy.text(), ORG_TRAIL_POLICY);
    let acl = Some("bucket-owner-full-control");
    let good = delivery_context(TRAIL_ARN, acl);
    let org_key = "AWSLogs/o-exampleorgid/222222222222/CloudTrail/us-east-1/2024/01/15/222222222222_CloudTrail_us-east-1_20240115T1035Z_AbCdEfGhIjKlMn01.json.gz";
    let other_trail = "arn:aws:cloudtrail:us-east-1:111111111111:trail/Other";
    use Decision::*;
    let rows: Vec<(&str, &str, Option<&str>, Context, Decision)> = vec![
        (
            "ACL check",
            "s3:GetBucketAcl",
            None,
            delivery_context(TRAIL_ARN, None),
            Allow,
        ),
        (
            "ACL check, wrong trail",
            "s3:GetBucketAcl",
            None,
            delivery_context(other_trail, None),
            ImplicitDeny,
        ),
        (
            "org delivery",
            "s3:PutObject",
            Some(org_key),
            good.clone(),
            Allow,
        ),
        (
            "owner-account probe key (star matches empty)",
            "s3:PutObject",
            Some("AWSLogs/111111111111/"),
            good.clone(),
            Allow,
        ),
        (
            "org probe key",
            "s3:PutObject",
            Some("AWSLogs/o-exampleorgid/"),
            good.clone(),
            Allow,
        ),
        (
            "owner-account delivery",
            "s3:PutObject",
            Some("AWSLogs/111111111111/CloudTrail/us-east-1/2024/01/15/f.json.gz"),
            good.clone(),
            Allow,
        ),
        (
            "wrong SourceArn",
            "s3:PutObject",
            Some(org_key),
            delivery_context(other_trail, acl),
            ImplicitDeny,
        ),
        (
            "missing SourceArn",
            "s3:PutObject",
            Some(org_key),
            ctx(&[("s3:x-amz-acl", "bucket-owner-full-control")]),
            ImplicitDeny,
        ),
        (
            "wrong prefix (other account)",
            "s3:PutObject",
            Some("AWSLogs/333333333333/CloudTrail/x.json.gz"),
            good.clone(),
            ImplicitDeny,
        ),
        (
            "wrong prefix (S3KeyPrefix not granted)",
            "s3:PutObject",
            Some("prefix/AWSLogs/111111111111/x.json.gz"),
            good.clone(),
            ImplicitDeny,
        ),
        (
            "missing ACL header",
            "s3:PutObject",
            Some(org_key),
            delivery_context(TRAIL_ARN, None),
            ImplicitDeny,
        ),
        (
            "wrong ACL",
            "s3:PutObject",
            Some(org_key),
            delivery_context(TRAIL_ARN, Some("private")),
            ImplicitDeny,
        ),
        (
            "action not granted",
            "s3:GetObject",
            Some(org_key),
            good.clone(),
            ImplicitDeny,
        ),
    ];
    for (name, action, key, context, expected) in rows {
        assert_eq!(delivery(&policy, action, key, &context), expected, "{name}");
    }
    // Anyone but CloudTrail gets nothing from this policy, even in the owner account.
    let owner_user = user(MGMT, "alice");
    let r = Request {
        caller: &owner_user,
        action: "s3:PutObject",
        resource: "arn:aws:s3:::myOrganizationBucket/AWSLogs/111111111111/x",
        context: &good,
    };
    assert_eq!(evaluate(&policy, &r), Effect::NoMatch);
    let other_service = Caller::service("config.amazonaws.com");
    assert_eq!(
        evaluate(
            &policy,
            &Request {
                caller: &other_service,
                ..r
            }
        ),
        Effect::NoMatch
    );
}

#[test]
fn cloudtrail_policy_variants() {
    let acl = Some("bucket-owner-full-control");
    let key = "AWSLogs/o-exampleorgid/222222222222/CloudTrail/x.json.gz";
    let variant = |condition: &str, principal: &str| {
        parse(
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"s3:PutObject","Resource":"arn:aws:s3:::myOrganizationBucket/AWSLogs/*","Condition":{condition}}}]}}"#
            ),
            &bucket_kind(),
        )
    };
    let svc = r#"{"Service":"cloudtrail.amazonaws.com"}"#;
    let rows: Vec<(&str, String, &str, Context, Decision)> = vec![
        ("StringLike trail wildcard", r#"{"StringLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111111111111:trail/*"}}"#.into(), svc, delivery_context(TRAIL_ARN, acl), Decision::Allow),
        ("StringLike trail wildcard, other owner", r#"{"StringLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111111111111:trail/*"}}"#.into(), svc, delivery_context("arn:aws:cloudtrail:us-east-1:222222222222:trail/T", acl), Decision::ImplicitDeny),
        ("ArnLike trail wildcard", r#"{"ArnLike":{"AWS:SourceArn":"arn:aws:cloudtrail:*:111111111111:trail/*"}}"#.into(), svc, delivery_context(TRAIL_ARN, acl), Decision::Allow),
        ("SourceArn list", format!(r#"{{"StringEquals":{{"aws:SourceArn":["arn:aws:cloudtrail:us-east-1:222222222222:trail/T","{TRAIL_ARN}"]}}}}"#), svc, delivery_context(TRAIL_ARN, acl), Decision::Allow),
        ("lowercase keys", r#"{"StringEquals":{"aws:sourceAccount":"111111111111","aws:sourcearn":"arn:aws:cloudtrail:us-east-1:111111111111:trail/OrgTrail","S3:X-AMZ-ACL":"bucket-owner-full-control"}}"#.into(), svc, delivery_context(TRAIL_ARN, acl), Decision::Allow),
        ("SourceAccount condition, wrong account", r#"{"StringEquals":{"aws:SourceAccount":"222222222222"}}"#.into(), svc, delivery_context(TRAIL_ARN, acl), Decision::ImplicitDeny),
        ("SourceOrgID condition", r#"{"StringEquals":{"aws:SourceOrgID":"o-exampleorgid"}}"#.into(), svc, delivery_context(TRAIL_ARN, acl), Decision::Allow),
        ("SourceOrgID condition, other org", r#"{"StringEquals":{"aws:SourceOrgID":"o-other"}}"#.into(), svc, delivery_context(TRAIL_ARN, acl), Decision::ImplicitDeny),
        ("Principal * works for the service", r#"{"StringEquals":{"aws:SourceAccount":"111111111111"}}"#.into(), r#""*""#, delivery_context(TRAIL_ARN, acl), Decision::Allow),
        ("Principal AWS * works for the service", r#"{"StringEquals":{"aws:SourceAccount":"111111111111"}}"#.into(), r#"{"AWS":"*"}"#, delivery_context(TRAIL_ARN, acl), Decision::Allow),
        ("account principal does not name the service", r#"{"StringEquals":{"aws:SourceAccount":"111111111111"}}"#.into(), r#"{"AWS":"111111111111"}"#, delivery_context(TRAIL_ARN, acl), Decision::ImplicitDeny),
    ];
    for (name, condition, principal, context, expected) in rows {
        let p = variant(&condition, principal);
        assert_eq!(
            delivery(&p, "s3:PutObject", Some(key), &context),
            expected,
            "{name}"
        );
    }
}

#[test]
fn cloudtrail_and_deny_statements() {
    let with_deny = |deny: &str| {
        let base: serde_json::Value = serde_json::from_str(ORG_TRAIL_POLICY).unwrap();
        let mut statements = base["Statement"].as_array().unwrap().clone();
        statements.push(serde_json::from_str(deny).unwrap());
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
        parse(&doc.to_string(), &bucket_kind())
    };
    let key = "AWSLogs/o-exampleorgid/222222222222/CloudTrail/x.json.gz";
    let acl = Some("bucket-owner-full-control");

    // The usual "deny non-TLS" statement does not block CloudTrail, whose writes are secure...
    let tls = with_deny(
        r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::myOrganizationBucket","arn:aws:s3:::myOrganizationBucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#,
    );
    assert_eq!(
        delivery(
            &tls,
            "s3:PutObject",
            Some(key),
            &delivery_context(TRAIL_ARN, acl)
        ),
        Decision::Allow
    );
    // ...but does block a write that claims to be insecure.
    let mut insecure = delivery_context(TRAIL_ARN, acl);
    insecure.set("aws:SecureTransport", "false");
    assert_eq!(
        delivery(&tls, "s3:PutObject", Some(key), &insecure),
        Decision::ExplicitDeny
    );

    // A Deny on aws:PrincipalOrgID catches the service, which carries no org id (spec §8 #13)...
    let org_only = with_deny(
        r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::myOrganizationBucket/*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-exampleorgid"}}}"#,
    );
    assert_eq!(
        delivery(
            &org_only,
            "s3:PutObject",
            Some(key),
            &delivery_context(TRAIL_ARN, acl)
        ),
        Decision::ExplicitDeny
    );
    // ...unless the statement exempts AWS services through the derived aws:PrincipalIsAWSService.
    let org_only_but_services = with_deny(
        r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::myOrganizationBucket/*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-exampleorgid"},"Bool":{"aws:PrincipalIsAWSService":"false"}}}"#,
    );
    assert_eq!(
        delivery(
            &org_only_but_services,
            "s3:PutObject",
            Some(key),
            &delivery_context(TRAIL_ARN, acl)
        ),
        Decision::Allow
    );
    // The same statement still keeps out IAM users from outside the organization.
    let outsider = user(OUTSIDER, "mallory");
    let r = Request {
        caller: &outsider,
        action: "s3:GetObject",
        resource: "arn:aws:s3:::myOrganizationBucket/AWSLogs/x",
        context: &Context::new(),
    };
    assert_eq!(evaluate(&org_only_but_services, &r), Effect::Deny);
}

fn identity(statement: &str) -> Policy {
    parse(
        &format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#),
        &PolicyKind::Identity,
    )
}

/// What refused, for a user of MEMBER asking for `action` on `*`.
fn refused_by(
    identity_policies: &[&Policy],
    boundary: Option<&Policy>,
    session: Option<&[&Policy]>,
    scps: &[Vec<&Policy>],
    action: &str,
) -> Option<(PolicyType, bool)> {
    let caller = user(MEMBER, "alice");
    let context = Context::new();
    authorize_explained(
        &Authorization {
            identity_policies,
            boundary,
            session_policies: session,
            scps,
            ..Authorization::default()
        },
        &Request {
            caller: &caller,
            action,
            resource: "*",
            context: &context,
        },
    )
    .refused_by
}

#[test]
fn each_kind_of_policy_refuses_in_its_own_words() {
    let admin = identity(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let s3_only = identity(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#);
    let no_stop = identity(r#"{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*"}"#);
    let id: Vec<&Policy> = vec![&admin];
    // Allowed by everything.
    assert_eq!(
        refused_by(&id, None, None, &[], "cloudtrail:StopLogging"),
        None
    );
    // Nothing allows it.
    assert_eq!(
        refused_by(&[], None, None, &[], "s3:GetObject"),
        Some((PolicyType::Identity, false))
    );
    // An explicit deny in the caller's own policies.
    assert_eq!(
        refused_by(
            &[&admin, &no_stop],
            None,
            None,
            &[],
            "cloudtrail:StopLogging"
        ),
        Some((PolicyType::Identity, true))
    );
    // A boundary that does not allow it caps the admin policy.
    assert_eq!(
        refused_by(&id, Some(&s3_only), None, &[], "cloudtrail:DescribeTrails"),
        Some((PolicyType::Boundary, false))
    );
    assert_eq!(
        refused_by(&id, Some(&s3_only), None, &[], "s3:ListBucket"),
        None
    );
    // A session policy narrows it.
    let session: Vec<&Policy> = vec![&s3_only];
    assert_eq!(
        refused_by(&id, None, Some(&session), &[], "cloudtrail:DescribeTrails"),
        Some((PolicyType::Session, false))
    );
    // Every SCP level must allow; an explicit deny at any level wins over everything.
    let full = identity(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let levels = vec![vec![&full], vec![&full, &no_stop], vec![&full]];
    assert_eq!(
        refused_by(&id, None, None, &levels, "cloudtrail:StopLogging"),
        Some((PolicyType::Scp, true))
    );
    assert_eq!(
        refused_by(&id, None, None, &levels, "cloudtrail:StartLogging"),
        None
    );
    let narrow = vec![vec![&full], vec![&s3_only]];
    assert_eq!(
        refused_by(&id, None, None, &narrow, "cloudtrail:StartLogging"),
        Some((PolicyType::Scp, false))
    );
    // The SCP's deny is named even when the caller's own policy denies too.
    assert_eq!(
        refused_by(
            &[&admin, &no_stop],
            None,
            None,
            &levels,
            "cloudtrail:StopLogging"
        ),
        Some((PolicyType::Scp, true))
    );
}

#[test]
fn a_resource_grant_to_the_user_itself_escapes_its_boundary() {
    let s3_only = identity(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#);
    let caller = user(MEMBER, "alice");
    let grant = parse(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{MEMBER}:user/alice"}},"Action":"sts:AssumeRole"}}]}}"#
        ),
        &PolicyKind::Trust,
    );
    let context = Context::new();
    let outcome = authorize_explained(
        &Authorization {
            identity_policies: &[],
            boundary: Some(&s3_only),
            resource_policy: Some(&grant),
            resource_owner: Some(MEMBER),
            ..Authorization::default()
        },
        &Request {
            caller: &caller,
            action: "sts:AssumeRole",
            resource: "arn:aws:iam::222222222222:role/R",
            context: &context,
        },
    );
    assert!(outcome.is_allowed(), "{outcome:?}");
}

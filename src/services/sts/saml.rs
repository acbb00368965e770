//! AssumeRoleWithSAML: a role session for the user a SAML 2.0 Response names. The Response
//! (base64 in `SAMLAssertion`) must be signed, over its Assertion or over itself, by a signing
//! certificate of the metadata of the IAM SAML provider `PrincipalArn`; issued at most five
//! minutes ago; within its Conditions (`NotBefore`, `NotOnOrAfter`) and its bearer
//! confirmation's `NotOnOrAfter`; for AWS (an `Audience` of `https://signin.aws.amazon.com/saml`,
//! a regional or partition sign-in endpoint, or `urn:amazon:webservices`); and its
//! `https://aws.amazon.com/SAML/Attributes/Role` attribute must pair the role with the
//! provider. `RoleSessionName`, `SessionDuration`, `PrincipalTag:*`, `TransitiveTagKeys` and
//! `SourceIdentity` attributes are read as AWS reads them.
//!
//! The role's trust policy must then allow `sts:AssumeRoleWithSAML` for
//! `{"Federated": <provider ARN>}`, with the keys AWS fills: `saml:aud` (the Recipient),
//! `saml:iss`, `saml:sub`, `saml:sub_type`, `saml:namequalifier`, `saml:doc`, and the
//! eduPerson/X.500 attributes (`saml:cn`, `saml:mail`, `saml:edupersonprincipalname`, ...).

use super::federated::{self, Grant};
use super::session_input;
use super::{constraint, duration, required, validation};
use crate::app::App;
use crate::auth::federation::saml::{self as fed, SamlError};
use crate::auth::principal::Federation;
use crate::auth::{directory, Principal, PrincipalKind};
use crate::error::AwsError;
use crate::policy::Context;
use crate::services::{QueryParams, RequestContext};
use crate::store::Writer;
use serde_json::{json, Value};

const ATTR: &str = "https://aws.amazon.com/SAML/Attributes/";
/// An assertion must be redeemed within five minutes of being issued.
const REDEEM_WITHIN_MS: i64 = 5 * 60 * 1000;

/// The attributes AWS turns into `saml:` condition keys, by name or OID.
const KEYED: &[(&str, &[&str])] = &[
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
        &["edupersonaffiliation"],
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.2", &["edupersonnickname"]),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.3", &["edupersonorgdn"]),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.4", &["edupersonorgunitdn"]),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.5",
        &["edupersonprimaryaffiliation"],
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
        &["edupersonprincipalname"],
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.7",
        &["edupersonentitlement"],
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.8",
        &["edupersonprimaryorgunitdn"],
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.9",
        &["edupersonscopedaffiliation"],
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.10",
        &["edupersontargetedid"],
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.11", &["edupersonassurance"]),
    ("urn:oid:2.5.4.3", &["cn", "commonName"]),
    ("urn:oid:2.5.4.4", &["surname"]),
    ("urn:oid:2.5.4.42", &["givenName"]),
    ("urn:oid:2.5.4.41", &["name"]),
    ("urn:oid:2.5.4.45", &["x500UniqueIdentifier"]),
    ("urn:oid:0.9.2342.19200300.100.1.1", &["uid"]),
    ("urn:oid:0.9.2342.19200300.100.1.3", &["mail"]),
];

fn invalid_token(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidIdentityToken", message)
}

fn expired(message: impl Into<String>) -> AwsError {
    AwsError::client("ExpiredTokenException", message)
}

/// Whether `a` is an audience that names AWS sign-in.
fn aws_audience(a: &str) -> bool {
    if a == "urn:amazon:webservices" {
        return true;
    }
    let Some(host) = a
        .strip_prefix("https://")
        .and_then(|r| r.strip_suffix("/saml"))
    else {
        return false;
    };
    let host = host
        .split_once('.')
        .filter(|(region, _)| region.contains('-'))
        .map_or(host, |(_, h)| h);
    matches!(
        host,
        "signin.aws.amazon.com" | "signin.amazonaws.cn" | "signin.amazonaws-us-gov.com"
    )
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

pub fn assume_role_with_saml(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    params: &QueryParams,
) -> Result<Value, AwsError> {
    let role_arn = required(params, "RoleArn", "roleArn")?;
    let provider_arn = required(params, "PrincipalArn", "principalArn")?;
    let assertion = required(params, "SAMLAssertion", "sAMLAssertion")?;
    for (v, member) in [(role_arn, "roleArn"), (provider_arn, "principalArn")] {
        if !(20..=2048).contains(&v.chars().count()) {
            return Err(constraint(
                v,
                member,
                "Member must have length greater than or equal to 20",
            ));
        }
    }
    if !(4..=100_000).contains(&assertion.chars().count()) {
        return Err(validation(format!(
            "1 validation error detected: Value at 'sAMLAssertion' failed to satisfy constraint: Member must have length {}",
            if assertion.chars().count() < 4 {
                "greater than or equal to 4"
            } else {
                "less than or equal to 100000"
            }
        )));
    }
    let requested = match params.get("DurationSeconds") {
        Some(_) => Some(duration(params, 900, 43200, 3600)?),
        None => None,
    };
    let input = session_input::read(w, params, false, false)?;
    super::assume_role::parse_role_arn(role_arn)
        .ok_or_else(|| validation(format!("{role_arn} is invalid")))?;

    let provider = match directory::parse_saml_arn(provider_arn) {
        Some((account, name)) => directory::saml_provider(w, account, name)?,
        None => None,
    }
    .filter(|p| p.arn() == provider_arn)
    .ok_or_else(|| invalid_token("Specified provider doesn't exist"))?;
    let metadata = fed::metadata(&provider.metadata)
        .ok_or_else(|| AwsError::internal(format!("metadata of {provider_arn}")))?;
    let response = fed::decode(assertion).map_err(|e| match e {
        SamlError::Malformed(m) => invalid_token(format!("Invalid SAML response: {m}")),
        other => invalid_token(format!("Invalid SAML response: {other:?}")),
    })?;
    let read = response.read();
    if let Err(SamlError::Encrypted) = read {
        return Err(AwsError::new(
            501,
            "NotImplemented",
            "AssumeRoleWithSAML with encrypted assertions is not implemented",
        ));
    }
    let a = read.map_err(|e| match e {
        SamlError::Malformed(m) => invalid_token(format!("Invalid SAML response: {m}")),
        _ => invalid_token("Invalid SAML response"),
    })?;
    response
        .verify(&metadata.signing_certificates)
        .map_err(|e| match e {
            SamlError::Malformed(m) => invalid_token(format!("Invalid SAML response: {m}")),
            _ => invalid_token("Response signature invalid"),
        })?;

    let now = ctx.time.timestamp_millis();
    if a.issue_instant.is_some_and(|t| now - t > REDEEM_WITHIN_MS) {
        return Err(expired(
            "Token must be redeemed within 5 minutes of issuance",
        ));
    }
    if let Some(nb) = a.not_before {
        if now < nb {
            return Err(invalid_token(format!(
                "The SAML assertion is not valid before {}",
                time(nb)
            )));
        }
    }
    for end in [a.not_on_or_after, a.confirmation_not_on_or_after]
        .into_iter()
        .flatten()
    {
        if now >= end {
            return Err(expired(format!(
                "The SAML assertion expired at {}",
                time(end)
            )));
        }
    }
    let Some(audience) = a.audiences.iter().find(|x| aws_audience(x)).cloned() else {
        return Err(invalid_token(
            "The SAML assertion's audience is not AWS (https://signin.aws.amazon.com/saml)",
        ));
    };
    let attr = |name: &str| a.attribute(&format!("{ATTR}{name}"));
    let paired = attr("Role").unwrap_or_default().iter().any(|v| {
        let parts: Vec<String> = v
            .split(',')
            .map(|p| crate::arn::canonical(p.trim()).into_owned())
            .collect();
        parts.len() == 2
            && ((parts[0] == role_arn && parts[1] == provider_arn)
                || (parts[1] == role_arn && parts[0] == provider_arn))
    });
    if !paired {
        return Err(AwsError::new(
            403,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithSAML",
        ));
    }
    let session_name = attr("RoleSessionName")
        .and_then(|v| v.first())
        .ok_or_else(|| invalid_token("RoleSessionName is required in AuthnResponse"))?
        .clone();
    if federated::check_session_name(&session_name).is_err() {
        return Err(invalid_token(format!(
            "The RoleSessionName in the SAML assertion is not valid: {session_name}"
        )));
    }
    let attribute_duration = match attr("SessionDuration").and_then(|v| v.first()) {
        None => None,
        Some(d) => match d.parse::<i64>() {
            Ok(n) if (900..=43200).contains(&n) => Some(n),
            _ => {
                return Err(invalid_token(format!(
                    "The SessionDuration in the SAML assertion is not valid: {d}"
                )))
            }
        },
    };
    let mut duration = requested.or(attribute_duration).unwrap_or(3600);
    if let Some(end) = a.session_not_on_or_after {
        let left = (end - now) / 1000;
        if left <= 0 {
            return Err(expired(format!(
                "The SAML session expired at {}",
                time(end)
            )));
        }
        duration = duration.min(left);
    }
    let carried = federated::assertion_carries(&a);
    carried.check(|m| invalid_token(m.to_string()))?;
    let input = carried.into_input(input)?;

    let qualifier = federated::name_qualifier(&a.issuer, provider_arn);
    let recipient = a.recipient.clone().unwrap_or_else(|| audience.clone());
    let mut context = Context::new();
    context.set("saml:aud", recipient.clone());
    context.set("saml:iss", a.issuer.clone());
    context.set("saml:sub", a.name_id.clone());
    context.set("saml:sub_type", a.subject_type.clone());
    context.set("saml:namequalifier", qualifier.clone());
    context.set(
        "saml:doc",
        format!("{}/{}", provider.account, provider.name),
    );
    for at in &a.attributes {
        for (oid, keys) in KEYED {
            if at.name == *oid || keys.iter().any(|k| k.eq_ignore_ascii_case(&at.name)) {
                for k in *keys {
                    context.set_multi(&format!("saml:{k}"), at.values.clone());
                }
            }
        }
    }
    let source_identity = input.source_identity.clone();
    let caller = Principal {
        account: provider.account.clone(),
        kind: PrincipalKind::SamlUser {
            provider: provider_arn.to_string(),
            name_qualifier: qualifier.clone(),
            subject: a.name_id.clone(),
        },
        access_key_id: String::new(),
        session: None,
    };
    let session = federated::assume(
        app,
        w,
        ctx,
        Grant {
            action: "sts:AssumeRoleWithSAML",
            role_arn,
            session_name: &session_name,
            caller,
            context,
            input,
            duration,
            federation: Federation::Saml {
                provider: provider_arn.to_string(),
            },
        },
    )?;
    let mut out = serde_json::Map::new();
    out.insert("Credentials".into(), session["Credentials"].clone());
    out.insert("AssumedRoleUser".into(), session["AssumedRoleUser"].clone());
    if let Some(size) = session.get("PackedPolicySize") {
        out.insert("PackedPolicySize".into(), size.clone());
    }
    out.insert("Subject".into(), json!(a.name_id));
    out.insert("SubjectType".into(), json!(a.subject_type));
    out.insert("Issuer".into(), json!(a.issuer));
    out.insert("Audience".into(), json!(recipient));
    out.insert("NameQualifier".into(), json!(qualifier));
    if let Some(id) = source_identity {
        out.insert("SourceIdentity".into(), json!(id));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    #[test]
    fn aws_audiences() {
        for a in [
            "https://signin.aws.amazon.com/saml",
            "https://us-east-2.signin.aws.amazon.com/saml",
            "https://signin.amazonaws.cn/saml",
            "urn:amazon:webservices",
        ] {
            assert!(super::aws_audience(a), "{a}");
        }
        for a in [
            "https://signin.aws.amazon.com.evil.example/saml",
            "https://evil.example/saml",
            "https://signin.aws.amazon.com/",
        ] {
            assert!(!super::aws_audience(a), "{a}");
        }
    }
}

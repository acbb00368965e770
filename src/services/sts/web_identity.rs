//! AssumeRoleWithWebIdentity: a role session for the user an OIDC ID token names. The token
//! is a JWT whose issuer (`iss`, with or without `https://`) is an IAM OIDC provider of the
//! role's account and whose audience (`azp`, or one of `aud`) is one of the provider's client
//! IDs; its signature is checked with the keys stored with the provider (`cairn admin
//! put-oidc-keys`: Cairn cannot fetch the issuer's JWKS), its `exp` and `nbf` against Cairn's
//! clock with AWS's five minutes of leeway. Then the role's trust policy must allow
//! `sts:AssumeRoleWithWebIdentity` for `{"Federated": <provider ARN>}`, with the condition
//! keys AWS fills from the token: `<provider>:aud` (`azp` when the token has one),
//! `<provider>:oaud` (then its `aud`), `<provider>:sub`, `<provider>:amr`.
//!
//! OAuth 2.0 access tokens (`ProviderId`: Login with Amazon, Facebook) and the issuers AWS
//! trusts without a registration (Google, Amazon Cognito) need their issuer's servers, which
//! Cairn cannot reach: those answer NotImplemented.

use super::federated::{self, Grant};
use super::session_input;
use super::{constraint, duration, required, validation};
use crate::app::App;
use crate::auth::federation::jwt::{Jwt, VerifyError};
use crate::auth::principal::Federation;
use crate::auth::{directory, Principal, PrincipalKind};
use crate::error::AwsError;
use crate::policy::Context;
use crate::services::{QueryParams, RequestContext};
use crate::store::Writer;
use serde_json::{json, Value};

/// AWS accepts tokens up to five minutes past `exp` (clock skew).
const LEEWAY_SECS: i64 = 300;

/// Issuers AWS verifies without an IAM provider, by asking their servers.
const BUILT_IN: &[&str] = &[
    "accounts.google.com",
    "cognito-identity.amazonaws.com",
    "www.amazon.com",
    "graph.facebook.com",
];

fn invalid_token(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidIdentityToken", message)
}

fn not_implemented(what: &str) -> AwsError {
    AwsError::new(
        501,
        "NotImplemented",
        format!("AssumeRoleWithWebIdentity {what} is not implemented"),
    )
}

pub fn assume_role_with_web_identity(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    params: &QueryParams,
) -> Result<Value, AwsError> {
    let role_arn = required(params, "RoleArn", "roleArn")?;
    let session_name = required(params, "RoleSessionName", "roleSessionName")?;
    let token = required(params, "WebIdentityToken", "webIdentityToken")?;
    if !(20..=2048).contains(&role_arn.chars().count()) {
        return Err(constraint(
            role_arn,
            "roleArn",
            "Member must have length greater than or equal to 20",
        ));
    }
    federated::check_session_name(session_name)?;
    if !(4..=20_000).contains(&token.chars().count()) {
        return Err(validation(format!(
            "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length {}",
            if token.chars().count() < 4 {
                "greater than or equal to 4"
            } else {
                "less than or equal to 20000"
            }
        )));
    }
    let duration = duration(params, 900, 43200, 3600)?;
    if let Some(p) = params.get("ProviderId") {
        if !(4..=2048).contains(&p.chars().count()) {
            return Err(constraint(
                p,
                "providerId",
                "Member must have length greater than or equal to 4",
            ));
        }
        return Err(not_implemented("with OAuth 2.0 access tokens (ProviderId)"));
    }
    let input = session_input::read(w, params, false, false)?;
    let (account, _, _) = super::assume_role::parse_role_arn(role_arn)
        .ok_or_else(|| validation(format!("{role_arn} is invalid")))?;

    let jwt = Jwt::parse(token).ok_or_else(|| {
        invalid_token(
            "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
        )
    })?;
    let iss = jwt
        .str_claim("iss")
        .ok_or_else(|| invalid_token("The ID Token provided has no issuer (iss)."))?;
    let name = federated::provider_name(iss);
    let Some(provider) = directory::oidc_provider(w, &account, name)? else {
        if BUILT_IN.contains(&name) {
            return Err(not_implemented(&format!(
                "with tokens of {name} without an IAM OIDC provider for it"
            )));
        }
        return Err(invalid_token(format!(
            "No OpenIDConnect provider found in your account for {iss}"
        )));
    };
    match jwt.verify(&provider.keys) {
        Ok(()) => {}
        Err(VerifyError::NoKey) => {
            return Err(invalid_token(
                "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
            ))
        }
        Err(VerifyError::Algorithm(alg)) => {
            return Err(invalid_token(format!(
                "The ID Token is signed with an algorithm that is not supported: {alg}"
            )))
        }
        Err(VerifyError::Invalid) => {
            return Err(invalid_token(
                "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.",
            ))
        }
    }
    let now = ctx.time.timestamp();
    let exp = jwt
        .time_claim("exp")
        .ok_or_else(|| invalid_token("The ID Token provided has no expiration (exp)."))?;
    if now > exp + LEEWAY_SECS {
        return Err(AwsError::client(
            "ExpiredTokenException",
            format!(
                "Token expired: current date/time {now} must be before the expiration date/time {exp}"
            ),
        ));
    }
    if let Some(nbf) = jwt.time_claim("nbf") {
        if now + LEEWAY_SECS < nbf {
            return Err(invalid_token(format!(
                "Token is not yet valid: current date/time {now} must be after the not-before date/time {nbf}"
            )));
        }
    }
    let audience = federated::token_audience(&jwt, Some(&provider.client_ids))
        .ok_or_else(|| invalid_token("Incorrect token audience"))?;
    let subject = jwt
        .str_claim("sub")
        .ok_or_else(|| invalid_token("The ID Token provided has no subject (sub)."))?
        .to_string();
    let carried = federated::token_carries(&jwt);
    carried.check(|m| invalid_token(m.to_string()))?;
    let input = carried.into_input(input)?;

    let provider_arn = provider.arn();
    let mut context = Context::new();
    context.set(&format!("{name}:aud"), audience.clone());
    if jwt.str_claim("azp").is_some() {
        context.set_multi(&format!("{name}:oaud"), jwt.strings_claim("aud"));
    }
    context.set(&format!("{name}:sub"), subject.clone());
    let amr = jwt.strings_claim("amr");
    if !amr.is_empty() {
        context.set_multi(&format!("{name}:amr"), amr);
    }
    let source_identity = input.source_identity.clone();
    let caller = Principal {
        account: account.clone(),
        kind: PrincipalKind::WebIdentityUser {
            provider: provider_arn.clone(),
            audience: audience.clone(),
            subject: subject.clone(),
        },
        access_key_id: String::new(),
        session: None,
    };
    let session = federated::assume(
        app,
        w,
        ctx,
        Grant {
            action: "sts:AssumeRoleWithWebIdentity",
            role_arn,
            session_name,
            caller,
            context,
            input,
            duration,
            federation: Federation::WebIdentity {
                provider: provider_arn.clone(),
            },
        },
    )?;
    // The members in the order of the model's output shape.
    let mut out = serde_json::Map::new();
    out.insert("Credentials".into(), session["Credentials"].clone());
    out.insert("SubjectFromWebIdentityToken".into(), json!(subject));
    out.insert("AssumedRoleUser".into(), session["AssumedRoleUser"].clone());
    if let Some(size) = session.get("PackedPolicySize") {
        out.insert("PackedPolicySize".into(), size.clone());
    }
    out.insert("Provider".into(), json!(provider_arn));
    out.insert("Audience".into(), json!(audience));
    if let Some(id) = source_identity {
        out.insert("SourceIdentity".into(), json!(id));
    }
    Ok(Value::Object(out))
}

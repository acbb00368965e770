//! AWS STS (query protocol): who am I, temporary credentials (AssumeRole and its federated
//! siblings, GetSessionToken, GetFederationToken), and the key and message decoders. One file
//! per family of operations; this one dispatches and holds what they share (parameter checks,
//! session policies and tags, the credentials shape).

mod assume_role;
mod assume_root;
mod federated;
mod info;
mod saml;
mod session_input;
mod tokens;
mod web_identity;

use super::{iso8601, QueryParams, RequestContext};
use crate::app::App;
use crate::auth::session::TemporaryCredentials;
use crate::error::AwsError;
use crate::store::Writer;
use serde_json::{json, Value};

/// Runs inside the call's store transaction, like every operation.
pub fn call(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    action: &str,
    params: &QueryParams,
) -> Result<Value, AwsError> {
    match action {
        "GetCallerIdentity" => Ok(info::get_caller_identity(ctx)),
        "GetAccessKeyInfo" => info::get_access_key_info(w, ctx, params),
        "DecodeAuthorizationMessage" => info::decode_authorization_message(app, w, ctx, params),
        "AssumeRole" => assume_role::assume_role(app, w, ctx, params),
        "AssumeRoleWithWebIdentity" => {
            web_identity::assume_role_with_web_identity(app, w, ctx, params)
        }
        "AssumeRoleWithSAML" => saml::assume_role_with_saml(app, w, ctx, params),
        "AssumeRoot" => assume_root::assume_root(app, w, ctx, params),
        "GetSessionToken" => tokens::get_session_token(app, w, ctx, params),
        "GetFederationToken" => tokens::get_federation_token(app, w, ctx, params),
        other if known(other) => Err(AwsError::new(
            501,
            "NotImplemented",
            format!("{other} is not implemented"),
        )),
        other => Err(unknown_action(other)),
    }
}

/// Whether the STS model has this action (served or not).
pub fn known(action: &str) -> bool {
    super::catalog::STS.contains(&action)
}

pub fn unknown_action(action: &str) -> AwsError {
    AwsError::client(
        "InvalidAction",
        format!("Could not find operation {action} for version 2011-06-15"),
    )
}

/// Members that are numbers in the model, recorded as numbers.
const NUMERIC: &[&str] = &["DurationSeconds"];

/// The record's `requestParameters`: the call's parameters in lowerCamelCase, lists as arrays,
/// numbers as numbers; `null` when there are none.
pub fn request_parameters(params: &QueryParams) -> Option<Value> {
    federated::request_parameters(params, params.to_json(NUMERIC))
}

pub use federated::{caller as federated_caller, unsigned};

pub(crate) fn validation(message: String) -> AwsError {
    AwsError::client("ValidationError", message)
}

pub(crate) fn constraint(value: &str, member: &str, rule: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

pub(crate) fn required<'a>(
    params: &'a QueryParams,
    name: &str,
    member: &str,
) -> Result<&'a str, AwsError> {
    params.get(name).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// `DurationSeconds` within `min..=max`, `default` when absent.
pub(crate) fn duration(
    params: &QueryParams,
    min: i64,
    max: i64,
    default: i64,
) -> Result<i64, AwsError> {
    let Some(v) = params.get("DurationSeconds") else {
        return Ok(default);
    };
    let d: i64 = v.parse().map_err(|_| {
        constraint(
            v,
            "durationSeconds",
            &format!("Member must have value greater than or equal to {min}"),
        )
    })?;
    if d < min {
        return Err(constraint(
            v,
            "durationSeconds",
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if d > max {
        return Err(constraint(
            v,
            "durationSeconds",
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(d)
}

/// The `Credentials` structure of every operation that issues temporary credentials.
pub(crate) fn credentials_json(
    c: &TemporaryCredentials,
    expires_at: i64,
    ctx: &RequestContext,
) -> Value {
    let expiration = chrono::DateTime::from_timestamp(expires_at, 0).unwrap_or(ctx.time);
    json!({
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key,
        "SessionToken": c.session_token,
        "Expiration": iso8601(expiration),
    })
}

/// AWS refuses MFA codes it cannot check; Cairn has no MFA devices, so every code is one.
pub(crate) fn refuse_mfa(params: &QueryParams) -> Result<(), AwsError> {
    if params.get("SerialNumber").is_some() || params.get("TokenCode").is_some() {
        return Err(AwsError::new(
            403,
            "AccessDenied",
            "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
        ));
    }
    Ok(())
}

//! Who am I (GetCallerIdentity, never denied), whose key is this (GetAccessKeyInfo), and what
//! an encoded authorization failure message says (DecodeAuthorizationMessage).

use super::{constraint, required};
use crate::access::{self, Ask, Facts};
use crate::app::App;
use crate::auth::directory;
use crate::error::AwsError;
use crate::services::{QueryParams, RequestContext};
use crate::store::Writer;
use serde_json::{json, Value};

pub fn get_caller_identity(ctx: &RequestContext) -> Value {
    json!({
        "UserId": ctx.principal.user_id(),
        "Account": ctx.principal.account,
        "Arn": ctx.principal.arn(),
    })
}

/// The account a key id belongs to: a stored key's own account, else the account its id
/// carries (temporary keys, and keys of other accounts). Needs no permission.
pub fn get_access_key_info(
    w: &mut dyn Writer,
    _ctx: &RequestContext,
    params: &QueryParams,
) -> Result<Value, AwsError> {
    let id = required(params, "AccessKeyId", "accessKeyId")?;
    if id.len() < 16 {
        return Err(constraint(
            id,
            "accessKeyId",
            "Member must have length greater than or equal to 16",
        ));
    }
    if id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(constraint(
            id,
            "accessKeyId",
            r"Member must satisfy regular expression pattern: [\w]*",
        ));
    }
    let account = match directory::access_key(w, id)? {
        Some(k) => Some(k.account),
        None => crate::ids::key_account(id),
    };
    let account = account.ok_or_else(|| {
        AwsError::client(
            "InvalidParameterValue",
            format!("The access key ID {id} is not valid."),
        )
    })?;
    Ok(json!({"Account": account}))
}

/// Decodes an authorization failure message: messages Cairn encodes are sealed with the
/// server's master key, so only this server reads them back.
pub fn decode_authorization_message(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    params: &QueryParams,
) -> Result<Value, AwsError> {
    let encoded = required(params, "EncodedMessage", "encodedMessage")?;
    if encoded.len() > 10240 {
        return Err(constraint(
            "...",
            "encodedMessage",
            "Member must have length less than or equal to 10240",
        ));
    }
    access::require(
        w,
        &Facts::of(ctx),
        Ask::new("sts:DecodeAuthorizationMessage", "*"),
    )
    .map_err(|e| e.into_error(403, "AccessDenied"))?;
    let decoded = app
        .auth
        .sealer()
        .open(encoded)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            AwsError::client(
                "InvalidAuthorizationMessageException",
                "Invalid authorization message",
            )
        })?;
    Ok(json!({"DecodedMessage": decoded}))
}

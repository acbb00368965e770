//! GetSessionToken and GetFederationToken: temporary credentials for an IAM user (or the root
//! user) made with its long-term keys. A session token acts as its user; a federation token
//! acts as a federated user whose rights are the user's, narrowed by the session policies
//! passed (none passed: no rights at all).

use super::session_input;
use super::{constraint, credentials_json, duration, refuse_mfa, required};
use crate::access::{self, Ask, Facts};
use crate::app::App;
use crate::auth::{session, Principal, PrincipalKind, Session};
use crate::error::AwsError;
use crate::services::{QueryParams, RequestContext};
use crate::store::Writer;
use serde_json::{json, Value};

/// Root sessions last at most an hour; users' up to 36 hours, 12 by default.
fn limits(p: &Principal) -> (i64, i64) {
    match p.kind {
        PrincipalKind::Root => (3600, 3600),
        _ => (129_600, 43_200),
    }
}

fn long_term_only(p: &Principal, op: &str) -> Result<(), AwsError> {
    match p.kind {
        PrincipalKind::Root | PrincipalKind::User { .. } if p.session.is_none() => Ok(()),
        _ => Err(AwsError::new(
            403,
            "AccessDenied",
            format!("Cannot call {op} with session credentials"),
        )),
    }
}

pub fn get_session_token(
    app: &App,
    _w: &mut dyn Writer,
    ctx: &RequestContext,
    params: &QueryParams,
) -> Result<Value, AwsError> {
    let caller = &ctx.principal;
    let (max, default) = limits(caller);
    let duration = duration(params, 900, 129_600, default)?.min(max);
    long_term_only(caller, "GetSessionToken")?;
    refuse_mfa(params)?;
    let issued = ctx.time.timestamp();
    let expires = issued + duration;
    let mut principal = caller.clone();
    principal.session = Some(Box::new(Session {
        window: Some((issued, expires)),
        ..Session::default()
    }));
    let creds = session::issue(
        app.auth.sealer(),
        principal,
        expires,
        &app.auth.generation(),
    );
    Ok(json!({"Credentials": credentials_json(&creds, expires, ctx)}))
}

pub fn get_federation_token(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    params: &QueryParams,
) -> Result<Value, AwsError> {
    let name = required(params, "Name", "name")?;
    if !(2..=32).contains(&name.chars().count()) {
        return Err(constraint(
            name,
            "name",
            "Member must have length less than or equal to 32",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
    {
        return Err(constraint(
            name,
            "name",
            r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
        ));
    }
    let caller = &ctx.principal;
    let (max, default) = limits(caller);
    let duration = duration(params, 900, 129_600, default)?.min(max);
    if let Some(p) = params.get("Policy") {
        if p.len() > 2048 {
            return Err(constraint(
                p,
                "policy",
                "Member must have length less than or equal to 2048",
            ));
        }
    }
    let input = session_input::read(w, params, false, false)?;
    long_term_only(caller, "GetFederationToken")?;
    let user_name = match &caller.kind {
        PrincipalKind::User { name, .. } => name.clone(),
        _ => {
            return Err(AwsError::new(
                403,
                "AccessDenied",
                "Cannot call GetFederationToken with root credentials",
            ))
        }
    };
    let arn = format!("arn:aws:sts::{}:federated-user/{name}", caller.account);
    access::require(w, &Facts::of(ctx), Ask::new("sts:GetFederationToken", &arn))
        .map_err(|e| e.into_error(403, "AccessDenied"))?;
    let issued = ctx.time.timestamp();
    let expires = issued + duration;
    let principal = Principal {
        account: caller.account.clone(),
        kind: PrincipalKind::FederatedUser {
            name: name.to_string(),
            user_name,
            expires_at: expires,
        },
        access_key_id: String::new(),
        // Without a session policy a federated user may do nothing.
        session: Some(Box::new(Session {
            policy: Some(
                input
                    .policy
                    .clone()
                    .unwrap_or_else(|| access::NOTHING.to_string()),
            ),
            policy_arns: input.policy_arns.clone(),
            tags: input.tags.clone(),
            window: Some((issued, expires)),
            ..Session::default()
        })),
    };
    let creds = session::issue(
        app.auth.sealer(),
        principal,
        expires,
        &app.auth.generation(),
    );
    let mut out = json!({
        "Credentials": credentials_json(&creds, expires, ctx),
        "FederatedUser": {
            "FederatedUserId": creds.principal.user_id(),
            "Arn": creds.principal.arn(),
        },
    });
    if let Some(size) = input.packed_size() {
        out["PackedPolicySize"] = json!(size);
    }
    Ok(out)
}

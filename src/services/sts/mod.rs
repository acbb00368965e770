//! AWS STS: GetCallerIdentity and AssumeRole (query protocol).

use super::{access, iso8601, QueryParams, RequestContext};
use crate::app::App;
use crate::auth::{directory, session, PrincipalKind};
use crate::error::AwsError;
use crate::policy::{Context, Decision, Policy, PolicyKind};
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
        "GetCallerIdentity" => Ok(get_caller_identity(ctx)),
        "AssumeRole" => assume_role(app, w, ctx, params),
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

/// The record's `requestParameters`: the call's parameters in lowerCamelCase, numbers as
/// numbers; `null` when there are none.
pub fn request_parameters(params: &QueryParams) -> Option<Value> {
    let mut m = serde_json::Map::new();
    for (k, v) in &params.0 {
        if k == "Action" || k == "Version" {
            continue;
        }
        let value = match k.as_str() {
            "DurationSeconds" => v
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| json!(v)),
            _ => json!(v),
        };
        m.insert(k.clone(), value);
    }
    (!m.is_empty()).then(|| crate::audit::record::lower_camel(&Value::Object(m)))
}

fn get_caller_identity(ctx: &RequestContext) -> Value {
    json!({
        "UserId": ctx.principal.user_id(),
        "Account": ctx.principal.account,
        "Arn": ctx.principal.arn(),
    })
}

fn validation(message: String) -> AwsError {
    AwsError::client("ValidationError", message)
}

fn constraint(value: &str, member: &str, rule: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

fn required<'a>(params: &'a QueryParams, name: &str, member: &str) -> Result<&'a str, AwsError> {
    params.get(name).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// `arn:aws:iam::<account>:role/<path/>name` → (account, path, name).
fn parse_role_arn(arn: &str) -> Option<(String, String, String)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let full = resource.strip_prefix("role/")?;
    let (path, name) = match full.rfind('/') {
        Some(i) => (format!("/{}", &full[..=i]), &full[i + 1..]),
        None => ("/".to_string(), full),
    };
    (!name.is_empty()).then(|| (account.to_string(), path, name.to_string()))
}

fn assume_role(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    params: &QueryParams,
) -> Result<Value, AwsError> {
    let role_arn = required(params, "RoleArn", "roleArn")?;
    let session_name = required(params, "RoleSessionName", "roleSessionName")?;
    if !(20..=2048).contains(&role_arn.len()) {
        return Err(constraint(
            role_arn,
            "roleArn",
            "Member must have length greater than or equal to 20",
        ));
    }
    if !(2..=64).contains(&session_name.chars().count()) {
        return Err(constraint(
            session_name,
            "roleSessionName",
            "Member must have length less than or equal to 64",
        ));
    }
    if !session_name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
    {
        return Err(constraint(
            session_name,
            "roleSessionName",
            r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
        ));
    }
    let duration: i64 = match params.get("DurationSeconds") {
        None => 3600,
        Some(v) => v.parse().map_err(|_| {
            constraint(
                v,
                "durationSeconds",
                "Member must have value greater than or equal to 900",
            )
        })?,
    };
    if duration < 900 {
        return Err(constraint(
            &duration.to_string(),
            "durationSeconds",
            "Member must have value greater than or equal to 900",
        ));
    }
    if duration > 43200 {
        return Err(constraint(
            &duration.to_string(),
            "durationSeconds",
            "Member must have value less than or equal to 43200",
        ));
    }
    let external_id = params.get("ExternalId");
    if let Some(e) = external_id {
        if !(2..=1224).contains(&e.len()) {
            return Err(constraint(
                e,
                "externalId",
                "Member must have length greater than or equal to 2",
            ));
        }
    }
    // Session policies, tags and MFA change what the session may do; until they are honoured the
    // call says so instead of handing out a session that ignores them.
    for unsupported in ["Policy", "SerialNumber", "TokenCode", "SourceIdentity"] {
        if params.get(unsupported).is_some() {
            return Err(AwsError::new(
                501,
                "NotImplemented",
                format!("AssumeRole with {unsupported} is not implemented"),
            ));
        }
    }
    if params.0.iter().any(|(k, _)| {
        k.starts_with("PolicyArns.") || k.starts_with("Tags.") || k.starts_with("ProvidedContexts.")
    }) {
        return Err(AwsError::new(
            501,
            "NotImplemented",
            "AssumeRole with session policies, tags or provided contexts is not implemented",
        ));
    }

    let caller = &ctx.principal;
    if matches!(caller.kind, PrincipalKind::Root) {
        return Err(AwsError::new(
            403,
            "AccessDenied",
            "Roles may not be assumed by root accounts.",
        ));
    }
    let denied = || {
        AwsError::new(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                caller.arn(),
                role_arn
            ),
        )
    };
    let (account, _path, name) =
        parse_role_arn(role_arn).ok_or_else(|| validation(format!("{role_arn} is invalid")))?;
    let role = directory::role(w, &account, &name)?;
    let Some(role) = role else {
        return Err(denied());
    };
    if role.arn() != role_arn {
        return Err(denied());
    }
    let trust = Policy::parse(&role.trust_policy, &PolicyKind::Trust).map_err(|e| {
        AwsError::internal(format!("trust policy of {}: {}", role.arn(), e.message))
    })?;
    let mut context = Context::new();
    context.set("sts:RoleSessionName", session_name);
    if let Some(e) = external_id {
        context.set("sts:ExternalId", e);
    }
    context.set(
        "aws:SecureTransport",
        if ctx.secure { "true" } else { "false" },
    );
    context.set("aws:SourceIp", ctx.source_ip.to_string());
    let decision = access::decide(
        w,
        caller,
        "sts:AssumeRole",
        &role.arn(),
        Some(&trust),
        Some(&role.account),
        &context,
    )?;
    if decision != Decision::Allow {
        return Err(denied());
    }
    if caller.is_assumed_role() && duration > 3600 {
        return Err(validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".into(),
        ));
    }
    if duration > i64::from(role.max_session_secs) {
        return Err(validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .into(),
        ));
    }
    let issued = ctx.time.timestamp();
    let expires = issued + duration;
    let creds = session::issue(
        app.auth.sealer(),
        &session::RoleSession {
            account: &role.account,
            role_name: &role.name,
            role_path: &role.path,
            role_id: &role.id,
            session_name,
            issued_at: issued,
            expires_at: expires,
            generation: &app.auth.generation(),
        },
    );
    let expiration = chrono::DateTime::from_timestamp(expires, 0).unwrap_or(ctx.time);
    Ok(json!({
        "Credentials": {
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key,
            "SessionToken": creds.session_token,
            "Expiration": iso8601(expiration),
        },
        "AssumedRoleUser": {
            "AssumedRoleId": creds.principal.user_id(),
            "Arn": creds.principal.arn(),
        },
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn role_arns() {
        assert_eq!(
            super::parse_role_arn("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"),
            Some((
                "222222222222".into(),
                "/".into(),
                "OrganizationAccountAccessRole".into()
            ))
        );
        assert_eq!(
            super::parse_role_arn("arn:aws:iam::222222222222:role/a/b/R"),
            Some(("222222222222".into(), "/a/b/".into(), "R".into()))
        );
        assert_eq!(super::parse_role_arn("arn:aws:iam::2222:role/R"), None);
        assert_eq!(
            super::parse_role_arn("arn:aws:iam::222222222222:user/R"),
            None
        );
    }
}

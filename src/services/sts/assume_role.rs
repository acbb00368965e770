//! AssumeRole: a session of a role, allowed by the role's trust policy (and, across accounts or
//! when the trust names only the account, by the caller's own policies), narrowed by session
//! policies, carrying session tags and a source identity (spec §7.3).

use super::session_input::{self, SessionInput};
use super::{constraint, credentials_json, duration, refuse_mfa, required, validation};
use crate::access::{self, Ask, Facts};
use crate::app::App;
use crate::auth::{directory, session, PrincipalKind, Session};
use crate::error::AwsError;
use crate::policy::{Context, Policy, PolicyKind};
use crate::services::{QueryParams, RequestContext};
use crate::store::Writer;
use serde_json::{json, Value};

/// `arn:aws:iam::<account>:role/<path/>name` → (account, path, name).
pub fn parse_role_arn(arn: &str) -> Option<(String, String, String)> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(":iam::")?;
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

/// The first of `actions` (`sts:AssumeRole*`, then `sts:TagSession`, `sts:SetSourceIdentity`
/// when the session asks for them) that the role's trust policy, and across accounts the
/// caller's own policies, do not allow.
pub fn trust_refuses<'a>(
    w: &dyn crate::store::Reader,
    facts: &Facts,
    role: &directory::Role,
    trust: &Policy,
    context: &Context,
    actions: &[&'a str],
) -> Result<Option<&'a str>, AwsError> {
    let arn = role.arn();
    for action in actions {
        let outcome = access::decide(
            w,
            facts,
            Ask {
                action,
                resource: &arn,
                resource_policy: Some(trust),
                resource_owner: Some(&role.account),
                context: context.clone(),
            },
        )?;
        if !outcome.is_allowed() {
            return Ok(Some(action));
        }
    }
    Ok(None)
}

fn session_name_ok(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
}

pub fn assume_role(
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
    if !session_name_ok(session_name) {
        return Err(constraint(
            session_name,
            "roleSessionName",
            r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
        ));
    }
    let duration = duration(params, 900, 43200, 3600)?;
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
    if params.has("ProvidedContexts") {
        // Trusted context providers (IAM Identity Center) have no counterpart here.
        return Err(AwsError::new(
            501,
            "NotImplemented",
            "AssumeRole with provided contexts is not implemented",
        ));
    }
    refuse_mfa(params)?;
    let input = session_input::read(w, params, true, true)?;

    let caller = &ctx.principal;
    if matches!(caller.kind, PrincipalKind::Root) {
        return Err(AwsError::new(
            403,
            "AccessDenied",
            "Roles may not be assumed by root accounts.",
        ));
    }
    let denied = |action: &str| {
        AwsError::new(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: {action} on resource: {role_arn}",
                caller.arn()
            ),
        )
    };
    let (account, _path, name) =
        parse_role_arn(role_arn).ok_or_else(|| validation(format!("{role_arn} is invalid")))?;
    let Some(role) = directory::role(w, &account, &name)? else {
        return Err(denied("sts:AssumeRole"));
    };
    if role.arn() != role_arn {
        return Err(denied("sts:AssumeRole"));
    }
    let trust = Policy::parse(&role.trust_policy, &PolicyKind::Trust).map_err(|e| {
        AwsError::internal(format!("trust policy of {}: {}", role.arn(), e.message))
    })?;

    // What the caller's session passes on: its transitive tags and its source identity.
    let inherited = caller.session.as_deref();
    let mut tags = input.tags.clone();
    let mut transitive = input.transitive.clone();
    if let Some(prev) = inherited {
        for key in &prev.transitive_tag_keys {
            if let Some((k, v)) = prev.tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                if tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)) {
                    return Err(AwsError::client(
                        "InvalidParameterValue",
                        "One or more specified tag keys conflict with transitive tag keys of the calling session.",
                    ));
                }
                tags.push((k.clone(), v.clone()));
                transitive.push(k.clone());
            }
        }
    }
    let source_identity = match (
        inherited.and_then(|s| s.source_identity.clone()),
        &input.source_identity,
    ) {
        (Some(prev), Some(new)) if &prev != new => {
            return Err(AwsError::new(
                403,
                "AccessDenied",
                "The source identity of a role session cannot be changed in a role chain.",
            ))
        }
        (Some(prev), _) => Some(prev),
        (None, new) => new.clone(),
    };

    let mut context = Context::new();
    context.set("sts:RoleSessionName", session_name);
    if let Some(e) = external_id {
        context.set("sts:ExternalId", e);
    }
    for (k, v) in &tags {
        context.set(&format!("aws:RequestTag/{k}"), v.clone());
    }
    if !tags.is_empty() {
        context.set_multi("aws:TagKeys", tags.iter().map(|(k, _)| k.clone()).collect());
    }
    if !transitive.is_empty() {
        context.set_multi("sts:TransitiveTagKeys", transitive.clone());
    }
    if let Some(id) = &source_identity {
        context.set("sts:SourceIdentity", id.clone());
    }
    let facts = Facts::of(ctx);
    let mut actions = vec!["sts:AssumeRole"];
    if !input.tags.is_empty() {
        actions.push("sts:TagSession");
    }
    if input.source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    if let Some(action) = trust_refuses(w, &facts, &role, &trust, &context, &actions)? {
        return Err(denied(action));
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
    directory::note_role_use(w, &role, ctx.time.timestamp_millis(), &ctx.region)?;
    let issued = ctx.time.timestamp();
    let expires = issued + duration;
    let mut principal = session::role_principal(
        &role.account,
        &role.name,
        &role.path,
        &role.id,
        session_name,
        issued,
        expires,
    );
    let SessionInput {
        policy,
        policy_arns,
        ..
    } = &input;
    principal.session = Some(Box::new(Session {
        policy: policy.clone(),
        policy_arns: policy_arns.clone(),
        tags,
        transitive_tag_keys: transitive,
        source_identity: source_identity.clone(),
        ..Session::default()
    }));
    let creds = session::issue(
        app.auth.sealer(),
        principal,
        expires,
        &app.auth.generation(),
    );
    let mut out = json!({
        "Credentials": credentials_json(&creds, expires, ctx),
        "AssumedRoleUser": {
            "AssumedRoleId": creds.principal.user_id(),
            "Arn": creds.principal.arn(),
        },
    });
    if let Some(size) = input.packed_size() {
        out["PackedPolicySize"] = json!(size);
    }
    if let Some(id) = source_identity {
        out["SourceIdentity"] = json!(id);
    }
    Ok(out)
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
        assert_eq!(
            super::parse_role_arn("arn:aws-cn:iam::222222222222:role/R"),
            Some(("222222222222".into(), "/".into(), "R".into()))
        );
        assert_eq!(super::parse_role_arn("arn:aws:iam::2222:role/R"), None);
        assert_eq!(
            super::parse_role_arn("arn:aws:iam::222222222222:user/R"),
            None
        );
    }
}

//! AssumeRoot: the management account (with centralized root access: IAM's RootSessions
//! feature, and IAM's trusted access in Organizations) steps into a member account's root user
//! for one task, bounded by an AWS managed task policy, for at most 15 minutes.

use super::{constraint, credentials_json, duration, required};
use crate::access::{self, Ask, Facts};
use crate::app::App;
use crate::auth::directory::managed;
use crate::auth::{session, Principal, PrincipalKind, Session};
use crate::error::AwsError;
use crate::policy::Context;
use crate::services::iam::features;
use crate::services::organizations::view;
use crate::services::{QueryParams, RequestContext};
use crate::store::Writer;
use serde_json::{json, Value};

/// The task policies AWS offers for root sessions.
fn is_task_policy(arn: &str) -> bool {
    arn.starts_with("arn:aws:iam::aws:policy/root-task/") && managed::find(arn).is_some()
}

pub fn assume_root(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    params: &QueryParams,
) -> Result<Value, AwsError> {
    let target = required(params, "TargetPrincipal", "targetPrincipal")?;
    let task = params.get("TaskPolicyArn.arn").ok_or_else(|| {
        super::validation(
            "1 validation error detected: Value null at 'taskPolicyArn' failed to satisfy constraint: Member must not be null".into(),
        )
    })?;
    let duration = duration(params, 0, 900, 900)?;
    if !(12..=2048).contains(&target.len()) {
        return Err(constraint(
            target,
            "targetPrincipal",
            "Member must have length greater than or equal to 12",
        ));
    }
    let caller = &ctx.principal;
    // The target is a member account's id (or its root ARN).
    let account = target
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.strip_suffix(":root"))
        .unwrap_or(target);
    let denied = |why: &str| AwsError::new(403, "AccessDenied", why.to_string());
    if !is_task_policy(task) {
        return Err(denied(&format!(
            "The task policy {task} is not a task policy AWS offers for root sessions."
        )));
    }
    let org = view::organization_of(w, &caller.account)?
        .filter(|o| o.management_account == caller.account)
        .ok_or_else(|| {
            denied("AssumeRoot can be called only from the management account of an organization.")
        })?;
    if !features::enabled(w, &org.id, features::ROOT_SESSIONS)? {
        return Err(denied(
            "Centralized root access (RootSessions) is not enabled for the organization.",
        ));
    }
    let member = view::organization_of(w, account)?.is_some_and(|o| o.id == org.id);
    if !member || account == caller.account {
        return Err(denied(&format!(
            "The target principal {target} is not a member account of the organization."
        )));
    }
    let resource = format!("arn:aws:iam::{account}:root");
    let mut context = Context::new();
    context.set("sts:TaskPolicyArn", task);
    let mut ask = Ask::new("sts:AssumeRoot", &resource);
    ask.context = context;
    access::require(w, &Facts::of(ctx), ask).map_err(|e| e.into_error(403, "AccessDenied"))?;
    let issued = ctx.time.timestamp();
    let expires = issued + duration;
    let principal = Principal {
        account: account.to_string(),
        kind: PrincipalKind::Root,
        access_key_id: String::new(),
        session: Some(Box::new(Session {
            task_policy: Some(task.to_string()),
            window: Some((issued, expires)),
            source_identity: Some(caller.arn()),
            ..Session::default()
        })),
    };
    let creds = session::issue(
        app.auth.sealer(),
        principal,
        expires,
        &app.auth.generation(),
    );
    Ok(json!({
        "Credentials": credentials_json(&creds, expires, ctx),
        "SourceIdentity": caller.arn(),
    }))
}

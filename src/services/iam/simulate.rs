//! IAM's policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy, answered by the
//! access room and the policy engine that authorize real calls, so a simulation and the call it
//! simulates cannot disagree.

use super::errors::{invalid_input, no_such_entity};
use super::Call;
use crate::access::{self, cache, Ask, Facts, Overrides};
use crate::auth::directory::{self, managed, Inline};
use crate::auth::{Principal, PrincipalKind};
use crate::error::AwsError;
use crate::policy::{self, Authorization, Context, Decision, Effect, Policy, PolicyKind};
use crate::store::{Reader, Writer};
use serde_json::{json, Value};
use std::sync::Arc;

/// A policy in the simulation, with where it came from (`SourcePolicyId`, `SourcePolicyType`).
struct Source {
    id: String,
    kind: &'static str,
    policy: Arc<Policy>,
}

fn parse_input(text: &str, kind: PolicyKind) -> Result<Arc<Policy>, AwsError> {
    Policy::parse(text, &kind)
        .map(Arc::new)
        .map_err(|e| invalid_input(format!("Invalid policy document: {}", e.message)))
}

fn inline_sources(inline: &Inline, kind: &'static str, out: &mut Vec<Source>) {
    for (name, text) in inline {
        if let Some(p) = cache::parsed(text) {
            out.push(Source {
                id: name.clone(),
                kind,
                policy: p,
            });
        }
    }
}

fn attached_sources(
    r: &dyn Reader,
    arns: &[String],
    out: &mut Vec<Source>,
) -> Result<(), AwsError> {
    for arn in arns {
        let (name, kind) = match managed::find(arn) {
            Some(a) => (a.name.clone(), "aws-managed"),
            None => match directory::customer_policy(r, arn)? {
                Some(p) => (p.name, "user-managed"),
                None => continue,
            },
        };
        if let Some(text) = directory::policy_document(r, arn)? {
            if let Some(p) = cache::parsed(&text) {
                out.push(Source {
                    id: name,
                    kind,
                    policy: p,
                });
            }
        }
    }
    Ok(())
}

/// The simulated principal and its identity policies with their sources.
fn principal_of(r: &dyn Reader, c: &Call, arn: &str) -> Result<(Principal, Vec<Source>), AwsError> {
    let missing = || no_such_entity(format!("PolicySourceArn {arn} cannot be found."));
    let rest = arn
        .strip_prefix("arn:aws:iam::")
        .ok_or_else(|| invalid_input(format!("Invalid ARN: {arn}")))?;
    let (account, resource) = rest.split_once(':').ok_or_else(missing)?;
    if account != c.account {
        return Err(missing());
    }
    let name = resource.rsplit('/').next().unwrap_or_default();
    let mut sources = Vec::new();
    let principal = if resource.starts_with("user/") {
        let u = directory::user(r, account, name)?.ok_or_else(missing)?;
        inline_sources(&u.inline, "user", &mut sources);
        attached_sources(r, &u.attached, &mut sources)?;
        for g in &u.groups {
            if let Some(g) = directory::group(r, account, g)? {
                inline_sources(&g.inline, "group", &mut sources);
                attached_sources(r, &g.attached, &mut sources)?;
            }
        }
        Principal {
            account: account.into(),
            kind: PrincipalKind::User {
                name: u.name,
                path: u.path,
                id: u.id,
            },
            access_key_id: String::new(),
            session: None,
        }
    } else if resource.starts_with("role/") {
        let role = directory::role(r, account, name)?.ok_or_else(missing)?;
        inline_sources(&role.inline, "role", &mut sources);
        attached_sources(r, &role.attached, &mut sources)?;
        crate::auth::session::role_principal(
            account,
            &role.name,
            &role.path,
            &role.id,
            "simulation",
            c.now / 1000,
            c.now / 1000 + 3600,
        )
    } else if resource.starts_with("group/") {
        let g = directory::group(r, account, name)?.ok_or_else(missing)?;
        inline_sources(&g.inline, "group", &mut sources);
        attached_sources(r, &g.attached, &mut sources)?;
        // A group is simulated as a member with no policies of its own.
        Principal {
            account: account.into(),
            kind: PrincipalKind::User {
                name: format!("{}-member", g.name),
                path: "/".into(),
                id: g.id,
            },
            access_key_id: String::new(),
            session: None,
        }
    } else {
        return Err(invalid_input(format!(
            "PolicySourceArn {arn} must be a user, group or role."
        )));
    };
    Ok((principal, sources))
}

/// `ContextEntries.member.N.{ContextKeyName, ContextKeyValues.member.M, ContextKeyType}`.
fn context_entries(c: &Call) -> Context {
    let mut ctx = Context::new();
    let mut n = 1;
    loop {
        let base = format!("ContextEntries.member.{n}");
        let Some(name) = c.p.opt(&format!("{base}.ContextKeyName")) else {
            break;
        };
        let values: Vec<String> =
            c.p.0
                .list(&format!("{base}.ContextKeyValues"))
                .into_iter()
                .map(str::to_string)
                .collect();
        let kind =
            c.p.opt(&format!("{base}.ContextKeyType"))
                .unwrap_or("string");
        if kind.ends_with("List") {
            ctx.set_multi(name, values);
        } else if let Some(v) = values.into_iter().next() {
            ctx.set(name, v);
        }
        n += 1;
    }
    ctx
}

fn policy_inputs(c: &Call, member: &str) -> Result<Vec<Arc<Policy>>, AwsError> {
    c.p.0
        .list(member)
        .into_iter()
        .map(|t| parse_input(t, PolicyKind::Identity))
        .collect()
}

fn decision_word(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "allowed",
        Decision::ExplicitDeny => "explicitDeny",
        Decision::ImplicitDeny => "implicitDeny",
    }
}

/// The statements that decided: the policies that denied (explicit deny) or allowed.
fn matched(sources: &[Source], decision: Decision, req: &policy::Request) -> Vec<Value> {
    sources
        .iter()
        .filter(|s| {
            let e = policy::evaluate(&s.policy, req);
            match decision {
                Decision::ExplicitDeny => e == Effect::Deny,
                Decision::Allow => matches!(e, Effect::Allow { .. }),
                Decision::ImplicitDeny => false,
            }
        })
        .map(|s| json!({"SourcePolicyId": s.id, "SourcePolicyType": s.kind}))
        .collect()
}

fn actions_and_resources<'a>(c: &Call<'a>) -> Result<(Vec<&'a str>, Vec<&'a str>), AwsError> {
    let actions = c.p.0.list("ActionNames");
    if actions.is_empty() {
        return Err(super::errors::validation(
            "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null".into(),
        ));
    }
    let mut resources = c.p.0.list("ResourceArns");
    if resources.is_empty() {
        resources.push("*");
    }
    Ok((actions, resources))
}

fn resource_policy(c: &Call) -> Result<Option<Policy>, AwsError> {
    c.p.opt("ResourcePolicy")
        .map(|t| parse_input(t, PolicyKind::Trust).map(|p| (*p).clone()))
        .transpose()
}

pub fn principal(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let source = c.p.arn("PolicySourceArn")?;
    let (actions, resources) = actions_and_resources(c)?;
    let (principal, mut sources) = principal_of(w, c, source)?;
    let extra = policy_inputs(c, "PolicyInputList")?;
    for (i, p) in extra.iter().enumerate() {
        sources.push(Source {
            id: format!("PolicyInputList.{}", i + 1),
            kind: "none",
            policy: p.clone(),
        });
    }
    let boundary = policy_inputs(c, "PermissionsBoundaryPolicyInputList")?;
    let resource_policy = resource_policy(c)?;
    let owner = c.p.opt("ResourceOwner").map(|o| {
        o.strip_prefix("arn:aws:iam::")
            .and_then(|r| r.split(':').next())
            .unwrap_or(o)
            .to_string()
    });
    let overrides = Overrides {
        identity: Some(sources.iter().map(|s| s.policy.clone()).collect()),
        extra_identity: Vec::new(),
        boundary: boundary.into_iter().next(),
    };
    let facts = Facts {
        principal: &principal,
        ..Facts::of(c.ctx)
    };
    let caller = access::caller(&principal);
    let mut results = Vec::new();
    for action in &actions {
        for resource in &resources {
            let context = context_entries(c);
            let outcome = access::decide_with(
                w,
                &facts,
                Ask {
                    action,
                    resource,
                    resource_policy: resource_policy.as_ref(),
                    resource_owner: owner.as_deref(),
                    context: context.clone(),
                },
                &overrides,
            )?;
            let req = policy::Request {
                caller: &caller,
                action,
                resource,
                context: &context,
            };
            results.push(result_json(
                action,
                resource,
                outcome,
                matched(&sources, outcome.decision, &req),
            ));
        }
    }
    Ok(json!({"EvaluationResults": results, "IsTruncated": false}))
}

fn result_json(
    action: &str,
    resource: &str,
    outcome: policy::Outcome,
    statements: Vec<Value>,
) -> Value {
    let by = outcome.refused_by.map(|(t, _)| t);
    json!({
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision_word(outcome.decision),
        "MatchedStatements": statements,
        "MissingContextValues": [],
        "OrganizationsDecisionDetail": {
            "AllowedByOrganizations": by != Some(policy::PolicyType::Scp),
        },
        "PermissionsBoundaryDecisionDetail": {
            "AllowedByPermissionsBoundary": by != Some(policy::PolicyType::Boundary),
        },
    })
}

pub fn custom(c: &Call, _w: &mut dyn Writer) -> Result<Value, AwsError> {
    let (actions, resources) = actions_and_resources(c)?;
    let inputs = policy_inputs(c, "PolicyInputList")?;
    if inputs.is_empty() {
        return Err(super::errors::validation(
            "1 validation error detected: Value null at 'policyInputList' failed to satisfy constraint: Member must not be null".into(),
        ));
    }
    let sources: Vec<Source> = inputs
        .iter()
        .enumerate()
        .map(|(i, p)| Source {
            id: format!("PolicyInputList.{}", i + 1),
            kind: "none",
            policy: p.clone(),
        })
        .collect();
    let boundary = policy_inputs(c, "PermissionsBoundaryPolicyInputList")?;
    let resource_policy = resource_policy(c)?;
    // The simulated caller: CallerArn's user, or a user of the caller's account.
    let caller_arn =
        c.p.opt("CallerArn")
            .map(str::to_string)
            .unwrap_or_else(|| format!("arn:aws:iam::{}:user/simulated-caller", c.account));
    let caller = policy::Caller::user(&caller_arn, "AIDASIMULATEDCALLER00");
    let owner = c.p.opt("ResourceOwner").map(|o| {
        o.strip_prefix("arn:aws:iam::")
            .and_then(|r| r.split(':').next())
            .unwrap_or(o)
            .to_string()
    });
    let identity: Vec<&Policy> = inputs.iter().map(|p| p.as_ref()).collect();
    let mut results = Vec::new();
    for action in &actions {
        for resource in &resources {
            let mut context = context_entries(c);
            if !context.contains("aws:CurrentTime") {
                context.set("aws:CurrentTime", crate::services::iso8601(c.ctx.time));
            }
            let req = policy::Request {
                caller: &caller,
                action,
                resource,
                context: &context,
            };
            let outcome = policy::authorize_explained(
                &Authorization {
                    identity_policies: &identity,
                    boundary: boundary.first().map(|p| p.as_ref()),
                    resource_policy: resource_policy.as_ref(),
                    resource_owner: owner.as_deref(),
                    ..Authorization::default()
                },
                &req,
            );
            results.push(result_json(
                action,
                resource,
                outcome,
                matched(&sources, outcome.decision, &req),
            ));
        }
    }
    Ok(json!({"EvaluationResults": results, "IsTruncated": false}))
}

//! Evaluation of one policy, and the combination of all policies into a decision (spec §6.4).

use super::context::Env;
use super::document::{Statement, StatementEffect};
use super::matching::{glob, glob_ci};
use super::principal::Strength;
use super::{Authorization, Decision, Effect, Policy, PolicyKind, PrincipalType, Request};

/// What one policy says, keeping the principal strength that [`Effect`] flattens to a bool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Verdict {
    deny: bool,
    /// Strongest principal match among the Allow statements that apply.
    allow: Option<Strength>,
}

fn statement_principal(st: &Statement, req: &Request) -> Option<Strength> {
    match &st.principal {
        Some(p) => p.applies_to(req.caller),
        // Identity and session policies belong to the caller: they always name it.
        None => Some(Strength::Exact),
    }
}

fn statement_action(st: &Statement, action: &str) -> bool {
    let hit = st.actions.iter().any(|p| glob_ci(p, action));
    hit != st.not_action
}

fn statement_resource(st: &Statement, env: &Env, resource: &str) -> bool {
    let Some(patterns) = &st.resources else {
        return true;
    };
    let hit = patterns
        .iter()
        .filter_map(|t| t.resolve(env))
        .any(|p| glob(&p, resource));
    hit != st.not_resource
}

fn verdict(policy: &Policy, req: &Request) -> Verdict {
    let env = Env {
        context: req.context,
        caller: req.caller,
    };
    let mut v = Verdict {
        deny: false,
        allow: None,
    };
    for st in &policy.statements {
        let Some(strength) = statement_principal(st, req) else {
            continue;
        };
        if !statement_action(st, req.action)
            || !statement_resource(st, &env, req.resource)
            || !st.conditions.iter().all(|c| c.holds(&env))
        {
            continue;
        }
        match st.effect {
            StatementEffect::Deny => v.deny = true,
            StatementEffect::Allow => v.allow = v.allow.max(Some(strength)),
        }
    }
    v
}

/// Evaluates a single policy for a request. Deny beats Allow within the policy.
pub fn evaluate(policy: &Policy, req: &Request) -> Effect {
    let v = verdict(policy, req);
    if v.deny {
        Effect::Deny
    } else {
        match v.allow {
            Some(s) => Effect::Allow {
                direct: s >= Strength::Role,
            },
            None => Effect::NoMatch,
        }
    }
}

/// Combines every policy that bears on the request (spec §6.4 steps 3-6).
///
/// - Any matching Deny in any policy → `ExplicitDeny`.
/// - Identity allow: the root user has it implicitly (AWS never limits root with IAM policies;
///   only a resource policy can keep it out of another account's resources); users and
///   sessions need an Allow in their own policies, intersected with the session policies when
///   given; services and anonymous callers have none.
/// - Same account (or no owner): identity allow OR a direct resource grant.
/// - Cross-account: identity allow AND a resource grant (direct or via the account principal).
/// - Service / anonymous: a direct resource grant only.
/// - A trust policy must always allow; identity allow is needed on top when the caller is from
///   another account or the trust names only the caller's account (spec §7.3).
pub fn authorize(auth: &Authorization, req: &Request) -> Decision {
    let identity: Vec<Verdict> = auth
        .identity_policies
        .iter()
        .map(|p| verdict(p, req))
        .collect();
    let session: Option<Vec<Verdict>> = auth
        .session_policies
        .map(|ps| ps.iter().map(|p| verdict(p, req)).collect());
    let resource = auth.resource_policy.map(|p| verdict(p, req));

    let any_deny = identity.iter().any(|v| v.deny)
        || session.iter().flatten().any(|v| v.deny)
        || resource.is_some_and(|v| v.deny);
    if any_deny {
        return Decision::ExplicitDeny;
    }

    let caller = req.caller;
    let session_allows = session
        .as_ref()
        .is_none_or(|vs| vs.iter().any(|v| v.allow.is_some()));
    let identity_allow = session_allows
        && match caller.kind {
            PrincipalType::Root => true,
            PrincipalType::User | PrincipalType::AssumedRole => {
                identity.iter().any(|v| v.allow.is_some())
            }
            PrincipalType::Service | PrincipalType::Anonymous => false,
        };

    // A resource policy that names the session ARN itself is applied after the session policy
    // and so escapes it; one that names the role or the account is limited by it.
    let resource_grant = resource.and_then(|v| v.allow).filter(|s| {
        *s == Strength::Exact || caller.kind != PrincipalType::AssumedRole || session_allows
    });
    let direct_grant = resource_grant.is_some_and(|s| s >= Strength::Role);

    let allowed = match caller.kind {
        PrincipalType::Service | PrincipalType::Anonymous => direct_grant,
        PrincipalType::Root | PrincipalType::User | PrincipalType::AssumedRole => {
            let same_account = match auth.resource_owner {
                None => true,
                Some(owner) => caller.account.as_deref() == Some(owner),
            };
            let is_trust = auth
                .resource_policy
                .is_some_and(|p| *p.kind() == PolicyKind::Trust);
            if is_trust {
                resource_grant.is_some() && ((same_account && direct_grant) || identity_allow)
            } else if same_account {
                identity_allow || direct_grant
            } else {
                identity_allow && resource_grant.is_some()
            }
        }
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

//! Evaluation of one policy, and the combination of all policies into a decision (spec §6.4).

use super::context::Env;
use super::document::{Statement, StatementEffect};
use super::matching::glob;
use super::principal::Strength;
use super::{
    Authorization, Decision, Effect, Outcome, Policy, PolicyKind, PolicyType, PrincipalType,
    Request,
};

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

/// `action` is the request's, lower-cased: the patterns are.
fn statement_action(st: &Statement, action: &str) -> bool {
    let hit = st.actions.iter().any(|p| glob(p, action));
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

/// `action` is `req.action` lower-cased, once for all the policies of a request.
fn verdict(policy: &Policy, req: &Request, action: &str) -> Verdict {
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
        if !statement_action(st, action)
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
    let v = verdict(policy, req, &req.action.to_lowercase());
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

/// Combines every policy that bears on the request (spec §6.4; the IAM User Guide's "Policy
/// evaluation logic"), and says which kind of policy refused it.
///
/// - Any matching Deny in any policy → explicit deny, named by the first kind that denies in
///   the order SCP, RCP, resource-based, identity-based, permissions boundary, session.
/// - Every level of the organization's SCPs (root, each OU, the account) must allow, as must
///   every level of its RCPs, when they apply.
/// - Identity allow: the root user has it implicitly (AWS never limits root with IAM policies;
///   only a resource policy can keep it out of another account's resources); users and
///   sessions need an Allow in their own policies, within their permissions boundary and their
///   session policies; services and anonymous callers have none.
/// - Same account (or no owner): identity allow OR a direct resource grant. A grant naming the
///   user or the session itself escapes the boundary and session policies; one naming the role
///   does not.
/// - Cross-account: identity allow AND a resource grant (direct or via the account principal).
/// - Service / anonymous: a direct resource grant only.
/// - A trust policy must always allow; identity allow is needed on top when the caller is from
///   another account or the trust names only the caller's account (spec §7.3).
pub fn authorize_explained(auth: &Authorization, req: &Request) -> Outcome {
    let action = req.action.to_lowercase();
    let verdicts =
        |ps: &[&Policy]| -> Vec<Verdict> { ps.iter().map(|p| verdict(p, req, &action)).collect() };
    let identity = verdicts(auth.identity_policies);
    let session: Option<Vec<Verdict>> = auth.session_policies.map(verdicts);
    let boundary = auth.boundary.map(|p| verdict(p, req, &action));
    let resource = auth.resource_policy.map(|p| verdict(p, req, &action));
    let scps: Vec<Vec<Verdict>> = auth.scps.iter().map(|l| verdicts(l)).collect();
    let rcps: Vec<Vec<Verdict>> = auth.rcps.iter().map(|l| verdicts(l)).collect();

    let denies = |vs: &[Verdict]| vs.iter().any(|v| v.deny);
    let explicit = [
        (scps.iter().any(|l| denies(l)), PolicyType::Scp),
        (rcps.iter().any(|l| denies(l)), PolicyType::Rcp),
        (resource.is_some_and(|v| v.deny), PolicyType::Resource),
        (denies(&identity), PolicyType::Identity),
        (boundary.is_some_and(|v| v.deny), PolicyType::Boundary),
        (session.as_deref().is_some_and(denies), PolicyType::Session),
    ];
    if let Some((_, by)) = explicit.iter().find(|(hit, _)| *hit) {
        return Outcome::denied(true, *by);
    }
    let allows = |vs: &[Verdict]| vs.iter().any(|v| v.allow.is_some());
    if !scps.iter().all(|l| allows(l)) {
        return Outcome::denied(false, PolicyType::Scp);
    }
    if !rcps.iter().all(|l| allows(l)) {
        return Outcome::denied(false, PolicyType::Rcp);
    }

    let caller = req.caller;
    let session_allows = session.as_deref().is_none_or(allows);
    let boundary_allows = boundary.is_none_or(|v| v.allow.is_some());
    let own_allow = match caller.kind {
        PrincipalType::Root => true,
        PrincipalType::User | PrincipalType::AssumedRole | PrincipalType::FederatedUser => {
            allows(&identity)
        }
        PrincipalType::Service | PrincipalType::Anonymous | PrincipalType::Federated => false,
    };
    let identity_allow = own_allow && boundary_allows && session_allows;
    // Why the caller's own side does not allow, in the order AWS reports it.
    let own_refusal = || {
        if !own_allow {
            PolicyType::Identity
        } else if !boundary_allows {
            PolicyType::Boundary
        } else {
            PolicyType::Session
        }
    };

    // A resource policy that names the user or the session itself is applied after the
    // boundary and the session policy and so escapes them; one that names the role or the
    // account is limited by them.
    let resource_grant = resource
        .and_then(|v| v.allow)
        .filter(|s| *s == Strength::Exact || (boundary_allows && session_allows));
    let direct_grant = resource_grant.is_some_and(|s| s >= Strength::Role);

    let refusal = match caller.kind {
        PrincipalType::Service | PrincipalType::Anonymous | PrincipalType::Federated => {
            (!direct_grant).then_some(PolicyType::Resource)
        }
        _ => {
            let same_account = match auth.resource_owner {
                None => true,
                Some(owner) => caller.account.as_deref() == Some(owner),
            };
            let is_trust = auth
                .resource_policy
                .is_some_and(|p| *p.kind() == PolicyKind::Trust);
            if is_trust {
                if resource_grant.is_none() {
                    Some(PolicyType::Resource)
                } else if (same_account && direct_grant) || identity_allow {
                    None
                } else {
                    Some(own_refusal())
                }
            } else if same_account {
                (!(identity_allow || direct_grant)).then(own_refusal)
            } else if !identity_allow {
                Some(own_refusal())
            } else {
                resource_grant.is_none().then_some(PolicyType::Resource)
            }
        }
    };
    match refusal {
        None => Outcome::allowed(),
        Some(by) => Outcome::denied(false, by),
    }
}

/// [`authorize_explained`], without the reason.
pub fn authorize(auth: &Authorization, req: &Request) -> Decision {
    authorize_explained(auth, req).decision
}

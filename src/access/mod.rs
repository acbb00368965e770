//! The access room: one authorization decision for every call of every service.
//!
//! A service asks [`decide`] whether the caller may do an action on a resource, handing over
//! what only it knows (the resource's ARN, its owner, its resource policy, request-specific
//! condition keys). This room adds what bears on every call — the caller's identity policies
//! (its own, inline and attached, and its groups'), its permissions boundary, its session
//! policies, the service control policies on the path from the organization's root to its
//! account, the resource control policies above the resource's account, and the condition keys
//! every request carries — and the policy engine decides. A refusal comes back with AWS's
//! wording ([`message`]), which each service puts in its own AccessDenied shape.
//!
//! What the directory says about a principal is derived once per directory version and kept
//! ([`sets`]), so a call pays one point read for it.

pub mod cache;
pub mod context;
pub mod message;
mod sets;

pub use cache::NOTHING;
pub use context::Facts;
pub use message::denied_message;

use crate::auth::{Principal, PrincipalKind};
use crate::error::AwsError;
use crate::policy::{self, Authorization, Caller, Context, Outcome, Policy, PrincipalType};
use crate::store::Reader;
use std::sync::Arc;

/// One question: may the caller do `action` on `resource`?
pub struct Ask<'a> {
    /// `service:Operation`, e.g. `cloudtrail:CreateTrail`.
    pub action: &'a str,
    /// The resource's ARN, or `*`.
    pub resource: &'a str,
    /// The resource's own policy (bucket policy, role trust policy).
    pub resource_policy: Option<&'a Policy>,
    /// The account that owns the resource; None for account-less resources (`*`), which count
    /// as the caller's own.
    pub resource_owner: Option<&'a str>,
    /// Condition keys particular to this request (`s3:prefix`, `sts:ExternalId`, ...); the keys
    /// every request carries are added here.
    pub context: Context,
}

impl<'a> Ask<'a> {
    /// An action on a resource of the caller's own account that has no policy of its own.
    pub fn new(action: &'a str, resource: &'a str) -> Self {
        Ask {
            action,
            resource,
            resource_policy: None,
            resource_owner: None,
            context: Context::new(),
        }
    }
}

/// The engine's view of a principal.
pub fn caller(p: &Principal) -> Caller {
    let account = (!p.account.is_empty()).then(|| p.account.clone());
    let mut c = match &p.kind {
        PrincipalKind::Root => Caller::root(&p.account),
        PrincipalKind::User { name, .. } => {
            let mut c = Caller::user(&p.arn(), &p.user_id());
            c.username = Some(name.clone());
            c
        }
        PrincipalKind::AssumedRole { .. } => Caller {
            kind: PrincipalType::AssumedRole,
            account: account.clone(),
            arn: Some(p.arn()),
            role_arn: p.role_arn(),
            service: None,
            user_id: Some(p.user_id()),
            username: None,
        },
        PrincipalKind::FederatedUser { .. } => Caller {
            kind: PrincipalType::FederatedUser,
            account: account.clone(),
            arn: Some(p.arn()),
            role_arn: None,
            service: None,
            user_id: Some(p.user_id()),
            username: None,
        },
        PrincipalKind::Service { service } => Caller::service(service),
        PrincipalKind::Anonymous => Caller::anonymous(),
        PrincipalKind::WebIdentityUser { provider, .. }
        | PrincipalKind::SamlUser { provider, .. } => return Caller::federated(provider),
    };
    if c.account.is_none() {
        c.account = account;
    }
    c
}

/// What a simulation puts in place of the principal's own policies (IAM's policy simulator).
#[derive(Default)]
pub struct Overrides {
    /// Identity policies instead of the principal's.
    pub identity: Option<Vec<Arc<Policy>>>,
    /// Identity policies in addition to the principal's (`PolicyInputList`).
    pub extra_identity: Vec<Arc<Policy>>,
    /// A permissions boundary instead of the principal's.
    pub boundary: Option<Arc<Policy>>,
}

/// The decision on `ask` for the caller `facts.principal`.
pub fn decide(r: &dyn Reader, facts: &Facts, ask: Ask) -> Result<Outcome, AwsError> {
    decide_with(r, facts, ask, &Overrides::default())
}

/// [`decide`], with some of the principal's policies replaced (the policy simulator).
pub fn decide_with(
    r: &dyn Reader,
    facts: &Facts,
    ask: Ask,
    overrides: &Overrides,
) -> Result<Outcome, AwsError> {
    let principal = facts.principal;
    let (set, version) = sets::of(r, principal)?;
    let session = session_policies(r, principal)?;
    let rcps = match ask.resource_owner {
        Some(owner) if applies_rcps(principal, &set, ask.action) => sets::rcps(r, version, owner)?,
        _ => Arc::new(Vec::new()),
    };
    let mut context = ask.context;
    context::add_request_keys(&mut context, facts, &set);
    let caller = caller(principal);
    let identity: Vec<&Policy> = overrides
        .identity
        .as_ref()
        .unwrap_or(&set.identity)
        .iter()
        .chain(overrides.extra_identity.iter())
        .map(|p| p.as_ref())
        .collect();
    let boundary = overrides.boundary.as_deref().or(set.boundary.as_deref());
    let session_refs: Option<Vec<&Policy>> = session
        .as_ref()
        .map(|ps| ps.iter().map(|p| p.as_ref()).collect());
    let scps: Vec<Vec<&Policy>> = set
        .scps
        .iter()
        .map(|l| l.iter().map(|p| p.as_ref()).collect())
        .collect();
    let rcps: Vec<Vec<&Policy>> = rcps
        .iter()
        .map(|l| l.iter().map(|p| p.as_ref()).collect())
        .collect();
    Ok(policy::authorize_explained(
        &Authorization {
            identity_policies: &identity,
            session_policies: session_refs.as_deref(),
            boundary,
            resource_policy: ask.resource_policy,
            resource_owner: ask.resource_owner,
            scps: &scps,
            rcps: &rcps,
        },
        &policy::Request {
            caller: &caller,
            action: ask.action,
            resource: ask.resource,
            context: &context,
        },
    ))
}

/// [`decide`], as a service's refusal: the message AWS words for it.
pub fn require(r: &dyn Reader, facts: &Facts, ask: Ask) -> Result<(), Refused> {
    let action = ask.action.to_string();
    let resource = ask.resource.to_string();
    let outcome = decide(r, facts, ask).map_err(Refused::Failed)?;
    if outcome.is_allowed() {
        return Ok(());
    }
    Err(Refused::Denied(denied_message(
        facts.principal,
        &action,
        &resource,
        &outcome,
    )))
}

/// Why a call may not proceed.
#[derive(Debug)]
pub enum Refused {
    /// Refused, with AWS's message.
    Denied(String),
    /// The decision itself failed (the store).
    Failed(AwsError),
}

impl Refused {
    /// The refusal in a service's AccessDenied shape (`code`, `status`).
    pub fn into_error(self, status: u16, code: &'static str) -> AwsError {
        match self {
            Refused::Denied(message) => AwsError::new(status, code, message),
            Refused::Failed(e) => e,
        }
    }
}

/// RCPs restrict what is done to resources of member accounts, by anyone but AWS services and
/// service-linked roles; of the services Cairn serves, S3 and STS support them.
fn applies_rcps(p: &Principal, set: &sets::PolicySet, action: &str) -> bool {
    let service = action.split(':').next().unwrap_or_default();
    matches!(service, "s3" | "sts")
        && !matches!(p.kind, PrincipalKind::Service { .. })
        && !set.service_linked
}

/// An AssumeRoot session's task policy is a session policy that only denies: what it does not
/// deny, the root session may do.
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The policies a session was given when it was made, parsed; None when it was given none.
fn session_policies(r: &dyn Reader, p: &Principal) -> Result<Option<Vec<Arc<Policy>>>, AwsError> {
    let Some(s) = p.session.as_deref() else {
        return Ok(None);
    };
    if let Some(arn) = &s.task_policy {
        // A task policy that is gone leaves the session nothing.
        let text = crate::auth::directory::policy_document(r, arn)?.unwrap_or_else(|| {
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#
                .into()
        });
        return Ok(Some(
            [text.as_str(), ALLOW_ALL]
                .into_iter()
                .filter_map(cache::parsed)
                .collect(),
        ));
    }
    if !s.has_policies() {
        return Ok(None);
    }
    let mut out = Vec::new();
    if let Some(text) = &s.policy {
        if let Some(p) = cache::parsed(text) {
            out.push(p);
        }
    }
    for arn in &s.policy_arns {
        if let Some(text) = crate::auth::directory::policy_document(r, arn)? {
            if let Some(p) = cache::parsed(&text) {
                out.push(p);
            }
        }
    }
    Ok(Some(out))
}

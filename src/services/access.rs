//! The bridge from an authenticated principal to the policy engine: every service asks here
//! whether a principal may do an action on a resource.

use crate::auth::{directory, Principal, PrincipalKind};
use crate::error::AwsError;
use crate::policy::{
    self, Authorization, Caller, Context, Decision, Policy, PolicyKind, PrincipalType,
};
use crate::store::Reader;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub fn caller(p: &Principal) -> Caller {
    let account = (!p.account.is_empty()).then(|| p.account.clone());
    match &p.kind {
        PrincipalKind::Root => Caller {
            kind: PrincipalType::Root,
            account,
            arn: Some(p.arn()),
            role_arn: None,
            service: None,
            user_id: Some(p.user_id()),
            username: None,
        },
        PrincipalKind::User { name, .. } => Caller {
            kind: PrincipalType::User,
            account,
            arn: Some(p.arn()),
            role_arn: None,
            service: None,
            user_id: Some(p.user_id()),
            username: Some(name.clone()),
        },
        PrincipalKind::AssumedRole { .. } => Caller {
            kind: PrincipalType::AssumedRole,
            account,
            arn: Some(p.arn()),
            role_arn: p.role_arn(),
            service: None,
            user_id: Some(p.user_id()),
            username: None,
        },
        PrincipalKind::Service { service } => Caller {
            kind: PrincipalType::Service,
            account: None,
            arn: None,
            role_arn: None,
            service: Some(service.clone()),
            user_id: None,
            username: None,
        },
        PrincipalKind::Anonymous => Caller {
            kind: PrincipalType::Anonymous,
            account: None,
            arn: None,
            role_arn: None,
            service: None,
            user_id: None,
            username: None,
        },
    }
}

/// Parsed identity policies by their text. Every call asks about its caller's policies; there
/// are few distinct texts, and parsing one costs more than the rest of a small call.
fn identity_policy(text: &str) -> Option<Arc<Policy>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Policy>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(p) = cache.lock().expect("policy cache").get(text) {
        return Some(p.clone());
    }
    let parsed = Arc::new(Policy::parse(text, &PolicyKind::Identity).ok()?);
    let mut map = cache.lock().expect("policy cache");
    // Bounded: a flood of distinct policies only costs re-parsing.
    if map.len() >= 1024 {
        map.clear();
    }
    map.insert(text.to_string(), parsed.clone());
    Some(parsed)
}

/// Whether `principal` may perform `action` on `resource`, given the resource's own policy
/// (bucket policy, trust policy) and owner.
pub fn decide(
    r: &dyn Reader,
    principal: &Principal,
    action: &str,
    resource: &str,
    resource_policy: Option<&Policy>,
    resource_owner: Option<&str>,
    context: &Context,
) -> Result<Decision, AwsError> {
    let texts = directory::identity_policies(r, principal)?;
    let parsed: Vec<Arc<Policy>> = texts.iter().filter_map(|t| identity_policy(t)).collect();
    let refs: Vec<&Policy> = parsed.iter().map(|p| p.as_ref()).collect();
    let c = caller(principal);
    let req = policy::Request {
        caller: &c,
        action,
        resource,
        context,
    };
    Ok(policy::authorize(
        &Authorization {
            identity_policies: &refs,
            session_policies: None,
            resource_policy,
            resource_owner,
        },
        &req,
    ))
}

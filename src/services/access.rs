//! The bridge from an authenticated principal to the policy engine: every service asks here
//! whether a principal may do an action on a resource.

use crate::auth::{directory, Principal, PrincipalKind};
use crate::error::AwsError;
use crate::policy::{
    self, Authorization, Caller, Context, Decision, Policy, PolicyKind, PrincipalType,
};
use crate::store::Reader;

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
    let parsed: Vec<Policy> = texts
        .iter()
        .filter_map(|t| Policy::parse(t, &PolicyKind::Identity).ok())
        .collect();
    let refs: Vec<&Policy> = parsed.iter().collect();
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

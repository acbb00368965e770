//! AWS IAM (query protocol, global): users, groups, roles, instance profiles, managed and
//! inline policies, permissions boundaries, access keys, tags, account-level reads, and
//! policy simulation, over the directory (`auth::directory`). One file per family of
//! operations; this one authorizes and dispatches.
//!
//! IAM decides nothing itself: every call is authorized by the access room
//! (`iam:<Operation>` on the entity it names), and SimulatePrincipalPolicy asks that same
//! room.

mod account;
mod attached;
mod errors;
pub mod features;
mod groups;
mod inline;
pub mod input;
mod keys;
pub mod oidc;
mod policies;
mod profiles;
mod roles;
mod saml;
mod simulate;
mod tags;
mod users;

use crate::access::{self, Ask, Facts};
use crate::app::App;
use crate::auth::directory;
use crate::error::AwsError;
use crate::policy::Context;
use crate::services::{QueryParams, RequestContext};
use crate::store::{Reader, Writer};
use input::Params;
use serde_json::Value;

/// One call: who makes it, for which account, with which parameters.
pub struct Call<'a> {
    pub app: &'a App,
    pub ctx: &'a RequestContext,
    pub p: Params<'a>,
    /// The caller's account: every entity a call names is of this account.
    pub account: String,
    /// Epoch milliseconds of the request.
    pub now: i64,
}

/// Members that are numbers or booleans in the model, recorded as such.
pub const TYPED: &[&str] = &[
    "MaxItems",
    "MaxSessionDuration",
    "SetAsDefault",
    "OnlyAttached",
];

/// The record's `requestParameters`.
pub fn request_parameters(params: &QueryParams) -> Option<Value> {
    params.to_json(TYPED)
}

/// Whether the IAM model has this action (served or not).
pub fn known(action: &str) -> bool {
    super::catalog::IAM.contains(&action)
}

/// Runs inside the call's store transaction.
pub fn call(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    op: &str,
    params: &QueryParams,
) -> Result<Value, AwsError> {
    let c = Call {
        app,
        ctx,
        p: Params(params),
        account: ctx.principal.account.clone(),
        now: ctx.time.timestamp_millis(),
    };
    if c.account.is_empty() {
        return Err(AwsError::new(403, "AccessDenied", "Access denied"));
    }
    authorize(w, &c, op)?;
    let out = dispatch(&c, w, op)?;
    // Operations the model gives no output answer with no Result element at all.
    Ok(if super::catalog::IAM_NO_OUTPUT.contains(&op) {
        Value::Null
    } else {
        out
    })
}

fn dispatch(c: &Call, w: &mut dyn Writer, op: &str) -> Result<Value, AwsError> {
    match op {
        "CreateUser" => users::create(c, w),
        "GetUser" => users::get(c, w),
        "ListUsers" => users::list(c, w),
        "UpdateUser" => users::update(c, w),
        "DeleteUser" => users::delete(c, w),

        "CreateGroup" => groups::create(c, w),
        "GetGroup" => groups::get(c, w),
        "ListGroups" => groups::list(c, w),
        "UpdateGroup" => groups::update(c, w),
        "DeleteGroup" => groups::delete(c, w),
        "AddUserToGroup" => groups::add_user(c, w),
        "RemoveUserFromGroup" => groups::remove_user(c, w),
        "ListGroupsForUser" => groups::list_for_user(c, w),

        "CreateRole" => roles::create(c, w),
        "GetRole" => roles::get(c, w),
        "ListRoles" => roles::list(c, w),
        "UpdateRole" => roles::update(c, w),
        "UpdateRoleDescription" => roles::update_description(c, w),
        "UpdateAssumeRolePolicy" => roles::update_trust(c, w),
        "DeleteRole" => roles::delete(c, w),
        "CreateServiceLinkedRole" => roles::create_service_linked(c, w),
        "DeleteServiceLinkedRole" => roles::delete_service_linked(c, w),
        "GetServiceLinkedRoleDeletionStatus" => roles::deletion_status(c, w),

        "CreateInstanceProfile" => profiles::create(c, w),
        "GetInstanceProfile" => profiles::get(c, w),
        "ListInstanceProfiles" => profiles::list(c, w),
        "ListInstanceProfilesForRole" => profiles::list_for_role(c, w),
        "AddRoleToInstanceProfile" => profiles::add_role(c, w),
        "RemoveRoleFromInstanceProfile" => profiles::remove_role(c, w),
        "DeleteInstanceProfile" => profiles::delete(c, w),

        "CreatePolicy" => policies::create(c, w),
        "GetPolicy" => policies::get(c, w),
        "ListPolicies" => policies::list(c, w),
        "DeletePolicy" => policies::delete(c, w),
        "CreatePolicyVersion" => policies::create_version(c, w),
        "GetPolicyVersion" => policies::get_version(c, w),
        "ListPolicyVersions" => policies::list_versions(c, w),
        "DeletePolicyVersion" => policies::delete_version(c, w),
        "SetDefaultPolicyVersion" => policies::set_default_version(c, w),

        "AttachUserPolicy" => attached::attach(c, w, directory::Entity::User),
        "AttachGroupPolicy" => attached::attach(c, w, directory::Entity::Group),
        "AttachRolePolicy" => attached::attach(c, w, directory::Entity::Role),
        "DetachUserPolicy" => attached::detach(c, w, directory::Entity::User),
        "DetachGroupPolicy" => attached::detach(c, w, directory::Entity::Group),
        "DetachRolePolicy" => attached::detach(c, w, directory::Entity::Role),
        "ListAttachedUserPolicies" => attached::list(c, w, directory::Entity::User),
        "ListAttachedGroupPolicies" => attached::list(c, w, directory::Entity::Group),
        "ListAttachedRolePolicies" => attached::list(c, w, directory::Entity::Role),
        "ListEntitiesForPolicy" => attached::entities(c, w),
        "PutUserPermissionsBoundary" => attached::put_boundary(c, w, directory::Entity::User),
        "PutRolePermissionsBoundary" => attached::put_boundary(c, w, directory::Entity::Role),
        "DeleteUserPermissionsBoundary" => attached::delete_boundary(c, w, directory::Entity::User),
        "DeleteRolePermissionsBoundary" => attached::delete_boundary(c, w, directory::Entity::Role),

        "PutUserPolicy" => inline::put(c, w, directory::Entity::User),
        "PutGroupPolicy" => inline::put(c, w, directory::Entity::Group),
        "PutRolePolicy" => inline::put(c, w, directory::Entity::Role),
        "GetUserPolicy" => inline::get(c, w, directory::Entity::User),
        "GetGroupPolicy" => inline::get(c, w, directory::Entity::Group),
        "GetRolePolicy" => inline::get(c, w, directory::Entity::Role),
        "ListUserPolicies" => inline::list(c, w, directory::Entity::User),
        "ListGroupPolicies" => inline::list(c, w, directory::Entity::Group),
        "ListRolePolicies" => inline::list(c, w, directory::Entity::Role),
        "DeleteUserPolicy" => inline::delete(c, w, directory::Entity::User),
        "DeleteGroupPolicy" => inline::delete(c, w, directory::Entity::Group),
        "DeleteRolePolicy" => inline::delete(c, w, directory::Entity::Role),

        "CreateAccessKey" => keys::create(c, w),
        "ListAccessKeys" => keys::list(c, w),
        "UpdateAccessKey" => keys::update(c, w),
        "DeleteAccessKey" => keys::delete(c, w),
        "GetAccessKeyLastUsed" => keys::last_used(c, w),

        "TagUser" => tags::tag(c, w, tags::Kind::User),
        "UntagUser" => tags::untag(c, w, tags::Kind::User),
        "ListUserTags" => tags::list(c, w, tags::Kind::User),
        "TagRole" => tags::tag(c, w, tags::Kind::Role),
        "UntagRole" => tags::untag(c, w, tags::Kind::Role),
        "ListRoleTags" => tags::list(c, w, tags::Kind::Role),
        "TagPolicy" => tags::tag(c, w, tags::Kind::Policy),
        "UntagPolicy" => tags::untag(c, w, tags::Kind::Policy),
        "ListPolicyTags" => tags::list(c, w, tags::Kind::Policy),
        "TagInstanceProfile" => tags::tag(c, w, tags::Kind::Profile),
        "UntagInstanceProfile" => tags::untag(c, w, tags::Kind::Profile),
        "ListInstanceProfileTags" => tags::list(c, w, tags::Kind::Profile),

        "GetAccountSummary" => account::summary(c, w),
        "GetAccountAuthorizationDetails" => account::authorization_details(c, w),
        "CreateAccountAlias" => account::create_alias(c, w),
        "DeleteAccountAlias" => account::delete_alias(c, w),
        "ListAccountAliases" => account::list_aliases(c, w),
        "GenerateCredentialReport" => account::generate_credential_report(c, w),
        "GetCredentialReport" => account::get_credential_report(c, w),
        "GetAccountPasswordPolicy" => account::password_policy(c, w),

        "ListOrganizationsFeatures" => features::list(c, w),
        "EnableOrganizationsRootSessions" => features::set(c, w, features::ROOT_SESSIONS, true),
        "DisableOrganizationsRootSessions" => features::set(c, w, features::ROOT_SESSIONS, false),
        "EnableOrganizationsRootCredentialsManagement" => {
            features::set(c, w, features::ROOT_CREDENTIALS, true)
        }
        "DisableOrganizationsRootCredentialsManagement" => {
            features::set(c, w, features::ROOT_CREDENTIALS, false)
        }

        "CreateOpenIDConnectProvider" => oidc::create(c, w),
        "GetOpenIDConnectProvider" => oidc::get(c, w),
        "ListOpenIDConnectProviders" => oidc::list(c, w),
        "DeleteOpenIDConnectProvider" => oidc::delete(c, w),
        "UpdateOpenIDConnectProviderThumbprint" => oidc::update_thumbprint(c, w),
        "AddClientIDToOpenIDConnectProvider" => oidc::add_client_id(c, w),
        "RemoveClientIDFromOpenIDConnectProvider" => oidc::remove_client_id(c, w),
        "TagOpenIDConnectProvider" => tags::tag(c, w, tags::Kind::Oidc),
        "UntagOpenIDConnectProvider" => tags::untag(c, w, tags::Kind::Oidc),
        "ListOpenIDConnectProviderTags" => tags::list(c, w, tags::Kind::Oidc),

        "CreateSAMLProvider" => saml::create(c, w),
        "GetSAMLProvider" => saml::get(c, w),
        "ListSAMLProviders" => saml::list(c, w),
        "UpdateSAMLProvider" => saml::update(c, w),
        "DeleteSAMLProvider" => saml::delete(c, w),
        "TagSAMLProvider" => tags::tag(c, w, tags::Kind::Saml),
        "UntagSAMLProvider" => tags::untag(c, w, tags::Kind::Saml),
        "ListSAMLProviderTags" => tags::list(c, w, tags::Kind::Saml),

        "SimulatePrincipalPolicy" => simulate::principal(c, w),
        "SimulateCustomPolicy" => simulate::custom(c, w),

        // Passwords, MFA devices, certificates, SSH keys, service-specific credentials,
        // access reports and delegation requests have no counterpart here yet.
        other => Err(errors::not_supported(other)),
    }
}

/// Operations on a managed policy named by `PolicyArn`.
const POLICY_OPS: &[&str] = &[
    "GetPolicy",
    "DeletePolicy",
    "CreatePolicyVersion",
    "GetPolicyVersion",
    "ListPolicyVersions",
    "DeletePolicyVersion",
    "SetDefaultPolicyVersion",
    "TagPolicy",
    "UntagPolicy",
    "ListPolicyTags",
    "ListEntitiesForPolicy",
];

/// Operations on the caller's own user when they name none.
const SELF_OPS: &[&str] = &[
    "GetUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "ListUserTags",
];

/// The resource `op` acts on, for authorization: the entity it names, or `*`.
fn resource(r: &dyn Reader, c: &Call, op: &str) -> Result<String, AwsError> {
    let a = &c.account;
    let p = &c.p;
    if let Some(arn) = oidc::resource(c, op).or_else(|| saml::resource(c, op)) {
        return Ok(arn);
    }
    if op == "CreatePolicy" {
        if let Some(name) = p.opt("PolicyName") {
            return Ok(format!(
                "arn:aws:iam::{a}:policy{}{name}",
                p.opt("Path").unwrap_or("/")
            ));
        }
    }
    if POLICY_OPS.contains(&op) {
        if let Some(arn) = p.opt("PolicyArn") {
            return Ok(arn.to_string());
        }
    }
    if let Some(name) = p.opt("InstanceProfileName") {
        let path = directory::profile(r, a, name)?
            .map(|x| x.path)
            .unwrap_or_else(|| p.opt("Path").unwrap_or("/").to_string());
        return Ok(format!("arn:aws:iam::{a}:instance-profile{path}{name}"));
    }
    if let Some(name) = p.opt("GroupName") {
        let path = directory::group(r, a, name)?
            .map(|x| x.path)
            .unwrap_or_else(|| p.opt("Path").unwrap_or("/").to_string());
        return Ok(format!("arn:aws:iam::{a}:group{path}{name}"));
    }
    if let Some(name) = p.opt("UserName") {
        let path = directory::user(r, a, name)?
            .map(|x| x.path)
            .unwrap_or_else(|| p.opt("Path").unwrap_or("/").to_string());
        return Ok(format!("arn:aws:iam::{a}:user{path}{name}"));
    }
    if let Some(name) = p.opt("RoleName") {
        let path = directory::role(r, a, name)?
            .map(|x| x.path)
            .unwrap_or_else(|| p.opt("Path").unwrap_or("/").to_string());
        return Ok(format!("arn:aws:iam::{a}:role{path}{name}"));
    }
    // Listings name the kind of entity they list, under the path prefix they ask for.
    let listed = match op {
        "ListUsers" => Some("user"),
        "ListRoles" => Some("role"),
        "ListGroups" => Some("group"),
        "ListInstanceProfiles" => Some("instance-profile"),
        _ => None,
    };
    if let Some(kind) = listed {
        return Ok(format!(
            "arn:aws:iam::{a}:{kind}{}",
            p.opt("PathPrefix").unwrap_or("/")
        ));
    }
    if SELF_OPS.contains(&op) {
        if let crate::auth::PrincipalKind::User { .. } | crate::auth::PrincipalKind::Root =
            c.ctx.principal.kind
        {
            return Ok(c.ctx.principal.arn());
        }
    }
    Ok("*".into())
}

/// The condition keys IAM's own actions carry: the policy an attach names, the boundary a
/// call sets, the tags a call adds or names.
fn iam_context(c: &Call, op: &str) -> Context {
    let mut ctx = Context::new();
    if let Some(arn) = c.p.opt("PolicyArn") {
        if op.starts_with("Attach") || op.starts_with("Detach") {
            ctx.set("iam:PolicyARN", arn);
        }
    }
    if let Some(b) = c.p.opt("PermissionsBoundary") {
        ctx.set("iam:PermissionsBoundary", b);
    }
    let tags = c.p.0.structs("Tags");
    let mut keys = Vec::new();
    for t in &tags {
        let key = t.iter().find(|(k, _)| *k == "Key").map(|(_, v)| *v);
        let value = t.iter().find(|(k, _)| *k == "Value").map(|(_, v)| *v);
        if let (Some(k), Some(v)) = (key, value) {
            ctx.set(&format!("aws:RequestTag/{k}"), v);
            keys.push(k.to_string());
        }
    }
    keys.extend(c.p.0.list("TagKeys").into_iter().map(str::to_string));
    if !keys.is_empty() {
        ctx.set_multi("aws:TagKeys", keys);
    }
    ctx
}

fn authorize(r: &dyn Reader, c: &Call, op: &str) -> Result<(), AwsError> {
    let action = format!("iam:{op}");
    let resource = resource(r, c, op)?;
    let facts = Facts::of(c.ctx).in_region("us-east-1");
    let mut ask = Ask::new(&action, &resource);
    ask.context = iam_context(c, op);
    access::require(r, &facts, ask).map_err(|e| e.into_error(403, "AccessDenied"))
}

//! Managed policies attached to users, groups and roles, and permissions boundaries:
//! Attach/Detach{User,Group,Role}Policy, ListAttached{User,Group,Role}Policies,
//! ListEntitiesForPolicy, Put/Delete{User,Role}PermissionsBoundary.

use super::errors::{
    limit_exceeded, no_such_policy, not_attachable, unmodifiable_role, validation,
};
use super::input::page;
use super::users::{check_boundary, reorder};
use super::{groups, roles, users, Call};
use crate::auth::directory::{self, managed, Entity};
use crate::error::AwsError;
use crate::store::{Reader, Writer};
use serde_json::{json, Map, Value};

/// Managed policies an entity may have attached (IAM's default quota).
const ATTACHED_MAX: usize = 10;

/// The entity's name parameter and its current attachments (checking it exists).
fn entity<'a>(
    r: &dyn Reader,
    c: &Call<'a>,
    kind: Entity,
) -> Result<(&'a str, Vec<String>), AwsError> {
    Ok(match kind {
        Entity::User => {
            let n = c.p.name("UserName", 128)?;
            (n, users::existing(r, c, n)?.attached)
        }
        Entity::Group => {
            let n = c.p.name("GroupName", 128)?;
            (n, groups::existing(r, c, n)?.attached)
        }
        Entity::Role => {
            let n = c.p.name("RoleName", 64)?;
            let role = roles::existing(r, c, n)?;
            (n, role.attached)
        }
    })
}

/// A managed policy the caller's account may attach: an AWS managed one, or its own.
fn attachable(r: &dyn Reader, c: &Call, arn: &str) -> Result<(), AwsError> {
    let ok = managed::find(arn).is_some()
        || directory::customer_policy(r, arn)?.is_some_and(|p| p.account == c.account);
    if !ok {
        return Err(not_attachable(arn));
    }
    Ok(())
}

fn quota_word(kind: Entity) -> &'static str {
    match kind {
        Entity::User => "PoliciesPerUser",
        Entity::Group => "PoliciesPerGroup",
        Entity::Role => "PoliciesPerRole",
    }
}

pub fn attach(c: &Call, w: &mut dyn Writer, kind: Entity) -> Result<Value, AwsError> {
    let (name, attached) = entity(w, c, kind)?;
    let arn = c.p.arn("PolicyArn")?;
    if kind == Entity::Role {
        let role = roles::existing(w, c, name)?;
        if role.is_service_linked() {
            return Err(unmodifiable_role(&role.name));
        }
    }
    attachable(w, c, arn)?;
    if !attached.iter().any(|a| a == arn) && attached.len() >= ATTACHED_MAX {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for {}: {ATTACHED_MAX}",
            quota_word(kind)
        )));
    }
    directory::attach(w, kind, &c.account, name, arn)?;
    Ok(json!({}))
}

pub fn detach(c: &Call, w: &mut dyn Writer, kind: Entity) -> Result<Value, AwsError> {
    let (name, attached) = entity(w, c, kind)?;
    let arn = c.p.arn("PolicyArn")?;
    if kind == Entity::Role {
        let role = roles::existing(w, c, name)?;
        if role.is_service_linked() {
            return Err(unmodifiable_role(&role.name));
        }
    }
    if !attached.iter().any(|a| a == arn) {
        return Err(no_such_policy(arn));
    }
    directory::detach(w, kind, &c.account, name, arn)?;
    Ok(json!({}))
}

/// The name and path of a managed policy by ARN.
fn name_and_path(r: &dyn Reader, arn: &str) -> Result<Option<(String, String)>, AwsError> {
    if let Some(a) = managed::find(arn) {
        return Ok(Some((a.name.clone(), a.path.clone())));
    }
    Ok(directory::customer_policy(r, arn)?.map(|p| (p.name, p.path)))
}

pub fn list(c: &Call, w: &mut dyn Writer, kind: Entity) -> Result<Value, AwsError> {
    let (_, attached) = entity(w, c, kind)?;
    let prefix = c.p.path_prefix()?;
    let mut items = Vec::new();
    for arn in attached {
        if let Some((name, path)) = name_and_path(w, &arn)? {
            if path.starts_with(prefix) {
                items.push(json!({"PolicyName": name, "PolicyArn": arn}));
            }
        }
    }
    let mut out = Map::new();
    let page = page(&c.p, items, &mut out)?;
    out.insert("AttachedPolicies".into(), Value::Array(page));
    Ok(reorder(out, "AttachedPolicies"))
}

pub fn entities(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("PolicyArn")?;
    if managed::find(arn).is_none()
        && directory::customer_policy(w, arn)?.is_none_or(|p| p.account != c.account)
    {
        return Err(no_such_policy(arn));
    }
    let filter = c.p.opt("EntityFilter");
    if let Some(f) = filter {
        if !matches!(
            f,
            "User" | "Role" | "Group" | "LocalManagedPolicy" | "AWSManagedPolicy"
        ) {
            return Err(validation(format!(
                "1 validation error detected: Value '{f}' at 'entityFilter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]"
            )));
        }
    }
    let prefix = c.p.path_prefix()?;
    let boundary_only = c.p.opt("PolicyUsageFilter") == Some("PermissionsBoundary");
    let wanted = |k: &str| filter.is_none_or(|f| f == k);
    let (mut groups, mut users, mut roles) = (Vec::new(), Vec::new(), Vec::new());
    if boundary_only {
        for u in directory::users(w, &c.account)? {
            if u.boundary.as_deref() == Some(arn) && wanted("User") && u.path.starts_with(prefix) {
                users.push(json!({"UserName": u.name, "UserId": u.id}));
            }
        }
        for r in directory::roles(w, &c.account)? {
            if r.boundary.as_deref() == Some(arn) && wanted("Role") && r.path.starts_with(prefix) {
                roles.push(json!({"RoleName": r.name, "RoleId": r.id}));
            }
        }
    } else {
        for (kind, name) in directory::attachments(w, &c.account, arn)? {
            match kind {
                Entity::Group if wanted("Group") => {
                    if let Some(g) = directory::group(w, &c.account, &name)? {
                        if g.path.starts_with(prefix) {
                            groups.push(json!({"GroupName": g.name, "GroupId": g.id}));
                        }
                    }
                }
                Entity::User if wanted("User") => {
                    if let Some(u) = directory::user(w, &c.account, &name)? {
                        if u.path.starts_with(prefix) {
                            users.push(json!({"UserName": u.name, "UserId": u.id}));
                        }
                    }
                }
                Entity::Role if wanted("Role") => {
                    if let Some(r) = directory::role(w, &c.account, &name)? {
                        if r.path.starts_with(prefix) {
                            roles.push(json!({"RoleName": r.name, "RoleId": r.id}));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(json!({
        "PolicyGroups": groups,
        "PolicyUsers": users,
        "PolicyRoles": roles,
        "IsTruncated": false,
    }))
}

pub fn put_boundary(c: &Call, w: &mut dyn Writer, kind: Entity) -> Result<Value, AwsError> {
    let arn = c.p.arn("PermissionsBoundary")?;
    check_boundary(w, arn)?;
    match kind {
        Entity::User => {
            let mut u = users::existing(w, c, c.p.name("UserName", 128)?)?;
            u.boundary = Some(arn.to_string());
            directory::put_user(w, &u)?;
        }
        _ => {
            let mut r = roles::existing(w, c, c.p.name("RoleName", 64)?)?;
            if r.is_service_linked() {
                return Err(unmodifiable_role(&r.name));
            }
            r.boundary = Some(arn.to_string());
            directory::put_role(w, &r)?;
        }
    }
    Ok(json!({}))
}

pub fn delete_boundary(c: &Call, w: &mut dyn Writer, kind: Entity) -> Result<Value, AwsError> {
    match kind {
        Entity::User => {
            let mut u = users::existing(w, c, c.p.name("UserName", 128)?)?;
            u.boundary = None;
            directory::put_user(w, &u)?;
        }
        _ => {
            let mut r = roles::existing(w, c, c.p.name("RoleName", 64)?)?;
            if r.is_service_linked() {
                return Err(unmodifiable_role(&r.name));
            }
            r.boundary = None;
            directory::put_role(w, &r)?;
        }
    }
    Ok(json!({}))
}

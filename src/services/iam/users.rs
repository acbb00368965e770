//! Users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser.

use super::errors::{already_exists, delete_conflict, no_such_user, not_attachable, validation};
use super::input::{date, page, tags_json};
use super::Call;
use crate::auth::directory::{self, User};
use crate::auth::PrincipalKind;
use crate::error::AwsError;
use crate::store::{Reader, Writer};
use serde_json::{json, Map, Value};

/// The `User` shape; `full` adds what GetUser shows beyond a listing (boundary, tags).
pub fn user_json(u: &User, full: bool) -> Value {
    let mut m = Map::new();
    m.insert("Path".into(), json!(u.path));
    m.insert("UserName".into(), json!(u.name));
    m.insert("UserId".into(), json!(u.id));
    m.insert("Arn".into(), json!(u.arn()));
    m.insert("CreateDate".into(), json!(date(u.created)));
    if let Some(t) = u.password_last_used {
        m.insert("PasswordLastUsed".into(), json!(date(t)));
    }
    if full {
        if let Some(b) = &u.boundary {
            m.insert("PermissionsBoundary".into(), boundary_json(b));
        }
        if !u.tags.is_empty() {
            m.insert("Tags".into(), tags_json(&u.tags));
        }
    }
    Value::Object(m)
}

pub fn boundary_json(arn: &str) -> Value {
    json!({"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn})
}

/// The user named `name` in the caller's account, or NoSuchEntity.
pub fn existing(r: &dyn Reader, c: &Call, name: &str) -> Result<User, AwsError> {
    directory::user(r, &c.account, name)?.ok_or_else(|| no_such_user(name))
}

/// A boundary must be a managed policy that exists.
pub fn check_boundary(r: &dyn Reader, arn: &str) -> Result<(), AwsError> {
    if directory::policy_document(r, arn)?.is_none() {
        return Err(not_attachable(arn));
    }
    Ok(())
}

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("UserName", 64)?;
    let path = c.p.path()?;
    let tags = c.p.tags()?;
    let boundary = c.p.opt("PermissionsBoundary");
    if let Some(b) = boundary {
        check_boundary(w, b)?;
    }
    if directory::user(w, &c.account, name)?.is_some() {
        return Err(already_exists(format!(
            "User with name {name} already exists."
        )));
    }
    let mut u = directory::create_user(w, &c.account, name, path, c.now)?;
    u.tags = tags;
    u.boundary = boundary.map(str::to_string);
    directory::put_user(w, &u)?;
    Ok(json!({"User": user_json(&u, true)}))
}

pub fn get(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = match c.p.opt_name("UserName", 128)? {
        Some(n) => n.to_string(),
        None => match &c.ctx.principal.kind {
            PrincipalKind::User { name, .. } => name.clone(),
            PrincipalKind::Root => {
                let created = directory::account(w, &c.account)?
                    .map(|a| a.created)
                    .unwrap_or(c.now);
                return Ok(json!({"User": {
                    "UserId": c.account,
                    "Arn": format!("arn:aws:iam::{}:root", c.account),
                    "CreateDate": date(created),
                }}));
            }
            _ => {
                return Err(validation(
                    "Must specify userName when calling with non-User credentials".into(),
                ))
            }
        },
    };
    let u = existing(w, c, &name)?;
    Ok(json!({"User": user_json(&u, true)}))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let prefix = c.p.path_prefix()?;
    let users: Vec<User> = directory::users(w, &c.account)?
        .into_iter()
        .filter(|u| u.path.starts_with(prefix))
        .collect();
    let mut out = Map::new();
    let page = page(&c.p, users, &mut out)?;
    out.insert(
        "Users".into(),
        Value::Array(page.iter().map(|u| user_json(u, false)).collect()),
    );
    Ok(reorder(out, "Users"))
}

/// Puts the list member first, as IAM's shapes order them.
pub fn reorder(mut out: Map<String, Value>, first: &str) -> Value {
    let mut m = Map::new();
    if let Some(v) = out.remove(first) {
        m.insert(first.into(), v);
    }
    for (k, v) in out {
        m.insert(k, v);
    }
    Value::Object(m)
}

pub fn update(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("UserName", 128)?;
    let new_name = c.p.opt_name("NewUserName", 64)?;
    let new_path = c.p.path_at("NewPath")?;
    let mut u = existing(w, c, name)?;
    if let Some(p) = new_path {
        u.path = p.to_string();
    }
    match new_name {
        Some(n) if n != u.name => {
            if !n.eq_ignore_ascii_case(&u.name) && directory::user(w, &c.account, n)?.is_some() {
                return Err(already_exists(format!(
                    "User with name {n} already exists."
                )));
            }
            rename(w, u, n)?;
        }
        _ => directory::put_user(w, &u)?,
    }
    Ok(json!({}))
}

/// A user renamed keeps its id, keys, groups and policies.
fn rename(w: &mut dyn Writer, mut u: User, new: &str) -> Result<(), AwsError> {
    let old = u.name.clone();
    let keys = directory::keys_of(w, &u.account, &old)?;
    let groups = u.groups.clone();
    let attached = u.attached.clone();
    for arn in &attached {
        directory::detach(w, directory::Entity::User, &u.account, &old, arn)?;
    }
    let mut fresh = directory::user(w, &u.account, &old)?.unwrap_or(u.clone());
    fresh.name = new.to_string();
    fresh.path = u.path.clone();
    fresh.attached = Vec::new();
    fresh.groups = Vec::new();
    directory::delete_user(w, &u.account, &old)?;
    directory::put_user(w, &fresh)?;
    for g in &groups {
        if let Some(group) = directory::group(w, &u.account, g)? {
            let mut stale = u.clone();
            directory::remove_member(w, &group, &mut stale)?;
            directory::add_member(w, &group, &mut fresh)?;
        }
    }
    for arn in &attached {
        directory::attach(w, directory::Entity::User, &u.account, new, arn)?;
    }
    for mut k in keys {
        directory::delete_access_key(w, &k)?;
        k.user = Some(new.to_string());
        directory::put_access_key(w, &k)?;
    }
    u.name = new.to_string();
    Ok(())
}

pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("UserName", 128)?;
    let u = existing(w, c, name)?;
    let bootstrap = c.app.auth.bootstrap();
    let holds_bootstrap_key =
        u.account == bootstrap.account && u.name.eq_ignore_ascii_case(&bootstrap.user_name);
    if holds_bootstrap_key || !directory::keys_of(w, &c.account, &u.name)?.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must delete access keys first.",
        ));
    }
    if !u.inline.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if !u.attached.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    if !u.groups.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must remove users from group first.",
        ));
    }
    directory::delete_user(w, &c.account, &u.name)?;
    Ok(json!({}))
}

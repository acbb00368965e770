//! Instance profiles: CreateInstanceProfile, GetInstanceProfile, ListInstanceProfiles,
//! ListInstanceProfilesForRole, AddRoleToInstanceProfile, RemoveRoleFromInstanceProfile,
//! DeleteInstanceProfile. A profile holds at most one role.

use super::errors::{
    already_exists, delete_conflict, limit_exceeded, no_such_entity, no_such_profile,
};
use super::input::{date, page, tags_json};
use super::roles::{existing as existing_role, role_json};
use super::users::reorder;
use super::Call;
use crate::auth::directory::{self, InstanceProfile};
use crate::error::AwsError;
use crate::ids;
use crate::store::{Reader, Writer};
use serde_json::{json, Map, Value};

fn profile_json(r: &dyn Reader, p: &InstanceProfile, full: bool) -> Result<Value, AwsError> {
    let mut roles = Vec::new();
    for name in &p.roles {
        if let Some(role) = directory::role(r, &p.account, name)? {
            roles.push(role_json(&role, false));
        }
    }
    let mut m = Map::new();
    m.insert("Path".into(), json!(p.path));
    m.insert("InstanceProfileName".into(), json!(p.name));
    m.insert("InstanceProfileId".into(), json!(p.id));
    m.insert("Arn".into(), json!(p.arn()));
    m.insert("CreateDate".into(), json!(date(p.created)));
    m.insert("Roles".into(), Value::Array(roles));
    if full && !p.tags.is_empty() {
        m.insert("Tags".into(), tags_json(&p.tags));
    }
    Ok(Value::Object(m))
}

pub fn existing(r: &dyn Reader, c: &Call, name: &str) -> Result<InstanceProfile, AwsError> {
    directory::profile(r, &c.account, name)?.ok_or_else(|| no_such_profile(name))
}

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("InstanceProfileName", 128)?;
    let path = c.p.path()?;
    let tags = c.p.tags()?;
    if directory::profile(w, &c.account, name)?.is_some() {
        return Err(already_exists(format!(
            "Instance Profile {name} already exists."
        )));
    }
    let p = InstanceProfile {
        account: c.account.clone(),
        name: name.into(),
        path: path.into(),
        id: ids::aws_id("AIPA", 17),
        created: c.now,
        roles: Vec::new(),
        tags,
    };
    directory::put_profile(w, &p)?;
    Ok(json!({"InstanceProfile": profile_json(w, &p, true)?}))
}

pub fn get(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("InstanceProfileName", 128)?;
    let p = existing(w, c, name)?;
    Ok(json!({"InstanceProfile": profile_json(w, &p, true)?}))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let prefix = c.p.path_prefix()?;
    let profiles: Vec<InstanceProfile> = directory::profiles(w, &c.account)?
        .into_iter()
        .filter(|p| p.path.starts_with(prefix))
        .collect();
    let mut out = Map::new();
    let page = page(&c.p, profiles, &mut out)?;
    let items = page
        .iter()
        .map(|p| profile_json(w, p, false))
        .collect::<Result<Vec<_>, _>>()?;
    out.insert("InstanceProfiles".into(), Value::Array(items));
    Ok(reorder(out, "InstanceProfiles"))
}

pub fn list_for_role(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let role = c.p.name("RoleName", 64)?;
    let role = existing_role(w, c, role)?;
    let profiles: Vec<InstanceProfile> = directory::profiles(w, &c.account)?
        .into_iter()
        .filter(|p| p.roles.iter().any(|r| r.eq_ignore_ascii_case(&role.name)))
        .collect();
    let mut out = Map::new();
    let page = page(&c.p, profiles, &mut out)?;
    let items = page
        .iter()
        .map(|p| profile_json(w, p, false))
        .collect::<Result<Vec<_>, _>>()?;
    out.insert("InstanceProfiles".into(), Value::Array(items));
    Ok(reorder(out, "InstanceProfiles"))
}

pub fn add_role(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("InstanceProfileName", 128)?;
    let role = c.p.name("RoleName", 64)?;
    let mut p = existing(w, c, name)?;
    let role = existing_role(w, c, role)?;
    if p.roles.iter().any(|r| r.eq_ignore_ascii_case(&role.name)) {
        return Err(limit_exceeded(
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
        ));
    }
    if !p.roles.is_empty() {
        return Err(limit_exceeded(
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
        ));
    }
    p.roles.push(role.name.clone());
    directory::put_profile(w, &p)?;
    Ok(json!({}))
}

pub fn remove_role(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("InstanceProfileName", 128)?;
    let role = c.p.name("RoleName", 64)?;
    let mut p = existing(w, c, name)?;
    let before = p.roles.len();
    p.roles.retain(|r| !r.eq_ignore_ascii_case(role));
    if before == p.roles.len() {
        return Err(no_such_entity(format!(
            "The role with name {role} cannot be found."
        )));
    }
    directory::put_profile(w, &p)?;
    Ok(json!({}))
}

pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("InstanceProfileName", 128)?;
    let p = existing(w, c, name)?;
    if !p.roles.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must remove roles from instance profile first.",
        ));
    }
    directory::delete_profile(w, &c.account, &p.name)?;
    Ok(json!({}))
}

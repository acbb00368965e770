//! Groups and membership: CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup,
//! AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.

use super::errors::{already_exists, delete_conflict, limit_exceeded, no_such_group};
use super::input::{date, page};
use super::users::{existing as existing_user, reorder, user_json};
use super::Call;
use crate::auth::directory::{self, Group, Inline};
use crate::error::AwsError;
use crate::ids;
use crate::store::{Reader, Writer};
use serde_json::{json, Map, Value};

const GROUPS_PER_USER: usize = 10;

pub fn group_json(g: &Group) -> Value {
    json!({
        "Path": g.path,
        "GroupName": g.name,
        "GroupId": g.id,
        "Arn": g.arn(),
        "CreateDate": date(g.created),
    })
}

pub fn existing(r: &dyn Reader, c: &Call, name: &str) -> Result<Group, AwsError> {
    directory::group(r, &c.account, name)?.ok_or_else(|| no_such_group(name))
}

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("GroupName", 128)?;
    let path = c.p.path()?;
    if directory::group(w, &c.account, name)?.is_some() {
        return Err(already_exists(format!(
            "Group with name {name} already exists."
        )));
    }
    let g = Group {
        account: c.account.clone(),
        name: name.into(),
        path: path.into(),
        id: ids::aws_id("AGPA", 17),
        created: c.now,
        inline: Inline::new(),
        attached: Vec::new(),
    };
    directory::put_group(w, &g)?;
    Ok(json!({"Group": group_json(&g)}))
}

pub fn get(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("GroupName", 128)?;
    let g = existing(w, c, name)?;
    let members = directory::members(w, &g)?;
    let mut out = Map::new();
    let page = page(&c.p, members, &mut out)?;
    let mut m = Map::new();
    m.insert("Group".into(), group_json(&g));
    m.insert(
        "Users".into(),
        Value::Array(page.iter().map(|u| user_json(u, false)).collect()),
    );
    m.extend(out);
    Ok(Value::Object(m))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let prefix = c.p.path_prefix()?;
    let groups: Vec<Group> = directory::groups(w, &c.account)?
        .into_iter()
        .filter(|g| g.path.starts_with(prefix))
        .collect();
    let mut out = Map::new();
    let page = page(&c.p, groups, &mut out)?;
    out.insert(
        "Groups".into(),
        Value::Array(page.iter().map(group_json).collect()),
    );
    Ok(reorder(out, "Groups"))
}

pub fn update(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("GroupName", 128)?;
    let new_name = c.p.opt_name("NewGroupName", 128)?;
    let new_path = c.p.path_at("NewPath")?;
    let mut g = existing(w, c, name)?;
    if let Some(p) = new_path {
        g.path = p.to_string();
    }
    let Some(new) = new_name.filter(|n| *n != g.name) else {
        directory::put_group(w, &g)?;
        return Ok(json!({}));
    };
    if !new.eq_ignore_ascii_case(&g.name) && directory::group(w, &c.account, new)?.is_some() {
        return Err(already_exists(format!(
            "Group with name {new} already exists."
        )));
    }
    // A renamed group keeps its members and policies.
    let members = directory::members(w, &g)?;
    for mut u in members.clone() {
        directory::remove_member(w, &g, &mut u)?;
    }
    let attached = g.attached.clone();
    for arn in &attached {
        directory::detach(w, directory::Entity::Group, &c.account, &g.name, arn)?;
    }
    directory::delete_group(w, &c.account, &g.name)?;
    g.name = new.to_string();
    g.attached = Vec::new();
    directory::put_group(w, &g)?;
    for arn in &attached {
        directory::attach(w, directory::Entity::Group, &c.account, new, arn)?;
    }
    for u in members {
        if let Some(mut fresh) = directory::user(w, &c.account, &u.name)? {
            directory::add_member(w, &g, &mut fresh)?;
        }
    }
    Ok(json!({}))
}

pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("GroupName", 128)?;
    let g = existing(w, c, name)?;
    if !directory::members(w, &g)?.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must remove users from group first.",
        ));
    }
    if !g.inline.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if !g.attached.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    directory::delete_group(w, &c.account, &g.name)?;
    Ok(json!({}))
}

pub fn add_user(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let group = c.p.name("GroupName", 128)?;
    let user = c.p.name("UserName", 128)?;
    let g = existing(w, c, group)?;
    let mut u = existing_user(w, c, user)?;
    let member = u.groups.iter().any(|x| x.eq_ignore_ascii_case(&g.name));
    if !member && u.groups.len() >= GROUPS_PER_USER {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"
        )));
    }
    directory::add_member(w, &g, &mut u)?;
    Ok(json!({}))
}

pub fn remove_user(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let group = c.p.name("GroupName", 128)?;
    let user = c.p.name("UserName", 128)?;
    let g = existing(w, c, group)?;
    let mut u = existing_user(w, c, user)?;
    directory::remove_member(w, &g, &mut u)?;
    Ok(json!({}))
}

pub fn list_for_user(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let user = c.p.name("UserName", 128)?;
    let u = existing_user(w, c, user)?;
    let mut groups = Vec::new();
    for name in &u.groups {
        if let Some(g) = directory::group(w, &c.account, name)? {
            groups.push(g);
        }
    }
    groups.sort_by_key(|g| g.name.to_lowercase());
    let mut out = Map::new();
    let page = page(&c.p, groups, &mut out)?;
    out.insert(
        "Groups".into(),
        Value::Array(page.iter().map(group_json).collect()),
    );
    Ok(reorder(out, "Groups"))
}

//! IAM groups and their members.

use super::{name_key, Inline, User, GROUPS, GROUP_MEMBERS};
use crate::store::{Reader, StoreResult, Writer};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Group {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub created: i64,
    #[serde(default)]
    pub inline: Inline,
    #[serde(default)]
    pub attached: Vec<String>,
}

impl Group {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:group{}{}",
            self.account, self.path, self.name
        )
    }
}

pub fn group(r: &dyn Reader, account: &str, name: &str) -> StoreResult<Option<Group>> {
    super::get_named(r, GROUPS, account, name)
}

pub fn put_group(w: &mut dyn Writer, g: &Group) -> StoreResult<()> {
    super::put_named(w, GROUPS, &g.account, &g.name, g)
}

pub fn delete_group(w: &mut dyn Writer, account: &str, name: &str) -> StoreResult<bool> {
    super::delete_named(w, GROUPS, account, name)
}

/// Every group of an account, in name order.
pub fn groups(r: &dyn Reader, account: &str) -> StoreResult<Vec<Group>> {
    super::list_named(r, GROUPS, account)
}

fn member_key(account: &str, group: &str, user: &str) -> Vec<u8> {
    let mut k = name_key(account, group);
    k.push(b'/');
    k.extend_from_slice(user.to_lowercase().as_bytes());
    k
}

/// Puts `user` in `group` (both records are saved; the caller has checked both exist).
pub fn add_member(w: &mut dyn Writer, group: &Group, user: &mut User) -> StoreResult<()> {
    if !user
        .groups
        .iter()
        .any(|g| g.eq_ignore_ascii_case(&group.name))
    {
        user.groups.push(group.name.clone());
        super::put_user(w, user)?;
    }
    w.put(
        GROUP_MEMBERS,
        &member_key(&group.account, &group.name, &user.name),
        b"",
    )?;
    super::touch(w)
}

pub fn remove_member(w: &mut dyn Writer, group: &Group, user: &mut User) -> StoreResult<bool> {
    let before = user.groups.len();
    user.groups.retain(|g| !g.eq_ignore_ascii_case(&group.name));
    let was = before != user.groups.len();
    if was {
        super::put_user(w, user)?;
    }
    w.delete(
        GROUP_MEMBERS,
        &member_key(&group.account, &group.name, &user.name),
    )?;
    super::touch(w)?;
    Ok(was)
}

/// The users of a group, in name order.
pub fn members(r: &dyn Reader, group: &Group) -> StoreResult<Vec<User>> {
    let mut prefix = name_key(&group.account, &group.name);
    prefix.push(b'/');
    let mut out = Vec::new();
    for (name, _) in super::keys_under(r, GROUP_MEMBERS, &prefix)? {
        if let Some(u) = super::user(r, &group.account, &name)? {
            out.push(u);
        }
    }
    Ok(out)
}

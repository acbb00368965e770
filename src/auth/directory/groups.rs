//! IAM groups and their members.

use super::{name_key, Inline, User, GROUPS, GROUP_MEMBERS};
use crate::store::{Reader, ReaderExt, StoreResult, Writer, WriterExt};
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
    r.get_json(GROUPS, &name_key(account, name))
}

pub fn put_group(w: &mut dyn Writer, g: &Group) -> StoreResult<()> {
    w.put_json(GROUPS, &name_key(&g.account, &g.name), g)?;
    super::touch(w)
}

pub fn delete_group(w: &mut dyn Writer, account: &str, name: &str) -> StoreResult<bool> {
    let was = w.delete(GROUPS, &name_key(account, name))?;
    super::touch(w)?;
    Ok(was)
}

pub fn groups(r: &dyn Reader, account: &str) -> StoreResult<Vec<Group>> {
    Ok(
        r.scan_prefix_json::<Group>(GROUPS, &super::account_prefix(account), usize::MAX)?
            .into_iter()
            .map(|(_, g)| g)
            .collect(),
    )
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
    let end = crate::store::prefix_end(&prefix);
    let rows = r.scan(
        GROUP_MEMBERS,
        std::ops::Bound::Included(prefix.as_slice()),
        match &end {
            Some(e) => std::ops::Bound::Excluded(e.as_slice()),
            None => std::ops::Bound::Unbounded,
        },
        usize::MAX,
        false,
    )?;
    let mut out = Vec::new();
    for (k, _) in rows {
        let name = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
        if let Some(u) = super::user(r, &group.account, &name)? {
            out.push(u);
        }
    }
    Ok(out)
}

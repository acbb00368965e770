//! Customer managed policies with their versions, and which users, groups and roles have which
//! managed policies attached (AWS managed or customer managed).

use super::{group, managed, put_group, put_role, put_user, role, user, Tag};
use super::{ATTACHMENTS, POLICIES};
use crate::store::{Reader, StoreResult, Writer};
use serde::{Deserialize, Serialize};

/// At most this many versions per customer managed policy, as AWS allows.
pub const MAX_VERSIONS: usize = 5;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// `v1`, `v2`, ...
    pub id: String,
    pub document: String,
    pub created: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub description: Option<String>,
    pub created: i64,
    pub updated: i64,
    pub default_version: String,
    /// Oldest first.
    pub versions: Vec<PolicyVersion>,
    /// The number the next version gets.
    pub next_version: u32,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl ManagedPolicy {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:policy{}{}",
            self.account, self.path, self.name
        )
    }

    pub fn default_document(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.id == self.default_version)
            .map(|v| v.document.as_str())
    }
}

/// What a managed policy is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    User,
    Group,
    Role,
}

impl Entity {
    pub fn word(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Group => "group",
            Entity::Role => "role",
        }
    }

    fn from_word(w: &str) -> Option<Entity> {
        Some(match w {
            "user" => Entity::User,
            "group" => Entity::Group,
            "role" => Entity::Role,
            _ => return None,
        })
    }
}

/// `arn:aws:iam::<account>:policy/<path/>name` → (account, path, name).
pub fn parse_policy_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let full = resource.strip_prefix("policy")?;
    if !full.starts_with('/') {
        return None;
    }
    let cut = full.rfind('/')?;
    let (path, name) = (&full[..=cut], &full[cut + 1..]);
    (!name.is_empty()).then_some((account, path, name))
}

/// The customer managed policy with this ARN (its path must match too).
pub fn customer_policy(r: &dyn Reader, arn: &str) -> StoreResult<Option<ManagedPolicy>> {
    let Some((account, path, name)) = parse_policy_arn(arn) else {
        return Ok(None);
    };
    if account == "aws" {
        return Ok(None);
    }
    Ok(customer_policy_named(r, account, name)?.filter(|p| p.path == path && p.name == name))
}

pub fn customer_policy_named(
    r: &dyn Reader,
    account: &str,
    name: &str,
) -> StoreResult<Option<ManagedPolicy>> {
    super::get_named(r, POLICIES, account, name)
}

pub fn put_policy(w: &mut dyn Writer, p: &ManagedPolicy) -> StoreResult<()> {
    super::put_named(w, POLICIES, &p.account, &p.name, p)
}

pub fn delete_policy(w: &mut dyn Writer, p: &ManagedPolicy) -> StoreResult<()> {
    super::delete_named(w, POLICIES, &p.account, &p.name).map(|_| ())
}

pub fn customer_policies(r: &dyn Reader, account: &str) -> StoreResult<Vec<ManagedPolicy>> {
    super::list_named(r, POLICIES, account)
}

/// The default version's document of a managed policy, AWS or customer managed.
pub fn policy_document(r: &dyn Reader, arn: &str) -> StoreResult<Option<String>> {
    if let Some(p) = managed::find(arn) {
        return Ok(Some(p.document.clone()));
    }
    Ok(customer_policy(r, arn)?.and_then(|p| p.default_document().map(str::to_string)))
}

fn attachment_prefix(account: &str, arn: &str) -> Vec<u8> {
    format!("{account}/{arn}/").into_bytes()
}

fn attachment_key(account: &str, arn: &str, entity: Entity, name: &str) -> Vec<u8> {
    let mut k = attachment_prefix(account, arn);
    k.extend_from_slice(entity.word().as_bytes());
    k.push(b'/');
    k.extend_from_slice(name.to_lowercase().as_bytes());
    k
}

/// Runs `change` on the attached list of an existing user, group or role, saving the entity
/// when it says it changed the list; returns the entity's name as created, or None when there
/// is no such entity.
fn with_attached(
    w: &mut dyn Writer,
    entity: Entity,
    account: &str,
    name: &str,
    change: impl FnOnce(&mut Vec<String>) -> bool,
) -> StoreResult<Option<String>> {
    Ok(match entity {
        Entity::User => match user(w, account, name)? {
            Some(mut u) => {
                if change(&mut u.attached) {
                    put_user(w, &u)?;
                }
                Some(u.name)
            }
            None => None,
        },
        Entity::Group => match group(w, account, name)? {
            Some(mut g) => {
                if change(&mut g.attached) {
                    put_group(w, &g)?;
                }
                Some(g.name)
            }
            None => None,
        },
        Entity::Role => match role(w, account, name)? {
            Some(mut r) => {
                if change(&mut r.attached) {
                    put_role(w, &r)?;
                }
                Some(r.name)
            }
            None => None,
        },
    })
}

/// Attaches a managed policy to an existing user, group or role of `account` (a no-op when it
/// already is). Returns false when there is no such entity.
pub fn attach(
    w: &mut dyn Writer,
    entity: Entity,
    account: &str,
    name: &str,
    arn: &str,
) -> StoreResult<bool> {
    let added = |list: &mut Vec<String>| {
        let fresh = !list.iter().any(|a| a == arn);
        if fresh {
            list.push(arn.to_string());
        }
        fresh
    };
    let Some(real_name) = with_attached(w, entity, account, name, added)? else {
        return Ok(false);
    };
    w.put(
        ATTACHMENTS,
        &attachment_key(account, arn, entity, &real_name),
        real_name.as_bytes(),
    )?;
    super::touch(w)?;
    Ok(true)
}

/// Detaches a managed policy; returns whether it was attached.
pub fn detach(
    w: &mut dyn Writer,
    entity: Entity,
    account: &str,
    name: &str,
    arn: &str,
) -> StoreResult<bool> {
    let mut was = false;
    let removed = |list: &mut Vec<String>| {
        let before = list.len();
        list.retain(|a| a != arn);
        was = before != list.len();
        was
    };
    with_attached(w, entity, account, name, removed)?;
    w.delete(ATTACHMENTS, &attachment_key(account, arn, entity, name))?;
    super::touch(w)?;
    Ok(was)
}

/// Every entity of `account` the policy is attached to, users first, each kind in name order.
pub fn attachments(r: &dyn Reader, account: &str, arn: &str) -> StoreResult<Vec<(Entity, String)>> {
    let prefix = attachment_prefix(account, arn);
    let mut out: Vec<(Entity, String)> = super::keys_under(r, ATTACHMENTS, &prefix)?
        .into_iter()
        .filter_map(|(rest, v)| {
            let (kind, _) = rest.split_once('/')?;
            Some((
                Entity::from_word(kind)?,
                String::from_utf8_lossy(&v).into_owned(),
            ))
        })
        .collect();
    out.sort_by_key(|(e, n)| (*e as u8, n.to_lowercase()));
    Ok(out)
}

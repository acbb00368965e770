//! Customer managed policies with their versions, and which users, groups and roles have which
//! managed policies attached (AWS managed or customer managed).

use super::{group, managed, name_key, put_group, put_role, put_user, role, user, Tag};
use super::{ATTACHMENTS, POLICIES};
use crate::store::{Reader, ReaderExt, StoreResult, Writer, WriterExt};
use serde::{Deserialize, Serialize};
use std::ops::Bound;

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
    Ok(
        r.get_json::<ManagedPolicy>(POLICIES, &name_key(account, name))?
            .filter(|p| p.path == path && p.name == name),
    )
}

pub fn customer_policy_named(
    r: &dyn Reader,
    account: &str,
    name: &str,
) -> StoreResult<Option<ManagedPolicy>> {
    r.get_json(POLICIES, &name_key(account, name))
}

pub fn put_policy(w: &mut dyn Writer, p: &ManagedPolicy) -> StoreResult<()> {
    w.put_json(POLICIES, &name_key(&p.account, &p.name), p)?;
    super::touch(w)
}

pub fn delete_policy(w: &mut dyn Writer, p: &ManagedPolicy) -> StoreResult<()> {
    w.delete(POLICIES, &name_key(&p.account, &p.name))?;
    super::touch(w)
}

pub fn customer_policies(r: &dyn Reader, account: &str) -> StoreResult<Vec<ManagedPolicy>> {
    Ok(
        r.scan_prefix_json::<ManagedPolicy>(POLICIES, &super::account_prefix(account), usize::MAX)?
            .into_iter()
            .map(|(_, p)| p)
            .collect(),
    )
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

/// Attaches a managed policy to an existing user, group or role of `account` (a no-op when it
/// already is). Returns false when there is no such entity.
pub fn attach(
    w: &mut dyn Writer,
    entity: Entity,
    account: &str,
    name: &str,
    arn: &str,
) -> StoreResult<bool> {
    let add = |list: &mut Vec<String>| {
        let fresh = !list.iter().any(|a| a == arn);
        if fresh {
            list.push(arn.to_string());
        }
        fresh
    };
    let real_name = match entity {
        Entity::User => match user(w, account, name)? {
            Some(mut u) => {
                if add(&mut u.attached) {
                    put_user(w, &u)?;
                }
                u.name
            }
            None => return Ok(false),
        },
        Entity::Group => match group(w, account, name)? {
            Some(mut g) => {
                if add(&mut g.attached) {
                    put_group(w, &g)?;
                }
                g.name
            }
            None => return Ok(false),
        },
        Entity::Role => match role(w, account, name)? {
            Some(mut r) => {
                if add(&mut r.attached) {
                    put_role(w, &r)?;
                }
                r.name
            }
            None => return Ok(false),
        },
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
    let remove = |list: &mut Vec<String>| {
        let before = list.len();
        list.retain(|a| a != arn);
        before != list.len()
    };
    let was = match entity {
        Entity::User => match user(w, account, name)? {
            Some(mut u) => {
                let was = remove(&mut u.attached);
                if was {
                    put_user(w, &u)?;
                }
                was
            }
            None => false,
        },
        Entity::Group => match group(w, account, name)? {
            Some(mut g) => {
                let was = remove(&mut g.attached);
                if was {
                    put_group(w, &g)?;
                }
                was
            }
            None => false,
        },
        Entity::Role => match role(w, account, name)? {
            Some(mut r) => {
                let was = remove(&mut r.attached);
                if was {
                    put_role(w, &r)?;
                }
                was
            }
            None => false,
        },
    };
    w.delete(ATTACHMENTS, &attachment_key(account, arn, entity, name))?;
    super::touch(w)?;
    Ok(was)
}

/// Every entity of `account` the policy is attached to, users first, each kind in name order.
pub fn attachments(r: &dyn Reader, account: &str, arn: &str) -> StoreResult<Vec<(Entity, String)>> {
    let prefix = attachment_prefix(account, arn);
    let end = crate::store::prefix_end(&prefix);
    let rows = r.scan(
        ATTACHMENTS,
        Bound::Included(prefix.as_slice()),
        match &end {
            Some(e) => Bound::Excluded(e.as_slice()),
            None => Bound::Unbounded,
        },
        usize::MAX,
        false,
    )?;
    let mut out: Vec<(Entity, String)> = rows
        .into_iter()
        .filter_map(|(k, v)| {
            let rest = std::str::from_utf8(&k[prefix.len()..]).ok()?;
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

//! Inline policies of users, groups and roles: Put/Get/List/Delete{User,Group,Role}Policy.

use super::errors::{limit_exceeded, no_such_entity, unmodifiable_role};
use super::input::{encode_document, page};
use super::{groups, roles, users, Call};
use crate::auth::directory::{self, Entity, Inline};
use crate::error::AwsError;
use crate::policy::PolicyKind;
use crate::store::Writer;
use serde_json::{json, Map, Value};

/// What the inline policies of one entity may add up to, whitespace not counted.
fn size_quota(kind: Entity) -> usize {
    match kind {
        Entity::User => 2048,
        Entity::Group => 5120,
        Entity::Role => 10240,
    }
}

fn member(kind: Entity) -> (&'static str, usize) {
    match kind {
        Entity::User => ("UserName", 128),
        Entity::Group => ("GroupName", 128),
        Entity::Role => ("RoleName", 64),
    }
}

fn no_such_policy(kind: Entity, name: &str) -> AwsError {
    no_such_entity(format!(
        "The {} policy with name {name} cannot be found.",
        kind.word()
    ))
}

/// Reads the entity's inline policies, lets `change` edit them, and saves them when it says so.
fn with_inline<T>(
    c: &Call,
    w: &mut dyn Writer,
    kind: Entity,
    change: impl FnOnce(&str, &mut Inline) -> Result<(T, bool), AwsError>,
) -> Result<T, AwsError> {
    let (param, max) = member(kind);
    let name = c.p.name(param, max)?;
    match kind {
        Entity::User => {
            let mut u = users::existing(w, c, name)?;
            let (out, save) = change(&u.name.clone(), &mut u.inline)?;
            if save {
                directory::put_user(w, &u)?;
            }
            Ok(out)
        }
        Entity::Group => {
            let mut g = groups::existing(w, c, name)?;
            let (out, save) = change(&g.name.clone(), &mut g.inline)?;
            if save {
                directory::put_group(w, &g)?;
            }
            Ok(out)
        }
        Entity::Role => {
            let mut r = roles::existing(w, c, name)?;
            if save_would_change_service_linked(&r) {
                return Err(unmodifiable_role(&r.name));
            }
            let (out, save) = change(&r.name.clone(), &mut r.inline)?;
            if save {
                directory::put_role(w, &r)?;
            }
            Ok(out)
        }
    }
}

fn save_would_change_service_linked(r: &directory::Role) -> bool {
    r.is_service_linked()
}

fn total_size(inline: &Inline) -> usize {
    inline
        .values()
        .map(|d| d.chars().filter(|c| !c.is_whitespace()).count())
        .sum()
}

pub fn put(c: &Call, w: &mut dyn Writer, kind: Entity) -> Result<Value, AwsError> {
    let policy_name = c.p.name("PolicyName", 128)?;
    let document =
        c.p.document("PolicyDocument", PolicyKind::Identity, usize::MAX)?;
    with_inline(c, w, kind, |entity, inline| {
        let mut next = inline.clone();
        next.insert(policy_name.to_string(), document.to_string());
        let quota = size_quota(kind);
        if total_size(&next) > quota {
            return Err(limit_exceeded(format!(
                "Maximum policy size of {quota} bytes exceeded for {} {entity}",
                kind.word()
            )));
        }
        *inline = next;
        Ok(((), true))
    })?;
    Ok(json!({}))
}

pub fn get(c: &Call, w: &mut dyn Writer, kind: Entity) -> Result<Value, AwsError> {
    let policy_name = c.p.name("PolicyName", 128)?;
    let (param, _) = member(kind);
    with_inline(c, w, kind, |entity, inline| {
        let doc = inline
            .get(policy_name)
            .ok_or_else(|| no_such_policy(kind, policy_name))?;
        let mut m = Map::new();
        m.insert(param.into(), json!(entity));
        m.insert("PolicyName".into(), json!(policy_name));
        m.insert("PolicyDocument".into(), json!(encode_document(doc)));
        Ok((Value::Object(m), false))
    })
}

pub fn list(c: &Call, w: &mut dyn Writer, kind: Entity) -> Result<Value, AwsError> {
    let names: Vec<String> = with_inline(c, w, kind, |_, inline| {
        Ok((inline.keys().cloned().collect(), false))
    })?;
    let mut out = Map::new();
    let page = page(&c.p, names, &mut out)?;
    let mut m = Map::new();
    m.insert("PolicyNames".into(), json!(page));
    m.extend(out);
    Ok(Value::Object(m))
}

pub fn delete(c: &Call, w: &mut dyn Writer, kind: Entity) -> Result<Value, AwsError> {
    let policy_name = c.p.name("PolicyName", 128)?;
    with_inline(c, w, kind, |_, inline| {
        if inline.remove(policy_name).is_none() {
            return Err(no_such_policy(kind, policy_name));
        }
        Ok(((), true))
    })?;
    Ok(json!({}))
}

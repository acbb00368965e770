//! Access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey,
//! GetAccessKeyLastUsed. A user has at most two; a call that names no user acts on the
//! caller's own keys (the root user's, for the root user).

use super::errors::{limit_exceeded, no_such_entity, validation};
use super::input::{date, page};
use super::users::{existing as existing_user, reorder};
use super::Call;
use crate::auth::directory::{self, AccessKey, KEYS_PER_USER};
use crate::auth::PrincipalKind;
use crate::error::AwsError;
use crate::store::{Reader, Writer};
use serde_json::{json, Map, Value};

/// The user a key call is about: the one named, or the caller (None: the root user).
fn subject(r: &dyn Reader, c: &Call) -> Result<Option<String>, AwsError> {
    if let Some(name) = c.p.opt_name("UserName", 128)? {
        return Ok(Some(existing_user(r, c, name)?.name));
    }
    match &c.ctx.principal.kind {
        PrincipalKind::User { name, .. } => Ok(Some(name.clone())),
        PrincipalKind::Root => Ok(None),
        _ => Err(validation(
            "Must specify userName when calling with non-User credentials".into(),
        )),
    }
}

fn keys_of(r: &dyn Reader, c: &Call, user: Option<&str>) -> Result<Vec<AccessKey>, AwsError> {
    Ok(match user {
        Some(u) => directory::keys_of(r, &c.account, u)?,
        None => directory::root_keys(r, &c.account)?,
    })
}

fn no_such_key(id: &str) -> AwsError {
    no_such_entity(format!("The Access Key with id {id} cannot be found."))
}

/// The key `AccessKeyId` of the subject.
fn key_of(r: &dyn Reader, c: &Call, user: Option<&str>) -> Result<AccessKey, AwsError> {
    let id = c.p.required("AccessKeyId")?;
    directory::access_key(r, id)?
        .filter(|k| {
            k.account == c.account
                && match (&k.user, user) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    (None, None) => true,
                    _ => false,
                }
        })
        .ok_or_else(|| no_such_key(id))
}

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let user = subject(w, c)?;
    if keys_of(w, c, user.as_deref())?.len() >= KEYS_PER_USER {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}"
        )));
    }
    let (key, secret) =
        directory::new_access_key(w, c.app.auth.sealer(), &c.account, user.as_deref(), c.now)?;
    let mut m = Map::new();
    if let Some(u) = &user {
        m.insert("UserName".into(), json!(u));
    }
    m.insert("AccessKeyId".into(), json!(key.id));
    m.insert("Status".into(), json!(key.status));
    m.insert("SecretAccessKey".into(), json!(secret));
    m.insert("CreateDate".into(), json!(date(key.created)));
    Ok(json!({"AccessKey": Value::Object(m)}))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let user = subject(w, c)?;
    let keys = keys_of(w, c, user.as_deref())?;
    let mut out = Map::new();
    let page = page(&c.p, keys, &mut out)?;
    let items: Vec<Value> = page
        .iter()
        .map(|k| {
            let mut m = Map::new();
            if let Some(u) = &k.user {
                m.insert("UserName".into(), json!(u));
            }
            m.insert("AccessKeyId".into(), json!(k.id));
            m.insert("Status".into(), json!(k.status));
            m.insert("CreateDate".into(), json!(date(k.created)));
            Value::Object(m)
        })
        .collect();
    out.insert("AccessKeyMetadata".into(), Value::Array(items));
    Ok(reorder(out, "AccessKeyMetadata"))
}

pub fn update(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let status = c.p.required("Status")?;
    if !matches!(status, "Active" | "Inactive") {
        return Err(validation(format!(
            "1 validation error detected: Value '{status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
        )));
    }
    let user = subject(w, c)?;
    let mut key = key_of(w, c, user.as_deref())?;
    key.status = status.to_string();
    directory::put_access_key(w, &key)?;
    Ok(json!({}))
}

pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let user = subject(w, c)?;
    let key = key_of(w, c, user.as_deref())?;
    directory::delete_access_key(w, &key)?;
    Ok(json!({}))
}

pub fn last_used(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let id = c.p.required("AccessKeyId")?;
    let key = directory::access_key(w, id)?
        .filter(|k| k.account == c.account)
        .ok_or_else(|| no_such_key(id))?;
    let used = match &key.last_used {
        Some(u) => json!({
            "LastUsedDate": date(u.at),
            "ServiceName": u.service,
            "Region": u.region,
        }),
        None => json!({"ServiceName": "N/A", "Region": "N/A"}),
    };
    let mut m = Map::new();
    m.insert(
        "UserName".into(),
        json!(key.user.clone().unwrap_or_else(|| "root".into())),
    );
    m.insert("AccessKeyLastUsed".into(), used);
    Ok(Value::Object(m))
}

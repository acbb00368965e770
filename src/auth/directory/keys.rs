//! Long-term access keys: of IAM users, and of an account's root user.

use super::{name_key, user, KEYS, USER_KEYS};
use crate::auth::principal::{Principal, PrincipalKind};
use crate::auth::sealer::Sealer;
use crate::ids;
use crate::store::{Reader, ReaderExt, StoreError, StoreResult, Writer, WriterExt};
use serde::{Deserialize, Serialize};

/// At most this many keys per user, as AWS allows.
pub const KEYS_PER_USER: usize = 2;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub account: String,
    /// None: a root access key.
    pub user: Option<String>,
    pub sealed_secret: String,
    pub created: i64,
    /// `Active` or `Inactive`.
    #[serde(default = "active")]
    pub status: String,
    #[serde(default)]
    pub last_used: Option<LastUsed>,
}

fn active() -> String {
    "Active".into()
}

/// What GetAccessKeyLastUsed reports.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LastUsed {
    /// Epoch milliseconds.
    pub at: i64,
    /// e.g. `sts`, `cloudtrail`.
    pub service: String,
    pub region: String,
}

pub fn user_key_key(account: &str, user: &str, key_id: &str) -> Vec<u8> {
    let mut k = name_key(account, user);
    k.push(b'/');
    k.extend_from_slice(key_id.as_bytes());
    k
}

pub fn access_key(r: &dyn Reader, id: &str) -> StoreResult<Option<AccessKey>> {
    r.get_json(KEYS, id.as_bytes())
}

pub fn put_access_key(w: &mut dyn Writer, k: &AccessKey) -> StoreResult<()> {
    w.put_json(KEYS, k.id.as_bytes(), k)?;
    if let Some(u) = &k.user {
        w.put(USER_KEYS, &user_key_key(&k.account, u, &k.id), b"")?;
    }
    Ok(())
}

pub fn delete_access_key(w: &mut dyn Writer, k: &AccessKey) -> StoreResult<()> {
    w.delete(KEYS, k.id.as_bytes())?;
    if let Some(u) = &k.user {
        w.delete(USER_KEYS, &user_key_key(&k.account, u, &k.id))?;
    }
    Ok(())
}

/// A user's keys, oldest first.
pub fn keys_of(r: &dyn Reader, account: &str, user: &str) -> StoreResult<Vec<AccessKey>> {
    let mut prefix = name_key(account, user);
    prefix.push(b'/');
    let mut out = Vec::new();
    for (id, _) in super::keys_under(r, USER_KEYS, &prefix)? {
        if let Some(key) = access_key(r, &id)? {
            out.push(key);
        }
    }
    out.sort_by_key(|k| k.created);
    Ok(out)
}

/// A new key for `user` (None: the account's root); returns the key and its secret.
pub fn new_access_key(
    w: &mut dyn Writer,
    sealer: &Sealer,
    account: &str,
    user: Option<&str>,
    now_ms: i64,
) -> StoreResult<(AccessKey, String)> {
    let secret = ids::secret_key();
    let key = AccessKey {
        id: ids::access_key_id("AKIA", account),
        account: account.into(),
        user: user.map(str::to_string),
        sealed_secret: sealer.seal(secret.as_bytes()),
        created: now_ms,
        status: active(),
        last_used: None,
    };
    put_access_key(w, &key)?;
    Ok((key, secret))
}

/// Mints a long-term key for `user_name` (None: the account's root), creating the user, with
/// no policies, when missing (`cairn admin create-access-key`).
pub fn mint_access_key(
    w: &mut dyn Writer,
    sealer: &Sealer,
    account_id: &str,
    user_name: Option<&str>,
    now_ms: i64,
) -> StoreResult<(String, String)> {
    if super::account(w, account_id)?.is_none() {
        return Err(StoreError::Backend(format!("no account {account_id}")));
    }
    let mut user_name = user_name.map(str::to_string);
    if let Some(name) = &mut user_name {
        match user(w, account_id, name)? {
            Some(u) => *name = u.name,
            None => {
                super::create_user(w, account_id, name, "/", now_ms)?;
            }
        }
    }
    let (key, secret) = new_access_key(w, sealer, account_id, user_name.as_deref(), now_ms)?;
    Ok((key.id, secret))
}

/// The secret and the principal of a stored, active long-term key.
pub fn resolve_key(
    r: &dyn Reader,
    sealer: &Sealer,
    key_id: &str,
) -> StoreResult<Option<(String, Principal)>> {
    let Some(key) = access_key(r, key_id)? else {
        return Ok(None);
    };
    if key.status != "Active" {
        return Ok(None);
    }
    let secret = sealer
        .open(&key.sealed_secret)
        .and_then(|s| String::from_utf8(s).ok())
        .ok_or_else(|| StoreError::Corrupt {
            table: KEYS.0,
            reason: "a secret does not open with this master key (was the key file replaced?)"
                .into(),
        })?;
    let kind = match &key.user {
        None => PrincipalKind::Root,
        Some(name) => match user(r, &key.account, name)? {
            Some(u) => PrincipalKind::User {
                name: u.name,
                path: u.path,
                id: u.id,
            },
            None => return Ok(None),
        },
    };
    Ok(Some((
        secret,
        Principal {
            account: key.account,
            kind,
            access_key_id: key.id,
            session: None,
        },
    )))
}

/// The root user's keys of an account, oldest first.
pub fn root_keys(r: &dyn Reader, account: &str) -> StoreResult<Vec<AccessKey>> {
    let mut out: Vec<AccessKey> = r
        .scan_prefix_json::<AccessKey>(KEYS, b"", usize::MAX)?
        .into_iter()
        .map(|(_, k)| k)
        .filter(|k| k.account == account && k.user.is_none())
        .collect();
    out.sort_by_key(|k| k.created);
    Ok(out)
}

/// Notes that a key was used (GetAccessKeyLastUsed); AWS keeps this coarse, so callers write
/// it at most once a minute per key.
pub fn note_key_use(w: &mut dyn Writer, id: &str, used: LastUsed) -> StoreResult<()> {
    if let Some(mut k) = access_key(w, id)? {
        k.last_used = Some(used);
        w.put_json(KEYS, k.id.as_bytes(), &k)?;
    }
    Ok(())
}

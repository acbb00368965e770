//! The directory: accounts and the IAM entities of each (users, groups, roles, managed
//! policies, instance profiles, access keys), as records in the store.
//!
//! The IAM service (`services/iam`) is the API over it; authentication reads keys from it and
//! the access room reads the policies that speak for a principal. It is filled at first start
//! (the management account and its `admin` user), by Organizations (member accounts and
//! `OrganizationAccountAccessRole`), by the `cairn admin` command and by IAM calls.
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | `iam.accounts` | account id | [`Account`] |
//! | `iam.users` | `account/lower(name)` | [`User`] |
//! | `iam.groups` | `account/lower(name)` | [`Group`] |
//! | `iam.group_members` | `account/lower(group)/lower(user)` | empty |
//! | `iam.roles` | `account/lower(name)` | [`Role`] |
//! | `iam.policies` | `account/lower(name)` | [`ManagedPolicy`] (customer managed) |
//! | `iam.attachments` | `account/policy arn/user\|group\|role/lower(name)` | empty |
//! | `iam.profiles` | `account/lower(name)` | [`InstanceProfile`] |
//! | `iam.keys` | access key id | [`AccessKey`] |
//! | `iam.user_keys` | `account/lower(user)/key id` | empty |
//! | `iam.aliases` | account id | alias (and `=alias` → account id, for uniqueness) |
//! | `iam.oidc_providers` | `account/<url without https://>` | [`OidcProvider`] (with its JWKS) |
//! | `iam.saml_providers` | `account/lower(name)` | [`SamlProvider`] |
//! | `iam.meta` | `management-account`, `generation`, `version` | |
//!
//! IAM names are unique without regard to case ("Bob" and "bob" are one user), so keys hold
//! them lower-cased; records keep the name as created.

mod groups;
mod keys;
pub mod managed;
mod policies;
mod profiles;
mod providers;
mod roles;
mod users;

pub use groups::*;
pub use keys::*;
pub use policies::*;
pub use profiles::*;
pub use providers::*;
pub use roles::*;
pub use users::*;

use crate::ids;
use crate::store::{Reader, ReaderExt, StoreError, StoreResult, Table, Writer, WriterExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const ACCOUNTS: Table = Table("iam.accounts");
pub const USERS: Table = Table("iam.users");
pub const GROUPS: Table = Table("iam.groups");
pub const GROUP_MEMBERS: Table = Table("iam.group_members");
pub const ROLES: Table = Table("iam.roles");
pub const POLICIES: Table = Table("iam.policies");
pub const ATTACHMENTS: Table = Table("iam.attachments");
pub const PROFILES: Table = Table("iam.profiles");
pub const KEYS: Table = Table("iam.keys");
pub const USER_KEYS: Table = Table("iam.user_keys");
pub const ALIASES: Table = Table("iam.aliases");
pub const OIDC_PROVIDERS: Table = Table("iam.oidc_providers");
pub const SAML_PROVIDERS: Table = Table("iam.saml_providers");
pub const META: Table = Table("iam.meta");

const MANAGEMENT: &[u8] = b"management-account";
const GENERATION: &[u8] = b"generation";
const VERSION: &[u8] = b"version";
const SCHEMA: &[u8] = b"schema";
/// The directory's layout; older layouts are upgraded at start ([`upgrade`]).
const SCHEMA_VERSION: &str = "2";

pub const ORGANIZATION_ROLE: &str = "OrganizationAccountAccessRole";

/// An inline policy document set: policy name → document.
pub type Inline = BTreeMap<String, String>;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    /// Epoch milliseconds.
    pub created: i64,
}

/// `account/lower(name)`: the key of a named entity.
pub fn name_key(account: &str, name: &str) -> Vec<u8> {
    let mut k = String::with_capacity(account.len() + name.len() + 1);
    k.push_str(account);
    k.push('/');
    k.push_str(&name.to_lowercase());
    k.into_bytes()
}

/// `account/`: the prefix of an account's entities.
pub fn account_prefix(account: &str) -> Vec<u8> {
    format!("{account}/").into_bytes()
}

/// The entity named `name` of `account` in `table`.
fn get_named<T: serde::de::DeserializeOwned>(
    r: &dyn Reader,
    table: Table,
    account: &str,
    name: &str,
) -> StoreResult<Option<T>> {
    r.get_json(table, &name_key(account, name))
}

/// Saves an entity under its name; every such write bears on access, so it moves the version.
fn put_named<T: Serialize>(
    w: &mut dyn Writer,
    table: Table,
    account: &str,
    name: &str,
    value: &T,
) -> StoreResult<()> {
    w.put_json(table, &name_key(account, name), value)?;
    touch(w)
}

fn delete_named(w: &mut dyn Writer, table: Table, account: &str, name: &str) -> StoreResult<bool> {
    let was = w.delete(table, &name_key(account, name))?;
    touch(w)?;
    Ok(was)
}

/// Every entity of `account` in `table`, in name order.
fn list_named<T: serde::de::DeserializeOwned>(
    r: &dyn Reader,
    table: Table,
    account: &str,
) -> StoreResult<Vec<T>> {
    Ok(
        r.scan_prefix_json::<T>(table, &account_prefix(account), usize::MAX)?
            .into_iter()
            .map(|(_, v)| v)
            .collect(),
    )
}

/// The last segment of every key of `table` that starts with `prefix`, in key order (the
/// members of a group, a user's key ids, a policy's attachments).
fn keys_under(r: &dyn Reader, table: Table, prefix: &[u8]) -> StoreResult<Vec<(String, Vec<u8>)>> {
    let end = crate::store::prefix_end(prefix);
    let rows = r.scan(
        table,
        std::ops::Bound::Included(prefix),
        match &end {
            Some(e) => std::ops::Bound::Excluded(e.as_slice()),
            None => std::ops::Bound::Unbounded,
        },
        usize::MAX,
        false,
    )?;
    Ok(rows
        .into_iter()
        .map(|(k, v)| (String::from_utf8_lossy(&k[prefix.len()..]).into_owned(), v))
        .collect())
}

pub fn account(r: &dyn Reader, id: &str) -> StoreResult<Option<Account>> {
    r.get_json(ACCOUNTS, id.as_bytes())
}

pub fn management_account(r: &dyn Reader) -> StoreResult<Option<String>> {
    Ok(r.get(META, MANAGEMENT)?
        .map(|v| String::from_utf8_lossy(&v).into_owned()))
}

/// A value that changes whenever the state is wiped, so session tokens issued before a reset
/// stop working with it.
pub fn generation(r: &dyn Reader) -> StoreResult<String> {
    Ok(r.get(META, GENERATION)?
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default())
}

/// A counter that moves with every change that bears on authorization (IAM entities and their
/// policies, an organization's structure and policies). What the access room derives from
/// the directory is kept while the counter stands still.
pub fn version(r: &dyn Reader) -> StoreResult<u64> {
    Ok(r.get(META, VERSION)?
        .and_then(|v| v.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0))
}

/// Moves [`version`]: called by every write that changes what some call may do. A directory
/// starts its count at a random number, so versions of two data directories (or of one before
/// and after a reset) do not meet in a cache.
pub fn touch(w: &mut dyn Writer) -> StoreResult<()> {
    let next = match w.get(META, VERSION)? {
        Some(_) => version(w)?.wrapping_add(1),
        None => rand::random::<u64>() >> 1,
    };
    w.put(META, VERSION, &next.to_be_bytes())
}

pub struct Bootstrap<'a> {
    pub management_account: &'a str,
    pub admin_user: &'a str,
    pub now_ms: i64,
}

/// First start: the management account and its administrator user, with AdministratorAccess
/// attached. Later starts check that the configured management account is the one the data
/// directory was created with, and upgrade older layouts.
pub fn bootstrap(w: &mut dyn Writer, b: &Bootstrap) -> StoreResult<()> {
    if let Some(existing) = management_account(w)? {
        if existing != b.management_account {
            return Err(StoreError::Backend(format!(
                "this data directory belongs to management account {existing}, not {}",
                b.management_account
            )));
        }
    } else {
        w.put(META, MANAGEMENT, b.management_account.as_bytes())?;
        w.put(META, SCHEMA, SCHEMA_VERSION.as_bytes())?;
    }
    upgrade(w)?;
    if generation(w)?.is_empty() {
        w.put(META, GENERATION, ids::alnum(12).as_bytes())?;
    }
    if account(w, b.management_account)?.is_none() {
        create_account(
            w,
            b.management_account,
            "Management",
            "management@example.com",
            b.now_ms,
        )?;
    }
    if user(w, b.management_account, b.admin_user)?.is_none() {
        let u = create_user(w, b.management_account, b.admin_user, "/", b.now_ms)?;
        attach(
            w,
            Entity::User,
            &u.account,
            &u.name,
            &managed::arn("AdministratorAccess"),
        )?;
    }
    touch(w)
}

/// Directories written before IAM kept one list of documents per user and role, all of them
/// AdministratorAccess, under keys that kept the name's case. They become ordinary entities
/// with AdministratorAccess attached, under lower-cased keys.
fn upgrade(w: &mut dyn Writer) -> StoreResult<()> {
    if w.get(META, SCHEMA)?.as_deref() == Some(SCHEMA_VERSION.as_bytes()) {
        return Ok(());
    }
    let admin = managed::arn("AdministratorAccess");
    for (key, mut u) in w.scan_prefix_json::<User>(USERS, b"", usize::MAX)? {
        w.delete(USERS, &key)?;
        let legacy = std::mem::take(&mut u.legacy_policies);
        put_user(w, &u)?;
        if !legacy.is_empty() {
            attach(w, Entity::User, &u.account, &u.name, &admin)?;
        }
    }
    for (key, mut r) in w.scan_prefix_json::<Role>(ROLES, b"", usize::MAX)? {
        w.delete(ROLES, &key)?;
        let legacy = std::mem::take(&mut r.legacy_policies);
        put_role(w, &r)?;
        if !legacy.is_empty() {
            attach(w, Entity::Role, &r.account, &r.name, &admin)?;
        }
    }
    for (_, k) in w.scan_prefix_json::<AccessKey>(KEYS, b"", usize::MAX)? {
        if let Some(user) = &k.user {
            w.put(USER_KEYS, &user_key_key(&k.account, user, &k.id), b"")?;
        }
    }
    w.put(META, SCHEMA, SCHEMA_VERSION.as_bytes())
}

pub fn create_account(
    w: &mut dyn Writer,
    id: &str,
    name: &str,
    email: &str,
    now_ms: i64,
) -> StoreResult<Account> {
    let a = Account {
        id: id.into(),
        name: name.into(),
        email: email.into(),
        created: now_ms,
    };
    w.put_json(ACCOUNTS, id.as_bytes(), &a)?;
    Ok(a)
}

/// The account's alias, if it has one.
pub fn alias(r: &dyn Reader, account: &str) -> StoreResult<Option<String>> {
    Ok(r.get(ALIASES, account.as_bytes())?
        .map(|v| String::from_utf8_lossy(&v).into_owned()))
}

/// The account an alias belongs to.
pub fn alias_owner(r: &dyn Reader, alias: &str) -> StoreResult<Option<String>> {
    Ok(r.get(ALIASES, format!("={alias}").as_bytes())?
        .map(|v| String::from_utf8_lossy(&v).into_owned()))
}

pub fn set_alias(w: &mut dyn Writer, account: &str, alias: Option<&str>) -> StoreResult<()> {
    if let Some(old) = self::alias(w, account)? {
        w.delete(ALIASES, format!("={old}").as_bytes())?;
    }
    match alias {
        Some(a) => {
            w.put(ALIASES, account.as_bytes(), a.as_bytes())?;
            w.put(ALIASES, format!("={a}").as_bytes(), account.as_bytes())?;
        }
        None => {
            w.delete(ALIASES, account.as_bytes())?;
        }
    }
    Ok(())
}

/// The role AWS Organizations creates in every account it creates: AdministratorAccess
/// attached, trusted by the management account.
pub fn create_organization_role(
    w: &mut dyn Writer,
    member: &str,
    management: &str,
    role_name: &str,
    now_ms: i64,
) -> StoreResult<Role> {
    let role = Role::new(
        member,
        role_name,
        "/",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{management}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        ),
        now_ms,
    );
    put_role(w, &role)?;
    attach(
        w,
        Entity::Role,
        member,
        role_name,
        &managed::arn("AdministratorAccess"),
    )?;
    touch(w)?;
    Ok(role)
}

/// Whether an IAM/STS principal ARN of a resource or trust policy names something that exists
/// (AWS refuses policies naming principals that do not). An account Cairn does not know is
/// taken on trust unless `known_accounts_only`.
pub fn principal_exists(r: &dyn Reader, arn: &str, known_accounts_only: bool) -> StoreResult<bool> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 {
        return Ok(false);
    }
    let (service, account, resource) = (parts[2], parts[4], parts[5]);
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    if self::account(r, account)?.is_none() {
        return Ok(!known_accounts_only && matches!(service, "iam" | "sts"));
    }
    let name = |path: &str| path.rsplit('/').next().unwrap_or_default().to_string();
    Ok(match (service, resource) {
        ("iam", "root") => true,
        ("iam", r_) if r_.starts_with("user/") => user(r, account, &name(r_))?.is_some(),
        ("iam", r_) if r_.starts_with("role/") => role(r, account, &name(r_))?.is_some(),
        ("sts", r_) if r_.starts_with("assumed-role/") => {
            let role_name = r_.split('/').nth(1).unwrap_or_default();
            role(r, account, role_name)?.is_some()
        }
        ("sts", r_) if r_.starts_with("federated-user/") => true,
        _ => false,
    })
}

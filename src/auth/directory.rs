//! The credential store: accounts, IAM users, roles and their long-term access keys.
//!
//! There is no IAM API; the directory is filled at first start (the management account and its
//! `admin` user), by Organizations (member accounts and `OrganizationAccountAccessRole`) and by
//! the `cairn admin` command (access keys).

use super::principal::{Principal, PrincipalKind};
use super::sealer::Sealer;
use crate::ids;
use crate::store::{Reader, ReaderExt, StoreError, StoreResult, Table, Writer, WriterExt};
use serde::{Deserialize, Serialize};

pub const ACCOUNTS: Table = Table("iam.accounts");
pub const USERS: Table = Table("iam.users");
pub const ROLES: Table = Table("iam.roles");
pub const KEYS: Table = Table("iam.keys");
pub const META: Table = Table("iam.meta");

const MANAGEMENT: &[u8] = b"management-account";
const GENERATION: &[u8] = b"generation";

/// AWS's AdministratorAccess, the policy of the bootstrap user and of the organization role.
pub const ADMINISTRATOR_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

pub const ORGANIZATION_ROLE: &str = "OrganizationAccountAccessRole";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    /// Epoch milliseconds.
    pub created: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    /// Attached and inline policy documents.
    pub policies: Vec<String>,
    pub created: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Role {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub trust_policy: String,
    pub policies: Vec<String>,
    pub max_session_secs: u32,
    pub created: i64,
}

impl Role {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:role{}{}",
            self.account, self.path, self.name
        )
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub account: String,
    /// None: a root access key.
    pub user: Option<String>,
    pub sealed_secret: String,
    pub created: i64,
}

fn pair(account: &str, name: &str) -> Vec<u8> {
    format!("{account}/{name}").into_bytes()
}

pub fn account(r: &dyn Reader, id: &str) -> StoreResult<Option<Account>> {
    r.get_json(ACCOUNTS, id.as_bytes())
}

pub fn user(r: &dyn Reader, account: &str, name: &str) -> StoreResult<Option<User>> {
    r.get_json(USERS, &pair(account, name))
}

pub fn role(r: &dyn Reader, account: &str, name: &str) -> StoreResult<Option<Role>> {
    r.get_json(ROLES, &pair(account, name))
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

pub struct Bootstrap<'a> {
    pub management_account: &'a str,
    pub admin_user: &'a str,
    pub now_ms: i64,
}

/// First start: the management account and its administrator user. Later starts check that the
/// configured management account is the one the data directory was created with.
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
    }
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
        create_user(w, b.management_account, b.admin_user, b.now_ms)?;
    }
    Ok(())
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

/// A new IAM user with administrator rights (the only kind the directory hands out: there is no
/// IAM API to attach narrower policies with).
pub fn create_user(
    w: &mut dyn Writer,
    account: &str,
    name: &str,
    now_ms: i64,
) -> StoreResult<User> {
    let u = User {
        account: account.into(),
        name: name.into(),
        path: "/".into(),
        id: ids::aws_id("AIDA", 17),
        policies: vec![ADMINISTRATOR_ACCESS.into()],
        created: now_ms,
    };
    w.put_json(USERS, &pair(account, name), &u)?;
    Ok(u)
}

pub fn put_role(w: &mut dyn Writer, role: &Role) -> StoreResult<()> {
    w.put_json(ROLES, &pair(&role.account, &role.name), role)
}

/// The role AWS Organizations creates in every account it creates: administrator rights, trusted
/// by the management account.
pub fn create_organization_role(
    w: &mut dyn Writer,
    member: &str,
    management: &str,
    now_ms: i64,
) -> StoreResult<Role> {
    let role = Role {
        account: member.into(),
        name: ORGANIZATION_ROLE.into(),
        path: "/".into(),
        id: ids::aws_id("AROA", 17),
        trust_policy: format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{management}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        ),
        policies: vec![ADMINISTRATOR_ACCESS.into()],
        max_session_secs: 3600,
        created: now_ms,
    };
    put_role(w, &role)?;
    Ok(role)
}

/// Mints a long-term key for `user` (None: the account's root). The user is created when missing.
pub fn mint_access_key(
    w: &mut dyn Writer,
    sealer: &Sealer,
    account_id: &str,
    user_name: Option<&str>,
    now_ms: i64,
) -> StoreResult<(String, String)> {
    if account(w, account_id)?.is_none() {
        return Err(StoreError::Backend(format!("no account {account_id}")));
    }
    if let Some(name) = user_name {
        if user(w, account_id, name)?.is_none() {
            create_user(w, account_id, name, now_ms)?;
        }
    }
    let id = ids::aws_id("AKIA", 16);
    let secret = ids::secret_key();
    let key = AccessKey {
        id: id.clone(),
        account: account_id.into(),
        user: user_name.map(str::to_string),
        sealed_secret: sealer.seal(secret.as_bytes()),
        created: now_ms,
    };
    w.put_json(KEYS, id.as_bytes(), &key)?;
    Ok((id, secret))
}

/// The secret and the principal of a stored long-term key.
pub fn resolve_key(
    r: &dyn Reader,
    sealer: &Sealer,
    key_id: &str,
) -> StoreResult<Option<(String, Principal)>> {
    let Some(key) = r.get_json::<AccessKey>(KEYS, key_id.as_bytes())? else {
        return Ok(None);
    };
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
        },
    )))
}

/// The policies that speak for a principal (its user's, or its role's for a session).
pub fn identity_policies(r: &dyn Reader, p: &Principal) -> StoreResult<Vec<String>> {
    Ok(match &p.kind {
        PrincipalKind::User { name, .. } => user(r, &p.account, name)?
            .map(|u| u.policies)
            .unwrap_or_default(),
        PrincipalKind::AssumedRole { role_name, .. } => role(r, &p.account, role_name)?
            .map(|x| x.policies)
            .unwrap_or_default(),
        _ => Vec::new(),
    })
}

//! IAM users.

use super::{name_key, Inline, Tag, USERS};
use crate::ids;
use crate::store::{Reader, ReaderExt, StoreResult, Writer, WriterExt};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    /// Epoch milliseconds.
    pub created: i64,
    /// Inline policies.
    #[serde(default)]
    pub inline: Inline,
    /// ARNs of the attached managed policies, in attachment order.
    #[serde(default)]
    pub attached: Vec<String>,
    /// Names of the groups the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
    /// ARN of the permissions boundary.
    #[serde(default)]
    pub boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// When the user's password or keys were last used (epoch milliseconds).
    #[serde(default)]
    pub password_last_used: Option<i64>,
    /// Documents of the layout before IAM (see `upgrade`).
    #[serde(default, rename = "policies", skip_serializing)]
    pub legacy_policies: Vec<String>,
}

impl User {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:user{}{}",
            self.account, self.path, self.name
        )
    }
}

pub fn user(r: &dyn Reader, account: &str, name: &str) -> StoreResult<Option<User>> {
    r.get_json(USERS, &name_key(account, name))
}

/// Saves a user; like every directory write that bears on access, it moves the version.
pub fn put_user(w: &mut dyn Writer, u: &User) -> StoreResult<()> {
    w.put_json(USERS, &name_key(&u.account, &u.name), u)?;
    super::touch(w)
}

pub fn delete_user(w: &mut dyn Writer, account: &str, name: &str) -> StoreResult<bool> {
    let was = w.delete(USERS, &name_key(account, name))?;
    super::touch(w)?;
    Ok(was)
}

/// Every user of an account, in name order.
pub fn users(r: &dyn Reader, account: &str) -> StoreResult<Vec<User>> {
    Ok(
        r.scan_prefix_json::<User>(USERS, &super::account_prefix(account), usize::MAX)?
            .into_iter()
            .map(|(_, u)| u)
            .collect(),
    )
}

/// A new IAM user with no policies.
pub fn create_user(
    w: &mut dyn Writer,
    account: &str,
    name: &str,
    path: &str,
    now_ms: i64,
) -> StoreResult<User> {
    let u = User {
        account: account.into(),
        name: name.into(),
        path: path.into(),
        id: ids::aws_id("AIDA", 17),
        created: now_ms,
        inline: Inline::new(),
        attached: Vec::new(),
        groups: Vec::new(),
        boundary: None,
        tags: Vec::new(),
        password_last_used: None,
        legacy_policies: Vec::new(),
    };
    put_user(w, &u)?;
    Ok(u)
}

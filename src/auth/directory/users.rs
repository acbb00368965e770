//! IAM users.

use super::{Inline, Tag, USERS};
use crate::ids;
use crate::store::{Reader, StoreResult, Writer};
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
    super::get_named(r, USERS, account, name)
}

pub fn put_user(w: &mut dyn Writer, u: &User) -> StoreResult<()> {
    super::put_named(w, USERS, &u.account, &u.name, u)
}

pub fn delete_user(w: &mut dyn Writer, account: &str, name: &str) -> StoreResult<bool> {
    super::delete_named(w, USERS, account, name)
}

/// Every user of an account, in name order.
pub fn users(r: &dyn Reader, account: &str) -> StoreResult<Vec<User>> {
    super::list_named(r, USERS, account)
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

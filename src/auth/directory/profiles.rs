//! Instance profiles: containers for one role, which infrastructure code creates alongside
//! roles.

use super::{Tag, PROFILES};
use crate::store::{Reader, StoreResult, Writer};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub created: i64,
    /// Role names (at most one, as AWS allows).
    pub roles: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl InstanceProfile {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:instance-profile{}{}",
            self.account, self.path, self.name
        )
    }
}

pub fn profile(r: &dyn Reader, account: &str, name: &str) -> StoreResult<Option<InstanceProfile>> {
    super::get_named(r, PROFILES, account, name)
}

pub fn put_profile(w: &mut dyn Writer, p: &InstanceProfile) -> StoreResult<()> {
    super::put_named(w, PROFILES, &p.account, &p.name, p)
}

pub fn delete_profile(w: &mut dyn Writer, account: &str, name: &str) -> StoreResult<bool> {
    super::delete_named(w, PROFILES, account, name)
}

pub fn profiles(r: &dyn Reader, account: &str) -> StoreResult<Vec<InstanceProfile>> {
    super::list_named(r, PROFILES, account)
}

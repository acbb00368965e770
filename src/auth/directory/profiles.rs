//! Instance profiles: containers for one role, which infrastructure code creates alongside
//! roles.

use super::{name_key, Tag, PROFILES};
use crate::store::{Reader, ReaderExt, StoreResult, Writer, WriterExt};
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
    r.get_json(PROFILES, &name_key(account, name))
}

pub fn put_profile(w: &mut dyn Writer, p: &InstanceProfile) -> StoreResult<()> {
    w.put_json(PROFILES, &name_key(&p.account, &p.name), p)
}

pub fn delete_profile(w: &mut dyn Writer, account: &str, name: &str) -> StoreResult<bool> {
    w.delete(PROFILES, &name_key(account, name))
}

pub fn profiles(r: &dyn Reader, account: &str) -> StoreResult<Vec<InstanceProfile>> {
    Ok(r.scan_prefix_json::<InstanceProfile>(
        PROFILES,
        &super::account_prefix(account),
        usize::MAX,
    )?
    .into_iter()
    .map(|(_, p)| p)
    .collect())
}

//! AWS managed policies: the ones tools attach, with their documents as AWS publishes them
//! (`managed.json`: name, path, default version, dates, description, document). They belong to
//! no account (`arn:aws:iam::aws:policy/...`) and cannot be changed.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
pub struct AwsPolicy {
    pub name: String,
    pub path: String,
    /// The default version id, e.g. `v3`.
    pub version: String,
    /// ISO 8601.
    pub created: String,
    pub updated: String,
    pub description: String,
    pub document: String,
    #[serde(skip)]
    pub id: String,
}

impl AwsPolicy {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }
}

/// The ARN of the AWS managed policy `name` (at path `/`).
pub fn arn(name: &str) -> String {
    arn_at("/", name)
}

/// The ARN of the AWS managed policy `name` at `path`.
pub fn arn_at(path: &str, name: &str) -> String {
    format!("arn:aws:iam::aws:policy{path}{name}")
}

pub fn all() -> &'static [AwsPolicy] {
    static ALL: OnceLock<Vec<AwsPolicy>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<AwsPolicy> =
            serde_json::from_str(include_str!("managed.json")).expect("managed.json parses");
        for p in &mut v {
            p.id = policy_id(&p.name);
        }
        v
    })
}

/// The AWS managed policy with this ARN.
pub fn find(arn: &str) -> Option<&'static AwsPolicy> {
    let rest = arn.strip_prefix("arn:aws:iam::aws:policy")?;
    all().iter().find(|p| {
        rest.len() == p.path.len() + p.name.len()
            && rest.starts_with(&p.path)
            && rest.ends_with(&p.name)
    })
}

/// AWS's own id where known; otherwise a stable id of the same form derived from the name.
fn policy_id(name: &str) -> String {
    if name == "AdministratorAccess" {
        return "ANPAIWMBCKSKIEE64ZLYK".into();
    }
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(name.as_bytes());
    let mut id = String::from("ANPA");
    id.extend(
        digest
            .iter()
            .take(17)
            .map(|b| BASE32[(b % 32) as usize] as char),
    );
    id
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalog_parses_and_every_document_is_a_valid_identity_policy() {
        let all = super::all();
        assert!(all.len() >= 10);
        for p in all {
            crate::policy::Policy::parse(&p.document, &crate::policy::PolicyKind::Identity)
                .unwrap_or_else(|e| panic!("{}: {}", p.name, e.message));
            assert_eq!(p.id.len(), 21);
            assert_eq!(super::find(&p.arn()).map(|f| &f.name), Some(&p.name));
        }
        assert!(super::find(&super::arn("AdministratorAccess")).is_some());
        assert!(super::find("arn:aws:iam::aws:policy/NoSuchPolicy").is_none());
    }
}

//! IAM roles.

use super::{Inline, Tag, ROLES};
use crate::ids;
use crate::store::{Reader, StoreResult, Writer};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Role {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub trust_policy: String,
    #[serde(default)]
    pub description: Option<String>,
    pub max_session_secs: u32,
    pub created: i64,
    #[serde(default)]
    pub inline: Inline,
    #[serde(default)]
    pub attached: Vec<String>,
    #[serde(default)]
    pub boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// When a session of the role was last issued, and in which region (epoch ms).
    #[serde(default)]
    pub last_used: Option<(i64, String)>,
    /// Documents of the layout before IAM (see `upgrade`).
    #[serde(default, rename = "policies", skip_serializing)]
    pub legacy_policies: Vec<String>,
}

impl Role {
    /// A role with no policies and the default maximum session (one hour).
    pub fn new(account: &str, name: &str, path: &str, trust_policy: &str, now_ms: i64) -> Role {
        Role {
            account: account.into(),
            name: name.into(),
            path: path.into(),
            id: ids::aws_id("AROA", 17),
            trust_policy: trust_policy.into(),
            description: None,
            max_session_secs: 3600,
            created: now_ms,
            inline: Inline::new(),
            attached: Vec::new(),
            boundary: None,
            tags: Vec::new(),
            last_used: None,
            legacy_policies: Vec::new(),
        }
    }

    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:role{}{}",
            self.account, self.path, self.name
        )
    }

    /// Service-linked roles live under `/aws-service-role/`; SCPs do not restrict them.
    pub fn is_service_linked(&self) -> bool {
        self.path.starts_with("/aws-service-role/")
    }
}

pub fn role(r: &dyn Reader, account: &str, name: &str) -> StoreResult<Option<Role>> {
    super::get_named(r, ROLES, account, name)
}

pub fn put_role(w: &mut dyn Writer, role: &Role) -> StoreResult<()> {
    super::put_named(w, ROLES, &role.account, &role.name, role)
}

pub fn delete_role(w: &mut dyn Writer, account: &str, name: &str) -> StoreResult<bool> {
    super::delete_named(w, ROLES, account, name)
}

/// Every role of an account, in name order.
pub fn roles(r: &dyn Reader, account: &str) -> StoreResult<Vec<Role>> {
    super::list_named(r, ROLES, account)
}

/// The trust policy of a service-linked role: only the service may assume it.
pub fn service_trust_policy(service: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

/// A service-linked role (`/aws-service-role/<service>/<name>`) with its AWS managed policy
/// attached, as AWS creates them; the existing one when it is there already.
pub fn create_service_linked_role(
    w: &mut dyn Writer,
    account: &str,
    service: &str,
    name: &str,
    policy_arn: &str,
    description: &str,
    now_ms: i64,
) -> StoreResult<Role> {
    if let Some(existing) = role(w, account, name)? {
        return Ok(existing);
    }
    let mut r = Role::new(
        account,
        name,
        &format!("/aws-service-role/{service}/"),
        &service_trust_policy(service),
        now_ms,
    );
    r.description = (!description.is_empty()).then(|| description.to_string());
    put_role(w, &r)?;
    super::attach(w, super::Entity::Role, account, name, policy_arn)?;
    role(w, account, name).map(|x| x.unwrap_or(r))
}

/// The service-linked roles Cairn knows: service → (role name, its AWS managed policy, its
/// description).
pub fn linked_role_of(service: &str) -> Option<(&'static str, String, &'static str)> {
    Some(match service {
        "cloudtrail.amazonaws.com" => (
            "AWSServiceRoleForCloudTrail",
            super::managed::arn_at("/aws-service-role/", "CloudTrailServiceRolePolicy"),
            "",
        ),
        "organizations.amazonaws.com" => (
            "AWSServiceRoleForOrganizations",
            super::managed::arn_at("/aws-service-role/", "AWSOrganizationsServiceTrustPolicy"),
            "Service-linked role used by AWS Organizations to enable integration of other AWS services with Organizations.",
        ),
        _ => return None,
    })
}

/// The service-linked role of `service` in `account`, made when missing (AWS makes them when
/// an organization is created, or a service's trusted access is enabled in one).
pub fn ensure_service_linked_role(
    w: &mut dyn Writer,
    account: &str,
    service: &str,
    now_ms: i64,
) -> StoreResult<Option<Role>> {
    let Some((name, policy, description)) = linked_role_of(service) else {
        return Ok(None);
    };
    create_service_linked_role(w, account, service, name, &policy, description, now_ms).map(Some)
}

/// Notes that a session of the role was made (GetRole's `RoleLastUsed`). It bears on no
/// decision, so it leaves the access version alone.
pub fn note_role_use(w: &mut dyn Writer, role: &Role, at_ms: i64, region: &str) -> StoreResult<()> {
    let mut r = role.clone();
    r.last_used = Some((at_ms, region.to_string()));
    use crate::store::WriterExt;
    w.put_json(ROLES, &super::name_key(&r.account, &r.name), &r)
}

//! Organizations as other services see it (CloudTrail above all): read-only questions over a
//! store snapshot or an open transaction.
//!
//! Membership history: every join and departure is recorded with its time and a sequence
//! number, so "who was a member at time T", "when did account X join and leave" and "what
//! changed since my cursor" all have answers. An organization trail delivers an account's
//! events from the moment it joins until the moment it leaves.

use super::model::{self, Delegation, Enabled, Member, Org};
use crate::store::{Reader, ReaderExt, StoreResult};
use std::collections::BTreeMap;

pub use super::model::MembershipEvent;

/// An organization, as CloudTrail needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub arn: String,
    pub management_account: String,
    /// `ALL` or `CONSOLIDATED_BILLING`.
    pub feature_set: String,
}

impl From<Org> for Organization {
    fn from(o: Org) -> Self {
        Organization {
            arn: o.arn(),
            id: o.id,
            management_account: o.management,
            feature_set: o.feature_set,
        }
    }
}

/// One stretch of an account's membership of an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub org: String,
    pub account: String,
    /// Epoch milliseconds.
    pub joined_ms: i64,
    /// None while still a member.
    pub left_ms: Option<i64>,
}

impl Membership {
    /// Whether the account belonged to the organization at `at_ms` (joined at or before it,
    /// left after it).
    pub fn covers(&self, at_ms: i64) -> bool {
        self.joined_ms <= at_ms && self.left_ms.is_none_or(|l| at_ms < l)
    }
}

/// Where an account sits in its organization, for authorization: the organization, the path
/// `aws:PrincipalOrgPaths` names, and the targets whose policies apply to it (the root, each OU
/// from the top down, the account).
#[derive(Clone, Debug)]
pub struct Place {
    pub org: Organization,
    /// `o-x/r-y/ou-.../`: the path to the account's parent.
    pub org_path: String,
    pub targets: Vec<String>,
    /// Policy types enabled in the root.
    pub policy_types: Vec<String>,
}

pub fn place(r: &dyn Reader, account: &str) -> StoreResult<Option<Place>> {
    let Some(m) = model::member(r, account)? else {
        return Ok(None);
    };
    let Some(org) = model::org(r, &m.org)? else {
        return Ok(None);
    };
    let mut parts: Vec<&str> = m.path.split('/').filter(|p| !p.is_empty()).collect();
    // The path starts with the organization id and ends with the account.
    if parts.first() == Some(&org.id.as_str()) {
        parts.remove(0);
    }
    let targets: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
    let mut org_path = format!("{}/", org.id);
    for p in parts.iter().take(parts.len().saturating_sub(1)) {
        org_path.push_str(p);
        org_path.push('/');
    }
    Ok(Some(Place {
        policy_types: org.policy_types.clone(),
        org: Organization::from(org),
        org_path,
        targets,
    }))
}

/// The documents of the policies of `policy_type` attached to `target`.
pub fn attached_documents(
    r: &dyn Reader,
    org: &str,
    target: &str,
    policy_type: &str,
) -> StoreResult<Vec<String>> {
    let mut out = Vec::new();
    for id in model::keys_under(r, model::ATTACHMENTS, &[org, target])? {
        let p = match super::policies::managed(&id) {
            Some(p) => Some(p),
            None => r.get_json::<model::PolicyRecord>(model::POLICIES, id.as_bytes())?,
        };
        if let Some(p) = p.filter(|p| p.kind == policy_type) {
            out.push(p.content);
        }
    }
    Ok(out)
}

/// The organization `account` belongs to now.
pub fn organization_of(r: &dyn Reader, account: &str) -> StoreResult<Option<Organization>> {
    let Some(m) = model::member(r, account)? else {
        return Ok(None);
    };
    Ok(model::org(r, &m.org)?.map(Organization::from))
}

pub fn organization(r: &dyn Reader, org_id: &str) -> StoreResult<Option<Organization>> {
    Ok(model::org(r, org_id)?.map(Organization::from))
}

/// Whether `account` is the management account of an organization.
pub fn is_management_account(r: &dyn Reader, account: &str) -> StoreResult<bool> {
    Ok(organization_of(r, account)?.is_some_and(|o| o.management_account == account))
}

/// Whether `account` is a delegated administrator of its organization for `service_principal`
/// (e.g. `cloudtrail.amazonaws.com`).
pub fn is_delegated_admin(
    r: &dyn Reader,
    account: &str,
    service_principal: &str,
) -> StoreResult<bool> {
    let Some(m) = model::member(r, account)? else {
        return Ok(false);
    };
    Ok(r.get(
        model::DELEGATED,
        &model::key(&[&m.org, account, service_principal]),
    )?
    .is_some())
}

/// The delegated administrators of `org_id` for `service_principal`, in account order.
pub fn delegated_admins(
    r: &dyn Reader,
    org_id: &str,
    service_principal: &str,
) -> StoreResult<Vec<String>> {
    Ok(r.scan_prefix_json::<Delegation>(
        model::DELEGATED_BY_SERVICE,
        &model::prefix(&[org_id, service_principal]),
        usize::MAX,
    )?
    .into_iter()
    .map(|(_, d)| d.account)
    .collect())
}

/// Whether `service_principal` has trusted access to `org_id`.
pub fn is_trusted(r: &dyn Reader, org_id: &str, service_principal: &str) -> StoreResult<bool> {
    Ok(r.get(
        model::SERVICE_ACCESS,
        &model::key(&[org_id, service_principal]),
    )?
    .is_some())
}

/// Since when (epoch milliseconds) `service_principal` has had trusted access to `org_id`, if
/// it has it now.
pub fn trusted_since(
    r: &dyn Reader,
    org_id: &str,
    service_principal: &str,
) -> StoreResult<Option<i64>> {
    Ok(r.get_json::<Enabled>(
        model::SERVICE_ACCESS,
        &model::key(&[org_id, service_principal]),
    )?
    .map(|e| e.since_ms))
}

/// The service principals with trusted access to `org_id`.
pub fn trusted_services(r: &dyn Reader, org_id: &str) -> StoreResult<Vec<String>> {
    Ok(
        r.scan_prefix_json::<Enabled>(
            model::SERVICE_ACCESS,
            &model::prefix(&[org_id]),
            usize::MAX,
        )?
        .into_iter()
        .map(|(_, e)| e.principal)
        .collect(),
    )
}

/// The accounts of `org_id` now, management account included, in the order they joined.
pub fn members(r: &dyn Reader, org_id: &str) -> StoreResult<Vec<String>> {
    Ok(
        r.scan_prefix_json::<Member>(model::ACCOUNTS, &model::prefix(&[org_id]), usize::MAX)?
            .into_iter()
            .map(|(_, m)| m.id)
            .collect(),
    )
}

/// Every join and departure of `org_id` after sequence number `after` (0: from the start),
/// oldest first, at most `limit`. A consumer keeps the last `seq` it handled as its cursor.
pub fn membership_events(
    r: &dyn Reader,
    org_id: &str,
    after: u64,
    limit: usize,
) -> StoreResult<Vec<MembershipEvent>> {
    let prefix = model::prefix(&[org_id]);
    let mut from = prefix.clone();
    from.extend_from_slice(model::seq_key(after).as_bytes());
    let end = crate::store::prefix_end(&prefix);
    let to = match &end {
        Some(e) => std::ops::Bound::Excluded(e.as_slice()),
        None => std::ops::Bound::Unbounded,
    };
    r.scan(
        model::HISTORY,
        std::ops::Bound::Excluded(from.as_slice()),
        to,
        limit,
        false,
    )?
    .into_iter()
    .map(|(_, v)| {
        serde_json::from_slice(&v).map_err(|e| crate::store::StoreError::Corrupt {
            table: model::HISTORY.0,
            reason: e.to_string(),
        })
    })
    .collect()
}

fn all_events(
    r: &dyn Reader,
    table: crate::store::Table,
    owner: &str,
) -> StoreResult<Vec<MembershipEvent>> {
    let mut events: Vec<MembershipEvent> = r
        .scan_prefix_json::<MembershipEvent>(table, &model::prefix(&[owner]), usize::MAX)?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    events.sort_by_key(|e| (e.at_ms, e.seq));
    Ok(events)
}

/// The accounts that belonged to `org_id` at `at_ms`, in account order.
pub fn members_at(r: &dyn Reader, org_id: &str, at_ms: i64) -> StoreResult<Vec<String>> {
    let mut state: BTreeMap<String, bool> = BTreeMap::new();
    for e in all_events(r, model::HISTORY, org_id)? {
        if e.at_ms > at_ms {
            break;
        }
        state.insert(e.account, e.joined);
    }
    Ok(state
        .into_iter()
        .filter_map(|(a, member)| member.then_some(a))
        .collect())
}

/// Every stretch of `account`'s membership of any organization, oldest first.
pub fn memberships(r: &dyn Reader, account: &str) -> StoreResult<Vec<Membership>> {
    let mut out: Vec<Membership> = Vec::new();
    for e in all_events(r, model::ACCOUNT_HISTORY, account)? {
        if e.joined {
            out.push(Membership {
                org: e.org,
                account: e.account,
                joined_ms: e.at_ms,
                left_ms: None,
            });
        } else if let Some(open) = out
            .iter_mut()
            .rev()
            .find(|m| m.org == e.org && m.left_ms.is_none())
        {
            open.left_ms = Some(e.at_ms);
        }
    }
    Ok(out)
}

/// The stretches of `account`'s membership of `org_id`.
pub fn memberships_of(r: &dyn Reader, org_id: &str, account: &str) -> StoreResult<Vec<Membership>> {
    Ok(memberships(r, account)?
        .into_iter()
        .filter(|m| m.org == org_id)
        .collect())
}

/// Whether `account` belonged to `org_id` at `at_ms`.
pub fn was_member_at(r: &dyn Reader, org_id: &str, account: &str, at_ms: i64) -> StoreResult<bool> {
    Ok(memberships_of(r, org_id, account)?
        .iter()
        .any(|m| m.covers(at_ms)))
}

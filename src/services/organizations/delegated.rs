//! Delegated administrators (spec §4.8): RegisterDelegatedAdministrator,
//! DeregisterDelegatedAdministrator, ListDelegatedAdministrators,
//! ListDelegatedServicesForAccount.

use super::accounts::{self, account_id, listing};
use super::errors::{account_already_registered, account_not_registered, constraint};
use super::model::{self, Delegation};
use super::page::Page;
use super::service_access::{self, check_principal, require_all_features, service_principal};
use super::Call;
use crate::error::AwsError;
use crate::store::{Reader, ReaderExt, Writer, WriterExt};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ops::Bound;

/// How many delegated administrators a service may have: CloudTrail allows three
/// (cloudtrail-delegated-administrator.md), the others one.
pub fn max_for(principal: &str) -> usize {
    match principal {
        "cloudtrail.amazonaws.com" => 3,
        _ => 1,
    }
}

/// Whether `account` is a delegated administrator of `org` for any service.
pub fn is_delegated_admin(r: &dyn Reader, org: &str, account: &str) -> Result<bool, AwsError> {
    let p = model::prefix(&[org, account]);
    let end = crate::store::prefix_end(&p);
    let to = match &end {
        Some(e) => Bound::Excluded(e.as_slice()),
        None => Bound::Unbounded,
    };
    Ok(!r
        .scan(model::DELEGATED, Bound::Included(&p), to, 1, false)?
        .is_empty())
}

/// The delegations of `org`, for one service or all of them.
pub fn delegations(
    r: &dyn Reader,
    org: &str,
    principal: Option<&str>,
) -> Result<Vec<Delegation>, AwsError> {
    let prefix = match principal {
        Some(p) => model::prefix(&[org, p]),
        None => model::prefix(&[org]),
    };
    Ok(
        r.scan_prefix_json::<Delegation>(model::DELEGATED_BY_SERVICE, &prefix, usize::MAX)?
            .into_iter()
            .map(|(_, d)| d)
            .collect(),
    )
}

fn delegations_of(r: &dyn Reader, org: &str, account: &str) -> Result<Vec<Delegation>, AwsError> {
    Ok(r.scan_prefix_json::<Delegation>(
        model::DELEGATED,
        &model::prefix(&[org, account]),
        usize::MAX,
    )?
    .into_iter()
    .map(|(_, d)| d)
    .collect())
}

pub fn register(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = account_id(c, "AccountId")?;
    let principal = service_principal(c, "ServicePrincipal")?;
    let m = accounts::find(w, org, id)?;
    if m.id == org.management {
        return Err(constraint(
            "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR",
        ));
    }
    if m.state_at(c.now) != "ACTIVE" {
        return Err(constraint(
            "CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR",
        ));
    }
    require_all_features(org)?;
    if !service_access::is_enabled(w, &org.id, principal)? {
        return Err(constraint("SERVICE_ACCESS_NOT_ENABLED"));
    }
    let existing = delegations(w, &org.id, Some(principal))?;
    if existing.iter().any(|d| d.account == m.id) {
        return Err(account_already_registered());
    }
    let max = max_for(principal);
    if existing.len() >= max {
        return Err(constraint(if max == 1 {
            "DELEGATED_ADMINISTRATOR_EXISTS_FOR_THIS_SERVICE"
        } else {
            "MAX_DELEGATED_ADMINISTRATORS_FOR_SERVICE_LIMIT_EXCEEDED"
        }));
    }
    put_delegation(w, &org.id, &m.id, principal, c.now)?;
    Ok(json!({}))
}

/// Records `account` as a delegated administrator of `org` for `principal` (also what
/// CloudTrail's RegisterOrganizationDelegatedAdmin does on the Organizations side).
pub fn put_delegation(
    w: &mut dyn Writer,
    org: &str,
    account: &str,
    principal: &str,
    now_ms: i64,
) -> Result<(), AwsError> {
    let d = Delegation {
        org: org.into(),
        account: account.into(),
        principal: principal.into(),
        since_ms: now_ms,
    };
    w.put_json(
        model::DELEGATED,
        &model::key(&[org, account, principal]),
        &d,
    )?;
    w.put_json(
        model::DELEGATED_BY_SERVICE,
        &model::key(&[org, principal, account]),
        &d,
    )?;
    Ok(())
}

/// Removes one delegation; false when there was none.
pub fn delete_delegation(
    w: &mut dyn Writer,
    org: &str,
    account: &str,
    principal: &str,
) -> Result<bool, AwsError> {
    if !w.delete(model::DELEGATED, &model::key(&[org, account, principal]))? {
        return Ok(false);
    }
    w.delete(
        model::DELEGATED_BY_SERVICE,
        &model::key(&[org, principal, account]),
    )?;
    Ok(true)
}

pub fn deregister(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = account_id(c, "AccountId")?;
    let principal = service_principal(c, "ServicePrincipal")?;
    let m = accounts::find(w, org, id)?;
    if !delete_delegation(w, &org.id, &m.id, principal)? {
        return Err(account_not_registered());
    }
    Ok(json!({}))
}

/// Removes every delegated administrator of one service.
pub fn remove_for_service(w: &mut dyn Writer, org: &str, principal: &str) -> Result<(), AwsError> {
    for d in delegations(w, org, Some(principal))? {
        w.delete(model::DELEGATED, &model::key(&[org, &d.account, principal]))?;
    }
    w.delete_prefix(
        model::DELEGATED_BY_SERVICE,
        &model::prefix(&[org, principal]),
    )?;
    Ok(())
}

pub fn list_administrators(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let principal = c.input.opt_str("ServicePrincipal")?;
    if let Some(p) = principal {
        check_principal(p)?;
    }
    let page = Page::new(
        &c.input,
        &format!("ListDelegatedAdministrators:{}", principal.unwrap_or("")),
    )?;
    // One entry per account, dated by its first delegation.
    let mut since: BTreeMap<String, i64> = BTreeMap::new();
    for d in delegations(w, &org.id, principal)? {
        let e = since.entry(d.account.clone()).or_insert(d.since_ms);
        *e = (*e).min(d.since_ms);
    }
    let mut items = Vec::with_capacity(since.len());
    for (account, at) in since {
        if let Some(m) = model::member_of(w, &org.id, &account)? {
            items.push((account, m.delegated_json(&org.management, c.now, at)));
        }
    }
    let (items, next) = page.of(items);
    Ok(listing("DelegatedAdministrators", items, next))
}

pub fn list_services(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = account_id(c, "AccountId")?;
    let page = Page::new(&c.input, &format!("ListDelegatedServicesForAccount:{id}"))?;
    let m = accounts::find(w, org, id)?;
    let ds = delegations_of(w, &org.id, &m.id)?;
    if ds.is_empty() {
        return Err(account_not_registered());
    }
    let (items, next) = page.of(ds.into_iter().map(|d| {
        (
            d.principal.clone(),
            json!({
                "ServicePrincipal": d.principal,
                "DelegationEnabledDate": model::ts(d.since_ms),
            }),
        )
    }));
    Ok(listing("DelegatedServices", items, next))
}

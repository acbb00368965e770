//! The organization itself: CreateOrganization, DescribeOrganization, DeleteOrganization,
//! ListRoots.

use super::accounts::{self, listing};
use super::errors::{already_in_organization, concurrent_modification, organization_not_empty};
use super::model::{self, Org, ALL, CONSOLIDATED_BILLING};
use super::page::Page;
use super::validate::one_of;
use super::{handshakes, ids, policies, Call};
use crate::auth::directory;
use crate::error::AwsError;
use crate::store::Writer;
use serde_json::{json, Value};

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    if c.member.is_some() {
        return Err(already_in_organization());
    }
    let feature_set = match c.input.opt_str("FeatureSet")? {
        None => ALL,
        Some(v) => one_of(v, &[ALL, CONSOLIDATED_BILLING])?,
    };
    let id = loop {
        let id = ids::organization();
        if model::org(w, &id)?.is_none() {
            break id;
        }
    };
    let (name, email) = match directory::account(w, &c.account)? {
        Some(a) => (a.name, a.email),
        None => (String::new(), String::new()),
    };
    let org = Org {
        id,
        management: c.account.clone(),
        management_email: email.clone(),
        feature_set: feature_set.to_string(),
        root: ids::root(),
        created_ms: c.now,
        policy_types: Vec::new(),
        all_features: None,
    };
    model::save_org(w, &org)?;
    accounts::join(w, &org, &c.account, &name, &email, "CREATED", &[], c.now)?;
    // A new organization's root has no policy type enabled, as on AWS: SCPs restrict nothing
    // until EnablePolicyType turns them on (and attaches FullAWSAccess everywhere).
    if feature_set == ALL {
        service_linked_role(w, &c.account, c.now)?;
    }
    Ok(json!({"Organization": org.json()}))
}

/// The role AWS Organizations creates in the management account of an all-features
/// organization.
pub fn service_linked_role(w: &mut dyn Writer, account: &str, now: i64) -> Result<(), AwsError> {
    directory::ensure_service_linked_role(w, account, "organizations.amazonaws.com", now)?;
    Ok(())
}

pub fn describe(c: &Call) -> Result<Value, AwsError> {
    Ok(json!({"Organization": c.org()?.json()}))
}

pub fn list_roots(c: &Call) -> Result<Value, AwsError> {
    let org = c.org()?;
    let page = Page::new(&c.input, "ListRoots")?;
    let (roots, next) = page.of([(org.root.clone(), org.root_json())]);
    Ok(listing("Roots", roots, next))
}

pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?.clone();
    let others = model::keys_under(w, model::ACCOUNTS, &[&org.id])?;
    if others.len() > 1 {
        return Err(organization_not_empty());
    }
    // An account being created would land in an organization that no longer exists.
    for k in model::keys_under(w, model::CREATE_REQUESTS_BY_ORG, &[&org.id])? {
        let car_id = k.rsplit('/').next().unwrap_or_default();
        if let Some(r) = model::create_request(w, car_id)? {
            if r.state == "IN_PROGRESS" {
                return Err(concurrent_modification());
            }
        }
        w.delete(model::CREATE_REQUESTS, car_id.as_bytes())?;
    }
    w.delete_prefix(model::CREATE_REQUESTS_BY_ORG, &model::prefix(&[&org.id]))?;

    handshakes::cancel_all(w, &org, c.now)?;
    w.delete_prefix(model::HANDSHAKES_BY_ORG, &model::prefix(&[&org.id]))?;

    // OUs: every OU is some parent's child.
    for k in model::keys_under(w, model::CHILDREN, &[&org.id])? {
        let mut parts = k.split('/');
        let (_parent, kind, child) = (parts.next(), parts.next(), parts.next());
        if let (Some(model::CHILD_OU), Some(ou)) = (kind, child) {
            w.delete(model::OUS, ou.as_bytes())?;
            model::delete_tags(w, ou)?;
        }
    }
    w.delete_prefix(model::CHILDREN, &model::prefix(&[&org.id]))?;

    policies::delete_all(w, &org.id)?;
    w.delete_prefix(model::SERVICE_ACCESS, &model::prefix(&[&org.id]))?;
    w.delete_prefix(model::DELEGATED, &model::prefix(&[&org.id]))?;
    w.delete_prefix(model::DELEGATED_BY_SERVICE, &model::prefix(&[&org.id]))?;
    w.delete(model::RESOURCE_POLICIES, org.id.as_bytes())?;
    model::delete_tags(w, &org.root)?;

    if let Some(m) = model::member_of(w, &org.id, &org.management)? {
        model::delete_member(w, &m)?;
        model::delete_tags(w, &m.id)?;
        model::record_membership(w, &org.id, &m.id, false, c.now)?;
    }
    w.delete(model::ORGS, org.id.as_bytes())?;
    Ok(json!({}))
}

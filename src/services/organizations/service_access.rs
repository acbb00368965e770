//! Trusted access for AWS services (spec §4.8): EnableAWSServiceAccess,
//! DisableAWSServiceAccess, ListAWSServiceAccessForOrganization.

use super::accounts::listing;
use super::errors::{constraint, invalid_input};
use super::model::{self, Enabled, Org, ALL};
use super::page::Page;
use super::{delegated, validate, Call};
use crate::error::AwsError;
use crate::store::{Reader, Writer, WriterExt};
use serde_json::{json, Value};

/// The service principals that can be given trusted access (AWS's list of services that work
/// with Organizations).
pub const TRUSTED_SERVICES: &[&str] = &[
    "access-analyzer.amazonaws.com",
    "account.amazonaws.com",
    "auditmanager.amazonaws.com",
    "aws-artifact-account-sync.amazonaws.com",
    "backup.amazonaws.com",
    "bcm-pricing-calculator.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "compute-optimizer.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com",
    "config.amazonaws.com",
    "controltower.amazonaws.com",
    "cost-optimization-hub.bcm.amazonaws.com",
    "detective.amazonaws.com",
    "devops-guru.amazonaws.com",
    "ds.amazonaws.com",
    "fms.amazonaws.com",
    "guardduty.amazonaws.com",
    "health.amazonaws.com",
    "iam.amazonaws.com",
    "inspector2.amazonaws.com",
    "ipam.amazonaws.com",
    "license-management.marketplace.amazonaws.com",
    "license-manager.amazonaws.com",
    "license-manager.member-account.amazonaws.com",
    "macie.amazonaws.com",
    "malware-protection.guardduty.amazonaws.com",
    "member.org.stacksets.cloudformation.amazonaws.com",
    "mgn.amazonaws.com",
    "ram.amazonaws.com",
    "reachabilityanalyzer.networkinsights.amazonaws.com",
    "reporting.trustedadvisor.amazonaws.com",
    "resource-explorer-2.amazonaws.com",
    "securityhub.amazonaws.com",
    "securitylake.amazonaws.com",
    "servicecatalog.amazonaws.com",
    "servicequotas.amazonaws.com",
    "ssm.amazonaws.com",
    "sso.amazonaws.com",
    "storage-lens.s3.amazonaws.com",
    "tagpolicies.tag.amazonaws.com",
    "wellarchitected.amazonaws.com",
];

/// The `ServicePrincipal` member, checked against the model and the list of services.
pub fn service_principal<'a>(c: &Call<'a>, name: &str) -> Result<&'a str, AwsError> {
    let p = c.input.str(name)?;
    check_principal(p)?;
    Ok(p)
}

pub fn check_principal(p: &str) -> Result<(), AwsError> {
    validate::length(p, 1, 128)?;
    if !validate::is_principal_chars(p) {
        return Err(invalid_input("INVALID_PATTERN"));
    }
    if !TRUSTED_SERVICES.contains(&p) {
        return Err(invalid_input("UNRECOGNIZED_SERVICE_PRINCIPAL"));
    }
    Ok(())
}

pub fn require_all_features(org: &Org) -> Result<(), AwsError> {
    if org.feature_set != ALL {
        return Err(constraint("ORGANIZATION_NOT_IN_ALL_FEATURES_MODE"));
    }
    Ok(())
}

pub fn is_enabled(r: &dyn Reader, org: &str, principal: &str) -> Result<bool, AwsError> {
    Ok(
        r.get(model::SERVICE_ACCESS, &model::key(&[org, principal]))?
            .is_some(),
    )
}

pub fn enable(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let principal = service_principal(c, "ServicePrincipal")?;
    require_all_features(org)?;
    if !is_enabled(w, &org.id, principal)? {
        w.put_json(
            model::SERVICE_ACCESS,
            &model::key(&[&org.id, principal]),
            &Enabled {
                principal: principal.into(),
                since_ms: c.now,
            },
        )?;
    }
    // Enabling CloudTrail's trusted access makes its service-linked role in the management
    // account, as on AWS.
    crate::auth::directory::ensure_service_linked_role(w, &org.management, principal, c.now)?;
    Ok(json!({}))
}

pub fn disable(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let principal = service_principal(c, "ServicePrincipal")?;
    require_all_features(org)?;
    w.delete(model::SERVICE_ACCESS, &model::key(&[&org.id, principal]))?;
    // Product rule: without trusted access the service has no delegated administrators either.
    delegated::remove_for_service(w, &org.id, principal)?;
    Ok(json!({}))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let page = Page::new(&c.input, "ListAWSServiceAccessForOrganization")?;
    require_all_features(org)?;
    let (items, next) = page.scan(
        w,
        model::SERVICE_ACCESS,
        &model::prefix(&[&org.id]),
        |_, v| {
            let e: Enabled = serde_json::from_slice(v).map_err(AwsError::internal)?;
            Ok(Some(json!({
                "ServicePrincipal": e.principal,
                "DateEnabled": model::ts(e.since_ms),
            })))
        },
    )?;
    Ok(listing("EnabledServicePrincipals", items, next))
}

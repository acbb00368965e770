//! Centralized root access for an organization's member accounts:
//! ListOrganizationsFeatures, Enable/DisableOrganizationsRootCredentialsManagement,
//! Enable/DisableOrganizationsRootSessions. With root sessions enabled the management account
//! may step into a member's root user for a task (STS AssumeRoot).

use super::Call;
use crate::error::AwsError;
use crate::services::organizations::view;
use crate::store::{Reader, ReaderExt, Table, Writer, WriterExt};
use serde_json::{json, Value};

/// Enabled features: organization id → feature names.
const FEATURES: Table = Table("iam.organizations_features");

pub const ROOT_SESSIONS: &str = "RootSessions";
pub const ROOT_CREDENTIALS: &str = "RootCredentialsManagement";

fn error(code: &'static str, message: &str) -> AwsError {
    AwsError::client(code, message)
}

/// The caller's organization, when it is its management account, with IAM's trusted access.
fn organization(r: &dyn Reader, c: &Call) -> Result<view::Organization, AwsError> {
    let org = view::organization_of(r, &c.account)?.ok_or_else(|| {
        error(
            "OrganizationNotFoundException",
            "The request failed because the account is not a member of an organization.",
        )
    })?;
    if org.management_account != c.account {
        return Err(error(
            "AccountNotManagementOrDelegatedAdministratorException",
            "The request failed because the account is not the management account or delegated administrator of the organization.",
        ));
    }
    if org.feature_set != "ALL" {
        return Err(error(
            "OrganizationNotInAllFeaturesModeException",
            "The request failed because your organization does not have all features enabled.",
        ));
    }
    if !view::is_trusted(r, &org.id, "iam.amazonaws.com")? {
        return Err(error(
            "ServiceAccessNotEnabledException",
            "The request failed because trusted access isn't enabled for IAM in AWS Organizations.",
        ));
    }
    Ok(org)
}

/// Whether `feature` is enabled for the organization `org`.
pub fn enabled(r: &dyn Reader, org: &str, feature: &str) -> Result<bool, AwsError> {
    let features: Vec<String> = r.get_json(FEATURES, org.as_bytes())?.unwrap_or_default();
    Ok(features.iter().any(|f| f == feature))
}

fn answer(r: &dyn Reader, org: &str) -> Result<Value, AwsError> {
    let mut features: Vec<String> = r.get_json(FEATURES, org.as_bytes())?.unwrap_or_default();
    features.sort();
    Ok(json!({"OrganizationId": org, "EnabledFeatures": features}))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = organization(w, c)?;
    answer(w, &org.id)
}

pub fn set(c: &Call, w: &mut dyn Writer, feature: &str, on: bool) -> Result<Value, AwsError> {
    let org = organization(w, c)?;
    let mut features: Vec<String> = w.get_json(FEATURES, org.id.as_bytes())?.unwrap_or_default();
    features.retain(|f| f != feature);
    if on {
        features.push(feature.to_string());
    }
    w.put_json(FEATURES, org.id.as_bytes(), &features)?;
    answer(w, &org.id)
}

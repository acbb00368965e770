//! What CloudTrail needs to know about AWS Organizations, in one place.

use crate::error::AwsError;
use crate::services::organizations::view;
use crate::store::Reader;

pub const SERVICE_PRINCIPAL: &str = "cloudtrail.amazonaws.com";

#[derive(Clone, Debug)]
pub struct OrgInfo {
    pub id: String,
    pub management_account: String,
    pub all_features: bool,
}

/// The organization an account belongs to, if any.
pub fn organization_of(r: &dyn Reader, account: &str) -> Result<Option<OrgInfo>, AwsError> {
    Ok(view::organization_of(r, account)?.map(|o| OrgInfo {
        all_features: o.feature_set == "ALL",
        id: o.id,
        management_account: o.management_account,
    }))
}

/// Whether trusted access for CloudTrail is enabled in the organization.
pub fn trusted_access(r: &dyn Reader, org: &OrgInfo) -> Result<bool, AwsError> {
    Ok(view::is_trusted(r, &org.id, SERVICE_PRINCIPAL)?)
}

/// Since when (epoch milliseconds) CloudTrail has had trusted access to the organization, if
/// it has it now.
pub fn trusted_since(r: &dyn Reader, org: &OrgInfo) -> Result<Option<i64>, AwsError> {
    Ok(view::trusted_since(r, &org.id, SERVICE_PRINCIPAL)?)
}

/// Whether the account is a registered delegated administrator for CloudTrail.
pub fn is_delegated_admin(r: &dyn Reader, account: &str) -> Result<bool, AwsError> {
    Ok(view::is_delegated_admin(r, account, SERVICE_PRINCIPAL)?)
}

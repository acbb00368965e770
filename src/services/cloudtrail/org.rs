//! What CloudTrail needs to know about AWS Organizations, in one place.

use crate::error::AwsError;
use crate::store::Reader;

pub const SERVICE_PRINCIPAL: &str = "cloudtrail.amazonaws.com";

#[derive(Clone, Debug)]
pub struct OrgInfo {
    pub id: String,
    pub management_account: String,
    pub all_features: bool,
}

/// The organization an account belongs to, if any.
pub fn organization_of(_r: &dyn Reader, _account: &str) -> Result<Option<OrgInfo>, AwsError> {
    Ok(None)
}

/// Whether trusted access for CloudTrail is enabled in the organization.
pub fn trusted_access(_r: &dyn Reader, _org: &OrgInfo) -> Result<bool, AwsError> {
    Ok(false)
}

/// Whether the account is a registered delegated administrator for CloudTrail.
pub fn is_delegated_admin(_r: &dyn Reader, _account: &str) -> Result<bool, AwsError> {
    Ok(false)
}

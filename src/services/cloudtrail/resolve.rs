//! Which trails a caller sees in a region, and turning a `Name` argument (name or ARN) into a
//! trail (spec cloudtrail.md §3.2, §3.7, §3.9).

use super::model::{owner_prefix, Trail, TRAILS};
use super::names::{check_trail_name, parse_trail_arn, trail_arn};
use super::org;
use crate::error::AwsError;
use crate::services::RequestContext;
use crate::store::{Reader, ReaderExt};

/// Every trail an account owns, in all regions.
pub fn owned(r: &dyn Reader, owner: &str) -> Result<Vec<Trail>, AwsError> {
    Ok(
        r.scan_prefix_json::<Trail>(TRAILS, &owner_prefix(owner), usize::MAX)?
            .into_iter()
            .map(|(_, t)| t)
            .collect(),
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The caller owns it and this is its home region.
    Home,
    /// The caller owns it; a multi-region trail seen outside its home region.
    Shadow,
    /// An organization trail seen from a member account.
    Organization,
}

/// How `account` sees `t` in `region`, if at all.
pub fn seen(
    r: &dyn Reader,
    t: &Trail,
    account: &str,
    region: &str,
) -> Result<Option<Seen>, AwsError> {
    if t.owner == account {
        return Ok(if t.home_region == region {
            Some(Seen::Home)
        } else if t.is_multi_region {
            Some(Seen::Shadow)
        } else {
            None
        });
    }
    if !t.is_organization_trail || !(t.is_multi_region || t.home_region == region) {
        return Ok(None);
    }
    Ok(match org::organization_of(r, account)? {
        Some(o) if o.management_account == t.owner => Some(Seen::Organization),
        _ => None,
    })
}

/// Every trail visible to the caller in the current region, with how it is seen.
pub fn visible(r: &dyn Reader, ctx: &RequestContext) -> Result<Vec<(Trail, Seen)>, AwsError> {
    let account = &ctx.principal.account;
    let mut out = Vec::new();
    for t in owned(r, account)? {
        if let Some(s) = seen(r, &t, account, &ctx.region)? {
            out.push((t, s));
        }
    }
    if let Some(o) = org::organization_of(r, account)? {
        if o.management_account != *account {
            for t in owned(r, &o.management_account)? {
                if let Some(s) = seen(r, &t, account, &ctx.region)? {
                    out.push((t, s));
                }
            }
        }
    }
    Ok(out)
}

fn not_found(arn: &str, account: &str) -> AwsError {
    AwsError::client(
        "TrailNotFoundException",
        format!("Unknown trail: {arn} for the user: {account}"),
    )
}

/// Resolves a name or ARN among the trails visible to the caller here.
pub fn resolve(
    r: &dyn Reader,
    ctx: &RequestContext,
    value: &str,
) -> Result<(Trail, Seen), AwsError> {
    let account = &ctx.principal.account;
    if value.starts_with("arn:") {
        let arn = parse_trail_arn(value)?;
        let key = super::model::key(&arn.account, &arn.region, &arn.name);
        let found = r.get_json::<Trail>(TRAILS, &key)?;
        if let Some(t) = found {
            if let Some(s) = seen(r, &t, account, &ctx.region)? {
                return Ok((t, s));
            }
        }
        if arn.account != *account {
            return Err(AwsError::client(
                "CloudTrailARNInvalidException",
                format!("AccountID in ARN is wrong, you can only access resources with AccountID {account}."),
            ));
        }
        return Err(not_found(value, account));
    }
    check_trail_name(value)?;
    let key = super::model::key(account, &ctx.region, value);
    match r.get_json::<Trail>(TRAILS, &key)? {
        Some(t) => Ok((t, Seen::Home)),
        None => Err(not_found(&trail_arn(&ctx.region, account, value), account)),
    }
}

/// Resolves a trail the caller wants to change: only in its home region, and an organization
/// trail only by its owner or a CloudTrail delegated administrator.
pub fn resolve_for_change(
    r: &dyn Reader,
    ctx: &RequestContext,
    value: &str,
) -> Result<Trail, AwsError> {
    let (t, s) = resolve(r, ctx, value)?;
    match s {
        Seen::Home => Ok(t),
        Seen::Shadow => Err(home_region_error(&t)),
        Seen::Organization => {
            if org::is_delegated_admin(r, &ctx.principal.account)? {
                if t.home_region != ctx.region {
                    return Err(home_region_error(&t));
                }
                Ok(t)
            } else {
                Err(not_management())
            }
        }
    }
}

pub fn home_region_error(t: &Trail) -> AwsError {
    AwsError::client(
        "InvalidHomeRegionException",
        format!(
            "This operation must be called from the trail's home region, {}.",
            t.home_region
        ),
    )
}

pub fn not_management() -> AwsError {
    AwsError::client(
        "NotOrganizationMasterAccountException",
        "You cannot configure or manage trails for an organization because this action requires being signed in with the management account.",
    )
}

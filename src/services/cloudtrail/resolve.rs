//! Which trails a caller sees in a region, and turning a `Name` argument (name or ARN) into a
//! trail (spec cloudtrail.md §3.2, §3.7, §3.9).

use super::model::{owner_prefix, Trail, TRAILS};
use super::names::{check_trail_name, parse_trail_arn, trail_arn};
use super::org;
use crate::error::AwsError;
use crate::services::RequestContext;
use crate::store::{Reader, ReaderExt};

/// The trail as it stands now: an organization trail whose owner no longer manages that
/// organization (it was deleted or the owner left) or whose organization turned CloudTrail's
/// trusted access off is a regular trail of its owner again (spec §3.9, membership changes).
/// Computed on every read, so the change needs no hook in Organizations; a trail written back
/// keeps the settled value.
pub fn effective(r: &dyn Reader, mut t: Trail) -> Result<Trail, AwsError> {
    if t.is_organization_trail {
        let still = match org::organization_of(r, &t.owner)? {
            Some(o) => {
                o.management_account == t.owner
                    && t.org_id.as_deref().is_none_or(|id| id == o.id)
                    && org::trusted_since(r, &o)?
                        .is_some_and(|since| t.org_since.is_none_or(|made| since <= made))
            }
            None => false,
        };
        if !still {
            t.is_organization_trail = false;
            t.org_id = None;
            t.org_since = None;
        }
    }
    Ok(t)
}

/// Every trail an account owns, in all regions.
pub fn owned(r: &dyn Reader, owner: &str) -> Result<Vec<Trail>, AwsError> {
    r.scan_prefix_json::<Trail>(TRAILS, &owner_prefix(owner), usize::MAX)?
        .into_iter()
        .map(|(_, t)| effective(r, t))
        .collect()
}

/// Every trail of every account, as it stands now: what delivery and digests should read
/// instead of the raw table, so a trail that stopped being an organization trail stops
/// covering the organization at once.
pub fn all(r: &dyn Reader) -> Result<Vec<Trail>, AwsError> {
    r.scan_prefix_json::<Trail>(TRAILS, b"", usize::MAX)?
        .into_iter()
        .map(|(_, t)| effective(r, t))
        .collect()
}

/// One trail by owner, home region and name.
pub fn get(
    r: &dyn Reader,
    owner: &str,
    region: &str,
    name: &str,
) -> Result<Option<Trail>, AwsError> {
    match r.get_json::<Trail>(TRAILS, &super::model::key(owner, region, name))? {
        Some(t) => Ok(Some(effective(r, t)?)),
        None => Ok(None),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The caller owns it and this is its home region.
    Home,
    /// The caller owns it; a multi-region trail seen outside its home region.
    Shadow,
    /// An organization trail seen from a member account (delegated administrators included).
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

/// The organization trails a member account sees (in any region): those of its management
/// account. Empty for the management account itself and for accounts outside organizations.
pub fn organization_trails(r: &dyn Reader, account: &str) -> Result<Vec<Trail>, AwsError> {
    match org::organization_of(r, account)? {
        // Only the management account's organization trails can be seen; the others need not
        // be settled (`effective`) to be left out.
        Some(o) if o.management_account != account => {
            let mut out = Vec::new();
            for (_, t) in r.scan_prefix_json::<Trail>(
                TRAILS,
                &owner_prefix(&o.management_account),
                usize::MAX,
            )? {
                if t.is_organization_trail {
                    let t = effective(r, t)?;
                    if t.is_organization_trail {
                        out.push(t);
                    }
                }
            }
            Ok(out)
        }
        _ => Ok(Vec::new()),
    }
}

/// Every trail visible to the caller in the current region, with how it is seen.
pub fn visible(r: &dyn Reader, ctx: &RequestContext) -> Result<Vec<(Trail, Seen)>, AwsError> {
    let account = &ctx.principal.account;
    let mut out = Vec::new();
    for t in owned(r, account)?
        .into_iter()
        .chain(organization_trails(r, account)?)
    {
        if let Some(s) = seen(r, &t, account, &ctx.region)? {
            out.push((t, s));
        }
    }
    Ok(out)
}

pub fn not_found(arn: &str, account: &str) -> AwsError {
    AwsError::client(
        "TrailNotFoundException",
        format!("Unknown trail: {arn} for the user: {account}"),
    )
}

pub fn wrong_account(account: &str) -> AwsError {
    AwsError::client(
        "CloudTrailARNInvalidException",
        format!(
            "AccountID in ARN is wrong, you can only access resources with AccountID {account}."
        ),
    )
}

/// Whether ARNs of `owner` may name trails for `account`: its own, and its management
/// account's (organization trails). Any other account's ARN is refused as such.
pub fn reachable(r: &dyn Reader, account: &str, owner: &str) -> Result<bool, AwsError> {
    Ok(owner == account
        || org::organization_of(r, account)?.is_some_and(|o| o.management_account == owner))
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
        if let Some(t) = get(r, &arn.account, &arn.region, &arn.name)? {
            if let Some(s) = seen(r, &t, account, &ctx.region)? {
                return Ok((t, s));
            }
        }
        if !reachable(r, account, &arn.account)? {
            return Err(wrong_account(account));
        }
        return Err(not_found(value, account));
    }
    // A name reaches only the caller's own trails of this region.
    check_trail_name(value)?;
    match get(r, account, &ctx.region, value)? {
        Some(t) => Ok((t, Seen::Home)),
        None => Err(not_found(&trail_arn(&ctx.region, account, value), account)),
    }
}

/// Whether the caller may change an organization trail it sees from a member account: only a
/// CloudTrail delegated administrator may.
pub fn may_manage_organization_trail(r: &dyn Reader, account: &str) -> Result<bool, AwsError> {
    org::is_delegated_admin(r, account)
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
        Seen::Shadow => Err(home_region_error(&t, &ctx.region)),
        Seen::Organization => {
            if !may_manage_organization_trail(r, &ctx.principal.account)? {
                return Err(not_management());
            }
            if t.home_region != ctx.region {
                return Err(home_region_error(&t, &ctx.region));
            }
            Ok(t)
        }
    }
}

pub fn home_region_error(t: &Trail, region: &str) -> AwsError {
    AwsError::client(
        "InvalidHomeRegionException",
        format!(
            "The trail {} was created in {} and cannot be updated from {}. Call this operation in the trail's home region.",
            t.arn(),
            t.home_region,
            region
        ),
    )
}

pub fn not_management() -> AwsError {
    AwsError::client(
        "NotOrganizationMasterAccountException",
        "You cannot configure or manage trails for an organization because this action requires being signed in with the management account.",
    )
}

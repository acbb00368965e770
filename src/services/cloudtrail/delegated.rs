//! RegisterOrganizationDelegatedAdmin / DeregisterOrganizationDelegatedAdmin
//! (spec cloudtrail.md §3.9): CloudTrail's side registers the account with Organizations too.

use super::input::req_str;
use super::org::{self, SERVICE_PRINCIPAL};
use crate::error::AwsError;
use crate::services::organizations::{delegated, view};
use crate::services::{JsonInput, RequestContext};
use crate::store::Writer;
use serde_json::{json, Value};

/// CloudTrail allows three delegated administrators per organization.
pub const MAX_DELEGATED_ADMINS: usize = 3;

fn client(code: &'static str, message: &str) -> AwsError {
    AwsError::client(code, message)
}

/// The preconditions both operations share; returns the organization.
fn preconditions(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    id: &str,
) -> Result<org::OrgInfo, AwsError> {
    let caller = &ctx.principal.account;
    let Some(o) = org::organization_of(w, caller)? else {
        return Err(client(
            "OrganizationsNotInUseException",
            "This account is not a member of an organization.",
        ));
    };
    if o.management_account != *caller {
        return Err(client(
            "NotOrganizationManagementAccountException",
            "This operation can be performed only by the management account of an organization.",
        ));
    }
    if !o.all_features {
        return Err(client(
            "OrganizationNotInAllFeaturesModeException",
            "This operation requires that all features are enabled in your organization.",
        ));
    }
    if !org::trusted_access(w, &o)? {
        return Err(client(
            "CloudTrailAccessNotEnabledException",
            "CloudTrail trusted access is not enabled for your organization.",
        ));
    }
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(client(
            "InvalidParameterException",
            &format!("Account ID {id} is not valid."),
        ));
    }
    Ok(o)
}

fn not_found(id: &str) -> AwsError {
    client(
        "AccountNotFoundException",
        &format!("Account {id} was not found in the organization."),
    )
}

pub fn register(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let id = req_str(input, "MemberAccountId")?;
    let o = preconditions(w, ctx, &id)?;
    if id == o.management_account {
        return Err(client(
            "CannotDelegateManagementAccountException",
            "You cannot delegate the management account as a delegated administrator.",
        ));
    }
    if !view::members(w, &o.id)?.contains(&id) {
        return Err(not_found(&id));
    }
    let admins = view::delegated_admins(w, &o.id, SERVICE_PRINCIPAL)?;
    if admins.contains(&id) {
        return Err(client(
            "AccountRegisteredException",
            &format!("Account {id} is already registered as a delegated administrator."),
        ));
    }
    if admins.len() >= MAX_DELEGATED_ADMINS {
        return Err(client(
            "DelegatedAdminAccountLimitExceededException",
            "The number of delegated administrators for CloudTrail has reached the limit of 3.",
        ));
    }
    delegated::put_delegation(
        w,
        &o.id,
        &id,
        SERVICE_PRINCIPAL,
        ctx.time.timestamp_millis(),
    )?;
    Ok(json!({}))
}

pub fn deregister(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let id = req_str(input, "DelegatedAdminAccountId")?;
    let o = preconditions(w, ctx, &id)?;
    if !view::members(w, &o.id)?.contains(&id) {
        return Err(not_found(&id));
    }
    if !delegated::delete_delegation(w, &o.id, &id, SERVICE_PRINCIPAL)? {
        return Err(client(
            "AccountNotRegisteredException",
            &format!("Account {id} is not registered as a delegated administrator."),
        ));
    }
    Ok(json!({}))
}

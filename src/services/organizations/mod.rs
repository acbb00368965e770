//! AWS Organizations (awsJson1.1): organizations, accounts, OUs, handshakes, trusted access,
//! delegated administrators, policies and tags, as plain functions over the store (spec §4).
//!
//! Every operation runs inside the call's write transaction: an error rolls back everything the
//! call wrote. The families of operations live one to a file; [`view`] is the read-only
//! interface other services (CloudTrail) use.

mod accounts;
mod create_account;
pub mod delegated;
mod errors;
mod handshakes;
mod ids;
mod model;
mod organization;
mod page;
mod policies;
mod resource_policy;
mod service_access;
mod tags;
mod units;
mod validate;
pub mod view;

pub use create_account::spawn_worker;

use super::{JsonInput, RequestContext};
use crate::access::{self, Ask, Facts};
use crate::app::App;
use crate::error::AwsError;
use crate::store::{Reader, Writer};
use errors::{access_denied, not_in_use};
use model::{Member, Org};
use serde_json::Value;
use validate::Input;

/// Who may call an operation (spec §4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Any account, in an organization or not; the operation checks the rest.
    Open,
    /// Any account of an organization.
    Member,
    /// The management account, or a member that is a delegated administrator.
    Reader,
    /// The management account only.
    Management,
}

fn access_of(op: &str) -> Access {
    match op {
        "CreateOrganization"
        | "AcceptHandshake"
        | "DeclineHandshake"
        | "DescribeHandshake"
        | "CancelHandshake"
        | "ListHandshakesForAccount" => Access::Open,
        "DescribeOrganization" | "LeaveOrganization" => Access::Member,
        "DescribeAccount"
        | "DescribeCreateAccountStatus"
        | "DescribeOrganizationalUnit"
        | "DescribePolicy"
        | "DescribeResourcePolicy"
        | "ListAccounts"
        | "ListAccountsForParent"
        | "ListAWSServiceAccessForOrganization"
        | "ListChildren"
        | "ListCreateAccountStatus"
        | "ListDelegatedAdministrators"
        | "ListDelegatedServicesForAccount"
        | "ListHandshakesForOrganization"
        | "ListOrganizationalUnitsForParent"
        | "ListParents"
        | "ListPolicies"
        | "ListPoliciesForTarget"
        | "ListRoots"
        | "ListTargetsForPolicy"
        | "ListTagsForResource"
        | "TagResource"
        | "UntagResource" => Access::Reader,
        _ => Access::Management,
    }
}

/// One call: who makes it, their organization, the input, and the time.
pub struct Call<'a> {
    pub app: &'a App,
    pub ctx: &'a RequestContext,
    pub input: Input<'a>,
    /// Epoch milliseconds of the request.
    pub now: i64,
    /// The caller's account.
    pub account: String,
    /// The caller's membership, when in an organization.
    pub member: Option<Member>,
    pub org: Option<Org>,
}

impl Call<'_> {
    /// The caller's organization, or AWSOrganizationsNotInUseException.
    pub fn org(&self) -> Result<&Org, AwsError> {
        self.org.as_ref().ok_or_else(not_in_use)
    }

    pub fn is_management(&self) -> bool {
        self.org
            .as_ref()
            .is_some_and(|o| o.management == self.account)
    }

    /// The management account of `org` at the time of the call.
    pub fn management(&self) -> &str {
        self.org
            .as_ref()
            .map(|o| o.management.as_str())
            .unwrap_or("")
    }
}

/// Runs inside the call's store transaction.
pub fn call(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    op: &str,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let now = ctx.time.timestamp_millis();
    // Create-account requests whose time has come complete before anything reads them.
    create_account::complete_due(app, w, now)?;
    let account = ctx.principal.account.clone();
    let member = model::member(w, &account)?;
    let org = match &member {
        Some(m) => model::org(w, &m.org)?,
        None => None,
    };
    let c = Call {
        app,
        ctx,
        input: Input(input),
        now,
        account,
        member,
        org,
    };
    authorize(w, &c, op)?;
    dispatch(&c, w, op)
}

/// The caller's own IAM policies must allow `organizations:<op>`; then the organization's rules
/// of §4.4 apply.
fn authorize(r: &dyn Reader, c: &Call, op: &str) -> Result<(), AwsError> {
    let resource = c
        .org
        .as_ref()
        .map(|o| o.arn())
        .unwrap_or_else(|| "*".into());
    let action = format!("organizations:{op}");
    // Organizations is global: its requests are in us-east-1 whatever the endpoint.
    let facts = Facts::of(c.ctx).in_region("us-east-1");
    access::require(r, &facts, Ask::new(&action, &resource))
        .map_err(|e| e.into_error(400, "AccessDeniedException"))?;
    match access_of(op) {
        Access::Open => Ok(()),
        Access::Member => c.org().map(|_| ()),
        Access::Management | Access::Reader => {
            let org = c.org()?;
            if c.is_management() {
                return Ok(());
            }
            if access_of(op) == Access::Reader
                && delegated::is_delegated_admin(r, &org.id, &c.account)?
            {
                return Ok(());
            }
            if delegable(op) && resource_policy::allows(r, org, &facts, &action)? {
                return Ok(());
            }
            Err(access_denied())
        }
    }
}

/// What the organization's resource policy can delegate to member accounts: reading, and
/// managing policies and tags.
fn delegable(op: &str) -> bool {
    (op.starts_with("Describe") || op.starts_with("List"))
        || matches!(
            op,
            "CreatePolicy"
                | "UpdatePolicy"
                | "DeletePolicy"
                | "AttachPolicy"
                | "DetachPolicy"
                | "EnablePolicyType"
                | "DisablePolicyType"
                | "TagResource"
                | "UntagResource"
        )
}

fn dispatch(c: &Call, w: &mut dyn Writer, op: &str) -> Result<Value, AwsError> {
    match op {
        "CreateOrganization" => organization::create(c, w),
        "DescribeOrganization" => organization::describe(c),
        "DeleteOrganization" => organization::delete(c, w),
        "ListRoots" => organization::list_roots(c),
        "EnableAllFeatures" => handshakes::enable_all_features(c, w),

        "CreateAccount" => create_account::create(c, w),
        "DescribeCreateAccountStatus" => create_account::describe(c, w),
        "ListCreateAccountStatus" => create_account::list(c, w),
        "DescribeAccount" => accounts::describe(c, w),
        "ListAccounts" => accounts::list(c, w),
        "RemoveAccountFromOrganization" => accounts::remove(c, w),
        "LeaveOrganization" => accounts::leave(c, w),
        "CloseAccount" => accounts::close(c, w),

        "CreateOrganizationalUnit" => units::create(c, w),
        "DescribeOrganizationalUnit" => units::describe(c, w),
        "UpdateOrganizationalUnit" => units::update(c, w),
        "DeleteOrganizationalUnit" => units::delete(c, w),
        "ListOrganizationalUnitsForParent" => units::list_for_parent(c, w),
        "ListAccountsForParent" => units::list_accounts_for_parent(c, w),
        "ListChildren" => units::list_children(c, w),
        "ListParents" => units::list_parents(c, w),
        "MoveAccount" => units::move_account(c, w),

        "InviteAccountToOrganization" => handshakes::invite(c, w),
        "AcceptHandshake" => handshakes::accept(c, w),
        "DeclineHandshake" => handshakes::decline(c, w),
        "CancelHandshake" => handshakes::cancel(c, w),
        "DescribeHandshake" => handshakes::describe(c, w),
        "ListHandshakesForAccount" => handshakes::list_for_account(c, w),
        "ListHandshakesForOrganization" => handshakes::list_for_organization(c, w),

        "EnableAWSServiceAccess" => service_access::enable(c, w),
        "DisableAWSServiceAccess" => service_access::disable(c, w),
        "ListAWSServiceAccessForOrganization" => service_access::list(c, w),

        "RegisterDelegatedAdministrator" => delegated::register(c, w),
        "DeregisterDelegatedAdministrator" => delegated::deregister(c, w),
        "ListDelegatedAdministrators" => delegated::list_administrators(c, w),
        "ListDelegatedServicesForAccount" => delegated::list_services(c, w),

        "TagResource" => tags::tag(c, w),
        "UntagResource" => tags::untag(c, w),
        "ListTagsForResource" => tags::list(c, w),

        "CreatePolicy" => policies::create(c, w),
        "DescribePolicy" => policies::describe(c, w),
        "UpdatePolicy" => policies::update(c, w),
        "DeletePolicy" => policies::delete(c, w),
        "ListPolicies" => policies::list(c, w),
        "AttachPolicy" => policies::attach(c, w),
        "DetachPolicy" => policies::detach(c, w),
        "ListPoliciesForTarget" => policies::list_for_target(c, w),
        "ListTargetsForPolicy" => policies::list_targets(c, w),
        "EnablePolicyType" => policies::enable_type(c, w),
        "DisablePolicyType" => policies::disable_type(c, w),

        "PutResourcePolicy" => resource_policy::put(c, w),
        "DescribeResourcePolicy" => resource_policy::describe(c, w),
        "DeleteResourcePolicy" => resource_policy::delete(c, w),

        // Effective policies need the inheritance operators of each management policy type;
        // GovCloud accounts and responsibility transfers have no counterpart here.
        other => Err(errors::not_implemented(other)),
    }
}

#[cfg(test)]
mod tests;

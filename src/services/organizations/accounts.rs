//! Accounts of an organization: DescribeAccount, ListAccounts, RemoveAccountFromOrganization,
//! LeaveOrganization, CloseAccount, and joining and leaving as every path to them does it.

use super::errors::{
    account_already_closed, account_not_found, constraint, invalid_input, master_cannot_leave,
};
use super::model::{self, Member, Org, Tag, CHILD_ACCOUNT};
use super::page::Page;
use super::{delegated, handshakes, policies, validate, Call};
use crate::error::AwsError;
use crate::store::{Reader, Writer};
use serde_json::{json, Map, Value};

/// An `AccountId` member: 12 digits.
pub fn account_id<'a>(c: &Call<'a>, name: &str) -> Result<&'a str, AwsError> {
    let id = c.input.str(name)?;
    if !validate::is_account_id(id) {
        return Err(invalid_input("INVALID_PATTERN"));
    }
    Ok(id)
}

/// The member `id` of the caller's organization, or AccountNotFoundException.
pub fn find(r: &dyn Reader, org: &Org, id: &str) -> Result<Member, AwsError> {
    model::member_of(r, &org.id, id)?.ok_or_else(account_not_found)
}

/// Makes `account` a member of `org`, under the root.
#[allow(clippy::too_many_arguments)]
pub fn join(
    w: &mut dyn Writer,
    org: &Org,
    account: &str,
    name: &str,
    email: &str,
    method: &str,
    tags: &[Tag],
    now: i64,
) -> Result<Member, AwsError> {
    let m = Member {
        org: org.id.clone(),
        id: account.into(),
        name: name.into(),
        email: email.into(),
        joined_method: method.into(),
        joined_ms: now,
        parent: org.root.clone(),
        path: format!("{}{}/", org.root_path(), account),
        state: "ACTIVE".into(),
        closing_ms: None,
    };
    model::save_member(w, &m)?;
    model::add_child(w, &org.id, &org.root, CHILD_ACCOUNT, account)?;
    model::put_tags(w, account, tags)?;
    policies::attach_defaults(w, org, account)?;
    model::record_membership(w, &org.id, account, true, now)?;
    Ok(m)
}

/// Takes `m` out of its organization: it becomes a standalone account, its organization tags
/// and policy attachments go, and handshakes still waiting for it are canceled.
pub fn depart(w: &mut dyn Writer, org: &Org, m: &Member, now: i64) -> Result<(), AwsError> {
    model::delete_member(w, m)?;
    model::remove_child(w, &org.id, &m.parent, CHILD_ACCOUNT, &m.id)?;
    model::delete_tags(w, &m.id)?;
    policies::detach_all_from(w, &org.id, &m.id)?;
    model::record_membership(w, &org.id, &m.id, false, now)?;
    handshakes::cancel_waiting_for(w, org, &m.id, now)?;
    Ok(())
}

pub fn describe(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = account_id(c, "AccountId")?;
    let m = find(w, org, id)?;
    Ok(json!({"Account": m.json(&org.management, c.now)}))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let page = Page::new(&c.input, "ListAccounts")?;
    let (accounts, next) = page.scan(w, model::ACCOUNTS, &model::prefix(&[&org.id]), |_, v| {
        let m: Member = serde_json::from_slice(v).map_err(AwsError::internal)?;
        Ok(Some(m.json(&org.management, c.now)))
    })?;
    Ok(listing("Accounts", accounts, next))
}

/// `{<name>: [...], "NextToken": ...}` with NextToken only when there is more.
pub fn listing(name: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut m = Map::new();
    m.insert(name.into(), Value::Array(items));
    if let Some(t) = next {
        m.insert("NextToken".into(), Value::String(t));
    }
    Value::Object(m)
}

fn check_can_leave(r: &dyn Reader, org: &Org, m: &Member) -> Result<(), AwsError> {
    if m.id == org.management {
        return Err(master_cannot_leave());
    }
    if delegated::is_delegated_admin(r, &org.id, &m.id)? {
        return Err(constraint("CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG"));
    }
    Ok(())
}

pub fn remove(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = account_id(c, "AccountId")?;
    let m = find(w, org, id)?;
    check_can_leave(w, org, &m)?;
    depart(w, org, &m, c.now)?;
    Ok(json!({}))
}

pub fn leave(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let m = c.member.as_ref().ok_or_else(account_not_found)?;
    check_can_leave(w, org, m)?;
    depart(w, org, m, c.now)?;
    Ok(json!({}))
}

pub fn close(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = account_id(c, "AccountId")?;
    let mut m = find(w, org, id)?;
    if m.id == org.management {
        return Err(constraint("CANNOT_CLOSE_MANAGEMENT_ACCOUNT"));
    }
    if m.closing_ms.is_some() || m.state != "ACTIVE" {
        return Err(account_already_closed());
    }
    m.closing_ms = Some(c.now);
    model::save_member(w, &m)?;
    Ok(json!({}))
}

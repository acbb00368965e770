//! Handshakes (spec §4.6): invitations, and the migration to all features with its
//! ENABLE_ALL_FEATURES and APPROVE_ALL_FEATURES handshakes.
//!
//! EXPIRED is not stored: a handshake past its expiration reads as EXPIRED.

use super::accounts::{self, listing};
use super::errors::{
    access_denied, constraint, duplicate_handshake, handshake_already_in_state,
    handshake_constraint, handshake_not_found, invalid_handshake_transition, invalid_input,
};
use super::model::{
    self, Handshake, HsResource, Member, Org, Party, ALL, ALL_FEATURES_DAYS, CLOSED_KEPT_MS,
    DAY_MS, INVITE_DAYS,
};
use super::page::Page;
use super::validate::{self, one_of};
use super::{ids, organization, Call};
use crate::auth::directory;
use crate::error::AwsError;
use crate::store::{Reader, ReaderExt, Writer};
use serde_json::{json, Value};

const ACTIONS: &[&str] = &[
    "INVITE",
    "ENABLE_ALL_FEATURES",
    "APPROVE_ALL_FEATURES",
    "ADD_ORGANIZATIONS_SERVICE_LINKED_ROLE",
    "TRANSFER_RESPONSIBILITY",
];
const MAX_TAGS: usize = 50;

struct NewHandshake<'a> {
    org: &'a Org,
    action: &'a str,
    parties: Vec<Party>,
    resources: Vec<HsResource>,
    state: &'a str,
    expires_ms: i64,
    recipient: Option<String>,
    parent: Option<String>,
    tags: Vec<model::Tag>,
}

fn party(id: &str, kind: &str) -> Party {
    Party {
        id: id.into(),
        kind: kind.into(),
    }
}

fn create(w: &mut dyn Writer, n: NewHandshake, now: i64) -> Result<Handshake, AwsError> {
    let id = loop {
        let id = ids::handshake();
        if model::handshake(w, &id)?.is_none() {
            break id;
        }
    };
    let h = Handshake {
        id,
        org: n.org.id.clone(),
        management: n.org.management.clone(),
        action: n.action.into(),
        state: n.state.into(),
        parties: n.parties,
        resources: n.resources,
        requested_ms: now,
        expires_ms: n.expires_ms,
        closed_ms: None,
        recipient: n.recipient,
        parent: n.parent,
        tags: n.tags,
    };
    model::save_handshake(w, &h, true)?;
    Ok(h)
}

fn close(w: &mut dyn Writer, h: &mut Handshake, state: &str, now: i64) -> Result<(), AwsError> {
    h.state = state.into();
    h.closed_ms = Some(now);
    model::save_handshake(w, h, false)?;
    Ok(())
}

/// Every handshake the organization sent, oldest first.
fn of_org(r: &dyn Reader, org: &str) -> Result<Vec<Handshake>, AwsError> {
    let mut out = Vec::new();
    for k in model::keys_under(r, model::HANDSHAKES_BY_ORG, &[org])? {
        let id = k.rsplit('/').next().unwrap_or_default();
        if let Some(h) = model::handshake(r, id)? {
            out.push(h);
        }
    }
    Ok(out)
}

/// Every handshake waiting for `account`'s answer, oldest first.
fn of_account(r: &dyn Reader, account: &str) -> Result<Vec<Handshake>, AwsError> {
    let mut out = Vec::new();
    for k in model::keys_under(r, model::HANDSHAKES_BY_ACCOUNT, &[account])? {
        let id = k.rsplit('/').next().unwrap_or_default();
        if let Some(h) = model::handshake(r, id)? {
            out.push(h);
        }
    }
    Ok(out)
}

/// The all-features migration in progress, if any.
fn pending_migration(r: &dyn Reader, org: &Org, now: i64) -> Result<Option<Handshake>, AwsError> {
    let Some(id) = &org.all_features else {
        return Ok(None);
    };
    Ok(model::handshake(r, id)?.filter(|h| h.is_active(now)))
}

fn handshake_id<'a>(c: &Call<'a>) -> Result<&'a str, AwsError> {
    let id = c.input.str("HandshakeId")?;
    if !validate::is_handshake_id(id) {
        return Err(invalid_input("INVALID_PATTERN"));
    }
    Ok(id)
}

pub fn invite(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let target = c
        .input
        .opt_object("Target")?
        .ok_or_else(|| invalid_input("INPUT_REQUIRED"))?;
    let kind = one_of(target.str("Type")?, &["ACCOUNT", "ORGANIZATION", "EMAIL"])?;
    let target_id = target.str("Id")?;
    validate::length(target_id, 1, 64)?;
    let notes = c.input.opt_str("Notes")?;
    if let Some(n) = notes {
        validate::length(n, 0, 1024)?;
    }
    let tags = c.input.tags("Tags")?;
    if tags.len() > MAX_TAGS {
        return Err(constraint("MAX_TAG_LIMIT_EXCEEDED"));
    }
    let account = match kind {
        "ACCOUNT" => {
            if !validate::is_account_id(target_id) {
                return Err(invalid_input("INVALID_PATTERN"));
            }
            directory::account(w, target_id)?
        }
        "EMAIL" => {
            if !validate::is_email_shape(target_id) {
                return Err(invalid_input("INVALID_EMAIL_ADDRESS_TARGET"));
            }
            w.scan_prefix_json::<directory::Account>(directory::ACCOUNTS, b"", usize::MAX)?
                .into_iter()
                .map(|(_, a)| a)
                .find(|a| a.email.eq_ignore_ascii_case(target_id))
        }
        _ => None,
    }
    .ok_or_else(|| invalid_input("INVALID_PARTY_TYPE_TARGET"))?;

    if pending_migration(w, org, c.now)?.is_some() {
        return Err(handshake_constraint(
            "INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES",
        ));
    }
    if model::member(w, &account.id)?.is_some() {
        return Err(handshake_constraint("ALREADY_IN_AN_ORGANIZATION"));
    }
    if of_account(w, &account.id)?
        .iter()
        .any(|h| h.org == org.id && h.action == "INVITE" && h.is_active(c.now))
    {
        return Err(duplicate_handshake());
    }
    let members = model::keys_under(w, model::ACCOUNTS, &[&org.id])?.len();
    let open_invites = of_org(w, &org.id)?
        .iter()
        .filter(|h| h.action == "INVITE" && h.is_active(c.now))
        .count();
    if members + open_invites >= c.app.settings.org_account_limit as usize {
        return Err(handshake_constraint("ACCOUNT_NUMBER_LIMIT_EXCEEDED"));
    }

    let management_name = directory::account(w, &org.management)?
        .map(|a| a.name)
        .unwrap_or_default();
    let feature_set = if org.feature_set == ALL {
        "FULL"
    } else {
        "CONSOLIDATED_BILLING"
    };
    let mut organization = HsResource::new("ORGANIZATION", Some(&org.id));
    organization.resources = vec![
        HsResource::new("MASTER_EMAIL", Some(&org.management_email)),
        HsResource::new("MASTER_NAME", Some(&management_name)),
        HsResource::new("ORGANIZATION_FEATURE_SET", Some(feature_set)),
    ];
    let mut resources = vec![organization, HsResource::new(kind, Some(target_id))];
    if let Some(n) = notes {
        resources.push(HsResource::new("NOTES", Some(n)));
    }
    let h = create(
        w,
        NewHandshake {
            org,
            action: "INVITE",
            parties: vec![party(&org.id, "ORGANIZATION"), party(target_id, kind)],
            resources,
            state: "OPEN",
            expires_ms: c.now + INVITE_DAYS * DAY_MS,
            recipient: Some(account.id),
            parent: None,
            tags,
        },
        c.now,
    )?;
    Ok(json!({"Handshake": h.json(c.now)}))
}

pub fn enable_all_features(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let mut org = c.org()?.clone();
    if org.feature_set == ALL {
        return Err(handshake_constraint(
            "ORGANIZATION_ALREADY_HAS_ALL_FEATURES",
        ));
    }
    if pending_migration(w, &org, c.now)?.is_some() {
        return Err(handshake_constraint(
            "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION",
        ));
    }
    let expires_ms = c.now + ALL_FEATURES_DAYS * DAY_MS;
    let mut parent = create(
        w,
        NewHandshake {
            org: &org,
            action: "ENABLE_ALL_FEATURES",
            parties: vec![party(&org.id, "ORGANIZATION")],
            resources: vec![HsResource::new("ORGANIZATION", Some(&org.id))],
            state: "REQUESTED",
            expires_ms,
            recipient: None,
            parent: None,
            tags: Vec::new(),
        },
        c.now,
    )?;
    let invited: Vec<Member> = w
        .scan_prefix_json::<Member>(model::ACCOUNTS, &model::prefix(&[&org.id]), usize::MAX)?
        .into_iter()
        .map(|(_, m)| m)
        .filter(|m| m.joined_method == "INVITED" && m.id != org.management)
        .collect();
    if invited.is_empty() {
        // Product rule: with nobody to ask, the migration completes at once.
        finalize(w, &mut org, &mut parent, c.now)?;
        return Ok(json!({"Handshake": parent.json(c.now)}));
    }
    for m in &invited {
        create(
            w,
            NewHandshake {
                org: &org,
                action: "ENABLE_ALL_FEATURES",
                parties: vec![party(&org.id, "ORGANIZATION"), party(&m.id, "ACCOUNT")],
                resources: vec![
                    HsResource::new("ORGANIZATION", Some(&org.id)),
                    HsResource::new("ACCOUNT", Some(&m.id)),
                    HsResource::new("PARENT_HANDSHAKE", Some(&parent.id)),
                ],
                state: "OPEN",
                expires_ms,
                recipient: Some(m.id.clone()),
                parent: Some(parent.id.clone()),
                tags: Vec::new(),
            },
            c.now,
        )?;
    }
    org.all_features = Some(parent.id.clone());
    model::save_org(w, &org)?;
    Ok(json!({"Handshake": parent.json(c.now)}))
}

/// The organization switches to all features (policy types stay as they were: SCPs are enabled
/// with EnablePolicyType, as on AWS), the migration's parent handshake ACCEPTED.
fn finalize(
    w: &mut dyn Writer,
    org: &mut Org,
    parent: &mut Handshake,
    now: i64,
) -> Result<(), AwsError> {
    org.feature_set = ALL.into();
    org.all_features = None;
    model::save_org(w, org)?;
    organization::service_linked_role(w, &org.management, now)?;
    close(w, parent, "ACCEPTED", now)
}

/// After a member answered (or left): when every invited member has agreed, the management
/// account is asked to approve.
fn progress(w: &mut dyn Writer, org: &Org, parent_id: &str, now: i64) -> Result<(), AwsError> {
    let Some(mut parent) = model::handshake(w, parent_id)?.filter(|h| h.is_active(now)) else {
        return Ok(());
    };
    let family: Vec<Handshake> = of_org(w, &org.id)?
        .into_iter()
        .filter(|h| h.parent.as_deref() == Some(parent_id))
        .collect();
    let waiting = family
        .iter()
        .any(|h| h.action == "ENABLE_ALL_FEATURES" && h.is_active(now));
    let asked = family.iter().any(|h| h.action == "APPROVE_ALL_FEATURES");
    if waiting || asked {
        return Ok(());
    }
    parent.state = "OPEN".into();
    model::save_handshake(w, &parent, false)?;
    create(
        w,
        NewHandshake {
            org,
            action: "APPROVE_ALL_FEATURES",
            parties: vec![
                party(&org.id, "ORGANIZATION"),
                party(&org.management, "ACCOUNT"),
            ],
            resources: vec![
                HsResource::new("ORGANIZATION", Some(&org.id)),
                HsResource::new("PARENT_HANDSHAKE", Some(parent_id)),
            ],
            state: "OPEN",
            expires_ms: parent.expires_ms,
            recipient: Some(org.management.clone()),
            parent: Some(parent_id.into()),
            tags: Vec::new(),
        },
        now,
    )?;
    Ok(())
}

/// Ends a migration: the parent and every open handshake of it CANCELED.
fn cancel_migration(
    w: &mut dyn Writer,
    org_id: &str,
    parent_id: &str,
    now: i64,
) -> Result<(), AwsError> {
    for mut h in of_org(w, org_id)? {
        let of_it = h.id == parent_id || h.parent.as_deref() == Some(parent_id);
        if of_it && h.is_active(now) {
            close(w, &mut h, "CANCELED", now)?;
        }
    }
    if let Some(mut org) = model::org(w, org_id)? {
        if org.all_features.as_deref() == Some(parent_id) {
            org.all_features = None;
            model::save_org(w, &org)?;
        }
    }
    Ok(())
}

fn check_open(h: &Handshake, now: i64, target: &str) -> Result<(), AwsError> {
    match h.state_at(now) {
        "OPEN" | "REQUESTED" => Ok(()),
        s if s == target => Err(handshake_already_in_state()),
        _ => Err(invalid_handshake_transition()),
    }
}

pub fn accept(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let id = handshake_id(c)?;
    let mut h = model::handshake(w, id)?
        .filter(|h| h.recipient.as_deref() == Some(c.account.as_str()))
        .ok_or_else(handshake_not_found)?;
    check_open(&h, c.now, "ACCEPTED")?;
    let Some(mut org) = model::org(w, &h.org)? else {
        return Err(invalid_handshake_transition());
    };
    match h.action.as_str() {
        "INVITE" => {
            if c.member.is_some() {
                return Err(handshake_constraint("ALREADY_IN_AN_ORGANIZATION"));
            }
            let members = model::keys_under(w, model::ACCOUNTS, &[&org.id])?.len();
            if members >= c.app.settings.org_account_limit as usize {
                return Err(handshake_constraint("ACCOUNT_NUMBER_LIMIT_EXCEEDED"));
            }
            let (name, email) = directory::account(w, &c.account)?
                .map(|a| (a.name, a.email))
                .unwrap_or_default();
            let tags = std::mem::take(&mut h.tags);
            accounts::join(w, &org, &c.account, &name, &email, "INVITED", &tags, c.now)?;
            close(w, &mut h, "ACCEPTED", c.now)?;
        }
        "ENABLE_ALL_FEATURES" => {
            close(w, &mut h, "ACCEPTED", c.now)?;
            if let Some(p) = h.parent.clone() {
                progress(w, &org, &p, c.now)?;
            }
        }
        "APPROVE_ALL_FEATURES" => {
            if c.account != org.management {
                return Err(access_denied());
            }
            close(w, &mut h, "ACCEPTED", c.now)?;
            let parent = match &h.parent {
                Some(p) => model::handshake(w, p)?,
                None => None,
            };
            if let Some(mut parent) = parent.filter(|p| p.is_active(c.now)) {
                finalize(w, &mut org, &mut parent, c.now)?;
            }
        }
        _ => return Err(access_denied()),
    }
    Ok(json!({"Handshake": h.json(c.now)}))
}

pub fn decline(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let id = handshake_id(c)?;
    let mut h = model::handshake(w, id)?
        .filter(|h| h.recipient.as_deref() == Some(c.account.as_str()))
        .ok_or_else(handshake_not_found)?;
    check_open(&h, c.now, "DECLINED")?;
    close(w, &mut h, "DECLINED", c.now)?;
    if let Some(p) = h.parent.clone() {
        // One refusal ends the whole migration.
        cancel_migration(w, &h.org, &p, c.now)?;
    }
    Ok(json!({"Handshake": h.json(c.now)}))
}

pub fn cancel(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let id = handshake_id(c)?;
    let mut h = model::handshake(w, id)?.ok_or_else(handshake_not_found)?;
    let sender = model::org(w, &h.org)?.is_some_and(|o| o.management == c.account);
    if !sender {
        return Err(if h.recipient.as_deref() == Some(c.account.as_str()) {
            access_denied()
        } else {
            handshake_not_found()
        });
    }
    check_open(&h, c.now, "CANCELED")?;
    close(w, &mut h, "CANCELED", c.now)?;
    if h.action == "ENABLE_ALL_FEATURES" || h.action == "APPROVE_ALL_FEATURES" {
        let parent = h.parent.clone().unwrap_or_else(|| h.id.clone());
        cancel_migration(w, &h.org, &parent, c.now)?;
    }
    Ok(json!({"Handshake": h.json(c.now)}))
}

pub fn describe(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let id = handshake_id(c)?;
    let h = model::handshake(w, id)?.ok_or_else(handshake_not_found)?;
    let visible = h.recipient.as_deref() == Some(c.account.as_str())
        || model::org(w, &h.org)?.is_some_and(|o| o.management == c.account);
    if !visible {
        return Err(handshake_not_found());
    }
    Ok(json!({"Handshake": h.json(c.now)}))
}

/// `Filter`: an action type or a parent handshake, not both.
fn filter(c: &Call) -> Result<(Option<String>, Option<String>), AwsError> {
    let Some(f) = c.input.opt_object("Filter")? else {
        return Ok((None, None));
    };
    let action = f.opt_str("ActionType")?;
    let parent = f.opt_str("ParentHandshakeId")?;
    if action.is_some() && parent.is_some() {
        return Err(invalid_input("MAX_LIMIT_EXCEEDED_FILTER"));
    }
    if let Some(a) = action {
        one_of(a, ACTIONS)?;
    }
    if let Some(p) = parent {
        if !validate::is_handshake_id(p) {
            return Err(invalid_input("INVALID_PATTERN"));
        }
    }
    Ok((action.map(str::to_string), parent.map(str::to_string)))
}

fn list(
    c: &Call,
    r: &dyn Reader,
    op: &str,
    table: crate::store::Table,
    owner: &str,
) -> Result<Value, AwsError> {
    let (action, parent) = filter(c)?;
    let scope = format!(
        "{op}:{}:{}",
        action.as_deref().unwrap_or(""),
        parent.as_deref().unwrap_or("")
    );
    let page = Page::new(&c.input, &scope)?;
    let (items, next) = page.scan(r, table, &model::prefix(&[owner]), |k, _| {
        let id = k.rsplit('/').next().unwrap_or_default();
        let Some(h) = model::handshake(r, id)? else {
            return Ok(None);
        };
        let keep = action.as_ref().is_none_or(|a| *a == h.action)
            && parent.as_ref().is_none_or(|p| h.parent.as_ref() == Some(p))
            && h.closed_at(c.now)
                .is_none_or(|t| c.now - t <= CLOSED_KEPT_MS);
        Ok(keep.then(|| h.json(c.now)))
    })?;
    Ok(listing("Handshakes", items, next))
}

pub fn list_for_account(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    list(
        c,
        w,
        "ListHandshakesForAccount",
        model::HANDSHAKES_BY_ACCOUNT,
        &c.account,
    )
}

pub fn list_for_organization(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    list(
        c,
        w,
        "ListHandshakesForOrganization",
        model::HANDSHAKES_BY_ORG,
        &org.id,
    )
}

/// An account left `org`: what still waited for its answer is canceled, and the migration to
/// all features no longer waits for it.
pub fn cancel_waiting_for(
    w: &mut dyn Writer,
    org: &Org,
    account: &str,
    now: i64,
) -> Result<(), AwsError> {
    let mut parents = Vec::new();
    for mut h in of_account(w, account)? {
        if h.org == org.id && h.action != "INVITE" && h.is_active(now) {
            close(w, &mut h, "CANCELED", now)?;
            if let Some(p) = h.parent.clone() {
                parents.push(p);
            }
        }
    }
    for p in parents {
        progress(w, org, &p, now)?;
    }
    Ok(())
}

/// The organization is deleted: everything it has open is canceled.
pub fn cancel_all(w: &mut dyn Writer, org: &Org, now: i64) -> Result<(), AwsError> {
    for mut h in of_org(w, &org.id)? {
        if h.is_active(now) {
            close(w, &mut h, "CANCELED", now)?;
        }
    }
    Ok(())
}

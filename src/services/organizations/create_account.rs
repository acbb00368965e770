//! CreateAccount, asynchronous as on AWS (spec §4.7): the call records a request IN_PROGRESS;
//! a fixed delay later it completes, SUCCEEDED with a new account or FAILED with a reason.
//!
//! Completion happens in a write transaction, whichever comes first: the background worker
//! (polling a few times a second) or any Organizations call made after the request is due. So
//! once the delay has passed on the server's clock, every read sees the outcome.

use super::accounts::{self, listing};
use super::errors::{constraint, create_account_status_not_found, invalid_input};
use super::model::{self, CreateRequest, Tag};
use super::page::Page;
use super::validate::{self, one_of};
use super::{ids, Call};
use crate::app::App;
use crate::auth::directory;
use crate::error::AwsError;
use crate::store::{Reader, ReaderExt, StoreResult, Writer, WriterExt};
use serde_json::{json, Value};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

/// How long after CreateAccount the request completes.
pub const DELAY_MS: i64 = 1_000;
/// How often the worker looks for due requests.
const POLL: Duration = Duration::from_millis(100);
pub const MAX_TAGS: usize = 50;

const STATES: &[&str] = &["IN_PROGRESS", "SUCCEEDED", "FAILED"];

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let email = c.input.str("Email")?;
    validate::length(email, 6, 64)?;
    if !validate::is_email_shape(email) {
        return Err(invalid_input("INVALID_PATTERN"));
    }
    let name = c.input.str("AccountName")?;
    validate::length(name, 1, 50)?;
    if !validate::is_account_name(name) {
        return Err(invalid_input("INVALID_FULL_NAME_TARGET"));
    }
    let role_name = match c.input.opt_str("RoleName")? {
        None => directory::ORGANIZATION_ROLE,
        Some(r) => {
            validate::length(r, 1, 64)?;
            if !validate::is_principal_chars(r) {
                return Err(invalid_input("INVALID_PATTERN"));
            }
            if r.starts_with("AWSServiceRoleFor") {
                return Err(invalid_input("INVALID_ROLE_NAME"));
            }
            r
        }
    };
    if let Some(b) = c.input.opt_str("IamUserAccessToBilling")? {
        one_of(b, &["ALLOW", "DENY"])?;
    }
    let tags = c.input.tags("Tags")?;
    if tags.len() > MAX_TAGS {
        return Err(constraint("MAX_TAG_LIMIT_EXCEEDED"));
    }
    let concurrent = in_flight(w)?
        .iter()
        .any(|r| r.org == org.id && r.email.eq_ignore_ascii_case(email) && r.account_name == name);
    let id = ids::create_account_request();
    let req = CreateRequest {
        id: id.clone(),
        org: org.id.clone(),
        account_name: name.into(),
        email: email.into(),
        role_name: role_name.into(),
        tags,
        state: "IN_PROGRESS".into(),
        requested_ms: c.now,
        due_ms: c.now + DELAY_MS,
        completed_ms: None,
        account_id: None,
        failure: None,
        concurrent,
    };
    w.put_json(model::CREATE_REQUESTS, id.as_bytes(), &req)?;
    w.put(
        model::CREATE_REQUESTS_BY_ORG,
        &model::key(&[&org.id, &model::ms_key(req.requested_ms), &id]),
        b"",
    )?;
    w.put(model::CREATE_REQUESTS_DUE, &due_key(&req), b"")?;
    Ok(json!({"CreateAccountStatus": req.json()}))
}

fn due_key(r: &CreateRequest) -> Vec<u8> {
    model::key(&[&model::ms_key(r.due_ms), &r.id])
}

fn in_flight(r: &dyn Reader) -> StoreResult<Vec<CreateRequest>> {
    let mut out = Vec::new();
    for (k, _) in r.scan(
        model::CREATE_REQUESTS_DUE,
        Bound::Unbounded,
        Bound::Unbounded,
        usize::MAX,
        false,
    )? {
        let k = String::from_utf8_lossy(&k).into_owned();
        let id = k.rsplit('/').next().unwrap_or_default();
        if let Some(req) = model::create_request(r, id)? {
            out.push(req);
        }
    }
    Ok(out)
}

/// Keys of the requests due at `now` (due time ≤ now), oldest first.
fn due_keys(r: &dyn Reader, now: i64, limit: usize) -> StoreResult<Vec<Vec<u8>>> {
    let upper = format!("{}/", model::ms_key(now.saturating_add(1)));
    Ok(r.scan(
        model::CREATE_REQUESTS_DUE,
        Bound::Unbounded,
        Bound::Excluded(upper.as_bytes()),
        limit,
        false,
    )?
    .into_iter()
    .map(|(k, _)| k)
    .collect())
}

/// Completes every request due at `now`.
pub fn complete_due(app: &App, w: &mut dyn Writer, now: i64) -> Result<(), AwsError> {
    loop {
        let keys = due_keys(w, now, 64)?;
        if keys.is_empty() {
            return Ok(());
        }
        for k in keys {
            w.delete(model::CREATE_REQUESTS_DUE, &k)?;
            let k = String::from_utf8_lossy(&k).into_owned();
            let id = k.rsplit('/').next().unwrap_or_default();
            if let Some(req) = model::create_request(w, id)? {
                if req.state == "IN_PROGRESS" {
                    complete(app, w, req)?;
                }
            }
        }
    }
}

fn email_taken(r: &dyn Reader, email: &str) -> StoreResult<bool> {
    Ok(
        r.scan_prefix_json::<directory::Account>(directory::ACCOUNTS, b"", usize::MAX)?
            .iter()
            .any(|(_, a)| a.email.eq_ignore_ascii_case(email)),
    )
}

fn complete(app: &App, w: &mut dyn Writer, mut req: CreateRequest) -> Result<(), AwsError> {
    let at = req.due_ms;
    let org = model::org(w, &req.org)?;
    let failure = match &org {
        None => Some("INTERNAL_FAILURE"),
        Some(_) if req.concurrent => Some("CONCURRENT_ACCOUNT_MODIFICATION"),
        Some(_) if !validate::is_deliverable_email(&req.email) => Some("INVALID_EMAIL"),
        Some(_) if email_taken(w, &req.email)? => Some("EMAIL_ALREADY_EXISTS"),
        Some(o) => {
            let members = model::keys_under(w, model::ACCOUNTS, &[&o.id])?.len();
            (members >= app.settings.org_account_limit as usize).then_some("ACCOUNT_LIMIT_EXCEEDED")
        }
    };
    req.completed_ms = Some(at);
    match org {
        Some(org) if failure.is_none() => {
            let id = loop {
                let id = ids::account();
                if directory::account(w, &id)?.is_none() {
                    break id;
                }
            };
            directory::create_account(w, &id, &req.account_name, &req.email, at)?;
            create_role(w, &id, &req.role_name, &org.management, at)?;
            accounts::join(
                w,
                &org,
                &id,
                &req.account_name,
                &req.email,
                "CREATED",
                &req.tags,
                at,
            )?;
            req.state = "SUCCEEDED".into();
            req.account_id = Some(id);
        }
        _ => {
            req.state = "FAILED".into();
            req.failure = Some(failure.unwrap_or("INTERNAL_FAILURE").into());
        }
    }
    req.tags = Vec::<Tag>::new();
    w.put_json(model::CREATE_REQUESTS, req.id.as_bytes(), &req)?;
    Ok(())
}

/// The role the management account reaches the new account through.
fn create_role(
    w: &mut dyn Writer,
    account: &str,
    name: &str,
    management: &str,
    now: i64,
) -> Result<(), AwsError> {
    directory::create_organization_role(w, account, management, name, now)?;
    Ok(())
}

pub fn describe(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = c.input.str("CreateAccountRequestId")?;
    if id.len() > 36 || !validate::is_car_id(id) {
        return Err(invalid_input("INVALID_PATTERN"));
    }
    let req = model::create_request(w, id)?
        .filter(|r| r.org == org.id)
        .ok_or_else(create_account_status_not_found)?;
    Ok(json!({"CreateAccountStatus": req.json()}))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let states = c.input.opt_strings("States")?.unwrap_or_default();
    for s in &states {
        one_of(s, STATES)?;
    }
    let scope = format!("ListCreateAccountStatus:{}", states.join(","));
    let page = Page::new(&c.input, &scope)?;
    let (items, next) = page.scan(
        w,
        model::CREATE_REQUESTS_BY_ORG,
        &model::prefix(&[&org.id]),
        |k, _| {
            let id = k.rsplit('/').next().unwrap_or_default();
            Ok(model::create_request(w, id)?
                .filter(|r| states.is_empty() || states.contains(&r.state.as_str()))
                .map(|r| r.json()))
        },
    )?;
    Ok(listing("CreateAccountStatuses", items, next))
}

/// Starts the worker that completes due create-account requests; it stops when the app goes.
pub fn spawn_worker(app: &Arc<App>) {
    let weak = Arc::downgrade(app);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(POLL).await;
            let Some(app) = weak.upgrade() else {
                return;
            };
            let now = app.clock.now().timestamp_millis();
            let due = app
                .store
                .read(|r| due_keys(r, now, 1).map(|k| !k.is_empty()));
            if matches!(due, Ok(true)) {
                let worker_app = app.clone();
                let done = app
                    .store
                    .write(move |w| complete_due(&worker_app, w, now))
                    .await;
                if let Err(e) = done {
                    tracing::warn!(error = %e, "completing create-account requests failed");
                }
            }
        }
    });
}

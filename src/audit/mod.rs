//! The audit room: every call Cairn serves becomes one CloudTrail record, appended to the
//! journal in the same commit as the state change it describes, before the response is sent.
//!
//! `execute` is the one way operations run: the operation's writes go in a nested transaction
//! (rolled back when it fails), the record of the call — success or refusal — is appended after
//! it, and the group commit makes both durable together.

pub mod history;
pub mod journal;
mod json;
pub mod record;

pub use record::{CallInfo, Resource};

use crate::app::App;
use crate::error::AwsError;
use crate::services::RequestContext;
use crate::store::{ReadOnly, StoreError, Writer};
use serde_json::Value;
use std::sync::Arc;

/// Is an operation of this name read-only, the way CloudTrail classifies API calls?
pub fn is_read_only(operation: &str) -> bool {
    ["Get", "Describe", "List", "Lookup", "Head"]
        .iter()
        .any(|p| operation.starts_with(p))
}

/// Removes secrets from what a record would show (session secrets, private keys).
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !k.eq_ignore_ascii_case("secretAccessKey"));
            for (_, v) in m.iter_mut() {
                redact(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Runs `op` in a store transaction and records it. `response_elements` shapes what a
/// successful, mutating call's record shows as `responseElements`.
///
/// A read-only call first runs on a snapshot, off the writer; then only its record goes through
/// the writer. Should it try to write after all (some reads finish due work lazily), it runs
/// again inside the write transaction, like a mutating call.
pub async fn execute<T, F, D>(
    app: &Arc<App>,
    ctx: RequestContext,
    info: CallInfo,
    op: F,
    response_elements: D,
) -> Result<T, AwsError>
where
    T: Send + 'static,
    F: Fn(&mut dyn Writer) -> Result<T, AwsError> + Send + 'static,
    D: FnOnce(&T) -> Option<Value> + Send + 'static,
{
    if info.read_only {
        let attempt = app.store.read(|r| {
            let mut ro = ReadOnly::new(r);
            let result = op(&mut ro);
            Ok((!ro.attempted_write).then_some(result))
        })?;
        if let Some(result) = attempt {
            if !app.settings.recording {
                return result;
            }
            let entries = entries(&ctx, &info, result.as_ref().map(|_| None), &app.clock);
            app.store.append(entries).await?;
            return result;
        }
    }
    if !app.settings.recording {
        return app.store.write(op).await;
    }
    let clock = app.clock.clone();
    app.store
        .write(move |w| -> Result<Result<T, AwsError>, StoreError> {
            let mut out = None;
            w.nested(&mut |w| {
                let r = op(w);
                let ok = r.is_ok();
                out = Some(r);
                ok
            })?;
            let result = out.expect("operation ran");
            let shown = match &result {
                Ok(t) if !info.read_only => Ok(response_elements(t).map(|mut v| {
                    redact(&mut v);
                    v
                })),
                Ok(_) => Ok(None),
                Err(e) => Err(e),
            };
            for e in entries(&ctx, &info, shown, &clock) {
                w.append_journal(&e)?;
            }
            Ok(result)
        })
        .await
        .map_err(AwsError::from)?
}

/// The journal entries of one call: one per account that receives the record.
pub fn entries(
    ctx: &RequestContext,
    info: &CallInfo,
    shown: Result<Option<Value>, &AwsError>,
    clock: &crate::clock::Clock,
) -> Vec<Vec<u8>> {
    let mut recipients: Vec<&str> = Vec::with_capacity(2);
    if !info.recipient_account.is_empty() {
        recipients.push(&info.recipient_account);
    }
    if let Some(other) = info.shared_with.as_deref() {
        if !recipients.contains(&other) {
            recipients.push(other);
        }
    }
    let shared = (recipients.len() > 1).then(|| crate::ids::uuid_v4().to_string());
    let now = clock.now();
    let shown = shown.as_ref().map(Option::as_ref).map_err(|e| *e);
    let username = record::lookup_username(&ctx.principal);
    recipients
        .into_iter()
        .map(|to| {
            let mut id = uuid::Uuid::encode_buffer();
            let event_id: &str = crate::ids::uuid_v4().hyphenated().encode_lower(&mut id);
            let index = journal::IndexKeys {
                event_id: event_id.into(),
                event_name: info.event_name.as_str().into(),
                event_source: info.event_source.into(),
                event_time: now.timestamp(),
                region: info.region.as_str().into(),
                recipient: to.into(),
                read_only: info.read_only,
                management: info.management,
                username: username.as_deref().map(Into::into),
                access_key_id: record::lookup_access_key(&ctx.principal).map(Into::into),
            };
            journal::encode_with(&info.lookup_resources, Some(&index), |out| {
                let copy = record::RecordCopy {
                    recipient: to,
                    event_id,
                    shared_event_id: shared.as_deref(),
                };
                record::write(out, ctx, info, shown, now, copy)
            })
        })
        .collect()
}

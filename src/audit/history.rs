//! Event history: the journal consumer that indexes management events for LookupEvents, and the
//! query over that index.
//!
//! The index is derived data and lives in a store of its own (its own database file and writer),
//! so indexing runs beside the API's commits instead of queueing behind them. The consumer reads
//! the journal after its cursor and writes index rows and the new cursor in one commit of the
//! index store, so after a crash it resumes exactly where it stopped. Index keys are
//! `<account>\0<region>\0<attribute>\0<value>\0<time><seq>`: every LookupEvents question (one
//! attribute at most, a time window, newest first) is one bounded reverse range scan.

use super::journal;
use crate::store::{Reader, Store, StoreError, StoreResult, Table, Writer};
use serde::Deserialize;
use std::ops::Bound;
use std::time::Duration;

pub const INDEX: Table = Table("history.index");
pub const CURSOR: Table = Table("history.cursor");
const CURSOR_KEY: &[u8] = b"cursor";
/// Journal entries indexed per commit.
const BATCH: usize = 2000;

/// The attribute part of the key; `All` indexes every event by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribute {
    All,
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl Attribute {
    pub fn parse(key: &str) -> Option<Attribute> {
        Some(match key {
            "EventId" => Attribute::EventId,
            "EventName" => Attribute::EventName,
            "ReadOnly" => Attribute::ReadOnly,
            "Username" => Attribute::Username,
            "ResourceType" => Attribute::ResourceType,
            "ResourceName" => Attribute::ResourceName,
            "EventSource" => Attribute::EventSource,
            "AccessKeyId" => Attribute::AccessKeyId,
            _ => return None,
        })
    }

    fn code(self) -> u8 {
        match self {
            Attribute::All => b'*',
            Attribute::EventId => b'i',
            Attribute::EventName => b'n',
            Attribute::ReadOnly => b'r',
            Attribute::Username => b'u',
            Attribute::ResourceType => b't',
            Attribute::ResourceName => b'm',
            Attribute::EventSource => b's',
            Attribute::AccessKeyId => b'k',
        }
    }
}

/// The key prefix of one (account, region, attribute, value) list.
pub fn prefix(account: &str, region: &str, attr: Attribute, value: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(account.len() + region.len() + value.len() + 5);
    k.extend_from_slice(account.as_bytes());
    k.push(0);
    k.extend_from_slice(region.as_bytes());
    k.push(0);
    k.push(attr.code());
    k.push(0);
    k.extend_from_slice(value.as_bytes());
    k.push(0);
    k
}

fn key(prefix: &[u8], time: i64, seq: u64) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(&(time.max(0) as u64).to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// (time, seq) from the tail of an index key.
pub fn position(key: &[u8]) -> Option<(i64, u64)> {
    let n = key.len();
    if n < 16 {
        return None;
    }
    let time = u64::from_be_bytes(key[n - 16..n - 8].try_into().ok()?) as i64;
    let seq = u64::from_be_bytes(key[n - 8..].try_into().ok()?);
    Some((time, seq))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Indexed {
    #[serde(rename = "eventID")]
    event_id: String,
    event_name: String,
    event_source: String,
    event_time: String,
    aws_region: String,
    read_only: Option<bool>,
    management_event: Option<bool>,
    recipient_account_id: String,
    user_identity: IndexedIdentity,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexedIdentity {
    #[serde(rename = "type")]
    kind: Option<String>,
    user_name: Option<String>,
    arn: Option<String>,
    access_key_id: Option<String>,
}

/// The LookupEvents `Username` of a record's identity.
fn username(id: &IndexedIdentity) -> Option<String> {
    match id.kind.as_deref() {
        Some("Root") => Some("root".into()),
        Some("IAMUser") => id.user_name.clone(),
        Some("AssumedRole") | Some("FederatedUser") => id
            .arn
            .as_deref()
            .and_then(|a| a.rsplit('/').next())
            .map(str::to_string),
        _ => id.user_name.clone(),
    }
}

pub fn event_time_epoch(s: &str) -> Option<i64> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

/// Index rows for one journal entry (none for data events).
fn rows(seq: u64, entry: &[u8]) -> Vec<Vec<u8>> {
    let Some((meta, record)) = journal::decode(entry) else {
        return Vec::new();
    };
    let Ok(ev) = serde_json::from_slice::<Indexed>(record) else {
        return Vec::new();
    };
    if ev.management_event == Some(false) {
        return Vec::new();
    }
    let Some(time) = event_time_epoch(&ev.event_time) else {
        return Vec::new();
    };
    let (acct, region) = (ev.recipient_account_id.as_str(), ev.aws_region.as_str());
    let mut out = vec![
        key(&prefix(acct, region, Attribute::All, ""), time, seq),
        key(
            &prefix(acct, region, Attribute::EventId, &ev.event_id),
            time,
            seq,
        ),
        key(
            &prefix(acct, region, Attribute::EventName, &ev.event_name),
            time,
            seq,
        ),
        key(
            &prefix(acct, region, Attribute::EventSource, &ev.event_source),
            time,
            seq,
        ),
        key(
            &prefix(
                acct,
                region,
                Attribute::ReadOnly,
                if ev.read_only.unwrap_or(false) {
                    "true"
                } else {
                    "false"
                },
            ),
            time,
            seq,
        ),
    ];
    if let Some(u) = username(&ev.user_identity) {
        out.push(key(
            &prefix(acct, region, Attribute::Username, &u),
            time,
            seq,
        ));
    }
    if let Some(k) = ev
        .user_identity
        .access_key_id
        .as_deref()
        .filter(|k| !k.is_empty())
    {
        out.push(key(
            &prefix(acct, region, Attribute::AccessKeyId, k),
            time,
            seq,
        ));
    }
    for (t, n) in &meta.lookup_resources {
        out.push(key(
            &prefix(acct, region, Attribute::ResourceType, t),
            time,
            seq,
        ));
        out.push(key(
            &prefix(acct, region, Attribute::ResourceName, n),
            time,
            seq,
        ));
    }
    out
}

pub fn cursor(r: &dyn Reader) -> StoreResult<u64> {
    Ok(r.get(CURSOR, CURSOR_KEY)?
        .and_then(|v| v.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0))
}

/// Indexes what the journal holds beyond the cursor, one batch; returns how many entries.
pub async fn index_once(journal: &Store, index: &Store) -> StoreResult<usize> {
    let from = index.read(|r| cursor(r))?;
    let entries = journal.read(|r| r.journal_after(from, BATCH))?;
    let Some(last) = entries.last().map(|(s, _)| *s) else {
        return Ok(0);
    };
    let n = entries.len();
    let rows: Vec<Vec<u8>> = entries.iter().flat_map(|(seq, e)| rows(*seq, e)).collect();
    index
        .write(move |w: &mut dyn Writer| -> StoreResult<()> {
            // A reset may have wiped the journal since the read: then these rows are stale.
            if cursor(w)? != from {
                return Ok(());
            }
            for k in &rows {
                w.put(INDEX, k, b"")?;
            }
            w.put(CURSOR, CURSOR_KEY, &last.to_be_bytes())
        })
        .await?;
    Ok(n)
}

/// The consumer's loop: index whatever is new, then wait a little.
pub async fn run(journal: Store, index: Store) {
    loop {
        match index_once(&journal, &index).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(StoreError::Closed) => return,
            Err(e) => {
                tracing::error!(error = %e, "event history indexing failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Waits until everything committed so far is indexed (bounded), so a LookupEvents right after a
/// call sees it.
pub async fn caught_up(journal: &Store, index: &Store, timeout: Duration) -> StoreResult<()> {
    let head = journal.read(|r| r.journal_head())?;
    let deadline = tokio::time::Instant::now() + timeout;
    while index.read(|r| cursor(r))? < head && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

/// One page of a lookup: (time, seq) positions newest first, and whether more follow.
pub fn lookup(
    r: &dyn Reader,
    list_prefix: &[u8],
    start: i64,
    end: i64,
    before: Option<(i64, u64)>,
    limit: usize,
) -> StoreResult<(Vec<(i64, u64)>, bool)> {
    let low = key(list_prefix, start, 0);
    let high = match before {
        Some((t, s)) => key(list_prefix, t, s),
        None => key(list_prefix, end, u64::MAX),
    };
    let upper = if before.is_some() {
        Bound::Excluded(high.as_slice())
    } else {
        Bound::Included(high.as_slice())
    };
    let rows = r.scan(
        INDEX,
        Bound::Included(low.as_slice()),
        upper,
        limit + 1,
        true,
    )?;
    let more = rows.len() > limit;
    Ok((
        rows.iter()
            .take(limit)
            .filter_map(|(k, _)| position(k))
            .collect(),
        more,
    ))
}

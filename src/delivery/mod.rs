//! The delivery room: the journal consumer that turns recorded events into trail log files in
//! S3 (spec cloudtrail.md §5.2, §7).
//!
//! Exactly once per trail. Each trail has a durable cursor: the journal position delivered so
//! far, and at most one pending batch `(from, to, time)`. A batch is made durable before any of
//! its files is written; every file's key and bytes derive only from the batch (the journal
//! range, its records, its delivery time), so after a crash the pending batch is redone and
//! overwrites exactly the objects it may already have written. The cursor moves past the batch
//! in one commit once all its files are in place. A refused write (bucket policy, missing
//! bucket) leaves the batch pending: nothing is lost and delivery resumes when it is fixed.

pub mod files;
pub mod retired;
pub mod select;
pub mod write;

use crate::app::App;
use crate::audit::journal;
use crate::error::AwsError;
use crate::services::cloudtrail::model::{status_key, DeliveryStatus, Trail, STATUS};
use crate::services::cloudtrail::resolve;
use crate::services::organizations::view;
use crate::store::{Reader, ReaderExt, StoreError, Table, WriterExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub const CURSORS: Table = Table("delivery.cursors");
/// Journal records one batch covers at most (bounds memory per trail and cycle).
const MAX_BATCH: u64 = 50_000;
/// Journal records read per store read.
const READ_CHUNK: usize = 5_000;

/// A trail's delivery state, by `Trail::state_key`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// Everything up to and including this sequence number is delivered.
    pub(crate) done: u64,
    pending: Option<Batch>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Batch {
    from: u64,
    to: u64,
    /// The delivery time the batch's file names carry (epoch milliseconds).
    at_ms: i64,
}

/// The consumer's loop: one delivery cycle per interval. Cycles start an interval apart, not an
/// interval after the last one ended: under load a cycle takes a good part of a second, which
/// would otherwise add to every event's delivery latency.
pub async fn run(app: Arc<App>) {
    let every = app.settings.delivery_interval;
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    // A cycle longer than the interval is followed by the next one at once, not by a burst.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = cycle(&app).await {
            tracing::error!(error = %e, "delivery cycle failed; retrying next interval");
        }
    }
}

/// Every trail the consumers serve: the live ones as CloudTrail sees them now (an
/// organization trail whose organization went away is a plain trail again), then the deleted
/// ones still finishing.
pub fn trails(r: &dyn Reader) -> Result<Vec<Trail>, StoreError> {
    let mut all = resolve::all(r).map_err(|e| StoreError::Backend(e.to_string()))?;
    all.extend(retired::all(r)?);
    Ok(all)
}

/// Delivers what every trail has pending or newly covered.
pub async fn cycle(app: &Arc<App>) -> Result<(), AwsError> {
    let (trails, head) = app.store.read(|r| Ok((trails(r)?, r.journal_head()?)))?;
    for t in trails {
        if let Err(e) = deliver(app, &t, head).await {
            tracing::warn!(trail = %t.arn(), error = %e, "delivery failed");
        }
        if t.retired {
            let t2 = t.clone();
            if app
                .store
                .write(move |w| retired::finish_if_done(w, &t2))
                .await?
            {
                tracing::info!(trail = %t.arn(), "deleted trail's deliveries finished");
            }
        }
    }
    Ok(())
}

/// The organization whose accounts an organization trail covers (and whose folder its files go
/// under), while its owner manages it.
pub fn covered_org(r: &dyn Reader, t: &Trail) -> Result<Option<String>, StoreError> {
    if !t.is_organization_trail {
        return Ok(None);
    }
    Ok(view::organization_of(r, &t.owner)?
        .filter(|o| o.management_account == t.owner)
        .map(|o| o.id))
}

async fn deliver(app: &Arc<App>, t: &Trail, head: u64) -> Result<(), AwsError> {
    let arn = t.arn();
    let state = t.state_key();
    let stored: Option<Cursor> = app.store.read(|r| r.get_json(CURSORS, state.as_bytes()))?;
    let batch = match stored.as_ref().and_then(|c| c.pending.clone()) {
        Some(b) => b,
        None => {
            // A new trail starts where its logging started; nothing earlier is its.
            let done = match &stored {
                Some(c) => c.done,
                None => match t.logging_periods.first() {
                    Some((from, _)) => from.saturating_sub(1),
                    None => return Ok(()),
                },
            };
            if done >= head {
                return Ok(());
            }
            let b = Batch {
                from: done,
                to: head.min(done + MAX_BATCH),
                at_ms: app.clock.now().timestamp_millis(),
            };
            let prior = stored.as_ref().map(|c| c.done);
            let (key, cur, owner) = (
                state.clone(),
                Cursor {
                    done,
                    pending: Some(b.clone()),
                },
                t.clone(),
            );
            let owned = app
                .store
                .write(move |w| -> Result<bool, StoreError> {
                    // Unless DeleteTrail moved the state away since this cycle read it.
                    let unchanged = w
                        .get_json::<Cursor>(CURSORS, key.as_bytes())?
                        .map(|c| c.done)
                        == prior;
                    let owned = retired::owns(w, &owner)? && unchanged;
                    if owned {
                        w.put_json(CURSORS, key.as_bytes(), &cur)?;
                    }
                    Ok(owned)
                })
                .await?;
            if !owned {
                return Ok(());
            }
            b
        }
    };
    let org = app.store.read(|r| covered_org(r, t))?;
    let groups = collect(app, t, &batch, org.as_deref())?;
    let at = chrono::DateTime::from_timestamp_millis(batch.at_ms).unwrap_or_else(chrono::Utc::now);
    let source = write::source(app, t)?;
    let mut delivered_regions = Vec::new();
    let mut digested = Vec::new();
    for ((account, region), records) in &groups {
        let unique = files::unique_suffix(&arn, batch.from, batch.to, account, region);
        let key = files::log_key(
            t.s3_key_prefix.as_deref(),
            org.as_deref(),
            account,
            region,
            at,
            &unique,
        );
        let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
        let body = files::log_body(&refs);
        if t.log_file_validation {
            let (hash, newest, oldest) = crate::digests::digest::log_file_facts(&refs);
            let f = crate::digests::digest::LogFile {
                bucket: t.s3_bucket_name.clone(),
                key: key.clone(),
                hash,
                newest_event_time: newest,
                oldest_event_time: oldest,
            };
            digested.push((account.clone(), region.clone(), f));
        }
        let outcome = write::put(
            app,
            write::Delivery {
                bucket: &t.s3_bucket_name,
                key,
                body,
                source: source.clone(),
                region,
                metadata: Vec::new(),
            },
        )
        .await;
        if let Err(e) = outcome {
            if !t.retired {
                record_status(app, &arn, region, Err(e.code.to_string())).await?;
            }
            return Err(e);
        }
        delivered_regions.push(region.clone());
    }
    let (key, owner) = (state.clone(), t.clone());
    let cur = Cursor {
        done: batch.to,
        pending: None,
    };
    let owned = app
        .store
        .write(move |w| -> Result<bool, StoreError> {
            // The batch is still this trail's (DeleteTrail may have handed it on meanwhile).
            let still = w
                .get_json::<Cursor>(CURSORS, key.as_bytes())?
                .is_some_and(|c| c.pending == Some(batch.clone()));
            if !still || !retired::owns(w, &owner)? {
                return Ok(false);
            }
            crate::digests::record_files(w, &key, &digested)?;
            w.put_json(CURSORS, key.as_bytes(), &cur)?;
            Ok(true)
        })
        .await?;
    if !owned || t.retired {
        return Ok(());
    }
    for region in delivered_regions {
        record_status(app, &arn, &region, Ok(())).await?;
    }
    Ok(())
}

type Groups = BTreeMap<(String, String), Vec<Vec<u8>>>;

/// The batch's records that reach the trail, grouped per (account, region), in journal order.
fn collect(app: &App, t: &Trail, b: &Batch, org: Option<&str>) -> Result<Groups, AwsError> {
    let mut groups: Groups = BTreeMap::new();
    let mut after = b.from;
    while after < b.to {
        let entries = app.store.read(|r| r.journal_after(after, READ_CHUNK))?;
        if entries.is_empty() {
            break;
        }
        for (seq, entry) in &entries {
            if *seq > b.to {
                break;
            }
            if !t.logging_at(*seq) {
                continue;
            }
            // Only the record: decoding the meta too would be work thrown away.
            let Some((_, record)) = journal::split(entry) else {
                continue;
            };
            let Ok(ev) = serde_json::from_slice::<select::Event>(record) else {
                continue;
            };
            if !select::region_covered(t, &ev) || !select::selected(t, &ev) {
                continue;
            }
            let covered = ev.recipient_account_id == t.owner
                || match org {
                    Some(o) => {
                        let at = crate::audit::history::event_time_epoch(&ev.event_time)
                            .unwrap_or(0)
                            * 1000;
                        app.store
                            .read(|r| view::was_member_at(r, o, &ev.recipient_account_id, at))?
                    }
                    None => false,
                };
            if !covered {
                continue;
            }
            groups
                .entry((ev.recipient_account_id.clone(), ev.aws_region.clone()))
                .or_default()
                .push(record.to_vec());
        }
        after = entries.last().map(|(s, _)| *s).unwrap_or(b.to);
    }
    Ok(groups)
}

/// GetTrailStatus's delivery fields for one region.
async fn record_status(
    app: &Arc<App>,
    arn: &str,
    region: &str,
    outcome: Result<(), String>,
) -> Result<(), AwsError> {
    let key = status_key(arn, region);
    let now = app.clock.now().timestamp_millis();
    app.store
        .write(move |w| -> Result<(), AwsError> {
            let mut st: DeliveryStatus = w.get_json(STATUS, &key)?.unwrap_or_default();
            st.latest_delivery_attempt_time = Some(now);
            match outcome {
                Ok(()) => {
                    st.latest_delivery_time = Some(now);
                    st.latest_delivery_attempt_succeeded = Some(now);
                    st.latest_delivery_error = None;
                }
                Err(code) => st.latest_delivery_error = Some(code),
            }
            w.put_json(STATUS, &key, &st)?;
            Ok(())
        })
        .await
}

pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(
        s.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(s.len()),
    );
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration like 2s or 5m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return Err(format!("'{s}' is not a duration like 2s or 5m")),
    };
    if secs <= 0.0 {
        return Err(format!("'{s}' must be longer than zero"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    #[test]
    fn intervals() {
        assert_eq!(super::parse_interval("2s").unwrap().as_secs(), 2);
        assert_eq!(super::parse_interval("5m").unwrap().as_secs(), 300);
        assert_eq!(super::parse_interval("250ms").unwrap().as_millis(), 250);
        assert_eq!(super::parse_interval("1h").unwrap().as_secs(), 3600);
        assert_eq!(super::parse_interval("30d").unwrap().as_secs(), 30 * 86400);
        assert!(super::parse_interval("0s").is_err());
        assert!(super::parse_interval("soon").is_err());
    }
}

//! The lifecycle worker: every `--delivery-interval`, on Cairn's clock (so the test clock can
//! make days pass), each bucket with a lifecycle configuration is scanned on snapshots, and the
//! keys and uploads with something due go to the writer in transactions of at most [`BATCH`],
//! so a large bucket never holds the writer for long. Bodies are removed after each commit.
//! As on AWS, lifecycle actions are not CloudTrail events (nothing is journaled); they are noted
//! for the bucket's server access logs.

use super::apply::{self, Done};
use super::scan::{Keys, Uploads};
use super::{acts_on_versions, enabled_rules, plan, upload_due};
use crate::app::App;
use crate::error::AwsError;
use crate::services::s3::{access_log, millis, Bucket, BUCKETS};
use chrono::{DateTime, Utc};
use std::ops::Bound;
use std::sync::Arc;

/// Keys (or uploads) one write transaction takes at most.
pub const BATCH: usize = 1000;

/// Runs a pass every interval, an interval apart however long a pass takes (as delivery does).
pub async fn run(app: Arc<App>) {
    let every = app.settings.delivery_interval;
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        pass(&app).await;
    }
}

/// One pass over every bucket with a lifecycle configuration, in name order.
pub async fn pass(app: &Arc<App>) {
    let names = match configured_buckets(app) {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "lifecycle: could not list buckets; retrying next interval");
            return;
        }
    };
    for name in names {
        if let Err(e) = bucket(app, &name).await {
            tracing::warn!(bucket = %name, error = %e, "lifecycle pass failed");
        }
    }
}

fn configured_buckets(app: &App) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let rows = app.store.read(|r| {
            let from = match &after {
                Some(k) => Bound::Excluded(k.as_slice()),
                None => Bound::Unbounded,
            };
            r.scan(BUCKETS, from, Bound::Unbounded, super::scan::PAGE, false)
        })?;
        let full = rows.len() == super::scan::PAGE;
        for (k, v) in &rows {
            let b: Bucket = serde_json::from_slice(v).map_err(crate::services::s3::internal)?;
            if b.config.lifecycle.is_some() {
                names.push(b.name);
            }
            after = Some(k.clone());
        }
        if !full {
            return Ok(names);
        }
    }
}

async fn bucket(app: &Arc<App>, name: &str) -> Result<(), AwsError> {
    let now = app.clock.now();
    let Some(b) = app
        .store
        .read(|r| crate::services::s3::get_bucket(r, name))?
    else {
        return Ok(());
    };
    let rules = enabled_rules(b.config.lifecycle.as_deref().unwrap_or_default());
    if acts_on_versions(&rules) {
        let mut keys = Keys::new(name);
        let mut due = Vec::new();
        while let Some(k) = keys.next(&app.store)? {
            if !plan(&rules, k.history(), now).is_empty() {
                due.push(k.key);
            }
            if due.len() == BATCH {
                write_keys(app, name, std::mem::take(&mut due), now).await?;
            }
        }
        if !due.is_empty() {
            write_keys(app, name, due, now).await?;
        }
    }
    if rules.iter().any(|r| r.abort_after_days.is_some()) {
        let mut uploads = Uploads::new(name);
        let mut due = Vec::new();
        while let Some(u) = uploads.next(&app.store)? {
            if upload_due(&rules, &u.key, millis(u.initiated), now) {
                due.push((u.key, u.id));
            }
            if due.len() == BATCH {
                write_uploads(app, name, std::mem::take(&mut due), now).await?;
            }
        }
        if !due.is_empty() {
            write_uploads(app, name, due, now).await?;
        }
    }
    Ok(())
}

async fn write_keys(
    app: &Arc<App>,
    bucket: &str,
    keys: Vec<String>,
    now: DateTime<Utc>,
) -> Result<(), AwsError> {
    let name = bucket.to_string();
    let done = app
        .store
        .write(move |w| apply::keys(w, &name, &keys, now))
        .await?;
    finish(app, done, now).await;
    Ok(())
}

async fn write_uploads(
    app: &Arc<App>,
    bucket: &str,
    uploads: Vec<(String, String)>,
    now: DateTime<Utc>,
) -> Result<(), AwsError> {
    let name = bucket.to_string();
    let done = app
        .store
        .write(move |w| apply::uploads(w, &name, &uploads, now))
        .await?;
    finish(app, done, now).await;
    Ok(())
}

/// After a commit: the access log records, then the bodies nothing refers to any more.
async fn finish(app: &Arc<App>, done: Done, now: DateTime<Utc>) {
    if let Some(b) = &done.bucket {
        for a in &done.actions {
            access_log::lifecycle_action(
                &app.access_logs,
                b,
                &a.key,
                a.version_id.as_deref(),
                a.operation,
                now,
            );
        }
    }
    if done.garbage.is_empty() {
        return;
    }
    let blobs = app.blobs.clone();
    let ids = done.garbage;
    let removed = tokio::task::spawn_blocking(move || {
        for id in ids {
            if let Err(e) = blobs.remove(&id) {
                tracing::warn!(blob = %id, error = %e, "lifecycle: could not remove a blob");
            }
        }
    })
    .await;
    if let Err(e) = removed {
        tracing::warn!(error = %e, "lifecycle: blob removal did not finish");
    }
}

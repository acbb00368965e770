//! Writing what has gathered: every `--delivery-interval`, one log object per source bucket and
//! target, as `logging.s3.amazonaws.com` with the source bucket as `aws:SourceArn` and its owner
//! as `aws:SourceAccount` (what AWS's documented target-bucket policy conditions on).

use super::format::{object_key, KeyFormat};
use super::{Pending, Source, Target};
use crate::app::App;
use crate::services::s3::service_write::{self, ServiceWrite};
use crate::services::s3::{ContentHeaders, ServiceSource};
use rand::Rng;
use std::collections::HashMap;
use std::sync::Arc;

pub const LOGGING: &str = "logging.s3.amazonaws.com";

/// Records of a refused delivery are retried for this long, then dropped.
const RETRY_FOR_MS: i64 = 3_600_000;

pub async fn run(app: Arc<App>) {
    let every = app.settings.delivery_interval;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        deliver_once(&app).await;
    }
}

/// Delivers everything pending now; what could not be written waits for the next round.
pub async fn deliver_once(app: &Arc<App>) {
    let pending = app.access_logs.take();
    if pending.is_empty() {
        return;
    }
    let mut groups: HashMap<(Source, Target), Vec<Pending>> = HashMap::new();
    let mut order = Vec::new();
    for p in pending {
        let k = (p.source.clone(), p.target.clone());
        if !groups.contains_key(&k) {
            order.push(k.clone());
        }
        groups.entry(k).or_default().push(p);
    }
    let now = app.clock.now();
    let mut failed = Vec::new();
    for k in order {
        let records = groups.remove(&k).unwrap_or_default();
        let (source, target) = k;
        if let Err(e) = write(app, &source, &target, &records, now).await {
            tracing::warn!(
                source = %source.bucket, target = %target.bucket, error = %e.code,
                "server access logs not delivered"
            );
            let cutoff = now.timestamp_millis() - RETRY_FOR_MS;
            failed.extend(
                records
                    .into_iter()
                    .filter(|p| p.record.time.timestamp_millis() >= cutoff),
            );
        }
    }
    if !failed.is_empty() {
        app.access_logs.put_back(failed);
    }
}

async fn write(
    app: &Arc<App>,
    source: &Source,
    target: &Target,
    records: &[Pending],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), crate::error::AwsError> {
    let mut body = String::new();
    for p in records {
        body.push_str(&p.record.line());
        body.push('\n');
    }
    let unique = format!("{:016X}", rand::thread_rng().gen::<u64>());
    let dated = match target.format {
        KeyFormat::Partitioned { event_time: true } => {
            records.first().map(|p| p.record.time).unwrap_or(now)
        }
        _ => now,
    };
    let key = object_key(
        &target.prefix,
        &target.format,
        (&source.account, &source.region, &source.bucket),
        now,
        dated,
        &unique,
    );
    service_write::put(
        app,
        ServiceWrite {
            service: LOGGING,
            bucket: &target.bucket,
            key,
            body: body.into_bytes(),
            headers: ContentHeaders {
                content_type: Some("text/plain".into()),
                ..Default::default()
            },
            source: ServiceSource {
                source_arn: Some(format!("arn:aws:s3:::{}", source.bucket)),
                source_account: Some(source.account.clone()),
                source_org_id: None,
            },
            region: &source.region,
            metadata: Vec::new(),
        },
    )
    .await
}

//! The digest room: log file integrity validation (spec cloudtrail.md §8). For every trail with
//! log file validation on and logging, one chain of signed digest files per (account, region)
//! whose logs it delivers (its own account and home region always), one digest per
//! `digest_interval`, each listing the log files delivered since the previous one.
//!
//! Exactly once per chain. Delivery records each log file it delivered for a validated trail in
//! `digests.files`, in the commit that advances its cursor. A digest is made in two commits: the
//! first takes the chain's recorded files out of `digests.files` and stores the finished digest
//! (key, bytes, signature) as the chain's pending one; after the PUT, the second moves the
//! chain past it. After a crash the pending digest is PUT again, byte for byte.

pub mod digest;
pub mod keys;

use crate::app::App;
use crate::delivery::write;
use crate::error::AwsError;
use crate::services::cloudtrail::model::{status_key, DeliveryStatus, Trail, STATUS};
use crate::services::cloudtrail::resolve;
use crate::services::organizations::view;
use crate::services::s3::ServiceSource;
use crate::store::{ReaderExt, StoreError, Table, Writer, WriterExt};
use chrono::{DateTime, Utc};
use digest::{Contents, LogFile, Previous};
use flate2::{Compression, GzBuilder};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::io::Write;
use std::sync::Arc;

/// Log files delivered and not yet digested, by `<trail ARN>\0<account>\0<region>\0<bucket>\0<key>`.
pub const FILES: Table = Table("digests.files");
/// Chains by `<trail ARN>\0<account>\0<region>`.
pub const CHAINS: Table = Table("digests.chains");

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Chain {
    /// Where the next digest's window starts (epoch seconds).
    start: i64,
    previous: Option<Previous>,
    pending: Option<Pending>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Pending {
    end: i64,
    bucket: String,
    key: String,
    /// The uncompressed JSON, exactly as hashed and signed.
    body: String,
    signature: String,
}

fn chain_key(arn: &str, account: &str, region: &str) -> Vec<u8> {
    format!("{arn}\0{account}\0{region}").into_bytes()
}

/// Delivery's hook: the log files it just delivered for a validated trail, recorded in the same
/// commit as its cursor advance. Each entry is (account, region, file).
pub fn record_files(
    w: &mut dyn Writer,
    trail_arn: &str,
    files: &[(String, String, LogFile)],
) -> Result<(), StoreError> {
    for (account, region, f) in files {
        let k = format!("{trail_arn}\0{account}\0{region}\0{}\0{}", f.bucket, f.key);
        w.put_json(FILES, k.as_bytes(), f)?;
    }
    Ok(())
}

/// The consumer's loop: one digest per active chain per interval.
pub async fn run(app: Arc<App>) {
    loop {
        tokio::time::sleep(app.settings.digest_interval).await;
        if let Err(e) = cycle(&app).await {
            tracing::error!(error = %e, "digest cycle failed; retrying next interval");
        }
    }
}

pub async fn cycle(app: &Arc<App>) -> Result<(), AwsError> {
    let trails = app
        .store
        .read(|r| resolve::all(r).map_err(|e| StoreError::Backend(e.to_string())))?;
    for t in trails {
        if let Err(e) = trail_digests(app, &t).await {
            tracing::warn!(trail = %t.arn(), error = %e, "digest delivery failed");
        }
    }
    Ok(())
}

fn split3(k: &[u8]) -> Option<(String, String)> {
    let s = String::from_utf8_lossy(k);
    let mut parts = s.split('\0');
    let _arn = parts.next()?;
    Some((parts.next()?.to_string(), parts.next()?.to_string()))
}

async fn trail_digests(app: &Arc<App>, t: &Trail) -> Result<(), AwsError> {
    let arn = t.arn();
    let prefix = format!("{arn}\0").into_bytes();
    let active = t.logging && t.log_file_validation;
    let (mut chains, files) = app.store.read(|r| {
        let chains: Vec<(Vec<u8>, Chain)> = r.scan_prefix_json(CHAINS, &prefix, usize::MAX)?;
        let files: Vec<(Vec<u8>, LogFile)> = r.scan_prefix_json(FILES, &prefix, usize::MAX)?;
        Ok::<_, StoreError>((chains, files))
    })?;
    if active {
        // A chain starts where logging (re)started: the trail's home one, and one for every
        // (account, region) a log file was delivered for.
        let start = t
            .start_logging_time
            .map(|ms| ms / 1000)
            .unwrap_or_else(|| app.clock.now().timestamp());
        let mut wanted = vec![chain_key(&arn, &t.owner, &t.home_region)];
        for (k, _) in &files {
            if let Some((account, region)) = split3(k) {
                wanted.push(chain_key(&arn, &account, &region));
            }
        }
        for k in wanted {
            if !chains.iter().any(|(c, _)| *c == k) {
                chains.push((
                    k,
                    Chain {
                        start,
                        ..Default::default()
                    },
                ));
            }
        }
    }
    if !active && !chains.is_empty() && !stop_delivered(app, t)? {
        // The final digest waits for the log file holding the StopLogging event.
        return Ok(());
    }
    for (k, chain) in chains {
        let Some((account, region)) = split3(&k) else {
            continue;
        };
        // Only the files recorded before this read: later ones go in the next digest.
        let mine = format!("{}\0", String::from_utf8_lossy(&k)).into_bytes();
        let chain_files: Vec<(Vec<u8>, LogFile)> = files
            .iter()
            .filter(|(fk, _)| fk.starts_with(&mine))
            .cloned()
            .collect();
        digest_chain(app, t, &k, chain, &account, &region, chain_files, active).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn digest_chain(
    app: &Arc<App>,
    t: &Trail,
    ck: &[u8],
    mut chain: Chain,
    account: &str,
    region: &str,
    files: Vec<(Vec<u8>, LogFile)>,
    active: bool,
) -> Result<(), AwsError> {
    let pending = match chain.pending.clone() {
        Some(p) => p,
        None => {
            let end = app.clock.now().timestamp();
            if end <= chain.start {
                return Ok(());
            }
            let org = match t.is_organization_trail {
                true => app
                    .store
                    .read(|r| view::organization_of(r, &t.owner))?
                    .filter(|o| o.management_account == t.owner)
                    .map(|o| o.id),
                false => None,
            };
            let end_t = DateTime::<Utc>::from_timestamp(end, 0).unwrap_or_default();
            let key = digest::digest_key(
                t.s3_key_prefix.as_deref(),
                org.as_deref(),
                account,
                region,
                &t.name,
                &t.home_region,
                end_t,
            );
            let signing = signing_key(app, region).await?;
            let log_files: Vec<LogFile> = files.iter().map(|(_, f)| f.clone()).collect();
            let c = Contents {
                account,
                start: DateTime::<Utc>::from_timestamp(chain.start, 0).unwrap_or_default(),
                end: end_t,
                bucket: &t.s3_bucket_name,
                key: &key,
                fingerprint: &signing.fingerprint,
                previous: chain.previous.as_ref(),
                log_files: &log_files,
            };
            let body = digest::body(&c);
            let to_sign = digest::string_to_sign(&c, &body);
            let private = keys::private_key(app.auth.sealer(), &signing)?;
            let signature = tokio::task::spawn_blocking(move || digest::sign(&private, &to_sign))
                .await
                .map_err(AwsError::internal)?;
            let p = Pending {
                end,
                bucket: t.s3_bucket_name.clone(),
                key,
                body: String::from_utf8(body).map_err(AwsError::internal)?,
                signature,
            };
            chain.pending = Some(p.clone());
            let (ck2, c2) = (ck.to_vec(), chain.clone());
            app.store
                .write(move |w| -> Result<(), StoreError> {
                    for (fk, _) in &files {
                        w.delete(FILES, fk)?;
                    }
                    w.put_json(CHAINS, &ck2, &c2)
                })
                .await?;
            p
        }
    };
    let gz = {
        let mut gz = GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), Compression::fast());
        let _ = gz.write_all(pending.body.as_bytes());
        gz.finish().map_err(AwsError::internal)?
    };
    let arn = t.arn();
    let outcome = write::put(
        app,
        write::Delivery {
            bucket: &pending.bucket,
            key: pending.key.clone(),
            body: gz,
            source: ServiceSource {
                source_arn: Some(arn.clone()),
                source_account: Some(t.owner.clone()),
                source_org_id: app
                    .store
                    .read(|r| view::organization_of(r, &t.owner))?
                    .map(|o| o.id),
            },
            region,
            metadata: vec![
                ("signature".into(), pending.signature.clone()),
                (
                    "signature-algorithm".into(),
                    digest::SIGNATURE_ALGORITHM.into(),
                ),
            ],
        },
    )
    .await;
    let status = status_key(&arn, region);
    let now = app.clock.now().timestamp_millis();
    let failed = outcome.as_ref().err().map(|e| e.code.to_string());
    let ck2 = ck.to_vec();
    app.store
        .write(move |w| -> Result<(), StoreError> {
            let mut st: DeliveryStatus = w.get_json(STATUS, &status)?.unwrap_or_default();
            match failed {
                Some(code) => st.latest_digest_delivery_error = Some(code),
                None => {
                    st.latest_digest_delivery_time = Some(now);
                    st.latest_digest_delivery_error = None;
                    if active {
                        let next = Chain {
                            start: pending.end,
                            previous: Some(Previous {
                                hash: hex::encode(Sha256::digest(pending.body.as_bytes())),
                                bucket: pending.bucket,
                                key: pending.key,
                                signature: pending.signature,
                            }),
                            pending: None,
                        };
                        w.put_json(CHAINS, &ck2, &next)?;
                    } else {
                        // Logging stopped or validation off: that was the chain's last digest.
                        w.delete(CHAINS, &ck2)?;
                    }
                }
            }
            w.put_json(STATUS, &status, &st)
        })
        .await?;
    outcome
}

/// Whether delivery has delivered everything up to where the trail stopped logging (always
/// true for a trail still logging, whose validation was turned off).
fn stop_delivered(app: &Arc<App>, t: &Trail) -> Result<bool, AwsError> {
    let Some((_, Some(until))) = t.logging_periods.last().copied() else {
        return Ok(true);
    };
    let cursor: Option<serde_json::Value> = app
        .store
        .read(|r| r.get_json(crate::delivery::CURSORS, t.arn().as_bytes()))?;
    let done = cursor
        .as_ref()
        .and_then(|c| c.get("done"))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    Ok(done + 1 >= until)
}

/// The region's signing key, made (off the writer) when it has none in force.
async fn signing_key(app: &Arc<App>, region: &str) -> Result<keys::KeyPair, AwsError> {
    let now = app.clock.now().timestamp_millis();
    if let Some(k) = app
        .store
        .read(|r| keys::current(r, region, now).map_err(|e| StoreError::Backend(e.to_string())))?
    {
        return Ok(k);
    }
    let sealer = app.auth.sealer().clone();
    let r = region.to_string();
    let fresh = tokio::task::spawn_blocking(move || keys::generate(&sealer, &r, now))
        .await
        .map_err(AwsError::internal)??;
    let r = region.to_string();
    app.store
        .write(move |w| keys::install(w, &r, now, fresh))
        .await
}

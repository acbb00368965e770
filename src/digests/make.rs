//! Making one digest and delivering it: compose and sign it, make it durable as the chain's
//! pending digest (taking its files out of `digests.files`), PUT it as CloudTrail, then move
//! the chain past it.

use super::chains::Due;
use super::digest::{self, Contents, LogFile, Previous};
use super::keys;
use super::{Chain, Pending, CHAINS, FILES};
use crate::app::App;
use crate::delivery::{retired, write};
use crate::error::AwsError;
use crate::services::cloudtrail::model::{status_key, DeliveryStatus, Trail, STATUS};
use crate::store::{ReaderExt, StoreError, WriterExt};
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;

/// The chain's next digest, durable as its pending one; None when its window is still empty
/// (less than a second since the previous one) or the trail is no longer this cycle's.
pub async fn prepare(app: &Arc<App>, t: &Trail, due: &Due) -> Result<Option<Pending>, AwsError> {
    if let Some(p) = &due.chain.pending {
        return Ok(Some(p.clone()));
    }
    let end = app.clock.now().timestamp();
    if end <= due.chain.start {
        return Ok(None);
    }
    let org = app.store.read(|r| crate::delivery::covered_org(r, t))?;
    let end_t = DateTime::<Utc>::from_timestamp(end, 0).unwrap_or_default();
    let key = digest::digest_key(
        t.s3_key_prefix.as_deref(),
        org.as_deref(),
        &due.account,
        &due.region,
        &t.name,
        &t.home_region,
        end_t,
    );
    let signing = signing_key(app, &due.region).await?;
    let private = keys::private_key(app.auth.sealer(), &signing)?;
    let log_files: Vec<LogFile> = due.files.iter().map(|(_, f)| f.clone()).collect();
    let (account, start, bucket) = (
        due.account.clone(),
        due.chain.start,
        t.s3_bucket_name.clone(),
    );
    let previous = due.chain.previous.clone();
    let fingerprint = signing.fingerprint.clone();
    let key2 = key.clone();
    // Serialising, hashing and signing a large digest is CPU work: off the async workers.
    let (body, signature) = tokio::task::spawn_blocking(move || {
        let c = Contents {
            account: &account,
            start: DateTime::<Utc>::from_timestamp(start, 0).unwrap_or_default(),
            end: end_t,
            bucket: &bucket,
            key: &key2,
            fingerprint: &fingerprint,
            previous: previous.as_ref(),
            log_files: &log_files,
        };
        digest::make(&c, &private)
    })
    .await
    .map_err(AwsError::internal)?;
    let p = Pending {
        end,
        bucket: t.s3_bucket_name.clone(),
        key,
        body: String::from_utf8(body).map_err(AwsError::internal)?,
        signature,
        closes: due.closes,
    };
    let mut chain = due.chain.clone();
    chain.pending = Some(p.clone());
    let (ck, stored, owner) = (due.key.clone(), due.stored.clone(), t.clone());
    let files: Vec<Vec<u8>> = due.files.iter().map(|(k, _)| k.clone()).collect();
    let taken = app
        .store
        .write(move |w| -> Result<bool, StoreError> {
            // Nothing changed under the plan (DeleteTrail moving the trail's state away).
            if w.get_json::<Chain>(CHAINS, &ck)? != stored || !retired::owns(w, &owner)? {
                return Ok(false);
            }
            for fk in &files {
                w.delete(FILES, fk)?;
            }
            w.put_json(CHAINS, &ck, &chain)?;
            Ok(true)
        })
        .await?;
    Ok(taken.then_some(p))
}

/// Makes the chain's digest (or takes the pending one), PUTs it and moves the chain on.
pub async fn deliver(app: &Arc<App>, t: &Trail, due: Due) -> Result<(), AwsError> {
    let Some(pending) = prepare(app, t, &due).await? else {
        return Ok(());
    };
    let body = pending.body.clone();
    let gz = tokio::task::spawn_blocking(move || {
        crate::delivery::files::gzip(|gz| gz.write_all(body.as_bytes()))
    })
    .await
    .map_err(AwsError::internal)?;
    let arn = t.arn();
    let outcome = write::put(
        app,
        write::Delivery {
            bucket: &pending.bucket,
            key: pending.key.clone(),
            body: gz,
            source: write::source(app, t)?,
            region: &due.region,
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
    let status = status_key(&arn, &due.region);
    let now = app.clock.now().timestamp_millis();
    let failed = outcome.as_ref().err().map(|e| e.code.to_string());
    let (ck, period, owner) = (due.key.clone(), due.chain.period, t.clone());
    app.store
        .write(move |w| -> Result<(), StoreError> {
            if !retired::owns(w, &owner)? {
                return Ok(());
            }
            if failed.is_none() {
                let next = Chain {
                    period,
                    start: pending.end,
                    previous: Some(Previous {
                        hash: hex::encode(Sha256::digest(pending.body.as_bytes())),
                        bucket: pending.bucket,
                        key: pending.key,
                        signature: pending.signature,
                    }),
                    pending: None,
                    closed: pending.closes,
                };
                w.put_json(CHAINS, &ck, &next)?;
            }
            // A deleted trail has no status to report.
            if !owner.retired {
                let mut st: DeliveryStatus = w.get_json(STATUS, &status)?.unwrap_or_default();
                match failed {
                    Some(code) => st.latest_digest_delivery_error = Some(code),
                    None => {
                        st.latest_digest_delivery_time = Some(now);
                        st.latest_digest_delivery_error = None;
                    }
                }
                w.put_json(STATUS, &status, &st)?;
            }
            Ok(())
        })
        .await?;
    outcome
}

/// The region's signing key, made (off the writer) when it has none in force: keys rotate
/// every `--signing-key-validity` (30 days, as AWS's).
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
    let validity = app.settings.signing_key_validity;
    let fresh = tokio::task::spawn_blocking(move || keys::generate(&sealer, &r, now, validity))
        .await
        .map_err(AwsError::internal)??;
    let r = region.to_string();
    app.store
        .write(move |w| keys::install(w, &r, now, fresh))
        .await
}

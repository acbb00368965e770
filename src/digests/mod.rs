//! The digest room: log file integrity validation (spec cloudtrail.md §8). A validated trail
//! that is logging keeps one chain of signed digest files per (account, region) it covers, one
//! digest per `digest_interval`, each listing the log files delivered since the previous one.
//! Which chains exist and when they end is `chains.rs`; making and delivering one digest is
//! `make.rs`; the file format is `digest.rs`; the signing keys are `keys.rs`.
//!
//! Exactly once per chain. Delivery records each log file it delivered for a validated trail in
//! `digests.files`, in the commit that advances its cursor. A digest is made in two commits: the
//! first takes the chain's recorded files out of `digests.files` and stores the finished digest
//! (key, bytes, signature) as the chain's pending one; after the PUT, the second moves the
//! chain past it. After a crash the pending digest is PUT again, byte for byte.

pub mod chains;
pub mod digest;
pub mod keys;
pub mod make;

use crate::app::App;
use crate::store::{Reader, ReaderExt, StoreError, Table, Writer, WriterExt};
use digest::{LogFile, Previous};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Log files delivered and not yet digested, by
/// `<trail state key>\0<account>\0<region>\0<bucket>\0<key>`.
pub const FILES: Table = Table("digests.files");
/// Chains by `<trail state key>\0<account>\0<region>`.
pub const CHAINS: Table = Table("digests.chains");

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    /// The logging period the chain digests (the first journal sequence number of the trail's
    /// logging period); 0 in chains stored before periods were kept: the current one.
    #[serde(default)]
    pub period: u64,
    /// Where the next digest's window starts (epoch seconds).
    pub start: i64,
    pub previous: Option<Previous>,
    pub pending: Option<Pending>,
    /// Its final digest is delivered (logging stopped, validation off, trail deleted). Kept so
    /// the period is not digested again; `start` is then that digest's end.
    #[serde(default)]
    pub closed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub end: i64,
    pub bucket: String,
    pub key: String,
    /// The uncompressed JSON, exactly as hashed and signed.
    pub body: String,
    pub signature: String,
    /// The chain's final digest: the chain closes once it is delivered.
    #[serde(default)]
    pub closes: bool,
}

pub fn chain_key(state: &str, account: &str, region: &str) -> Vec<u8> {
    format!("{state}\0{account}\0{region}").into_bytes()
}

fn state_prefix(state: &str) -> Vec<u8> {
    format!("{state}\0").into_bytes()
}

/// Delivery's hook: the log files it just delivered for a validated trail, recorded in the same
/// commit as its cursor advance. Each entry is (account, region, file).
pub fn record_files(
    w: &mut dyn Writer,
    state: &str,
    files: &[(String, String, LogFile)],
) -> Result<(), StoreError> {
    for (account, region, f) in files {
        let k = format!("{state}\0{account}\0{region}\0{}\0{}", f.bucket, f.key);
        w.put_json(FILES, k.as_bytes(), f)?;
    }
    Ok(())
}

/// DeleteTrail's hook: a trail's chains and undigested files move to its new state key.
pub fn move_state(w: &mut dyn Writer, from: &str, to: &str) -> Result<(), StoreError> {
    let (old, new) = (state_prefix(from), state_prefix(to));
    for table in [CHAINS, FILES] {
        let rows: Vec<(Vec<u8>, serde_json::Value)> =
            w.scan_prefix_json(table, &old, usize::MAX)?;
        for (k, v) in rows {
            let mut moved = new.clone();
            moved.extend_from_slice(&k[old.len()..]);
            w.put_json(table, &moved, &v)?;
        }
        w.delete_prefix(table, &old)?;
    }
    Ok(())
}

pub fn drop_state(w: &mut dyn Writer, state: &str) -> Result<(), StoreError> {
    w.delete_prefix(CHAINS, &state_prefix(state))?;
    w.delete_prefix(FILES, &state_prefix(state))?;
    Ok(())
}

/// Whether a trail owes no digest: every delivered file digested, every chain closed.
pub fn settled(r: &dyn Reader, state: &str) -> Result<bool, StoreError> {
    let p = state_prefix(state);
    let undigested: Vec<(Vec<u8>, serde_json::Value)> = r.scan_prefix_json(FILES, &p, 1)?;
    if !undigested.is_empty() {
        return Ok(false);
    }
    let chains: Vec<(Vec<u8>, Chain)> = r.scan_prefix_json(CHAINS, &p, usize::MAX)?;
    Ok(chains.iter().all(|(_, c)| c.closed))
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

pub async fn cycle(app: &Arc<App>) -> Result<(), crate::error::AwsError> {
    let trails = app.store.read(crate::delivery::trails)?;
    for t in trails {
        let due = match chains::due(app, &t) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(trail = %t.arn(), error = %e, "digest planning failed");
                continue;
            }
        };
        for d in due {
            if let Err(e) = make::deliver(app, &t, d).await {
                tracing::warn!(trail = %t.arn(), error = %e, "digest delivery failed");
            }
        }
    }
    Ok(())
}

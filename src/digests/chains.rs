//! Which digest chains a trail has and which of them owe a digest this cycle (spec cloudtrail.md
//! §8.5).
//!
//! - While a validated trail logs, every (account, region) it covers has a chain and gets a
//!   digest every period, empty or not: its owner (an organization trail: every account of the
//!   organization) in its home region, or — multi-region — in every region enabled by default
//!   in an account, plus any region a log file was delivered for.
//! - A chain belongs to one logging period. When logging stops (StopLogging, DeleteTrail) or
//!   validation is turned off, each open chain gets one final digest, once the log file holding
//!   the last event is delivered, and is kept closed. Logging again starts new chains whose
//!   first digest has every `previous*` field null: the gap validate-logs reports.

use super::digest::LogFile;
use super::{chain_key, Chain, CHAINS, FILES};
use crate::app::App;
use crate::delivery::{Cursor, CURSORS};
use crate::error::AwsError;
use crate::services::cloudtrail::model::Trail;
use crate::services::organizations::view;
use crate::store::{Reader, ReaderExt, StoreError};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The regions every account has enabled unless it opts out (launched before March 2019);
/// later regions are opt-in, and a multi-region trail digests them only once it delivered a
/// log file there.
pub const DEFAULT_REGIONS: &[&str] = &[
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// One chain's next digest, as planned.
pub struct Due {
    pub key: Vec<u8>,
    pub account: String,
    pub region: String,
    /// The chain as stored when planned (None: it starts with this digest).
    pub stored: Option<Chain>,
    pub chain: Chain,
    /// Its files recorded before the plan; later ones go in the next digest.
    pub files: Vec<(Vec<u8>, LogFile)>,
    /// This is the chain's final digest.
    pub closes: bool,
}

/// The (account, region) pairs a logging trail covers.
pub fn covered(r: &dyn Reader, t: &Trail) -> Result<BTreeSet<(String, String)>, StoreError> {
    let accounts = match crate::delivery::covered_org(r, t)? {
        Some(org) => view::members(r, &org)?,
        None => vec![t.owner.clone()],
    };
    let mut regions = vec![t.home_region.as_str()];
    if t.is_multi_region {
        regions.extend(DEFAULT_REGIONS.iter().filter(|r| **r != t.home_region));
    }
    Ok(accounts
        .iter()
        .flat_map(|a| regions.iter().map(move |r| (a.clone(), r.to_string())))
        .collect())
}

fn split(k: &[u8]) -> Option<(String, String)> {
    let s = String::from_utf8_lossy(k);
    let mut parts = s.split('\0');
    let _state = parts.next()?;
    Some((parts.next()?.to_string(), parts.next()?.to_string()))
}

/// Whether delivery has delivered every event of the logging period starting at `period`
/// (always, for a period still open: validation was turned off while logging).
fn period_delivered(t: &Trail, period: u64, done: u64) -> bool {
    match t.logging_periods.iter().find(|(from, _)| *from == period) {
        Some((_, Some(until))) => done + 1 >= *until,
        _ => true,
    }
}

/// The digests `t` owes now.
pub fn due(app: &Arc<App>, t: &Trail) -> Result<Vec<Due>, AwsError> {
    let Some(&(current, _)) = t.logging_periods.last() else {
        return Ok(Vec::new());
    };
    let state = t.state_key();
    let prefix = format!("{state}\0").into_bytes();
    let active = t.logging && t.log_file_validation;
    let (chains, files, covered, done) = app.store.read(|r| {
        let chains: BTreeMap<Vec<u8>, Chain> = r
            .scan_prefix_json::<Chain>(CHAINS, &prefix, usize::MAX)?
            .into_iter()
            .collect();
        let files: Vec<(Vec<u8>, LogFile)> = r.scan_prefix_json(FILES, &prefix, usize::MAX)?;
        let covered = match active {
            true => covered(r, t)?,
            false => BTreeSet::new(),
        };
        let done = r
            .get_json::<Cursor>(CURSORS, state.as_bytes())?
            .map_or(0, |c| c.done);
        Ok::<_, StoreError>((chains, files, covered, done))
    })?;
    // Chains to serve: those the trail covers while logging, those with files to digest, and
    // those still open (they owe a final digest).
    let accounts: BTreeSet<&String> = covered.iter().map(|(a, _)| a).collect();
    // A chain stays open while the trail covers it: an account that left the organization,
    // or a region a trail no longer covers, gets its final digest.
    let in_scope = |account: &String, region: &String| {
        accounts.contains(account)
            && (t.is_multi_region || covered.contains(&(account.clone(), region.clone())))
    };
    let mut wanted = covered.clone();
    wanted.extend(files.iter().filter_map(|(k, _)| split(k)));
    wanted.extend(
        chains
            .iter()
            .filter(|(_, c)| !c.closed)
            .filter_map(|(k, _)| split(k)),
    );
    let started = t
        .start_logging_time
        .map(|ms| ms / 1000)
        .unwrap_or_else(|| app.clock.now().timestamp());
    let mut out = Vec::new();
    for (account, region) in wanted {
        let key = chain_key(&state, &account, &region);
        let stored = chains.get(&key).cloned();
        let chain = match &stored {
            Some(c) if !c.closed => Chain {
                period: if c.period == 0 { current } else { c.period },
                ..c.clone()
            },
            // A new chain: from when logging started, and never before the end of the chain
            // it follows, so its keys sort after that chain's.
            other => Chain {
                period: current,
                start: started.max(other.as_ref().map_or(0, |c| c.start)),
                ..Default::default()
            },
        };
        let closes = !(active && chain.period == current && in_scope(&account, &region));
        if closes && chain.pending.is_none() && !period_delivered(t, chain.period, done) {
            // The final digest waits for the log file holding the last event.
            continue;
        }
        let mine = [key.as_slice(), b"\0"].concat();
        let files = files
            .iter()
            .filter(|(k, _)| k.starts_with(&mine))
            .cloned()
            .collect();
        out.push(Due {
            key,
            account,
            region,
            stored,
            chain,
            files,
            closes,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_digest_waits_for_the_period_to_be_delivered() {
        let t: Trail = serde_json::from_value(serde_json::json!({
            "name": "t", "owner": "111111111111", "home_region": "us-east-2", "s3_bucket_name": "b",
            "s3_key_prefix": null, "sns_topic_name": null, "include_global_service_events": true,
            "is_multi_region": false, "log_file_validation": true, "cloudwatch_logs_log_group_arn": null,
            "cloudwatch_logs_role_arn": null, "kms_key_id": null, "is_organization_trail": false,
            "has_custom_event_selectors": false, "event_selectors": null,
            "advanced_event_selectors": null, "insight_selectors": null, "tags": [], "logging": false,
            "logging_periods": [[5, 10], [20, null]],
            "start_logging_time": null, "stop_logging_time": null, "created": 0
        }))
        .unwrap();
        assert!(!period_delivered(&t, 5, 8));
        assert!(period_delivered(&t, 5, 9));
        assert!(period_delivered(&t, 20, 0));
    }
}

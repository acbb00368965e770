//! What a recorded call costs past building its entry: appending it to the journal on the
//! request path, reading it back, and indexing it for LookupEvents (issue: recording costs under
//! 15% of GetCallerIdentity throughput).
//!
//! `cargo bench --bench history [-- EVENTS]`. Appends EVENTS GetCallerIdentity entries (default
//! 200,000) to a journal in a temporary data directory, one call at a time as the server does,
//! then times, per event: reading the journal back in the history consumer's batches, and
//! indexing it (reading, posting and the index store's commits). Prints the median of 5 runs.

/// The allocator the server runs with (src/main.rs), so figures match what calls cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cairn::audit::{self, history, CallInfo};
use cairn::auth::{Principal, PrincipalKind};
use cairn::clock::Clock;
use cairn::services::RequestContext;
use cairn::store::{Durability, SqliteEngine, Store};
use std::sync::Arc;
use std::time::Instant;

fn ctx() -> RequestContext {
    RequestContext {
        request_id: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0".into(),
        principal: Principal {
            account: "111111111111".into(),
            kind: PrincipalKind::User {
                name: "admin".into(),
                path: "/".into(),
                id: "AIDAEXAMPLEEXAMPLE01".into(),
            },
            access_key_id: "AKIAEXAMPLEEXAMPLE01".into(),
        },
        region: "us-east-2".into(),
        source_ip: "127.0.0.1".parse().expect("an address"),
        user_agent: "wrk".into(),
        time: chrono::Utc::now(),
        secure: false,
    }
}

fn info() -> CallInfo {
    CallInfo {
        event_source: "sts.amazonaws.com",
        event_name: "GetCallerIdentity".into(),
        region: "us-east-2".into(),
        read_only: true,
        management: true,
        request_parameters: None,
        resources: Vec::new(),
        recipient_account: "111111111111".into(),
        shared_with: None,
        additional_event_data: None,
        lookup_resources: Vec::new(),
    }
}

fn median(mut runs: Vec<f64>) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

fn main() {
    let events: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = Store::new(Arc::new(
        SqliteEngine::open(&dir.path().join("cairn.db"), Durability::Process).expect("journal"),
    ));
    let (clock, ctx, info) = (Clock::default(), ctx(), info());

    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..events {
            let entries = audit::entries(&ctx, &info, Ok(None), &clock);
            journal.append(entries).await.expect("appended");
        }
        journal.settle().await.expect("settled");
    });
    let append = start.elapsed().as_secs_f64() * 1e9 / events as f64;
    println!("build and append one call's entry: {append:.0} ns per call");

    let read: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let (mut after, mut n) = (0, 0);
            loop {
                let batch = journal
                    .read(|r| r.journal_after(after, 20_000))
                    .expect("read back");
                let Some(&(last, _)) = batch.last() else {
                    break;
                };
                after = last;
                n += batch.len();
            }
            assert_eq!(n, events);
            start.elapsed().as_secs_f64() * 1e9 / events as f64
        })
        .collect();
    println!(
        "read the journal back: median {:.0} ns per event",
        median(read)
    );

    let index: Vec<f64> = (0..5)
        .map(|run| {
            let path = dir.path().join(format!("history-{run}.db"));
            let index = Store::new(Arc::new(
                SqliteEngine::open_background(&path, Durability::Process).expect("index"),
            ));
            let start = Instant::now();
            let mut n = 0;
            loop {
                match history::index_once(&journal, &index).expect("indexed") {
                    0 => break,
                    k => n += k,
                }
            }
            assert_eq!(n, events);
            start.elapsed().as_secs_f64() * 1e9 / events as f64
        })
        .collect();
    println!(
        "index for LookupEvents (read, post, commit): median {:.0} ns per event",
        median(index)
    );
}

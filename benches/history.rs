//! What a recorded call costs past building its entry: appending it to the journal on the
//! request path, reading it back, and indexing it for LookupEvents (issue: recording costs under
//! 15% of GetCallerIdentity throughput).
//!
//! `cargo bench --bench history [-- EVENTS]`. Appends EVENTS GetCallerIdentity entries (default
//! 200,000) to a journal in a temporary data directory, one call at a time as the server does,
//! then times, per event: reading the journal back in the history consumer's batches, and
//! indexing it (reading, posting and the index store's commits). Prints the median of 5 runs.

#[path = "calls/mod.rs"]
mod calls;

use cairn::audit::{self, history};
use cairn::clock::Clock;
use cairn::store::{Durability, SqliteEngine, Store};
use std::sync::Arc;
use std::time::Instant;

/// The median of `runs` timings of `f`, in nanoseconds per event; `f` returns how many events
/// it went through, which must be `events`.
fn per_event(events: usize, runs: usize, mut f: impl FnMut(usize) -> usize) -> f64 {
    let mut ns: Vec<f64> = (0..runs)
        .map(|run| {
            let start = Instant::now();
            assert_eq!(f(run), events);
            start.elapsed().as_secs_f64() * 1e9 / events as f64
        })
        .collect();
    ns.sort_by(f64::total_cmp);
    ns[ns.len() / 2]
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
    let (clock, ctx, info) = (
        Clock::default(),
        calls::ctx("wrk"),
        calls::info("GetCallerIdentity", true),
    );

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

    let read = per_event(events, 5, |_| {
        let (mut after, mut n) = (0, 0);
        loop {
            let batch = journal
                .read(|r| r.journal_after(after, 20_000))
                .expect("read back");
            let Some(&(last, _)) = batch.last() else {
                return n;
            };
            after = last;
            n += batch.len();
        }
    });
    println!("read the journal back: median {read:.0} ns per event");

    let index = per_event(events, 5, |run| {
        let path = dir.path().join(format!("history-{run}.db"));
        let index = Store::new(Arc::new(
            SqliteEngine::open_background(&path, Durability::Process).expect("index"),
        ));
        let mut n = 0;
        let mut indexer = history::Indexer::default();
        loop {
            match indexer.index_once(&journal, &index).expect("indexed") {
                0 => return n,
                k => n += k,
            }
        }
    });
    println!("index for LookupEvents (read, post, commit): median {index:.0} ns per event");
}

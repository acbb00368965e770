//! The store's tests. Those of the `Engine` contract are written once over a [`Fixture`] and run
//! on SQLite always and on PostgreSQL when `CAIRN_TEST_DATABASE_URL` names a database (start
//! a throwaway one with `scripts/postgres`); each PostgreSQL test works in a namespace of its
//! own, so they run in parallel on one database. Tests of SQLite's segment files, and of what
//! only PostgreSQL has (replicas, reconnecting), run on their engine alone.

use super::*;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};

const T: Table = Table("t");

/// A store on the database at `path`, as a restart opens it.
fn open_at(path: &std::path::Path) -> Store {
    Store::new(Arc::new(
        SqliteEngine::open(path, Durability::Process).unwrap(),
    ))
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_at(&dir.path().join("s.db"));
    (dir, store)
}

/// Where a test's store lives, so that it can be opened again (a restart, or a replica).
trait Fixture: Sync {
    fn open(&self) -> Store;
}

struct Sqlite(tempfile::TempDir);

impl Sqlite {
    fn new() -> Sqlite {
        Sqlite(tempfile::tempdir().unwrap())
    }
}

impl Fixture for Sqlite {
    fn open(&self) -> Store {
        open_at(&self.0.path().join("s.db"))
    }
}

/// A fresh namespace on the database of `CAIRN_TEST_DATABASE_URL`; its tables are dropped
/// when the test ends.
struct Postgres {
    url: String,
    namespace: String,
}

impl Postgres {
    fn new() -> Option<Postgres> {
        let url = std::env::var("CAIRN_TEST_DATABASE_URL").ok()?;
        let namespace = format!("t_{}", hex::encode(rand::random::<[u8; 6]>()));
        Some(Postgres { url, namespace })
    }

    fn engine(&self) -> PgEngine {
        PgEngine::connect(&self.url, &self.namespace).unwrap()
    }
}

impl Fixture for Postgres {
    fn open(&self) -> Store {
        Store::new(Arc::new(self.engine()))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Err(e) = postgres::drop_namespace(&self.url, &self.namespace) {
            eprintln!("could not drop test namespace {}: {e}", self.namespace);
        }
    }
}

/// Instantiates each named `async fn(&dyn Fixture)` once per engine.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(&super::Sqlite::new()).await
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(fixture) = super::Postgres::new() {
                        super::$name(&fixture).await
                    }
                }
            )*
        }
    };
}

on_both_engines!(
    write_then_read_back_in_key_order,
    failed_write_leaves_nothing,
    concurrent_writes_all_commit_and_journal_is_ordered,
    nested_rollback_keeps_outer_writes,
    prefix_scan_and_delete,
    data_survives_reopen,
    journal_sequence_numbers_are_never_reused,
    appended_records_reach_the_journal_in_order_with_jobs,
    appended_records_survive_a_stop_exactly_once,
    scans_follow_byte_order_with_every_bound,
    a_prefix_of_ff_bytes_deletes_to_the_end,
    a_panicking_job_is_rolled_back_and_the_writer_survives,
    a_rolled_back_append_leaves_no_gap,
    a_read_sees_one_snapshot,
    journal_visit_hands_over_every_record_in_order,
);

async fn write_then_read_back_in_key_order(fx: &dyn Fixture) {
    let store = fx.open();
    store
        .write(|w| -> StoreResult<()> {
            w.put(T, b"b", b"2")?;
            w.put(T, b"a", b"1")?;
            w.put(T, b"c", b"3")?;
            w.put(Table("other"), b"a", b"x")?;
            Ok(())
        })
        .await
        .unwrap();
    let rows = store
        .read(|r| r.scan(T, Bound::Unbounded, Bound::Unbounded, 10, false))
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (b"a".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"2".to_vec()),
            (b"c".to_vec(), b"3".to_vec())
        ]
    );
    let rev = store
        .read(|r| r.scan(T, Bound::Excluded(b"a"), Bound::Included(b"c"), 1, true))
        .unwrap();
    assert_eq!(rev, vec![(b"c".to_vec(), b"3".to_vec())]);
}

async fn failed_write_leaves_nothing(fx: &dyn Fixture) {
    let store = fx.open();
    let r: Result<(), StoreError> = store
        .write(|w| {
            w.put(T, b"k", b"v")?;
            Err(StoreError::Backend("refused".into()))
        })
        .await;
    assert!(r.is_err());
    assert_eq!(store.read(|r| r.get(T, b"k")).unwrap(), None);
}

async fn concurrent_writes_all_commit_and_journal_is_ordered(fx: &dyn Fixture) {
    let store = fx.open();
    let mut handles = Vec::new();
    for i in 0..200u32 {
        let s = store.clone();
        handles.push(tokio::spawn(async move {
            s.write(move |w| -> StoreResult<u64> {
                w.put(T, format!("k{i:04}").as_bytes(), b"v")?;
                w.append_journal(format!("r{i}").as_bytes())
            })
            .await
            .unwrap()
        }));
    }
    let mut seqs = Vec::new();
    for h in handles {
        seqs.push(h.await.unwrap());
    }
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), 200);
    let j = store.read(|r| r.journal_after(0, 1000)).unwrap();
    assert_eq!(j.len(), 200);
    assert!(j.windows(2).all(|w| w[0].0 < w[1].0));
    let later = store.read(|r| r.journal_after(j[149].0, 1000)).unwrap();
    assert_eq!(later.len(), 50);
}

async fn nested_rollback_keeps_outer_writes(fx: &dyn Fixture) {
    let store = fx.open();
    store
        .write(|w| -> StoreResult<()> {
            w.put(T, b"outer", b"1")?;
            let kept = w.nested(&mut |w| {
                w.put(T, b"inner", b"2").unwrap();
                false
            })?;
            assert!(!kept);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(
        store.read(|r| r.get(T, b"outer")).unwrap(),
        Some(b"1".to_vec())
    );
    assert_eq!(store.read(|r| r.get(T, b"inner")).unwrap(), None);
}

async fn prefix_scan_and_delete(fx: &dyn Fixture) {
    let store = fx.open();
    store
        .write(|w| -> StoreResult<()> {
            for k in ["a/1", "a/2", "ab", "b/1"] {
                w.put_json(T, k.as_bytes(), &k.to_string())?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let got: Vec<String> = store
        .read(|r| r.scan_prefix_json::<String>(T, b"a/", 100))
        .unwrap()
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(got, vec!["a/1", "a/2"]);
    let n = store.write(|w| w.delete_prefix(T, b"a")).await.unwrap();
    assert_eq!(n, 3);
    assert_eq!(
        store
            .read(|r| r.scan(T, Bound::Unbounded, Bound::Unbounded, 10, false))
            .unwrap()
            .len(),
        1
    );
}

async fn data_survives_reopen(fx: &dyn Fixture) {
    {
        let store = fx.open();
        store.write(|w| w.put(T, b"k", b"v")).await.unwrap();
    }
    let store = fx.open();
    assert_eq!(store.read(|r| r.get(T, b"k")).unwrap(), Some(b"v".to_vec()));
}

#[test]
fn prefix_end_handles_ff() {
    assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
    assert_eq!(prefix_end(&[0x61, 0xff]), Some(vec![0x62]));
    assert_eq!(prefix_end(&[0xff, 0xff]), None);
}

async fn journal_sequence_numbers_are_never_reused(fx: &dyn Fixture) {
    let store = fx.open();
    let first = store.write(|w| w.append_journal(b"a")).await.unwrap();
    store.write(|w| w.wipe_all()).await.unwrap();
    let second = store.write(|w| w.append_journal(b"b")).await.unwrap();
    assert!(second > first);
    assert_eq!(store.read(|r| r.journal_get(first)).unwrap(), None);
    assert_eq!(
        store.read(|r| r.journal_after(0, 10)).unwrap(),
        vec![(second, b"b".to_vec())]
    );
    // Twice in a row, and across a restart of the engine.
    store.write(|w| w.wipe_all()).await.unwrap();
    store.write(|w| w.wipe_all()).await.unwrap();
    assert_eq!(store.read(|r| r.journal_after(0, 10)).unwrap(), vec![]);
    assert_eq!(store.read(|r| r.journal_head()).unwrap(), second);
    drop(store);
    let store = fx.open();
    let third = store.write(|w| w.append_journal(b"c")).await.unwrap();
    assert!(third > second);
}

fn records(store: &Store) -> Vec<Vec<u8>> {
    store
        .read(|r| r.journal_after(0, 100))
        .unwrap()
        .into_iter()
        .map(|(_, rec)| rec)
        .collect()
}

async fn appended_records_reach_the_journal_in_order_with_jobs(fx: &dyn Fixture) {
    let store = fx.open();
    store.append(vec![b"a".to_vec()]).await.unwrap();
    store
        .append(vec![b"b1".to_vec(), b"b2".to_vec()])
        .await
        .unwrap();
    // A job queued after an acknowledged append commits after it.
    store.write(|w| w.append_journal(b"job")).await.unwrap();
    store.append(vec![b"c".to_vec()]).await.unwrap();
    store.settle().await.unwrap();
    assert_eq!(
        records(&store),
        [&b"a"[..], b"b1", b"b2", b"job", b"c"].map(|r| r.to_vec())
    );
}

async fn appended_records_survive_a_stop_exactly_once(fx: &dyn Fixture) {
    let store = fx.open();
    for i in 0..50u32 {
        store.append(vec![i.to_be_bytes().to_vec()]).await.unwrap();
    }
    // Stopped right away (on SQLite, within the import pace: what was not imported yet is
    // imported on start).
    drop(store);
    for _ in 0..2 {
        let store = fx.open();
        store.settle().await.unwrap();
        let expected: Vec<Vec<u8>> = (0..50u32).map(|i| i.to_be_bytes().to_vec()).collect();
        assert_eq!(records(&store), expected);
    }
}

/// Keys compare as bytes (memcmp, then length), bytes of 0x80 and above included, under every
/// combination of bounds, in both directions.
async fn scans_follow_byte_order_with_every_bound(fx: &dyn Fixture) {
    let store = fx.open();
    let keys: Vec<Vec<u8>> = [
        &b""[..],
        &[0x00],
        &[0x00, 0x00],
        &[0x01],
        b"a",
        b"ab",
        &[0x7f],
        &[0x80],
        &[0x80, 0x00],
        &[0xc3, 0xa9],
        &[0xfe, 0xff],
        &[0xff],
        &[0xff, 0x00],
        &[0xff, 0xff],
    ]
    .iter()
    .map(|k| k.to_vec())
    .collect();
    let model: BTreeMap<Vec<u8>, Vec<u8>> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), vec![i as u8]))
        .collect();
    let rows = model.clone();
    store
        .write(move |w| -> StoreResult<()> {
            for (k, v) in &rows {
                w.put(T, k, v)?;
                // Another table with the same keys stays out of every scan of `T`.
                w.put(Table("t2"), k, b"other")?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let points: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x7f],
        vec![0x80],
        vec![0x80, 0x00],
        vec![0xff],
        vec![0xff, 0xff, 0xff],
    ];
    let mut bounds: Vec<Bound<&[u8]>> = vec![Bound::Unbounded];
    for p in &points {
        bounds.push(Bound::Included(p));
        bounds.push(Bound::Excluded(p));
    }
    let inside = |k: &[u8], from: &Bound<&[u8]>, to: &Bound<&[u8]>| {
        (match from {
            Bound::Unbounded => true,
            Bound::Included(f) => k >= *f,
            Bound::Excluded(f) => k > *f,
        }) && (match to {
            Bound::Unbounded => true,
            Bound::Included(t) => k <= *t,
            Bound::Excluded(t) => k < *t,
        })
    };
    store
        .read(|r| {
            for from in &bounds {
                for to in &bounds {
                    for reverse in [false, true] {
                        for limit in [100, 2] {
                            let mut want: Vec<Row> = model
                                .iter()
                                .filter(|(k, _)| inside(k, from, to))
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect();
                            if reverse {
                                want.reverse();
                            }
                            want.truncate(limit);
                            let got = r.scan(T, *from, *to, limit, reverse)?;
                            assert_eq!(got, want, "{from:?}..{to:?} reverse {reverse}");
                        }
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

async fn a_prefix_of_ff_bytes_deletes_to_the_end(fx: &dyn Fixture) {
    let store = fx.open();
    store
        .write(|w| -> StoreResult<()> {
            for k in [&[0xfe][..], &[0xff], &[0xff, 0xff], &[0xff, 0xff, 0x01]] {
                w.put(T, k, b"v")?;
            }
            Ok(())
        })
        .await
        .unwrap();
    // No key follows every key starting with ff ff: the deletion runs to the end of the table.
    let n = store
        .write(|w| w.delete_prefix(T, &[0xff, 0xff]))
        .await
        .unwrap();
    assert_eq!(n, 2);
    let left: Vec<Vec<u8>> = store
        .read(|r| r.scan(T, Bound::Unbounded, Bound::Unbounded, 10, false))
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(left, vec![vec![0xfe], vec![0xff]]);
}

async fn a_panicking_job_is_rolled_back_and_the_writer_survives(fx: &dyn Fixture) {
    let store = fx.open();
    let before = store.write(|w| w.append_journal(b"before")).await.unwrap();
    let panicked: StoreResult<()> = store
        .write(|w| {
            w.put(T, b"half", b"done")?;
            w.append_journal(b"lost")?;
            w.nested(&mut |w| {
                w.put(T, b"deeper", b"too").unwrap();
                panic!("a job panics (this panic is expected)");
            })?;
            Ok(())
        })
        .await;
    assert!(panicked.is_err());
    let after = store.write(|w| w.append_journal(b"after")).await.unwrap();
    assert_eq!(
        after,
        before + 1,
        "the panicked job's number was given back"
    );
    assert_eq!(store.read(|r| r.get(T, b"half")).unwrap(), None);
    assert_eq!(store.read(|r| r.get(T, b"deeper")).unwrap(), None);
    assert_eq!(records(&store), vec![b"before".to_vec(), b"after".to_vec()]);
}

/// A record appended in a rolled-back nested transaction leaves no hole in the journal, and
/// `journal_head` inside a job is the number the next append gets minus one (StartLogging
/// relies on it).
async fn a_rolled_back_append_leaves_no_gap(fx: &dyn Fixture) {
    let store = fx.open();
    let (head, first, second) = store
        .write(|w| -> StoreResult<_> {
            let head = w.journal_head()?;
            let first = w.append_journal(b"first")?;
            w.nested(&mut |w| {
                w.append_journal(b"undone").unwrap();
                false
            })?;
            let second = w.append_journal(b"second")?;
            Ok((head, first, second))
        })
        .await
        .unwrap();
    assert_eq!((first, second), (head + 1, head + 2));
    assert_eq!(store.read(|r| r.journal_head()).unwrap(), second);
    assert_eq!(
        store.read(|r| r.journal_after(0, 10)).unwrap(),
        vec![(first, b"first".to_vec()), (second, b"second".to_vec())]
    );
}

async fn a_read_sees_one_snapshot(fx: &dyn Fixture) {
    let store = fx.open();
    store.write(|w| w.put(T, b"k", b"old")).await.unwrap();
    let (first, second, head_first, head_second) = store
        .read(|r| {
            let first = r.get(T, b"k")?;
            let head_first = r.journal_head()?;
            store.write_blocking(|w| -> StoreResult<()> {
                w.put(T, b"k", b"new")?;
                w.append_journal(b"meanwhile").map(|_| ())
            })?;
            Ok((first, r.get(T, b"k")?, head_first, r.journal_head()?))
        })
        .unwrap();
    assert_eq!(first, Some(b"old".to_vec()));
    assert_eq!(second, first, "a commit during the read stays out of it");
    assert_eq!(head_second, head_first);
    assert_eq!(
        store.read(|r| r.get(T, b"k")).unwrap(),
        Some(b"new".to_vec())
    );
}

async fn journal_visit_hands_over_every_record_in_order(fx: &dyn Fixture) {
    let store = fx.open();
    let first = store
        .write(|w| -> StoreResult<u64> {
            let first = w.append_journal(&0u32.to_be_bytes())?;
            for i in 1..10u32 {
                w.append_journal(&i.to_be_bytes())?;
            }
            Ok(first)
        })
        .await
        .unwrap();
    // More than one round trip's worth for PostgreSQL's visit.
    store
        .append((10..2500u32).map(|i| i.to_be_bytes().to_vec()).collect())
        .await
        .unwrap();
    store.settle().await.unwrap();
    let mut all = Vec::new();
    let n = store
        .read(|r| r.journal_visit(0, 3000, &mut |seq, rec| all.push((seq, rec.to_vec()))))
        .unwrap();
    assert_eq!(n, 2500);
    let want: Vec<(u64, Vec<u8>)> = (0..2500u32)
        .map(|i| (first + u64::from(i), i.to_be_bytes().to_vec()))
        .collect();
    assert_eq!(all, want);
    let middle = store.read(|r| r.journal_after(first + 99, 1500)).unwrap();
    assert_eq!(middle, want[100..1600].to_vec());
    assert_eq!(store.read(|r| r.journal_after(0, 0)).unwrap(), vec![]);
    assert_eq!(
        store.read(|r| r.journal_get(first + 2499)).unwrap(),
        Some(2499u32.to_be_bytes().to_vec())
    );
    assert_eq!(store.read(|r| r.journal_get(first + 2500)).unwrap(), None);
    assert_eq!(store.read(|r| r.journal_head()).unwrap(), first + 2499);
}

// PostgreSQL only.

/// Two replicas (engines on one namespace) commit concurrently while a consumer follows the
/// journal by cursor: it never misses a record (a commit landing behind its cursor would be
/// missed for good), the journal has no holes, and read-modify-write loses no update.
#[test]
fn replicas_commit_in_journal_order_behind_no_cursor() {
    let Some(fx) = Postgres::new() else { return };
    let replicas = [fx.open(), fx.open()];
    let watcher = fx.open();
    const THREADS: usize = 4;
    const JOBS: usize = 40;
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut cursor = 0;
            let mut seen = Vec::new();
            loop {
                // Read before polling: the last poll then starts after every commit.
                let last = stop.load(Ordering::Acquire);
                for (seq, _) in watcher.read(|r| r.journal_after(cursor, 10_000)).unwrap() {
                    assert!(seq > cursor);
                    seen.push(seq);
                    cursor = seq;
                }
                if last {
                    return seen;
                }
            }
        })
    };
    let mut writers = Vec::new();
    for (r, store) in replicas.iter().enumerate() {
        for t in 0..THREADS {
            let store = store.clone();
            writers.push(std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                let mut mine = Vec::new();
                for j in 0..JOBS {
                    let seqs = store
                        .write_blocking(move |w| -> StoreResult<Vec<u64>> {
                            let n = w
                                .get(T, b"counter")?
                                .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()));
                            w.put(T, b"counter", &(n + 1).to_be_bytes())?;
                            let mut seqs =
                                vec![w.append_journal(format!("{r}/{t}/{j}").as_bytes())?];
                            if j % 3 == 0 {
                                seqs.push(w.append_journal(b"second")?);
                            }
                            Ok(seqs)
                        })
                        .unwrap();
                    mine.extend(seqs);
                    if t % 2 == 0 {
                        // Records of read-only calls take the writer's batch path.
                        rt.block_on(store.append(vec![b"read".to_vec(), b"only".to_vec()]))
                            .unwrap();
                    }
                }
                mine
            }));
        }
    }
    let mut acknowledged: Vec<u64> = writers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    stop.store(true, Ordering::Release);
    let seen = poller.join().unwrap();
    let store = fx.open();
    let all: Vec<u64> = store
        .read(|r| r.journal_after(0, 100_000))
        .unwrap()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(seen, all, "the consumer saw every record, in order");
    let appended = 2 * THREADS / 2 * JOBS * 2;
    let by_jobs = 2 * THREADS * (JOBS + JOBS.div_ceil(3));
    assert_eq!(all, (1..=(by_jobs + appended) as u64).collect::<Vec<_>>());
    acknowledged.sort();
    acknowledged.dedup();
    assert_eq!(
        acknowledged.len(),
        by_jobs,
        "every job got numbers of its own"
    );
    let counter = store.read(|r| r.get(T, b"counter")).unwrap().unwrap();
    assert_eq!(
        u64::from_be_bytes(counter.try_into().unwrap()),
        (2 * THREADS * JOBS) as u64,
        "no lost update"
    );
}

/// After the server drops the engine's connections (as a restart does), reads and writes work
/// again by themselves; what fails meanwhile says the database is unavailable, and a write
/// whose commit broke off is reported failed, never done.
#[tokio::test]
async fn the_engine_reconnects_after_its_connections_break() {
    let Some(fx) = Postgres::new() else { return };
    let app = format!("cairn/{}", fx.namespace);
    let store = fx.open();
    store.write(|w| w.put(T, b"k", b"1")).await.unwrap();
    assert_eq!(store.read(|r| r.get(T, b"k")).unwrap(), Some(b"1".to_vec()));
    postgres::terminate_connections(&fx.url, &app).unwrap();
    until_it_works(&store, b"2").await;
    // The connection breaks in the middle of a transaction: its commit cannot succeed.
    let (url, name) = (fx.url.clone(), app.clone());
    let broken = store
        .write(move |w| -> StoreResult<()> {
            w.put(T, b"k", b"lost")?;
            postgres::terminate_connections(&url, &name)
        })
        .await;
    assert!(
        matches!(broken, Err(StoreError::Unavailable(_))),
        "{broken:?}"
    );
    let after = loop {
        match store.read(|r| r.get(T, b"k")) {
            Err(StoreError::Unavailable(_)) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            r => break r.unwrap(),
        }
    };
    assert_eq!(after, Some(b"2".to_vec()), "the broken write left nothing");
    until_it_works(&store, b"3").await;
    let seq = store.write(|w| w.append_journal(b"again")).await.unwrap();
    assert_eq!(
        store.read(|r| r.journal_get(seq)).unwrap(),
        Some(b"again".to_vec())
    );
}

/// Writes `value` and reads it back until both work, for at most 10 s.
async fn until_it_works(store: &Store, value: &'static [u8]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let written = store.write(move |w| w.put(T, b"k", value)).await;
        let read = store.read(|r| r.get(T, b"k"));
        match (written, read) {
            (Ok(()), Ok(Some(v))) if v == value => return,
            (written, read) => {
                for e in [written.err(), read.err()].into_iter().flatten() {
                    assert!(matches!(e, StoreError::Unavailable(_)), "{e}");
                }
            }
        }
        assert!(std::time::Instant::now() < deadline, "no reconnection");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Processes starting together on a new namespace create its tables once, without failing.
#[test]
fn engines_starting_together_create_the_tables_once() {
    let Some(fx) = Postgres::new() else { return };
    let fx = Arc::new(fx);
    let starts: Vec<_> = (0..6)
        .map(|_| {
            let fx = fx.clone();
            std::thread::spawn(move || PgEngine::connect(&fx.url, &fx.namespace).map(|_| ()))
        })
        .collect();
    for s in starts {
        s.join().unwrap().unwrap();
    }
}

/// Two namespaces on one database (the state and the event-history index) see nothing of each
/// other.
#[tokio::test]
async fn namespaces_keep_to_themselves() {
    let (Some(a), Some(b)) = (Postgres::new(), Postgres::new()) else {
        return;
    };
    let (a, b) = (a.open(), b.open());
    a.write(|w| -> StoreResult<()> {
        w.put(T, b"k", b"a")?;
        w.append_journal(b"a").map(|_| ())
    })
    .await
    .unwrap();
    assert_eq!(b.read(|r| r.get(T, b"k")).unwrap(), None);
    assert_eq!(b.read(|r| r.journal_head()).unwrap(), 0);
    assert_eq!(b.write(|w| w.append_journal(b"b")).await.unwrap(), 1);
    assert!(matches!(
        PgEngine::connect("postgres://nobody@127.0.0.1:1/x", "Bad-Name"),
        Err(StoreError::Backend(_))
    ));
}

/// A database nobody listens on: connecting says it is unavailable.
#[test]
fn an_unreachable_database_is_unavailable() {
    let r = PgEngine::connect("postgres://nobody@127.0.0.1:1/x?connect_timeout=2", "cairn");
    assert!(
        matches!(r, Err(StoreError::Unavailable(_))),
        "{:?}",
        r.err()
    );
}

// SQLite only: the journal's segment files.

#[tokio::test]
async fn a_wipe_takes_segment_records_and_files_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = open_at(&path);
    store.append(vec![b"before".to_vec()]).await.unwrap();
    store.write(|w| w.wipe_all()).await.unwrap();
    store.append(vec![b"after".to_vec()]).await.unwrap();
    store.settle().await.unwrap();
    // The files before the reset are gone; the one being written stays.
    let files = || {
        std::fs::read_dir(dir.path().join("s.journal"))
            .unwrap()
            .count()
    };
    assert_eq!(files(), 2, "the lock and one segment");
    // A file the reset's deletion missed (a stop right after its commit) goes at the next start.
    let stale = dir.path().join("s.journal").join(format!("{:020}.seg", 1));
    std::fs::write(&stale, b"CAIRNSTG").unwrap();
    drop(store);
    let store = open_at(&path);
    store.settle().await.unwrap();
    assert_eq!(records(&store), vec![b"after".to_vec()]);
    assert!(!stale.exists());
}

#[tokio::test]
async fn runs_read_back_by_position_and_by_sequence_number() {
    let (_d, store) = open();
    let inline = store.write(|w| w.append_journal(b"inline")).await.unwrap();
    for i in 0..10u8 {
        store.append(vec![vec![b'r', i]]).await.unwrap();
    }
    store.settle().await.unwrap();
    let all = store.read(|r| r.journal_after(0, 100)).unwrap();
    assert_eq!(all.len(), 11);
    assert_eq!(all[0], (inline, b"inline".to_vec()));
    let seqs: Vec<u64> = all.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (inline..inline + 11).collect::<Vec<_>>(),
        "one number per record"
    );
    // From inside a run, and a limit that ends inside one.
    let middle = store.read(|r| r.journal_after(inline + 3, 4)).unwrap();
    assert_eq!(middle, all[4..8].to_vec());
    for (seq, rec) in &all {
        assert_eq!(
            store.read(|r| r.journal_get(*seq)).unwrap().as_ref(),
            Some(rec)
        );
    }
    assert_eq!(store.read(|r| r.journal_get(inline + 11)).unwrap(), None);
    assert_eq!(store.read(|r| r.journal_head()).unwrap(), inline + 10);
    // A job's record follows the run.
    let after = store.write(|w| w.append_journal(b"job")).await.unwrap();
    assert_eq!(after, inline + 11);
}

#[tokio::test]
async fn a_former_staging_file_is_imported_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(open_at(&path));
    // What a former version left: a staging file with one record past its committed position.
    let mut bytes = b"CAIRNSTG".to_vec();
    bytes.extend_from_slice(&3u64.to_le_bytes());
    let payload = [&4u32.to_le_bytes()[..], b"left"].concat();
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    std::fs::write(dir.path().join("s.stage"), &bytes).unwrap();
    for _ in 0..2 {
        let store = open_at(&path);
        assert_eq!(records(&store), vec![b"left".to_vec()]);
    }
    assert!(!dir.path().join("s.stage").exists());
}

#[tokio::test]
async fn power_durability_appends_through_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(Arc::new(
        SqliteEngine::open(&dir.path().join("s.db"), Durability::Power).unwrap(),
    ));
    store.append(vec![b"a".to_vec()]).await.unwrap();
    // Committed (and fsynced) before the append returned: no settling needed.
    assert_eq!(records(&store), vec![b"a".to_vec()]);
    assert!(!dir.path().join("s.journal").exists(), "no segment files");
}

#[tokio::test]
async fn a_second_opener_leaves_the_segment_files_to_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let owner = open_at(&path);
    owner.append(vec![b"owner-1".to_vec()]).await.unwrap();
    // Another process's engine on the same data (an admin command beside the server).
    let other = open_at(&path);
    other.append(vec![b"other".to_vec()]).await.unwrap();
    assert!(
        records(&other).contains(&b"other".to_vec()),
        "through its writer"
    );
    owner.append(vec![b"owner-2".to_vec()]).await.unwrap();
    drop(other);
    owner.settle().await.unwrap();
    let mut got = records(&owner);
    got.sort();
    assert_eq!(
        got,
        [&b"other"[..], b"owner-1", b"owner-2"].map(|r| r.to_vec())
    );
    drop(owner);
    let again = open_at(&path);
    again.settle().await.unwrap();
    assert_eq!(records(&again).len(), 3, "nothing imported twice");
}

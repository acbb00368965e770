//! The embedded engine: one SQLite database file in the data directory (WAL mode).
//!
//! One thread owns the write connection and commits queued jobs in groups: a burst of
//! concurrent calls costs one commit, not one each. Readers use a small pool of their own
//! connections and never wait for the writer (WAL gives them a snapshot).

use super::segments::{self, Position, Run, Segments, Shelf};
use super::{AppendDone, Engine, Reader, Row, StoreError, StoreResult, Table, WriteJob, Writer};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::cell::RefCell;
use std::ops::Bound;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How many queued jobs one commit takes at most; bounds the latency a burst adds to its first call.
const MAX_GROUP: usize = 1024;
/// How often the checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY_MS: u64 = 200;
/// WAL pages (4 KiB) after which the writer checkpoints and restarts the WAL.
const AUTOCHECKPOINT_PAGES: u32 = 256;
/// The same two for a database of derived data nobody waits on (the event-history index).
/// Its commits rewrite mostly the same pages (each list's newest leaf) batch after batch: a
/// WAL that spans several batches copies each such page once per checkpoint, not once per
/// batch. Commit latency does not matter there.
const BACKGROUND_CHECKPOINT_EVERY_MS: u64 = 2000;
const BACKGROUND_AUTOCHECKPOINT_PAGES: u32 = 4096;
/// Prepared statements kept per connection (scans with different bounds are distinct statements).
const STATEMENT_CACHE: usize = 128;
/// Read connections kept open between reads.
const READ_POOL: usize = 8;
/// How long records in the segments may wait to be entered in the journal when no job comes
/// first: each entry is one commit, and each wakes the writer twice (told, then timed out), so
/// pacing them turns a commit per call into one per few hundred calls under load (at 10 ms the
/// writer took 0.3 µs per recorded call besides faulting pages in, at 25 ms half that). Calls
/// do not wait for it: their records are durable in the segment files already. Readers that
/// must see every record so far (LookupEvents) settle the store first.
const IMPORT_PACE: Duration = Duration::from_millis(25);
/// Where the journal table records how far the segment files have been entered.
const SEGMENTS_POSITION: (&str, &[u8]) = ("journal-stage", b"segments");
/// Where a reset notes the generation the segment files before which no row names any more:
/// a start deletes them, should the reset's own deletion not have happened.
const PRUNE_BELOW: (&str, &[u8]) = ("journal-stage", b"prune-below");
/// Where a former version recorded how far its single staging file had been imported.
const LEGACY_POSITION: (&str, &[u8]) = ("journal-stage", b"position");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// A commit survives a crash of the process (kill -9); the OS may still lose the last
    /// commits on power loss. SQLite's `synchronous=NORMAL` in WAL mode.
    Process,
    /// Every commit is fsynced before it is acknowledged (`synchronous=FULL`).
    Power,
}

pub struct SqliteEngine {
    /// Tells the checkpointer to finish.
    stop: Arc<AtomicBool>,
    path: PathBuf,
    /// `Sender` is `Sync`: calls queue concurrently without a lock of ours.
    jobs: mpsc::Sender<Queued>,
    readers: Mutex<Vec<Connection>>,
    /// Where records of read-only calls are written (see `segments`); none when every commit
    /// is fsynced (`Durability::Power`), where a record must take the writer's fsync, and when
    /// another process owns the segments.
    stage: Option<Arc<Segments>>,
    /// Reads the runs the journal table names.
    shelf: Arc<Shelf>,
    /// How many of the writer's commits have succeeded (see `Engine::commits`).
    commits: Arc<AtomicU64>,
}

/// What waits for the writer: a transaction job, or bare journal records.
enum Queued {
    Job(WriteJob),
    Append(Vec<Vec<u8>>, AppendDone),
    /// Records wait in the segment files.
    Import,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn backend_from(e: rusqlite::types::FromSqlError) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A run row whose records do not read back whole from their segment file.
fn run_corrupt(last: u64, e: std::io::Error) -> StoreError {
    StoreError::Corrupt {
        table: "journal",
        reason: format!("run row {last}: {e}"),
    }
}

/// The journal's sequence numbers are never reused, not even after a reset wipes it: consumers'
/// cursors and in-flight batches then can never mistake a new record for an old one. SQLite's
/// AUTOINCREMENT would guarantee that at the price of a second table updated on every insert (an
/// extra WAL page per commit, a tenth of recorded throughput); instead a wipe leaves the newest
/// sequence number behind as an empty row, which no consumer decodes, and new records follow it.
///
/// A journal row is either one record (`first` NULL, `rec` the record) or a run of records in
/// a segment file (`rec` the encoded `Run`): sequence numbers `first..=seq`.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (tbl TEXT NOT NULL, k BLOB NOT NULL, v BLOB NOT NULL, PRIMARY KEY (tbl, k)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, rec BLOB NOT NULL, first INTEGER);
";

impl SqliteEngine {
    pub fn open(path: &Path, durability: Durability) -> StoreResult<SqliteEngine> {
        Self::open_with(path, durability, false)
    }

    /// An engine for derived data nobody waits on (the event-history index): its writer runs
    /// at background priority.
    pub fn open_background(path: &Path, durability: Durability) -> StoreResult<SqliteEngine> {
        Self::open_with(path, durability, true)
    }

    fn open_with(
        path: &Path,
        durability: Durability,
        background: bool,
    ) -> StoreResult<SqliteEngine> {
        let conn = Connection::open(path).map_err(backend)?;
        let sync = match durability {
            Durability::Process => "NORMAL",
            Durability::Power => "FULL",
        };
        // The writer checkpoints every AUTOCHECKPOINT_PAGES itself: under sustained writes only
        // the writer can restart the WAL, and a short WAL keeps each of those checkpoints (and
        // the commit that runs it) short. Measured at 16 connections of recorded calls: 256
        // pages gave a p99 of 4.5 ms, 1,000 pages 7.5 ms, 16,384 pages 60 ms stalls.
        let autocheckpoint = if background {
            BACKGROUND_AUTOCHECKPOINT_PAGES
        } else {
            AUTOCHECKPOINT_PAGES
        };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA busy_timeout=10000; \
             PRAGMA wal_autocheckpoint={autocheckpoint}; {SCHEMA}"
        ))
        .map_err(backend)?;
        add_run_column(&conn)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let shelf = Arc::new(Shelf::new(&path.with_extension("journal")));
        let stage = match durability {
            Durability::Process if !background => recover_segments(&conn, path, &shelf)?,
            _ => None,
        }
        .map(Arc::new);
        let (tx, rx) = mpsc::channel::<Queued>();
        let commits = Arc::new(AtomicU64::new(0));
        let writer = Ctx {
            stage: stage.clone(),
            shelf: shelf.clone(),
            commits: commits.clone(),
        };
        std::thread::Builder::new()
            .name(thread_name(background, "writer"))
            .spawn(move || {
                if background {
                    crate::background::lower_priority();
                }
                writer_loop(conn, rx, writer)
            })
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let checkpoints = Connection::open(path).map_err(backend)?;
        checkpoints
            .execute_batch("PRAGMA busy_timeout=10000;")
            .map_err(backend)?;
        std::thread::Builder::new()
            .name(thread_name(background, "checkpoint"))
            .spawn({
                let stop = stop.clone();
                move || checkpoint_loop(checkpoints, stop, background)
            })
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(SqliteEngine {
            stop,
            path: path.to_path_buf(),
            jobs: tx,
            readers: Mutex::new(Vec::new()),
            stage,
            shelf,
            commits,
        })
    }

    fn queue(&self, q: Queued) -> StoreResult<()> {
        self.jobs.send(q).map_err(|_| StoreError::Closed)
    }

    fn reader_conn(&self) -> StoreResult<Connection> {
        if let Some(c) = self.readers.lock().expect("reader pool").pop() {
            return Ok(c);
        }
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(backend)?;
        c.execute_batch("PRAGMA busy_timeout=10000;")
            .map_err(backend)?;
        Ok(c)
    }
}

impl Engine for SqliteEngine {
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> StoreResult<()>) -> StoreResult<()> {
        let conn = self.reader_conn()?;
        exec_cached(&conn, "BEGIN")?;
        let result = f(&Sql::new(&conn, None, &self.shelf));
        let end = exec_cached(&conn, "COMMIT");
        let mut pool = self.readers.lock().expect("reader pool");
        if pool.len() < READ_POOL && end.is_ok() {
            pool.push(conn);
        }
        result.and(end)
    }

    fn submit(&self, job: WriteJob) -> StoreResult<()> {
        self.queue(Queued::Job(job))
    }

    fn append(&self, records: Vec<Vec<u8>>, done: AppendDone) -> StoreResult<()> {
        match self.append_here(&records) {
            None => self.queue(Queued::Append(records, done)),
            Some(Ok(())) => {
                done(Ok(()));
                Ok(())
            }
            Some(Err(e)) => Err(e),
        }
    }

    fn append_here(&self, records: &[Vec<u8>]) -> Option<StoreResult<()>> {
        let stage = self.stage.as_ref()?;
        if records.is_empty() {
            // A call nobody receives a record of: nothing to make durable.
            return Some(Ok(()));
        }
        Some(
            stage
                .stage(records)
                .map_err(|e| StoreError::Backend(format!("journal segment file: {e}")))
                .and_then(|tell_writer| match tell_writer {
                    true => self.queue(Queued::Import),
                    false => Ok(()),
                }),
        )
    }

    fn stages_appends(&self) -> bool {
        self.stage.is_some()
    }

    fn commits(&self) -> Option<u64> {
        Some(self.commits.load(Ordering::Acquire))
    }
}

/// Copies committed WAL pages into the database file every little while, so the WAL stays
/// small and a quiet database's WAL is copied too. PASSIVE never blocks the writer or readers;
/// it does what it can and tries again.
fn checkpoint_loop(conn: Connection, stop: Arc<AtomicBool>, background: bool) {
    // The main database's checkpointer keeps normal priority: when it falls behind, the writer
    // ends up copying the WAL itself, on the path of a commit.
    if background {
        crate::background::lower_priority();
    }
    let every = std::time::Duration::from_millis(if background {
        BACKGROUND_CHECKPOINT_EVERY_MS
    } else {
        CHECKPOINT_EVERY_MS
    });
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(every);
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

impl Drop for SqliteEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `cairn-store-<role>`, or `cairn-index-<role>` for a database of derived data: the two
/// stay apart in `top -H` and `/proc` (which keep 15 bytes of a name).
fn thread_name(background: bool, role: &str) -> String {
    let db = if background { "index" } else { "store" };
    format!("cairn-{db}-{role}")
}

/// Adds the `first` column of run rows to a journal table made before there were runs.
fn add_run_column(conn: &Connection) -> StoreResult<()> {
    let has = conn
        .prepare("SELECT 1 FROM pragma_table_info('journal') WHERE name = 'first'")
        .and_then(|mut st| st.exists([]))
        .map_err(backend)?;
    if !has {
        match conn.execute_batch("ALTER TABLE journal ADD COLUMN first INTEGER") {
            // Another process opening the same data directory added it first.
            Err(e) if e.to_string().contains("duplicate column") => {}
            r => r.map_err(backend)?,
        }
    }
    Ok(())
}

/// Runs `f` in one immediate transaction on the writer's connection, before the writer starts.
fn in_transaction(
    conn: &Connection,
    shelf: &Shelf,
    f: impl FnOnce(&mut Sql) -> StoreResult<()>,
) -> StoreResult<()> {
    exec_cached(conn, "BEGIN IMMEDIATE")?;
    let done = f(&mut Sql::new(conn, None, shelf));
    let end = exec_cached(conn, if done.is_ok() { "COMMIT" } else { "ROLLBACK" });
    done.and(end)
}

/// Takes ownership of the segment files and enters what a previous run wrote to them but did
/// not enter (and what a former version's staging file still held), then starts a new
/// generation. None when another process owns them (it enters them).
fn recover_segments(conn: &Connection, db: &Path, shelf: &Shelf) -> StoreResult<Option<Segments>> {
    let io = |e: std::io::Error| StoreError::Backend(format!("journal segment files: {e}"));
    let dir = shelf.dir();
    let kv_get = |(tbl, k): (&'static str, &[u8])| Sql::new(conn, None, shelf).get(Table(tbl), k);
    let Some(owner) = segments::own(dir).map_err(io)? else {
        tracing::info!(
            "another process owns the journal segment files; records go through the writer"
        );
        return Ok(None);
    };
    let legacy = db.with_extension("stage");
    if legacy.exists() {
        let committed = kv_get(LEGACY_POSITION)?.and_then(|v| Position::decode(&v));
        let records = segments::legacy_leftover(&legacy, committed).map_err(io)?;
        in_transaction(conn, shelf, |w| {
            for r in &records {
                w.append_journal(r)?;
            }
            w.delete(Table(LEGACY_POSITION.0), LEGACY_POSITION.1)
                .map(|_| ())
        })?;
        tracing::info!(
            records = records.len(),
            "imported a former journal staging file"
        );
        std::fs::remove_file(&legacy).map_err(io)?;
        let _ = std::fs::remove_file(db.with_extension("stage-lock"));
    }
    let committed = kv_get(SEGMENTS_POSITION)?.and_then(|v| Position::decode(&v));
    let found = segments::found(dir, committed).map_err(io)?;
    if !found.runs.is_empty() {
        in_transaction(conn, shelf, |w| enter(w, &found.runs, found.position))?;
        tracing::info!(
            records = found.runs.iter().map(|r| r.count).sum::<u64>(),
            "entered journal records written before the last stop"
        );
    }
    if let Some(below) =
        kv_get(PRUNE_BELOW)?.and_then(|v| Some(u64::from_le_bytes(v.try_into().ok()?)))
    {
        segments::prune(dir, below).map_err(io)?;
    }
    segments::remove(dir, found.empty).map_err(io)?;
    Segments::create(dir, found.newest.max(found.position.generation), owner)
        .map(Some)
        .map_err(io)
}

/// Enters runs of the segment files in the journal, one row each, and notes the position they
/// end at.
fn enter(w: &mut Sql, runs: &[Run], to: Position) -> StoreResult<()> {
    let mut head = w.journal_head()?;
    let mut st = w
        .conn
        .prepare_cached("INSERT INTO journal (seq, first, rec) VALUES (?1, ?2, ?3)")
        .map_err(backend)?;
    for run in runs {
        let (first, last) = (head + 1, head + run.count);
        st.execute(params![last as i64, first as i64, &run.encode()[..]])
            .map_err(backend)?;
        head = last;
    }
    drop(st);
    w.put(
        Table(SEGMENTS_POSITION.0),
        SEGMENTS_POSITION.1,
        &to.encode(),
    )
}

/// What the writer thread works with besides its connection.
struct Ctx {
    stage: Option<Arc<Segments>>,
    shelf: Arc<Shelf>,
    commits: Arc<AtomicU64>,
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Queued>, ctx: Ctx) {
    let mut import_at: Option<Instant> = None;
    loop {
        let first = match import_at {
            None => match rx.recv() {
                Ok(q) => Some(q),
                Err(_) => return,
            },
            Some(at) => match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(q) => Some(q),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            },
        };
        let mut group = Vec::new();
        match first {
            Some(Queued::Import) => {
                import_at.get_or_insert_with(|| Instant::now() + IMPORT_PACE);
                continue;
            }
            Some(q) => group.push(q),
            None => {}
        }
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                // This commit enters whatever waits anyway.
                Ok(Queued::Import) => {}
                Ok(q) => group.push(q),
                Err(_) => break,
            }
        }
        import_at = None;
        if !commit_group(&conn, group, &ctx) {
            import_at = Some(Instant::now() + IMPORT_PACE);
        }
    }
}

/// Commits one group: first the waiting runs (so a call answered before a job was queued keeps
/// its place ahead of it), then the jobs and appends. Returns false when runs were put back for
/// a later try.
fn commit_group(conn: &Connection, group: Vec<Queued>, ctx: &Ctx) -> bool {
    let stage = ctx.stage.as_deref();
    let mut done: Vec<AppendDone> = Vec::with_capacity(group.len());
    let fail_all = |group: Vec<Queued>, e: &StoreError| {
        for q in group {
            let callback = match q {
                Queued::Job(job) => job(&mut FailedWriter(e.to_string())),
                Queued::Append(_, callback) => callback,
                Queued::Import => continue,
            };
            callback(Err(StoreError::Backend(e.to_string())));
        }
    };
    if let Err(e) = exec_cached(conn, "BEGIN IMMEDIATE") {
        // Nothing can be written: everything in the group learns it failed.
        fail_all(group, &e);
        return stage.is_none_or(|s| !s.pending());
    }
    let taken = stage.map(Segments::take).filter(|t| !t.runs.is_empty());
    if let Some(t) = &taken {
        if let Err(e) = enter(&mut Sql::new(conn, None, &ctx.shelf), &t.runs, t.position) {
            tracing::error!(error = %e, "entering journal segment runs failed");
            let _ = conn.execute_batch("ROLLBACK");
            fail_all(group, &e);
            if let (Some(s), Some(t)) = (stage, taken) {
                s.put_back(t);
            }
            return false;
        }
    }
    for q in group {
        match q {
            Queued::Job(job) => {
                if let Some(callback) = run_job(conn, job, ctx) {
                    done.push(callback);
                }
            }
            Queued::Append(records, callback) => match append_all(conn, &ctx.shelf, &records) {
                Ok(()) => done.push(callback),
                Err(e) => callback(Err(e)),
            },
            Queued::Import => {}
        }
    }
    let committed = exec_cached(conn, "COMMIT");
    let mut entered = true;
    if committed.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
        if let Some(s) = stage {
            s.abandoned();
            if let Some(t) = taken {
                s.put_back(t);
                entered = false;
            }
        }
    } else {
        ctx.commits.fetch_add(1, Ordering::Release);
    }
    if committed.is_ok() {
        if let Some(s) = stage {
            if let Err(e) = s.committed() {
                tracing::warn!(error = %e, "could not start or prune journal segment files");
            }
        }
    }
    for callback in done {
        callback(match &committed {
            Ok(()) => Ok(()),
            Err(e) => Err(StoreError::Backend(e.to_string())),
        });
    }
    entered
}

/// Appends records all or none. One INSERT is atomic by itself, so the usual single record
/// needs no savepoint; that is what makes this path cheaper than a job.
fn append_all(conn: &Connection, shelf: &Shelf, records: &[Vec<u8>]) -> StoreResult<()> {
    let mut w = Sql::new(conn, None, shelf);
    if let [one] = records {
        return w.append_journal(one).map(|_| ());
    }
    exec_cached(conn, "SAVEPOINT append")?;
    let r = records
        .iter()
        .try_for_each(|r| w.append_journal(r).map(|_| ()));
    if r.is_err() {
        let _ = exec_cached(conn, "ROLLBACK TO append");
    }
    let _ = exec_cached(conn, "RELEASE append");
    r
}

/// Runs one job inside its own savepoint, so that a panicking job takes neither its half-done
/// writes nor the writer (and every later call) down with it.
fn run_job(conn: &Connection, job: WriteJob, ctx: &Ctx) -> Option<AppendDone> {
    let mut w = Sql::new(conn, ctx.stage.as_deref(), &ctx.shelf);
    let _ = exec_cached(conn, "SAVEPOINT job");
    match catch_unwind(AssertUnwindSafe(|| job(&mut w))) {
        Ok(callback) => {
            let _ = exec_cached(conn, "RELEASE job");
            Some(callback)
        }
        Err(_) => {
            let _ = exec_cached(conn, "ROLLBACK TO job");
            let _ = exec_cached(conn, "RELEASE job");
            tracing::error!("a store write job panicked; its writes were rolled back");
            None
        }
    }
}

/// Runs a parameterless statement through the statement cache: savepoints are issued several
/// times per call, and parsing them each time showed in profiles.
fn exec_cached(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.execute([]))
        .map(|_| ())
        .map_err(backend)
}

/// SQLite access through one connection; `depth` numbers nested savepoints. `stage` is the
/// owner's side of the segment files, for a wipe to empty too; `shelf` reads the runs the
/// journal names, and `run` keeps the last one read (LookupEvents reads neighbours).
struct Sql<'c> {
    conn: &'c Connection,
    depth: u32,
    stage: Option<&'c Segments>,
    shelf: &'c Shelf,
    run: RefCell<Option<(u64, RunRecords)>>,
}

/// The records of one run row, shared between the reader's cache and its caller.
type RunRecords = Arc<Vec<Vec<u8>>>;

impl<'c> Sql<'c> {
    fn new(conn: &'c Connection, stage: Option<&'c Segments>, shelf: &'c Shelf) -> Sql<'c> {
        Sql {
            conn,
            depth: 0,
            stage,
            shelf,
            run: RefCell::new(None),
        }
    }

    /// The records of the run row whose last sequence number is `last`.
    fn run(&self, last: u64, run: &[u8]) -> StoreResult<Run> {
        Run::decode(run).ok_or_else(|| StoreError::Corrupt {
            table: "journal",
            reason: format!("run row {last}"),
        })
    }

    fn read_run(&self, last: u64, run: &[u8]) -> StoreResult<Vec<Vec<u8>>> {
        let run = self.run(last, run)?;
        self.shelf.read(&run).map_err(|e| run_corrupt(last, e))
    }

    /// `read_run`, keeping the run for the next single-record read.
    fn run_records(&self, last: u64, run: &[u8]) -> StoreResult<RunRecords> {
        if let Some((l, records)) = &*self.run.borrow() {
            if *l == last {
                return Ok(records.clone());
            }
        }
        let records = Arc::new(self.read_run(last, run)?);
        *self.run.borrow_mut() = Some((last, records.clone()));
        Ok(records)
    }
}

fn bound_sql(col_cmp: &str, b: &Bound<&[u8]>, n: usize) -> Option<String> {
    match b {
        Bound::Included(_) => Some(format!(" AND k {}= ?{n}", col_cmp)),
        Bound::Excluded(_) => Some(format!(" AND k {} ?{n}", col_cmp)),
        Bound::Unbounded => None,
    }
}

impl Reader for Sql<'_> {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT v FROM kv WHERE tbl = ?1 AND k = ?2")
            .map_err(backend)?;
        st.query_row(params![table.0, key], |r| r.get::<_, Vec<u8>>(0))
            .optional()
            .map_err(backend)
    }

    fn scan(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> StoreResult<Vec<Row>> {
        let mut sql = String::from("SELECT k, v FROM kv WHERE tbl = ?1");
        let mut args: Vec<&dyn rusqlite::ToSql> = vec![&table.0];
        let from_v;
        let to_v;
        if let Some(s) = bound_sql(">", &from, args.len() + 1) {
            sql.push_str(&s);
            from_v = match from {
                Bound::Included(v) | Bound::Excluded(v) => v,
                Bound::Unbounded => unreachable!(),
            };
            args.push(&from_v);
        }
        if let Some(s) = bound_sql("<", &to, args.len() + 1) {
            sql.push_str(&s);
            to_v = match to {
                Bound::Included(v) | Bound::Excluded(v) => v,
                Bound::Unbounded => unreachable!(),
            };
            args.push(&to_v);
        }
        sql.push_str(if reverse {
            " ORDER BY k DESC"
        } else {
            " ORDER BY k"
        });
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        sql.push_str(&format!(" LIMIT {limit}"));
        let mut st = self.conn.prepare_cached(&sql).map_err(backend)?;
        let rows = st
            .query_map(args.as_slice(), |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(backend)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(backend)
    }

    fn journal_after(&self, after: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        self.journal_visit(after, limit, &mut |seq, r| out.push((seq, r.to_vec())))?;
        Ok(out)
    }

    fn journal_visit(
        &self,
        after: u64,
        limit: usize,
        f: &mut dyn FnMut(u64, &[u8]),
    ) -> StoreResult<usize> {
        // Rows, not records, are limited: a run row holds many records.
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT seq, first, rec FROM journal WHERE seq > ?1 AND length(rec) > 0 \
                 ORDER BY seq LIMIT ?2",
            )
            .map_err(backend)?;
        let mut rows = st
            .query(params![
                i64::try_from(after).unwrap_or(i64::MAX),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ])
            .map_err(backend)?;
        let mut n = 0;
        let mut buf = Vec::new();
        while n < limit {
            let Some(row) = rows.next().map_err(backend)? else {
                break;
            };
            let seq = row.get::<_, i64>(0).map_err(backend)? as u64;
            let first = row.get::<_, Option<i64>>(1).map_err(backend)?;
            let rec = row
                .get_ref(2)
                .map_err(backend)?
                .as_blob()
                .map_err(backend_from)?;
            match first {
                None => {
                    f(seq, rec);
                    n += 1;
                }
                Some(first) => {
                    let run = self.run(seq, rec)?;
                    let mut s = first as u64;
                    self.shelf
                        .visit(&run, &mut buf, &mut |r| {
                            if s > after && n < limit {
                                f(s, r);
                                n += 1;
                            }
                            s += 1;
                        })
                        .map_err(|e| run_corrupt(seq, e))?;
                }
            }
        }
        Ok(n)
    }

    fn journal_get(&self, seq: u64) -> StoreResult<Option<Vec<u8>>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT seq, first, rec FROM journal WHERE seq >= ?1 AND length(rec) > 0 \
                 ORDER BY seq LIMIT 1",
            )
            .map_err(backend)?;
        let row = st
            .query_row(params![i64::try_from(seq).unwrap_or(i64::MAX)], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })
            .optional()
            .map_err(backend)?;
        match row {
            Some((s, None, rec)) if s == seq => Ok(Some(rec)),
            Some((last, Some(first), rec)) if first as u64 <= seq => {
                let records = self.run_records(last, &rec)?;
                Ok(records.get((seq - first as u64) as usize).cloned())
            }
            _ => Ok(None),
        }
    }

    fn journal_head(&self) -> StoreResult<u64> {
        let mut st = self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM journal")
            .map_err(backend)?;
        st.query_row([], |r| r.get::<_, i64>(0))
            .map(|v| v as u64)
            .map_err(backend)
    }
}

impl Writer for Sql<'_> {
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> StoreResult<()> {
        let mut st = self
            .conn
            .prepare_cached("INSERT OR REPLACE INTO kv (tbl, k, v) VALUES (?1, ?2, ?3)")
            .map_err(backend)?;
        st.execute(params![table.0, key, value]).map_err(backend)?;
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> StoreResult<bool> {
        let mut st = self
            .conn
            .prepare_cached("DELETE FROM kv WHERE tbl = ?1 AND k = ?2")
            .map_err(backend)?;
        Ok(st.execute(params![table.0, key]).map_err(backend)? > 0)
    }

    fn delete_prefix(&mut self, table: Table, prefix: &[u8]) -> StoreResult<u64> {
        let n = match super::prefix_end(prefix) {
            Some(end) => self
                .conn
                .prepare_cached("DELETE FROM kv WHERE tbl = ?1 AND k >= ?2 AND k < ?3")
                .map_err(backend)?
                .execute(params![table.0, prefix, end]),
            None => self
                .conn
                .prepare_cached("DELETE FROM kv WHERE tbl = ?1 AND k >= ?2")
                .map_err(backend)?
                .execute(params![table.0, prefix]),
        };
        Ok(n.map_err(backend)? as u64)
    }

    fn append_journal(&mut self, record: &[u8]) -> StoreResult<u64> {
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO journal (rec) VALUES (?1)")
            .map_err(backend)?;
        st.execute(params![record]).map_err(backend)?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    fn nested(&mut self, f: &mut dyn FnMut(&mut dyn Writer) -> bool) -> StoreResult<bool> {
        self.depth += 1;
        let name = format!("n{}", self.depth);
        exec_cached(self.conn, &format!("SAVEPOINT {name}"))?;
        let keep = f(self);
        let mut r = Ok(());
        if !keep {
            r = exec_cached(self.conn, &format!("ROLLBACK TO {name}"));
        }
        let released = exec_cached(self.conn, &format!("RELEASE {name}"));
        self.depth -= 1;
        r.and(released).map(|_| keep)
    }

    fn wipe_all(&mut self) -> StoreResult<()> {
        self.conn
            .execute_batch(
                "DELETE FROM kv; \
                 DELETE FROM journal WHERE seq < (SELECT MAX(seq) FROM journal); \
                 UPDATE journal SET rec = x'', first = NULL;",
            )
            .map_err(backend)?;
        // Records written to the segments but not entered are wiped too: the position moves
        // past them, to a new generation; the older files go once this commits.
        if let Some(stage) = self.stage {
            let end = stage
                .discard()
                .map_err(|e| StoreError::Backend(format!("journal segment files: {e}")))?;
            self.put(
                Table(SEGMENTS_POSITION.0),
                SEGMENTS_POSITION.1,
                &end.encode(),
            )?;
            self.put(
                Table(PRUNE_BELOW.0),
                PRUNE_BELOW.1,
                &end.generation.to_le_bytes(),
            )?;
        }
        Ok(())
    }
}

/// Handed to jobs when the transaction could not even begin; every call fails.
struct FailedWriter(String);

impl Reader for FailedWriter {
    fn get(&self, _: Table, _: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Err(StoreError::Backend(self.0.clone()))
    }
    fn scan(
        &self,
        _: Table,
        _: Bound<&[u8]>,
        _: Bound<&[u8]>,
        _: usize,
        _: bool,
    ) -> StoreResult<Vec<Row>> {
        Err(StoreError::Backend(self.0.clone()))
    }
    fn journal_after(&self, _: u64, _: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        Err(StoreError::Backend(self.0.clone()))
    }
    fn journal_get(&self, _: u64) -> StoreResult<Option<Vec<u8>>> {
        Err(StoreError::Backend(self.0.clone()))
    }
    fn journal_head(&self) -> StoreResult<u64> {
        Err(StoreError::Backend(self.0.clone()))
    }
}

impl Writer for FailedWriter {
    fn put(&mut self, _: Table, _: &[u8], _: &[u8]) -> StoreResult<()> {
        Err(StoreError::Backend(self.0.clone()))
    }
    fn delete(&mut self, _: Table, _: &[u8]) -> StoreResult<bool> {
        Err(StoreError::Backend(self.0.clone()))
    }
    fn delete_prefix(&mut self, _: Table, _: &[u8]) -> StoreResult<u64> {
        Err(StoreError::Backend(self.0.clone()))
    }
    fn append_journal(&mut self, _: &[u8]) -> StoreResult<u64> {
        Err(StoreError::Backend(self.0.clone()))
    }
    fn nested(&mut self, _: &mut dyn FnMut(&mut dyn Writer) -> bool) -> StoreResult<bool> {
        Err(StoreError::Backend(self.0.clone()))
    }
    fn wipe_all(&mut self) -> StoreResult<()> {
        Err(StoreError::Backend(self.0.clone()))
    }
}

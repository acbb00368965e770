//! The embedded engine: one SQLite database file in the data directory (WAL mode).
//!
//! One thread owns the write connection and commits queued jobs in groups: a burst of
//! concurrent calls costs one commit, not one each. Readers use a small pool of their own
//! connections and never wait for the writer (WAL gives them a snapshot).

use super::staging::{self, Position, Staging};
use super::{AppendDone, Engine, Reader, Row, StoreError, StoreResult, Table, WriteJob, Writer};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::ops::Bound;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How many queued jobs one commit takes at most; bounds the latency a burst adds to its first call.
const MAX_GROUP: usize = 1024;
/// How often the checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY_MS: u64 = 200;
/// WAL pages (4 KiB) after which the writer checkpoints and restarts the WAL.
const AUTOCHECKPOINT_PAGES: u32 = 256;
/// Prepared statements kept per connection (scans with different bounds are distinct statements).
const STATEMENT_CACHE: usize = 128;
/// Read connections kept open between reads.
const READ_POOL: usize = 8;
/// How long staged records may wait for their import when no job comes first: each import is
/// one commit, so pacing them turns a commit per call into one per few dozen calls.
const IMPORT_PACE: Duration = Duration::from_millis(2);
/// Where the journal table records how far the staging file has been imported.
const STAGE_POSITION: (&str, &[u8]) = ("journal-stage", b"position");

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
    /// Where records of read-only calls go first (see `staging`); none when every commit is
    /// fsynced (`Durability::Power`), where a record must take the writer's fsync.
    stage: Option<Arc<Staging>>,
}

/// What waits for the writer: a transaction job, or bare journal records.
enum Queued {
    Job(WriteJob),
    Append(Vec<Vec<u8>>, AppendDone),
    /// Records wait in the staging file.
    Import,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The journal's sequence numbers are never reused, not even after a reset wipes it: consumers'
/// cursors and in-flight batches then can never mistake a new record for an old one. SQLite's
/// AUTOINCREMENT would guarantee that at the price of a second table updated on every insert (an
/// extra WAL page per commit, a tenth of recorded throughput); instead a wipe leaves the newest
/// sequence number behind as an empty row, which no consumer decodes, and new records follow it.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (tbl TEXT NOT NULL, k BLOB NOT NULL, v BLOB NOT NULL, PRIMARY KEY (tbl, k)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, rec BLOB NOT NULL);
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
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA busy_timeout=10000; \
             PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}; {SCHEMA}"
        ))
        .map_err(backend)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let stage = match durability {
            Durability::Process if !background => {
                recover_staged(&conn, &path.with_extension("stage"))?.map(Arc::new)
            }
            _ => None,
        };
        let (tx, rx) = mpsc::channel::<Queued>();
        let writer_stage = stage.clone();
        std::thread::Builder::new()
            .name("cairn-store-writer".into())
            .spawn(move || {
                if background {
                    crate::background::lower_priority();
                }
                writer_loop(conn, rx, writer_stage)
            })
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let checkpoints = Connection::open(path).map_err(backend)?;
        checkpoints
            .execute_batch("PRAGMA busy_timeout=10000;")
            .map_err(backend)?;
        std::thread::Builder::new()
            .name("cairn-store-checkpoint".into())
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
        let result = f(&Sql {
            conn: &conn,
            depth: 0,
            stage: None,
        });
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
        let Some(stage) = &self.stage else {
            return self.queue(Queued::Append(records, done));
        };
        if records.is_empty() {
            // A call nobody receives a record of: nothing to make durable.
            done(Ok(()));
            return Ok(());
        }
        let tell_writer = stage
            .stage(records)
            .map_err(|e| StoreError::Backend(format!("journal staging file: {e}")))?;
        if tell_writer {
            self.queue(Queued::Import)?;
        }
        done(Ok(()));
        Ok(())
    }

    fn stages_appends(&self) -> bool {
        self.stage.is_some()
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
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(CHECKPOINT_EVERY_MS));
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

/// Imports what a previous run staged but did not import, then starts a fresh staging file.
/// None when another process owns the staging file (it recovers and imports it).
fn recover_staged(conn: &Connection, path: &Path) -> StoreResult<Option<Staging>> {
    let io = |e: std::io::Error| StoreError::Backend(format!("journal staging file: {e}"));
    let Some(owner) = staging::own(path).map_err(io)? else {
        tracing::info!(
            "another process owns the journal staging file; records go through the writer"
        );
        return Ok(None);
    };
    let committed = conn
        .query_row(
            "SELECT v FROM kv WHERE tbl = ?1 AND k = ?2",
            params![STAGE_POSITION.0, STAGE_POSITION.1],
            |r| r.get::<_, Vec<u8>>(0),
        )
        .optional()
        .map_err(backend)?
        .and_then(|v| Position::decode(&v));
    let left = staging::leftover(path, committed).map_err(io)?;
    if !left.records.is_empty() {
        exec_cached(conn, "BEGIN IMMEDIATE")?;
        let imported = import(conn, &left.records, left.position);
        let end = exec_cached(
            conn,
            if imported.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            },
        );
        imported.and(end)?;
        tracing::info!(
            records = left.records.len(),
            "imported journal records staged before the last stop"
        );
    }
    let after = left
        .position
        .generation
        .max(committed.map_or(0, |p| p.generation));
    Staging::create(path, after, owner).map(Some).map_err(io)
}

/// Inserts staged records into the journal and notes the staging position they end at.
fn import(conn: &Connection, records: &[Vec<u8>], to: Position) -> StoreResult<()> {
    let mut w = Sql {
        conn,
        depth: 0,
        stage: None,
    };
    for r in records {
        w.append_journal(r)?;
    }
    w.put(Table(STAGE_POSITION.0), STAGE_POSITION.1, &to.encode())
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Queued>, stage: Option<Arc<Staging>>) {
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
                // This commit imports whatever is staged anyway.
                Ok(Queued::Import) => {}
                Ok(q) => group.push(q),
                Err(_) => break,
            }
        }
        import_at = None;
        if !commit_group(&conn, group, stage.as_deref()) {
            import_at = Some(Instant::now() + IMPORT_PACE);
        }
    }
}

/// Commits one group: first the staged records (so a call answered before a job was queued
/// keeps its place ahead of it), then the jobs and appends. Returns false when staged records
/// were put back for a later try.
fn commit_group(conn: &Connection, group: Vec<Queued>, stage: Option<&Staging>) -> bool {
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
    let taken = stage.map(Staging::take).filter(|t| !t.records.is_empty());
    if let Some(t) = &taken {
        if let Err(e) = import(conn, &t.records, t.position) {
            tracing::error!(error = %e, "importing staged journal records failed");
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
                if let Some(callback) = run_job(conn, job, stage) {
                    done.push(callback);
                }
            }
            Queued::Append(records, callback) => match append_all(conn, &records) {
                Ok(()) => done.push(callback),
                Err(e) => callback(Err(e)),
            },
            Queued::Import => {}
        }
    }
    let committed = exec_cached(conn, "COMMIT");
    let mut imported = true;
    if committed.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
        if let (Some(s), Some(t)) = (stage, taken) {
            s.put_back(t);
            imported = false;
        }
    } else if let Some(s) = stage {
        if let Err(e) = s.maybe_rotate() {
            tracing::warn!(error = %e, "could not start a new journal staging file");
        }
    }
    for callback in done {
        callback(match &committed {
            Ok(()) => Ok(()),
            Err(e) => Err(StoreError::Backend(e.to_string())),
        });
    }
    imported
}

/// Appends records all or none. One INSERT is atomic by itself, so the usual single record
/// needs no savepoint; that is what makes this path cheaper than a job.
fn append_all(conn: &Connection, records: &[Vec<u8>]) -> StoreResult<()> {
    let mut w = Sql {
        conn,
        depth: 0,
        stage: None,
    };
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
fn run_job(conn: &Connection, job: WriteJob, stage: Option<&Staging>) -> Option<AppendDone> {
    let mut w = Sql {
        conn,
        depth: 0,
        stage,
    };
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
/// staging file, for a wipe to empty too.
struct Sql<'c> {
    conn: &'c Connection,
    depth: u32,
    stage: Option<&'c Staging>,
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
        let mut st = self
            .conn
            .prepare_cached("SELECT seq, rec FROM journal WHERE seq > ?1 AND length(rec) > 0 ORDER BY seq LIMIT ?2",)
            .map_err(backend)?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = st
            .query_map(params![after, limit], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(backend)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(backend)
    }

    fn journal_get(&self, seq: u64) -> StoreResult<Option<Vec<u8>>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT rec FROM journal WHERE seq = ?1 AND length(rec) > 0")
            .map_err(backend)?;
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        st.query_row(params![seq], |r| r.get::<_, Vec<u8>>(0))
            .optional()
            .map_err(backend)
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
                 UPDATE journal SET rec = x'';",
            )
            .map_err(backend)?;
        // Records staged but not imported are wiped too: the position moves past them.
        if let Some(stage) = self.stage {
            let end = stage.discard();
            self.put(Table(STAGE_POSITION.0), STAGE_POSITION.1, &end.encode())?;
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

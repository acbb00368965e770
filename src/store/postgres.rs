//! The PostgreSQL engine: several Cairn processes (replicas) share one database.
//!
//! Each engine works in a *namespace* (`cairn` for the state, `history` for the event-history
//! index), so two engines share a database without colliding: a key-value table
//! `<ns>_kv(tbl, key, value)`, a journal `<ns>_journal(seq, record)` and a one-row
//! `<ns>_meta(head)` holding the journal's newest sequence number.
//!
//! The trait methods are synchronous and may be called from any thread, inside another tokio
//! runtime or not, so the engine keeps a small runtime of its own on a thread of its own: the
//! connections live there, and a statement is a future spawned onto it whose result comes back
//! on a std channel.
//!
//! Reads take a pooled connection and run in one `REPEATABLE READ READ ONLY` transaction: the
//! closure sees one snapshot. Writes go through one writer thread per engine that commits
//! queued jobs in groups, like the SQLite writer; every write transaction first takes an
//! advisory lock of the namespace, so the writers of all replicas take turns. That gives the
//! semantics of SQLite's single writer (read-modify-write loses nothing, no deadlocks) and
//! makes the journal's order the order of commits: a sequence number is assigned under the
//! lock, which is held until the commit is visible, so a record committed later always has a
//! larger number than every record anyone could see before it, and a consumer's cursor is
//! never passed by a late commit.

mod session;
mod writer;

use super::{AppendDone, Engine, Reader, StoreError, StoreResult, WriteJob};
use session::Session;
use std::future::Future;
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio_postgres::{Client, Config, NoTls, Statement};
use writer::Queued;

/// Read connections kept open between reads.
const READ_POOL: usize = 8;
/// How long a read waits for a pooled connection before it opens one more: waiting is cheaper
/// than a connection (a server process), but a read must never wait for ever (a read inside a
/// read would deadlock a full pool).
const POOL_WAIT: Duration = Duration::from_millis(20);
/// How long reads fail at once after a read connection could not be opened.
const READ_RETRY: Duration = Duration::from_millis(250);
/// Applied when the URL sets no `connect_timeout`: an unreachable server fails a call, not
/// hangs it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Applied when the URL sets none: a connection whose peer vanished without a reset (a network
/// partition) is noticed in a minute, not in the system's two hours.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

pub struct PgEngine {
    shared: Arc<Shared>,
    /// `Sender` is `Sync`: calls queue concurrently without a lock of ours.
    jobs: mpsc::Sender<Queued>,
    pool: Pool,
}

/// What the engine's callers and its writer thread share.
struct Shared {
    rt: tokio::runtime::Handle,
    config: Config,
    sql: Sqls,
    /// The advisory lock every write transaction of this namespace takes first.
    write_lock: i64,
}

/// A connection and the statements prepared on it.
struct Conn {
    client: Arc<Client>,
    statements: Vec<Option<Statement>>,
}

impl PgEngine {
    /// Connects to the database at `url` (a `postgres://` URL or a key=value string; TLS is
    /// not supported) and creates the namespace's tables when they are missing. `namespace` is
    /// a lower-case identifier (letters, digits, `_`, at most 40).
    pub fn connect(url: &str, namespace: &str) -> StoreResult<PgEngine> {
        if !valid_namespace(namespace) {
            return Err(StoreError::Backend(format!(
                "invalid PostgreSQL namespace {namespace:?}: lower-case letters, digits and _, \
                 at most 40, not starting with a digit"
            )));
        }
        let mut config: Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("invalid database URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            // Tells the engines apart in pg_stat_activity (and lets tests find their own).
            config.application_name(format!("cairn/{namespace}"));
        }
        config.keepalives_idle(KEEPALIVE_IDLE);
        let (rt, stop) = start_runtime()?;
        let shared = Arc::new(Shared {
            rt,
            config,
            sql: Sqls::new(namespace),
            write_lock: lock_key(&format!("cairn-writer:{namespace}")),
        });
        let setup = shared.connect()?;
        shared
            .batch(&setup, shared.sql.schema.clone())
            .map_err(|e| annotate(e, "creating the tables"))?;
        let (tx, rx) = mpsc::channel::<Queued>();
        let writer_shared = shared.clone();
        std::thread::Builder::new()
            .name("cairn-pg-writer".into())
            .spawn(move || {
                writer::writer_loop(&writer_shared, rx);
                // The runtime stops once the writer has committed what was queued.
                drop(stop);
            })
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let pool = Pool::default();
        pool.adopt(setup);
        Ok(PgEngine {
            shared,
            jobs: tx,
            pool,
        })
    }

    fn queue(&self, q: Queued) -> StoreResult<()> {
        self.jobs.send(q).map_err(|_| StoreError::Closed)
    }
}

impl Engine for PgEngine {
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> StoreResult<()>) -> StoreResult<()> {
        let mut conn = Checkout {
            pool: &self.pool,
            conn: Some(self.pool.take(&self.shared)?),
        };
        let session = Session::new(
            &self.shared,
            conn.conn.as_mut().expect("checked out"),
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ",
        );
        let result = f(&session);
        session.end_read();
        result
    }

    fn submit(&self, job: WriteJob) -> StoreResult<()> {
        self.queue(Queued::Job(job))
    }

    /// Through the writer, like a job: another replica may be committing, so there is no place
    /// outside a transaction to take a sequence number from.
    fn append(&self, records: Vec<Vec<u8>>, done: AppendDone) -> StoreResult<()> {
        if records.is_empty() {
            done(Ok(()));
            return Ok(());
        }
        self.queue(Queued::Append(records, done))
    }

    // `commits` stays None: other replicas commit too, which this process cannot see.
}

/// Starts the engine's runtime on a thread of its own; it runs until the returned sender is
/// dropped.
fn start_runtime() -> StoreResult<(tokio::runtime::Handle, tokio::sync::oneshot::Sender<()>)> {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (handle_tx, handle_rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("cairn-pg-io".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => {
                    let _ = handle_tx.send(Ok(rt.handle().clone()));
                    rt.block_on(async {
                        let _ = stop_rx.await;
                    });
                }
                Err(e) => {
                    let _ = handle_tx.send(Err(e.to_string()));
                }
            }
        })
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let handle = handle_rx
        .recv()
        .map_err(|_| StoreError::Backend("the database runtime did not start".into()))?
        .map_err(StoreError::Backend)?;
    Ok((handle, stop_tx))
}

impl Shared {
    /// Runs `fut` on the engine's runtime and waits for its result; works on any thread,
    /// including one of another runtime (the wait is a std channel, not a `block_on`).
    fn call<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> StoreResult<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv()
            .map_err(|_| StoreError::Unavailable("the database client stopped".into()))
    }

    fn connect(&self) -> StoreResult<Conn> {
        let config = self.config.clone();
        let client = self
            .call(async move {
                let (client, connection) = config.connect(NoTls).await?;
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "a PostgreSQL connection ended");
                    }
                });
                Ok::<_, tokio_postgres::Error>(client)
            })?
            .map_err(|e| StoreError::Unavailable(describe(&e)))?;
        Ok(Conn {
            client: Arc::new(client),
            statements: vec![None; self.sql.texts.len()],
        })
    }

    /// Runs statements without parameters or results (the simple query protocol).
    fn batch(&self, conn: &Conn, sql: String) -> StoreResult<()> {
        let client = conn.client.clone();
        self.call(async move { client.batch_execute(&sql).await })?
            .map_err(db_error)
    }
}

/// A read's connection: back to the pool after the read, closed if the read panicked (its
/// transaction may still be open).
struct Checkout<'p> {
    pool: &'p Pool,
    conn: Option<Conn>,
}

impl Drop for Checkout<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if std::thread::panicking() {
                drop(conn);
                self.pool.state.lock().expect("read pool").open -= 1;
                self.pool.returned.notify_one();
            } else {
                self.pool.put(conn);
            }
        }
    }
}

/// Read connections: up to `READ_POOL` are kept; a read that finds none free waits a little,
/// then opens one more.
#[derive(Default)]
struct Pool {
    state: Mutex<PoolState>,
    returned: Condvar,
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Conn>,
    /// Connections open, idle or in use.
    open: usize,
    /// After a failed connection attempt, reads fail at once for a moment instead of each
    /// trying again (against an unreachable host each attempt takes the connect timeout).
    down: Option<(Instant, String)>,
}

impl Pool {
    fn take(&self, shared: &Shared) -> StoreResult<Conn> {
        let mut state = self.state.lock().expect("read pool");
        let mut waited = false;
        loop {
            while let Some(c) = state.idle.pop() {
                if !c.client.is_closed() {
                    return Ok(c);
                }
                // Broken (the server restarted): a new one replaces it.
                state.open -= 1;
            }
            if let Some((until, why)) = &state.down {
                if Instant::now() < *until {
                    return Err(StoreError::Unavailable(why.clone()));
                }
            }
            if state.open < READ_POOL || waited {
                break;
            }
            state = self
                .returned
                .wait_timeout(state, POOL_WAIT)
                .expect("read pool")
                .0;
            waited = true;
        }
        state.open += 1;
        drop(state);
        let conn = shared.connect();
        let mut state = self.state.lock().expect("read pool");
        match &conn {
            Ok(_) => state.down = None,
            Err(e) => {
                state.open -= 1;
                let why = match e {
                    StoreError::Unavailable(m) => m.clone(),
                    other => other.to_string(),
                };
                state.down = Some((Instant::now() + READ_RETRY, why));
            }
        }
        conn
    }

    /// Keeps a connection opened elsewhere (the one that created the tables).
    fn adopt(&self, conn: Conn) {
        self.state.lock().expect("read pool").open += 1;
        self.put(conn);
    }

    fn put(&self, conn: Conn) {
        let mut state = self.state.lock().expect("read pool");
        if conn.client.is_closed() || state.idle.len() >= READ_POOL {
            state.open -= 1;
        } else {
            state.idle.push(conn);
        }
        drop(state);
        self.returned.notify_one();
    }
}

/// A connection-level failure (the server is gone, restarting, or unreachable) as
/// `Unavailable`; anything else the database refused as `Backend`.
fn db_error(e: tokio_postgres::Error) -> StoreError {
    let connection = match e.code() {
        // Connection exceptions, and the server shutting down or not yet up.
        Some(code) => code.code().starts_with("08") || code.code().starts_with("57P"),
        None => {
            e.is_closed()
                || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>())
                || e.to_string().starts_with("timeout")
        }
    };
    if connection {
        StoreError::Unavailable(describe(&e))
    } else {
        StoreError::Backend(describe(&e))
    }
}

/// The error with its causes: tokio-postgres's own message is only the kind ("db error").
fn describe(e: &tokio_postgres::Error) -> String {
    let mut s = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

fn annotate(e: StoreError, doing: &str) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(format!("{doing}: {m}")),
        StoreError::Backend(m) => StoreError::Backend(format!("{doing}: {m}")),
        other => other,
    }
}

/// The same error again, for every job of a group that failed together.
fn copy_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Backend(m) => StoreError::Backend(m.clone()),
        StoreError::Corrupt { table, reason } => StoreError::Corrupt {
            table,
            reason: reason.clone(),
        },
        StoreError::Closed => StoreError::Closed,
        StoreError::ReadOnly => StoreError::ReadOnly,
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
    }
}

fn valid_namespace(ns: &str) -> bool {
    let b = ns.as_bytes();
    !b.is_empty()
        && b.len() <= 40
        && !b[0].is_ascii_digit()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// An advisory lock key from a name. FNV-1a, spelled out: every replica, whatever it was built
/// with, must derive the same key (std's hasher promises no stable output).
fn lock_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Statement texts of one namespace, indexed by the constants below (the index is also the
/// slot of the prepared statement in each connection's cache).
struct Sqls {
    texts: Vec<String>,
    schema: String,
    meta: String,
}

const GET: usize = 0;
const PUT: usize = 1;
const DELETE: usize = 2;
const DELETE_RANGE: usize = 3;
const DELETE_FROM: usize = 4;
const JOURNAL_AFTER: usize = 5;
const JOURNAL_GET: usize = 6;
const HEAD: usize = 7;
const APPEND: usize = 8;
const APPEND_MANY: usize = 9;
const WIPE_KV: usize = 10;
const WIPE_JOURNAL: usize = 11;
/// 18 scans follow: 3 kinds of lower bound × 3 of upper bound × 2 directions.
const SCAN: usize = 12;

impl Sqls {
    fn new(ns: &str) -> Sqls {
        let (kv, journal, meta) = (
            format!("{ns}_kv"),
            format!("{ns}_journal"),
            format!("{ns}_meta"),
        );
        let mut texts = vec![
            format!("SELECT value FROM {kv} WHERE tbl = $1 AND key = $2"),
            format!(
                "INSERT INTO {kv} (tbl, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (tbl, key) DO UPDATE SET value = EXCLUDED.value"
            ),
            format!("DELETE FROM {kv} WHERE tbl = $1 AND key = $2"),
            format!("DELETE FROM {kv} WHERE tbl = $1 AND key >= $2 AND key < $3"),
            format!("DELETE FROM {kv} WHERE tbl = $1 AND key >= $2"),
            format!("SELECT seq, record FROM {journal} WHERE seq > $1 ORDER BY seq LIMIT $2"),
            format!("SELECT record FROM {journal} WHERE seq = $1"),
            // The meta row is the head; the journal's own maximum only guards against a meta
            // row someone removed.
            format!(
                "SELECT COALESCE(GREATEST((SELECT head FROM {meta} WHERE id = 1), \
                 (SELECT MAX(seq) FROM {journal})), 0)"
            ),
            format!("INSERT INTO {journal} (seq, record) VALUES ($1, $2)"),
            format!(
                "INSERT INTO {journal} (seq, record) \
                 SELECT * FROM unnest($1::int8[], $2::bytea[])"
            ),
            format!("DELETE FROM {kv}"),
            format!("DELETE FROM {journal}"),
        ];
        for from in 0..3 {
            for to in 0..3 {
                for reverse in [false, true] {
                    let mut sql = format!("SELECT key, value FROM {kv} WHERE tbl = $1");
                    let mut n = 1;
                    for (kind, op) in [(from, ">"), (to, "<")] {
                        if kind != 0 {
                            n += 1;
                            let eq = if kind == 1 { "=" } else { "" };
                            sql.push_str(&format!(" AND key {op}{eq} ${n}"));
                        }
                    }
                    let dir = if reverse { "DESC" } else { "ASC" };
                    sql.push_str(&format!(" ORDER BY key {dir} LIMIT ${}", n + 1));
                    texts.push(sql);
                }
            }
        }
        // CREATE TABLE IF NOT EXISTS races between two sessions (both may find no table and
        // one then fails on pg_type's unique index): processes starting together take turns
        // on a lock that is held until the tables are committed.
        let schema = format!(
            "BEGIN; SELECT pg_advisory_xact_lock({lock}); \
             CREATE TABLE IF NOT EXISTS {kv} (tbl text COLLATE \"C\" NOT NULL, key bytea NOT NULL, \
               value bytea NOT NULL, PRIMARY KEY (tbl, key)); \
             CREATE TABLE IF NOT EXISTS {journal} (seq bigint PRIMARY KEY, record bytea NOT NULL); \
             CREATE TABLE IF NOT EXISTS {meta} (id int PRIMARY KEY CHECK (id = 1), \
               head bigint NOT NULL); \
             INSERT INTO {meta} (id, head) VALUES (1, 0) ON CONFLICT (id) DO NOTHING; \
             COMMIT",
            lock = lock_key("cairn-schema"),
        );
        Sqls {
            texts,
            schema,
            meta,
        }
    }

    fn text(&self, id: usize) -> &str {
        &self.texts[id]
    }

    /// The scan statement for these bounds.
    fn scan(from: &std::ops::Bound<&[u8]>, to: &std::ops::Bound<&[u8]>, reverse: bool) -> usize {
        use std::ops::Bound::*;
        let kind = |b: &std::ops::Bound<&[u8]>| match b {
            Unbounded => 0,
            Included(_) => 1,
            Excluded(_) => 2,
        };
        SCAN + (kind(from) * 3 + kind(to)) * 2 + usize::from(reverse)
    }

    /// Stores the journal's head before a commit (an upsert: a missing row is no reason to
    /// lose it).
    fn set_head(&self, head: u64) -> String {
        format!(
            "INSERT INTO {meta} (id, head) VALUES (1, {head}) \
             ON CONFLICT (id) DO UPDATE SET head = EXCLUDED.head; ",
            meta = self.meta
        )
    }
}

/// Drops a namespace's tables (tests clean up after themselves).
#[cfg(test)]
pub(crate) fn drop_namespace(url: &str, namespace: &str) -> StoreResult<()> {
    assert!(valid_namespace(namespace));
    admin(
        url,
        format!(
            "DROP TABLE IF EXISTS {namespace}_kv, {namespace}_journal, {namespace}_meta; \
             SELECT 1"
        ),
    )
}

/// Ends every server process serving `application_name`: what a server restart does to them.
#[cfg(test)]
pub(crate) fn terminate_connections(url: &str, application_name: &str) -> StoreResult<()> {
    assert!(!application_name.contains('\''));
    admin(
        url,
        format!(
            // With a timeout, it waits until they are gone.
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity \
             WHERE application_name = '{application_name}' AND pid <> pg_backend_pid()"
        ),
    )
}

/// Runs `sql` on a connection of its own, on a thread of its own (so that it works inside a
/// test's runtime too).
#[cfg(test)]
fn admin(url: &str, sql: String) -> StoreResult<()> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        rt.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, NoTls)
                .await
                .map_err(db_error)?;
            tokio::spawn(connection);
            client.batch_execute(&sql).await.map_err(db_error)
        })
    })
    .join()
    .map_err(|_| StoreError::Backend("admin thread panicked".into()))?
}

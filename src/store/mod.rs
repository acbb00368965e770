//! The store room: state, the journal and object bodies, behind interfaces.
//!
//! State is a set of named, ordered key-value tables (the shape Garage uses for its embedded
//! database): services keep typed records as JSON values under keys they design for the scans
//! they need. Nothing outside this module speaks SQL, so a PostgreSQL engine only has to provide
//! the same two traits.
//!
//! Every state change happens in a write transaction that runs on the engine's single writer and
//! is committed together with other concurrent writes (group commit). The audit room joins the
//! same transaction to append the call's journal record, so a change and its record are durable
//! together or not at all.

pub mod blobs;
mod postgres;
mod segments;
mod sqlite;

pub use blobs::{BlobStore, FsBlobs};
pub use postgres::PgEngine;
pub use sqlite::{Durability, SqliteEngine};

use serde::{de::DeserializeOwned, Serialize};
use std::ops::Bound;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage backend: {0}")]
    Backend(String),
    #[error("corrupt record in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("the store is shutting down")]
    Closed,
    /// A write attempted through [`ReadOnly`].
    #[error("write attempted on a read-only snapshot")]
    ReadOnly,
    /// The database server cannot be reached or the connection broke (PostgreSQL); the engine
    /// reconnects by itself, so trying again later may succeed.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A named table. Services declare their own as constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table(pub &'static str);

pub type Row = (Vec<u8>, Vec<u8>);

/// Read access, inside a write transaction or on a snapshot.
pub trait Reader {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;
    /// Rows with `from <= key < to` (per the bounds) in key order, or reverse order, at most `limit`.
    fn scan(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> StoreResult<Vec<Row>>;
    /// Journal records with sequence numbers greater than `after`, oldest first.
    fn journal_after(&self, after: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>>;
    /// `journal_after`, handing each record to `f` instead of copying it out (a consumer that
    /// reads every record once, like event history); returns how many it handed over.
    fn journal_visit(
        &self,
        after: u64,
        limit: usize,
        f: &mut dyn FnMut(u64, &[u8]),
    ) -> StoreResult<usize> {
        let records = self.journal_after(after, limit)?;
        records.iter().for_each(|(seq, r)| f(*seq, r));
        Ok(records.len())
    }
    /// One journal record.
    fn journal_get(&self, seq: u64) -> StoreResult<Option<Vec<u8>>>;
    /// The sequence number of the newest record (0 when the journal is empty).
    fn journal_head(&self) -> StoreResult<u64>;
}

/// Write access: only ever handed out inside a write transaction.
pub trait Writer: Reader {
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> StoreResult<()>;
    /// Returns whether a row was removed.
    fn delete(&mut self, table: Table, key: &[u8]) -> StoreResult<bool>;
    /// Removes every row of the table whose key starts with `prefix`.
    fn delete_prefix(&mut self, table: Table, prefix: &[u8]) -> StoreResult<u64>;
    /// Appends a record to the journal; returns its sequence number.
    fn append_journal(&mut self, record: &[u8]) -> StoreResult<u64>;
    /// Runs `f` in a nested transaction that is rolled back when it returns false, so a failed
    /// operation leaves no half-written state while the rest of the transaction (for example
    /// the journal record of the refusal) still commits.
    fn nested(&mut self, f: &mut dyn FnMut(&mut dyn Writer) -> bool) -> StoreResult<bool>;
    /// Removes every row of every table and the journal: the reset of a test server.
    fn wipe_all(&mut self) -> StoreResult<()>;
}

/// What runs on the writer. It gets the open transaction and returns the callback that is told
/// whether the commit succeeded.
pub type WriteJob =
    Box<dyn FnOnce(&mut dyn Writer) -> Box<dyn FnOnce(StoreResult<()>) + Send> + Send>;

/// Told whether the commit holding an append succeeded.
pub type AppendDone = Box<dyn FnOnce(StoreResult<()>) + Send>;

/// An engine: a durable home for tables and the journal.
pub trait Engine: Send + Sync + 'static {
    /// Runs `f` on a consistent snapshot.
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> StoreResult<()>) -> StoreResult<()>;
    /// Queues a write job; it is committed, together with whatever else is queued, before its
    /// callback is called.
    fn submit(&self, job: WriteJob) -> StoreResult<()>;
    /// Makes journal records that change no state (the records of read-only calls) durable.
    /// They need none of a job's isolation, so an engine may take them the cheapest way it has
    /// (SQLite: the journal's segment files), as long as they reach the journal no later than the commit
    /// of any job queued after `done` was called.
    fn append(&self, records: Vec<Vec<u8>>, done: AppendDone) -> StoreResult<()>;
    /// `append` done on the calling thread, when the engine can make the records durable there
    /// and then (SQLite: a copy into a segment file); None sends them the way of `append`.
    fn append_here(&self, _records: &[Vec<u8>]) -> Option<StoreResult<()>> {
        None
    }
    /// Whether appended records can be durable before they are in the journal.
    fn stages_appends(&self) -> bool {
        false
    }
    /// A count that moves after every commit of this process's writer, so what was read before
    /// it moved may be kept while it stands still (None: the engine cannot tell, keep nothing).
    fn commits(&self) -> Option<u64> {
        None
    }
}

/// The handle the rest of the server uses.
#[derive(Clone)]
pub struct Store {
    engine: Arc<dyn Engine>,
}

impl Store {
    pub fn new(engine: Arc<dyn Engine>) -> Self {
        Store { engine }
    }

    /// Reads on a snapshot. Point reads are microseconds, so they run on the calling thread.
    pub fn read<T>(&self, f: impl FnOnce(&dyn Reader) -> StoreResult<T>) -> StoreResult<T> {
        let mut f = Some(f);
        let mut out = None;
        self.engine.read(&mut |r| {
            let f = f.take().expect("read closure runs once");
            out = Some(f(r)?);
            Ok(())
        })?;
        out.ok_or_else(|| StoreError::Backend("read closure did not run".into()))
    }

    /// Runs `f` in a write transaction and waits until it is durable. When `f` fails, its writes
    /// are rolled back and nothing is committed for it.
    pub async fn write<T, E>(
        &self,
        f: impl FnOnce(&mut dyn Writer) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        self.engine
            .submit(isolated_job(f, move |r| {
                let _ = tx.send(r);
            }))
            .map_err(E::from)?;
        rx.await
            .unwrap_or_else(|_| Err(E::from(StoreError::Closed)))
    }

    /// [`Store::write`] for a thread outside the async runtime: blocks until durable.
    pub fn write_blocking<T, E>(
        &self,
        f: impl FnOnce(&mut dyn Writer) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<T, E>>(1);
        self.engine
            .submit(isolated_job(f, move |r| {
                let _ = tx.send(r);
            }))
            .map_err(E::from)?;
        rx.recv()
            .unwrap_or_else(|_| Err(E::from(StoreError::Closed)))
    }

    /// Appends journal records that go with no state change, and waits until they are durable.
    pub async fn append(&self, records: Vec<Vec<u8>>) -> StoreResult<()> {
        // Every recorded read-only call comes here: most need no channel to learn the outcome.
        if let Some(done) = self.engine.append_here(&records) {
            return done;
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<StoreResult<()>>();
        self.engine.append(
            records,
            Box::new(move |committed| {
                let _ = tx.send(committed);
            }),
        )?;
        rx.await.unwrap_or(Err(StoreError::Closed))
    }

    /// Waits until every record appended so far is in the journal, where readers see it (a
    /// LookupEvents right after a read-only call).
    pub async fn settle(&self) -> StoreResult<()> {
        if self.engine.stages_appends() {
            // A job queued now commits after every record appended before it.
            self.write(|_| Ok::<(), StoreError>(())).await?;
        }
        Ok(())
    }

    /// See [`Engine::commits`].
    pub fn commits(&self) -> Option<u64> {
        self.engine.commits()
    }

    /// Queues a raw job (the audit room uses this to put a call's change and its record in one
    /// commit).
    pub fn submit(&self, job: WriteJob) -> StoreResult<()> {
        self.engine.submit(job)
    }
}

/// The job of a `Store::write`: `f` runs isolated, and `reply` gets its result once the commit
/// is known (the commit's error when it failed).
fn isolated_job<T, E>(
    f: impl FnOnce(&mut dyn Writer) -> Result<T, E> + Send + 'static,
    reply: impl FnOnce(Result<T, E>) + Send + 'static,
) -> WriteJob
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    Box::new(move |w: &mut dyn Writer| {
        let result = run_isolated(w, f);
        Box::new(move |committed: StoreResult<()>| {
            reply(match committed {
                Ok(()) => result,
                Err(e) => Err(E::from(e)),
            })
        })
    })
}

/// Runs `f` in a nested transaction that is rolled back when `f` fails.
fn run_isolated<T, E>(
    w: &mut dyn Writer,
    f: impl FnOnce(&mut dyn Writer) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    let mut f = Some(f);
    let mut result: Option<Result<T, E>> = None;
    let nested = w.nested(&mut |w| {
        let r = (f.take().expect("write closure runs once"))(w);
        let ok = r.is_ok();
        result = Some(r);
        ok
    });
    match (nested, result) {
        (Err(e), _) => Err(E::from(e)),
        (Ok(_), Some(r)) => r,
        (Ok(_), None) => Err(E::from(StoreError::Backend(
            "write closure did not run".into(),
        ))),
    }
}

/// A snapshot dressed as a writer, for running an operation that should not write. A write
/// attempt fails and is remembered, so the caller can run the operation again for real.
pub struct ReadOnly<'a> {
    reader: &'a dyn Reader,
    pub attempted_write: bool,
}

impl<'a> ReadOnly<'a> {
    pub fn new(reader: &'a dyn Reader) -> Self {
        ReadOnly {
            reader,
            attempted_write: false,
        }
    }

    fn refuse<T>(&mut self) -> StoreResult<T> {
        self.attempted_write = true;
        Err(StoreError::ReadOnly)
    }
}

impl Reader for ReadOnly<'_> {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.reader.get(table, key)
    }
    fn scan(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> StoreResult<Vec<Row>> {
        self.reader.scan(table, from, to, limit, reverse)
    }
    fn journal_after(&self, after: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        self.reader.journal_after(after, limit)
    }
    fn journal_visit(
        &self,
        after: u64,
        limit: usize,
        f: &mut dyn FnMut(u64, &[u8]),
    ) -> StoreResult<usize> {
        self.reader.journal_visit(after, limit, f)
    }
    fn journal_get(&self, seq: u64) -> StoreResult<Option<Vec<u8>>> {
        self.reader.journal_get(seq)
    }
    fn journal_head(&self) -> StoreResult<u64> {
        self.reader.journal_head()
    }
}

impl Writer for ReadOnly<'_> {
    fn put(&mut self, _: Table, _: &[u8], _: &[u8]) -> StoreResult<()> {
        self.refuse()
    }
    fn delete(&mut self, _: Table, _: &[u8]) -> StoreResult<bool> {
        self.refuse()
    }
    fn delete_prefix(&mut self, _: Table, _: &[u8]) -> StoreResult<u64> {
        self.refuse()
    }
    fn append_journal(&mut self, _: &[u8]) -> StoreResult<u64> {
        self.refuse()
    }
    fn nested(&mut self, f: &mut dyn FnMut(&mut dyn Writer) -> bool) -> StoreResult<bool> {
        Ok(f(self))
    }
    fn wipe_all(&mut self) -> StoreResult<()> {
        self.refuse()
    }
}

/// Typed JSON records over the raw tables.
pub trait ReaderExt: Reader {
    fn get_json<T: DeserializeOwned>(&self, table: Table, key: &[u8]) -> StoreResult<Option<T>> {
        match self.get(table, key)? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt {
                        table: table.0,
                        reason: e.to_string(),
                    })
            }
        }
    }

    /// Every record whose key starts with `prefix`, in key order, at most `limit`.
    fn scan_prefix_json<T: DeserializeOwned>(
        &self,
        table: Table,
        prefix: &[u8],
        limit: usize,
    ) -> StoreResult<Vec<(Vec<u8>, T)>> {
        let end = prefix_end(prefix);
        let to = match &end {
            Some(e) => Bound::Excluded(e.as_slice()),
            None => Bound::Unbounded,
        };
        self.scan(table, Bound::Included(prefix), to, limit, false)?
            .into_iter()
            .map(|(k, v)| {
                serde_json::from_slice(&v)
                    .map(|t| (k, t))
                    .map_err(|e| StoreError::Corrupt {
                        table: table.0,
                        reason: e.to_string(),
                    })
            })
            .collect()
    }
}
impl<R: Reader + ?Sized> ReaderExt for R {}

pub trait WriterExt: Writer {
    fn put_json<T: Serialize>(&mut self, table: Table, key: &[u8], value: &T) -> StoreResult<()> {
        let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.put(table, key, &bytes)
    }
}
impl<W: Writer + ?Sized> WriterExt for W {}

/// The smallest key greater than every key starting with `prefix` (None: no such key).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests;

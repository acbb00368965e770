//! The engine's writer: one thread that commits queued jobs in groups, each job in its own
//! savepoint, every transaction under the namespace's advisory lock.

use super::session::{Arg, Session};
use super::{copy_error, Conn, Shared, APPEND, APPEND_MANY, WIPE_JOURNAL, WIPE_KV};
use crate::store::{AppendDone, Reader, Row, StoreError, StoreResult, Table, WriteJob, Writer};
use std::cell::Cell;
use std::ops::Bound;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How many queued jobs one commit takes at most; bounds the latency a burst adds to its first call.
const MAX_GROUP: usize = 1024;
/// Waits between attempts to reconnect, doubling from the first to the last; groups queued
/// meanwhile fail at once (a caller learns the database is unavailable instead of hanging).
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// What waits for the writer.
pub(super) enum Queued {
    Job(WriteJob),
    /// Journal records of calls that changed nothing.
    Append(Vec<Vec<u8>>, AppendDone),
}

pub(super) fn writer_loop(shared: &Shared, rx: mpsc::Receiver<Queued>) {
    let mut conn: Option<Conn> = None;
    let mut reconnect = Reconnect::default();
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(q) => group.push(q),
                Err(_) => break,
            }
        }
        if conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            conn = None;
        }
        let c = match &mut conn {
            Some(c) => c,
            None => match reconnect.connect(shared) {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    fail_all(group, &e);
                    continue;
                }
            },
        };
        if !commit_group(shared, c, group) {
            conn = None;
        }
    }
}

#[derive(Default)]
struct Reconnect {
    delay: Duration,
    not_before: Option<Instant>,
    last: String,
}

impl Reconnect {
    fn connect(&mut self, shared: &Shared) -> StoreResult<Conn> {
        if self.not_before.is_some_and(|at| Instant::now() < at) {
            return Err(StoreError::Unavailable(self.last.clone()));
        }
        match shared.connect() {
            Ok(c) => {
                if self.not_before.is_some() {
                    tracing::info!("the store's writer reconnected to PostgreSQL");
                }
                *self = Reconnect::default();
                Ok(c)
            }
            Err(e) => {
                self.delay = (self.delay * 2).clamp(RETRY_FIRST, RETRY_MAX);
                self.not_before = Some(Instant::now() + self.delay);
                self.last = match &e {
                    StoreError::Unavailable(m) | StoreError::Backend(m) => m.clone(),
                    other => other.to_string(),
                };
                tracing::warn!(error = %e, retry_in = ?self.delay, "the store's writer cannot connect");
                Err(e)
            }
        }
    }
}

/// Nothing can be written: every job and append of the group learns it failed.
fn fail_all(group: Vec<Queued>, e: &StoreError) {
    for q in group {
        let callback = match q {
            Queued::Job(job) => {
                match catch_unwind(AssertUnwindSafe(|| job(&mut FailedWriter(e)))) {
                    Ok(callback) => callback,
                    Err(_) => continue,
                }
            }
            Queued::Append(_, callback) => callback,
        };
        callback(Err(copy_error(e)));
    }
}

/// Commits one group; returns false when the connection is no longer fit for use.
fn commit_group(shared: &Shared, conn: &mut Conn, group: Vec<Queued>) -> bool {
    // The lock comes first: the head read later, and everything this transaction reads, is
    // then what the previous writer of any replica committed.
    let begin = format!(
        "BEGIN; SELECT pg_advisory_xact_lock({}); ",
        shared.write_lock
    );
    let mut tx = Tx {
        s: Session::new(shared, conn, &begin),
        base: Cell::new(None),
        head: Cell::new(None),
        saved: Vec::new(),
        depth: 0,
    };
    let mut done: Vec<AppendDone> = Vec::with_capacity(group.len());
    let mut items = group.into_iter().peekable();
    while let Some(q) = items.next() {
        match q {
            Queued::Job(job) => match tx.run_job(job) {
                Ran::Kept(callback) => done.push(callback),
                Ran::Undone(callback, e) => callback(Err(e)),
                Ran::Panicked => {}
            },
            Queued::Append(records, callback) => {
                // A burst of appends is one INSERT.
                let mut batch = vec![(records, callback)];
                while let Some(Queued::Append(..)) = items.peek() {
                    if let Some(Queued::Append(r, c)) = items.next() {
                        batch.push((r, c));
                    }
                }
                tx.append_batch(batch, &mut done);
            }
        }
    }
    let (committed, usable) = tx.commit();
    if let Err(e) = &committed {
        tracing::warn!(error = %e, jobs = done.len(), "a store commit failed");
    }
    for callback in done {
        callback(committed.as_ref().map(|_| ()).map_err(copy_error));
    }
    usable
}

enum Ran {
    Kept(AppendDone),
    /// Rolled back: a statement failed and the job went on regardless.
    Undone(AppendDone, StoreError),
    Panicked,
}

/// The writer's transaction. Sequence numbers are assigned here: the head is read at the
/// first append (under the lock), numbers follow it, and the new head is stored just before
/// COMMIT. A rollback to a savepoint gives back the numbers taken inside it, as SQLite does:
/// they were never visible to anyone, and the journal keeps no gaps (a consumer waiting for the
/// head would wait for a number no record has).
struct Tx<'a> {
    s: Session<'a>,
    /// The head as committed before this transaction, once read.
    base: Cell<Option<u64>>,
    /// The newest number taken so far.
    head: Cell<Option<u64>>,
    /// `head` when each open savepoint began.
    saved: Vec<Option<u64>>,
    depth: u32,
}

impl Tx<'_> {
    fn head_now(&self) -> StoreResult<u64> {
        if let Some(h) = self.head.get() {
            return Ok(h);
        }
        let h = self.s.committed_head()?;
        self.base.set(Some(h));
        self.head.set(Some(h));
        Ok(h)
    }

    fn savepoint(&mut self, name: &str) {
        self.s.defer(&format!("SAVEPOINT {name}; "));
        self.saved.push(self.head.get());
    }

    fn release(&mut self, name: &str) {
        if !self.s.undefer(&format!("SAVEPOINT {name}; ")) {
            self.s.defer(&format!("RELEASE {name}; "));
        }
        self.saved.pop();
    }

    fn rollback_to(&mut self, name: &str) {
        if !self.s.undefer(&format!("SAVEPOINT {name}; ")) {
            self.s
                .defer(&format!("ROLLBACK TO {name}; RELEASE {name}; "));
        }
        let saved = self.saved.pop().flatten();
        // None: nothing was appended before the savepoint, so the head is the committed one.
        self.head.set(saved.or(self.base.get()));
        self.s.take_failure();
    }

    /// Runs one job inside its own savepoint, so that a failing or panicking job takes neither
    /// its half-done writes nor the writer (and every later call) down with it.
    fn run_job(&mut self, job: WriteJob) -> Ran {
        let mark = self.saved.len();
        self.savepoint("j");
        match catch_unwind(AssertUnwindSafe(|| job(self))) {
            Ok(callback) => match self.s.failure() {
                Some(e) => {
                    self.rollback_to("j");
                    Ran::Undone(callback, e)
                }
                None => {
                    self.release("j");
                    Ran::Kept(callback)
                }
            },
            Err(_) => {
                // Savepoints the panic skipped past go with the job's own.
                self.saved.truncate(mark + 1);
                self.depth = 0;
                self.rollback_to("j");
                tracing::error!("a store write job panicked; its writes were rolled back");
                Ran::Panicked
            }
        }
    }

    /// Appends the records of several `Engine::append` calls in one statement: they are
    /// all-or-none together (what fails one here, a broken connection, fails all anyway).
    fn append_batch(&mut self, batch: Vec<(Vec<Vec<u8>>, AppendDone)>, done: &mut Vec<AppendDone>) {
        let mut records = Vec::new();
        let mut callbacks = Vec::with_capacity(batch.len());
        for (r, c) in batch {
            records.extend(r);
            callbacks.push(c);
        }
        self.savepoint("a");
        let appended = (|| {
            let head = self.head_now()?;
            let n = records.len() as u64;
            let seqs = (head + 1..=head + n).map(|s| s as i64).collect();
            self.s
                .execute(APPEND_MANY, vec![Arg::Ints(seqs), Arg::Blobs(records)])?;
            self.head.set(Some(head + n));
            Ok(())
        })();
        match appended {
            Ok(()) => {
                self.release("a");
                done.extend(callbacks);
            }
            Err(e) => {
                self.rollback_to("a");
                for callback in callbacks {
                    callback(Err(copy_error(&e)));
                }
            }
        }
    }

    /// Commits; returns the outcome and whether the connection can be used again. A commit
    /// whose answer was lost is an error: it may or may not have happened, and no job may be
    /// told it did.
    fn commit(&mut self) -> (StoreResult<()>, bool) {
        if !self.s.sent() {
            // Nothing ran: no transaction was even begun.
            self.s.discard();
            return (Ok(()), true);
        }
        if let Some(e) = self.s.doomed().or_else(|| self.s.failure()) {
            return (Err(e), self.rollback());
        }
        let mut tail = match (self.head.get(), self.base.get()) {
            (Some(head), base) if Some(head) != base => self.s.sql().set_head(head),
            // COMMIT of a failed transaction rolls back and reports success; a statement
            // ahead of it fails instead, and the batch stops there.
            _ => "SELECT 1; ".to_string(),
        };
        tail.push_str("COMMIT");
        match self.s.flush(&tail) {
            Ok(()) => (Ok(()), true),
            Err(e) => (Err(e), self.rollback()),
        }
    }

    fn rollback(&mut self) -> bool {
        self.s.discard();
        self.s.flush("ROLLBACK").is_ok() && !self.s.closed()
    }
}

impl Reader for Tx<'_> {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.s.get(table, key)
    }
    fn scan(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> StoreResult<Vec<Row>> {
        self.s.scan(table, from, to, limit, reverse)
    }
    fn journal_after(&self, after: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        self.s.journal_after(after, limit)
    }
    fn journal_visit(
        &self,
        after: u64,
        limit: usize,
        f: &mut dyn FnMut(u64, &[u8]),
    ) -> StoreResult<usize> {
        self.s.journal_visit(after, limit, f)
    }
    fn journal_get(&self, seq: u64) -> StoreResult<Option<Vec<u8>>> {
        self.s.journal_get(seq)
    }
    /// The number the next append follows (services rely on `head + 1` being the next
    /// record's).
    fn journal_head(&self) -> StoreResult<u64> {
        self.head_now()
    }
}

impl Writer for Tx<'_> {
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.s.put(table, key, value)
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> StoreResult<bool> {
        self.s.delete(table, key)
    }

    fn delete_prefix(&mut self, table: Table, prefix: &[u8]) -> StoreResult<u64> {
        self.s.delete_prefix(table, prefix)
    }

    fn append_journal(&mut self, record: &[u8]) -> StoreResult<u64> {
        let seq = self.head_now()? + 1;
        self.s.execute(
            APPEND,
            vec![Arg::Int(seq as i64), Arg::Bytes(record.to_vec())],
        )?;
        self.head.set(Some(seq));
        Ok(seq)
    }

    fn nested(&mut self, f: &mut dyn FnMut(&mut dyn Writer) -> bool) -> StoreResult<bool> {
        if let Some(e) = self.s.failure() {
            return Err(e);
        }
        self.depth += 1;
        let name = format!("n{}", self.depth);
        self.savepoint(&name);
        let keep = f(self);
        let r = if !keep {
            self.rollback_to(&name);
            Ok(false)
        } else if let Some(e) = self.s.failure() {
            // Kept, but a statement in it failed: PostgreSQL lets nothing after it through,
            // so it is undone and the rest of the transaction may still commit.
            self.rollback_to(&name);
            Err(e)
        } else {
            self.release(&name);
            Ok(true)
        };
        self.depth -= 1;
        r
    }

    /// Keeps the head: sequence numbers are never reused, not even after a reset.
    fn wipe_all(&mut self) -> StoreResult<()> {
        self.head_now()?;
        self.s.execute(WIPE_KV, vec![])?;
        self.s.execute(WIPE_JOURNAL, vec![])?;
        Ok(())
    }
}

/// Handed to jobs when there is no transaction (no connection); every call fails.
struct FailedWriter<'e>(&'e StoreError);

impl FailedWriter<'_> {
    fn fail<T>(&self) -> StoreResult<T> {
        Err(copy_error(self.0))
    }
}

impl Reader for FailedWriter<'_> {
    fn get(&self, _: Table, _: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.fail()
    }
    fn scan(
        &self,
        _: Table,
        _: Bound<&[u8]>,
        _: Bound<&[u8]>,
        _: usize,
        _: bool,
    ) -> StoreResult<Vec<Row>> {
        self.fail()
    }
    fn journal_after(&self, _: u64, _: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        self.fail()
    }
    fn journal_get(&self, _: u64) -> StoreResult<Option<Vec<u8>>> {
        self.fail()
    }
    fn journal_head(&self) -> StoreResult<u64> {
        self.fail()
    }
}

impl Writer for FailedWriter<'_> {
    fn put(&mut self, _: Table, _: &[u8], _: &[u8]) -> StoreResult<()> {
        self.fail()
    }
    fn delete(&mut self, _: Table, _: &[u8]) -> StoreResult<bool> {
        self.fail()
    }
    fn delete_prefix(&mut self, _: Table, _: &[u8]) -> StoreResult<u64> {
        self.fail()
    }
    fn append_journal(&mut self, _: &[u8]) -> StoreResult<u64> {
        self.fail()
    }
    fn nested(&mut self, _: &mut dyn FnMut(&mut dyn Writer) -> bool) -> StoreResult<bool> {
        self.fail()
    }
    fn wipe_all(&mut self) -> StoreResult<()> {
        self.fail()
    }
}

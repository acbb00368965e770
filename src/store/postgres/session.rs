//! Statements on one connection, for a read snapshot or the writer's transaction.

use super::{copy_error, db_error, Conn, Shared, Sqls};
use super::{DELETE, DELETE_FROM, DELETE_RANGE, GET, HEAD, JOURNAL_AFTER, JOURNAL_GET, PUT};
use crate::store::{Reader, Row, StoreError, StoreResult, Table};
use futures_util::FutureExt;
use std::cell::{Cell, RefCell};
use std::ops::Bound;
use tokio_postgres::types::ToSql;

/// Journal rows fetched per round trip by `journal_visit`: a consumer's batch of 50,000 is then
/// never all in memory twice (rows and their copies), and the snapshot keeps it consistent.
const VISIT_CHUNK: usize = 1000;

/// A statement parameter, owned: the statement runs on the engine's runtime, not on the
/// caller's stack.
pub(super) enum Arg {
    Str(&'static str),
    Bytes(Vec<u8>),
    Int(i64),
    Ints(Vec<i64>),
    Blobs(Vec<Vec<u8>>),
}

impl Arg {
    fn sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Arg::Str(s) => s,
            Arg::Bytes(b) => b,
            Arg::Int(i) => i,
            Arg::Ints(v) => v,
            Arg::Blobs(v) => v,
        }
    }
}

fn seq_arg(seq: u64) -> Arg {
    Arg::Int(i64::try_from(seq).unwrap_or(i64::MAX))
}

fn limit_arg(limit: usize) -> Arg {
    Arg::Int(i64::try_from(limit).unwrap_or(i64::MAX))
}

enum Out {
    Rows(Vec<tokio_postgres::Row>),
    Count(u64),
}

/// One connection's statements. Statements without parameters or results (BEGIN, the
/// writer's lock and savepoints) are not sent on their own: they wait in `pending` and go
/// ahead of the next real statement, pipelined with it, so they cost no round trip.
pub(super) struct Session<'a> {
    pub(super) shared: &'a Shared,
    conn: RefCell<&'a mut Conn>,
    pending: RefCell<String>,
    /// The first error since the transaction was last clean: PostgreSQL refuses every
    /// statement after a failed one until a rollback to a savepoint, so later statements fail
    /// at once with the error that matters.
    failed: RefCell<Option<StoreError>>,
    /// The failure of a deferred statement (a savepoint's release or rollback): which job's
    /// work it undid cannot be told any more, so the whole transaction must not commit.
    doomed: RefCell<Option<StoreError>>,
    /// Whether anything was sent, so the transaction must be ended.
    sent: Cell<bool>,
}

impl<'a> Session<'a> {
    pub(super) fn new(shared: &'a Shared, conn: &'a mut Conn, begin: &str) -> Session<'a> {
        Session {
            shared,
            conn: RefCell::new(conn),
            pending: RefCell::new(begin.to_string()),
            failed: RefCell::new(None),
            doomed: RefCell::new(None),
            sent: Cell::new(false),
        }
    }

    /// Queues a statement to go ahead of the next one (`sql` ends with "; ").
    pub(super) fn defer(&self, sql: &str) {
        self.pending.borrow_mut().push_str(sql);
    }

    /// Takes back the deferred statement `sql` when it is the last one queued (a savepoint
    /// released before anything ran in it needs neither statement).
    pub(super) fn undefer(&self, sql: &str) -> bool {
        let mut pending = self.pending.borrow_mut();
        if pending.ends_with(sql) {
            let keep = pending.len() - sql.len();
            pending.truncate(keep);
            true
        } else {
            false
        }
    }

    pub(super) fn failure(&self) -> Option<StoreError> {
        self.failed.borrow().as_ref().map(copy_error)
    }

    /// Forgets the failure: a rollback to a savepoint is queued.
    pub(super) fn take_failure(&self) -> Option<StoreError> {
        self.failed.borrow_mut().take()
    }

    pub(super) fn doomed(&self) -> Option<StoreError> {
        self.doomed.borrow().as_ref().map(copy_error)
    }

    pub(super) fn sent(&self) -> bool {
        self.sent.get()
    }

    pub(super) fn closed(&self) -> bool {
        self.conn.borrow().client.is_closed()
    }

    pub(super) fn sql(&self) -> &Sqls {
        &self.shared.sql
    }

    /// Ends a read: its COMMIT is sent now and awaited by nobody. The request is queued on
    /// the connection before it goes back to the pool, so the next read's statements follow
    /// it; a read-only commit has nothing to report.
    pub(super) fn end_read(&self) {
        if self.sent.get() {
            let client = self.conn.borrow().client.clone();
            // Polling once sends the request (tokio-postgres sends on first poll).
            let _ = client.batch_execute("COMMIT").now_or_never();
        }
    }

    /// Sends what is deferred followed by `tail`, and waits: the writer's COMMIT.
    pub(super) fn flush(&self, tail: &str) -> StoreResult<()> {
        let mut sql = std::mem::take(&mut *self.pending.borrow_mut());
        sql.push_str(tail);
        let client = self.conn.borrow().client.clone();
        self.sent.set(true);
        let r = self
            .shared
            .call(async move { client.batch_execute(&sql).await })
            .and_then(|r| r.map_err(db_error));
        if let Err(e) = &r {
            self.failed
                .borrow_mut()
                .get_or_insert_with(|| copy_error(e));
        }
        r
    }

    /// Drops what is deferred (a transaction in which nothing ran).
    pub(super) fn discard(&self) {
        self.pending.borrow_mut().clear();
    }

    fn run(&self, id: usize, args: Vec<Arg>, want_rows: bool) -> StoreResult<Out> {
        if let Some(e) = self.failure() {
            return Err(e);
        }
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        let (client, cached) = {
            let c = self.conn.borrow();
            (c.client.clone(), c.statements[id].clone())
        };
        let text = match cached {
            Some(_) => String::new(),
            None => self.shared.sql.text(id).to_string(),
        };
        self.sent.set(true);
        let r = self.shared.call(async move {
            let before = async {
                match pending.is_empty() {
                    true => Ok(()),
                    false => client.batch_execute(&pending).await,
                }
            };
            let main = async {
                let st = match cached {
                    Some(st) => st,
                    None => client.prepare(&text).await?,
                };
                let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(Arg::sql).collect();
                let out = match want_rows {
                    true => Out::Rows(client.query(&st, &params).await?),
                    false => Out::Count(client.execute(&st, &params).await?),
                };
                Ok((st, out))
            };
            // Both requests go out before either answer is awaited (the order of first polls).
            futures_util::future::join(before, main).await
        });
        let r = match r {
            Ok((Err(e), _)) => {
                let e = db_error(e);
                self.doomed
                    .borrow_mut()
                    .get_or_insert_with(|| copy_error(&e));
                Err(e)
            }
            Ok((Ok(()), Ok((st, out)))) => {
                self.conn.borrow_mut().statements[id] = Some(st);
                Ok(out)
            }
            Ok((Ok(()), Err(e))) => Err(db_error(e)),
            Err(e) => Err(e),
        };
        if let Err(e) = &r {
            *self.failed.borrow_mut() = Some(copy_error(e));
        }
        r
    }

    pub(super) fn query(&self, id: usize, args: Vec<Arg>) -> StoreResult<Vec<tokio_postgres::Row>> {
        match self.run(id, args, true)? {
            Out::Rows(rows) => Ok(rows),
            Out::Count(_) => unreachable!("asked for rows"),
        }
    }

    pub(super) fn execute(&self, id: usize, args: Vec<Arg>) -> StoreResult<u64> {
        match self.run(id, args, false)? {
            Out::Count(n) => Ok(n),
            Out::Rows(_) => unreachable!("asked for a count"),
        }
    }

    /// The journal's head as committed (or as this transaction left it).
    pub(super) fn committed_head(&self) -> StoreResult<u64> {
        let rows = self.query(HEAD, vec![])?;
        let head: i64 = column(rows.first(), 0, "journal")?;
        Ok(head.max(0) as u64)
    }

    pub(super) fn put(&self, table: Table, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.execute(
            PUT,
            vec![
                Arg::Str(table.0),
                Arg::Bytes(key.to_vec()),
                Arg::Bytes(value.to_vec()),
            ],
        )
        .map(|_| ())
    }

    pub(super) fn delete(&self, table: Table, key: &[u8]) -> StoreResult<bool> {
        self.execute(DELETE, vec![Arg::Str(table.0), Arg::Bytes(key.to_vec())])
            .map(|n| n > 0)
    }

    pub(super) fn delete_prefix(&self, table: Table, prefix: &[u8]) -> StoreResult<u64> {
        match crate::store::prefix_end(prefix) {
            Some(end) => self.execute(
                DELETE_RANGE,
                vec![
                    Arg::Str(table.0),
                    Arg::Bytes(prefix.to_vec()),
                    Arg::Bytes(end),
                ],
            ),
            None => self.execute(
                DELETE_FROM,
                vec![Arg::Str(table.0), Arg::Bytes(prefix.to_vec())],
            ),
        }
    }
}

/// Column `i` of a row that must be there.
fn column<'r, T: tokio_postgres::types::FromSql<'r>>(
    row: Option<&'r tokio_postgres::Row>,
    i: usize,
    table: &'static str,
) -> StoreResult<T> {
    let row = row.ok_or_else(|| StoreError::Backend(format!("{table}: no row")))?;
    row.try_get(i).map_err(|e| StoreError::Corrupt {
        table,
        reason: e.to_string(),
    })
}

impl Reader for Session<'_> {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let rows = self.query(GET, vec![Arg::Str(table.0), Arg::Bytes(key.to_vec())])?;
        match rows.first() {
            None => Ok(None),
            Some(row) => column(Some(row), 0, table.0).map(Some),
        }
    }

    fn scan(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> StoreResult<Vec<Row>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut args = vec![Arg::Str(table.0)];
        for b in [&from, &to] {
            if let Bound::Included(k) | Bound::Excluded(k) = b {
                args.push(Arg::Bytes(k.to_vec()));
            }
        }
        args.push(limit_arg(limit));
        let rows = self.query(Sqls::scan(&from, &to, reverse), args)?;
        rows.iter()
            .map(|r| Ok((column(Some(r), 0, table.0)?, column(Some(r), 1, table.0)?)))
            .collect()
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
        let mut n = 0;
        let mut after = after;
        while n < limit {
            let want = (limit - n).min(VISIT_CHUNK);
            let rows = self.query(JOURNAL_AFTER, vec![seq_arg(after), limit_arg(want)])?;
            for row in &rows {
                let seq: i64 = column(Some(row), 0, "journal")?;
                let record: &[u8] = column(Some(row), 1, "journal")?;
                f(seq as u64, record);
                after = seq as u64;
                n += 1;
            }
            if rows.len() < want {
                break;
            }
        }
        Ok(n)
    }

    fn journal_get(&self, seq: u64) -> StoreResult<Option<Vec<u8>>> {
        if i64::try_from(seq).is_err() {
            return Ok(None);
        }
        let rows = self.query(JOURNAL_GET, vec![seq_arg(seq)])?;
        match rows.first() {
            None => Ok(None),
            Some(row) => column(Some(row), 0, "journal").map(Some),
        }
    }

    fn journal_head(&self) -> StoreResult<u64> {
        self.committed_head()
    }
}

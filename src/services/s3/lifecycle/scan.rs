//! Reading a bucket for lifecycle, a page at a time, each page on a snapshot of its own (so no
//! scan holds the writer or one long read): every key with its versions, in key order
//! (`s3.objects` merged with `s3.versions`), and the bucket's uploads. What a page shows is
//! only a hint: the writes read each key again in their transaction.

use crate::error::AwsError;
use crate::services::s3::lifecycle::History;
use crate::services::s3::{internal, object_key, Object, Upload, OBJECTS, UPLOADS, VERSIONS};
use crate::store::{prefix_end, Row, Store, Table};
use serde::de::DeserializeOwned;
use std::collections::VecDeque;
use std::ops::Bound;

/// Rows read per snapshot.
pub const PAGE: usize = 1000;

/// One table's rows under a bucket, read forward a page at a time.
struct Pages {
    table: Table,
    lower: Vec<u8>,
    inclusive: bool,
    upper: Vec<u8>,
    buf: VecDeque<Row>,
    exhausted: bool,
}

impl Pages {
    fn new(table: Table, bucket: &str) -> Pages {
        let lower = object_key(bucket, "");
        let upper = prefix_end(&lower).expect("bucket keys end below 0xff");
        Pages {
            table,
            lower,
            inclusive: true,
            upper,
            buf: VecDeque::new(),
            exhausted: false,
        }
    }

    fn peek(&mut self, store: &Store) -> Result<Option<&Row>, AwsError> {
        if self.buf.is_empty() && !self.exhausted {
            let (table, lower, upper) = (self.table, &self.lower, &self.upper);
            let from = if self.inclusive {
                Bound::Included(lower.as_slice())
            } else {
                Bound::Excluded(lower.as_slice())
            };
            let rows = store
                .read(|r| r.scan(table, from, Bound::Excluded(upper.as_slice()), PAGE, false))?;
            self.exhausted = rows.len() < PAGE;
            if let Some((last, _)) = rows.last() {
                self.lower = last.clone();
                self.inclusive = false;
            }
            self.buf.extend(rows);
        }
        Ok(self.buf.front())
    }

    fn pop<T: DeserializeOwned>(&mut self) -> Result<Option<T>, AwsError> {
        match self.buf.pop_front() {
            Some((_, v)) => Ok(Some(serde_json::from_slice(&v).map_err(internal)?)),
            None => Ok(None),
        }
    }
}

/// A key and its versions as one scan saw them.
pub struct KeyVersions {
    pub key: String,
    pub current: Option<Object>,
    pub older: Vec<Object>,
}

impl KeyVersions {
    pub fn history(&self) -> History<'_> {
        History {
            key: &self.key,
            current: self.current.as_ref(),
            older: &self.older,
        }
    }
}

/// Every key of a bucket with its versions, in key order.
pub struct Keys {
    base: usize,
    current: Pages,
    older: Pages,
}

/// The key part of an `s3.versions` row (`<bucket>/<key>\0<inverted sequence>`).
fn versions_key(row: &[u8], base: usize) -> &[u8] {
    let end = row.iter().rposition(|&c| c == 0).unwrap_or(row.len());
    &row[base.min(end)..end]
}

impl Keys {
    pub fn new(bucket: &str) -> Keys {
        Keys {
            base: object_key(bucket, "").len(),
            current: Pages::new(OBJECTS, bucket),
            older: Pages::new(VERSIONS, bucket),
        }
    }

    pub fn next(&mut self, store: &Store) -> Result<Option<KeyVersions>, AwsError> {
        let base = self.base;
        let a = self.current.peek(store)?.map(|(k, _)| k[base..].to_vec());
        let b = self
            .older
            .peek(store)?
            .map(|(k, _)| versions_key(k, base).to_vec());
        let key = match (&a, b) {
            (None, None) => return Ok(None),
            (Some(a), None) => a.clone(),
            (None, Some(b)) => b,
            (Some(a), Some(b)) => b.min(a.clone()),
        };
        let current = match a {
            Some(a) if a == key => self.current.pop()?,
            _ => None,
        };
        let mut older = Vec::new();
        while let Some((k, _)) = self.older.peek(store)? {
            if versions_key(k, base) != key.as_slice() {
                break;
            }
            older.extend(self.older.pop::<Object>()?);
        }
        Ok(Some(KeyVersions {
            key: String::from_utf8_lossy(&key).into_owned(),
            current,
            older,
        }))
    }
}

/// Every upload in progress in a bucket, in key order.
pub struct Uploads(Pages);

impl Uploads {
    pub fn new(bucket: &str) -> Uploads {
        Uploads(Pages::new(UPLOADS, bucket))
    }

    pub fn next(&mut self, store: &Store) -> Result<Option<Upload>, AwsError> {
        if self.0.peek(store)?.is_none() {
            return Ok(None);
        }
        self.0.pop()
    }
}

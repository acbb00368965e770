//! Event history: the journal consumer that indexes management events for LookupEvents, and the
//! query over that index.
//!
//! The index is derived data and lives in a store of its own (its own database file and writer),
//! so indexing runs beside the API's commits instead of queueing behind them. The consumer reads
//! the journal after its cursor and writes the index and the new cursor in one commit of the
//! index store, so after a crash it resumes exactly where it stopped.
//!
//! Every LookupEvents question is (account, region, at most one attribute = value, a time
//! window, newest first). Each (account, region, attribute, value) is a *list* of event
//! positions `(time, seq)`, stored as chunks (see `chunk.rs`) keyed by
//! `<list prefix><max time><max seq>`. Chunks of one list never overlap, so a query reads the
//! chunks around its window newest first and stops as soon as it has a page. Event ids are
//! unique, so instead of a list each, they hash into 64 lists whose entries carry a 64-bit
//! fingerprint of the id.

mod chunk;
mod query;

pub use query::lookup;

use super::journal;
use crate::background::Nudge;
use crate::store::{Reader, Store, StoreError, StoreResult, Table, Writer};
use chunk::Entry;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

pub const CHUNKS: Table = Table("history.chunks");
pub const CURSOR: Table = Table("history.cursor");
const CURSOR_KEY: &[u8] = b"cursor";
const FORMAT_KEY: &[u8] = b"format";
/// The index layout this code writes. An index in another layout is rebuilt from the journal.
const FORMAT: &[u8] = b"chunks-2";
/// Event ids hash into 2^6 lists: a batch touches at most 64 of them, and a lookup by id decodes
/// a sixty-fourth of the index's ids (some 16,000 fingerprints per million events, about 1 ms).
const EVENT_ID_BUCKET_BITS: u32 = 6;
/// Where the first layout kept one row per (event, list).
const FORMER_ROWS: Table = Table("history.index");
/// Journal entries indexed per commit at most.
const BATCH: usize = 50_000;
/// The most positions a chunk holds: a batch's entries for a busy list are split, so a lookup
/// decodes at most this many to reach its page, however many events a batch gathered.
const MAX_CHUNK: usize = 4096;
/// A list's newest chunk with fewer entries than this takes the next batch's entries into
/// itself rather than getting a small neighbour: quiet lists keep few chunks.
const SMALL_CHUNK: usize = 64;
/// Between two batches the consumer waits this long, unless a lookup asks for the history to
/// be current (then it indexes at once): under load a batch gathers thousands of events. A
/// commit rewrites the pages of every list the batch touches (some 70 under load, most of them
/// event-id buckets), so its cost is nearly the same for 500 events as for 2,500: at 20 ms the
/// index's writer took 2.2-2.6 µs per event, at 100 ms 1.0, at 250 ms 0.5, at 1 s 0.2 (36,000
/// calls a second). At 10,000 calls a second, the whole of recording cost 5.2 µs of CPU per
/// call at 250 ms and 4.4 at 1 s.
const PAUSE: Duration = Duration::from_millis(1000);

/// The attribute part of the key; `All` lists every event by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribute {
    All,
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl Attribute {
    pub fn parse(key: &str) -> Option<Attribute> {
        Some(match key {
            "EventId" => Attribute::EventId,
            "EventName" => Attribute::EventName,
            "ReadOnly" => Attribute::ReadOnly,
            "Username" => Attribute::Username,
            "ResourceType" => Attribute::ResourceType,
            "ResourceName" => Attribute::ResourceName,
            "EventSource" => Attribute::EventSource,
            "AccessKeyId" => Attribute::AccessKeyId,
            _ => return None,
        })
    }

    fn code(self) -> u8 {
        match self {
            Attribute::All => b'*',
            Attribute::EventId => b'i',
            Attribute::EventName => b'n',
            Attribute::ReadOnly => b'r',
            Attribute::Username => b'u',
            Attribute::ResourceType => b't',
            Attribute::ResourceName => b'm',
            Attribute::EventSource => b's',
            Attribute::AccessKeyId => b'k',
        }
    }
}

/// Where one question's answers are listed: the list's key prefix, and the fingerprint its
/// entries must carry (event ids only).
pub struct List {
    pub prefix: Vec<u8>,
    pub tag: Option<u64>,
}

/// FNV-1a, 64 bits, then MurmurHash3's finalizer: stable across versions and platforms, which
/// the stored index needs, and with well-mixed high bits (they pick the bucket; FNV alone
/// leaves them poorly spread for ids that differ only at the end).
fn fingerprint(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h.max(1)
}

pub fn list(account: &str, region: &str, attr: Attribute, value: &str) -> List {
    let mut prefix = Vec::with_capacity(account.len() + region.len() + value.len() + 5);
    let tag = list_into(&mut prefix, account, region, attr, value);
    List { prefix, tag }
}

/// Writes the prefix of a list into `k` (cleared first) and returns the event-id tag, if any:
/// indexing reuses one buffer instead of allocating a key per attribute per event.
fn list_into(
    k: &mut Vec<u8>,
    account: &str,
    region: &str,
    attr: Attribute,
    value: &str,
) -> Option<u64> {
    k.clear();
    k.extend_from_slice(account.as_bytes());
    k.push(0);
    k.extend_from_slice(region.as_bytes());
    k.push(0);
    k.push(attr.code());
    k.push(0);
    let tag = if attr == Attribute::EventId {
        let tag = fingerprint(value);
        let bucket = (tag >> (64 - EVENT_ID_BUCKET_BITS)) as u8;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        k.extend_from_slice(&[HEX[usize::from(bucket >> 4)], HEX[usize::from(bucket & 15)]]);
        Some(tag)
    } else {
        k.extend_from_slice(value.as_bytes());
        None
    };
    k.push(0);
    tag
}

/// The key of a chunk: its list, then its newest position.
fn chunk_key(prefix: &[u8], (time, seq): (i64, u64)) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 16);
    k.extend_from_slice(prefix);
    k.extend_from_slice(&(time.max(0) as u64).to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// What indexing reads of a record; borrowed, since it runs once per event.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Indexed<'a> {
    #[serde(rename = "eventID", borrow)]
    event_id: Cow<'a, str>,
    #[serde(borrow)]
    event_name: Cow<'a, str>,
    #[serde(borrow)]
    event_source: Cow<'a, str>,
    #[serde(borrow)]
    event_time: Cow<'a, str>,
    #[serde(borrow)]
    aws_region: Cow<'a, str>,
    read_only: Option<bool>,
    management_event: Option<bool>,
    #[serde(borrow)]
    recipient_account_id: Cow<'a, str>,
    #[serde(borrow)]
    user_identity: IndexedIdentity<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexedIdentity<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    arn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    access_key_id: Option<Cow<'a, str>>,
}

/// The LookupEvents `Username` of a record's identity.
fn username<'a>(id: &'a IndexedIdentity<'a>) -> Option<&'a str> {
    username_of(
        id.kind.as_deref(),
        id.user_name.as_deref(),
        id.arn.as_deref(),
    )
}

/// The LookupEvents `Username` of a record's `userIdentity` (its `type`, `userName` and
/// `arn`): what a lookup by Username matches and what the Event it returns shows.
pub fn username_of<'a>(
    kind: Option<&str>,
    user_name: Option<&'a str>,
    arn: Option<&'a str>,
) -> Option<&'a str> {
    match kind {
        Some("Root") => Some("root"),
        Some("AssumedRole") | Some("FederatedUser") => arn.and_then(|a| a.rsplit('/').next()),
        _ => user_name,
    }
}

/// Epoch seconds of a record's `eventTime` (`2024-01-15T10:20:30Z`). Indexing and delivery read
/// one per event, so the exact layout CloudTrail writes is parsed by hand (chrono's format
/// parsing took a twentieth of the indexer's time); anything else goes through chrono.
pub fn event_time_epoch(s: &str) -> Option<i64> {
    fast_epoch(s.as_bytes()).or_else(|| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ")
            .ok()
            .map(|t| t.and_utc().timestamp())
    })
}

fn fast_epoch(b: &[u8]) -> Option<i64> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&m)
        || d < 1
        || d > crate::clock::days_in_month(y, m)
        || h > 23
        || mi > 59
        || sec > 59
    {
        return None;
    }
    let days = crate::clock::days_from_civil(y, m, d);
    Some(days * 86_400 + h * 3_600 + mi * 60 + sec)
}

/// A list's key prefix and a batch's entries for it.
type Posted = (Vec<u8>, Vec<Entry>);

/// The new entries of one batch, by list.
struct Postings {
    lists: Vec<Posted>,
    /// Emptied entry vectors of an earlier batch, largest last, for new lists to take.
    spare: Vec<Vec<Entry>>,
    by_prefix: BTreeMap<Vec<u8>, usize>,
    /// The list each attribute's entry went to last (per event-id bucket for ids). Consecutive
    /// events mostly share account, region and values, so most entries find their list by
    /// comparing one key instead of searching the map, which was a fifth of indexing.
    recent: [Option<usize>; Postings::SLOTS],
    key: Vec<u8>,
}

impl Postings {
    const SLOTS: usize = 16 + (1 << EVENT_ID_BUCKET_BITS);

    fn new(spare: Vec<Vec<Entry>>) -> Postings {
        Postings {
            lists: Vec::new(),
            spare,
            by_prefix: BTreeMap::new(),
            recent: [None; Postings::SLOTS],
            key: Vec::with_capacity(96),
        }
    }

    fn add(&mut self, account: &str, region: &str, attr: Attribute, value: &str, at: (i64, u64)) {
        let tag = list_into(&mut self.key, account, region, attr, value);
        let slot = match tag {
            Some(tag) => 16 + (tag >> (64 - EVENT_ID_BUCKET_BITS)) as usize,
            None => attr as usize,
        };
        let entry = Entry {
            time: at.0,
            seq: at.1,
            tag: tag.unwrap_or(0),
        };
        let i = match self.recent[slot] {
            Some(i) if self.lists[i].0 == self.key => i,
            _ => {
                let i = match self.by_prefix.get(self.key.as_slice()) {
                    Some(&i) => i,
                    None => {
                        // The first lists of a batch are the busiest (every event has an
                        // account-wide entry, a name, a source): they take the largest.
                        let entries = self.spare.pop().unwrap_or_default();
                        self.lists.push((self.key.clone(), entries));
                        self.by_prefix
                            .insert(self.key.clone(), self.lists.len() - 1);
                        self.lists.len() - 1
                    }
                };
                self.recent[slot] = Some(i);
                i
            }
        };
        self.lists[i].1.push(entry);
    }

    /// The lists in key order, which is the index's order on disk, and the spare vectors no
    /// list took.
    fn into_lists(self) -> (Vec<Posted>, Vec<Vec<Entry>>) {
        let mut lists = self.lists;
        lists.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        (lists, self.spare)
    }
}

/// The index keys of a record made before entries carried them, read from the record itself.
fn keys_from_record(record: &[u8]) -> Option<journal::IndexKeys<'_>> {
    let ev = serde_json::from_slice::<Indexed>(record).ok()?;
    Some(journal::IndexKeys {
        event_time: event_time_epoch(&ev.event_time)?,
        username: username(&ev.user_identity).map(|u| Cow::Owned(u.to_string())),
        access_key_id: ev
            .user_identity
            .access_key_id
            .clone()
            .filter(|k| !k.is_empty()),
        event_id: ev.event_id,
        event_name: ev.event_name,
        event_source: ev.event_source,
        region: ev.aws_region,
        recipient: ev.recipient_account_id,
        read_only: ev.read_only.unwrap_or(false),
        management: ev.management_event.unwrap_or(true),
    })
}

/// Adds one journal entry's positions to the batch's lists (none for data events).
fn post(postings: &mut Postings, seq: u64, entry: &[u8]) {
    let Some((meta, record)) = journal::split(entry) else {
        return;
    };
    let Some(meta) = journal::IndexMeta::parse(meta) else {
        return;
    };
    let Some(keys) = meta.keys.or_else(|| keys_from_record(record)) else {
        return;
    };
    if !keys.management {
        return;
    }
    let at = (keys.event_time, seq);
    let (acct, region) = (&*keys.recipient, &*keys.region);
    let mut add = |attr: Attribute, value: &str| postings.add(acct, region, attr, value, at);
    add(Attribute::All, "");
    add(Attribute::EventId, &keys.event_id);
    add(Attribute::EventName, &keys.event_name);
    add(Attribute::EventSource, &keys.event_source);
    add(
        Attribute::ReadOnly,
        if keys.read_only { "true" } else { "false" },
    );
    if let Some(u) = &keys.username {
        add(Attribute::Username, u);
    }
    if let Some(k) = &keys.access_key_id {
        add(Attribute::AccessKeyId, k);
    }
    for (t, n) in &meta.lookup_resources {
        add(Attribute::ResourceType, t);
        add(Attribute::ResourceName, n);
    }
}

fn corrupt(key: &[u8]) -> StoreError {
    StoreError::Corrupt {
        table: CHUNKS.0,
        reason: format!("chunk {}", String::from_utf8_lossy(key)),
    }
}

/// Adds a batch's entries to one list. They usually all come after the list's newest chunk and
/// make a new one; when that chunk is small, or an entry belongs before its end (an event of an
/// earlier second committed late), the chunks they reach are merged with them, so chunks stay
/// disjoint and sorted. What is written is split into chunks of at most `MAX_CHUNK`.
fn add_to_list(w: &mut dyn Writer, prefix: &[u8], entries: &mut Vec<Entry>) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    entries.sort_unstable();
    let end = crate::store::prefix_end(prefix);
    let upper = match &end {
        Some(e) => Bound::Excluded(e.as_slice()),
        None => Bound::Unbounded,
    };
    let mut first = true;
    while let Some((key, value)) = w
        .scan(CHUNKS, Bound::Included(prefix), upper, 1, true)?
        .into_iter()
        .next()
    {
        let newest = chunk::decode(&value).ok_or_else(|| corrupt(&key))?;
        let overlaps = newest
            .last()
            .is_some_and(|last| last.position() > entries[0].position());
        let small = first && newest.len() < SMALL_CHUNK;
        if !(overlaps || small) {
            break;
        }
        w.delete(CHUNKS, &key)?;
        entries.extend(newest);
        entries.sort_unstable();
        first = false;
        if !overlaps {
            break;
        }
    }
    for piece in entries.chunks(MAX_CHUNK) {
        let last = piece.last().expect("chunks() yields no empty piece");
        w.put(
            CHUNKS,
            &chunk_key(prefix, last.position()),
            &chunk::encode(piece),
        )?;
    }
    Ok(())
}

pub fn cursor(r: &dyn Reader) -> StoreResult<u64> {
    Ok(r.get(CURSOR, CURSOR_KEY)?
        .and_then(|v| v.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0))
}

/// Indexes the journal batch by batch, keeping what one batch allocated for the next.
#[derive(Default)]
pub struct Indexer {
    /// The entry vectors of the last batch's lists, emptied, smallest first. A busy list's
    /// vector grows to megabytes in a batch. Allocated afresh every batch (after the allocator
    /// had handed the last ones back to the system), their pages were faulted in and zeroed
    /// again each time: half of the consumer's CPU at a batch a second.
    spare: Vec<Vec<Entry>>,
}

/// Entry vectors kept between batches: as many as a busy batch has lists (some 70).
const SPARE_VECTORS: usize = 128;

impl Indexer {
    /// Indexes what the journal holds beyond the cursor, one batch; returns how many entries.
    /// Blocking: it runs on the consumer's own thread.
    pub fn index_once(&mut self, journal: &Store, index: &Store) -> StoreResult<usize> {
        let from = index.read(|r| cursor(r))?;
        let mut postings = Postings::new(std::mem::take(&mut self.spare));
        let mut last = from;
        let n = journal.read(|r| {
            r.journal_visit(from, BATCH, &mut |seq, entry| {
                post(&mut postings, seq, entry);
                last = seq;
            })
        })?;
        let (mut lists, mut spare) = postings.into_lists();
        if n > 0 {
            lists = index.write_blocking(move |w: &mut dyn Writer| -> StoreResult<_> {
                // A reset may have wiped the journal since the read: these entries are stale.
                if cursor(w)? != from {
                    return Ok(lists);
                }
                for (prefix, entries) in &mut lists {
                    add_to_list(w, prefix, entries)?;
                }
                w.put(CURSOR, CURSOR_KEY, &last.to_be_bytes())?;
                Ok(lists)
            })?;
        }
        spare.extend(lists.into_iter().map(|(_, mut entries)| {
            entries.clear();
            entries
        }));
        spare.sort_unstable_by_key(Vec::capacity);
        let keep = spare.len().saturating_sub(SPARE_VECTORS);
        spare.drain(..keep);
        self.spare = spare;
        Ok(n)
    }
}

/// Forgets everything indexed, for a reset that wiped the journal up to `head`: indexing resumes
/// after it, and a batch the consumer read before the reset is thrown away when it commits (the
/// cursor it started from is gone).
pub async fn forget_before(index: &Store, head: u64) -> StoreResult<()> {
    index
        .write(move |w: &mut dyn Writer| -> StoreResult<()> {
            w.delete_prefix(CHUNKS, b"")?;
            w.put(CURSOR, CURSOR_KEY, &head.to_be_bytes())
        })
        .await
}

/// Makes sure the index is in this code's layout; otherwise drops it, to be rebuilt.
fn adopt(index: &Store) -> StoreResult<()> {
    index.write_blocking(|w: &mut dyn Writer| -> StoreResult<()> {
        if w.get(CURSOR, FORMAT_KEY)?.as_deref() == Some(FORMAT) {
            return Ok(());
        }
        w.delete_prefix(FORMER_ROWS, b"")?;
        w.delete_prefix(CHUNKS, b"")?;
        w.delete(CURSOR, CURSOR_KEY)?;
        w.put(CURSOR, FORMAT_KEY, FORMAT)
    })
}

/// Starts the consumer on a thread of its own at background priority: parsing and indexing a
/// batch takes milliseconds of CPU that calls should not wait behind.
pub fn start(journal: Store, index: Store, nudge: Arc<Nudge>) {
    let spawned = std::thread::Builder::new()
        .name("cairn-history".into())
        .spawn(move || {
            crate::background::lower_priority();
            run(&journal, &index, &nudge)
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "event history consumer could not start");
    }
}

/// The consumer's loop: index whatever is new, then wait a little (or until nudged).
fn run(journal: &Store, index: &Store, nudge: &Nudge) {
    if let Err(e) = adopt(index) {
        tracing::error!(error = %e, "event history index could not be prepared");
        return;
    }
    let mut indexer = Indexer::default();
    loop {
        match indexer.index_once(journal, index) {
            Ok(n) if n >= BATCH => continue,
            Ok(_) => nudge.wait(PAUSE),
            Err(StoreError::Closed) => return,
            Err(e) => {
                tracing::error!(error = %e, "event history indexing failed; retrying");
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

/// Waits until everything committed so far is indexed (bounded), so a LookupEvents right after a
/// call sees it.
pub async fn caught_up(
    journal: &Store,
    index: &Store,
    nudge: &Nudge,
    timeout: Duration,
) -> StoreResult<()> {
    journal.settle().await?;
    let head = journal.read(|r| r.journal_head())?;
    let deadline = tokio::time::Instant::now() + timeout;
    while index.read(|r| cursor(r))? < head && tokio::time::Instant::now() < deadline {
        nudge.nudge();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

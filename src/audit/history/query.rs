//! The LookupEvents question over the index: one list, a time window, newest first, a page.

use super::{chunk, chunk_key, corrupt, List, CHUNKS};
use crate::store::{Reader, StoreResult};
use std::ops::Bound;

/// Chunks read per scan while a page fills.
const CHUNKS_PER_SCAN: usize = 16;

/// One page of a lookup: (time, seq) positions newest first, and whether more follow.
///
/// The window is `start <= time <= end`; `before` (a page token's position) excludes it and
/// everything newer.
pub fn lookup(
    r: &dyn Reader,
    list: &List,
    start: i64,
    end: i64,
    before: Option<(i64, u64)>,
    limit: usize,
) -> StoreResult<(Vec<(i64, u64)>, bool)> {
    let upper = before.unwrap_or((end, u64::MAX));
    let wanted = |p: (i64, u64)| p.0 >= start && p.0 <= end && before.is_none_or(|b| p < b);
    let mut found: Vec<(i64, u64)> = Vec::with_capacity(limit + 1);
    let take = |value: &[u8], key: &[u8], found: &mut Vec<(i64, u64)>| -> StoreResult<()> {
        let entries = chunk::decode(value).ok_or_else(|| corrupt(key))?;
        // One past the page tells whether more follow; nothing further is needed.
        let room = (limit + 1).saturating_sub(found.len());
        found.extend(
            entries
                .iter()
                .rev()
                .filter(|e| list.tag.is_none_or(|t| e.tag == t))
                .map(|e| e.position())
                .filter(|p| wanted(*p))
                .take(room),
        );
        Ok(())
    };
    // Chunks are disjoint and keyed by their newest position: the one chunk that reaches past
    // `upper` is the first at or after it; everything older lies in the chunks before it.
    let upper_key = chunk_key(&list.prefix, upper);
    let end_of_list = crate::store::prefix_end(&list.prefix);
    let list_end = match &end_of_list {
        Some(e) => Bound::Excluded(e.as_slice()),
        None => Bound::Unbounded,
    };
    if let Some((k, v)) = r
        .scan(CHUNKS, Bound::Included(&upper_key), list_end, 1, false)?
        .into_iter()
        .next()
    {
        take(&v, &k, &mut found)?;
    }
    let low = chunk_key(&list.prefix, (start, 0));
    let mut high = upper_key;
    while found.len() <= limit {
        let rows = r.scan(
            CHUNKS,
            Bound::Included(&low),
            Bound::Excluded(&high),
            CHUNKS_PER_SCAN,
            true,
        )?;
        for (k, v) in &rows {
            take(v, k, &mut found)?;
        }
        match rows.into_iter().last() {
            Some((k, _)) if found.len() <= limit => high = k,
            _ => break,
        }
    }
    let more = found.len() > limit;
    found.truncate(limit);
    Ok((found, more))
}

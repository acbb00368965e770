//! Deleted trails that still owe deliveries (spec cloudtrail.md §3.10, §8.5): DeleteTrail does
//! what StopLogging does before the trail goes, so its last log file (holding the DeleteTrail
//! event) and, when validated, its final digests are still delivered after it is gone.
//!
//! DeleteTrail keeps a copy of the stopped trail here and, in the same commit, moves the
//! consumers' state (delivery cursor, digest chains and undigested files) from the ARN to the
//! copy's own state key: a trail created again under the same name starts with no history,
//! and a consumer still working on the old trail cannot write into the new one's state
//! ([`owns`]). Once everything is delivered the copy and its state are dropped.

use super::{Cursor, CURSORS};
use crate::error::AwsError;
use crate::services::cloudtrail::model::{Trail, TRAILS};
use crate::store::{Reader, ReaderExt, StoreError, Table, Writer, WriterExt};

/// Deleted trails by state key (`<ARN>#<created>`).
pub const RETIRED: Table = Table("delivery.retired");

/// DeleteTrail's hook, in its transaction, with the trail already stopped.
pub fn retire(w: &mut dyn Writer, mut t: Trail) -> Result<(), AwsError> {
    let live = t.state_key();
    let cursor: Option<Cursor> = w.get_json(CURSORS, live.as_bytes())?;
    w.delete(CURSORS, live.as_bytes())?;
    if t.logging_periods.is_empty() {
        // Never logged: nothing was or will be delivered.
        crate::digests::drop_state(w, &live)?;
        return Ok(());
    }
    t.retired = true;
    let key = t.state_key();
    if let Some(c) = cursor {
        w.put_json(CURSORS, key.as_bytes(), &c)?;
    }
    crate::digests::move_state(w, &live, &key)?;
    w.put_json(RETIRED, key.as_bytes(), &t)?;
    Ok(())
}

/// Every deleted trail still finishing.
pub fn all(r: &dyn Reader) -> Result<Vec<Trail>, StoreError> {
    Ok(r.scan_prefix_json::<Trail>(RETIRED, b"", usize::MAX)?
        .into_iter()
        .map(|(_, t)| t)
        .collect())
}

/// Whether `t` (as a consumer read it at the start of its cycle) still owns its state: a live
/// trail that was not deleted (and perhaps created again) since, or a deleted one not yet
/// finished. A consumer commits nothing for a trail it no longer owns.
pub fn owns(r: &dyn Reader, t: &Trail) -> Result<bool, StoreError> {
    if t.retired {
        return Ok(r.get(RETIRED, t.state_key().as_bytes())?.is_some());
    }
    Ok(r.get_json::<Trail>(TRAILS, &t.key())?
        .is_some_and(|now| now.created == t.created))
}

/// Drops a deleted trail once its last log file is delivered and its digest chains are
/// closed.
pub fn finish_if_done(w: &mut dyn Writer, t: &Trail) -> Result<bool, StoreError> {
    let key = t.state_key();
    let Some(stored) = w.get_json::<Trail>(RETIRED, key.as_bytes())? else {
        return Ok(false);
    };
    let done = w
        .get_json::<Cursor>(CURSORS, key.as_bytes())?
        .map(|c| c.done)
        .unwrap_or(0);
    let until = stored
        .logging_periods
        .last()
        .and_then(|p| p.1)
        .unwrap_or(u64::MAX);
    if done + 1 < until || !crate::digests::settled(w, &key)? {
        return Ok(false);
    }
    w.delete(RETIRED, key.as_bytes())?;
    w.delete(CURSORS, key.as_bytes())?;
    crate::digests::drop_state(w, &key)?;
    Ok(true)
}

//! Chunks of the event-history index: the positions of one batch of events in one list, packed.
//!
//! A row per (event, list) made indexing cost as much as everything else a call does; a row per
//! (batch, list) costs a few per batch. Positions are `(time, seq)`, sorted ascending and
//! delta-encoded as varints, so a chunk of a thousand positions is about three kilobytes.
//! Event-id lists also carry each event's 64-bit id fingerprint (see `mod.rs`).

/// One indexed event in a list: its time (epoch seconds), journal sequence, and fingerprint
/// (0 outside event-id lists).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub time: i64,
    pub seq: u64,
    pub tag: u64,
}

impl Entry {
    pub fn position(&self) -> (i64, u64) {
        (self.time, self.seq)
    }
}

const PLAIN: u8 = 0;
const TAGGED: u8 = 1;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Packs entries that are sorted by (time, seq).
pub fn encode(entries: &[Entry]) -> Vec<u8> {
    let tagged = entries.iter().any(|e| e.tag != 0);
    let mut out = Vec::with_capacity(2 + entries.len() * if tagged { 12 } else { 4 });
    out.push(if tagged { TAGGED } else { PLAIN });
    put_varint(&mut out, entries.len() as u64);
    let (mut time, mut seq) = (0i64, 0u64);
    for e in entries {
        // Times never go backwards in a sorted chunk; sequence numbers may (an event built in
        // one second can commit after one built in the next).
        put_varint(&mut out, (e.time.max(0) - time) as u64);
        put_varint(&mut out, zigzag(e.seq.wrapping_sub(seq) as i64));
        if tagged {
            out.extend_from_slice(&e.tag.to_le_bytes());
        }
        time = e.time.max(0);
        seq = e.seq;
    }
    out
}

/// The entries of a chunk, ascending; None when the bytes are not a chunk.
pub fn decode(bytes: &[u8]) -> Option<Vec<Entry>> {
    let tagged = match *bytes.first()? {
        PLAIN => false,
        TAGGED => true,
        _ => return None,
    };
    let mut at = 1;
    let n = get_varint(bytes, &mut at)? as usize;
    let mut out = Vec::with_capacity(n.min(bytes.len()));
    let (mut time, mut seq) = (0i64, 0u64);
    for _ in 0..n {
        time = time.checked_add(i64::try_from(get_varint(bytes, &mut at)?).ok()?)?;
        seq = seq.wrapping_add(unzigzag(get_varint(bytes, &mut at)?) as u64);
        let tag = if tagged {
            let raw = bytes.get(at..at + 8)?;
            at += 8;
            u64::from_le_bytes(raw.try_into().ok()?)
        } else {
            0
        };
        out.push(Entry { time, seq, tag });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_plain_and_tagged() {
        let plain = vec![
            Entry {
                time: 100,
                seq: 7,
                tag: 0,
            },
            Entry {
                time: 100,
                seq: 9,
                tag: 0,
            },
            Entry {
                time: 101,
                seq: 8,
                tag: 0,
            },
            Entry {
                time: 4_000_000_000,
                seq: u64::MAX / 2,
                tag: 0,
            },
        ];
        let bytes = encode(&plain);
        assert_eq!(bytes[0], PLAIN);
        assert_eq!(decode(&bytes).unwrap(), plain);
        let tagged = vec![
            Entry {
                time: 5,
                seq: 1,
                tag: u64::MAX,
            },
            Entry {
                time: 6,
                seq: 2,
                tag: 0,
            },
        ];
        assert_eq!(decode(&encode(&tagged)).unwrap(), tagged);
        assert_eq!(decode(&encode(&[])).unwrap(), vec![]);
    }

    #[test]
    fn a_thousand_positions_of_a_busy_list_take_about_three_bytes_each() {
        let entries: Vec<Entry> = (0..1000)
            .map(|i| Entry {
                time: 1_700_000_000 + i / 300,
                seq: 5_000_000 + i as u64 * 7,
                tag: 0,
            })
            .collect();
        let bytes = encode(&entries);
        assert!(bytes.len() < 3 * 1000, "{} bytes", bytes.len());
        assert_eq!(decode(&bytes).unwrap(), entries);
    }

    #[test]
    fn garbage_is_not_a_chunk() {
        assert_eq!(decode(b""), None);
        assert_eq!(decode(b"\x07"), None);
        assert_eq!(decode(b"\x00\x05\x01"), None);
        assert_eq!(decode(b"\x01\x01\x01\x01\x00"), None);
    }
}

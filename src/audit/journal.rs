//! The journal entry: the CloudTrail record exactly as it is delivered (its bytes are what
//! LookupEvents returns as `CloudTrailEvent` and what log files hold), preceded by what the
//! consumers need that the record does not say.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// What an entry's meta holds for LookupEvents' answer (`decode`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// LookupEvents' `Resources`: (ResourceType, ResourceName).
    pub lookup_resources: Vec<(String, String)>,
}

/// What event history indexes a record by, as the record says it: written beside the record
/// when the record is made (the values are at hand then), so indexing reads these few fields
/// instead of parsing the whole record, which was half of its work. Entries without it (made
/// before it existed) are indexed from the record.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct IndexKeys<'a> {
    #[serde(borrow)]
    pub event_id: Cow<'a, str>,
    #[serde(borrow)]
    pub event_name: Cow<'a, str>,
    #[serde(borrow)]
    pub event_source: Cow<'a, str>,
    /// `eventTime`, in seconds since the epoch.
    pub event_time: i64,
    #[serde(borrow)]
    pub region: Cow<'a, str>,
    #[serde(borrow)]
    pub recipient: Cow<'a, str>,
    pub read_only: bool,
    pub management: bool,
    /// LookupEvents' `Username`.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<Cow<'a, str>>,
}

/// The meta as its readers see it, borrowed from the entry.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
pub struct IndexMeta<'a> {
    #[serde(default, borrow)]
    pub lookup_resources: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    #[serde(default, borrow, rename = "index")]
    pub keys: Option<IndexKeys<'a>>,
}

/// The first byte of a meta in the binary layout (`write_meta`). Metas written before it are
/// JSON objects, which start with `{`.
const BINARY: u8 = 1;
const READ_ONLY: u8 = 1;
const MANAGEMENT: u8 = 2;
const HAS_KEYS: u8 = 4;
const HAS_USERNAME: u8 = 8;
const HAS_ACCESS_KEY: u8 = 16;

impl<'a> IndexMeta<'a> {
    /// Reads a meta in either layout; None when it is neither.
    ///
    /// Every event is read back once by the history consumer, so the meta is a few
    /// length-prefixed strings rather than JSON: parsing the JSON meta with serde was the
    /// largest part of indexing an event.
    pub fn parse(meta: &'a [u8]) -> Option<IndexMeta<'a>> {
        match meta.first() {
            Some(&BINARY) => read_meta(&meta[1..]),
            Some(b'{') => serde_json::from_slice(meta).ok(),
            _ => None,
        }
    }
}

fn read_meta(b: &[u8]) -> Option<IndexMeta<'_>> {
    let mut r = Bytes(b);
    let flags = r.byte()?;
    let keys = if flags & HAS_KEYS != 0 {
        Some(IndexKeys {
            event_time: i64::from_le_bytes(r.take(8)?.try_into().ok()?),
            event_id: r.str()?,
            event_name: r.str()?,
            event_source: r.str()?,
            region: r.str()?,
            recipient: r.str()?,
            username: if flags & HAS_USERNAME != 0 {
                Some(r.str()?)
            } else {
                None
            },
            access_key_id: if flags & HAS_ACCESS_KEY != 0 {
                Some(r.str()?)
            } else {
                None
            },
            read_only: flags & READ_ONLY != 0,
            management: flags & MANAGEMENT != 0,
        })
    } else {
        None
    };
    let n = r.len()?;
    let mut lookup_resources = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        lookup_resources.push((r.str()?, r.str()?));
    }
    r.0.is_empty().then_some(IndexMeta {
        lookup_resources,
        keys,
    })
}

/// A cursor over a binary meta.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    /// A LEB128 length.
    fn len(&mut self) -> Option<usize> {
        let mut n = 0usize;
        for shift in (0..32).step_by(7) {
            let b = self.byte()?;
            n |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn str(&mut self) -> Option<Cow<'a, str>> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).ok().map(Cow::Borrowed)
    }
}

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// The binary meta: `1`, flags, then (with keys) the event time as i64 little-endian and the
/// keys' strings, then the count of lookup resources and their pairs; every string and count
/// LEB128-length-prefixed.
fn write_meta(out: &mut Vec<u8>, lookup_resources: &[(String, String)], index: Option<&IndexKeys>) {
    let mut flags = 0;
    if let Some(k) = index {
        flags |= HAS_KEYS;
        if k.read_only {
            flags |= READ_ONLY;
        }
        if k.management {
            flags |= MANAGEMENT;
        }
        if k.username.is_some() {
            flags |= HAS_USERNAME;
        }
        if k.access_key_id.is_some() {
            flags |= HAS_ACCESS_KEY;
        }
    }
    out.extend_from_slice(&[BINARY, flags]);
    if let Some(k) = index {
        out.extend_from_slice(&k.event_time.to_le_bytes());
        for s in [
            &k.event_id,
            &k.event_name,
            &k.event_source,
            &k.region,
            &k.recipient,
        ] {
            put_str(out, s);
        }
        for s in [&k.username, &k.access_key_id].into_iter().flatten() {
            put_str(out, s);
        }
    }
    put_len(out, lookup_resources.len());
    for (t, n) in lookup_resources {
        put_str(out, t);
        put_str(out, n);
    }
}

/// `[u32 big-endian length of meta][meta][record JSON]`.
pub fn encode(meta: &Meta, record: &[u8]) -> Vec<u8> {
    encode_with(&meta.lookup_resources, None, |out| {
        out.extend_from_slice(record)
    })
}

/// The entry whose meta holds `lookup_resources` and `index`, and whose record `write_record`
/// writes, in one buffer: the request path builds every entry this way.
pub fn encode_with(
    lookup_resources: &[(String, String)],
    index: Option<&IndexKeys>,
    write_record: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(1536);
    out.extend_from_slice(&[0; 4]);
    write_meta(&mut out, lookup_resources, index);
    let meta_len = (out.len() - 4) as u32;
    out[..4].copy_from_slice(&meta_len.to_be_bytes());
    write_record(&mut out);
    out
}

/// The meta and the record bytes, or None for an entry that is not in this format.
pub fn decode(entry: &[u8]) -> Option<(Meta, &[u8])> {
    let (meta, record) = split(entry)?;
    let meta = IndexMeta::parse(meta)?;
    let lookup_resources = meta
        .lookup_resources
        .into_iter()
        .map(|(t, n)| (t.into_owned(), n.into_owned()))
        .collect();
    Some((Meta { lookup_resources }, record))
}

/// The meta's bytes and the record's, without parsing either.
pub fn split(entry: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_be_bytes(entry.get(..4)?.try_into().ok()?) as usize;
    Some((entry.get(4..4 + len)?, entry.get(4 + len..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(username: Option<&str>, key: Option<&str>) -> IndexKeys<'static> {
        IndexKeys {
            event_id: "0f1e2d3c-0000-4000-8000-000000000001".into(),
            event_name: "CreateTrail".into(),
            event_source: "cloudtrail.amazonaws.com".into(),
            event_time: 1_795_514_156,
            region: "us-east-2".into(),
            recipient: "111111111111".into(),
            read_only: false,
            management: true,
            username: username.map(|u| Cow::Owned(u.to_string())),
            access_key_id: key.map(|k| Cow::Owned(k.to_string())),
        }
    }

    #[test]
    fn round_trip() {
        let meta = Meta {
            lookup_resources: vec![("AWS::CloudTrail::Trail".into(), "t".into())],
        };
        let e = encode(&meta, b"{\"a\":1}");
        let (m, r) = decode(&e).unwrap();
        assert_eq!(m, meta);
        assert_eq!(r, b"{\"a\":1}");
        let empty = encode(&Meta::default(), b"{}");
        assert_eq!(decode(&empty).unwrap(), (Meta::default(), &b"{}"[..]));
        assert!(decode(b"\xff\xff").is_none());
    }

    #[test]
    fn index_keys_round_trip_in_every_shape() {
        // A long resource name takes a length of more than one byte.
        let resources = vec![
            ("AWS::S3::Bucket".to_string(), "b".repeat(300)),
            ("AWS::CloudTrail::Trail".to_string(), "é".to_string()),
        ];
        for (username, key) in [
            (Some("admin"), Some("AKIAEXAMPLE")),
            (None, None),
            (Some("root"), None),
            (None, Some("ASIAEXAMPLE")),
        ] {
            for read_only in [false, true] {
                let mut k = keys(username, key);
                k.read_only = read_only;
                let e = encode_with(&resources, Some(&k), |out| out.extend_from_slice(b"{}"));
                let (meta, record) = split(&e).unwrap();
                assert_eq!(record, b"{}");
                let read = IndexMeta::parse(meta).unwrap();
                assert_eq!(read.keys.as_ref(), Some(&k));
                let names: Vec<(&str, &str)> = read
                    .lookup_resources
                    .iter()
                    .map(|(t, n)| (&**t, &**n))
                    .collect();
                assert_eq!(
                    names,
                    [
                        ("AWS::S3::Bucket", &*"b".repeat(300)),
                        ("AWS::CloudTrail::Trail", "é")
                    ]
                );
            }
        }
        // Cut short or with bytes left over, a meta reads as nothing.
        let e = encode_with(&resources, Some(&keys(None, None)), |_| {});
        let (meta, _) = split(&e).unwrap();
        for end in 1..meta.len() {
            assert_eq!(IndexMeta::parse(&meta[..end]), None, "cut at {end}");
        }
        assert_eq!(IndexMeta::parse(&[meta, b"x"].concat()), None);
    }

    #[test]
    fn json_metas_of_earlier_versions_still_read() {
        let k = keys(Some("admin"), Some("test"));
        let with_keys = serde_json::json!({
            "lookup_resources": [["AWS::CloudTrail::Trail", "t"]],
            "index": k,
        })
        .to_string();
        let read = IndexMeta::parse(with_keys.as_bytes()).unwrap();
        assert_eq!(read.keys, Some(k));
        assert_eq!(
            read.lookup_resources,
            [("AWS::CloudTrail::Trail".into(), "t".into())]
        );
        let empty = IndexMeta::parse(b"{}").unwrap();
        assert_eq!(empty, IndexMeta::default());
        let mut entry = 2u32.to_be_bytes().to_vec();
        entry.extend_from_slice(b"{}{\"eventID\":\"x\"}");
        assert_eq!(
            decode(&entry).unwrap(),
            (Meta::default(), &b"{\"eventID\":\"x\"}"[..])
        );
    }
}

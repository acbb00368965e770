//! The journal entry: the CloudTrail record exactly as it is delivered (its bytes are what
//! LookupEvents returns as `CloudTrailEvent` and what log files hold), preceded by what the
//! consumers need that the record does not say.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Meta {
    /// LookupEvents' `Resources`: (ResourceType, ResourceName).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lookup_resources: Vec<(String, String)>,
}

/// What event history indexes a record by, as the record says it: written beside the record
/// when the record is made (the values are at hand then), so indexing reads these few fields
/// instead of parsing the whole record, which was half of its work. Entries without it (made
/// before it existed) are indexed from the record.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct IndexKeys<'a> {
    #[serde(borrow)]
    pub event_id: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub event_name: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub event_source: std::borrow::Cow<'a, str>,
    /// `eventTime`, in seconds since the epoch.
    pub event_time: i64,
    #[serde(borrow)]
    pub region: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub recipient: std::borrow::Cow<'a, str>,
    pub read_only: bool,
    pub management: bool,
    /// LookupEvents' `Username`.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub username: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<std::borrow::Cow<'a, str>>,
}

/// The meta as indexing reads it: borrowed from the entry.
#[derive(Deserialize)]
pub struct IndexMeta<'a> {
    #[serde(default, borrow)]
    pub lookup_resources: Vec<(std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
    #[serde(default, borrow, rename = "index")]
    pub keys: Option<IndexKeys<'a>>,
}

/// `[u32 big-endian length of meta][meta JSON][record JSON]`.
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
    if lookup_resources.is_empty() && index.is_none() {
        // What `Meta::default()` serializes to, without a trip through serde.
        out.extend_from_slice(b"{}");
    } else {
        serde_json::to_writer(
            &mut out,
            &MetaRef {
                lookup_resources,
                index,
            },
        )
        .expect("meta serializes");
    }
    let meta_len = (out.len() - 4) as u32;
    out[..4].copy_from_slice(&meta_len.to_be_bytes());
    write_record(&mut out);
    out
}

/// `Meta`, borrowed, for writing.
#[derive(Serialize)]
struct MetaRef<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    lookup_resources: &'a [(String, String)],
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<&'a IndexKeys<'a>>,
}

/// The meta and the record bytes, or None for an entry that is not in this format.
pub fn decode(entry: &[u8]) -> Option<(Meta, &[u8])> {
    let len = u32::from_be_bytes(entry.get(..4)?.try_into().ok()?) as usize;
    let meta = serde_json::from_slice(entry.get(4..4 + len)?).ok()?;
    Some((meta, entry.get(4 + len..)?))
}

/// The meta's bytes and the record's, without parsing either.
pub fn split(entry: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_be_bytes(entry.get(..4)?.try_into().ok()?) as usize;
    Some((entry.get(4..4 + len)?, entry.get(4 + len..)?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let meta = super::Meta {
            lookup_resources: vec![("AWS::CloudTrail::Trail".into(), "t".into())],
        };
        let e = super::encode(&meta, b"{\"a\":1}");
        let (m, r) = super::decode(&e).unwrap();
        assert_eq!(m, meta);
        assert_eq!(r, b"{\"a\":1}");
        let empty = super::encode(&super::Meta::default(), b"{}");
        assert_eq!(super::decode(&empty).unwrap().0, super::Meta::default());
        assert_eq!(
            &empty[4..6],
            serde_json::to_vec(&super::Meta::default())
                .unwrap()
                .as_slice()
        );
        assert!(super::decode(b"\xff\xff").is_none());
    }
}

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

/// `[u32 big-endian length of meta][meta JSON][record JSON]`.
pub fn encode(meta: &Meta, record: &[u8]) -> Vec<u8> {
    encode_with(&meta.lookup_resources, |out| out.extend_from_slice(record))
}

/// The entry whose meta holds `lookup_resources` and whose record `write_record` writes, in one
/// buffer: the request path builds every entry this way.
pub fn encode_with(
    lookup_resources: &[(String, String)],
    write_record: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(1536);
    out.extend_from_slice(&[0; 4]);
    if lookup_resources.is_empty() {
        // What `Meta::default()` serializes to, without a trip through serde.
        out.extend_from_slice(b"{}");
    } else {
        serde_json::to_writer(&mut out, &MetaRef { lookup_resources }).expect("meta serializes");
    }
    let meta_len = (out.len() - 4) as u32;
    out[..4].copy_from_slice(&meta_len.to_be_bytes());
    write_record(&mut out);
    out
}

/// `Meta`, borrowed, for writing.
#[derive(Serialize)]
struct MetaRef<'a> {
    lookup_resources: &'a [(String, String)],
}

/// The meta and the record bytes, or None for an entry that is not in this format.
pub fn decode(entry: &[u8]) -> Option<(Meta, &[u8])> {
    let len = u32::from_be_bytes(entry.get(..4)?.try_into().ok()?) as usize;
    let meta = serde_json::from_slice(entry.get(4..4 + len)?).ok()?;
    Some((meta, entry.get(4 + len..)?))
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

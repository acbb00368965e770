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
    let meta = serde_json::to_vec(meta).expect("meta serializes");
    let mut out = Vec::with_capacity(4 + meta.len() + record.len());
    out.extend_from_slice(&(meta.len() as u32).to_be_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(record);
    out
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
        assert!(super::decode(b"\xff\xff").is_none());
    }
}

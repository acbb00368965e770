//! Digest files (spec cloudtrail.md §8.1-§8.3): their keys, their JSON body, and the string
//! their signature covers. Pure functions: the same chain state and log files always give the
//! same key and the same bytes.

use chrono::{DateTime, Utc};
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";

/// One delivered log file as a digest lists it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LogFile {
    pub bucket: String,
    pub key: String,
    /// Hex SHA-256 of the file's uncompressed JSON.
    pub hash: String,
    pub newest_event_time: String,
    pub oldest_event_time: String,
}

/// The digest a chain continues from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Previous {
    pub bucket: String,
    pub key: String,
    /// Hex SHA-256 of its uncompressed bytes.
    pub hash: String,
    /// Its signature, hex.
    pub signature: String,
}

/// What one digest states.
pub struct Contents<'a> {
    pub account: &'a str,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub bucket: &'a str,
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub previous: Option<&'a Previous>,
    pub log_files: &'a [LogFile],
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `{P}AWSLogs/{O}<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/<acct>_CloudTrail-Digest_<region>_<trail>_<home>_<YYYYMMDDTHHMMSSZ>.json.gz`,
/// dated by the digest's end.
pub fn digest_key(
    prefix: Option<&str>,
    org_id: Option<&str>,
    account: &str,
    region: &str,
    trail_name: &str,
    home_region: &str,
    end: DateTime<Utc>,
) -> String {
    let p = prefix.map(|p| format!("{p}/")).unwrap_or_default();
    let o = org_id.map(|o| format!("{o}/")).unwrap_or_default();
    format!(
        "{p}AWSLogs/{o}{account}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{trail_name}_{home_region}_{}.json.gz",
        end.format("%Y/%m/%d"),
        end.format("%Y%m%dT%H%M%SZ"),
    )
}

/// The uncompressed JSON body, serialised once; these are the bytes that are hashed, signed
/// and gzipped.
pub fn body(c: &Contents) -> Vec<u8> {
    let newest = c.log_files.iter().map(|f| &f.newest_event_time).max();
    let oldest = c.log_files.iter().map(|f| &f.oldest_event_time).min();
    let files: Vec<Value> = c
        .log_files
        .iter()
        .map(|f| {
            json!({
                "s3Bucket": f.bucket,
                "s3Object": f.key,
                "hashValue": f.hash,
                "hashAlgorithm": "SHA-256",
                "newestEventTime": f.newest_event_time,
                "oldestEventTime": f.oldest_event_time,
            })
        })
        .collect();
    let v = json!({
        "awsAccountId": c.account,
        "digestStartTime": iso(c.start),
        "digestEndTime": iso(c.end),
        "digestS3Bucket": c.bucket,
        "digestS3Object": c.key,
        "digestPublicKeyFingerprint": c.fingerprint,
        "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
        "newestEventTime": newest,
        "oldestEventTime": oldest,
        "previousDigestS3Bucket": c.previous.map(|p| &p.bucket),
        "previousDigestS3Object": c.previous.map(|p| &p.key),
        "previousDigestHashValue": c.previous.map(|p| &p.hash),
        "previousDigestHashAlgorithm": c.previous.map(|_| "SHA-256"),
        "previousDigestSignature": c.previous.map(|p| &p.signature),
        "logFiles": files,
    });
    serde_json::to_vec(&v).expect("JSON values serialise")
}

/// §8.3: end time, `bucket/key`, the body's hash, the previous signature (or `null`).
pub fn string_to_sign(c: &Contents, body: &[u8]) -> String {
    format!(
        "{}\n{}/{}\n{}\n{}",
        iso(c.end),
        c.bucket,
        c.key,
        hex::encode(Sha256::digest(body)),
        c.previous.map(|p| p.signature.as_str()).unwrap_or("null"),
    )
}

/// RSASSA-PKCS1-v1_5 with SHA-256, lowercase hex.
pub fn sign(key: &RsaPrivateKey, to_sign: &str) -> String {
    let signer = SigningKey::<Sha256>::new(key.clone());
    hex::encode(signer.sign(to_sign.as_bytes()).to_bytes())
}

/// A digest's body and signature: the JSON serialised once, and the signature over it.
pub fn make(c: &Contents, key: &RsaPrivateKey) -> (Vec<u8>, String) {
    let body = body(c);
    let signature = sign(key, &string_to_sign(c, &body));
    (body, signature)
}

/// A log file's entry facts from its records (as journaled): the hash of the uncompressed
/// file exactly as `delivery::files::log_body` lays it out, and its event-time range.
pub fn log_file_facts(records: &[&[u8]]) -> (String, String, String) {
    let mut h = Sha256::new();
    h.update(b"{\"Records\":[");
    let mut newest: Option<String> = None;
    let mut oldest: Option<String> = None;
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            h.update(b",");
        }
        h.update(r);
        #[derive(Deserialize)]
        struct Timed {
            #[serde(rename = "eventTime")]
            event_time: String,
        }
        if let Ok(t) = serde_json::from_slice::<Timed>(r) {
            if newest.as_ref().is_none_or(|n| t.event_time > *n) {
                newest = Some(t.event_time.clone());
            }
            if oldest.as_ref().is_none_or(|o| t.event_time < *o) {
                oldest = Some(t.event_time);
            }
        }
    }
    h.update(b"]}");
    (
        hex::encode(h.finalize()),
        newest.unwrap_or_default(),
        oldest.unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::files::log_body;
    use flate2::read::GzDecoder;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    use std::io::Read;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn keys_end_with_the_16_character_end_time() {
        let k = digest_key(
            Some("my-prefix"),
            None,
            "111122223333",
            "us-east-2",
            "my-trail",
            "us-east-2",
            at("2024-01-15T10:30:00Z"),
        );
        assert_eq!(k, "my-prefix/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2024/01/15/111122223333_CloudTrail-Digest_us-east-2_my-trail_us-east-2_20240115T103000Z.json.gz");
        assert_eq!(&k[k.len() - 24..k.len() - 8], "20240115T103000Z");
    }

    #[test]
    fn log_file_hash_is_over_the_uncompressed_file() {
        let recs: [&[u8]; 2] = [
            br#"{"eventTime":"2024-01-15T10:00:05Z"}"#,
            br#"{"eventTime":"2024-01-15T10:00:01Z"}"#,
        ];
        let mut plain = Vec::new();
        GzDecoder::new(&log_body(&recs)[..])
            .read_to_end(&mut plain)
            .unwrap();
        let (hash, newest, oldest) = log_file_facts(&recs);
        assert_eq!(hash, hex::encode(Sha256::digest(&plain)));
        assert_eq!(newest, "2024-01-15T10:00:05Z");
        assert_eq!(oldest, "2024-01-15T10:00:01Z");
    }

    #[test]
    fn starting_digest_signs_null_and_verifies() {
        let c = Contents {
            account: "111122223333",
            start: at("2024-01-15T09:30:00Z"),
            end: at("2024-01-15T10:30:00Z"),
            bucket: "b",
            key: "k",
            fingerprint: "f",
            previous: None,
            log_files: &[],
        };
        let b = body(&c);
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["previousDigestSignature"], Value::Null);
        assert_eq!(v["logFiles"], json!([]));
        assert_eq!(v["newestEventTime"], Value::Null);
        let s = string_to_sign(&c, &b);
        assert!(s.starts_with("2024-01-15T10:30:00Z\nb/k\n"));
        assert!(s.ends_with("\nnull"));
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let sig = sign(&key, &s);
        assert_eq!(sig.len(), 512);
        let raw = hex::decode(&sig).unwrap();
        VerifyingKey::<Sha256>::new(key.to_public_key())
            .verify(s.as_bytes(), &Signature::try_from(raw.as_slice()).unwrap())
            .unwrap();
    }
}

//! Log files: keys as AWS lays them out (spec cloudtrail.md §7.1), gzip JSON content (§7.2).
//! Everything here is a pure function of what a file holds, so a replayed batch produces the
//! same key and the same bytes.

use chrono::{DateTime, Utc};
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};
use std::io::Write;

/// `{P}AWSLogs/{O}<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16>.json.gz`
pub fn log_key(
    prefix: Option<&str>,
    org_id: Option<&str>,
    account: &str,
    region: &str,
    delivered: DateTime<Utc>,
    unique: &str,
) -> String {
    let p = prefix.map(|p| format!("{p}/")).unwrap_or_default();
    let o = org_id.map(|o| format!("{o}/")).unwrap_or_default();
    format!(
        "{p}AWSLogs/{o}{account}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}_{unique}.json.gz",
        delivered.format("%Y/%m/%d"),
        delivered.format("%Y%m%dT%H%MZ"),
    )
}

/// The 16 characters `[A-Za-z0-9]` that keep names unique, derived from what the file is: the
/// trail, the journal range and the (account, region) it covers.
pub fn unique_suffix(trail_arn: &str, from: u64, to: u64, account: &str, region: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let digest = Sha256::digest(format!("{trail_arn}\0{from}\0{to}\0{account}\0{region}"));
    digest[..16]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// `{"Records":[...]}` from the records' own bytes (exactly as journaled), gzipped with no
/// timestamp in the header so the same records always give the same bytes.
pub fn log_body(records: &[&[u8]]) -> Vec<u8> {
    gzip(|gz| {
        gz.write_all(b"{\"Records\":[")?;
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                gz.write_all(b",")?;
            }
            gz.write_all(r)?;
        }
        gz.write_all(b"]}")
    })
}

/// Gzip of what `fill` writes, with no timestamp in the header: the same bytes in always give
/// the same object, so a retried PUT (log file or digest) writes exactly what it wrote before.
pub fn gzip(fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Vec<u8> {
    let mut gz = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::fast());
    fill(&mut gz)
        .and_then(|_| gz.finish())
        .expect("gzip into memory does not fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[test]
    fn keys_as_aws_lays_them_out() {
        let t = DateTime::parse_from_rfc3339("2015-08-01T02:10:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            log_key(None, None, "111122223333", "us-east-2", t, "Mu0KsOhtH1ar15ZZ"),
            "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"
        );
        assert_eq!(
            log_key(Some("foo/"), Some("o-abc"), "222222222222", "eu-west-1", t, "x"),
            "foo//AWSLogs/o-abc/222222222222/CloudTrail/eu-west-1/2015/08/01/222222222222_CloudTrail_eu-west-1_20150801T0210Z_x.json.gz"
        );
    }

    #[test]
    fn deterministic_names_and_bytes() {
        let a = unique_suffix("arn", 1, 9, "1", "r");
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(a, unique_suffix("arn", 1, 9, "1", "r"));
        assert_ne!(a, unique_suffix("arn", 1, 10, "1", "r"));
        let body = log_body(&[br#"{"a":1}"#, br#"{"b":2}"#]);
        assert_eq!(body, log_body(&[br#"{"a":1}"#, br#"{"b":2}"#]));
        let mut s = String::new();
        GzDecoder::new(&body[..]).read_to_string(&mut s).unwrap();
        assert_eq!(s, r#"{"Records":[{"a":1},{"b":2}]}"#);
    }
}

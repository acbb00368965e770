//! A server access log record as S3 writes it (User Guide, "Amazon S3 server access log
//! format"): space-delimited fields, `-` for anything unknown or not applicable, quoted where a
//! field may hold spaces; and the keys of the log objects.

use chrono::{DateTime, Utc};
use std::fmt::Write;

/// One request, as its log record shows it. Empty strings and None print as `-`.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// Canonical user id of the source bucket's owner.
    pub bucket_owner: String,
    pub bucket: String,
    pub time: DateTime<Utc>,
    pub remote_ip: String,
    /// The requester's ARN (IAM identities), canonical id (root), or empty (anonymous).
    pub requester: String,
    pub request_id: String,
    /// `REST.GET.OBJECT`, `S3.EXPIRE.OBJECT`, ...
    pub operation: String,
    /// URL-encoded, or empty.
    pub key: String,
    /// `GET /bucket/key?x HTTP/1.1`, or empty for S3's own actions.
    pub request_uri: String,
    pub status: Option<u16>,
    pub error_code: String,
    pub bytes_sent: u64,
    pub object_size: Option<u64>,
    pub total_ms: Option<u64>,
    pub turnaround_ms: Option<u64>,
    pub referer: String,
    pub user_agent: String,
    pub version_id: String,
    pub host_id: String,
    /// `SigV4`, `SigV2` or empty.
    pub signature_version: String,
    /// `AuthHeader`, `QueryString` or empty.
    pub auth_type: String,
    pub host: String,
    /// `Yes` when an ACL was needed to allow the request.
    pub acl_required: bool,
}

fn dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

fn quoted(out: &mut String, s: &str) {
    if s.is_empty() {
        out.push_str("\"-\"");
    } else {
        // A quote inside a quoted field would end it early for every parser of the format.
        let _ = write!(out, "\"{}\"", s.replace('"', "\\\""));
    }
}

fn number(out: &mut String, n: Option<u64>) {
    match n {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push('-'),
    }
}

impl Record {
    /// The record's line, without the newline.
    pub fn line(&self) -> String {
        let mut out = String::with_capacity(512);
        let _ = write!(
            out,
            "{} {} [{}] {} {} {} {} {} ",
            dash(&self.bucket_owner),
            dash(&self.bucket),
            self.time.format("%d/%b/%Y:%H:%M:%S +0000"),
            dash(&self.remote_ip),
            dash(&self.requester),
            dash(&self.request_id),
            dash(&self.operation),
            dash(&self.key),
        );
        quoted(&mut out, &self.request_uri);
        out.push(' ');
        match self.status {
            Some(s) => {
                let _ = write!(out, "{s}");
            }
            None => out.push('-'),
        }
        let _ = write!(out, " {} ", dash(&self.error_code));
        number(&mut out, Some(self.bytes_sent).filter(|b| *b > 0));
        out.push(' ');
        number(&mut out, self.object_size);
        out.push(' ');
        number(&mut out, self.total_ms);
        out.push(' ');
        number(&mut out, self.turnaround_ms);
        out.push(' ');
        quoted(&mut out, &self.referer);
        out.push(' ');
        quoted(&mut out, &self.user_agent);
        // Version id, host id, signature version, cipher suite (no TLS here), authentication
        // type, host header, TLS version, access point ARN (none), aclRequired.
        let _ = write!(
            out,
            " {} {} {} - {} {} - - {}",
            dash(&self.version_id),
            dash(&self.host_id),
            dash(&self.signature_version),
            dash(&self.auth_type),
            dash(&self.host),
            if self.acl_required { "Yes" } else { "-" },
        );
        out
    }
}

/// How log object keys are made (`TargetObjectKeyFormat`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyFormat {
    /// `[prefix]YYYY-mm-DD-HH-MM-SS-[unique]`, the default.
    Simple,
    /// `[prefix][account]/[region]/[bucket]/YYYY/mm/DD/YYYY-mm-DD-HH-MM-SS-[unique]`, dated by
    /// the records' time (`EventTime`) or the delivery's (`DeliveryTime`).
    Partitioned { event_time: bool },
}

/// Where the log object of a delivery goes. `at` names the file; `dated` (event or delivery
/// time) dates a partitioned key's folders.
pub fn object_key(
    prefix: &str,
    format: &KeyFormat,
    source: (&str, &str, &str),
    at: DateTime<Utc>,
    dated: DateTime<Utc>,
    unique: &str,
) -> String {
    let stamp = at.format("%Y-%m-%d-%H-%M-%S");
    match format {
        KeyFormat::Simple => format!("{prefix}{stamp}-{unique}"),
        KeyFormat::Partitioned { .. } => {
            let (account, region, bucket) = source;
            format!(
                "{prefix}{account}/{region}/{bucket}/{}/{stamp}-{unique}",
                dated.format("%Y/%m/%d")
            )
        }
    }
}

/// Percent-encodes a key as the log's Key field shows it (`/` kept).
pub fn encode_key(key: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(key, KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_record_prints_every_field_in_order() {
        let r = Record {
            bucket_owner: "79a5".into(),
            bucket: "logs-src".into(),
            time: Utc.with_ymd_and_hms(2019, 2, 6, 0, 0, 38).unwrap(),
            remote_ip: "192.0.2.3".into(),
            requester: "arn:aws:iam::111111111111:user/alice".into(),
            request_id: "3E57427F3EXAMPLE".into(),
            operation: "REST.GET.OBJECT".into(),
            key: "a%20b/c".into(),
            request_uri: "GET /logs-src/a%20b/c HTTP/1.1".into(),
            status: Some(200),
            bytes_sent: 113,
            object_size: Some(113),
            total_ms: Some(7),
            turnaround_ms: Some(6),
            user_agent: "aws-cli/1.0 \"x\"".into(),
            host_id: "s9lz=".into(),
            signature_version: "SigV4".into(),
            auth_type: "AuthHeader".into(),
            host: "127.0.0.1:4566".into(),
            ..Default::default()
        };
        assert_eq!(
            r.line(),
            "79a5 logs-src [06/Feb/2019:00:00:38 +0000] 192.0.2.3 \
             arn:aws:iam::111111111111:user/alice 3E57427F3EXAMPLE REST.GET.OBJECT a%20b/c \
             \"GET /logs-src/a%20b/c HTTP/1.1\" 200 - 113 113 7 6 \"-\" \"aws-cli/1.0 \\\"x\\\"\" \
             - s9lz= SigV4 - AuthHeader 127.0.0.1:4566 - - -"
        );
        let empty = Record {
            time: Utc.with_ymd_and_hms(2019, 2, 6, 0, 0, 38).unwrap(),
            ..Default::default()
        };
        assert_eq!(
            empty.line(),
            "- - [06/Feb/2019:00:00:38 +0000] - - - - - \"-\" - - - - - - \"-\" \"-\" - - - - - - - - -"
        );
    }

    #[test]
    fn keys_follow_the_chosen_format() {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 9, 5, 7).unwrap();
        let day = Utc.with_ymd_and_hms(2026, 12, 2, 23, 0, 0).unwrap();
        let src = ("111111111111", "us-east-2", "src");
        assert_eq!(
            object_key(
                "logs/",
                &KeyFormat::Simple,
                src,
                at,
                day,
                "ABCDEF0123456789"
            ),
            "logs/2026-12-03-09-05-07-ABCDEF0123456789"
        );
        assert_eq!(
            object_key(
                "logs/",
                &KeyFormat::Partitioned { event_time: true },
                src,
                at,
                day,
                "U"
            ),
            "logs/111111111111/us-east-2/src/2026/12/02/2026-12-03-09-05-07-U"
        );
        assert_eq!(encode_key("a b/ü+c"), "a%20b/%C3%BC%2Bc");
    }
}

//! Timestamp parsing, the clock-skew window for header auth and the
//! X-Amz-Expires window for presigned URLs.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::{AuthFailure, Location, ParsedAuth};

const AMZ_FORMAT: &str = "%Y%m%dT%H%M%SZ";
const ISO_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Parses the SigV4 basic ISO-8601 form `yyyymmddThhmmssZ` and nothing else.
pub fn parse_amz_date(s: &str) -> Option<DateTime<Utc>> {
    // chrono's %Y accepts signs and more than four digits; AWS does not.
    let b = s.as_bytes();
    let shape_ok = b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
    if !shape_ok {
        return None;
    }
    NaiveDateTime::parse_from_str(s, AMZ_FORMAT)
        .ok()
        .map(|n| n.and_utc())
}

/// Parses an HTTP `Date` header. botocore writes RFC 1123 with a `-0000`
/// zone (`email.utils.formatdate`), other clients `GMT`; both are RFC 2822.
pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// `yyyymmddThhmmssZ`, the form used in strings to sign and skew messages.
pub fn format_amz_date(t: DateTime<Utc>) -> String {
    t.format(AMZ_FORMAT).to_string()
}

/// `yyyy-mm-ddThh:mm:ssZ`, the form S3 uses in `<ServerTime>`/`<Expires>`.
pub fn format_iso(t: DateTime<Utc>) -> String {
    t.format(ISO_FORMAT).to_string()
}

fn describe_skew(skew: Duration) -> String {
    let secs = skew.num_seconds();
    if secs % 60 == 0 {
        format!("{} min.", secs / 60)
    } else {
        format!("{secs} sec.")
    }
}

/// Header auth: the timestamp must lie within `max_skew` of `now` in both
/// directions. Query auth: `now` must not be past X-Amz-Date + X-Amz-Expires,
/// and X-Amz-Date must not be further than `max_skew` in the future; a
/// presigned URL without X-Amz-Expires (allowed outside S3) gets the header
/// rule.
pub fn check_time(
    auth: &ParsedAuth,
    now: DateTime<Utc>,
    max_skew: Duration,
) -> Result<(), AuthFailure> {
    let ts = auth.timestamp;
    if let (Location::Query, Some(expires)) = (auth.location, auth.expires_secs) {
        // Parsing caps X-Amz-Expires at a week, so this cannot overflow.
        let deadline = ts + Duration::seconds(expires as i64);
        if now > deadline {
            return Err(AuthFailure::PresignExpired {
                expires: format_iso(deadline),
                server_time: format_iso(now),
                x_amz_expires: Some(expires),
            });
        }
        if ts > now + max_skew {
            return Err(AuthFailure::PresignNotYetValid {
                request_time: auth.amz_date.clone(),
                server_time: format_iso(now),
            });
        }
        return Ok(());
    }
    let skewed = |message: String| AuthFailure::TooSkewed {
        request_time: auth.amz_date.clone(),
        server_time: format_iso(now),
        message,
        max_skew_ms: max_skew.num_milliseconds(),
    };
    if ts < now - max_skew {
        return Err(skewed(format!(
            "Signature expired: {} is now earlier than {} ({} - {})",
            auth.amz_date,
            format_amz_date(now - max_skew),
            format_amz_date(now),
            describe_skew(max_skew)
        )));
    }
    if ts > now + max_skew {
        return Err(skewed(format!(
            "Signature not yet current: {} is still later than {} ({} + {})",
            auth.amz_date,
            format_amz_date(now + max_skew),
            format_amz_date(now),
            describe_skew(max_skew)
        )));
    }
    Ok(())
}

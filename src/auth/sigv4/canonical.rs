//! Canonical request and string to sign, byte-compatible with botocore's
//! `SigV4Auth` / `S3SigV4Auth` (auth.py) as the client computes them.

use http::{HeaderMap, Method, Uri};

use super::key::sha256_hex;
use super::{Location, Scope};

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

fn push_encoded(out: &mut String, b: u8) {
    out.push('%');
    out.push(HEX_UPPER[(b >> 4) as usize] as char);
    out.push(HEX_UPPER[(b & 0xf) as usize] as char);
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte a `%XX` escape at `s[i]` stands for, if it is a valid escape.
fn escape_at(s: &[u8], i: usize) -> Option<u8> {
    if s.get(i) != Some(&b'%') {
        return None;
    }
    let hi = hex_val(*s.get(i + 1)?)?;
    let lo = hex_val(*s.get(i + 2)?)?;
    Some(hi << 4 | lo)
}

/// Percent-decodes `s`. Unlike form decoding, `+` stays `+`: SigV4 clients
/// encode a literal plus as `%2B` and never use `+` for space. A `%` that does
/// not start a valid escape is kept as a literal byte.
pub(super) fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if let Some(v) = escape_at(b, i) {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// RFC 3986 encoding: everything but the unreserved set becomes `%XX`.
pub(super) fn uri_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if is_unreserved(b) {
            out.push(b as char);
        } else {
            push_encoded(&mut out, b);
        }
    }
    out
}

/// Canonical URI.
///
/// S3: the path is not normalised; each byte is decoded and re-encoded so that
/// escapes a client left out (or wrote in lowercase) canonicalise to what the
/// signer used. An escaped slash stays `%2F`: a client that wrote `%2F` on the
/// wire signed `%2F`, and decoding it to `/` could never match.
///
/// Other services: botocore applies RFC 3986 dot-segment removal (which also
/// drops empty segments) to the wire path and then quotes it once more with
/// `safe='/~'`, so existing escapes are double-encoded (`%20` → `%2520`).
pub fn canonical_uri(path: &str, s3: bool) -> String {
    if s3 {
        let b = path.as_bytes();
        let mut out = String::with_capacity(b.len() + 1);
        if !path.starts_with('/') {
            out.push('/');
        }
        let mut i = 0;
        while i < b.len() {
            let (byte, escaped) = match escape_at(b, i) {
                Some(v) => (v, true),
                None => (b[i], false),
            };
            i += if escaped { 3 } else { 1 };
            if is_unreserved(byte) || (byte == b'/' && !escaped) {
                out.push(byte as char);
            } else {
                push_encoded(&mut out, byte);
            }
        }
        out
    } else {
        let normalized = remove_dot_segments(path);
        let mut out = String::with_capacity(normalized.len());
        for &b in normalized.as_bytes() {
            if is_unreserved(b) || b == b'/' {
                out.push(b as char);
            } else {
                push_encoded(&mut out, b);
            }
        }
        out
    }
}

/// botocore `utils.remove_dot_segments` (via `normalize_url_path`): empty and
/// `.` segments vanish, `..` pops, the leading slash and a trailing slash (when
/// anything is left) are kept, and an empty path becomes `/`.
fn remove_dot_segments(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push('/');
    }
    out.push_str(&segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// Canonical query string: every `k=v` decoded and re-encoded with the RFC
/// 3986 set, sorted by encoded key then encoded value; a bare `k` becomes
/// `k=`. Empty `&&` segments are dropped. For presigned requests
/// `X-Amz-Signature` is left out because it cannot sign itself.
pub fn canonical_query(query: Option<&str>, location: Location) -> String {
    let Some(query) = query else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for seg in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = seg.split_once('=').unwrap_or((seg, ""));
        let key = percent_decode(k);
        if location == Location::Query && key == b"X-Amz-Signature" {
            continue;
        }
        pairs.push((uri_encode(&key), uri_encode(&percent_decode(v))));
    }
    pairs.sort();
    let mut out = String::with_capacity(query.len() + 8);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Header bytes as the client's signer saw them. Valid UTF-8 is taken as is
/// (SDKs that send raw UTF-8 sign it); anything else is decoded as Latin-1,
/// which is how Python's http.client put botocore's `str` value on the wire,
/// and botocore hashed that `str` as UTF-8.
pub(super) fn header_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// botocore's `' '.join(value.split())`: trim and collapse every run of
/// whitespace (Python's notion, which includes tabs and U+001C..U+001F).
fn trim_all(value: &str) -> String {
    let is_ws = |c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c);
    value
        .split(is_ws)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Result of canonicalising the signed headers.
pub(super) struct CanonicalHeaders {
    /// `name:value\n` per signed header, in SignedHeaders order.
    pub text: String,
    /// A signed header was absent from the request: the signature can never
    /// be valid, whatever the computed string says.
    pub missing: bool,
}

/// Canonical header block for the names in `signed` (already lowercase).
/// Repeated headers are joined with `,`. `host` falls back to the URI
/// authority because HTTP/2 requests carry it as `:authority` only.
pub(super) fn canonical_headers(
    headers: &HeaderMap,
    uri: &Uri,
    signed: &[String],
) -> CanonicalHeaders {
    let mut text = String::new();
    let mut missing = false;
    for name in signed {
        let mut values = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| trim_all(&header_text(v.as_bytes())))
            .peekable();
        let joined = if values.peek().is_some() {
            values.collect::<Vec<_>>().join(",")
        } else if name == "host" && uri.authority().is_some() {
            uri.authority()
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default()
        } else {
            missing = true;
            String::new()
        };
        text.push_str(name);
        text.push(':');
        text.push_str(&joined);
        text.push('\n');
    }
    CanonicalHeaders { text, missing }
}

/// Assembles the canonical request. Returns it with the "signed header
/// missing" flag.
pub(super) fn canonical_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    signed: &[String],
    location: Location,
    payload: &str,
    s3: bool,
) -> (String, bool) {
    let ch = canonical_headers(headers, uri, signed);
    let mut out = String::new();
    out.push_str(&method.as_str().to_ascii_uppercase());
    out.push('\n');
    out.push_str(&canonical_uri(uri.path(), s3));
    out.push('\n');
    out.push_str(&canonical_query(uri.query(), location));
    out.push('\n');
    out.push_str(&ch.text);
    out.push('\n');
    out.push_str(&signed.join(";"));
    out.push('\n');
    out.push_str(payload);
    (out, ch.missing)
}

/// `date/region/service/aws4_request`.
pub fn credential_scope(scope: &Scope) -> String {
    format!(
        "{}/{}/{}/aws4_request",
        scope.date, scope.region, scope.service
    )
}

/// `AWS4-HMAC-SHA256\n<amz-date>\n<scope>\n<hex(sha256(canonical))>`.
pub fn string_to_sign(amz_date: &str, scope: &Scope, canonical_request: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{}\n{}\n{}",
        amz_date,
        credential_scope(scope),
        sha256_hex(canonical_request.as_bytes())
    )
}

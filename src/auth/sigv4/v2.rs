//! SigV2 query-string authentication (S3 presigned URLs of the form
//! `?AWSAccessKeyId=..&Signature=..&Expires=..`), as botocore's
//! `HmacV1QueryAuth` computes it.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use http::{header, HeaderMap, Method, Uri};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::canonical::{header_text, percent_decode};
use super::time::format_iso;
use super::AuthFailure;

/// botocore `HmacV1Auth.QSAOfInterest`: the query parameters that are part of
/// the CanonicalizedResource.
const SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "cors",
    "defaultObjectAcl",
    "location",
    "logging",
    "partNumber",
    "policy",
    "requestPayment",
    "torrent",
    "versioning",
    "versionId",
    "versions",
    "website",
    "uploads",
    "uploadId",
    "response-content-type",
    "response-content-language",
    "response-expires",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "delete",
    "lifecycle",
    "tagging",
    "restore",
    "storageClass",
    "notification",
    "replication",
    "analytics",
    "metrics",
    "inventory",
    "select",
    "select-type",
    "object-lock",
];

fn raw_pairs(uri: &Uri) -> impl Iterator<Item = (&str, Option<&str>)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|seg| match seg.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (seg, None),
        })
}

fn decoded(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode(s)).into_owned()
}

/// The `Expires` value as it was signed: the query parameter verbatim (a
/// client may write leading zeros), else the decimal epoch.
fn expires_as_sent(uri: &Uri, expires_epoch: i64) -> String {
    raw_pairs(uri)
        .find(|(k, _)| *k == "Expires")
        .map(|(_, v)| decoded(v.unwrap_or("")))
        .unwrap_or_else(|| expires_epoch.to_string())
}

/// The SigV2 string to sign for a presigned request.
///
/// `resource_path` is the path-style `/bucket/key` (encoded as on the wire);
/// pass `None` to use the request path, which is right for path-style URLs.
/// Content-MD5/Content-Type come from the request headers, falling back to the
/// query parameters botocore copies them into; `x-amz-*` likewise (this is how
/// `x-amz-security-token` reaches the signature of a URL opened in a browser).
pub fn v2_string_to_sign(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    expires_epoch: i64,
    resource_path: Option<&str>,
) -> String {
    let query_value = |name: &str| {
        raw_pairs(uri)
            .find(|(k, _)| decoded(k).eq_ignore_ascii_case(name))
            .map(|(_, v)| decoded(v.unwrap_or("")))
    };
    let standard = |name: &str| match headers.get(name) {
        Some(v) => header_text(v.as_bytes()).trim().to_owned(),
        None => query_value(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default(),
    };

    let mut out = String::new();
    out.push_str(&method.as_str().to_ascii_uppercase());
    out.push('\n');
    out.push_str(&standard("content-md5"));
    out.push('\n');
    out.push_str(&standard(header::CONTENT_TYPE.as_str()));
    out.push('\n');
    out.push_str(&expires_as_sent(uri, expires_epoch));
    out.push('\n');

    let mut amz: std::collections::BTreeMap<String, String> = Default::default();
    for name in headers.keys() {
        let lname = name.as_str();
        if lname.starts_with("x-amz-") {
            let joined = headers
                .get_all(name)
                .iter()
                .map(|v| header_text(v.as_bytes()).trim().to_owned())
                .collect::<Vec<_>>()
                .join(",");
            amz.insert(lname.to_owned(), joined);
        }
    }
    for (k, v) in raw_pairs(uri) {
        let k = decoded(k).to_ascii_lowercase();
        if k.starts_with("x-amz-") && !amz.contains_key(&k) {
            amz.insert(k, decoded(v.unwrap_or("")).trim().to_owned());
        }
    }
    for (k, v) in &amz {
        out.push_str(k);
        out.push(':');
        out.push_str(v);
        out.push('\n');
    }

    out.push_str(resource_path.unwrap_or(uri.path()));
    // Stable sort by key, as Python's list.sort(key=itemgetter(0)).
    let mut subs: Vec<(&str, Option<String>)> = raw_pairs(uri)
        .filter(|(k, _)| SUB_RESOURCES.contains(k))
        .map(|(k, v)| (k, v.map(decoded)))
        .collect();
    subs.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (k, v)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// Verifies a path-style SigV2 presigned request (what botocore sends to a
/// custom endpoint): HMAC-SHA1 signature first, then the absolute `Expires`
/// time against `now`. The argument list is the fields of `Parsed::V2Query`.
#[allow(clippy::too_many_arguments)]
pub fn verify_v2_query(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    access_key_id: &str,
    signature: &str,
    expires_epoch: i64,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthFailure> {
    verify_v2_query_for_resource(
        method,
        uri,
        headers,
        access_key_id,
        signature,
        expires_epoch,
        secret,
        now,
        None,
    )
}

/// [`verify_v2_query`] with an explicit CanonicalizedResource path: for a
/// virtual-hosted request pass `/<bucket><request path>` (botocore's
/// `auth_path`); `None` uses the request path.
#[allow(clippy::too_many_arguments)]
pub fn verify_v2_query_for_resource(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    access_key_id: &str,
    signature: &str,
    expires_epoch: i64,
    secret: &str,
    now: DateTime<Utc>,
    resource_path: Option<&str>,
) -> Result<(), AuthFailure> {
    let string_to_sign = v2_string_to_sign(method, uri, headers, expires_epoch, resource_path);
    let mut mac =
        Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    let expected = mac.finalize().into_bytes();
    let provided = STANDARD
        .decode(signature.trim())
        .or_else(|_| STANDARD_NO_PAD.decode(signature.trim()))
        .unwrap_or_default();
    let ok: bool = expected.as_slice().ct_eq(&provided).into();
    if !ok {
        return Err(AuthFailure::SignatureMismatch {
            string_to_sign,
            canonical_request: String::new(),
            provided: signature.to_owned(),
            access_key_id: access_key_id.to_owned(),
        });
    }
    if now.timestamp() > expires_epoch {
        let expires = Utc
            .timestamp_opt(expires_epoch, 0)
            .single()
            .map(format_iso)
            .unwrap_or_else(|| expires_epoch.to_string());
        return Err(AuthFailure::PresignExpired {
            expires,
            server_time: format_iso(now),
            x_amz_expires: None,
        });
    }
    Ok(())
}

//! Server-side AWS request authentication: SigV4 (Authorization header and
//! presigned query), SigV2 presigned query URLs, and the aws-chunked body
//! decoder with chunk and trailer signature verification.
//!
//! Flow for one request:
//! 1. [`parse`] → `Anonymous`, `V4(ParsedAuth)` or `V2Query { .. }`.
//! 2. Look up the secret for `scope.access_key_id` (and check
//!    `security_token`), derive [`signing_key`] (cacheable per day).
//! 3. [`check_time`] with the protocol's skew (S3 15 min, JSON/Query 5 min).
//! 4. Choose the payload hash: S3 header auth → [`content_sha256`] (required)
//!    then [`ContentSha256::payload_hash`]; S3 presign → `Unsigned`; other
//!    services → `Hex(sha256(body))`, except that a present
//!    `x-amz-content-sha256` header is what botocore puts in the canonical
//!    request for any service, so use it (and check the body against it).
//! 5. [`verify`]. For a `Hex` payload the caller still has to compare the
//!    received body's SHA-256 (S3: `XAmzContentSHA256Mismatch`).
//! 6. For `STREAMING-*` payloads wrap the body in [`AwsChunkedBody`] with
//!    [`ChunkMode::signed`] or [`ChunkMode::Unsigned`].
//!
//! SigV2: [`verify_v2_query`] (path-style) or [`verify_v2_query_for_resource`]
//! (virtual-hosted) do signature and expiry in one call.

mod body;
mod canonical;
mod chunked;
mod error;
mod key;
mod parse;
mod time;
mod v2;

#[cfg(test)]
mod tests;

use http::{HeaderMap, Method, Uri};

pub use body::{AwsChunkedBody, AwsChunkedError};
pub use canonical::{canonical_query, canonical_uri, credential_scope, string_to_sign};
pub use chunked::{ChunkError, ChunkMode, ChunkedDecoder, Trailers};
pub use error::AuthFailure;
pub use key::{sha256_hex, signing_key, SigningKey, EMPTY_SHA256};
pub use parse::{parse, MAX_PRESIGN_EXPIRES};
pub use time::{check_time, format_amz_date, format_iso, parse_amz_date, parse_http_date};
pub use v2::{v2_string_to_sign, verify_v2_query, verify_v2_query_for_resource};

/// Where the SigV4 signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// `Authorization` header.
    Header,
    /// Presigned URL (`X-Amz-*` query parameters).
    Query,
}

/// The credential scope `<AKID>/<date>/<region>/<service>/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub access_key_id: String,
    /// `yyyymmdd`.
    pub date: String,
    pub region: String,
    pub service: String,
}

/// A syntactically valid SigV4 authentication, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuth {
    pub scope: Scope,
    /// Lowercase names in the order the client listed them; always has `host`.
    pub signed_headers: Vec<String>,
    /// As sent (64 lowercase hex for a well-behaved client).
    pub signature: String,
    /// `yyyymmddThhmmssZ`, as it enters the string to sign.
    pub amz_date: String,
    pub timestamp: chrono::DateTime<chrono::Utc>,
    pub location: Location,
    /// X-Amz-Expires for presigned requests (1..=604800); `None` for header
    /// auth and for non-S3 presigns that omit it.
    pub expires_secs: Option<u64>,
    /// `X-Amz-Security-Token` header (header auth) or query parameter
    /// (presign).
    pub security_token: Option<String>,
}

/// What [`parse`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Anonymous,
    V4(ParsedAuth),
    /// A SigV2 presigned URL (`AWSAccessKeyId`, `Signature`, `Expires`), which
    /// botocore 1.43 / AWS CLI v1 produce by default for `s3 presign`.
    V2Query {
        access_key_id: String,
        /// Base64, already percent-decoded.
        signature: String,
        expires_epoch: i64,
        /// `x-amz-security-token` query parameter.
        security_token: Option<String>,
    },
}

/// The last line of the canonical request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadHash<'a> {
    /// Lowercase hex SHA-256, computed by the caller or taken from
    /// `x-amz-content-sha256`.
    Hex(&'a str),
    /// The literal `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// Any other literal, e.g. a `STREAMING-...` value from the header.
    Literal(&'a str),
}

impl PayloadHash<'_> {
    fn as_str(&self) -> &str {
        match self {
            PayloadHash::Hex(s) | PayloadHash::Literal(s) => s,
            PayloadHash::Unsigned => UNSIGNED_PAYLOAD,
        }
    }
}

pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
pub const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
pub const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// A classified `x-amz-content-sha256` value (spec §2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentSha256 {
    /// 64 hex digits, kept as sent (it enters the canonical request verbatim);
    /// compare with the body's digest case-insensitively.
    Hex(String),
    Unsigned,
    StreamingSigned,
    StreamingSignedTrailer,
    StreamingUnsignedTrailer,
}

impl ContentSha256 {
    /// Classifies a header value. SigV4a streaming values are reported as
    /// `UnsupportedContentSha256` (S3: 501 NotImplemented).
    pub fn parse(value: &str) -> Result<Self, AuthFailure> {
        Ok(match value {
            UNSIGNED_PAYLOAD => ContentSha256::Unsigned,
            STREAMING_SIGNED => ContentSha256::StreamingSigned,
            STREAMING_SIGNED_TRAILER => ContentSha256::StreamingSignedTrailer,
            STREAMING_UNSIGNED_TRAILER => ContentSha256::StreamingUnsignedTrailer,
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
            | "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER" => {
                return Err(AuthFailure::UnsupportedContentSha256(value.to_owned()))
            }
            v if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                ContentSha256::Hex(v.to_owned())
            }
            v => return Err(AuthFailure::InvalidContentSha256(v.to_owned())),
        })
    }

    /// The value to pass to [`verify`].
    pub fn payload_hash(&self) -> PayloadHash<'_> {
        match self {
            ContentSha256::Hex(h) => PayloadHash::Hex(h),
            ContentSha256::Unsigned => PayloadHash::Unsigned,
            ContentSha256::StreamingSigned => PayloadHash::Literal(STREAMING_SIGNED),
            ContentSha256::StreamingSignedTrailer => PayloadHash::Literal(STREAMING_SIGNED_TRAILER),
            ContentSha256::StreamingUnsignedTrailer => {
                PayloadHash::Literal(STREAMING_UNSIGNED_TRAILER)
            }
        }
    }

    /// The body is aws-chunked framed.
    pub fn is_streaming(&self) -> bool {
        matches!(
            self,
            ContentSha256::StreamingSigned
                | ContentSha256::StreamingSignedTrailer
                | ContentSha256::StreamingUnsignedTrailer
        )
    }

    /// Chunks carry signatures that must be verified.
    pub fn chunks_signed(&self) -> bool {
        matches!(
            self,
            ContentSha256::StreamingSigned | ContentSha256::StreamingSignedTrailer
        )
    }

    /// The aws-chunked stream ends with trailer headers.
    pub fn has_trailer(&self) -> bool {
        matches!(
            self,
            ContentSha256::StreamingSignedTrailer | ContentSha256::StreamingUnsignedTrailer
        )
    }
}

/// Reads and classifies `x-amz-content-sha256`; `Ok(None)` when absent
/// (header-signed S3 requests must then fail with `MissingContentSha256`).
pub fn content_sha256(headers: &HeaderMap) -> Result<Option<ContentSha256>, AuthFailure> {
    match headers.get("x-amz-content-sha256") {
        None => Ok(None),
        Some(v) => {
            let s = v.to_str().map_err(|_| {
                AuthFailure::InvalidContentSha256(
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })?;
            ContentSha256::parse(s.trim()).map(Some)
        }
    }
}

/// Splits a `Content-Encoding` list into "had aws-chunked" and the encoding to
/// store (the list without `aws-chunked`, `None` when nothing is left).
pub fn strip_aws_chunked(content_encoding: &str) -> (bool, Option<String>) {
    let mut had = false;
    let rest: Vec<&str> = content_encoding
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .filter(|e| {
            let is = e.eq_ignore_ascii_case("aws-chunked");
            had |= is;
            !is
        })
        .collect();
    (had, (!rest.is_empty()).then(|| rest.join(",")))
}

/// Proof of a valid SigV4 signature, with the values later stages need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub canonical_request: String,
    pub string_to_sign: String,
    /// The request signature: the seed of the aws-chunked signature chain.
    pub seed_signature: String,
}

/// Recomputes the SigV4 signature and compares it in constant time.
///
/// `s3 = true` applies S3's URI rule (no normalisation, single encoding);
/// otherwise dot segments are removed and the path is encoded twice, as
/// botocore does for every other service. A header listed in SignedHeaders
/// but absent from the request always yields `SignatureMismatch`.
pub fn verify(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    auth: &ParsedAuth,
    payload: PayloadHash,
    s3: bool,
    key: &SigningKey,
) -> Result<Verified, AuthFailure> {
    let (canonical_request, missing) = canonical::canonical_request(
        method,
        uri,
        headers,
        &auth.signed_headers,
        auth.location,
        payload.as_str(),
        s3,
    );
    let string_to_sign = string_to_sign(&auth.amz_date, &auth.scope, &canonical_request);
    let computed = key.sign_hex(string_to_sign.as_bytes());
    if key::signatures_equal(&computed, &auth.signature) && !missing {
        Ok(Verified {
            canonical_request,
            string_to_sign,
            seed_signature: computed,
        })
    } else {
        Err(AuthFailure::SignatureMismatch {
            string_to_sign,
            canonical_request,
            provided: auth.signature.clone(),
            access_key_id: auth.scope.access_key_id.clone(),
        })
    }
}

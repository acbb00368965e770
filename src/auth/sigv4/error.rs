//! Failure values. Each carries what the three wire protocols need to render
//! their own error (code, status and extra XML elements are chosen by the
//! caller per spec §2.11); `Display` gives an AWS-style message.

/// Why a request failed SigV4/SigV2 authentication.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// The caller required authentication but the request carried none.
    /// `parse` itself reports such requests as `Parsed::Anonymous`.
    #[error("Missing Authentication Token")]
    MissingAuth,
    /// A component of the `Authorization` header is missing; the text is the
    /// AWS message, e.g. "Authorization header requires 'Signature' parameter."
    /// JSON/Query → `IncompleteSignature`; S3 → `AuthorizationHeaderMalformed`.
    #[error("{0}")]
    Incomplete(String),
    /// A presigned URL lacks one of its required query parameters.
    /// S3 → 400 `AuthorizationQueryParametersError` (SigV4) or 403
    /// `AccessDenied` (SigV2); JSON/Query → `IncompleteSignature`.
    #[error("{0}")]
    QueryIncomplete(String),
    /// The `Authorization` header is present but unparseable (bad Credential,
    /// empty SignedHeaders entry, a component without `=` ...).
    #[error("{0}")]
    MalformedHeader(String),
    /// A presign query parameter is present but unparseable (bad
    /// X-Amz-Credential or X-Amz-Date, repeated auth parameter ...).
    #[error("{0}")]
    MalformedQuery(String),
    /// Any scheme other than AWS4-HMAC-SHA256: SigV4a, the SigV2 `AWS` header.
    #[error("Unsupported authorization type: {0}")]
    UnsupportedAlgorithm(String),
    /// More than one of: Authorization header, SigV4 query, SigV2 query.
    #[error("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")]
    MultipleAuth,
    /// Header auth with neither `X-Amz-Date` nor `Date`.
    #[error("AWS authentication requires a valid Date or x-amz-date header")]
    MissingDate,
    /// `X-Amz-Date`/`Date` present but not a valid timestamp; map like
    /// `MissingDate`.
    #[error("AWS authentication requires a valid Date or x-amz-date header (got {0:?})")]
    InvalidDate(String),
    /// Credential scope date differs from the request timestamp's date.
    #[error("{0}")]
    ScopeDateMismatch(String),
    /// `host` is not among the signed headers.
    #[error("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")]
    HostNotSigned,
    /// Recomputed signature differs (or a signed header is absent). The
    /// canonical request and string to sign are what S3 echoes back.
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    SignatureMismatch {
        string_to_sign: String,
        /// Empty for SigV2, which has no canonical request.
        canonical_request: String,
        provided: String,
        /// For S3's `<AWSAccessKeyId>`.
        access_key_id: String,
    },
    /// Header-auth timestamp outside the allowed skew. `message` is the
    /// JSON/Query text; S3 uses RequestTimeTooSkewed with the two times.
    #[error("{message}")]
    TooSkewed {
        /// The request's timestamp as `yyyymmddThhmmssZ`.
        request_time: String,
        /// Server time as `yyyy-mm-ddThh:mm:ssZ`.
        server_time: String,
        message: String,
        /// The allowed skew, for S3's `<MaxAllowedSkewMilliseconds>`.
        max_skew_ms: i64,
    },
    /// Presigned URL past its expiry. Times as `yyyy-mm-ddThh:mm:ssZ`;
    /// `x_amz_expires` is `None` for SigV2 URLs, which carry an absolute time.
    #[error("Request has expired")]
    PresignExpired {
        expires: String,
        server_time: String,
        x_amz_expires: Option<u64>,
    },
    /// Presigned URL whose X-Amz-Date lies beyond the skew in the future;
    /// without this a URL could be minted to start long after it was signed.
    #[error("Request is not valid yet")]
    PresignNotYetValid {
        request_time: String,
        server_time: String,
    },
    /// X-Amz-Expires / Expires unparseable or out of range (AWS text).
    #[error("{0}")]
    BadExpires(String),
    /// Header-signed S3 request without `x-amz-content-sha256`.
    #[error("Missing required header for this request: x-amz-content-sha256")]
    MissingContentSha256,
    /// `x-amz-content-sha256` is neither a SHA-256 hex digest nor a known literal.
    #[error("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")]
    InvalidContentSha256(String),
    /// SigV4a streaming payload: S3 → 501 `NotImplemented`.
    #[error("{0} is not implemented")]
    UnsupportedContentSha256(String),
}

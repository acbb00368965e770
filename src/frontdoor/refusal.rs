//! An authentication refusal in each protocol's words (the error matrix of the spec, §2.11).

use crate::auth::sigv4::AuthFailure;
use crate::auth::Refusal;
use crate::error::AwsError;

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
const EXPIRED_TOKEN: &str = "The security token included in the request is expired";

/// awsJson1.1. Organizations answers authentication failures with 400, CloudTrail with 403.
pub fn json(r: Refusal, cloudtrail: bool) -> AwsError {
    let status = if cloudtrail { 403 } else { 400 };
    match r {
        Refusal::Missing => AwsError::new(
            status,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ),
        Refusal::UnknownKey(_) | Refusal::InvalidToken => {
            AwsError::new(status, "UnrecognizedClientException", INVALID_TOKEN)
        }
        Refusal::ExpiredToken => AwsError::new(status, "ExpiredTokenException", EXPIRED_TOKEN),
        Refusal::WrongService { expected, .. } => AwsError::new(
            status,
            "InvalidSignatureException",
            format!("Credential should be scoped to correct service: '{expected}'. "),
        ),
        Refusal::InvalidRegion => AwsError::new(
            status,
            "InvalidSignatureException",
            "Credential should be scoped to a valid region. ",
        ),
        Refusal::Internal(m) => AwsError::internal(m),
        Refusal::Signature(f) => match f {
            AuthFailure::SignatureMismatch { .. } => {
                AwsError::new(status, "InvalidSignatureException", MISMATCH)
            }
            AuthFailure::TooSkewed { message, .. } => {
                AwsError::new(status, "InvalidSignatureException", message)
            }
            AuthFailure::ScopeDateMismatch(m) => {
                AwsError::new(status, "InvalidSignatureException", m)
            }
            AuthFailure::PresignExpired { .. } | AuthFailure::PresignNotYetValid { .. } => {
                AwsError::new(status, "InvalidSignatureException", "Signature expired")
            }
            other => AwsError::new(
                status,
                "IncompleteSignatureException",
                incomplete_message(&other),
            ),
        },
    }
}

/// The query protocol (STS): 403 for identity failures, 400 for malformed signatures.
pub fn query(r: Refusal) -> AwsError {
    match r {
        Refusal::Missing => AwsError::new(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ),
        Refusal::UnknownKey(_) | Refusal::InvalidToken => {
            AwsError::new(403, "InvalidClientTokenId", INVALID_TOKEN)
        }
        Refusal::ExpiredToken => AwsError::new(403, "ExpiredToken", EXPIRED_TOKEN),
        Refusal::WrongService { expected, .. } => AwsError::new(
            403,
            "SignatureDoesNotMatch",
            format!("Credential should be scoped to correct service: '{expected}'. "),
        ),
        Refusal::InvalidRegion => AwsError::new(
            403,
            "SignatureDoesNotMatch",
            "Credential should be scoped to a valid region. ",
        ),
        Refusal::Internal(m) => AwsError::internal(m),
        Refusal::Signature(f) => match f {
            AuthFailure::SignatureMismatch { .. } => {
                AwsError::new(403, "SignatureDoesNotMatch", MISMATCH)
            }
            AuthFailure::TooSkewed { message, .. } => {
                AwsError::new(403, "SignatureDoesNotMatch", message)
            }
            AuthFailure::ScopeDateMismatch(m) => AwsError::new(403, "SignatureDoesNotMatch", m),
            AuthFailure::PresignExpired { .. } | AuthFailure::PresignNotYetValid { .. } => {
                AwsError::new(403, "SignatureDoesNotMatch", "Signature expired")
            }
            other => AwsError::new(400, "IncompleteSignature", incomplete_message(&other)),
        },
    }
}

/// S3's REST-XML, with the extra elements S3 puts in each error.
pub fn s3(r: Refusal) -> AwsError {
    match r {
        // S3 treats unsigned requests as anonymous; this arm is only reached by a broken flow.
        Refusal::Missing => AwsError::new(403, "AccessDenied", "Access Denied"),
        Refusal::UnknownKey(key) => AwsError::new(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        )
        .with("AWSAccessKeyId", key),
        Refusal::InvalidToken => AwsError::new(400, "InvalidToken", "The provided token is malformed or otherwise invalid."),
        Refusal::ExpiredToken => AwsError::new(400, "ExpiredToken", "The provided token has expired."),
        Refusal::WrongService { expected, scoped } => AwsError::new(
            400,
            "AuthorizationHeaderMalformed",
            format!("The authorization header is malformed; incorrect service \"{scoped}\". This endpoint belongs to \"{expected}\"."),
        ),
        Refusal::InvalidRegion => AwsError::new(
            400,
            "AuthorizationHeaderMalformed",
            "The authorization header is malformed; the region is not valid.",
        ),
        Refusal::Internal(m) => {
            let mut e = AwsError::internal(m);
            e.code = "InternalError".into();
            e
        }
        Refusal::Signature(f) => match f {
            AuthFailure::SignatureMismatch {
                string_to_sign,
                canonical_request,
                provided,
                access_key_id,
            } => AwsError::new(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            )
            .with("AWSAccessKeyId", access_key_id)
            .with("StringToSign", string_to_sign)
            .with("SignatureProvided", provided)
            .with("CanonicalRequest", canonical_request),
            AuthFailure::TooSkewed {
                request_time,
                server_time,
                max_skew_ms,
                ..
            } => AwsError::new(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
            .with("RequestTime", request_time)
            .with("ServerTime", server_time)
            .with("MaxAllowedSkewMilliseconds", max_skew_ms.to_string()),
            AuthFailure::PresignNotYetValid { .. } => {
                AwsError::new(403, "AccessDenied", "Request is not yet valid")
            }
            AuthFailure::UnsupportedContentSha256(m) => AwsError::new(501, "NotImplemented", m),
            AuthFailure::InvalidContentSha256(m) => AwsError::new(400, "InvalidArgument", m),
            AuthFailure::MissingContentSha256 => AwsError::new(
                400,
                "InvalidRequest",
                "Missing required header for this request: x-amz-content-sha256",
            ),
            AuthFailure::QueryIncomplete(m) => AwsError::new(400, "AuthorizationQueryParametersError", m),
            AuthFailure::PresignExpired {
                expires,
                server_time,
                x_amz_expires,
            } => {
                let e = AwsError::new(403, "AccessDenied", "Request has expired");
                let e = match x_amz_expires {
                    Some(x) => e.with("X-Amz-Expires", x.to_string()),
                    None => e,
                };
                e.with("Expires", expires).with("ServerTime", server_time)
            }
            AuthFailure::MissingDate | AuthFailure::InvalidDate(_) => AwsError::new(
                403,
                "AccessDenied",
                "AWS authentication requires a valid Date or x-amz-date header",
            ),
            AuthFailure::UnsupportedAlgorithm(_) => AwsError::new(
                400,
                "InvalidRequest",
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
            ),
            AuthFailure::BadExpires(m) | AuthFailure::MalformedQuery(m) => {
                AwsError::new(400, "AuthorizationQueryParametersError", m)
            }
            other => AwsError::new(400, "AuthorizationHeaderMalformed", incomplete_message(&other)),
        },
    }
}

fn incomplete_message(f: &AuthFailure) -> String {
    match f {
        AuthFailure::MissingDate | AuthFailure::InvalidDate(_) => {
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into()
        }
        other => other.to_string(),
    }
}

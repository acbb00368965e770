//! Signing-key derivation and the HMAC/SHA-256 primitives shared by the
//! header, presign and chunk verifiers.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// hex(SHA-256("")), the payload hash of every empty body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The derived SigV4 key `kSigning` for one (secret, date, region, service).
///
/// Callers may cache it per day; it is all that chunk verification needs, so
/// the decoder never sees the secret itself.
#[derive(Clone)]
pub struct SigningKey([u8; 32]);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A signing key is as good as the secret for a whole day: never log it.
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// Lowercase hex HMAC-SHA256 of `msg` under this key.
    pub fn sign_hex(&self, msg: &[u8]) -> String {
        hex::encode(hmac_sha256(&self.0, msg))
    }
}

pub(super) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// `kSigning` = HMAC chain over date, region, service and "aws4_request".
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> SigningKey {
    let mut seed = Vec::with_capacity(4 + secret.len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.as_bytes());
    let k_date = hmac_sha256(&seed, date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    SigningKey(hmac_sha256(&k_service, b"aws4_request"))
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Compares two signatures without a data-dependent early exit, so response
/// timing does not reveal how many leading characters of a forgery were right.
pub(super) fn signatures_equal(expected: &str, provided: &str) -> bool {
    expected.as_bytes().ct_eq(provided.as_bytes()).into()
}

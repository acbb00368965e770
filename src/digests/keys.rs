//! The signing keys of log file integrity validation (spec cloudtrail.md §8.4): one RSA-2048
//! key pair per region, valid for 30 days (`--signing-key-validity`), then replaced by a new
//! one when a digest is next signed there. Retired keys are kept forever so old digests still
//! validate. The private key lives only in the store, sealed with the server's master key.

use crate::auth::sealer::Sealer;
use crate::error::AwsError;
use crate::store::{Reader, ReaderExt, Table, Writer, WriterExt};
use base64::Engine as _;
use md5::{Digest, Md5};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use std::ops::Bound;

/// Keys by `<region>\0<validity start, 20 digits>`: a region's keys in age order.
pub const KEYS: Table = Table("digests.keys");
/// How long a key is in force unless configured otherwise: AWS's keys are valid for 30 days.
pub const VALIDITY: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyPair {
    pub region: String,
    /// MD5 of the DER `RSAPublicKey`, lowercase hex: what digests name their key by.
    pub fingerprint: String,
    /// Base64 of the DER PKCS#1 `RSAPublicKey` (what ListPublicKeys returns as `Value`).
    pub public_key: String,
    /// The DER PKCS#1 `RSAPrivateKey`, sealed.
    pub sealed_private_key: String,
    pub valid_from_ms: i64,
    pub valid_until_ms: i64,
}

fn key(region: &str, from_ms: i64) -> Vec<u8> {
    format!("{region}\0{from_ms:020}").into_bytes()
}

pub fn fingerprint(public_der: &[u8]) -> String {
    hex::encode(Md5::digest(public_der))
}

/// A fresh key pair for `region`, in force from `now_ms` for `validity`.
pub fn generate(
    sealer: &Sealer,
    region: &str,
    now_ms: i64,
    validity: std::time::Duration,
) -> Result<KeyPair, AwsError> {
    let private = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).map_err(AwsError::internal)?;
    let public_der = private
        .to_public_key()
        .to_pkcs1_der()
        .map_err(AwsError::internal)?;
    let private_der = private.to_pkcs1_der().map_err(AwsError::internal)?;
    Ok(KeyPair {
        region: region.to_string(),
        fingerprint: fingerprint(public_der.as_bytes()),
        public_key: base64::engine::general_purpose::STANDARD.encode(public_der.as_bytes()),
        sealed_private_key: sealer.seal(private_der.as_bytes()),
        valid_from_ms: now_ms,
        valid_until_ms: now_ms + validity.as_millis() as i64,
    })
}

/// The region's key in force at `now_ms`, if there is one.
pub fn current(r: &dyn Reader, region: &str, now_ms: i64) -> Result<Option<KeyPair>, AwsError> {
    let newest = r.scan(
        KEYS,
        Bound::Included(key(region, 0).as_slice()),
        Bound::Included(key(region, now_ms).as_slice()),
        1,
        true,
    )?;
    for (_, v) in newest {
        let k: KeyPair = serde_json::from_slice(&v).map_err(AwsError::internal)?;
        if k.valid_until_ms > now_ms {
            return Ok(Some(k));
        }
    }
    Ok(None)
}

/// Puts `fresh` in force for `region` unless a key already is (another writer was first).
pub fn install(
    w: &mut dyn Writer,
    region: &str,
    now_ms: i64,
    fresh: KeyPair,
) -> Result<KeyPair, AwsError> {
    if let Some(k) = current(w, region, now_ms)? {
        return Ok(k);
    }
    w.put_json(KEYS, &key(region, fresh.valid_from_ms), &fresh)?;
    Ok(fresh)
}

/// Every key of `region` whose validity overlaps `[from_ms, to_ms]`, oldest first. Only the
/// region's own: digests are signed per region and validate-logs asks the source region.
pub fn overlapping(
    r: &dyn Reader,
    region: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<KeyPair>, AwsError> {
    let all: Vec<(Vec<u8>, KeyPair)> =
        r.scan_prefix_json(KEYS, format!("{region}\0").as_bytes(), usize::MAX)?;
    Ok(all
        .into_iter()
        .map(|(_, k)| k)
        .filter(|k| k.valid_from_ms <= to_ms && k.valid_until_ms >= from_ms)
        .collect())
}

/// The private half, unsealed for signing.
pub fn private_key(sealer: &Sealer, k: &KeyPair) -> Result<RsaPrivateKey, AwsError> {
    let der = sealer
        .open(&k.sealed_private_key)
        .ok_or_else(|| AwsError::internal("a digest signing key does not unseal"))?;
    RsaPrivateKey::from_pkcs1_der(&der).map_err(AwsError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_md5_hex_of_the_der() {
        assert_eq!(fingerprint(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}

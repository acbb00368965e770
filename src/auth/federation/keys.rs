//! Public keys an identity provider signs with: JSON Web Keys (RFC 7517: RSA, and EC on P-256,
//! P-384 and P-521, or an `x5c` certificate) for OIDC, X.509 certificates for SAML.

use base64::Engine;
use rsa::pkcs8::DecodePublicKey;
use rsa::{BigUint, RsaPublicKey};
use serde_json::Value;

#[derive(Clone)]
pub enum PublicKey {
    Rsa(RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(Box<p521::ecdsa::VerifyingKey>),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PublicKey::Rsa(_) => "RSA",
            PublicKey::P256(_) => "P-256",
            PublicKey::P384(_) => "P-384",
            PublicKey::P521(_) => "P-521",
        })
    }
}

/// One key of a JWKS.
#[derive(Debug, Clone)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The algorithm the key is for, when the set says.
    pub alg: Option<String>,
    pub key: PublicKey,
}

impl Jwk {
    pub fn kty(&self) -> &'static str {
        match self.key {
            PublicKey::Rsa(_) => "RSA",
            _ => "EC",
        }
    }
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

/// The RSA key of a DER X.509 certificate.
pub fn certificate_rsa_key(der: &[u8]) -> Result<RsaPublicKey, String> {
    use der::{Decode, Encode};
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| format!("certificate: {e}"))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| format!("certificate: {e}"))?;
    RsaPublicKey::from_public_key_der(&spki).map_err(|_| "the certificate's key is not RSA".into())
}

fn certificate_key(der: &[u8]) -> Result<PublicKey, String> {
    use der::{Decode, Encode};
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| format!("certificate: {e}"))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| format!("certificate: {e}"))?;
    if let Ok(k) = RsaPublicKey::from_public_key_der(&spki) {
        return Ok(PublicKey::Rsa(k));
    }
    if let Ok(k) = p256::PublicKey::from_public_key_der(&spki) {
        return Ok(PublicKey::P256(k.into()));
    }
    if let Ok(k) = p384::PublicKey::from_public_key_der(&spki) {
        return Ok(PublicKey::P384(k.into()));
    }
    Err("the certificate's key is neither RSA nor EC on P-256 or P-384".into())
}

/// One JWK (a JSON object).
pub fn parse_jwk(v: &Value) -> Result<Jwk, String> {
    let field = |name: &str| v.get(name).and_then(Value::as_str);
    let bytes = |name: &str| -> Result<Vec<u8>, String> {
        field(name)
            .and_then(b64url)
            .ok_or_else(|| format!("a key's \"{name}\" is missing or not base64url"))
    };
    let kty = field("kty").ok_or("a key has no \"kty\"")?;
    let key = match kty {
        "RSA" if v.get("n").is_some() => {
            let n = BigUint::from_bytes_be(&bytes("n")?);
            let e = BigUint::from_bytes_be(&bytes("e")?);
            PublicKey::Rsa(RsaPublicKey::new(n, e).map_err(|e| format!("an RSA key: {e}"))?)
        }
        "EC" if v.get("x").is_some() => {
            let (x, y) = (bytes("x")?, bytes("y")?);
            let bad = |e: &dyn std::fmt::Display| format!("an EC key: {e}");
            match field("crv") {
                Some("P-256") => {
                    let point = p256::EncodedPoint::from_affine_coordinates(
                        p256::FieldBytes::from_slice(&pad(&x, 32)?),
                        p256::FieldBytes::from_slice(&pad(&y, 32)?),
                        false,
                    );
                    PublicKey::P256(
                        p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                            .map_err(|e| bad(&e))?,
                    )
                }
                Some("P-384") => {
                    let point = p384::EncodedPoint::from_affine_coordinates(
                        p384::FieldBytes::from_slice(&pad(&x, 48)?),
                        p384::FieldBytes::from_slice(&pad(&y, 48)?),
                        false,
                    );
                    PublicKey::P384(
                        p384::ecdsa::VerifyingKey::from_encoded_point(&point)
                            .map_err(|e| bad(&e))?,
                    )
                }
                Some("P-521") => {
                    let point = p521::EncodedPoint::from_affine_coordinates(
                        p521::FieldBytes::from_slice(&pad(&x, 66)?),
                        p521::FieldBytes::from_slice(&pad(&y, 66)?),
                        false,
                    );
                    PublicKey::P521(Box::new(
                        p521::ecdsa::VerifyingKey::from_encoded_point(&point)
                            .map_err(|e| bad(&e))?,
                    ))
                }
                other => return Err(format!("unsupported curve {other:?}")),
            }
        }
        "RSA" | "EC" => {
            // Only a certificate chain: the first certificate holds the key.
            let first = v
                .get("x5c")
                .and_then(Value::as_array)
                .and_then(|c| c.first())
                .and_then(Value::as_str)
                .ok_or_else(|| format!("an {kty} key has neither its parameters nor \"x5c\""))?;
            let der = base64::engine::general_purpose::STANDARD
                .decode(first)
                .map_err(|_| "\"x5c\" is not base64".to_string())?;
            certificate_key(&der)?
        }
        other => return Err(format!("unsupported key type {other}")),
    };
    Ok(Jwk {
        kid: field("kid").map(str::to_string),
        alg: field("alg").map(str::to_string),
        key,
    })
}

/// Left-pads a big-endian coordinate to `len` bytes.
fn pad(b: &[u8], len: usize) -> Result<Vec<u8>, String> {
    if b.len() > len {
        return Err("an EC coordinate is too long".into());
    }
    let mut out = vec![0; len - b.len()];
    out.extend_from_slice(b);
    Ok(out)
}

/// A JWKS document (`{"keys": [...]}`), every key of which must be usable; keys meant for
/// encryption (`"use": "enc"`) are left out.
pub fn parse_jwks(text: &str) -> Result<Vec<Value>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let keys = v
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("a JWKS is an object with a \"keys\" array")?;
    let mut out = Vec::new();
    for k in keys {
        if k.get("use").and_then(Value::as_str) == Some("enc") {
            continue;
        }
        parse_jwk(k)?;
        out.push(k.clone());
    }
    if out.is_empty() {
        return Err("the JWKS has no signing key".into());
    }
    Ok(out)
}

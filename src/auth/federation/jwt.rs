//! JSON Web Tokens (RFC 7519) in compact JWS form: reading one, and checking its signature
//! against the keys of its issuer (RS256/384/512, PS256/384/512, ES256/384/512).

use super::keys::{parse_jwk, PublicKey};
use base64::Engine;
use rsa::{Pkcs1v15Sign, Pss};
use serde_json::{Map, Value};
use sha2::Digest;

#[derive(Debug, Clone)]
pub struct Jwt {
    pub alg: String,
    pub kid: Option<String>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// None of the keys is one the token names (its `kid`) or could have made it.
    NoKey,
    /// The algorithm is not one of those supported (`none` included).
    Algorithm(String),
    Invalid,
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
}

impl Jwt {
    /// Reads `token` (`header.payload.signature`); None when it is not a JWS-signed JWT.
    pub fn parse(token: &str) -> Option<Jwt> {
        let token = token.trim();
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Map<String, Value> = serde_json::from_slice(&b64url(h)?).ok()?;
        let claims: Map<String, Value> = serde_json::from_slice(&b64url(p)?).ok()?;
        Some(Jwt {
            alg: header.get("alg")?.as_str()?.to_string(),
            kid: header
                .get("kid")
                .and_then(Value::as_str)
                .map(str::to_string),
            claims,
            signing_input: format!("{h}.{p}"),
            signature: b64url(s)?,
        })
    }

    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A claim that is a string or a list of strings (`aud`, `amr`).
    pub fn strings_claim(&self, name: &str) -> Vec<String> {
        match self.claims.get(name) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A NumericDate claim (`exp`, `nbf`, `iat`), in whole epoch seconds.
    pub fn time_claim(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f.floor() as i64))
    }

    /// Checks the signature against `keys` (JWKs as JSON): the key the token's `kid` names,
    /// or, when it names none, every key that fits its algorithm.
    pub fn verify(&self, keys: &[Value]) -> Result<(), VerifyError> {
        let family = match self.alg.as_str() {
            "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => "RSA",
            "ES256" | "ES384" | "ES512" => "EC",
            other => return Err(VerifyError::Algorithm(other.to_string())),
        };
        let candidates: Vec<_> = keys
            .iter()
            .filter_map(|k| parse_jwk(k).ok())
            .filter(|k| match (&self.kid, &k.kid) {
                (Some(want), Some(have)) => want == have,
                (Some(_), None) => true,
                (None, _) => true,
            })
            .filter(|k| k.kty() == family)
            .filter(|k| k.alg.as_deref().is_none_or(|a| a == self.alg))
            .collect();
        if candidates.is_empty() {
            return Err(VerifyError::NoKey);
        }
        let msg = self.signing_input.as_bytes();
        let ok = candidates
            .iter()
            .any(|k| check(&self.alg, &k.key, msg, &self.signature));
        if ok {
            Ok(())
        } else {
            Err(VerifyError::Invalid)
        }
    }
}

fn check(alg: &str, key: &PublicKey, msg: &[u8], sig: &[u8]) -> bool {
    use signature::Verifier;
    match (alg, key) {
        ("RS256", PublicKey::Rsa(k)) => k
            .verify(
                Pkcs1v15Sign::new::<sha2::Sha256>(),
                &sha2::Sha256::digest(msg),
                sig,
            )
            .is_ok(),
        ("RS384", PublicKey::Rsa(k)) => k
            .verify(
                Pkcs1v15Sign::new::<sha2::Sha384>(),
                &sha2::Sha384::digest(msg),
                sig,
            )
            .is_ok(),
        ("RS512", PublicKey::Rsa(k)) => k
            .verify(
                Pkcs1v15Sign::new::<sha2::Sha512>(),
                &sha2::Sha512::digest(msg),
                sig,
            )
            .is_ok(),
        ("PS256", PublicKey::Rsa(k)) => k
            .verify(Pss::new::<sha2::Sha256>(), &sha2::Sha256::digest(msg), sig)
            .is_ok(),
        ("PS384", PublicKey::Rsa(k)) => k
            .verify(Pss::new::<sha2::Sha384>(), &sha2::Sha384::digest(msg), sig)
            .is_ok(),
        ("PS512", PublicKey::Rsa(k)) => k
            .verify(Pss::new::<sha2::Sha512>(), &sha2::Sha512::digest(msg), sig)
            .is_ok(),
        ("ES256", PublicKey::P256(k)) => {
            p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
        }
        ("ES384", PublicKey::P384(k)) => {
            p384::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
        }
        ("ES512", PublicKey::P521(k)) => {
            p521::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
        }
        _ => false,
    }
}

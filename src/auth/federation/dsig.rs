//! Enveloped XML signatures (XMLDSig 1.0) as SAML uses them: a `ds:Signature` inside the
//! element it signs, one `ds:Reference` to that element's `ID`, the enveloped-signature and
//! canonicalization transforms, RSA with SHA-1 or SHA-2.
//!
//! Only that shape is accepted: a reference to anything but the enveloping element, more than
//! one reference, or another transform fails, so what was verified is exactly the element the
//! caller goes on to read (no signature wrapping).

use super::c14n::{self, Method};
use super::xml::Element;
use base64::Engine;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::Digest;

pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

#[derive(Debug, PartialEq, Eq)]
pub enum DsigError {
    /// The signature is not of the accepted shape or uses an algorithm not supported.
    Unsupported(String),
    /// The digest or the signature value does not match.
    Invalid,
}

#[derive(Clone, Copy)]
enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn pkcs1(self) -> Pkcs1v15Sign {
        match self {
            Hash::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
            Hash::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
            Hash::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
            Hash::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
        }
    }
}

fn digest_method(uri: &str) -> Option<Hash> {
    Some(match uri {
        "http://www.w3.org/2000/09/xmldsig#sha1" => Hash::Sha1,
        "http://www.w3.org/2001/04/xmlenc#sha256" => Hash::Sha256,
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => Hash::Sha384,
        "http://www.w3.org/2001/04/xmlenc#sha512" => Hash::Sha512,
        _ => return None,
    })
}

fn signature_method(uri: &str) -> Option<Hash> {
    Some(match uri {
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => Hash::Sha1,
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => Hash::Sha256,
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => Hash::Sha384,
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => Hash::Sha512,
        _ => return None,
    })
}

fn unsupported(m: impl Into<String>) -> DsigError {
    DsigError::Unsupported(m.into())
}

/// The canonicalization an element naming one (`CanonicalizationMethod`, `Transform`)
/// describes, with its InclusiveNamespaces PrefixList.
fn method_of(e: &Element) -> Option<Method> {
    let prefixes = e
        .child(c14n::EXC_C14N, "InclusiveNamespaces")
        .and_then(|i| i.attr("PrefixList"))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    Method::from_uri(e.attr("Algorithm")?, prefixes)
}

fn base64(text: &str) -> Option<Vec<u8>> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}

/// The `ds:Signature` child of `signed`, if it has exactly one.
pub fn enveloped_signature(signed: &Element) -> Result<Option<&Element>, DsigError> {
    let mut sigs = signed.children_named(DS, "Signature");
    let first = sigs.next();
    if sigs.next().is_some() {
        return Err(unsupported("more than one signature"));
    }
    Ok(first)
}

/// Verifies `signature`, a child of `signed`, against any of `keys`.
pub fn verify(
    signed: &Element,
    signature: &Element,
    keys: &[RsaPublicKey],
) -> Result<(), DsigError> {
    let info = signature
        .child(DS, "SignedInfo")
        .ok_or_else(|| unsupported("no SignedInfo"))?;
    let c14n = info
        .child(DS, "CanonicalizationMethod")
        .and_then(method_of)
        .ok_or_else(|| unsupported("unsupported canonicalization"))?;
    let hash = info
        .child(DS, "SignatureMethod")
        .and_then(|m| m.attr("Algorithm"))
        .and_then(signature_method)
        .ok_or_else(|| unsupported("unsupported signature method"))?;
    let mut refs = info.children_named(DS, "Reference");
    let reference = refs.next().ok_or_else(|| unsupported("no Reference"))?;
    if refs.next().is_some() {
        return Err(unsupported("more than one Reference"));
    }
    let id = signed
        .attr("ID")
        .ok_or_else(|| unsupported("the signed element has no ID"))?;
    if reference.attr("URI") != Some(&format!("#{id}")) {
        return Err(unsupported("the Reference is not to the signed element"));
    }
    let mut enveloped = false;
    // Without a canonicalization transform a same-document reference is Canonical XML 1.0.
    let mut ref_method = Method::from_uri(c14n::C14N, Vec::new()).expect("known method");
    if let Some(transforms) = reference.child(DS, "Transforms") {
        for t in transforms.elements() {
            if !t.is(DS, "Transform") {
                return Err(unsupported("unexpected element in Transforms"));
            }
            match t.attr("Algorithm") {
                Some(ENVELOPED) => enveloped = true,
                _ => {
                    ref_method = method_of(t).ok_or_else(|| unsupported("unsupported transform"))?
                }
            }
        }
    }
    if !enveloped {
        return Err(unsupported("the signature is not enveloped"));
    }
    let digest_hash = reference
        .child(DS, "DigestMethod")
        .and_then(|m| m.attr("Algorithm"))
        .and_then(digest_method)
        .ok_or_else(|| unsupported("unsupported digest method"))?;
    let expected = reference
        .child(DS, "DigestValue")
        .and_then(|v| base64(&v.text()))
        .ok_or_else(|| unsupported("bad DigestValue"))?;
    let canonical = c14n::canonicalize(signed, &ref_method, Some(signature));
    let actual = digest_hash.digest(&canonical);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        actual.as_slice(),
        expected.as_slice(),
    )) {
        return Err(DsigError::Invalid);
    }
    let value = signature
        .child(DS, "SignatureValue")
        .and_then(|v| base64(&v.text()))
        .ok_or_else(|| unsupported("bad SignatureValue"))?;
    let signed_info = c14n::canonicalize(info, &c14n, None);
    let hashed = hash.digest(&signed_info);
    if keys
        .iter()
        .any(|k| k.verify(hash.pkcs1(), &hashed, &value).is_ok())
    {
        Ok(())
    } else {
        Err(DsigError::Invalid)
    }
}

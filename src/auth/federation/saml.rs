//! SAML 2.0 for AWS federation: the metadata document an IAM SAML provider is made from (its
//! entity id, its signing certificates, `validUntil`) and the Response a browser or tool
//! hands to AssumeRoleWithSAML (read, then its signature checked against those
//! certificates).
//!
//! A Response is accepted when it holds exactly one `saml:Assertion` and either the
//! Assertion carries an enveloped signature over itself or the Response carries one over
//! itself (covering the Assertion); everything read afterwards is read from that one signed
//! Assertion. Encrypted assertions are not read.

use super::dsig::{self, DsigError};
use super::keys::certificate_rsa_key;
use super::xml::{self, Element};
use base64::Engine;
use rsa::RsaPublicKey;

pub const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const NAMEID_FORMAT_PREFIX: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:";

/// What a metadata document says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub entity_id: String,
    /// `validUntil`, epoch milliseconds, when the document has one.
    pub valid_until: Option<i64>,
    /// DER certificates the IdP signs with.
    pub signing_certificates: Vec<Vec<u8>>,
}

/// Reads a metadata document: an `md:EntityDescriptor` with an `md:IDPSSODescriptor` whose
/// signing `md:KeyDescriptor`s (`use="signing"` or no `use`) carry X.509 certificates with RSA
/// keys. None when it is not one.
pub fn metadata(text: &str) -> Option<Metadata> {
    let root = xml::parse(text).ok()?;
    if !root.is(MD, "EntityDescriptor") {
        return None;
    }
    let entity_id = root.attr("entityID")?.to_string();
    let valid_until = match root.attr("validUntil") {
        Some(t) => Some(parse_time(t)?),
        None => None,
    };
    let idp = root.child(MD, "IDPSSODescriptor")?;
    let mut certs = Vec::new();
    for kd in idp.children_named(MD, "KeyDescriptor") {
        if kd.attr("use").is_some_and(|u| u != "signing") {
            continue;
        }
        let data = kd
            .child(dsig::DS, "KeyInfo")
            .and_then(|k| k.child(dsig::DS, "X509Data"));
        for c in data
            .into_iter()
            .flat_map(|d| d.children_named(dsig::DS, "X509Certificate"))
        {
            let clean: String = c.text().chars().filter(|c| !c.is_whitespace()).collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(clean)
                .ok()?;
            certificate_rsa_key(&der).ok()?;
            certs.push(der);
        }
    }
    if certs.is_empty() {
        return None;
    }
    Some(Metadata {
        entity_id,
        valid_until,
        signing_certificates: certs,
    })
}

/// An `xs:dateTime` in UTC (`2024-01-15T10:20:30Z`, fractions allowed), as epoch milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// One `saml:Attribute`: its name and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub values: Vec<String>,
}

/// What the Assertion of a Response says, as far as AWS reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assertion {
    pub id: String,
    pub issuer: String,
    /// `IssueInstant` of the Response (of the Assertion when the Response has none), ms.
    pub issue_instant: Option<i64>,
    pub name_id: String,
    /// The NameID `Format`, shortened as STS shows it (`transient`, `persistent`).
    pub subject_type: String,
    /// `SubjectConfirmationData`'s `Recipient` and `NotOnOrAfter` (ms), of a bearer
    /// confirmation.
    pub recipient: Option<String>,
    pub confirmation_not_on_or_after: Option<i64>,
    /// `Conditions`: `NotBefore`, `NotOnOrAfter` (ms), the `Audience`s.
    pub not_before: Option<i64>,
    pub not_on_or_after: Option<i64>,
    pub audiences: Vec<String>,
    /// `AuthnStatement`'s `SessionNotOnOrAfter`, ms.
    pub session_not_on_or_after: Option<i64>,
    pub attributes: Vec<Attribute>,
}

impl Assertion {
    pub fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.values.as_slice())
    }
}

/// Why a Response is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SamlError {
    /// Not base64, not XML, not a Response with one Assertion, not a success.
    Malformed(String),
    /// Encrypted assertions are not read here.
    Encrypted,
    /// No signature, or one that does not verify with the provider's certificates.
    Signature,
}

/// A Response, parsed but not yet verified.
pub struct Response {
    root: Element,
}

/// Decodes the base64 `SAMLAssertion` parameter and parses the Response in it.
pub fn decode(b64: &str) -> Result<Response, SamlError> {
    let clean: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(clean)
        .map_err(|_| SamlError::Malformed("the SAML response is not base64".into()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| SamlError::Malformed("the SAML response is not UTF-8".into()))?;
    let root = xml::parse(&text).map_err(|e| SamlError::Malformed(e.0))?;
    if !root.is(SAMLP, "Response") {
        return Err(SamlError::Malformed("not a SAML 2.0 Response".into()));
    }
    Ok(Response { root })
}

impl Response {
    fn assertion(&self) -> Result<&Element, SamlError> {
        if self.root.child(SAML, "EncryptedAssertion").is_some() {
            return Err(SamlError::Encrypted);
        }
        let mut all = self.root.children_named(SAML, "Assertion");
        let a = all
            .next()
            .ok_or_else(|| SamlError::Malformed("the Response has no Assertion".into()))?;
        if all.next().is_some() {
            return Err(SamlError::Malformed(
                "the Response has more than one Assertion".into(),
            ));
        }
        Ok(a)
    }

    /// What the Assertion says, without checking anything (the record of a call shows who it
    /// claims to be, whether or not it is accepted).
    pub fn read(&self) -> Result<Assertion, SamlError> {
        let a = self.assertion()?;
        let status = self
            .root
            .child(SAMLP, "Status")
            .and_then(|s| s.child(SAMLP, "StatusCode"))
            .and_then(|c| c.attr("Value"));
        if status.is_some_and(|s| s != SUCCESS) {
            return Err(SamlError::Malformed("the Response is not a success".into()));
        }
        let time = |e: Option<&Element>, name: &str| -> Result<Option<i64>, SamlError> {
            match e.and_then(|e| e.attr(name)) {
                None => Ok(None),
                Some(t) => parse_time(t)
                    .map(Some)
                    .ok_or_else(|| SamlError::Malformed(format!("{name} is not a date"))),
            }
        };
        let mut out = Assertion {
            id: a.attr("ID").unwrap_or_default().to_string(),
            issuer: a
                .child(SAML, "Issuer")
                .or_else(|| self.root.child(SAML, "Issuer"))
                .map(|i| i.text().trim().to_string())
                .unwrap_or_default(),
            issue_instant: match time(Some(&self.root), "IssueInstant")? {
                Some(t) => Some(t),
                None => time(Some(a), "IssueInstant")?,
            },
            ..Assertion::default()
        };
        if let Some(subject) = a.child(SAML, "Subject") {
            if let Some(n) = subject.child(SAML, "NameID") {
                out.name_id = n.text().trim().to_string();
                let format = n
                    .attr("Format")
                    .unwrap_or("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified");
                out.subject_type = format
                    .strip_prefix(NAMEID_FORMAT_PREFIX)
                    .unwrap_or(format)
                    .to_string();
            }
            for c in subject.children_named(SAML, "SubjectConfirmation") {
                if c.attr("Method") != Some("urn:oasis:names:tc:SAML:2.0:cm:bearer") {
                    continue;
                }
                let data = c.child(SAML, "SubjectConfirmationData");
                out.recipient = data.and_then(|d| d.attr("Recipient")).map(str::to_string);
                out.confirmation_not_on_or_after = time(data, "NotOnOrAfter")?;
                break;
            }
        }
        if let Some(c) = a.child(SAML, "Conditions") {
            out.not_before = time(Some(c), "NotBefore")?;
            out.not_on_or_after = time(Some(c), "NotOnOrAfter")?;
            for r in c.children_named(SAML, "AudienceRestriction") {
                for au in r.children_named(SAML, "Audience") {
                    out.audiences.push(au.text().trim().to_string());
                }
            }
        }
        out.session_not_on_or_after = time(a.child(SAML, "AuthnStatement"), "SessionNotOnOrAfter")?;
        for st in a.children_named(SAML, "AttributeStatement") {
            for at in st.children_named(SAML, "Attribute") {
                let Some(name) = at.attr("Name") else {
                    continue;
                };
                let values: Vec<String> = at
                    .children_named(SAML, "AttributeValue")
                    .map(|v| v.text().trim().to_string())
                    .collect();
                match out.attributes.iter_mut().find(|x| x.name == name) {
                    Some(x) => x.values.extend(values),
                    None => out.attributes.push(Attribute {
                        name: name.to_string(),
                        values,
                    }),
                }
            }
        }
        Ok(out)
    }

    /// Checks that the Assertion, or the whole Response, carries a valid enveloped signature
    /// by one of `certificates` (DER).
    pub fn verify(&self, certificates: &[Vec<u8>]) -> Result<(), SamlError> {
        let keys: Vec<RsaPublicKey> = certificates
            .iter()
            .filter_map(|c| certificate_rsa_key(c).ok())
            .collect();
        let assertion = self.assertion()?;
        // IDs must be unique, or a reference could name another element than the one read.
        let mut ids: Vec<&str> = self
            .root
            .descendants()
            .into_iter()
            .filter_map(|e| e.attr("ID"))
            .collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != n {
            return Err(SamlError::Malformed("duplicate IDs".into()));
        }
        let mut signed = false;
        for element in [assertion, &self.root] {
            let sig = dsig::enveloped_signature(element).map_err(|_| SamlError::Signature)?;
            if let Some(sig) = sig {
                match dsig::verify(element, sig, &keys) {
                    Ok(()) => signed = true,
                    Err(DsigError::Invalid) | Err(DsigError::Unsupported(_)) => {
                        return Err(SamlError::Signature)
                    }
                }
            }
        }
        if signed {
            Ok(())
        } else {
            Err(SamlError::Signature)
        }
    }
}

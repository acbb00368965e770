//! Tokens and signatures made by independent implementations, checked here: JWTs signed with
//! Python's `cryptography`, SAML responses signed with libxml2's exclusive canonicalization
//! (through lxml) and `cryptography` (`testdata/signed.json`, made by the integration tests'
//! helpers in `tests/integration/test_federation.py`).

use super::jwt::{Jwt, VerifyError};
use super::saml::{self, SamlError};
use base64::Engine;
use serde_json::Value;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("testdata/signed.json")).unwrap()
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap().to_string()
}

#[test]
fn rs256_and_es256_tokens_verify_with_their_keys() {
    let f = fixtures();
    let keys = vec![f["rsa_jwk"].clone(), f["ec_jwk"].clone()];
    for name in ["rs256", "es256"] {
        let jwt = Jwt::parse(&s(&f, name)).unwrap();
        assert_eq!(jwt.str_claim("iss"), Some("https://token.example.com"));
        assert_eq!(jwt.strings_claim("aud"), ["other", "sts.amazonaws.com"]);
        assert_eq!(jwt.time_claim("exp"), Some(2_000_000_000));
        assert_eq!(jwt.verify(&keys), Ok(()), "{name}");
    }
    // Each only with its own key.
    let rs = Jwt::parse(&s(&f, "rs256")).unwrap();
    assert_eq!(rs.verify(&[f["ec_jwk"].clone()]), Err(VerifyError::NoKey));
    let mut other = f["rsa_jwk"].clone();
    other["kid"] = "another".into();
    assert_eq!(rs.verify(&[other]), Err(VerifyError::NoKey));
}

#[test]
fn altered_tokens_do_not_verify() {
    let f = fixtures();
    let keys = vec![f["rsa_jwk"].clone(), f["ec_jwk"].clone()];
    for name in ["rs256", "es256"] {
        let token = s(&f, name);
        let parts: Vec<&str> = token.split('.').collect();
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"iss":"https://token.example.com","aud":"sts.amazonaws.com","sub":"admin","exp":2000000000}"#);
        let forged = format!("{}.{}.{}", parts[0], claims, parts[2]);
        assert_eq!(
            Jwt::parse(&forged).unwrap().verify(&keys),
            Err(VerifyError::Invalid),
            "{name}"
        );
    }
    let none = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#)
    );
    assert_eq!(
        Jwt::parse(&none).unwrap().verify(&keys),
        Err(VerifyError::Algorithm("none".into()))
    );
    assert!(Jwt::parse("a.b").is_none());
    assert!(Jwt::parse("not.a.jwt").is_none());
}

#[test]
fn metadata_gives_the_signing_certificate() {
    let m = saml::metadata(&s(&fixtures(), "metadata")).unwrap();
    assert_eq!(m.entity_id, "https://idp.example.com/saml");
    assert_eq!(m.valid_until, None);
    assert_eq!(m.signing_certificates.len(), 1);
    assert!(saml::metadata(
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>"
    )
    .is_none());
    assert!(saml::metadata("not xml").is_none());
}

#[test]
fn signed_responses_verify_and_read() {
    let f = fixtures();
    let certs = saml::metadata(&s(&f, "metadata"))
        .unwrap()
        .signing_certificates;
    for name in ["assertion_signed", "response_signed"] {
        let r = saml::decode(&s(&f, name)).unwrap();
        assert_eq!(r.verify(&certs), Ok(()), "{name}");
        let a = r.read().unwrap();
        assert_eq!(a.issuer, "https://idp.example.com/saml");
        assert_eq!(a.name_id, "alice@example.com");
        assert_eq!(a.subject_type, "persistent");
        assert_eq!(
            a.recipient.as_deref(),
            Some("https://signin.aws.amazon.com/saml")
        );
        assert_eq!(a.audiences, ["https://signin.aws.amazon.com/saml"]);
        assert_eq!(a.issue_instant, Some(1_705_312_800_000));
        assert_eq!(
            a.attribute("https://aws.amazon.com/SAML/Attributes/Role")
                .unwrap(),
            ["arn:aws:iam::111111111111:role/R,arn:aws:iam::111111111111:saml-provider/Corp"]
        );
    }
    let a = saml::decode(&s(&f, "assertion_signed"))
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(a.attribute("urn:oid:2.5.4.3").unwrap(), ["Alice & Co"]);
}

fn altered(b64: &str, change: impl Fn(String) -> String) -> String {
    let text = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap();
    base64::engine::general_purpose::STANDARD.encode(change(text))
}

#[test]
fn altered_or_wrapped_responses_do_not_verify() {
    let f = fixtures();
    let certs = saml::metadata(&s(&f, "metadata"))
        .unwrap()
        .signing_certificates;
    for name in ["assertion_signed", "response_signed"] {
        let b64 = s(&f, name);
        let renamed = altered(&b64, |t| {
            t.replace("alice@example.com", "mallory@example.com")
        });
        let r = saml::decode(&renamed).unwrap();
        assert_eq!(r.verify(&certs), Err(SamlError::Signature), "{name}");
        // Only the signing certificate of the metadata will do.
        let original = saml::decode(&b64).unwrap();
        assert_eq!(original.verify(&[]), Err(SamlError::Signature));
    }
    // A second (unsigned) Assertion beside the signed one is refused, not read.
    let b64 = s(&f, "assertion_signed");
    let wrapped = altered(&b64, |t| {
        let start = t.find("<saml:Assertion").unwrap();
        let end = t.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
        let copy = t[start..end].replace("alice@example.com", "mallory@example.com");
        format!("{}{}{}", &t[..end], copy, &t[end..])
    });
    let r = saml::decode(&wrapped).unwrap();
    assert!(matches!(r.verify(&certs), Err(SamlError::Malformed(_))));
    assert!(matches!(r.read(), Err(SamlError::Malformed(_))));
    // An unsigned response is not accepted.
    let unsigned = altered(&b64, |t| {
        let start = t.find("<ds:Signature").unwrap();
        let end = t.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        format!("{}{}", &t[..start], &t[end..])
    });
    assert_eq!(
        saml::decode(&unsigned).unwrap().verify(&certs),
        Err(SamlError::Signature)
    );
}

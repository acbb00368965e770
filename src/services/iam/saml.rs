//! SAML identity providers: CreateSAMLProvider, GetSAMLProvider, ListSAMLProviders,
//! UpdateSAMLProvider, DeleteSAMLProvider and their tags. A provider is its IdP's metadata
//! document, whose signing certificates AssumeRoleWithSAML verifies responses with
//! (`auth::federation::saml`); a document that is not IdP metadata with a signing
//! certificate is refused.
//!
//! Encrypted assertions (`AssertionEncryptionMode` Required, `AddPrivateKey`,
//! `RemovePrivateKey`) have no counterpart here: asking for them answers NotImplemented.

use super::errors::{
    already_exists, invalid_input, limit_exceeded, no_such_entity, not_supported, validation,
};
use super::input::{date, tags_json};
use super::Call;
use crate::auth::directory::{self, SamlProvider, PROVIDERS_PER_ACCOUNT};
use crate::auth::federation::saml;
use crate::error::AwsError;
use crate::store::{Reader, Writer};
use serde_json::{json, Map, Value};

fn not_found(arn: &str) -> AwsError {
    no_such_entity(format!("Manifest not found for arn {arn}"))
}

/// The provider a `SAMLProviderArn` names (without regard to case, like IAM names).
pub fn existing(r: &dyn Reader, c: &Call, arn: &str) -> Result<SamlProvider, AwsError> {
    let (account, name) = directory::parse_saml_arn(arn)
        .ok_or_else(|| invalid_input(format!("ARN {arn} is not valid.")))?;
    if account != c.account {
        return Err(not_found(arn));
    }
    directory::saml_provider(r, account, name)?.ok_or_else(|| not_found(arn))
}

/// A metadata document: its length as the model bounds it, then what it says.
fn metadata<'a>(
    c: &Call<'a>,
    required: bool,
) -> Result<Option<(&'a str, saml::Metadata)>, AwsError> {
    let doc = match (c.p.opt("SAMLMetadataDocument"), required) {
        (Some(d), _) => d,
        (None, true) => return c.p.required("SAMLMetadataDocument").map(|_| None),
        (None, false) => return Ok(None),
    };
    let n = doc.chars().count();
    if !(1000..=10_000_000).contains(&n) {
        return Err(validation(format!(
            "1 validation error detected: Value at 'sAMLMetadataDocument' failed to satisfy constraint: Member must have length {} {}",
            if n < 1000 { "greater than or equal to" } else { "less than or equal to" },
            if n < 1000 { 1000 } else { 10_000_000 }
        )));
    }
    let parsed = saml::metadata(doc).ok_or_else(|| invalid_input("Could not parse metadata"))?;
    Ok(Some((doc, parsed)))
}

/// Encryption of assertions is not served: `Allowed` (the default) is all there is.
fn refuse_encryption(c: &Call) -> Result<(), AwsError> {
    match c.p.opt("AssertionEncryptionMode") {
        None | Some("Allowed") => {}
        Some("Required") => return Err(not_supported("Encrypted SAML assertions")),
        Some(other) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'assertionEncryptionMode' failed to satisfy constraint: Member must satisfy enum value set: [Required, Allowed]"
            )))
        }
    }
    if c.p.opt("AddPrivateKey").is_some() || c.p.opt("RemovePrivateKey").is_some() {
        return Err(not_supported("Private keys of SAML providers"));
    }
    Ok(())
}

/// A hundred years on, when the metadata says nothing (as AWS does).
fn valid_until(created: i64, m: &saml::Metadata) -> i64 {
    m.valid_until.unwrap_or_else(|| {
        chrono::DateTime::from_timestamp_millis(created)
            .and_then(|t| t.checked_add_months(chrono::Months::new(1200)))
            .map(|t| t.timestamp_millis())
            .unwrap_or(created)
    })
}

fn check_name(name: &str) -> Result<(), AwsError> {
    if name.chars().count() > 128 {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 128"
        )));
    }
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_.-".contains(c));
    if !ok {
        return Err(invalid_input(
            "The specified value for name is invalid. It must be 1 to 128 characters long and contain only alphanumeric characters, periods (.), underscores (_), or hyphens (-).",
        ));
    }
    Ok(())
}

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.required("Name")?;
    check_name(name)?;
    let (doc, parsed) = metadata(c, true)?.expect("required");
    let tags = c.p.tags()?;
    if tags.len() > 50 {
        return Err(limit_exceeded(
            "The number of tags has reached the maximum limit.",
        ));
    }
    refuse_encryption(c)?;
    if directory::saml_provider(w, &c.account, name)?.is_some() {
        return Err(already_exists(format!(
            "Provider with name {name} already exists."
        )));
    }
    if directory::saml_providers(w, &c.account)?.len() >= PROVIDERS_PER_ACCOUNT {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for SAMLProvidersPerAccount: {PROVIDERS_PER_ACCOUNT}"
        )));
    }
    let p = SamlProvider {
        account: c.account.clone(),
        name: name.to_string(),
        uuid: crate::ids::aws_id("SAML", 18),
        metadata: doc.to_string(),
        created: c.now,
        valid_until: valid_until(c.now, &parsed),
        tags,
    };
    directory::put_saml_provider(w, &p)?;
    let mut out = Map::new();
    out.insert("SAMLProviderArn".into(), json!(p.arn()));
    if !p.tags.is_empty() {
        out.insert("Tags".into(), tags_json(&p.tags));
    }
    Ok(Value::Object(out))
}

pub fn get(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let p = existing(w, c, c.p.arn("SAMLProviderArn")?)?;
    let mut out = Map::new();
    out.insert("SAMLProviderUUID".into(), json!(p.uuid));
    out.insert("SAMLMetadataDocument".into(), json!(p.metadata));
    out.insert("CreateDate".into(), json!(date(p.created)));
    out.insert("ValidUntil".into(), json!(date(p.valid_until)));
    if !p.tags.is_empty() {
        out.insert("Tags".into(), tags_json(&p.tags));
    }
    Ok(Value::Object(out))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let items: Vec<Value> = directory::saml_providers(w, &c.account)?
        .iter()
        .map(|p| {
            json!({
                "Arn": p.arn(),
                "ValidUntil": date(p.valid_until),
                "CreateDate": date(p.created),
            })
        })
        .collect();
    Ok(json!({"SAMLProviderList": items}))
}

pub fn update(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("SAMLProviderArn")?;
    let given = metadata(c, false)?;
    refuse_encryption(c)?;
    let mut p = existing(w, c, arn)?;
    let Some((doc, parsed)) = given else {
        if c.p.opt("AssertionEncryptionMode").is_none() {
            return Err(invalid_input("No updates are defined"));
        }
        return Ok(json!({"SAMLProviderArn": p.arn()}));
    };
    p.metadata = doc.to_string();
    p.valid_until = valid_until(c.now, &parsed);
    directory::put_saml_provider(w, &p)?;
    Ok(json!({"SAMLProviderArn": p.arn()}))
}

pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let p = existing(w, c, c.p.arn("SAMLProviderArn")?)?;
    directory::delete_saml_provider(w, &p.account, &p.name)?;
    Ok(json!({}))
}

/// The resource a SAML provider operation acts on, for authorization.
pub fn resource(c: &Call, op: &str) -> Option<String> {
    if op == "CreateSAMLProvider" {
        return c.p.opt("Name").map(|n| directory::saml_arn(&c.account, n));
    }
    c.p.opt("SAMLProviderArn").map(str::to_string)
}

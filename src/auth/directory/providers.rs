//! IAM identity providers: OpenID Connect providers (`iam.oidc_providers`, keyed
//! `account/<url without https://>`, the URL as given, since ARNs keep its case) and SAML
//! providers (`iam.saml_providers`, keyed `account/lower(name)` like other IAM names).
//!
//! An OIDC provider also carries the JWKS its tokens are verified with (`keys`): Cairn cannot
//! fetch it from the issuer, so `cairn admin put-oidc-keys` stores it (see
//! `auth::federation`).

use super::{name_key, Tag, OIDC_PROVIDERS, SAML_PROVIDERS};
use crate::store::{Reader, ReaderExt, StoreResult, Writer, WriterExt};
use serde::{Deserialize, Serialize};

/// The most providers of each kind an account may have (AWS's quota).
pub const PROVIDERS_PER_ACCOUNT: usize = 100;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OidcProvider {
    pub account: String,
    /// The issuer URL without `https://` (`token.actions.githubusercontent.com`).
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub created: i64,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The issuer's signing keys: the JWKs of its JWKS document, as given.
    #[serde(default)]
    pub keys: Vec<serde_json::Value>,
}

impl OidcProvider {
    pub fn arn(&self) -> String {
        oidc_arn(&self.account, &self.url)
    }
}

pub fn oidc_arn(account: &str, url: &str) -> String {
    format!("arn:aws:iam::{account}:oidc-provider/{url}")
}

pub fn saml_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:saml-provider/{name}")
}

/// `arn:aws:iam::<account>:<kind>/<rest>` → (account, rest).
fn parse_arn<'a>(arn: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(":iam::")?;
    let (account, resource) = rest.split_once(':')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let name = resource.strip_prefix(kind)?.strip_prefix('/')?;
    (!name.is_empty()).then_some((account, name))
}

/// The (account, url) an OIDC provider ARN names.
pub fn parse_oidc_arn(arn: &str) -> Option<(&str, &str)> {
    parse_arn(arn, "oidc-provider")
}

/// The (account, name) a SAML provider ARN names.
pub fn parse_saml_arn(arn: &str) -> Option<(&str, &str)> {
    parse_arn(arn, "saml-provider").filter(|(_, n)| !n.contains('/'))
}

fn oidc_key(account: &str, url: &str) -> Vec<u8> {
    format!("{account}/{url}").into_bytes()
}

pub fn oidc_provider(
    r: &dyn Reader,
    account: &str,
    url: &str,
) -> StoreResult<Option<OidcProvider>> {
    r.get_json(OIDC_PROVIDERS, &oidc_key(account, url))
}

pub fn put_oidc_provider(w: &mut dyn Writer, p: &OidcProvider) -> StoreResult<()> {
    w.put_json(OIDC_PROVIDERS, &oidc_key(&p.account, &p.url), p)
}

pub fn delete_oidc_provider(w: &mut dyn Writer, account: &str, url: &str) -> StoreResult<bool> {
    w.delete(OIDC_PROVIDERS, &oidc_key(account, url))
}

pub fn oidc_providers(r: &dyn Reader, account: &str) -> StoreResult<Vec<OidcProvider>> {
    Ok(r.scan_prefix_json::<OidcProvider>(
        OIDC_PROVIDERS,
        &super::account_prefix(account),
        usize::MAX,
    )?
    .into_iter()
    .map(|(_, p)| p)
    .collect())
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SamlProvider {
    pub account: String,
    pub name: String,
    /// `SAMLProviderUUID`.
    pub uuid: String,
    /// The metadata document as given.
    pub metadata: String,
    pub created: i64,
    /// The metadata's `validUntil`, or a hundred years after it was given (epoch ms).
    pub valid_until: i64,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl SamlProvider {
    pub fn arn(&self) -> String {
        saml_arn(&self.account, &self.name)
    }
}

pub fn saml_provider(
    r: &dyn Reader,
    account: &str,
    name: &str,
) -> StoreResult<Option<SamlProvider>> {
    r.get_json(SAML_PROVIDERS, &name_key(account, name))
}

pub fn put_saml_provider(w: &mut dyn Writer, p: &SamlProvider) -> StoreResult<()> {
    w.put_json(SAML_PROVIDERS, &name_key(&p.account, &p.name), p)
}

pub fn delete_saml_provider(w: &mut dyn Writer, account: &str, name: &str) -> StoreResult<bool> {
    w.delete(SAML_PROVIDERS, &name_key(account, name))
}

pub fn saml_providers(r: &dyn Reader, account: &str) -> StoreResult<Vec<SamlProvider>> {
    Ok(r.scan_prefix_json::<SamlProvider>(
        SAML_PROVIDERS,
        &super::account_prefix(account),
        usize::MAX,
    )?
    .into_iter()
    .map(|(_, p)| p)
    .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn provider_arns() {
        assert_eq!(
            super::parse_oidc_arn("arn:aws:iam::123456789012:oidc-provider/example.com/id/A"),
            Some(("123456789012", "example.com/id/A"))
        );
        assert_eq!(
            super::parse_saml_arn("arn:aws:iam::123456789012:saml-provider/Okta"),
            Some(("123456789012", "Okta"))
        );
        assert_eq!(
            super::parse_saml_arn("arn:aws:iam::123456789012:saml-provider/a/b"),
            None
        );
        assert_eq!(
            super::parse_oidc_arn("arn:aws:iam::123456789012:saml-provider/Okta"),
            None
        );
        assert_eq!(
            super::parse_oidc_arn("arn:aws:iam::1234:oidc-provider/x"),
            None
        );
    }
}

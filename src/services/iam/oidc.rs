//! OpenID Connect identity providers: CreateOpenIDConnectProvider, GetOpenIDConnectProvider,
//! ListOpenIDConnectProviders, DeleteOpenIDConnectProvider,
//! UpdateOpenIDConnectProviderThumbprint, Add/RemoveClientIDTo/FromOpenIDConnectProvider and
//! their tags. A provider is named by its issuer URL: its ARN is
//! `arn:aws:iam::<account>:oidc-provider/<url without https://>`, and at most one per URL.
//!
//! AssumeRoleWithWebIdentity (`services/sts/web_identity.rs`) verifies tokens with the keys
//! `cairn admin put-oidc-keys` stores with a provider ([`put_keys`]).

use super::errors::{already_exists, invalid_input, limit_exceeded, no_such_entity, validation};
use super::input::{date, tags_json};
use super::Call;
use crate::auth::directory::{self, OidcProvider, PROVIDERS_PER_ACCOUNT};
use crate::error::AwsError;
use crate::store::{Reader, Writer};
use serde_json::{json, Map, Value};

const CLIENT_IDS_PER_PROVIDER: usize = 100;
const THUMBPRINTS_PER_PROVIDER: usize = 5;

fn not_found(arn: &str) -> AwsError {
    no_such_entity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

fn constraint(value: &str, member: &str, rule: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

/// `Url` → the provider's name (host and path, without `https://`).
fn url_name(url: &str) -> Result<&str, AwsError> {
    if url.is_empty() {
        return Err(constraint(
            url,
            "url",
            "Member must have length greater than or equal to 1",
        ));
    }
    if url.chars().count() > 255 {
        return Err(constraint(
            url,
            "url",
            "Member must have length less than or equal to 255",
        ));
    }
    let bad = || validation("Invalid Open ID Connect Provider URL".into());
    let rest = url.strip_prefix("https://").ok_or_else(bad)?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty()
        || rest.contains(['?', '#'])
        || rest.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(rest)
}

/// The provider an `OpenIDConnectProviderArn` names, in the caller's account.
pub fn existing(r: &dyn Reader, c: &Call, arn: &str) -> Result<OidcProvider, AwsError> {
    let (account, url) = directory::parse_oidc_arn(arn)
        .ok_or_else(|| invalid_input(format!("ARN {arn} is not valid.")))?;
    if account != c.account {
        return Err(not_found(arn));
    }
    directory::oidc_provider(r, account, url)?.ok_or_else(|| not_found(arn))
}

fn client_ids(c: &Call, member: &str) -> Result<Vec<String>, AwsError> {
    let mut out: Vec<String> = Vec::new();
    for id in c.p.0.list(member) {
        if id.is_empty() || id.chars().count() > 255 {
            return Err(validation(format!(
                "1 validation error detected: Value '[{id}]' at 'clientIDList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 1]"
            )));
        }
        if !out.iter().any(|x| x == id) {
            out.push(id.to_string());
        }
    }
    if out.len() > CLIENT_IDS_PER_PROVIDER {
        return Err(too_many_client_ids());
    }
    Ok(out)
}

fn too_many_client_ids() -> AwsError {
    limit_exceeded(format!(
        "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_IDS_PER_PROVIDER}"
    ))
}

fn thumbprints(c: &Call) -> Result<Vec<String>, AwsError> {
    let list = c.p.0.list("ThumbprintList");
    for t in &list {
        if t.chars().count() != 40 {
            return Err(validation(format!(
                "1 validation error detected: Value '[{t}]' at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]"
            )));
        }
        if !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid_input(format!(
                "Thumbprint {t} is not a valid hex string."
            )));
        }
    }
    if list.len() > THUMBPRINTS_PER_PROVIDER {
        return Err(invalid_input(
            "Thumbprint list must contain fewer than 5 entries.",
        ));
    }
    Ok(list.into_iter().map(str::to_string).collect())
}

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let url = c.p.required("Url")?;
    let name = url_name(url)?;
    let client_ids = client_ids(c, "ClientIDList")?;
    let thumbprints = thumbprints(c)?;
    let tags = c.p.tags()?;
    if tags.len() > 50 {
        return Err(limit_exceeded(
            "The number of tags has reached the maximum limit.",
        ));
    }
    if directory::oidc_provider(w, &c.account, name)?.is_some() {
        return Err(already_exists(format!(
            "Provider with url {url} already exists."
        )));
    }
    if directory::oidc_providers(w, &c.account)?.len() >= PROVIDERS_PER_ACCOUNT {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for OpenIdConnectProvidersPerAccount: {PROVIDERS_PER_ACCOUNT}"
        )));
    }
    let p = OidcProvider {
        account: c.account.clone(),
        url: name.to_string(),
        client_ids,
        thumbprints,
        created: c.now,
        tags,
        keys: Vec::new(),
    };
    directory::put_oidc_provider(w, &p)?;
    let mut out = Map::new();
    out.insert("OpenIDConnectProviderArn".into(), json!(p.arn()));
    if !p.tags.is_empty() {
        out.insert("Tags".into(), tags_json(&p.tags));
    }
    Ok(Value::Object(out))
}

pub fn get(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let p = existing(w, c, c.p.arn("OpenIDConnectProviderArn")?)?;
    let mut out = Map::new();
    out.insert("Url".into(), json!(p.url));
    out.insert("ClientIDList".into(), json!(p.client_ids));
    out.insert("ThumbprintList".into(), json!(p.thumbprints));
    out.insert("CreateDate".into(), json!(date(p.created)));
    if !p.tags.is_empty() {
        out.insert("Tags".into(), tags_json(&p.tags));
    }
    Ok(Value::Object(out))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let items: Vec<Value> = directory::oidc_providers(w, &c.account)?
        .iter()
        .map(|p| json!({"Arn": p.arn()}))
        .collect();
    Ok(json!({"OpenIDConnectProviderList": items}))
}

/// Idempotent, as on AWS: deleting a provider that is not there is no error.
pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("OpenIDConnectProviderArn")?;
    let (account, url) = directory::parse_oidc_arn(arn)
        .ok_or_else(|| invalid_input(format!("ARN {arn} is not valid.")))?;
    if account == c.account {
        directory::delete_oidc_provider(w, account, url)?;
    }
    Ok(json!({}))
}

pub fn update_thumbprint(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("OpenIDConnectProviderArn")?;
    if !c.p.0.has("ThumbprintList") {
        return Err(validation(
            "1 validation error detected: Value null at 'thumbprintList' failed to satisfy constraint: Member must not be null".into(),
        ));
    }
    let list = thumbprints(c)?;
    let mut p = existing(w, c, arn)?;
    p.thumbprints = list;
    directory::put_oidc_provider(w, &p)?;
    Ok(json!({}))
}

fn client_id<'a>(c: &Call<'a>) -> Result<&'a str, AwsError> {
    let id = c.p.required("ClientID")?;
    if id.is_empty() || id.chars().count() > 255 {
        return Err(constraint(
            id,
            "clientID",
            if id.is_empty() {
                "Member must have length greater than or equal to 1"
            } else {
                "Member must have length less than or equal to 255"
            },
        ));
    }
    Ok(id)
}

/// Idempotent: a client ID already there is not added twice.
pub fn add_client_id(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("OpenIDConnectProviderArn")?;
    let id = client_id(c)?;
    let mut p = existing(w, c, arn)?;
    if !p.client_ids.iter().any(|x| x == id) {
        if p.client_ids.len() >= CLIENT_IDS_PER_PROVIDER {
            return Err(too_many_client_ids());
        }
        p.client_ids.push(id.to_string());
        directory::put_oidc_provider(w, &p)?;
    }
    Ok(json!({}))
}

/// Idempotent: removing a client ID that is not there is no error.
pub fn remove_client_id(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("OpenIDConnectProviderArn")?;
    let id = client_id(c)?;
    let mut p = existing(w, c, arn)?;
    let before = p.client_ids.len();
    p.client_ids.retain(|x| x != id);
    if p.client_ids.len() != before {
        directory::put_oidc_provider(w, &p)?;
    }
    Ok(json!({}))
}

/// `cairn admin put-oidc-keys`: stores the JWKS `jwks` (its text) with the provider `arn`,
/// replacing the keys it had; returns the provider.
pub fn put_keys(w: &mut dyn Writer, arn: &str, jwks: &str) -> Result<OidcProvider, String> {
    let keys = crate::auth::federation::keys::parse_jwks(jwks)?;
    let (account, url) = directory::parse_oidc_arn(arn)
        .ok_or_else(|| format!("{arn} is not an OIDC provider ARN"))?;
    let mut p = directory::oidc_provider(w, account, url)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("OpenIDConnect Provider not found for arn {arn}"))?;
    p.keys = keys;
    directory::put_oidc_provider(w, &p).map_err(|e| e.to_string())?;
    Ok(p)
}

/// The resource an OIDC provider operation acts on, for authorization.
pub fn resource(c: &Call, op: &str) -> Option<String> {
    if op == "CreateOpenIDConnectProvider" {
        let url = c.p.opt("Url")?;
        return Some(directory::oidc_arn(
            &c.account,
            url.strip_prefix("https://").unwrap_or(url),
        ));
    }
    c.p.opt("OpenIDConnectProviderArn").map(str::to_string)
}

//! What AssumeRoleWithWebIdentity and AssumeRoleWithSAML share: who the caller of these
//! unsigned calls is (read from the token or assertion, for the call's record, before anything
//! is checked), what their records show of their parameters (never the token or assertion
//! itself), session tags and source identity carried by the identity provider, and the role
//! session they end in: the role's trust policy decides for the provider's user (`Federated`
//! principal), and the session remembers the provider.

use super::assume_role::{parse_role_arn, trust_refuses};
use super::session_input::SessionInput;
use super::{credentials_json, validation};
use crate::access::Facts;
use crate::app::App;
use crate::auth::federation::{jwt::Jwt, saml};
use crate::auth::principal::Federation;
use crate::auth::{directory, session, Principal, PrincipalKind, Session};
use crate::error::AwsError;
use crate::policy::{Context, Policy, PolicyKind};
use crate::services::{QueryParams, RequestContext};
use crate::store::Writer;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha1::Digest;

pub const WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";
pub const SAML: &str = "AssumeRoleWithSAML";

/// The operations a caller makes without signing: the token or assertion speaks for it.
pub fn unsigned(action: &str) -> bool {
    action == WEB_IDENTITY || action == SAML
}

/// `RoleSessionName`: 2 to 64 characters of `[\w+=,.@-]`.
pub fn check_session_name(name: &str) -> Result<(), AwsError> {
    if !(2..=64).contains(&name.chars().count()) {
        return Err(super::constraint(
            name,
            "roleSessionName",
            if name.chars().count() < 2 {
                "Member must have length greater than or equal to 2"
            } else {
                "Member must have length less than or equal to 64"
            },
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
    {
        return Err(super::constraint(
            name,
            "roleSessionName",
            r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
        ));
    }
    Ok(())
}

/// The account a `RoleArn` parameter names (empty when it names none).
fn role_account(params: &QueryParams) -> String {
    params
        .get("RoleArn")
        .and_then(parse_role_arn)
        .map(|(a, _, _)| a)
        .unwrap_or_default()
}

/// `iss` → the name of the IAM OIDC provider it would be (`https://` dropped).
pub fn provider_name(iss: &str) -> &str {
    iss.strip_prefix("https://").unwrap_or(iss)
}

/// The audience a token is for: its `azp` when it has one, else the first of its `aud` values
/// (of those in `client_ids`, when given).
pub fn token_audience(jwt: &Jwt, client_ids: Option<&[String]>) -> Option<String> {
    let mut candidates: Vec<String> = jwt
        .str_claim("azp")
        .map(str::to_string)
        .into_iter()
        .collect();
    candidates.extend(jwt.strings_claim("aud"));
    match client_ids {
        None => candidates.into_iter().next(),
        Some(ids) => candidates.into_iter().find(|c| ids.contains(c)),
    }
}

/// `saml:namequalifier`: BASE64(SHA1(issuer + account + "/" + provider name)).
pub fn name_qualifier(issuer: &str, provider_arn: &str) -> String {
    let (account, name) = directory::parse_saml_arn(provider_arn).unwrap_or_default();
    let digest = sha1::Sha1::digest(format!("{issuer}{account}/{name}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Who makes an unsigned federation call, as its token or assertion says (checked or not):
/// what its record shows. None for other operations.
pub fn caller(action: &str, params: &QueryParams) -> Option<Principal> {
    let account = role_account(params);
    let kind = match action {
        WEB_IDENTITY => {
            let jwt = params.get("WebIdentityToken").and_then(Jwt::parse);
            let iss = jwt
                .as_ref()
                .and_then(|j| j.str_claim("iss"))
                .unwrap_or_default();
            PrincipalKind::WebIdentityUser {
                provider: directory::oidc_arn(&account, provider_name(iss)),
                audience: jwt
                    .as_ref()
                    .and_then(|j| token_audience(j, None))
                    .unwrap_or_default(),
                subject: jwt
                    .as_ref()
                    .and_then(|j| j.str_claim("sub"))
                    .unwrap_or_default()
                    .to_string(),
            }
        }
        SAML => {
            let provider = params.get("PrincipalArn").unwrap_or_default().to_string();
            let read = params
                .get("SAMLAssertion")
                .and_then(|a| saml::decode(a).ok())
                .and_then(|r| r.read().ok())
                .unwrap_or_default();
            PrincipalKind::SamlUser {
                name_qualifier: name_qualifier(&read.issuer, &provider),
                provider,
                subject: read.name_id,
            }
        }
        _ => return None,
    };
    Some(Principal {
        account,
        kind,
        access_key_id: String::new(),
        session: None,
    })
}

/// Session tags and a source identity the identity provider passes on.
#[derive(Debug, Default)]
pub struct Carried {
    pub tags: Vec<(String, String)>,
    pub transitive: Vec<String>,
    pub source_identity: Option<String>,
}

const OIDC_TAGS: &str = "https://aws.amazon.com/tags";
const OIDC_SOURCE_IDENTITY: &str = "https://aws.amazon.com/source_identity";
const SAML_TAG: &str = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:";
const SAML_TRANSITIVE: &str = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys";
const SAML_SOURCE_IDENTITY: &str = "https://aws.amazon.com/SAML/Attributes/SourceIdentity";

/// What a token carries: `https://aws.amazon.com/tags` (`principal_tags`, each a list of one
/// value, and `transitive_tag_keys`) and `https://aws.amazon.com/source_identity`.
pub fn token_carries(jwt: &Jwt) -> Carried {
    let mut c = Carried::default();
    if let Some(t) = jwt.claims.get(OIDC_TAGS) {
        if let Some(tags) = t.get("principal_tags").and_then(Value::as_object) {
            for (k, v) in tags {
                let value = match v {
                    Value::Array(items) => items.first().and_then(Value::as_str),
                    Value::String(s) => Some(s.as_str()),
                    _ => None,
                };
                c.tags
                    .push((k.clone(), value.unwrap_or_default().to_string()));
            }
        }
        if let Some(keys) = t.get("transitive_tag_keys").and_then(Value::as_array) {
            c.transitive = keys
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
        }
    }
    c.source_identity = jwt.str_claim(OIDC_SOURCE_IDENTITY).map(str::to_string);
    c
}

/// What an assertion carries: `PrincipalTag:<key>`, `TransitiveTagKeys` and `SourceIdentity`
/// attributes.
pub fn assertion_carries(a: &saml::Assertion) -> Carried {
    let mut c = Carried::default();
    for at in &a.attributes {
        if let Some(key) = at.name.strip_prefix(SAML_TAG) {
            c.tags.push((
                key.to_string(),
                at.values.first().cloned().unwrap_or_default(),
            ));
        }
    }
    c.transitive = a
        .attribute(SAML_TRANSITIVE)
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    c.source_identity = a
        .attribute(SAML_SOURCE_IDENTITY)
        .and_then(|v| v.first().cloned());
    c
}

fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

impl Carried {
    /// Checks what the provider passed as STS checks session tags and source identities;
    /// `refuse` words the refusal in the operation's terms.
    pub fn check(&self, refuse: impl Fn(&str) -> AwsError) -> Result<(), AwsError> {
        if self.tags.len() > 50 {
            return Err(refuse("A session may carry at most 50 tags"));
        }
        for (i, (k, v)) in self.tags.iter().enumerate() {
            if k.is_empty() || k.chars().count() > 128 || !k.chars().all(tag_char) {
                return Err(refuse(&format!("Invalid session tag key: {k}")));
            }
            if v.chars().count() > 256 || !v.chars().all(tag_char) {
                return Err(refuse(&format!("Invalid session tag value for key {k}")));
            }
            if self.tags[..i]
                .iter()
                .any(|(o, _)| o.eq_ignore_ascii_case(k))
            {
                return Err(AwsError::client(
                    "InvalidParameterValue",
                    "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
                ));
            }
        }
        for k in &self.transitive {
            if !self.tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)) {
                return Err(AwsError::client(
                    "InvalidParameterValue",
                    "The specified transitive tag key must be included in the requested tags.",
                ));
            }
        }
        if let Some(id) = &self.source_identity {
            let ok = (2..=64).contains(&id.chars().count())
                && id
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c));
            if !ok {
                return Err(refuse(&format!("Invalid source identity: {id}")));
            }
            if id.to_ascii_lowercase().starts_with("aws:") {
                return Err(validation(
                    "SourceIdentity cannot start with the reserved prefix 'aws:'.".into(),
                ));
            }
        }
        Ok(())
    }

    /// Adds what was carried to the session input, within the packed size STS allows.
    pub fn into_input(self, mut input: SessionInput) -> Result<SessionInput, AwsError> {
        input.tags = self.tags;
        input.transitive = self.transitive;
        input.source_identity = self.source_identity;
        if let Some(size) = input.packed_size().filter(|s| *s > 100) {
            return Err(AwsError::client(
                "PackedPolicyTooLarge",
                format!(
                    "Packed policy consumes {size}% of allotted space, please use smaller policy for this request."
                ),
            ));
        }
        Ok(input)
    }
}

/// A role session for a provider's user, once its token or assertion has been checked.
pub struct Grant<'a> {
    /// `sts:AssumeRoleWithWebIdentity` or `sts:AssumeRoleWithSAML`.
    pub action: &'a str,
    pub role_arn: &'a str,
    pub session_name: &'a str,
    /// The provider's user, as the trust policy sees it.
    pub caller: Principal,
    /// The provider's condition keys (`<host>:aud`, `saml:sub`, ...).
    pub context: Context,
    pub input: SessionInput,
    pub duration: i64,
    pub federation: Federation,
}

/// The session a checked grant yields: its `Credentials` and `AssumedRoleUser`, and
/// `PackedPolicySize` when there is one.
pub fn assume(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    g: Grant,
) -> Result<Map<String, Value>, AwsError> {
    let denied = |action: &str| {
        AwsError::new(
            403,
            "AccessDenied",
            format!("Not authorized to perform {action}"),
        )
    };
    let (account, _path, name) = parse_role_arn(g.role_arn)
        .ok_or_else(|| validation(format!("{} is invalid", g.role_arn)))?;
    let Some(role) = directory::role(w, &account, &name)? else {
        return Err(denied(g.action));
    };
    if role.arn() != g.role_arn {
        return Err(denied(g.action));
    }
    let trust = Policy::parse(&role.trust_policy, &PolicyKind::Trust).map_err(|e| {
        AwsError::internal(format!("trust policy of {}: {}", role.arn(), e.message))
    })?;
    let packed = g.input.packed_size();
    let SessionInput {
        policy,
        policy_arns,
        tags,
        transitive,
        source_identity,
    } = g.input;
    let mut context = g.context;
    context.set("sts:RoleSessionName", g.session_name);
    for (k, v) in &tags {
        context.set(&format!("aws:RequestTag/{k}"), v.clone());
    }
    if !tags.is_empty() {
        context.set_multi("aws:TagKeys", tags.iter().map(|(k, _)| k.clone()).collect());
    }
    if !transitive.is_empty() {
        context.set_multi("sts:TransitiveTagKeys", transitive.clone());
    }
    if let Some(id) = &source_identity {
        context.set("sts:SourceIdentity", id.clone());
    }
    let facts = Facts {
        principal: &g.caller,
        ..Facts::of(ctx)
    };
    let mut actions = vec![g.action];
    if !tags.is_empty() {
        actions.push("sts:TagSession");
    }
    if source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    if let Some(action) = trust_refuses(w, &facts, &role, &trust, &context, &actions)? {
        return Err(denied(action));
    }
    if g.duration > i64::from(role.max_session_secs) {
        return Err(validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .into(),
        ));
    }
    directory::note_role_use(w, &role, ctx.time.timestamp_millis(), &ctx.region)?;
    let issued = ctx.time.timestamp();
    let expires = issued + g.duration;
    let mut principal = session::role_principal(
        &role.account,
        &role.name,
        &role.path,
        &role.id,
        g.session_name,
        issued,
        expires,
    );
    principal.session = Some(Box::new(Session {
        policy,
        policy_arns,
        tags,
        transitive_tag_keys: transitive,
        source_identity,
        federation: Some(g.federation),
        ..Session::default()
    }));
    let creds = session::issue(
        app.auth.sealer(),
        principal,
        expires,
        &app.auth.generation(),
    );
    let mut out = Map::new();
    out.insert("Credentials".into(), credentials_json(&creds, expires, ctx));
    out.insert(
        "AssumedRoleUser".into(),
        json!({
            "AssumedRoleId": creds.principal.user_id(),
            "Arn": creds.principal.arn(),
        }),
    );
    if let Some(size) = packed {
        out.insert("PackedPolicySize".into(), json!(size));
    }
    Ok(out)
}

/// The record's `requestParameters` of a federation call: never the token or the assertion
/// (credentials both); for SAML the assertion's ID and, as AWS shows them, the session name,
/// source identity and tags the assertion carries (likewise the tags and source identity a
/// token carries).
pub fn request_parameters(params: &QueryParams, shown: Option<Value>) -> Option<Value> {
    let Some(Value::Object(mut m)) = shown else {
        return shown;
    };
    let mut front = Map::new();
    let carried = if let Some(token) = params.get("WebIdentityToken") {
        m.retain(|k, _| !k.eq_ignore_ascii_case("webIdentityToken"));
        Jwt::parse(token).map(|j| token_carries(&j))
    } else if let Some(assertion) = params.get("SAMLAssertion") {
        m.retain(|k, _| !k.eq_ignore_ascii_case("samlAssertion"));
        let read = saml::decode(assertion).ok().and_then(|r| r.read().ok());
        read.map(|a| {
            front.insert("sAMLAssertionID".into(), json!(a.id));
            if let Some(name) = a
                .attribute("https://aws.amazon.com/SAML/Attributes/RoleSessionName")
                .and_then(|v| v.first())
            {
                front.insert("roleSessionName".into(), json!(name));
            }
            assertion_carries(&a)
        })
    } else {
        None
    };
    if let Some(c) = carried {
        if let Some(id) = c.source_identity {
            front.insert("sourceIdentity".into(), json!(id));
        }
        if !c.tags.is_empty() {
            let tags: Map<String, Value> = c.tags.into_iter().map(|(k, v)| (k, json!(v))).collect();
            front.insert("principalTags".into(), Value::Object(tags));
        }
        if !c.transitive.is_empty() {
            front.insert("transitiveTagKeys".into(), json!(c.transitive));
        }
    }
    front.extend(m);
    Some(Value::Object(front))
}

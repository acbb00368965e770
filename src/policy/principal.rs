//! Principal / NotPrincipal: parsing and matching against the caller (spec §6.2).

use serde_json::Value;

use super::{Caller, PolicyError, PrincipalType};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// `"*"` or `{"AWS":"*"}`.
    Everyone,
    /// The account principal, from `111122223333` or `arn:aws:iam::111122223333:root`.
    Account(String),
    User(String),
    Role(String),
    Session(String),
    FederatedUser(String),
    Service(String),
    /// An identity provider (`{"Federated": "arn:aws:iam::A:oidc-provider/host"}`, a SAML
    /// provider's ARN, or a provider's name such as `accounts.google.com`): matches users of
    /// that provider asking for a role session.
    Federated(String),
    /// Accepted so such documents can be stored; never matches (P1).
    CanonicalUser,
}

/// How a Principal element reached the caller. The order matters: a stronger match wins when
/// several entries apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Strength {
    /// Only through the caller's account: a delegation that the caller's own identity policies
    /// must confirm.
    Account,
    /// The role of a role session: direct, but still limited by session policies.
    Role,
    /// The caller itself: its user or session ARN, root via its account, its service, `*`, or a
    /// NotPrincipal that leaves it out.
    Exact,
}

#[derive(Debug, Clone)]
pub(super) struct PrincipalSpec {
    negated: bool,
    entries: Vec<Entry>,
}

fn invalid() -> PolicyError {
    PolicyError::new("Invalid principal in policy")
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// IAM names: `[\w+=,.@-]+`. This also rejects partial wildcards: only the whole-value `*` is a
/// wildcard, because AWS resolves principals to concrete identities when it stores a policy.
fn is_iam_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// `path/name` after `user/` or `role/`: every segment but the path's empty ends must be a name.
fn is_path_and_name(rest: &str) -> bool {
    let segments: Vec<&str> = rest.split('/').collect();
    segments.iter().all(|s| is_iam_name(s))
}

fn parse_aws(value: &str) -> Result<Entry, PolicyError> {
    if value == "*" {
        return Ok(Entry::Everyone);
    }
    if is_account_id(value) {
        return Ok(Entry::Account(value.to_string()));
    }
    // Principals of every partition are matched as the `aws` partition Cairn keeps.
    let value = crate::arn::canonical(value);
    let value = value.as_ref();
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return Err(invalid());
    };
    if arn != "arn" || partition != "aws" || !region.is_empty() || !is_account_id(account) {
        return Err(invalid());
    }
    let owned = value.to_string();
    match (service, resource.split_once('/')) {
        ("iam", None) if resource == "root" => Ok(Entry::Account(account.to_string())),
        ("iam", Some(("user", rest))) if is_path_and_name(rest) => Ok(Entry::User(owned)),
        ("iam", Some(("role", rest))) if is_path_and_name(rest) => Ok(Entry::Role(owned)),
        ("sts", Some(("assumed-role", rest))) => match rest.split_once('/') {
            Some((role, session)) if is_iam_name(role) && is_iam_name(session) => {
                Ok(Entry::Session(owned))
            }
            _ => Err(invalid()),
        },
        ("sts", Some(("federated-user", name))) if is_iam_name(name) => {
            Ok(Entry::FederatedUser(owned))
        }
        _ => Err(invalid()),
    }
}

fn parse_service(value: &str) -> Result<Entry, PolicyError> {
    let well_formed = value.contains('.')
        && !value.starts_with('.')
        && !value.ends_with('.')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if well_formed {
        Ok(Entry::Service(value.to_ascii_lowercase()))
    } else {
        Err(invalid())
    }
}

fn strings(v: &Value) -> Result<Vec<String>, PolicyError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        // Account ids written as JSON numbers are still account ids.
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        _ => Err(invalid()),
    };
    match v {
        Value::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
        Value::Array(_) => Err(invalid()),
        other => Ok(vec![one(other)?]),
    }
}

impl PrincipalSpec {
    pub fn parse(v: &Value, negated: bool) -> Result<PrincipalSpec, PolicyError> {
        let entries = match v {
            Value::String(s) if s == "*" => vec![Entry::Everyone],
            Value::Object(map) if !map.is_empty() => {
                let mut entries = Vec::new();
                for (kind, values) in map {
                    for value in strings(values)? {
                        entries.push(match kind.as_str() {
                            "AWS" => parse_aws(&value)?,
                            "Service" => parse_service(&value)?,
                            "Federated" if !value.is_empty() => {
                                Entry::Federated(crate::arn::canonical(&value).into_owned())
                            }
                            "CanonicalUser" if !value.is_empty() => Entry::CanonicalUser,
                            _ => return Err(invalid()),
                        });
                    }
                }
                entries
            }
            _ => return Err(invalid()),
        };
        Ok(PrincipalSpec { negated, entries })
    }

    /// IAM/STS identities named, for existence checks by the caller.
    pub fn aws_arns(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                Entry::Account(a) => Some(format!("arn:aws:iam::{a}:root")),
                Entry::User(arn)
                | Entry::Role(arn)
                | Entry::Session(arn)
                | Entry::FederatedUser(arn) => Some(arn.clone()),
                _ => None,
            })
            .collect()
    }

    /// Whether the statement applies to `caller`, and how strongly.
    pub fn applies_to(&self, caller: &Caller) -> Option<Strength> {
        if self.negated {
            // AWS tests each identity the request carries (session, role, account) against
            // NotPrincipal and applies the statement if any of them is not listed; that is why
            // its docs insist on listing the account ARN next to a user or session.
            let facets = facets(caller);
            let all_excluded = facets
                .iter()
                .all(|f| self.entries.iter().any(|e| covers(e, f)));
            return (!all_excluded).then_some(Strength::Exact);
        }
        self.entries
            .iter()
            .filter_map(|e| strength(e, caller))
            .max()
    }
}

fn strength(entry: &Entry, caller: &Caller) -> Option<Strength> {
    use PrincipalType::*;
    let is = |field: &Option<String>, value: &str| field.as_deref() == Some(value);
    match entry {
        Entry::Everyone => Some(Strength::Exact),
        Entry::Account(a) if is(&caller.account, a) => match caller.kind {
            Root => Some(Strength::Exact),
            User | AssumedRole | FederatedUser => Some(Strength::Account),
            Service | Anonymous | Federated => None,
        },
        Entry::Federated(provider) if caller.kind == Federated && is(&caller.arn, provider) => {
            Some(Strength::Exact)
        }
        Entry::FederatedUser(arn) if caller.kind == FederatedUser && is(&caller.arn, arn) => {
            Some(Strength::Exact)
        }
        Entry::User(arn) if caller.kind == User && is(&caller.arn, arn) => Some(Strength::Exact),
        Entry::Role(arn) if caller.kind == AssumedRole && is(&caller.role_arn, arn) => {
            Some(Strength::Role)
        }
        Entry::Session(arn) if caller.kind == AssumedRole && is(&caller.arn, arn) => {
            Some(Strength::Exact)
        }
        Entry::Service(s)
            if caller.kind == Service
                && caller
                    .service
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(s)) =>
        {
            Some(Strength::Exact)
        }
        _ => None,
    }
}

/// One identity a request carries, for NotPrincipal.
enum Facet<'a> {
    Account(&'a str),
    Arn(&'a str),
    Service(&'a str),
    Provider(&'a str),
    Anonymous,
}

fn facets(caller: &Caller) -> Vec<Facet<'_>> {
    let mut out = Vec::new();
    match caller.kind {
        PrincipalType::Service => {
            out.push(Facet::Service(
                caller.service.as_deref().unwrap_or_default(),
            ));
        }
        PrincipalType::Anonymous => out.push(Facet::Anonymous),
        PrincipalType::Federated => {
            out.push(Facet::Provider(caller.arn.as_deref().unwrap_or_default()));
        }
        PrincipalType::Root
        | PrincipalType::User
        | PrincipalType::AssumedRole
        | PrincipalType::FederatedUser => {
            if caller.kind != PrincipalType::Root {
                if let Some(arn) = &caller.arn {
                    out.push(Facet::Arn(arn));
                }
            }
            if let Some(role) = &caller.role_arn {
                out.push(Facet::Arn(role));
            }
            out.push(Facet::Account(
                caller.account.as_deref().unwrap_or_default(),
            ));
        }
    }
    out
}

fn covers(entry: &Entry, facet: &Facet) -> bool {
    match (entry, facet) {
        (Entry::Everyone, _) => true,
        (Entry::Account(a), Facet::Account(f)) => a == f,
        (
            Entry::User(arn) | Entry::Role(arn) | Entry::Session(arn) | Entry::FederatedUser(arn),
            Facet::Arn(f),
        ) => arn == f,
        (Entry::Service(s), Facet::Service(f)) => s.eq_ignore_ascii_case(f),
        (Entry::Federated(p), Facet::Provider(f)) => p == f,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::{evaluate, Caller, Context, Effect, Policy, PolicyKind, Request};

    #[test]
    fn federated_principals_match_users_of_their_provider_only() {
        let provider = "arn:aws:iam::111111111111:oidc-provider/token.example.com";
        let trust = Policy::parse(
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"token.example.com:sub":"me"}}}}}}]}}"#,
                provider.replace("arn:aws:", "arn:aws-cn:")
            ),
            &PolicyKind::Trust,
        )
        .unwrap();
        let ask = |caller: &Caller, sub: &str| {
            let context = Context::new().with("token.example.com:sub", sub);
            evaluate(
                &trust,
                &Request {
                    caller,
                    action: "sts:AssumeRoleWithWebIdentity",
                    resource: "arn:aws:iam::111111111111:role/R",
                    context: &context,
                },
            )
        };
        let user = Caller::federated(provider);
        assert_eq!(ask(&user, "me"), Effect::Allow { direct: true });
        assert_eq!(ask(&user, "someone-else"), Effect::NoMatch);
        let other = Caller::federated("arn:aws:iam::111111111111:oidc-provider/other.example.com");
        assert_eq!(ask(&other, "me"), Effect::NoMatch);
        assert_eq!(ask(&Caller::root("111111111111"), "me"), Effect::NoMatch);
    }
}

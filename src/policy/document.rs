//! Parsing and validation of a policy document (spec §6.1).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::condition::{self, Condition};
use super::matching::{can_match_with_prefix, glob, glob_ci, lowercase, tokenize, Tok};
use super::principal::PrincipalSpec;
use super::s3_actions::{Scope, ACTIONS};
use super::variables::Template;
use super::{Policy, PolicyError, PolicyKind, BUCKET_POLICY_MAX_BYTES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StatementEffect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
pub(super) struct Statement {
    pub effect: StatementEffect,
    /// None in identity policies, which apply to whoever holds them.
    pub principal: Option<PrincipalSpec>,
    /// Lower-case patterns: actions compare case-insensitively.
    pub actions: Vec<Vec<Tok>>,
    pub not_action: bool,
    /// None when a trust policy omits Resource: the statement covers the role it is attached to.
    pub resources: Option<Vec<Template>>,
    pub not_resource: bool,
    pub conditions: Vec<Condition>,
}

const TOP_LEVEL_FIELDS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_FIELDS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];
const VERSION_WITH_VARIABLES: &str = "2012-10-17";
const VERSIONS: &[&str] = &[VERSION_WITH_VARIABLES, "2008-10-17"];

fn err(message: impl Into<String>) -> PolicyError {
    PolicyError::new(message)
}

fn syntax_error() -> PolicyError {
    err("Syntax errors in policy.")
}

fn not_json() -> PolicyError {
    err("Policies must be valid JSON and the first byte must be '{'")
}

fn check_fields(obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), PolicyError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(err(format!("Unknown field {unknown}"))),
        None => Ok(()),
    }
}

pub(super) fn parse(text: &str, kind: &PolicyKind) -> Result<Policy, PolicyError> {
    if matches!(kind, PolicyKind::Bucket { .. }) && text.len() > BUCKET_POLICY_MAX_BYTES {
        return Err(err("Policy exceeds the maximum allowed document size."));
    }
    // Leading JSON whitespace is tolerated: documents read from files or heredocs often start
    // with a newline, and refusing them would help nobody.
    if !text
        .trim_start_matches([' ', '\t', '\r', '\n'])
        .starts_with('{')
    {
        return Err(not_json());
    }
    let root: Value = serde_json::from_str(text).map_err(|_| not_json())?;
    let Value::Object(root) = root else {
        return Err(not_json());
    };
    check_fields(&root, TOP_LEVEL_FIELDS)?;

    let version = match root.get("Version") {
        None => None,
        Some(Value::String(v)) if VERSIONS.contains(&v.as_str()) => Some(v.clone()),
        Some(Value::String(v)) => return Err(err(format!("Invalid policy version: {v}"))),
        Some(_) => return Err(syntax_error()),
    };
    let id = match root.get("Id") {
        None => None,
        Some(Value::String(v)) => Some(v.clone()),
        Some(_) => return Err(syntax_error()),
    };
    let raw_statements: Vec<&Value> = match root.get("Statement") {
        None => return Err(err("Missing required field Statement")),
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(err("Missing required field Statement"))
        }
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
    };

    let expand = version.as_deref() == Some(VERSION_WITH_VARIABLES);
    let mut statements = Vec::with_capacity(raw_statements.len());
    let mut sids = HashSet::new();
    for raw in raw_statements {
        let Value::Object(obj) = raw else {
            return Err(syntax_error());
        };
        let (statement, sid) = parse_statement(obj, kind, expand)?;
        // IAM enforces unique Sids; S3 is not known to, so bucket policies are left alone.
        if let Some(sid) = sid {
            if !matches!(kind, PolicyKind::Bucket { .. }) && !sid.is_empty() && !sids.insert(sid) {
                return Err(err(
                    "Statement IDs (SID) in a single policy must be unique.",
                ));
            }
        }
        statements.push(statement);
    }

    Ok(Policy {
        text: text.to_string(),
        kind: kind.clone(),
        version,
        id,
        statements,
    })
}

/// Returns the element named `positive` or `negative` (never both), and whether it was the
/// negative one.
fn one_of<'v>(
    obj: &'v Map<String, Value>,
    positive: &str,
    negative: &str,
) -> Result<Option<(&'v Value, bool)>, PolicyError> {
    match (obj.get(positive), obj.get(negative)) {
        (Some(_), Some(_)) => Err(err(format!(
            "Statement cannot contain both {positive} and {negative}"
        ))),
        (Some(v), None) => Ok(Some((v, false))),
        (None, Some(v)) => Ok(Some((v, true))),
        (None, None) => Ok(None),
    }
}

/// A string or a non-empty array of strings.
fn string_list(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

fn parse_statement(
    obj: &Map<String, Value>,
    kind: &PolicyKind,
    expand: bool,
) -> Result<(Statement, Option<String>), PolicyError> {
    check_fields(obj, STATEMENT_FIELDS)?;
    let bucket = match kind {
        PolicyKind::Bucket { bucket } => Some(bucket.as_str()),
        _ => None,
    };

    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(syntax_error()),
    };

    let effect = match obj.get("Effect") {
        None => return Err(err("Missing required field Effect")),
        Some(Value::String(e)) if e == "Allow" => StatementEffect::Allow,
        Some(Value::String(e)) if e == "Deny" => StatementEffect::Deny,
        Some(Value::String(e)) => return Err(err(format!("Invalid effect: {e}"))),
        Some(_) => return Err(syntax_error()),
    };

    let principal = match (one_of(obj, "Principal", "NotPrincipal")?, kind) {
        (Some(_), PolicyKind::Identity) => {
            return Err(err("Policy document should not specify a principal."))
        }
        (None, PolicyKind::Identity) => None,
        (None, _) => return Err(err("Missing required field Principal")),
        (Some((v, negated)), _) => Some(PrincipalSpec::parse(v, negated)?),
    };

    let Some((action_value, not_action)) = one_of(obj, "Action", "NotAction")? else {
        return Err(err("Missing required field Action"));
    };
    let invalid_action = || err("Policy has invalid action");
    let raw_actions = string_list(action_value).ok_or_else(invalid_action)?;
    let mut actions = Vec::with_capacity(raw_actions.len());
    for a in &raw_actions {
        actions.push(parse_action(a, bucket.is_some())?);
    }

    let (resources, not_resource) = match one_of(obj, "Resource", "NotResource")? {
        None if *kind == PolicyKind::Trust => (None, false),
        None => return Err(err("Missing required field Resource")),
        Some((v, negated)) => {
            let raw = string_list(v).ok_or_else(|| match bucket {
                Some(_) => err("Policy has invalid resource"),
                None => syntax_error(),
            })?;
            // Resources of every partition are matched as the `aws` partition Cairn keeps.
            let raw: Vec<std::borrow::Cow<str>> =
                raw.into_iter().map(crate::arn::canonical).collect();
            let raw: Vec<&str> = raw.iter().map(|r| r.as_ref()).collect();
            for r in &raw {
                check_resource_syntax(r, bucket)?;
            }
            let templates: Vec<Template> = raw.iter().map(|r| Template::parse(r, expand)).collect();
            (Some(templates), negated)
        }
    };

    if let (Some(bucket), Some(resources)) = (bucket, &resources) {
        for r in resources {
            if !bucket_resource_scope(bucket, &r.widest()).reachable() {
                return Err(err("Policy has invalid resource"));
            }
        }
        if !not_action && !not_resource {
            check_actions_apply(bucket, &actions, resources)?;
        }
    }

    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(block) => condition::parse_block(block, expand, bucket.is_some())?,
    };

    Ok((
        Statement {
            effect,
            principal,
            actions,
            not_action,
            resources,
            not_resource,
            conditions,
        },
        sid,
    ))
}

/// `*`, or `vendor:Name` with `*`/`?` wildcards in the name. Bucket policies additionally need
/// the pattern to name at least one S3 action.
fn parse_action(action: &str, bucket: bool) -> Result<Vec<Tok>, PolicyError> {
    let pattern = lowercase(&tokenize(action));
    if action == "*" {
        return Ok(pattern);
    }
    let invalid = || err("Policy has invalid action");
    let Some((vendor, name)) = action.split_once(':') else {
        return Err(if bucket {
            invalid()
        } else {
            err("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
        });
    };
    let vendor_ok = !vendor.is_empty()
        && vendor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '?' | '-' | '_'));
    if !vendor_ok || !name_ok {
        return Err(invalid());
    }
    if bucket {
        let s3 = vendor.eq_ignore_ascii_case("s3")
            && ACTIONS
                .iter()
                .any(|(n, _)| glob_ci(&pattern, &format!("s3:{n}")));
        if !s3 {
            return Err(invalid());
        }
    }
    Ok(pattern)
}

fn check_resource_syntax(resource: &str, bucket: Option<&str>) -> Result<(), PolicyError> {
    if bucket.is_some() {
        // Reachability is checked on the parsed template, where variables are known.
        return Ok(());
    }
    let arn_like =
        resource == "*" || (resource.starts_with("arn:") && resource.matches(':').count() >= 5);
    if arn_like {
        Ok(())
    } else {
        Err(err(format!(
            "Resource {resource} must be in ARN format or \"*\"."
        )))
    }
}

#[derive(Debug, Clone, Copy)]
struct ResourceScope {
    bucket: bool,
    object: bool,
}

impl ResourceScope {
    fn reachable(self) -> bool {
        self.bucket || self.object
    }
}

/// Which of this bucket's resources a pattern can reach: the bucket ARN itself, and/or some
/// object ARN under it.
fn bucket_resource_scope(bucket: &str, pattern: &[Tok]) -> ResourceScope {
    ResourceScope {
        bucket: glob(pattern, &format!("arn:aws:s3:::{bucket}")),
        object: can_match_with_prefix(pattern, &format!("arn:aws:s3:::{bucket}/")),
    }
}

/// S3 rejects a statement when one of its Action entries reaches none of its resources (e.g.
/// `s3:GetBucketAcl` on `bucket/*`). A wildcard entry passes if any action it covers applies.
fn check_actions_apply(
    bucket: &str,
    actions: &[Vec<Tok>],
    resources: &[Template],
) -> Result<(), PolicyError> {
    let scope = resources
        .iter()
        .map(|r| bucket_resource_scope(bucket, &r.widest()))
        .fold(
            ResourceScope {
                bucket: false,
                object: false,
            },
            |acc, s| ResourceScope {
                bucket: acc.bucket || s.bucket,
                object: acc.object || s.object,
            },
        );
    for pattern in actions {
        let applies = ACTIONS.iter().any(|(name, action_scope)| {
            let reaches = match action_scope {
                Scope::Bucket => scope.bucket,
                Scope::Object => scope.object,
                Scope::Other => false,
            };
            reaches && glob_ci(pattern, &format!("s3:{name}"))
        });
        if !applies {
            return Err(err("Action does not apply to any resource(s) in statement"));
        }
    }
    Ok(())
}

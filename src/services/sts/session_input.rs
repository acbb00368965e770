//! What a caller may hand a new session: session policies (`Policy`, `PolicyArns`), session
//! tags (`Tags`, `TransitiveTagKeys`) and a source identity, checked as STS checks them.

use super::{constraint, validation};
use crate::auth::directory;
use crate::error::AwsError;
use crate::policy::{Policy, PolicyKind};
use crate::services::QueryParams;
use crate::store::Reader;

#[derive(Debug, Default)]
pub struct SessionInput {
    pub policy: Option<String>,
    pub policy_arns: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub transitive: Vec<String>,
    pub source_identity: Option<String>,
}

/// Session policies and tags are packed into the token; AWS reports how much of the room they
/// take, and refuses what does not fit.
const PACKED_ROOM: usize = 2048;

impl SessionInput {
    /// `PackedPolicySize`: the percentage of the room the session policies and tags take,
    /// when there are any.
    pub fn packed_size(&self) -> Option<usize> {
        if self.policy.is_none() && self.policy_arns.is_empty() && self.tags.is_empty() {
            return None;
        }
        Some(
            self.packed_bytes()
                .saturating_mul(100)
                .div_ceil(PACKED_ROOM)
                .max(1),
        )
    }

    fn packed_bytes(&self) -> usize {
        let policy = self
            .policy
            .as_deref()
            .map(|p| p.chars().filter(|c| !c.is_whitespace()).count())
            .unwrap_or(0);
        let arns: usize = self.policy_arns.iter().map(|a| a.len() / 4).sum();
        let tags: usize = self.tags.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        policy + arns + tags
    }
}

fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// Reads and checks the session inputs of `params`; `with_tags` and `with_source` say which
/// the operation takes.
pub fn read(
    r: &dyn Reader,
    params: &QueryParams,
    with_transitive: bool,
    with_source: bool,
) -> Result<SessionInput, AwsError> {
    let mut s = SessionInput::default();
    if let Some(p) = params.get("Policy") {
        if p.is_empty() {
            return Err(constraint(
                p,
                "policy",
                "Member must have length greater than or equal to 1",
            ));
        }
        Policy::parse(p, &PolicyKind::Identity)
            .map_err(|e| AwsError::client("MalformedPolicyDocument", e.message))?;
        s.policy = Some(p.to_string());
    }
    let arns = params.structs("PolicyArns");
    if arns.len() > 10 {
        return Err(constraint(
            "[...]",
            "policyArns",
            "Member must have length less than or equal to 10",
        ));
    }
    for entry in arns {
        let Some((_, arn)) = entry.iter().find(|(k, _)| *k == "arn") else {
            continue;
        };
        if arn.len() < 20 || !arn.starts_with("arn:") {
            return Err(constraint(
                arn,
                "policyArns.member.arn",
                "Member must have length greater than or equal to 20",
            ));
        }
        if directory::policy_document(r, arn)?.is_none() {
            return Err(AwsError::client(
                "InvalidParameterValue",
                format!("The policy {arn} does not exist or is not attachable."),
            ));
        }
        s.policy_arns.push(arn.to_string());
    }
    let tags = params.structs("Tags");
    if tags.len() > 50 {
        return Err(constraint(
            "[...]",
            "tags",
            "Member must have length less than or equal to 50",
        ));
    }
    for t in tags {
        let key = t
            .iter()
            .find(|(k, _)| *k == "Key")
            .map(|(_, v)| *v)
            .unwrap_or("");
        let value = t
            .iter()
            .find(|(k, _)| *k == "Value")
            .map(|(_, v)| *v)
            .unwrap_or("");
        if key.is_empty() || key.chars().count() > 128 || !key.chars().all(tag_char) {
            return Err(constraint(
                key,
                "tags.member.key",
                r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+",
            ));
        }
        if value.chars().count() > 256 || !value.chars().all(tag_char) {
            return Err(constraint(
                value,
                "tags.member.value",
                r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*",
            ));
        }
        if s.tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(AwsError::client(
                "InvalidParameterValue",
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        s.tags.push((key.to_string(), value.to_string()));
    }
    if with_transitive {
        for k in params.list("TransitiveTagKeys") {
            if !s.tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)) {
                return Err(AwsError::client(
                    "InvalidParameterValue",
                    "The specified transitive tag key must be included in the requested tags.",
                ));
            }
            s.transitive.push(k.to_string());
        }
    }
    if with_source {
        if let Some(id) = params.get("SourceIdentity") {
            if !(2..=64).contains(&id.chars().count())
                || !id
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
            {
                return Err(constraint(
                    id,
                    "sourceIdentity",
                    r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
                ));
            }
            if id.to_ascii_lowercase().starts_with("aws:") {
                return Err(validation(
                    "SourceIdentity cannot start with the reserved prefix 'aws:'.".into(),
                ));
            }
            s.source_identity = Some(id.to_string());
        }
    }
    if s.packed_bytes() > PACKED_ROOM {
        return Err(AwsError::client(
            "PackedPolicyTooLarge",
            format!(
                "Packed policy consumes {}% of allotted space, please use smaller policy for this request.",
                s.packed_bytes() * 100 / PACKED_ROOM
            ),
        ));
    }
    Ok(s)
}

//! Reading and checking IAM's parameters (names, paths, documents, tags), paging lists the way
//! IAM does (`Marker`, `MaxItems`, `IsTruncated`), and IAM's renderings (URL-encoded policy
//! documents, ISO 8601 dates).

use super::errors::{invalid_input, malformed, validation};
use crate::auth::directory::Tag;
use crate::error::AwsError;
use crate::policy::{Policy, PolicyKind};
use crate::services::QueryParams;
use serde_json::{json, Value};

/// A parameter's value, and where it sits in a validation message (`userName`).
pub struct Params<'a>(pub &'a QueryParams);

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c)
}

impl<'a> Params<'a> {
    pub fn opt(&self, name: &str) -> Option<&'a str> {
        self.0.get(name)
    }

    pub fn required(&self, name: &str) -> Result<&'a str, AwsError> {
        self.0.get(name).ok_or_else(|| {
            validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(name)
            ))
        })
    }

    fn constraint(&self, name: &str, value: &str, rule: &str) -> AwsError {
        validation(format!(
            "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: {rule}",
            lower_first(name)
        ))
    }

    fn length(&self, name: &str, v: &str, min: usize, max: usize) -> Result<(), AwsError> {
        let n = v.chars().count();
        if n < min {
            return Err(self.constraint(
                name,
                v,
                &format!("Member must have length greater than or equal to {min}"),
            ));
        }
        if n > max {
            return Err(self.constraint(
                name,
                v,
                &format!("Member must have length less than or equal to {max}"),
            ));
        }
        Ok(())
    }

    /// An entity name (`[\w+=,.@-]+`, `max` characters at most).
    pub fn name(&self, member: &str, max: usize) -> Result<&'a str, AwsError> {
        let v = self.required(member)?;
        self.check_name(member, v, max)?;
        Ok(v)
    }

    pub fn opt_name(&self, member: &str, max: usize) -> Result<Option<&'a str>, AwsError> {
        match self.opt(member) {
            Some(v) => {
                self.check_name(member, v, max)?;
                Ok(Some(v))
            }
            None => Ok(None),
        }
    }

    fn check_name(&self, member: &str, v: &str, max: usize) -> Result<(), AwsError> {
        self.length(member, v, 1, max)?;
        if !v.chars().all(name_char) {
            return Err(self.constraint(
                member,
                v,
                r"Member must satisfy regular expression pattern: [\w+=,.@-]+",
            ));
        }
        Ok(())
    }

    /// `Path`: `/` or `/.../`, printable ASCII; `/` when absent.
    pub fn path(&self) -> Result<&'a str, AwsError> {
        Ok(self.path_at("Path")?.unwrap_or("/"))
    }

    /// A path in `member` (`Path`, `NewPath`), when given.
    pub fn path_at(&self, member: &str) -> Result<Option<&'a str>, AwsError> {
        let Some(p) = self.opt(member) else {
            return Ok(None);
        };
        self.length(member, p, 1, 512)?;
        let ok = p == "/"
            || (p.len() >= 2
                && p.starts_with('/')
                && p.ends_with('/')
                && p.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        if !ok {
            return Err(self.constraint(
                member,
                p,
                r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
            ));
        }
        Ok(Some(p))
    }

    /// `PathPrefix`: `/` when absent.
    pub fn path_prefix(&self) -> Result<&'a str, AwsError> {
        let Some(p) = self.opt("PathPrefix") else {
            return Ok("/");
        };
        self.length("PathPrefix", p, 1, 512)?;
        if !p.starts_with('/') || !p.bytes().all(|b| (0x21..=0x7f).contains(&b)) {
            return Err(self.constraint(
                "PathPrefix",
                p,
                r"Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*",
            ));
        }
        Ok(p)
    }

    /// An ARN parameter (20 to 2048 characters).
    pub fn arn(&self, member: &str) -> Result<&'a str, AwsError> {
        let v = self.required(member)?;
        self.length(member, v, 20, 2048)?;
        Ok(v)
    }

    /// A policy document of `kind`, checked by the policy engine; at most `max` characters.
    pub fn document(
        &self,
        member: &str,
        kind: PolicyKind,
        max: usize,
    ) -> Result<&'a str, AwsError> {
        let v = self.required(member)?;
        self.length(member, v, 1, 131_072)?;
        if v.chars().filter(|c| !c.is_whitespace()).count() > max {
            return Err(AwsError::new(
                409,
                "LimitExceeded",
                format!("Cannot exceed quota for PolicySize: {max}"),
            ));
        }
        Policy::parse(v, &kind).map_err(|e| malformed(&e.message))?;
        Ok(v)
    }

    pub fn description(&self, member: &str) -> Result<Option<&'a str>, AwsError> {
        match self.opt(member) {
            Some(d) => {
                self.length(member, d, 0, 1000)?;
                Ok(Some(d))
            }
            None => Ok(None),
        }
    }

    pub fn bool(&self, member: &str) -> Result<Option<bool>, AwsError> {
        match self.opt(member) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(v) => Err(self.constraint(member, v, "Member must be a boolean")),
        }
    }

    pub fn int(&self, member: &str, min: i64, max: i64) -> Result<Option<i64>, AwsError> {
        let Some(v) = self.opt(member) else {
            return Ok(None);
        };
        let n: i64 = v
            .parse()
            .map_err(|_| self.constraint(member, v, "Member must be an integer"))?;
        if n < min {
            return Err(self.constraint(
                member,
                v,
                &format!("Member must have value greater than or equal to {min}"),
            ));
        }
        if n > max {
            return Err(self.constraint(
                member,
                v,
                &format!("Member must have value less than or equal to {max}"),
            ));
        }
        Ok(Some(n))
    }

    /// `Tags.member.N.Key/Value`, checked; at most 50.
    pub fn tags(&self) -> Result<Vec<Tag>, AwsError> {
        let raw = self.0.structs("Tags");
        let mut out: Vec<Tag> = Vec::new();
        for t in raw {
            let key = t.iter().find(|(k, _)| *k == "Key").map(|(_, v)| *v);
            let value = t.iter().find(|(k, _)| *k == "Value").map(|(_, v)| *v);
            let (Some(key), Some(value)) = (key, value) else {
                return Err(validation(
                    "1 validation error detected: Value null at 'tags.member.key' failed to satisfy constraint: Member must not be null".into(),
                ));
            };
            check_tag(key, value)?;
            if let Some(existing) = out.iter_mut().find(|t| t.key == key) {
                existing.value = value.to_string();
            } else {
                out.push(Tag {
                    key: key.into(),
                    value: value.into(),
                });
            }
        }
        Ok(out)
    }

    /// `TagKeys.member.N`.
    pub fn tag_keys(&self) -> Result<Vec<&'a str>, AwsError> {
        let keys = self.0.list("TagKeys");
        if self.0.get("TagKeys").is_none() && keys.is_empty() {
            return Err(validation(
                "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null".into(),
            ));
        }
        if keys.len() > 50 {
            return Err(self.constraint(
                "TagKeys",
                "[...]",
                "Member must have length less than or equal to 50",
            ));
        }
        Ok(keys)
    }
}

fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

pub fn check_tag(key: &str, value: &str) -> Result<(), AwsError> {
    if key.is_empty() || key.chars().count() > 128 || !key.chars().all(tag_char) {
        return Err(validation(format!(
            "1 validation error detected: Value '{key}' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]+"
        )));
    }
    if value.chars().count() > 256 || !value.chars().all(tag_char) {
        return Err(validation(format!(
            "1 validation error detected: Value '{value}' at 'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*"
        )));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(invalid_input(
            "User-defined tag keys can't start with 'aws:'.",
        ));
    }
    Ok(())
}

/// Adds `new` to `tags` (a key given again takes the new value); at most 50.
pub fn merge_tags(tags: &mut Vec<Tag>, new: Vec<Tag>) -> Result<(), AwsError> {
    for t in new {
        match tags.iter_mut().find(|x| x.key == t.key) {
            Some(x) => x.value = t.value,
            None => tags.push(t),
        }
    }
    if tags.len() > 50 {
        return Err(AwsError::new(
            409,
            "LimitExceeded",
            "The number of tags has reached the maximum limit.",
        ));
    }
    Ok(())
}

pub fn tags_json(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({"Key": t.key, "Value": t.value}))
            .collect(),
    )
}

/// IAM returns policy documents URL-encoded (RFC 3986); SDKs decode them.
pub fn encode_document(doc: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(doc, SET).to_string()
}

/// IAM's dates: ISO 8601 in UTC with seconds.
pub fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(crate::services::iso8601)
        .unwrap_or_default()
}

/// One page of `items`: IAM pages by `Marker` (here the position of the next item, opaque to
/// clients) and `MaxItems` (default 100, at most 1000). Adds `IsTruncated` and `Marker` to
/// `out` and returns the page.
pub fn page<T>(
    params: &Params,
    items: Vec<T>,
    out: &mut serde_json::Map<String, Value>,
) -> Result<Vec<T>, AwsError> {
    let max = params.int("MaxItems", 1, 1000)?.unwrap_or(100) as usize;
    let start = match params.opt("Marker") {
        None => 0,
        Some(m) => decode_marker(m).ok_or_else(|| invalid_input("Invalid Marker."))?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let next = start + page.len();
    let truncated = next < total;
    out.insert("IsTruncated".into(), Value::Bool(truncated));
    if truncated {
        out.insert("Marker".into(), Value::String(encode_marker(next)));
    }
    Ok(page)
}

fn encode_marker(position: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("cairn:{position}"))
}

fn decode_marker(m: &str) -> Option<usize> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(m).ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix("cairn:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_url_encoded_as_iam_does() {
        assert_eq!(
            encode_document(r#"{"Version": "2012-10-17"}"#),
            "%7B%22Version%22%3A%20%222012-10-17%22%7D"
        );
    }

    #[test]
    fn markers_round_trip() {
        assert_eq!(decode_marker(&encode_marker(42)), Some(42));
        assert_eq!(decode_marker("garbage"), None);
    }
}

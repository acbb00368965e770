//! Reading the decoded input and checking it against the model's constraints, which botocore
//! leaves to the server (patterns, maximum lengths, enums, numeric maxima).

use super::errors::{invalid_input, serialization};
use super::model::Tag;
use crate::error::AwsError;
use crate::services::JsonInput;
use serde_json::Value;

/// The request's input members.
pub struct Input<'a>(pub &'a JsonInput);

impl<'a> Input<'a> {
    fn member(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub fn has(&self, name: &str) -> bool {
        self.member(name).is_some()
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>, AwsError> {
        match self.member(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(serialization(name, "a string")),
        }
    }

    pub fn str(&self, name: &str) -> Result<&'a str, AwsError> {
        self.opt_str(name)?
            .ok_or_else(|| invalid_input("INPUT_REQUIRED"))
    }

    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, AwsError> {
        match self.member(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| serialization(name, "an integer")),
            Some(_) => Err(serialization(name, "an integer")),
        }
    }

    pub fn opt_list(&self, name: &str) -> Result<Option<&'a Vec<Value>>, AwsError> {
        match self.member(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(serialization(name, "a list")),
        }
    }

    pub fn opt_object(&self, name: &str) -> Result<Option<Input<'a>>, AwsError> {
        match self.member(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Input(m))),
            Some(_) => Err(serialization(name, "a structure")),
        }
    }

    /// A list of strings.
    pub fn opt_strings(&self, name: &str) -> Result<Option<Vec<&'a str>>, AwsError> {
        let Some(list) = self.opt_list(name)? else {
            return Ok(None);
        };
        list.iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| serialization(name, "a list of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// `Tags`: a list of `{Key, Value}`, validated (spec §4.5 TagResource).
    pub fn tags(&self, name: &str) -> Result<Vec<Tag>, AwsError> {
        let Some(list) = self.opt_list(name)? else {
            return Ok(Vec::new());
        };
        let mut tags: Vec<Tag> = Vec::with_capacity(list.len());
        for item in list {
            let Value::Object(m) = item else {
                return Err(serialization(name, "a list of Tag structures"));
            };
            let t = Input(m);
            let key = t.str("Key")?;
            let value = t.str("Value")?;
            tag_key(key)?;
            length(value, 0, 256)?;
            if tags.iter().any(|x| x.key == key) {
                return Err(invalid_input("DUPLICATE_TAG_KEY"));
            }
            tags.push(Tag {
                key: key.to_string(),
                value: value.to_string(),
            });
        }
        Ok(tags)
    }
}

/// A tag key: 1–128 characters, and not in the `aws:` namespace.
pub fn tag_key(key: &str) -> Result<(), AwsError> {
    length(key, 1, 128)?;
    if key.len() >= 4 && key[..4].eq_ignore_ascii_case("aws:") {
        return Err(invalid_input("INVALID_SYSTEM_TAGS_PARAMETER"));
    }
    Ok(())
}

/// Length in characters within `min..=max`.
pub fn length(s: &str, min: usize, max: usize) -> Result<(), AwsError> {
    let n = s.chars().count();
    if n < min {
        return Err(invalid_input("MIN_LENGTH_EXCEEDED"));
    }
    if n > max {
        return Err(invalid_input("MAX_LENGTH_EXCEEDED"));
    }
    Ok(())
}

/// A value that must be one of `allowed`.
pub fn one_of<'s>(value: &'s str, allowed: &[&str]) -> Result<&'s str, AwsError> {
    if allowed.contains(&value) {
        Ok(value)
    } else {
        Err(invalid_input("INVALID_ENUM"))
    }
}

/// `MaxResults`: 1–20.
pub fn max_results(input: &Input) -> Result<usize, AwsError> {
    match input.opt_int("MaxResults")? {
        None => Ok(20),
        Some(n) if n < 1 => Err(invalid_input("MIN_VALUE_EXCEEDED")),
        Some(n) if n > 20 => Err(invalid_input("MAX_VALUE_EXCEEDED")),
        Some(n) => Ok(n as usize),
    }
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

fn lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn within(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
}

/// `^\d{12}$`
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && all(s, |b| b.is_ascii_digit())
}

/// `^o-[a-z0-9]{10,32}$`
#[cfg(test)]
pub fn is_org_id(s: &str) -> bool {
    s.strip_prefix("o-")
        .is_some_and(|r| within(r, 10, 32) && all(r, lower_alnum))
}

/// `^r-[0-9a-z]{4,32}$`
pub fn is_root_id(s: &str) -> bool {
    s.strip_prefix("r-")
        .is_some_and(|r| within(r, 4, 32) && all(r, lower_alnum))
}

/// `^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`
pub fn is_ou_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("ou-") else {
        return false;
    };
    let Some((a, b)) = rest.split_once('-') else {
        return false;
    };
    within(a, 4, 32) && all(a, lower_alnum) && within(b, 8, 32) && all(b, lower_alnum)
}

/// `^h-[0-9a-z]{8,32}$`
pub fn is_handshake_id(s: &str) -> bool {
    s.strip_prefix("h-")
        .is_some_and(|r| within(r, 8, 32) && all(r, lower_alnum))
}

/// `^car-[a-z0-9]{8,32}$`
pub fn is_car_id(s: &str) -> bool {
    s.strip_prefix("car-")
        .is_some_and(|r| within(r, 8, 32) && all(r, lower_alnum))
}

fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `^p-[0-9a-zA-Z_]{8,128}$`
pub fn is_policy_id(s: &str) -> bool {
    s.strip_prefix("p-")
        .is_some_and(|r| within(r, 8, 128) && all(r, word))
}

/// `^rp-[0-9a-zA-Z_]{4,128}$`
pub fn is_resource_policy_id(s: &str) -> bool {
    s.strip_prefix("rp-")
        .is_some_and(|r| within(r, 4, 128) && all(r, word))
}

/// `^rt-[0-9a-zA-Z_]{8,32}$`
pub fn is_transfer_id(s: &str) -> bool {
    s.strip_prefix("rt-")
        .is_some_and(|r| within(r, 8, 32) && all(r, word))
}

/// ParentId: a root or an OU.
pub fn is_parent_id(s: &str) -> bool {
    is_root_id(s) || is_ou_id(s)
}

/// ChildId: an account or an OU.
pub fn is_child_id(s: &str) -> bool {
    is_account_id(s) || is_ou_id(s)
}

/// PolicyTargetId: a root, an account or an OU.
pub fn is_target_id(s: &str) -> bool {
    is_root_id(s) || is_account_id(s) || is_ou_id(s)
}

/// TaggableResourceId.
pub fn is_taggable_id(s: &str) -> bool {
    is_target_id(s) || is_policy_id(s) || is_resource_policy_id(s) || is_transfer_id(s)
}

/// ServicePrincipal / RoleName characters: `[\w+=,.@-]`.
pub fn is_principal_chars(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
}

/// The model's email pattern `[^\s@]+@[^\s@]+\.[^\s@]+`, matched against the whole value.
pub fn is_email_shape(s: &str) -> bool {
    if s.chars().any(char::is_whitespace) {
        return false;
    }
    let mut parts = s.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if local.is_empty() {
        return false;
    }
    match domain.rfind('.') {
        Some(i) => i > 0 && i + 1 < domain.len(),
        None => false,
    }
}

/// An address a mailbox could really have: what account creation checks beyond the pattern.
/// ASCII only, a dot-atom local part, and a domain of dot-separated labels of letters, digits
/// and inner hyphens ending in an alphabetic top-level domain of at least two letters.
pub fn is_deliverable_email(s: &str) -> bool {
    if !is_email_shape(s) || !s.is_ascii() {
        return false;
    }
    let (local, domain) = s.split_once('@').unwrap_or_default();
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    if local.len() > 64
        || local
            .split('.')
            .any(|p| p.is_empty() || !p.chars().all(atext))
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let tld = labels.last().copied().unwrap_or_default();
    labels.len() >= 2
        && labels.iter().all(label_ok)
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
}

/// `CreateAccountName`: printable ASCII (`[\u0020-\u007E]+`).
pub fn is_account_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| (' '..='~').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_patterns() {
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901"));
        assert!(!is_account_id("12345678901a"));
        assert!(is_root_id("r-ab12"));
        assert!(!is_root_id("r-AB12"));
        assert!(!is_root_id("r-ab1"));
        assert!(is_ou_id("ou-ab12-abcdefgh"));
        assert!(!is_ou_id("ou-ab12-abcdefg"));
        assert!(!is_ou_id("ou-ab12abcdefgh"));
        assert!(is_parent_id("r-ab12") && is_parent_id("ou-ab12-abcdefgh"));
        assert!(!is_parent_id("123456789012"));
        assert!(is_child_id("123456789012") && !is_child_id("r-ab12"));
        assert!(is_policy_id("p-FullAWSAccess") && is_policy_id("p-abcd1234"));
        assert!(!is_policy_id("p-abc"));
        assert!(is_taggable_id("p-abcd1234") && is_taggable_id("r-abcd"));
        assert!(!is_taggable_id("o-abcdefghij"));
        assert!(is_car_id("car-0123456789abcdef0123456789abcdef"));
        assert!(!is_car_id("car-XYZ12345"));
        assert!(is_handshake_id("h-abcdefgh") && !is_handshake_id("h-abc"));
        assert!(is_org_id("o-abcdefghij") && !is_org_id("o-abc"));
    }

    #[test]
    fn emails() {
        assert!(is_email_shape("a@b.co"));
        assert!(is_email_shape("a@b..c"));
        assert!(!is_email_shape("ab.co"));
        assert!(!is_email_shape("a b@c.co"));
        assert!(!is_email_shape("a@b@c.co"));
        assert!(!is_email_shape("a@bco"));
        assert!(!is_email_shape("a@.co"));
        assert!(is_deliverable_email("jane.doe+ops@example.com"));
        assert!(!is_deliverable_email("a@b..c"));
        assert!(!is_deliverable_email("a..b@example.com"));
        assert!(!is_deliverable_email("a@-example.com"));
        assert!(!is_deliverable_email("a@example.c0"));
        assert!(!is_deliverable_email("ü@example.com"));
    }

    #[test]
    fn names_and_principals() {
        assert!(is_account_name("Prod account (1)"));
        assert!(!is_account_name("Prod\u{e9}"));
        assert!(!is_account_name("tab\there"));
        assert!(is_principal_chars("cloudtrail.amazonaws.com"));
        assert!(!is_principal_chars("cloudtrail amazonaws"));
    }

    #[test]
    fn tags_are_checked() {
        let input: JsonInput =
            serde_json::from_str(r#"{"Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":""}]}"#)
                .unwrap();
        assert_eq!(Input(&input).tags("Tags").unwrap().len(), 2);
        for (body, reason) in [
            (
                r#"{"Tags":[{"Key":"a","Value":"1"},{"Key":"a","Value":"2"}]}"#,
                "DUPLICATE_TAG_KEY",
            ),
            (
                r#"{"Tags":[{"Key":"aws:x","Value":"1"}]}"#,
                "INVALID_SYSTEM_TAGS_PARAMETER",
            ),
            (
                r#"{"Tags":[{"Key":"","Value":"1"}]}"#,
                "MIN_LENGTH_EXCEEDED",
            ),
            (r#"{"Tags":[{"Value":"1"}]}"#, "INPUT_REQUIRED"),
        ] {
            let input: JsonInput = serde_json::from_str(body).unwrap();
            let e = Input(&input).tags("Tags").unwrap_err();
            assert_eq!(e.code, "InvalidInputException", "{body}");
            assert_eq!(e.fields, vec![("Reason", reason.to_string())], "{body}");
        }
    }
}

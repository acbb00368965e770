//! The request context (condition keys) and the view of it that evaluation uses, which falls
//! back to values derived from the caller.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use super::{Caller, PrincipalType};

/// Condition keys of one request. Key names are case-insensitive (the CloudTrail docs write both
/// `aws:SourceArn` and `AWS:SourceArn`), so they are stored lower-cased; values keep their case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    values: HashMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Context::default()
    }

    /// Sets `key` to a single value, replacing any earlier value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    /// Sets a multivalued key (e.g. `aws:TagKeys`), replacing any earlier value.
    pub fn set_multi(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_ascii_lowercase(), values);
    }

    /// Builder form of [`Context::set`].
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// Sets `key` to `value` unless it has a value already.
    pub fn set_if_absent(&mut self, key: &str, value: impl Into<String>) {
        if let Entry::Vacant(e) = self.values.entry(key.to_ascii_lowercase()) {
            e.insert(vec![value.into()]);
        }
    }

    /// Room for `more` keys beyond those set, for a caller about to set them.
    pub fn reserve(&mut self, more: usize) {
        self.values.reserve(more);
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        lowered(key, |k| self.values.get(k).map(Vec::as_slice))
    }

    pub fn remove(&mut self, key: &str) {
        lowered(key, |k| self.values.remove(k));
    }

    pub fn contains(&self, key: &str) -> bool {
        lowered(key, |k| self.values.contains_key(k))
    }
}

/// `f` of `key` lower-cased, in a buffer on the stack when the key is short (every request looks
/// keys up by their documented, mixed-case names).
fn lowered<R>(key: &str, f: impl FnOnce(&str) -> R) -> R {
    if !key.bytes().any(|b| b.is_ascii_uppercase()) {
        return f(key);
    }
    let mut buf = [0u8; 128];
    match buf.get_mut(..key.len()) {
        Some(b) => {
            b.copy_from_slice(key.as_bytes());
            b.make_ascii_lowercase();
            // Lower-casing ASCII letters keeps UTF-8 valid.
            f(std::str::from_utf8(b).expect("lower-cased UTF-8"))
        }
        None => f(&key.to_ascii_lowercase()),
    }
}

/// What a condition or policy variable sees: the explicit context first, then the keys every
/// signed request carries, derived from the caller so callers of the engine need not repeat them.
pub(super) struct Env<'a> {
    pub context: &'a Context,
    pub caller: &'a Caller,
}

impl<'a> Env<'a> {
    /// Values of `key` (already lower-case). An empty list counts as absent, matching the
    /// spec's "absent/empty" wording for multivalued keys.
    pub fn get(&self, key: &str) -> Option<Cow<'a, [String]>> {
        if let Some(v) = self.context.values.get(key) {
            return if v.is_empty() {
                None
            } else {
                Some(Cow::Borrowed(v.as_slice()))
            };
        }
        derived(key, self.caller).map(|v| Cow::Owned(vec![v]))
    }

    /// A single-valued key as a policy variable; multivalued keys cannot be variables.
    pub fn variable(&self, key: &str) -> Option<String> {
        match self.get(key) {
            Some(v) if v.len() == 1 => Some(v[0].clone()),
            _ => None,
        }
    }
}

fn derived(key: &str, caller: &Caller) -> Option<String> {
    use PrincipalType::*;
    let signed = matches!(caller.kind, Root | User | AssumedRole | FederatedUser);
    match key {
        "aws:principalaccount" if signed => caller.account.clone(),
        "aws:principalarn" => caller.principal_arn(),
        "aws:username" if caller.kind == User => caller.username.clone().or_else(|| {
            caller
                .arn
                .as_deref()
                .and_then(|a| a.rsplit('/').next())
                .map(str::to_string)
        }),
        "aws:userid" => match caller.kind {
            Root => caller.user_id.clone().or_else(|| caller.account.clone()),
            User | AssumedRole | FederatedUser => caller.user_id.clone(),
            Service | Anonymous | Federated => None,
        },
        "aws:principaltype" => match caller.kind {
            Root => Some("Account".to_string()),
            User => Some("User".to_string()),
            AssumedRole => Some("AssumedRole".to_string()),
            FederatedUser => Some("FederatedUser".to_string()),
            Anonymous => Some("Anonymous".to_string()),
            Service | Federated => None,
        },
        "aws:principalservicename" => caller.service.clone(),
        "aws:principalisawsservice" => match caller.kind {
            Service => Some("true".to_string()),
            Root | User | AssumedRole | FederatedUser | Federated => Some("false".to_string()),
            Anonymous => None,
        },
        _ => None,
    }
}

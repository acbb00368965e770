//! Parsed identity-style policies by their text. Every call asks about its caller's policies;
//! there are few distinct texts, and parsing one costs more than the rest of a small call.

use crate::policy::{Policy, PolicyKind};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A policy that allows nothing (a statement that matches no action): what stands for a
/// session's or a boundary's policies when they grant nothing at all.
pub const NOTHING: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"*","Resource":"*"}]}"#;

/// `text` parsed as an identity policy (SCPs and session policies share its grammar); None
/// when it does not parse, which no stored policy should.
pub fn parsed(text: &str) -> Option<Arc<Policy>> {
    parsed_as(text, PolicyKind::Identity)
}

/// `text` parsed as a resource control policy (which names principals, like a trust policy).
pub fn parsed_rcp(text: &str) -> Option<Arc<Policy>> {
    parsed_as(text, PolicyKind::Trust)
}

fn parsed_as(text: &str, kind: PolicyKind) -> Option<Arc<Policy>> {
    type Map = HashMap<(bool, String), Arc<Policy>>;
    static CACHE: OnceLock<Mutex<Map>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let identity = kind == PolicyKind::Identity;
    let key = (identity, text.to_string());
    if let Some(p) = cache.lock().expect("policy cache").get(&key) {
        return Some(p.clone());
    }
    let parsed = Arc::new(Policy::parse(text, &kind).ok()?);
    let mut map = cache.lock().expect("policy cache");
    // Bounded: a flood of distinct policies only costs re-parsing.
    if map.len() >= 4096 {
        map.clear();
    }
    map.insert(key, parsed.clone());
    Some(parsed)
}

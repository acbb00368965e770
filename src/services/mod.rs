//! The services room: each AWS service's operations as plain functions over the store. Nothing
//! here parses HTTP; the front door hands over a decoded input and renders the output.

pub mod catalog;
pub mod cloudtrail;
pub mod iam;
pub mod organizations;
pub mod s3;
pub mod sts;

use crate::auth::Principal;
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// What every operation knows about the call it serves.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub principal: Principal,
    /// The region of the credential scope (the endpoint's region).
    pub region: String,
    pub source_ip: IpAddr,
    pub user_agent: String,
    pub time: DateTime<Utc>,
    /// Whether the call arrived over TLS (`aws:SecureTransport`).
    pub secure: bool,
}

/// A decoded awsJson1.1 request body.
pub type JsonInput = serde_json::Map<String, serde_json::Value>;

/// Decoded query-protocol parameters (`Action=...&RoleArn=...`), in arrival order.
#[derive(Clone, Debug, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether any parameter is `name` or lies below it (`name.member.1...`).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| {
            k == name || (k.starts_with(name) && k.as_bytes().get(name.len()) == Some(&b'.'))
        })
    }

    /// A list of strings: `Name.member.1`, `Name.member.2`, ... in index order.
    pub fn list(&self, name: &str) -> Vec<&str> {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(u32, &str)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                let i = k.strip_prefix(&prefix)?.parse::<u32>().ok()?;
                Some((i, v.as_str()))
            })
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// A list of structures: `Name.member.1.Field`, ... as (field, value) lists in index order.
    pub fn structs(&self, name: &str) -> Vec<Vec<(&str, &str)>> {
        let prefix = format!("{name}.member.");
        let mut items: std::collections::BTreeMap<u32, Vec<(&str, &str)>> = Default::default();
        for (k, v) in &self.0 {
            let Some(rest) = k.strip_prefix(&prefix) else {
                continue;
            };
            let Some((i, field)) = rest.split_once('.') else {
                continue;
            };
            if let Ok(i) = i.parse::<u32>() {
                items.entry(i).or_default().push((field, v.as_str()));
            }
        }
        items.into_values().collect()
    }

    /// The parameters as the JSON a record's `requestParameters` shows: `A.member.N.B` as
    /// arrays of objects, `A.entry.N.key/value` as objects, names in lowerCamelCase, whole
    /// numbers and booleans of the members that are numbers or booleans as such.
    pub fn to_json(&self, numeric: &[&str]) -> Option<serde_json::Value> {
        use serde_json::{Map, Value};
        let mut root = Map::new();
        for (k, v) in &self.0 {
            if k == "Action" || k == "Version" {
                continue;
            }
            let parts: Vec<&str> = k.split('.').collect();
            let leaf = parts.last().copied().unwrap_or_default();
            let value = if numeric.contains(&leaf) {
                v.parse::<i64>()
                    .map(Value::from)
                    .or_else(|_| v.parse::<bool>().map(Value::from))
                    .unwrap_or_else(|_| Value::String(v.clone()))
            } else {
                Value::String(v.clone())
            };
            insert_path(&mut root, &parts, value);
        }
        fn insert_path(m: &mut Map<String, Value>, parts: &[&str], value: Value) {
            let Some((first, rest)) = parts.split_first() else {
                return;
            };
            if rest.is_empty() {
                m.insert(first.to_string(), value);
                return;
            }
            if rest[0] == "member" && rest.len() >= 2 {
                let idx: usize = rest[1].parse().unwrap_or(1).max(1);
                let arr = m
                    .entry(first.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = arr {
                    while items.len() < idx {
                        items.push(Value::Null);
                    }
                    if rest.len() == 2 {
                        items[idx - 1] = value;
                    } else {
                        if !items[idx - 1].is_object() {
                            items[idx - 1] = Value::Object(Map::new());
                        }
                        if let Value::Object(o) = &mut items[idx - 1] {
                            insert_path(o, &rest[2..], value);
                        }
                    }
                }
                return;
            }
            let child = m
                .entry(first.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(o) = child {
                insert_path(o, rest, value);
            }
        }
        (!root.is_empty()).then(|| crate::audit::record::lower_camel(&Value::Object(root)))
    }
}

/// AWS's timestamp format in XML and records: `2026-11-23T23:41:20Z`.
pub fn iso8601(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

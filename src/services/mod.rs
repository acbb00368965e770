//! The services room: each AWS service's operations as plain functions over the store. Nothing
//! here parses HTTP; the front door hands over a decoded input and renders the output.

pub mod access;
pub mod catalog;
pub mod cloudtrail;
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
}

/// AWS's timestamp format in XML and records: `2026-11-23T23:41:20Z`.
pub fn iso8601(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

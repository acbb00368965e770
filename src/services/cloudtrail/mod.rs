//! AWS CloudTrail (awsJson1.1). Event history (LookupEvents) is served here; trail management
//! arrives with the trails work and answers NotImplemented until then.

pub mod lookup;

use super::{JsonInput, RequestContext};
use crate::app::App;
use crate::error::AwsError;
use crate::store::Writer;
use serde_json::Value;

/// Runs inside the call's store transaction.
pub fn call(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    op: &str,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    match op {
        "LookupEvents" => lookup::lookup_events(app, w, ctx, input),
        other => Err(AwsError::new(
            501,
            "NotImplemented",
            format!("{other} is not implemented"),
        )),
    }
}

/// A timestamp member: epoch seconds as a JSON number (what SDKs send), or leniently an
/// ISO-8601 string.
pub fn timestamp(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok().or_else(|| {
            chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.timestamp() as f64)
        }),
        _ => None,
    }
}

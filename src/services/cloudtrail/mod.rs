//! AWS CloudTrail (awsJson1.1): trails, their logging status, selectors and tags, and event
//! history. Operations of the model not served here (Lake, channels, dashboards, ...) answer
//! NotImplemented.

mod authorize;
pub mod bucket;
pub mod checks;
pub mod delegated;
pub mod describe;
mod input;
pub mod logging;
pub mod lookup;
pub mod model;
pub mod names;
pub mod org;
pub mod public_keys;
pub mod resolve;
pub mod selectors;
pub mod tags;
pub mod trails;

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
    authorize::authorize(w, ctx, op, input)?;
    match op {
        "LookupEvents" => lookup::lookup_events(app, w, ctx, input),
        "CreateTrail" => trails::create_trail(w, ctx, input),
        "UpdateTrail" => trails::update_trail(w, ctx, input),
        "DeleteTrail" => trails::delete_trail(w, ctx, input),
        "GetTrail" => describe::get_trail(w, ctx, input),
        "DescribeTrails" => describe::describe_trails(w, ctx, input),
        "ListTrails" => describe::list_trails(w, ctx, input),
        "StartLogging" => logging::start_logging(w, ctx, input),
        "StopLogging" => logging::stop_logging(w, ctx, input),
        "GetTrailStatus" => logging::get_trail_status(w, ctx, input),
        "PutEventSelectors" => selectors::put_event_selectors(w, ctx, input),
        "GetEventSelectors" => selectors::get_event_selectors(w, ctx, input),
        "PutInsightSelectors" => selectors::put_insight_selectors(w, ctx, input),
        "GetInsightSelectors" => selectors::get_insight_selectors(w, ctx, input),
        "AddTags" => tags::add_tags(w, ctx, input),
        "RemoveTags" => tags::remove_tags(w, ctx, input),
        "ListTags" => tags::list_tags(w, ctx, input),
        "RegisterOrganizationDelegatedAdmin" => delegated::register(w, ctx, input),
        "DeregisterOrganizationDelegatedAdmin" => delegated::deregister(w, ctx, input),
        "ListPublicKeys" => public_keys::list_public_keys(app, w, ctx, input),
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

/// What LookupEvents shows as a call's `Resources`: the trail it names, and a bucket it points
/// at.
pub fn lookup_resources(ctx: &RequestContext, input: &JsonInput) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(name) = ["Name", "TrailName"]
        .iter()
        .find_map(|m| input.get(*m).and_then(Value::as_str))
    {
        out.push((
            "AWS::CloudTrail::Trail".to_string(),
            if name.starts_with("arn:") {
                name.to_string()
            } else {
                names::trail_arn(&ctx.region, &ctx.principal.account, name)
            },
        ));
    }
    if let Some(bucket) = input.get("S3BucketName").and_then(Value::as_str) {
        out.push(("AWS::S3::Bucket".to_string(), bucket.to_string()));
    }
    out
}

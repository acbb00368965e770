//! Every CloudTrail call is authorized before it runs: `cloudtrail:<Operation>` on the trail it
//! names (by name or ARN), or on `*` for the operations that name none (DescribeTrails,
//! ListTrails, LookupEvents, ...), as the CloudTrail service authorization reference lists them.

use super::names::trail_arn;
use crate::access::{self, Ask, Facts};
use crate::error::AwsError;
use crate::services::{JsonInput, RequestContext};
use crate::store::Reader;
use serde_json::Value;

/// The resource `op` acts on.
fn resource(ctx: &RequestContext, op: &str, input: &JsonInput) -> String {
    let named = |member: &str| -> Option<String> {
        let v = input.get(member)?.as_str()?;
        Some(if v.starts_with("arn:") {
            v.to_string()
        } else {
            trail_arn(&ctx.region, &ctx.principal.account, v)
        })
    };
    let found = match op {
        "CreateTrail" | "UpdateTrail" | "DeleteTrail" | "StartLogging" | "StopLogging"
        | "GetTrailStatus" | "GetTrail" => named("Name"),
        "PutEventSelectors"
        | "GetEventSelectors"
        | "PutInsightSelectors"
        | "GetInsightSelectors" => named("TrailName"),
        "AddTags" | "RemoveTags" => input
            .get("ResourceId")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    };
    found.unwrap_or_else(|| "*".to_string())
}

/// AccessDeniedException with AWS's wording when the caller may not do `op`.
pub fn authorize(
    r: &dyn Reader,
    ctx: &RequestContext,
    op: &str,
    input: &JsonInput,
) -> Result<(), AwsError> {
    let action = format!("cloudtrail:{op}");
    let resource = resource(ctx, op, input);
    access::require(r, &Facts::of(ctx), Ask::new(&action, &resource))
        .map_err(|e| e.into_error(400, "AccessDeniedException"))
}

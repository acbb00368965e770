//! GetTrail, DescribeTrails, ListTrails: what a caller sees (spec cloudtrail.md §3.7, §3.9).

use super::input::{opt_bool, opt_list, opt_str, req_str};
use super::model::Trail;
use super::names::parse_trail_arn;
use super::resolve::{self, owned, Seen};
use crate::error::AwsError;
use crate::services::{JsonInput, RequestContext};
use crate::store::Writer;
use serde_json::{json, Map, Value};

/// ListTrails page size.
pub const LIST_PAGE: usize = 50;

pub fn get_trail(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let name = req_str(input, "Name")?;
    let (t, _) = resolve::resolve(w, ctx, &name)?;
    Ok(json!({ "Trail": t.shape() }))
}

pub fn describe_trails(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let shadows = opt_bool(input, "includeShadowTrails")?.unwrap_or(true);
    let names = opt_list(input, "trailNameList")?
        .cloned()
        .unwrap_or_default();
    let mut list = Vec::new();
    if names.is_empty() {
        for (t, seen) in resolve::visible(w, ctx)? {
            if seen == Seen::Home || shadows {
                list.push(t.shape());
            }
        }
    } else {
        for v in names {
            let Some(value) = v.as_str() else {
                return Err(AwsError::client(
                    "SerializationException",
                    "Unexpected value type for member trailNameList",
                ));
            };
            // Unknown names and ARNs (another account's included) are left out; malformed
            // ones are errors.
            match resolve::resolve(w, ctx, value) {
                Ok((t, _)) => list.push(t.shape()),
                Err(e) if e.code == "TrailNotFoundException" => {}
                Err(e)
                    if e.code == "CloudTrailARNInvalidException"
                        && parse_trail_arn(value).is_ok() => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(json!({ "trailList": list }))
}

/// Every trail of the caller in every region, and the organization trails it sees as a member,
/// in ARN order; the token is the last ARN of the page.
pub fn list_trails(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let account = &ctx.principal.account;
    let mut all: Vec<Trail> = owned(w, account)?;
    all.extend(resolve::organization_trails(w, account)?);
    all.sort_by_key(|t| t.arn());
    let start = match opt_str(input, "NextToken")? {
        None => 0,
        Some(tok) => all.iter().position(|t| t.arn() > tok).unwrap_or(all.len()),
    };
    let page: Vec<&Trail> = all.iter().skip(start).take(LIST_PAGE).collect();
    let mut out = Map::new();
    out.insert(
        "Trails".into(),
        Value::Array(
            page.iter()
                .map(|t| json!({"TrailARN": t.arn(), "Name": t.name, "HomeRegion": t.home_region}))
                .collect(),
        ),
    );
    if start + LIST_PAGE < all.len() {
        if let Some(last) = page.last() {
            out.insert("NextToken".into(), json!(last.arn()));
        }
    }
    Ok(Value::Object(out))
}

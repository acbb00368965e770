//! ListPublicKeys (spec cloudtrail.md §8.4): the keys digests are signed with, as base64 DER
//! PKCS#1, every key of the caller's region whose validity overlaps `[StartTime, EndTime]`, in
//! one page. As on AWS, digests are signed per region, so validate-logs is run with `--region`
//! set to the region whose digests it checks. The region always has a key in force.

use super::timestamp;
use crate::app::App;
use crate::digests::keys;
use crate::error::AwsError;
use crate::services::{JsonInput, RequestContext};
use crate::store::Writer;
use serde_json::{json, Value};

fn time_member(input: &JsonInput, name: &str, now_ms: i64) -> Result<i64, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(now_ms),
        Some(v) => timestamp(v).map(|s| (s * 1000.0) as i64).ok_or_else(|| {
            AwsError::client(
                "InvalidParameterException",
                format!("{name} is not a valid timestamp."),
            )
        }),
    }
}

pub fn list_public_keys(
    app: &App,
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let now_ms = ctx.time.timestamp_millis();
    let from = time_member(input, "StartTime", now_ms)?;
    let to = time_member(input, "EndTime", now_ms)?;
    if from > to {
        return Err(AwsError::client(
            "InvalidTimeRangeException",
            "Start time must be before end time.",
        ));
    }
    if keys::current(w, &ctx.region, now_ms)?.is_none() {
        let fresh = keys::generate(
            app.auth.sealer(),
            &ctx.region,
            now_ms,
            app.settings.signing_key_validity,
        )?;
        keys::install(w, &ctx.region, now_ms, fresh)?;
    }
    let list: Vec<Value> = keys::overlapping(w, &ctx.region, from, to)?
        .into_iter()
        .map(|k| {
            json!({
                "Value": k.public_key,
                "ValidityStartTime": k.valid_from_ms as f64 / 1000.0,
                "ValidityEndTime": k.valid_until_ms as f64 / 1000.0,
                "Fingerprint": k.fingerprint,
            })
        })
        .collect();
    Ok(json!({ "PublicKeyList": list }))
}

//! StartLogging, StopLogging, GetTrailStatus (spec cloudtrail.md §3.10, §4, §7.4).

use super::input::req_str;
use super::model::{status_key, DeliveryStatus, Trail, STATUS, TRAILS};
use super::resolve;
use crate::error::AwsError;
use crate::services::{iso8601, JsonInput, RequestContext};
use crate::store::{ReaderExt, Writer, WriterExt};
use serde_json::{json, Map, Value};

pub fn start_logging(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let mut t = resolve::resolve_for_change(w, ctx, &req_str(input, "Name")?)?;
    // Idempotent: a trail already logging keeps its start time (and its digest chain).
    if !t.logging {
        t.logging = true;
        t.start_logging_time = Some(ctx.time.timestamp_millis());
        // This call's own record is the next one appended: logging covers it.
        let next = w.journal_head()? + 1;
        t.logging_periods.push((next, None));
        w.put_json(TRAILS, &t.key(), &t)?;
    }
    Ok(json!({}))
}

pub fn stop_logging(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let mut t = resolve::resolve_for_change(w, ctx, &req_str(input, "Name")?)?;
    if t.logging {
        stop(w, ctx, &mut t)?;
        w.put_json(TRAILS, &t.key(), &t)?;
    }
    Ok(json!({}))
}

/// Ends the trail's logging period after this call's own record (StopLogging's, or
/// DeleteTrail's): that record is the last one the trail delivers.
pub fn stop(w: &mut dyn Writer, ctx: &RequestContext, t: &mut Trail) -> Result<(), AwsError> {
    if t.logging {
        t.logging = false;
        t.stop_logging_time = Some(ctx.time.timestamp_millis());
        let last = w.journal_head()? + 1;
        if let Some(p) = t.logging_periods.last_mut() {
            p.1 = Some(last + 1);
        }
    }
    Ok(())
}

fn epoch(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn iso(ms: Option<i64>) -> Value {
    json!(ms
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(iso8601)
        .unwrap_or_default())
}

pub fn get_trail_status(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let (t, _) = resolve::resolve(w, ctx, &req_str(input, "Name")?)?;
    let st: DeliveryStatus = w
        .get_json(STATUS, &status_key(&t.arn(), &ctx.region))?
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert("IsLogging".into(), json!(t.logging));
    if let Some(e) = &st.latest_delivery_error {
        m.insert("LatestDeliveryError".into(), json!(e));
    }
    if let Some(v) = st.latest_delivery_time {
        m.insert("LatestDeliveryTime".into(), epoch(v));
    }
    if let Some(v) = t.start_logging_time {
        m.insert("StartLoggingTime".into(), epoch(v));
    }
    if let Some(v) = t.stop_logging_time {
        m.insert("StopLoggingTime".into(), epoch(v));
    }
    if let Some(v) = st.latest_digest_delivery_time {
        m.insert("LatestDigestDeliveryTime".into(), epoch(v));
    }
    if let Some(e) = &st.latest_digest_delivery_error {
        m.insert("LatestDigestDeliveryError".into(), json!(e));
    }
    // The six deprecated string fields are always present, "" when unset.
    m.insert(
        "LatestDeliveryAttemptTime".into(),
        iso(st.latest_delivery_attempt_time),
    );
    m.insert("LatestNotificationAttemptTime".into(), json!(""));
    m.insert("LatestNotificationAttemptSucceeded".into(), json!(""));
    m.insert(
        "LatestDeliveryAttemptSucceeded".into(),
        iso(st.latest_delivery_attempt_succeeded),
    );
    m.insert("TimeLoggingStarted".into(), iso(t.start_logging_time));
    m.insert("TimeLoggingStopped".into(), iso(t.stop_logging_time));
    Ok(Value::Object(m))
}

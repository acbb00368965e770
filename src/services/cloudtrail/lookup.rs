//! LookupEvents: the caller account's management events in the current region, last 90 days,
//! newest first, with at most one lookup attribute (spec cloudtrail.md §9).

use super::timestamp;
use crate::app::App;
use crate::audit::{history, journal};
use crate::error::AwsError;
use crate::services::{JsonInput, RequestContext};
use crate::store::Reader;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

const NINETY_DAYS: i64 = 90 * 24 * 3600;

fn invalid(code: &'static str, message: &str) -> AwsError {
    AwsError::client(code, message)
}

/// What the caller asked, normalised; a NextToken is bound to it.
struct Query {
    attribute: history::Attribute,
    value: String,
    start: i64,
    end: i64,
    max: usize,
    insight: bool,
}

fn parse(input: &JsonInput, now: i64) -> Result<Query, AwsError> {
    let (attribute, value) = match input.get("LookupAttributes") {
        None | Some(Value::Null) => (history::Attribute::All, String::new()),
        Some(Value::Array(items)) if items.is_empty() => (history::Attribute::All, String::new()),
        Some(Value::Array(items)) if items.len() == 1 => {
            let key = items[0]
                .get("AttributeKey")
                .and_then(Value::as_str)
                .unwrap_or("");
            let value = items[0]
                .get("AttributeValue")
                .and_then(Value::as_str)
                .unwrap_or("");
            let attr = history::Attribute::parse(key).ok_or_else(|| {
                invalid(
                    "InvalidLookupAttributesException",
                    &format!("Invalid attribute key: {key}"),
                )
            })?;
            if value.is_empty() {
                return Err(invalid(
                    "InvalidLookupAttributesException",
                    "Attribute value must not be empty.",
                ));
            }
            (attr, value.to_string())
        }
        Some(Value::Array(_)) => {
            return Err(invalid(
                "InvalidLookupAttributesException",
                "You cannot specify more than one lookup attribute.",
            ))
        }
        Some(_) => {
            return Err(AwsError::client(
                "SerializationException",
                "LookupAttributes must be a list",
            ))
        }
    };
    let start = match input.get("StartTime") {
        Some(v) => timestamp(v).ok_or_else(|| {
            AwsError::client("SerializationException", "StartTime is not a timestamp")
        })?,
        None => (now - NINETY_DAYS) as f64,
    };
    let end = match input.get("EndTime") {
        Some(v) => timestamp(v).ok_or_else(|| {
            AwsError::client("SerializationException", "EndTime is not a timestamp")
        })?,
        None => now as f64,
    };
    if start > end {
        return Err(invalid(
            "InvalidTimeRangeException",
            "Start time must be equal to or earlier than end time.",
        ));
    }
    let insight = match input.get("EventCategory").and_then(Value::as_str) {
        None => false,
        Some("insight") => true,
        Some(other) => {
            return Err(invalid(
                "InvalidEventCategoryException",
                &format!("Invalid event category: {other}"),
            ))
        }
    };
    let max = match input.get("MaxResults") {
        None | Some(Value::Null) => 50,
        Some(v) => match v.as_i64() {
            Some(n) if (1..=50).contains(&n) => n as usize,
            _ => {
                return Err(invalid(
                    "InvalidMaxResultsException",
                    "MaxResults must be between 1 and 50.",
                ))
            }
        },
    };
    // Older than 90 days or in the future: clamp, as AWS does, without an error.
    let start = (start.ceil() as i64).max(now - NINETY_DAYS);
    let end = (end.floor() as i64).min(now);
    Ok(Query {
        attribute,
        value,
        start,
        end,
        max,
        insight,
    })
}

/// What a NextToken is bound to: the caller, the region and the parameters as given (not the
/// clamped window, which moves with the clock between pages).
fn binding(input: &JsonInput, account: &str, region: &str) -> String {
    let mut h = Sha256::new();
    h.update(account.as_bytes());
    h.update([0]);
    h.update(region.as_bytes());
    for member in [
        "LookupAttributes",
        "StartTime",
        "EndTime",
        "EventCategory",
        "MaxResults",
    ] {
        h.update([0]);
        h.update(input.get(member).map(Value::to_string).unwrap_or_default());
    }
    hex::encode(&h.finalize()[..8])
}

fn token(time: i64, seq: u64, bind: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{time}.{seq}.{bind}"))
}

fn parse_token(t: &str, bind: &str) -> Option<(i64, u64)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(t).ok()?).ok()?;
    let mut it = text.splitn(3, '.');
    let time = it.next()?.parse().ok()?;
    let seq = it.next()?.parse().ok()?;
    (it.next()? == bind).then_some((time, seq))
}

pub fn lookup_events(
    app: &App,
    r: &dyn Reader,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let now = app.clock.now().timestamp();
    let q = parse(input, now)?;
    let account = &ctx.principal.account;
    let region = &ctx.region;
    let bind = binding(input, account, region);
    let before = match input.get("NextToken").and_then(Value::as_str) {
        None => None,
        Some(t) => Some(
            parse_token(t, &bind)
                .ok_or_else(|| invalid("InvalidNextTokenException", "Invalid NextToken."))?,
        ),
    };
    // Insights are never generated here, so an insight lookup is always empty.
    if q.insight {
        return Ok(json!({ "Events": [] }));
    }
    let list = history::list(account, region, q.attribute, &q.value);
    let (positions, more) = app
        .history
        .read(|h| history::lookup(h, &list, q.start, q.end, before, q.max))?;
    let mut events = Vec::with_capacity(positions.len());
    for (_, seq) in &positions {
        let Some(entry) = r.journal_get(*seq)? else {
            continue;
        };
        let Some((meta, record)) = journal::decode(&entry) else {
            continue;
        };
        events.push(event(&meta, record)?);
    }
    let mut out = Map::new();
    out.insert("Events".into(), Value::Array(events));
    if more {
        if let Some((t, s)) = positions.last() {
            out.insert("NextToken".into(), json!(token(*t, *s, &bind)));
        }
    }
    Ok(Value::Object(out))
}

/// The API's Event shape from a stored record.
fn event(meta: &journal::Meta, record: &[u8]) -> Result<Value, AwsError> {
    let rec: Value = serde_json::from_slice(record).map_err(AwsError::internal)?;
    let id = &rec["userIdentity"];
    let mut e = Map::new();
    e.insert("EventId".into(), rec["eventID"].clone());
    e.insert("EventName".into(), rec["eventName"].clone());
    e.insert(
        "ReadOnly".into(),
        json!(if rec["readOnly"].as_bool().unwrap_or(false) {
            "true"
        } else {
            "false"
        }),
    );
    if let Some(k) = id["accessKeyId"].as_str().filter(|k| !k.is_empty()) {
        e.insert("AccessKeyId".into(), json!(k));
    }
    if let Some(t) = rec["eventTime"]
        .as_str()
        .and_then(history::event_time_epoch)
    {
        e.insert("EventTime".into(), json!(t));
    }
    e.insert("EventSource".into(), rec["eventSource"].clone());
    // The same name a lookup by Username matches.
    let username = history::username_of(
        id["type"].as_str(),
        id["userName"].as_str(),
        id["arn"].as_str(),
    );
    if let Some(u) = username {
        e.insert("Username".into(), json!(u));
    }
    e.insert(
        "Resources".into(),
        Value::Array(
            meta.lookup_resources
                .iter()
                .map(|(t, n)| json!({"ResourceType": t, "ResourceName": n}))
                .collect(),
        ),
    );
    e.insert(
        "CloudTrailEvent".into(),
        json!(String::from_utf8_lossy(record)),
    );
    Ok(Value::Object(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_their_query() {
        let t = token(100, 7, "abc");
        assert_eq!(parse_token(&t, "abc"), Some((100, 7)));
        assert_eq!(parse_token(&t, "abd"), None);
        assert_eq!(parse_token("garbage!", "abc"), None);
    }

    #[test]
    fn validation() {
        let now = 1_000_000_000;
        let p = |v: Value| parse(v.as_object().unwrap(), now);
        assert_eq!(p(json!({})).unwrap().max, 50);
        let two = json!({"LookupAttributes": [
            {"AttributeKey": "EventName", "AttributeValue": "a"},
            {"AttributeKey": "EventName", "AttributeValue": "b"}]});
        assert_eq!(
            p(two).err().unwrap().code,
            "InvalidLookupAttributesException"
        );
        let bad = json!({"LookupAttributes": [{"AttributeKey": "Nope", "AttributeValue": "a"}]});
        assert_eq!(
            p(bad).err().unwrap().code,
            "InvalidLookupAttributesException"
        );
        assert_eq!(
            p(json!({"StartTime": 10, "EndTime": 5}))
                .err()
                .unwrap()
                .code,
            "InvalidTimeRangeException"
        );
        assert_eq!(
            p(json!({"MaxResults": 51})).err().unwrap().code,
            "InvalidMaxResultsException"
        );
        assert_eq!(
            p(json!({"MaxResults": 0})).err().unwrap().code,
            "InvalidMaxResultsException"
        );
        assert_eq!(
            p(json!({"EventCategory": "data"})).err().unwrap().code,
            "InvalidEventCategoryException"
        );
        let q = p(json!({"StartTime": 0, "EndTime": 2_000_000_000})).unwrap();
        assert_eq!((q.start, q.end), (now - NINETY_DAYS, now));
    }
}

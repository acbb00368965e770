//! PutEventSelectors / GetEventSelectors, PutInsightSelectors / GetInsightSelectors
//! (spec cloudtrail.md §5.1, §5.3).

use super::checks::check_bucket;
use super::input::{opt_list, opt_str};
use super::model::TRAILS;
use super::resolve;
use crate::error::AwsError;
use crate::services::{JsonInput, RequestContext};
use crate::store::{Writer, WriterExt};
use serde_json::{json, Map, Value};

/// A JSON list of strings (anything else in it ignored); empty when absent.
pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidEventSelectorsException", message)
}

const DATA_TYPES: &[&str] = &[
    "AWS::S3::Object",
    "AWS::Lambda::Function",
    "AWS::DynamoDB::Table",
];
const EXCLUDABLE: &[&str] = &["kms.amazonaws.com", "rdsdata.amazonaws.com"];

fn data_value_ok(kind: &str, v: &str) -> bool {
    match kind {
        "AWS::S3::Object" => {
            v == "arn:aws:s3"
                || v == "arn:aws:s3:::"
                || v.strip_prefix("arn:aws:s3:::")
                    .is_some_and(|rest| rest.find('/').is_some_and(|i| i > 0))
        }
        "AWS::Lambda::Function" => v == "arn:aws:lambda" || v.starts_with("arn:aws:lambda:"),
        "AWS::DynamoDB::Table" => v == "arn:aws:dynamodb" || v.starts_with("arn:aws:dynamodb:"),
        _ => false,
    }
}

/// Validates basic selectors and returns them with every member present, as AWS echoes them.
fn basic(list: &[Value]) -> Result<Value, AwsError> {
    if list.is_empty() || list.len() > 5 {
        return Err(invalid("A trail can have 1 to 5 event selectors."));
    }
    let mut total = 0;
    let mut out = Vec::new();
    for s in list {
        let rw = s
            .get("ReadWriteType")
            .and_then(Value::as_str)
            .unwrap_or("All");
        if !["ReadOnly", "WriteOnly", "All"].contains(&rw) {
            return Err(invalid(format!("Invalid ReadWriteType: {rw}")));
        }
        let mgmt = s
            .get("IncludeManagementEvents")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let mut resources = Vec::new();
        for d in s
            .get("DataResources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let kind = d.get("Type").and_then(Value::as_str).unwrap_or("");
            if !DATA_TYPES.contains(&kind) {
                return Err(invalid(format!("Invalid DataResources.Type: {kind}")));
            }
            let values: Vec<String> = strings(d.get("Values"));
            for v in &values {
                if !data_value_ok(kind, v) {
                    return Err(invalid(format!(
                        "Value {v} for DataResources.Values is invalid."
                    )));
                }
            }
            total += values.len();
            resources.push(json!({"Type": kind, "Values": values}));
        }
        let excluded: Vec<String> = strings(s.get("ExcludeManagementEventSources"));
        if let Some(bad) = excluded.iter().find(|e| !EXCLUDABLE.contains(&e.as_str())) {
            return Err(invalid(format!(
                "Invalid ExcludeManagementEventSources value: {bad}"
            )));
        }
        out.push(json!({
            "ReadWriteType": rw,
            "IncludeManagementEvents": mgmt,
            "DataResources": resources,
            "ExcludeManagementEventSources": excluded,
        }));
    }
    if total > 250 {
        return Err(invalid(
            "A trail can have at most 250 data resource values across all event selectors.",
        ));
    }
    Ok(Value::Array(out))
}

const OPERATORS: &[&str] = &[
    "Equals",
    "StartsWith",
    "EndsWith",
    "NotEquals",
    "NotStartsWith",
    "NotEndsWith",
];
const FIELDS: &[&str] = &[
    "eventCategory",
    "readOnly",
    "eventSource",
    "eventName",
    "resources.type",
    "resources.ARN",
    "errorCode",
    "userIdentity.arn",
    "sessionCredentialFromConsole",
    "vpcEndpointId",
];

/// `AWS::<Service>::<Resource>`, the form of every data event resource type.
fn resource_type_ok(v: &str) -> bool {
    let p: Vec<&str> = v.split("::").collect();
    p.len() == 3
        && p[0] == "AWS"
        && p[1..]
            .iter()
            .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn advanced(list: &[Value]) -> Result<Value, AwsError> {
    let mut total = 0;
    let mut out = Vec::new();
    for s in list {
        let fields = s
            .get("FieldSelectors")
            .and_then(Value::as_array)
            .filter(|f| !f.is_empty())
            .ok_or_else(|| invalid("Each advanced event selector needs field selectors."))?;
        let mut shaped = Vec::new();
        let mut category = None;
        let mut names = Vec::new();
        for f in fields {
            let field = f.get("Field").and_then(Value::as_str).unwrap_or("");
            if !FIELDS.contains(&field) {
                return Err(invalid(format!("Invalid field: {field}")));
            }
            names.push(field.to_string());
            let mut m = Map::new();
            m.insert("Field".into(), json!(field));
            for op in OPERATORS {
                let values: Vec<String> = strings(f.get(*op));
                if !values.is_empty()
                    && *op != "Equals"
                    && ["eventCategory", "readOnly", "resources.type"].contains(&field)
                {
                    return Err(invalid(format!(
                        "The field {field} only supports the Equals operator."
                    )));
                }
                total += values.len();
                if field == "eventCategory" && *op == "Equals" {
                    for v in &values {
                        if !["Management", "Data", "NetworkActivity"].contains(&v.as_str()) {
                            return Err(invalid(format!("Invalid eventCategory value: {v}")));
                        }
                    }
                    category = values.first().cloned();
                }
                if field == "resources.type" {
                    if let Some(v) = values.iter().find(|v| !resource_type_ok(v)) {
                        return Err(invalid(format!("Invalid resources.type value: {v}")));
                    }
                }
                if field == "readOnly" && values.iter().any(|v| v != "true" && v != "false") {
                    return Err(invalid("readOnly accepts only true or false."));
                }
                m.insert((*op).into(), json!(values));
            }
            shaped.push(Value::Object(m));
        }
        match category.as_deref() {
            None => {
                return Err(invalid(
                    "Each advanced event selector needs an eventCategory field selector.",
                ))
            }
            Some("Management") => {
                if let Some(f) = names
                    .iter()
                    .find(|n| !["eventCategory", "readOnly", "eventSource"].contains(&n.as_str()))
                {
                    return Err(invalid(format!(
                        "The field {f} is not valid for management events."
                    )));
                }
            }
            Some("Data") if !names.iter().any(|n| n == "resources.type") => {
                return Err(invalid(
                    "A data event selector must include the resources.type field.",
                ));
            }
            _ => {}
        }
        let mut sel = Map::new();
        if let Some(n) = s.get("Name").and_then(Value::as_str) {
            sel.insert("Name".into(), json!(n));
        }
        sel.insert("FieldSelectors".into(), Value::Array(shaped));
        out.push(Value::Object(sel));
    }
    if total > 500 {
        return Err(invalid(
            "Advanced event selectors can have at most 500 condition values.",
        ));
    }
    Ok(Value::Array(out))
}

pub fn put_event_selectors(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let name = opt_str(input, "TrailName")?.unwrap_or_default();
    let mut t = resolve::resolve_for_change(w, ctx, &name)?;
    let basic_in = opt_list(input, "EventSelectors")?;
    let advanced_in = opt_list(input, "AdvancedEventSelectors")?;
    match (basic_in, advanced_in) {
        (Some(b), None) => {
            t.event_selectors = Some(basic(b)?);
            t.advanced_event_selectors = None;
        }
        (None, Some(a)) => {
            t.advanced_event_selectors = Some(advanced(a)?);
            t.event_selectors = None;
        }
        _ => {
            return Err(invalid(
                "You must specify either EventSelectors or AdvancedEventSelectors, but not both.",
            ))
        }
    }
    t.has_custom_event_selectors = true;
    w.put_json(TRAILS, &t.key(), &t)?;
    Ok(selectors_output(&t))
}

fn selectors_output(t: &super::model::Trail) -> Value {
    let mut m = Map::new();
    m.insert("TrailARN".into(), json!(t.arn()));
    if let Some(b) = &t.event_selectors {
        m.insert("EventSelectors".into(), b.clone());
    }
    if let Some(a) = &t.advanced_event_selectors {
        m.insert("AdvancedEventSelectors".into(), a.clone());
    }
    Value::Object(m)
}

pub fn get_event_selectors(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let name = opt_str(input, "TrailName")?.unwrap_or_default();
    let (t, _) = resolve::resolve(w, ctx, &name)?;
    Ok(selectors_output(&t))
}

/// Whether the trail logs management events of the given kind (read or write).
fn logs_management(t: &super::model::Trail, write: bool) -> bool {
    if let Some(list) = t.event_selectors.as_ref().and_then(Value::as_array) {
        return list.iter().any(|s| {
            s["IncludeManagementEvents"].as_bool().unwrap_or(true)
                && match s["ReadWriteType"].as_str().unwrap_or("All") {
                    "All" => true,
                    "WriteOnly" => write,
                    _ => !write,
                }
        });
    }
    t.advanced_event_selectors
        .as_ref()
        .and_then(Value::as_array)
        .is_some_and(|list| {
            list.iter().any(|s| {
                let fields = s["FieldSelectors"].as_array().cloned().unwrap_or_default();
                let mgmt = fields.iter().any(|f| {
                    f["Field"] == "eventCategory"
                        && f["Equals"]
                            .as_array()
                            .is_some_and(|v| v.iter().any(|x| x == "Management"))
                });
                let ro = fields.iter().find(|f| f["Field"] == "readOnly");
                mgmt && ro.is_none_or(|f| {
                    f["Equals"].as_array().is_some_and(|v| {
                        v.iter().any(|x| x == if write { "false" } else { "true" })
                    })
                })
            })
        })
}

pub fn put_insight_selectors(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let trail = opt_str(input, "TrailName")?;
    let store = opt_str(input, "EventDataStore")?;
    let name = match (trail, store) {
        (Some(t), None) => t,
        _ => {
            return Err(AwsError::client(
                "InvalidParameterCombinationException",
                "You must specify a TrailName, and not an EventDataStore.",
            ))
        }
    };
    let mut t = resolve::resolve_for_change(w, ctx, &name)?;
    let list = opt_list(input, "InsightSelectors")?
        .cloned()
        .unwrap_or_default();
    let bad = |m: String| AwsError::client("InvalidInsightSelectorsException", m);
    let mut seen = Vec::new();
    let mut shaped = Vec::new();
    for s in &list {
        let kind = s.get("InsightType").and_then(Value::as_str).unwrap_or("");
        if !["ApiCallRateInsight", "ApiErrorRateInsight"].contains(&kind) {
            return Err(bad(format!("Invalid InsightType: {kind}")));
        }
        if seen.contains(&kind) {
            return Err(bad(format!("Duplicate InsightType: {kind}")));
        }
        seen.push(kind);
        let ok = match kind {
            "ApiCallRateInsight" => logs_management(&t, true),
            _ => logs_management(&t, true) || logs_management(&t, false),
        };
        if !ok {
            return Err(bad(format!(
                "The trail must log management events for {kind}."
            )));
        }
        let mut m = Map::new();
        m.insert("InsightType".into(), json!(kind));
        if let Some(c) = s.get("EventCategories") {
            let ok = c.as_array().is_some_and(|a| {
                a.iter()
                    .all(|v| matches!(v.as_str(), Some("Management" | "Data")))
            });
            if !ok {
                return Err(bad(format!("Invalid EventCategories for {kind}.")));
            }
            m.insert("EventCategories".into(), c.clone());
        }
        shaped.push(Value::Object(m));
    }
    // Insights files go to the trail's bucket: it must still take them.
    check_bucket(w, ctx, &t)?;
    t.insight_selectors = Some(Value::Array(shaped.clone()));
    w.put_json(TRAILS, &t.key(), &t)?;
    Ok(json!({"TrailARN": t.arn(), "InsightSelectors": shaped}))
}

pub fn get_insight_selectors(
    w: &mut dyn Writer,
    ctx: &RequestContext,
    input: &JsonInput,
) -> Result<Value, AwsError> {
    let name = match (
        opt_str(input, "TrailName")?,
        opt_str(input, "EventDataStore")?,
    ) {
        (Some(t), None) => t,
        _ => {
            return Err(AwsError::client(
                "InvalidParameterCombinationException",
                "You must specify a TrailName, and not an EventDataStore.",
            ))
        }
    };
    let (t, _) = resolve::resolve(w, ctx, &name)?;
    match t.insight_selectors.as_ref().and_then(Value::as_array) {
        Some(list) if !list.is_empty() => Ok(json!({"TrailARN": t.arn(), "InsightSelectors": list})),
        _ => Err(AwsError::client(
            "InsightNotEnabledException",
            format!("Trail {} does not have Insights enabled. Enable Insights on the trail, and try again.", t.arn()),
        )),
    }
}

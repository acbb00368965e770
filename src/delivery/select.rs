//! Does an event reach a trail? (spec cloudtrail.md §3.8, §5.2): logging window, region,
//! account, then selectors.

use crate::services::cloudtrail::model::Trail;
use crate::services::cloudtrail::selectors::strings;
use serde::Deserialize;
use serde_json::Value;

/// What selection needs from a record.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event_source: String,
    pub event_name: String,
    pub aws_region: String,
    #[serde(default)]
    pub read_only: Option<bool>,
    #[serde(default)]
    pub management_event: Option<bool>,
    pub recipient_account_id: String,
    pub event_time: String,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub resources: Vec<Resource>,
    #[serde(default)]
    pub user_identity: Identity,
}

#[derive(Deserialize, Default)]
pub struct Identity {
    #[serde(default)]
    pub arn: Option<String>,
}

#[derive(Deserialize)]
pub struct Resource {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(rename = "ARN", default)]
    pub arn: String,
}

/// Services whose events are global: recorded in us-east-1, delivered once, and only to trails
/// that include global service events.
const GLOBAL_SOURCES: &[&str] = &[
    "organizations.amazonaws.com",
    "iam.amazonaws.com",
    "cloudfront.amazonaws.com",
];

impl Event {
    fn is_global(&self) -> bool {
        GLOBAL_SOURCES.contains(&self.event_source.as_str())
    }

    fn management(&self) -> bool {
        self.management_event.unwrap_or(true)
    }

    fn read_only(&self) -> bool {
        self.read_only.unwrap_or(false)
    }
}

/// Whether the trail's regions take the event.
pub fn region_covered(t: &Trail, e: &Event) -> bool {
    if e.is_global() {
        return t.include_global_service_events
            && e.aws_region == "us-east-1"
            && (t.is_multi_region || t.home_region == "us-east-1");
    }
    t.is_multi_region || t.home_region == e.aws_region
}

/// Whether the trail's selectors take the event.
pub fn selected(t: &Trail, e: &Event) -> bool {
    if let Some(list) = t
        .advanced_event_selectors
        .as_ref()
        .and_then(Value::as_array)
    {
        return list.iter().any(|s| advanced_matches(s, e));
    }
    let Some(list) = t.event_selectors.as_ref().and_then(Value::as_array) else {
        return e.management();
    };
    list.iter().any(|s| basic_matches(s, e))
}

fn basic_matches(s: &Value, e: &Event) -> bool {
    let rw = match s["ReadWriteType"].as_str().unwrap_or("All") {
        "ReadOnly" => e.read_only(),
        "WriteOnly" => !e.read_only(),
        _ => true,
    };
    if !rw {
        return false;
    }
    if e.management() {
        let excluded = s["ExcludeManagementEventSources"]
            .as_array()
            .is_some_and(|x| x.iter().any(|v| v.as_str() == Some(&e.event_source)));
        return s["IncludeManagementEvents"].as_bool().unwrap_or(true) && !excluded;
    }
    let Some(resources) = s["DataResources"].as_array() else {
        return false;
    };
    resources.iter().any(|d| {
        let kind = d["Type"].as_str().unwrap_or("");
        let values = d["Values"].as_array().cloned().unwrap_or_default();
        e.resources.iter().filter(|r| r.kind == kind).any(|r| {
            values.iter().filter_map(Value::as_str).any(|v| match kind {
                "AWS::S3::Object" => {
                    v == "arn:aws:s3" || v == "arn:aws:s3:::" || r.arn.starts_with(v)
                }
                "AWS::Lambda::Function" => v == "arn:aws:lambda" || r.arn == v,
                _ => v == "arn:aws:dynamodb" || r.arn.starts_with(v),
            })
        })
    })
}

/// The values of one field of the event (several for `resources.*`).
fn field(e: &Event, name: &str) -> Vec<String> {
    match name {
        "eventCategory" => vec![if e.management() { "Management" } else { "Data" }.into()],
        "readOnly" => vec![e.read_only().to_string()],
        "eventSource" => vec![e.event_source.clone()],
        "eventName" => vec![e.event_name.clone()],
        "errorCode" => e.error_code.clone().into_iter().collect(),
        "userIdentity.arn" => e.user_identity.arn.clone().into_iter().collect(),
        "resources.type" => e.resources.iter().map(|r| r.kind.clone()).collect(),
        "resources.ARN" => e.resources.iter().map(|r| r.arn.clone()).collect(),
        _ => Vec::new(),
    }
}

fn advanced_matches(s: &Value, e: &Event) -> bool {
    let Some(fields) = s["FieldSelectors"].as_array() else {
        return false;
    };
    fields.iter().all(|f| {
        let values = field(e, f["Field"].as_str().unwrap_or(""));
        let list = |op: &str| strings(f.get(op));
        // For multi-valued fields (resources), some value must satisfy every operator.
        let one = |v: &str| {
            let eq = list("Equals");
            let sw = list("StartsWith");
            let ew = list("EndsWith");
            (eq.is_empty() || eq.iter().any(|x| x == v))
                && (sw.is_empty() || sw.iter().any(|x| v.starts_with(x.as_str())))
                && (ew.is_empty() || ew.iter().any(|x| v.ends_with(x.as_str())))
                && !list("NotEquals").iter().any(|x| x == v)
                && !list("NotStartsWith")
                    .iter()
                    .any(|x| v.starts_with(x.as_str()))
                && !list("NotEndsWith").iter().any(|x| v.ends_with(x.as_str()))
        };
        values.iter().any(|v| one(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: Value) -> Event {
        serde_json::from_value(v).unwrap()
    }

    fn trail(v: Value) -> Trail {
        let mut base = json!({
            "name": "t", "owner": "111111111111", "home_region": "us-east-2", "s3_bucket_name": "b",
            "s3_key_prefix": null, "sns_topic_name": null, "include_global_service_events": true,
            "is_multi_region": false, "log_file_validation": false, "cloudwatch_logs_log_group_arn": null,
            "cloudwatch_logs_role_arn": null, "kms_key_id": null, "is_organization_trail": false,
            "has_custom_event_selectors": false,
            "event_selectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": [], "ExcludeManagementEventSources": []}],
            "advanced_event_selectors": null, "insight_selectors": null, "tags": [], "logging": true,
            "start_logging_time": null, "stop_logging_time": null, "created": 0
        });
        base.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn ev(source: &str, region: &str, mgmt: bool, ro: bool) -> Event {
        event(
            json!({"eventSource": source, "eventName": "X", "awsRegion": region, "readOnly": ro,
            "managementEvent": mgmt, "recipientAccountId": "111111111111", "eventTime": "2026-01-01T00:00:00Z",
            "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::bkt/logs/a.txt"}]}),
        )
    }

    #[test]
    fn regions_and_global_events() {
        let single = trail(json!({}));
        assert!(region_covered(
            &single,
            &ev("sts.amazonaws.com", "us-east-2", true, true)
        ));
        assert!(!region_covered(
            &single,
            &ev("sts.amazonaws.com", "eu-west-1", true, true)
        ));
        assert!(!region_covered(
            &single,
            &ev("organizations.amazonaws.com", "us-east-1", true, true)
        ));
        let multi = trail(json!({"is_multi_region": true}));
        assert!(region_covered(
            &multi,
            &ev("sts.amazonaws.com", "eu-west-1", true, true)
        ));
        assert!(region_covered(
            &multi,
            &ev("organizations.amazonaws.com", "us-east-1", true, true)
        ));
        let no_global =
            trail(json!({"home_region": "us-east-1", "include_global_service_events": false}));
        assert!(!region_covered(
            &no_global,
            &ev("organizations.amazonaws.com", "us-east-1", true, true)
        ));
        assert!(region_covered(
            &no_global,
            &ev("sts.amazonaws.com", "us-east-1", true, true)
        ));
    }

    #[test]
    fn basic_selectors() {
        let default = trail(json!({}));
        assert!(selected(
            &default,
            &ev("sts.amazonaws.com", "us-east-2", true, true)
        ));
        assert!(!selected(
            &default,
            &ev("s3.amazonaws.com", "us-east-2", false, false)
        ));
        let write_only = trail(
            json!({"event_selectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]}),
        );
        assert!(!selected(
            &write_only,
            &ev("sts.amazonaws.com", "us-east-2", true, true)
        ));
        assert!(selected(
            &write_only,
            &ev("sts.amazonaws.com", "us-east-2", true, false)
        ));
        let data = trail(
            json!({"event_selectors": [{"ReadWriteType": "All", "IncludeManagementEvents": false,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bkt/logs/"]}]}]}),
        );
        assert!(selected(
            &data,
            &ev("s3.amazonaws.com", "us-east-2", false, false)
        ));
        assert!(!selected(
            &data,
            &ev("sts.amazonaws.com", "us-east-2", true, false)
        ));
        let other = trail(
            json!({"event_selectors": [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::other/"]}]}]}),
        );
        assert!(!selected(
            &other,
            &ev("s3.amazonaws.com", "us-east-2", false, false)
        ));
        let excluded = trail(
            json!({"event_selectors": [{"ExcludeManagementEventSources": ["sts.amazonaws.com"]}]}),
        );
        assert!(!selected(
            &excluded,
            &ev("sts.amazonaws.com", "us-east-2", true, false)
        ));
    }

    #[test]
    fn advanced_selectors() {
        let t = trail(
            json!({"event_selectors": null, "advanced_event_selectors": [
            {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::bkt/"]}]},
            {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                {"Field": "readOnly", "Equals": ["false"]}]}]}),
        );
        assert!(selected(
            &t,
            &ev("s3.amazonaws.com", "us-east-2", false, true)
        ));
        assert!(selected(
            &t,
            &ev("sts.amazonaws.com", "us-east-2", true, false)
        ));
        assert!(!selected(
            &t,
            &ev("sts.amazonaws.com", "us-east-2", true, true)
        ));
    }
}

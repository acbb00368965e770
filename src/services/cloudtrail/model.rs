//! The stored trail and the shapes the API returns from it (spec cloudtrail.md §3.6, §4).

use super::names::trail_arn;
use crate::store::Table;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Trails by `<owner>\0<home region>\0<name>`: an owner's trails are one prefix scan.
pub const TRAILS: Table = Table("cloudtrail.trails");

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Tag {
    pub key: String,
    pub value: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Trail {
    pub name: String,
    pub owner: String,
    pub home_region: String,
    pub s3_bucket_name: String,
    pub s3_key_prefix: Option<String>,
    pub sns_topic_name: Option<String>,
    pub include_global_service_events: bool,
    pub is_multi_region: bool,
    pub log_file_validation: bool,
    pub cloudwatch_logs_log_group_arn: Option<String>,
    pub cloudwatch_logs_role_arn: Option<String>,
    pub kms_key_id: Option<String>,
    pub is_organization_trail: bool,
    /// The organization an organization trail was made for. It covers that organization only
    /// while its owner manages it with CloudTrail's trusted access on (see `resolve::effective`).
    #[serde(default)]
    pub org_id: Option<String>,
    /// When it became an organization trail (epoch milliseconds): trusted access turned off
    /// and on again since then does not make it one again.
    #[serde(default)]
    pub org_since: Option<i64>,
    pub has_custom_event_selectors: bool,
    /// Basic selectors as the API shapes them (None while advanced ones are in use).
    pub event_selectors: Option<Value>,
    pub advanced_event_selectors: Option<Value>,
    /// None: Insights never enabled; Some([]) after they were disabled.
    pub insight_selectors: Option<Value>,
    pub tags: Vec<Tag>,
    pub logging: bool,
    /// The journal ranges recorded while the trail was logging: (first sequence number, first
    /// one after it stopped). Delivery takes only events inside them.
    #[serde(default)]
    pub logging_periods: Vec<(u64, Option<u64>)>,
    /// Epoch milliseconds.
    pub start_logging_time: Option<i64>,
    pub stop_logging_time: Option<i64>,
    pub created: i64,
    /// A deleted trail whose last log files and final digests are still being delivered
    /// (`delivery::retired`); never set on a trail in `TRAILS`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

pub fn key(owner: &str, region: &str, name: &str) -> Vec<u8> {
    format!("{owner}\0{region}\0{name}").into_bytes()
}

pub fn owner_prefix(owner: &str) -> Vec<u8> {
    format!("{owner}\0").into_bytes()
}

pub fn default_event_selectors() -> Value {
    json!([{
        "ReadWriteType": "All",
        "IncludeManagementEvents": true,
        "DataResources": [],
        "ExcludeManagementEventSources": [],
    }])
}

impl Trail {
    pub fn arn(&self) -> String {
        trail_arn(&self.home_region, &self.owner, &self.name)
    }

    pub fn key(&self) -> Vec<u8> {
        key(&self.owner, &self.home_region, &self.name)
    }

    /// Where the journal consumers keep their state for this trail (delivery cursor, digest
    /// chains): its ARN; for a deleted trail still finishing, the ARN and its creation time,
    /// so a new trail of the same name starts with no history of the old one.
    pub fn state_key(&self) -> String {
        match self.retired {
            true => format!("{}#{}", self.arn(), self.created),
            false => self.arn(),
        }
    }

    pub fn sns_topic_arn(&self) -> Option<String> {
        self.sns_topic_name.as_ref().map(|t| {
            if t.starts_with("arn:") {
                t.clone()
            } else {
                format!("arn:aws:sns:{}:{}:{}", self.home_region, self.owner, t)
            }
        })
    }

    /// CreateTrail / UpdateTrail output: no HomeRegion, no Has* flags, no tags.
    pub fn write_output(&self) -> Value {
        self.members(false)
    }

    /// The `Trail` shape of GetTrail and DescribeTrails.
    pub fn shape(&self) -> Value {
        self.members(true)
    }

    /// The trail's members in model order; `full` adds what only the `Trail` shape has
    /// (HomeRegion, HasCustomEventSelectors, HasInsightSelectors). Unset members are left out.
    fn members(&self, full: bool) -> Value {
        let mut m = Map::new();
        m.insert("Name".into(), json!(self.name));
        m.insert("S3BucketName".into(), json!(self.s3_bucket_name));
        if let Some(p) = &self.s3_key_prefix {
            m.insert("S3KeyPrefix".into(), json!(p));
        }
        if let Some(t) = &self.sns_topic_name {
            m.insert("SnsTopicName".into(), json!(t));
            m.insert("SnsTopicARN".into(), json!(self.sns_topic_arn()));
        }
        m.insert(
            "IncludeGlobalServiceEvents".into(),
            json!(self.include_global_service_events),
        );
        m.insert("IsMultiRegionTrail".into(), json!(self.is_multi_region));
        if full {
            m.insert("HomeRegion".into(), json!(self.home_region));
        }
        m.insert("TrailARN".into(), json!(self.arn()));
        m.insert(
            "LogFileValidationEnabled".into(),
            json!(self.log_file_validation),
        );
        if let Some(v) = &self.cloudwatch_logs_log_group_arn {
            m.insert("CloudWatchLogsLogGroupArn".into(), json!(v));
        }
        if let Some(v) = &self.cloudwatch_logs_role_arn {
            m.insert("CloudWatchLogsRoleArn".into(), json!(v));
        }
        if let Some(v) = &self.kms_key_id {
            m.insert("KmsKeyId".into(), json!(v));
        }
        if full {
            m.insert(
                "HasCustomEventSelectors".into(),
                json!(self.has_custom_event_selectors),
            );
            m.insert(
                "HasInsightSelectors".into(),
                json!(self
                    .insight_selectors
                    .as_ref()
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())),
            );
        }
        m.insert(
            "IsOrganizationTrail".into(),
            json!(self.is_organization_trail),
        );
        Value::Object(m)
    }
}

/// Delivery outcomes per (trail ARN, region), written by the delivery consumers.
pub const STATUS: Table = Table("cloudtrail.status");

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct DeliveryStatus {
    /// Epoch milliseconds of the last successful log file delivery.
    pub latest_delivery_time: Option<i64>,
    pub latest_delivery_error: Option<String>,
    pub latest_delivery_attempt_time: Option<i64>,
    pub latest_delivery_attempt_succeeded: Option<i64>,
    pub latest_digest_delivery_time: Option<i64>,
    pub latest_digest_delivery_error: Option<String>,
}

pub fn status_key(trail_arn: &str, region: &str) -> Vec<u8> {
    format!("{trail_arn}\0{region}").into_bytes()
}

/// Every region's status row of one trail.
pub fn status_prefix(trail_arn: &str) -> Vec<u8> {
    format!("{trail_arn}\0").into_bytes()
}

impl Trail {
    /// Whether the journal record `seq` was recorded while the trail was logging.
    pub fn logging_at(&self, seq: u64) -> bool {
        self.logging_periods
            .iter()
            .any(|(from, until)| seq >= *from && until.is_none_or(|u| seq < u))
    }
}

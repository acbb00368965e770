//! One CloudTrail record from a call: the fields, their order and formats of the CloudTrail
//! record reference (spec cloudtrail.md §6).

use crate::auth::{Principal, PrincipalKind};
use crate::error::AwsError;
use crate::services::{iso8601, RequestContext};
use serde_json::{json, Map, Value};

/// What the record says about the resources a call touched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub kind: String,
    pub arn: String,
    pub account: Option<String>,
}

/// How a service describes one of its calls to the audit room.
#[derive(Clone, Debug)]
pub struct CallInfo {
    /// `cloudtrail.amazonaws.com`, `s3.amazonaws.com`, ...
    pub event_source: &'static str,
    pub event_name: String,
    /// The region the call was made to; `us-east-1` for global services.
    pub region: String,
    pub read_only: bool,
    /// False for data events (S3 object-level calls).
    pub management: bool,
    pub request_parameters: Option<Value>,
    pub resources: Vec<Resource>,
    /// The account that receives the record (empty for an anonymous caller).
    pub recipient_account: String,
    /// A second account that receives its own copy (S3: the bucket owner, when not the
    /// caller); both copies then share a `sharedEventID`.
    pub shared_with: Option<String>,
    pub additional_event_data: Option<Value>,
    /// What LookupEvents shows as the call's `Resources`: (ResourceType, ResourceName).
    pub lookup_resources: Vec<(String, String)>,
}

pub fn user_identity(p: &Principal) -> Value {
    match &p.kind {
        PrincipalKind::Root => json!({
            "type": "Root",
            "principalId": p.account,
            "arn": p.arn(),
            "accountId": p.account,
            "accessKeyId": p.access_key_id,
        }),
        PrincipalKind::User { name, .. } => json!({
            "type": "IAMUser",
            "principalId": p.user_id(),
            "arn": p.arn(),
            "accountId": p.account,
            "accessKeyId": p.access_key_id,
            "userName": name,
        }),
        PrincipalKind::AssumedRole {
            role_name,
            role_id,
            issued_at,
            ..
        } => json!({
            "type": "AssumedRole",
            "principalId": p.user_id(),
            "arn": p.arn(),
            "accountId": p.account,
            "accessKeyId": p.access_key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": p.role_arn(),
                    "accountId": p.account,
                    "userName": role_name,
                },
                "webIdFederationData": {},
                "attributes": {
                    "creationDate": chrono::DateTime::from_timestamp(*issued_at, 0).map(iso8601),
                    "mfaAuthenticated": "false",
                },
            },
        }),
        PrincipalKind::Service { service } => json!({
            "type": "AWSService",
            "invokedBy": service,
        }),
        PrincipalKind::Anonymous => json!({
            "type": "AWSAccount",
            "principalId": "",
            "accountId": "anonymous",
        }),
    }
}

/// The name LookupEvents shows as `Username`.
pub fn username(p: &Principal) -> Option<String> {
    match &p.kind {
        PrincipalKind::Root => Some("root".into()),
        PrincipalKind::User { name, .. } => Some(name.clone()),
        PrincipalKind::AssumedRole { session_name, .. } => Some(session_name.clone()),
        PrincipalKind::Service { service } => Some(service.clone()),
        PrincipalKind::Anonymous => None,
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Caps a parameters object at 100 KB as CloudTrail does: an oversized value is replaced by a
/// note rather than cut into invalid JSON.
fn capped(v: Option<Value>, limit: usize) -> Value {
    match v {
        None => Value::Null,
        Some(v) => {
            let size = serde_json::to_vec(&v).map(|b| b.len()).unwrap_or(0);
            if size > limit {
                json!({ "truncated": true, "originalSize": size })
            } else {
                v
            }
        }
    }
}

/// Builds the record. `response_elements` is already shaped by the service (secrets removed).
pub fn build(
    ctx: &RequestContext,
    info: &CallInfo,
    result: Result<Option<Value>, &AwsError>,
    event_time: chrono::DateTime<chrono::Utc>,
    recipient: &str,
    shared_event_id: Option<&str>,
) -> Value {
    let mut r = Map::new();
    r.insert("eventVersion".into(), json!("1.08"));
    r.insert("userIdentity".into(), user_identity(&ctx.principal));
    r.insert("eventTime".into(), json!(iso8601(event_time)));
    r.insert("eventSource".into(), json!(info.event_source));
    r.insert("eventName".into(), json!(info.event_name));
    r.insert("awsRegion".into(), json!(info.region));
    // Calls an AWS service makes on its own show the service's name as their source.
    let service = match &ctx.principal.kind {
        PrincipalKind::Service { service } => Some(service.as_str()),
        _ => None,
    };
    r.insert(
        "sourceIPAddress".into(),
        json!(service
            .map(str::to_string)
            .unwrap_or_else(|| ctx.source_ip.to_string())),
    );
    if !ctx.user_agent.is_empty() {
        r.insert("userAgent".into(), json!(truncate(&ctx.user_agent, 1024)));
    }
    let response = match result {
        Ok(resp) => resp,
        Err(e) => {
            r.insert("errorCode".into(), json!(truncate(&e.code, 1024)));
            r.insert("errorMessage".into(), json!(truncate(&e.message, 1024)));
            None
        }
    };
    r.insert(
        "requestParameters".into(),
        capped(info.request_parameters.clone(), 100 * 1024),
    );
    r.insert("responseElements".into(), capped(response, 100 * 1024));
    if let Some(extra) = &info.additional_event_data {
        r.insert("additionalEventData".into(), extra.clone());
    }
    r.insert("requestID".into(), json!(ctx.request_id));
    r.insert("eventID".into(), json!(crate::ids::uuid_v4().to_string()));
    r.insert("readOnly".into(), json!(info.read_only));
    if !info.resources.is_empty() {
        let resources: Vec<Value> = info
            .resources
            .iter()
            .map(|res| {
                let mut m = Map::new();
                if let Some(a) = &res.account {
                    m.insert("accountId".into(), json!(a));
                }
                m.insert("type".into(), json!(res.kind));
                m.insert("ARN".into(), json!(res.arn));
                Value::Object(m)
            })
            .collect();
        r.insert("resources".into(), Value::Array(resources));
    }
    r.insert("eventType".into(), json!("AwsApiCall"));
    r.insert("managementEvent".into(), json!(info.management));
    r.insert("recipientAccountId".into(), json!(recipient));
    if let Some(id) = shared_event_id {
        r.insert("sharedEventID".into(), json!(id));
    }
    r.insert(
        "eventCategory".into(),
        json!(if info.management {
            "Management"
        } else {
            "Data"
        }),
    );
    Value::Object(r)
}

/// `RoleSessionName` → `roleSessionName`, `DurationSeconds` → `durationSeconds`, as CloudTrail
/// names request members; nested objects and lists of objects too.
pub fn lower_camel(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (lower_first(k), lower_camel(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(lower_camel).collect()),
        other => other.clone(),
    }
}

fn lower_first(k: &str) -> String {
    // Acronym-led names: ARN → aRN is not what AWS writes; CloudTrail writes `trailARN`,
    // `s3BucketName`, `kmsKeyId`. Lower the leading run of capitals except the last one
    // before a lowercase letter.
    let chars: Vec<char> = k.chars().collect();
    let mut out = String::with_capacity(k.len());
    let mut i = 0;
    while i < chars.len() && chars[i].is_uppercase() {
        let next_is_lower = chars.get(i + 1).is_some_and(|c| c.is_lowercase());
        if i > 0 && next_is_lower {
            break;
        }
        out.extend(chars[i].to_lowercase());
        i += 1;
    }
    out.extend(&chars[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_camel_names() {
        assert_eq!(lower_first("RoleSessionName"), "roleSessionName");
        assert_eq!(lower_first("S3BucketName"), "s3BucketName");
        assert_eq!(lower_first("KMSKeyId"), "kmsKeyId");
        assert_eq!(lower_first("TrailARN"), "trailARN");
        assert_eq!(lower_first("ARN"), "arn");
        assert_eq!(lower_first("name"), "name");
        assert_eq!(
            lower_camel(&json!({"Tags": [{"Key": "k", "Value": "v"}], "IsMultiRegionTrail": true})),
            json!({"tags": [{"key": "k", "value": "v"}], "isMultiRegionTrail": true})
        );
    }

    #[test]
    fn record_fields_in_order_and_errors() {
        let ctx = RequestContext {
            request_id: "rid".into(),
            principal: Principal {
                account: "111111111111".into(),
                kind: PrincipalKind::User {
                    name: "admin".into(),
                    path: "/".into(),
                    id: "AIDAX".into(),
                },
                access_key_id: "AKIAX".into(),
            },
            region: "us-east-2".into(),
            source_ip: "127.0.0.1".parse().unwrap(),
            user_agent: "aws-cli/1".into(),
            time: chrono::Utc::now(),
            secure: false,
        };
        let info = CallInfo {
            event_source: "cloudtrail.amazonaws.com",
            event_name: "CreateTrail".into(),
            region: "us-east-2".into(),
            read_only: false,
            management: true,
            request_parameters: Some(json!({"name": "t"})),
            resources: vec![],
            recipient_account: "111111111111".into(),
            shared_with: None,
            additional_event_data: None,
            lookup_resources: vec![],
        };
        let e = AwsError::client("TrailNotFoundException", "Unknown trail");
        let rec = build(
            &ctx,
            &info,
            Err(&e),
            chrono::Utc::now(),
            "111111111111",
            None,
        );
        let keys: Vec<&str> = rec
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "eventVersion",
                "userIdentity",
                "eventTime",
                "eventSource",
                "eventName",
                "awsRegion",
                "sourceIPAddress",
                "userAgent",
                "errorCode",
                "errorMessage",
                "requestParameters",
                "responseElements",
                "requestID",
                "eventID",
                "readOnly",
                "eventType",
                "managementEvent",
                "recipientAccountId",
                "eventCategory"
            ]
        );
        assert_eq!(rec["responseElements"], Value::Null);
        assert_eq!(rec["userIdentity"]["userName"], "admin");
        assert!(rec["eventTime"].as_str().unwrap().ends_with('Z'));
    }
}

//! One CloudTrail record from a call: the fields, their order and formats of the CloudTrail
//! record reference (spec cloudtrail.md §6).

use super::json::Object;
use crate::auth::{Principal, PrincipalKind};
use crate::error::AwsError;
use crate::services::RequestContext;
use serde_json::Value;

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

/// Which copy of a call's record this is: the account it is for, its own event id, and the id
/// every copy shares when there are several (`sharedEventID`).
#[derive(Clone, Copy)]
pub struct RecordCopy<'a> {
    pub recipient: &'a str,
    pub event_id: &'a str,
    pub shared_event_id: Option<&'a str>,
}

/// LookupEvents' `Username` of the record `user_identity` writes for `p`: what event history
/// would read back from it (`history::username`).
pub fn lookup_username(p: &Principal) -> Option<String> {
    match &p.kind {
        PrincipalKind::Root => Some("root".into()),
        PrincipalKind::User { name, .. } => Some(name.clone()),
        PrincipalKind::AssumedRole { .. } | PrincipalKind::FederatedUser { .. } => {
            p.arn().rsplit('/').next().map(str::to_string)
        }
        PrincipalKind::WebIdentityUser { subject, .. }
        | PrincipalKind::SamlUser { subject, .. } => Some(subject.clone()),
        PrincipalKind::Service { .. } | PrincipalKind::Anonymous => None,
    }
}

/// The `accessKeyId` the record `user_identity` writes for `p`, when there is one.
pub fn lookup_access_key(p: &Principal) -> Option<&str> {
    match &p.kind {
        PrincipalKind::Root
        | PrincipalKind::User { .. }
        | PrincipalKind::AssumedRole { .. }
        | PrincipalKind::FederatedUser { .. } => {
            Some(p.access_key_id.as_str()).filter(|k| !k.is_empty())
        }
        PrincipalKind::Service { .. }
        | PrincipalKind::Anonymous
        | PrincipalKind::WebIdentityUser { .. }
        | PrincipalKind::SamlUser { .. } => None,
    }
}

/// Writes the `userIdentity` object of a call by `p`.
fn user_identity(o: &mut Object, p: &Principal) {
    match &p.kind {
        PrincipalKind::Root => {
            o.str("type", "Root");
            o.str("principalId", &p.account);
            o.str("arn", &p.arn());
            o.str("accountId", &p.account);
            o.str("accessKeyId", &p.access_key_id);
        }
        PrincipalKind::User { name, .. } => {
            o.str("type", "IAMUser");
            o.str("principalId", &p.user_id());
            o.str("arn", &p.arn());
            o.str("accountId", &p.account);
            o.str("accessKeyId", &p.access_key_id);
            o.str("userName", name);
        }
        PrincipalKind::AssumedRole {
            role_name,
            role_id,
            issued_at,
            ..
        } => {
            o.str("type", "AssumedRole");
            o.str("principalId", &p.user_id());
            o.str("arn", &p.arn());
            o.str("accountId", &p.account);
            o.str("accessKeyId", &p.access_key_id);
            o.object("sessionContext", |c| {
                c.object("sessionIssuer", |i| {
                    i.str("type", "Role");
                    i.str("principalId", role_id);
                    match p.role_arn() {
                        Some(arn) => i.str("arn", &arn),
                        None => i.null("arn"),
                    }
                    i.str("accountId", &p.account);
                    i.str("userName", role_name);
                });
                // A session of a web identity names its OIDC provider; others say nothing.
                let federation = p.session.as_ref().and_then(|s| s.federation.as_ref());
                c.object("webIdFederationData", |w| {
                    if let Some(crate::auth::principal::Federation::WebIdentity { provider }) =
                        federation
                    {
                        w.str("federatedProvider", provider);
                        w.object("attributes", |_| {});
                    }
                });
                session_attributes(c, p, *issued_at);
                if let Some(id) = p.session.as_ref().and_then(|s| s.source_identity.as_ref()) {
                    c.str("sourceIdentity", id);
                }
            });
        }
        PrincipalKind::FederatedUser { user_name, .. } => {
            o.str("type", "FederatedUser");
            o.str("principalId", &p.user_id());
            o.str("arn", &p.arn());
            o.str("accountId", &p.account);
            o.str("accessKeyId", &p.access_key_id);
            o.object("sessionContext", |c| {
                c.object("sessionIssuer", |i| {
                    i.str("type", "IAMUser");
                    i.str(
                        "arn",
                        &format!("arn:aws:iam::{}:user/{}", p.account, user_name),
                    );
                    i.str("accountId", &p.account);
                    i.str("userName", user_name);
                });
                let issued = p.session.as_ref().and_then(|s| s.window).map(|w| w.0);
                session_attributes(c, p, issued.unwrap_or_default());
            });
        }
        PrincipalKind::Service { service } => {
            o.str("type", "AWSService");
            o.str("invokedBy", service);
        }
        PrincipalKind::Anonymous => {
            o.str("type", "AWSAccount");
            o.str("principalId", "");
            o.str("accountId", "anonymous");
        }
        PrincipalKind::WebIdentityUser {
            provider, subject, ..
        } => {
            o.str("type", "WebIdentityUser");
            o.str("principalId", &p.user_id());
            o.str("userName", subject);
            o.str("identityProvider", provider);
        }
        PrincipalKind::SamlUser {
            name_qualifier,
            subject,
            ..
        } => {
            o.str("type", "SAMLUser");
            o.str("principalId", &p.user_id());
            o.str("userName", subject);
            o.str("identityProvider", name_qualifier);
        }
    }
}

/// A session's `attributes`: when it was made and whether MFA was presented.
fn session_attributes(c: &mut Object, p: &Principal, issued_at: i64) {
    let mfa = p.session.as_ref().is_some_and(|s| s.mfa);
    c.object("attributes", |a| {
        match chrono::DateTime::from_timestamp(issued_at, 0) {
            Some(t) => a.time("creationDate", t),
            None => a.null("creationDate"),
        }
        a.str("mfaAuthenticated", if mfa { "true" } else { "false" });
    });
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The most a record shows of a call's parameters or response: larger objects are replaced by
/// a note, as CloudTrail does, rather than cut into invalid JSON.
pub(super) const PARAMETERS_LIMIT: usize = 100 * 1024;

/// Writes the record of a call to `out`: compact JSON, fields in the order of the CloudTrail
/// record reference. `response` is already shaped by the service (secrets removed).
///
/// Every recorded call runs this on its request path, so it writes straight to bytes instead
/// of building a `serde_json::Value` first (a third of the cost of recording a read-only call).
pub fn write(
    out: &mut Vec<u8>,
    ctx: &RequestContext,
    info: &CallInfo,
    result: Result<Option<&Value>, &AwsError>,
    event_time: chrono::DateTime<chrono::Utc>,
    copy: RecordCopy<'_>,
) {
    let RecordCopy {
        recipient,
        event_id,
        shared_event_id,
    } = copy;
    let start = out.len();
    let mut r = Object::open(out);
    r.str("eventVersion", "1.08");
    r.object("userIdentity", |o| user_identity(o, &ctx.principal));
    r.time("eventTime", event_time);
    r.str("eventSource", info.event_source);
    r.str("eventName", &info.event_name);
    r.str("awsRegion", &info.region);
    // Calls an AWS service makes on its own show the service's name as their source.
    match &ctx.principal.kind {
        PrincipalKind::Service { service } => r.str("sourceIPAddress", service),
        _ => r.ip("sourceIPAddress", &ctx.source_ip),
    }
    if !ctx.user_agent.is_empty() {
        r.str("userAgent", truncate(&ctx.user_agent, 1024));
    }
    let response = match result {
        Ok(resp) => resp,
        Err(e) => {
            r.str("errorCode", truncate(&e.code, 1024));
            r.str("errorMessage", truncate(&e.message, 1024));
            None
        }
    };
    r.capped("requestParameters", info.request_parameters.as_ref());
    r.capped("responseElements", response);
    if let Some(extra) = &info.additional_event_data {
        r.value("additionalEventData", extra);
    }
    r.str("requestID", &ctx.request_id);
    r.str("eventID", event_id);
    r.bool("readOnly", info.read_only);
    if !info.resources.is_empty() {
        r.array("resources", |a| {
            for res in &info.resources {
                a.object(|m| {
                    if let Some(account) = &res.account {
                        m.str("accountId", account);
                    }
                    m.str("type", &res.kind);
                    m.str("ARN", &res.arn);
                });
            }
        });
    }
    r.str("eventType", "AwsApiCall");
    r.bool("managementEvent", info.management);
    r.str("recipientAccountId", recipient);
    if let Some(id) = shared_event_id {
        r.str("sharedEventID", id);
    }
    r.str(
        "eventCategory",
        if info.management {
            "Management"
        } else {
            "Data"
        },
    );
    r.close();
    // A call to a region of another partition records its ARNs in that partition.
    let partition = crate::arn::partition(&ctx.region);
    if partition != "aws" {
        let shown = crate::arn::localize(&out[start..], partition).into_owned();
        out.truncate(start);
        out.extend_from_slice(&shown);
    }
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
    use serde_json::json;

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
                session: None,
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
        let mut out = Vec::new();
        write(
            &mut out,
            &ctx,
            &info,
            Err(&e),
            chrono::Utc::now(),
            RecordCopy {
                recipient: "111111111111",
                event_id: "0f1e2d3c-0000-4000-8000-000000000001",
                shared_event_id: None,
            },
        );
        let rec: Value = serde_json::from_slice(&out).unwrap();
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

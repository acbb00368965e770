//! Bucket configurations that S3 keeps and returns: CORS, website, notifications, server access
//! logging and lifecycle. Each is validated as AWS validates it and stored on the bucket; what
//! they would make happen (CORS answers, website hosting, sending notifications, delivering
//! access logs, applying lifecycle rules) is not done here; lifecycle rules are applied by
//! `lifecycle`.
//!
//! Website and lifecycle configurations are stored as their validated element trees
//! ([`Node`]), returned as put; `lifecycle` reads its trees back into typed rules (website
//! hosting, to come, would do the same).

use super::authorize::{self, Target};
use super::xml::{Element, Writer as XmlWriter};
use super::{
    existing_bucket, get_bucket, invalid_argument, invalid_request, malformed_xml, Bucket, Call,
    BUCKETS,
};
use crate::error::AwsError;
use crate::store::{Reader, Writer, WriterExt};
use serde::{Deserialize, Serialize};

/// An XML element as stored: name, text, `xsi:type` (grantees), children.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xsi_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Node {
    pub fn of(e: &Element) -> Node {
        Node {
            name: e.name.clone(),
            text: if e.children.is_empty() {
                e.text.trim().to_string()
            } else {
                String::new()
            },
            xsi_type: e.attribute("type").map(str::to_string),
            children: e.children.iter().map(Node::of).collect(),
        }
    }

    pub fn write(&self, w: &mut XmlWriter) {
        if let Some(t) = &self.xsi_type {
            let attrs = format!(
                "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"{}\"",
                quick_xml::escape::escape(t.as_str())
            );
            w.open_with(&self.name, &attrs);
        } else {
            w.open(&self.name);
        }
        if self.children.is_empty() {
            w.elem_text(&self.text);
        }
        for c in &self.children {
            c.write(w);
        }
        w.close(&self.name);
    }
}

fn document(root: &str, children: &[Node]) -> String {
    let mut w = XmlWriter::document(root);
    for c in children {
        c.write(&mut w);
    }
    w.finish(root)
}

fn root(doc: &Element, name: &str) -> Result<(), AwsError> {
    if doc.name == name {
        Ok(())
    } else {
        Err(malformed_xml())
    }
}

fn text<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    e.child_text(name)
}

fn load(w: &dyn Reader, call: &Call, bucket: &str, action: &str) -> Result<Bucket, AwsError> {
    let b = existing_bucket(w, bucket)?;
    authorize::check(w, call, action, &Target::bucket(&b), &[])?;
    Ok(b)
}

fn save(w: &mut dyn Writer, b: &Bucket) -> Result<(), AwsError> {
    w.put_json(BUCKETS, b.name.as_bytes(), b)?;
    Ok(())
}

// --- CORS ------------------------------------------------------------------------------------

pub const MAX_CORS_RULES: usize = 100;
pub const CORS_METHODS: &[&str] = &["GET", "PUT", "HEAD", "POST", "DELETE"];

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i64>,
}

pub fn parse_cors(doc: &Element) -> Result<Vec<CorsRule>, AwsError> {
    root(doc, "CORSConfiguration")?;
    let rules: Vec<_> = doc.children("CORSRule").collect();
    if rules.is_empty() || rules.len() > MAX_CORS_RULES {
        return Err(malformed_xml());
    }
    let all = |e: &Element, name: &str| -> Vec<String> {
        e.children(name)
            .map(|c| c.text.trim().to_string())
            .collect()
    };
    let one_wildcard = |kind: &str, values: &[String]| -> Result<(), AwsError> {
        match values.iter().find(|v| v.matches('*').count() > 1) {
            Some(v) => Err(invalid_request(format!(
                "{kind} \"{v}\" can not have more than one wildcard."
            ))),
            None => Ok(()),
        }
    };
    let mut out = Vec::new();
    for r in rules {
        let rule = CorsRule {
            id: text(r, "ID").map(str::to_string),
            allowed_headers: all(r, "AllowedHeader"),
            allowed_methods: all(r, "AllowedMethod"),
            allowed_origins: all(r, "AllowedOrigin"),
            expose_headers: all(r, "ExposeHeader"),
            max_age_seconds: match text(r, "MaxAgeSeconds") {
                None => None,
                Some(v) => Some(v.parse().map_err(|_| malformed_xml())?),
            },
        };
        if rule.allowed_methods.is_empty() || rule.allowed_origins.is_empty() {
            return Err(malformed_xml());
        }
        if rule.id.as_ref().is_some_and(|id| id.chars().count() > 255) {
            return Err(invalid_argument(
                "ID length should not exceed allowed limit of 255",
                "ID",
                rule.id.as_deref().unwrap_or(""),
            ));
        }
        if let Some(m) = rule
            .allowed_methods
            .iter()
            .find(|m| !CORS_METHODS.contains(&m.as_str()))
        {
            return Err(invalid_request(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
            )));
        }
        one_wildcard("AllowedOrigin", &rule.allowed_origins)?;
        one_wildcard("AllowedHeader", &rule.allowed_headers)?;
        out.push(rule);
    }
    Ok(out)
}

pub fn render_cors(rules: &[CorsRule]) -> String {
    let mut w = XmlWriter::document("CORSConfiguration");
    for r in rules {
        w.open("CORSRule");
        w.opt("ID", r.id.as_deref());
        for h in &r.allowed_headers {
            w.elem("AllowedHeader", h);
        }
        for m in &r.allowed_methods {
            w.elem("AllowedMethod", m);
        }
        for o in &r.allowed_origins {
            w.elem("AllowedOrigin", o);
        }
        for h in &r.expose_headers {
            w.elem("ExposeHeader", h);
        }
        w.opt(
            "MaxAgeSeconds",
            r.max_age_seconds.map(|s| s.to_string()).as_deref(),
        );
        w.close("CORSRule");
    }
    w.finish("CORSConfiguration")
}

pub fn put_cors(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    doc: &Element,
) -> Result<(), AwsError> {
    let mut b = load(w, call, bucket, "s3:PutBucketCORS")?;
    b.config.cors = Some(parse_cors(doc)?);
    save(w, &b)
}

pub fn get_cors(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = load(r, call, bucket, "s3:GetBucketCORS")?;
    b.config.cors.as_deref().map(render_cors).ok_or_else(|| {
        AwsError::new(
            404,
            "NoSuchCORSConfiguration",
            "The CORS configuration does not exist",
        )
        .with("BucketName", bucket)
    })
}

pub fn delete_cors(w: &mut dyn Writer, call: &Call, bucket: &str) -> Result<(), AwsError> {
    let mut b = load(w, call, bucket, "s3:PutBucketCORS")?;
    if b.config.cors.take().is_some() {
        save(w, &b)?;
    }
    Ok(())
}

// --- website ---------------------------------------------------------------------------------

fn website_invalid(message: &str) -> AwsError {
    AwsError::new(400, "InvalidArgument", message)
}

fn check_protocol(e: &Element) -> Result<(), AwsError> {
    match text(e, "Protocol") {
        None | Some("http") | Some("https") => Ok(()),
        Some(p) => Err(invalid_argument(
            "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.",
            "Protocol",
            p,
        )),
    }
}

pub fn parse_website(doc: &Element) -> Result<Node, AwsError> {
    root(doc, "WebsiteConfiguration")?;
    let redirect_all = doc.child("RedirectAllRequestsTo");
    let index = doc.child("IndexDocument");
    if let Some(r) = redirect_all {
        if index.is_some()
            || doc.child("ErrorDocument").is_some()
            || doc.child("RoutingRules").is_some()
        {
            return Err(website_invalid(
                "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
            ));
        }
        if text(r, "HostName").is_none_or(str::is_empty) {
            return Err(malformed_xml());
        }
        check_protocol(r)?;
        return Ok(Node::of(doc));
    }
    let Some(index) = index else {
        return Err(website_invalid(
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
        ));
    };
    match text(index, "Suffix") {
        Some(s) if !s.is_empty() && !s.contains('/') => {}
        _ => {
            return Err(website_invalid(
                "The IndexDocument Suffix is not well formed",
            ))
        }
    }
    if let Some(e) = doc.child("ErrorDocument") {
        if text(e, "Key").is_none_or(str::is_empty) {
            return Err(malformed_xml());
        }
    }
    if let Some(rules) = doc.child("RoutingRules") {
        let rules: Vec<_> = rules.children("RoutingRule").collect();
        if rules.is_empty() {
            return Err(malformed_xml());
        }
        if rules.len() > 50 {
            return Err(website_invalid(
                "The number of routing rules must not exceed allowed limit of 50 rules.",
            ));
        }
        for r in rules {
            let redirect = r.child("Redirect").ok_or_else(malformed_xml)?;
            if redirect.children.is_empty() {
                return Err(website_invalid(
                    "Redirect must contain at least one of the following elements: HostName, HttpRedirectCode, Protocol, ReplaceKeyPrefixWith, ReplaceKeyWith",
                ));
            }
            if redirect.child("ReplaceKeyWith").is_some()
                && redirect.child("ReplaceKeyPrefixWith").is_some()
            {
                return Err(website_invalid(
                    "You can only define ReplaceKeyPrefix or ReplaceKey but not both.",
                ));
            }
            check_protocol(redirect)?;
            if let Some(code) = text(redirect, "HttpRedirectCode") {
                let ok = code
                    .parse::<u16>()
                    .is_ok_and(|c| (300..400).contains(&c) && c != 300);
                if !ok {
                    return Err(invalid_argument(
                        "The provided HTTP redirect code is not valid. It should be a string containing a number.",
                        "HttpRedirectCode",
                        code,
                    ));
                }
            }
            if let Some(c) = r.child("Condition") {
                if let Some(code) = text(c, "HttpErrorCodeReturnedEquals") {
                    let ok = code.parse::<u16>().is_ok_and(|c| (400..600).contains(&c));
                    if !ok {
                        return Err(invalid_argument(
                            "The provided HTTP error code is not valid. Valid codes are 4XX or 5XX.",
                            "HttpErrorCodeReturnedEquals",
                            code,
                        ));
                    }
                }
            }
        }
    }
    Ok(Node::of(doc))
}

pub fn put_website(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    doc: &Element,
) -> Result<(), AwsError> {
    let mut b = load(w, call, bucket, "s3:PutBucketWebsite")?;
    b.config.website = Some(parse_website(doc)?);
    save(w, &b)
}

pub fn get_website(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = load(r, call, bucket, "s3:GetBucketWebsite")?;
    b.config
        .website
        .as_ref()
        .map(|n| document("WebsiteConfiguration", &n.children))
        .ok_or_else(|| {
            AwsError::new(
                404,
                "NoSuchWebsiteConfiguration",
                "The specified bucket does not have a website configuration",
            )
            .with("BucketName", bucket)
        })
}

pub fn delete_website(w: &mut dyn Writer, call: &Call, bucket: &str) -> Result<(), AwsError> {
    let mut b = load(w, call, bucket, "s3:DeleteBucketWebsite")?;
    if b.config.website.take().is_some() {
        save(w, &b)?;
    }
    Ok(())
}

// --- notifications ---------------------------------------------------------------------------

/// What a notification configuration may hold here: Cairn has no SNS, SQS or Lambda, so every
/// topic, queue or function destination is one that does not exist, and only EventBridge
/// delivery can be configured.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    #[serde(default)]
    pub event_bridge: bool,
}

const ARGUMENT_NAMES: [&str; 10] = [
    "ArgumentName1",
    "ArgumentName2",
    "ArgumentName3",
    "ArgumentName4",
    "ArgumentName5",
    "ArgumentName6",
    "ArgumentName7",
    "ArgumentName8",
    "ArgumentName9",
    "ArgumentName10",
];
const ARGUMENT_VALUES: [&str; 10] = [
    "ArgumentValue1",
    "ArgumentValue2",
    "ArgumentValue3",
    "ArgumentValue4",
    "ArgumentValue5",
    "ArgumentValue6",
    "ArgumentValue7",
    "ArgumentValue8",
    "ArgumentValue9",
    "ArgumentValue10",
];

pub fn parse_notification(doc: &Element) -> Result<Notification, AwsError> {
    root(doc, "NotificationConfiguration")?;
    let mut unknown: Vec<(String, &str)> = Vec::new();
    for c in &doc.children {
        let (arn_elem, why) = match c.name.as_str() {
            "TopicConfiguration" => ("Topic", "The destination topic does not exist"),
            "QueueConfiguration" => ("Queue", "The destination queue does not exist"),
            "CloudFunctionConfiguration" | "LambdaFunctionConfiguration" => (
                "CloudFunction",
                "The destination Lambda function does not exist",
            ),
            "EventBridgeConfiguration" => continue,
            _ => return Err(malformed_xml()),
        };
        let arn = text(c, arn_elem)
            .or_else(|| text(c, "LambdaFunctionArn"))
            .ok_or_else(malformed_xml)?;
        if c.children("Event").next().is_none() {
            return Err(malformed_xml());
        }
        unknown.push((arn.to_string(), why));
    }
    if !unknown.is_empty() {
        let mut e = AwsError::new(
            400,
            "InvalidArgument",
            "Unable to validate the following destination configurations",
        );
        for (i, (arn, why)) in unknown.into_iter().take(10).enumerate() {
            e = e.with(ARGUMENT_NAMES[i], arn).with(ARGUMENT_VALUES[i], why);
        }
        return Err(e);
    }
    Ok(Notification {
        event_bridge: doc.child("EventBridgeConfiguration").is_some(),
    })
}

pub fn render_notification(n: Option<&Notification>) -> String {
    let mut w = XmlWriter::document("NotificationConfiguration");
    if n.is_some_and(|n| n.event_bridge) {
        w.open("EventBridgeConfiguration")
            .close("EventBridgeConfiguration");
    }
    w.finish("NotificationConfiguration")
}

pub fn put_notification(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    doc: &Element,
) -> Result<(), AwsError> {
    let mut b = load(w, call, bucket, "s3:PutBucketNotification")?;
    let n = parse_notification(doc)?;
    b.config.notification = (n != Notification::default()).then_some(n);
    save(w, &b)
}

pub fn get_notification(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = load(r, call, bucket, "s3:GetBucketNotification")?;
    Ok(render_notification(b.config.notification.as_ref()))
}

// --- server access logging -------------------------------------------------------------------

/// Where the server access logs of a bucket are to go (delivery is not done yet).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logging {
    pub target_bucket: String,
    pub target_prefix: String,
    /// `TargetGrants`' `Grant` elements as put.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_grants: Vec<Node>,
    /// `TargetObjectKeyFormat` as put (`SimplePrefix` or `PartitionedPrefix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_format: Option<Node>,
}

fn invalid_target(message: &str, target: &str) -> AwsError {
    AwsError::new(400, "InvalidTargetBucketForLogging", message).with("TargetBucket", target)
}

/// Parses a BucketLoggingStatus: None disables logging. The target bucket must exist, belong to
/// the same owner and be in the same region.
pub fn parse_logging(
    r: &dyn Reader,
    source: &Bucket,
    doc: &Element,
) -> Result<Option<Logging>, AwsError> {
    root(doc, "BucketLoggingStatus")?;
    let Some(le) = doc.child("LoggingEnabled") else {
        return Ok(None);
    };
    let target = text(le, "TargetBucket").ok_or_else(malformed_xml)?;
    let prefix = le.child("TargetPrefix").ok_or_else(malformed_xml)?;
    let mut grants = Vec::new();
    if let Some(g) = le.child("TargetGrants") {
        for grant in g.children("Grant") {
            let grantee = grant.child("Grantee").ok_or_else(malformed_xml)?;
            match grantee.attribute("type") {
                Some("CanonicalUser") if grantee.child("ID").is_some() => {}
                Some("Group") if grantee.child("URI").is_some() => {}
                Some("AmazonCustomerByEmail") if grantee.child("EmailAddress").is_some() => {}
                _ => return Err(malformed_xml()),
            }
            match text(grant, "Permission") {
                Some("FULL_CONTROL" | "READ" | "WRITE") => {}
                _ => return Err(malformed_xml()),
            }
            grants.push(Node::of(grant));
        }
    }
    let key_format = match le.child("TargetObjectKeyFormat") {
        None => None,
        Some(f) => {
            let simple = f.child("SimplePrefix").is_some();
            let partitioned = f.child("PartitionedPrefix");
            match (simple, partitioned) {
                (true, None) => {}
                (false, Some(p)) => match text(p, "PartitionDateSource") {
                    None | Some("EventTime" | "DeliveryTime") => {}
                    Some(_) => return Err(malformed_xml()),
                },
                _ => return Err(malformed_xml()),
            }
            Some(Node::of(f))
        }
    };
    let Some(t) = get_bucket(r, target)? else {
        return Err(invalid_target(
            "The target bucket for logging does not exist",
            target,
        ));
    };
    if t.owner != source.owner {
        return Err(invalid_target(
            "The owner for the bucket to be logged and the target bucket must be the same.",
            target,
        ));
    }
    if t.region != source.region {
        return Err(AwsError::new(
            403,
            "CrossLocationLoggingProhibited",
            "Cross S3 location logging not allowed. ",
        )
        .with("SourceBucketLocation", source.region.clone())
        .with("TargetBucketLocation", t.region.clone()));
    }
    Ok(Some(Logging {
        target_bucket: target.to_string(),
        target_prefix: prefix.text.trim().to_string(),
        target_grants: grants,
        key_format,
    }))
}

pub fn render_logging(l: Option<&Logging>) -> String {
    let mut w = XmlWriter::document("BucketLoggingStatus");
    if let Some(l) = l {
        w.open("LoggingEnabled");
        w.elem("TargetBucket", &l.target_bucket);
        if !l.target_grants.is_empty() {
            w.open("TargetGrants");
            for g in &l.target_grants {
                g.write(&mut w);
            }
            w.close("TargetGrants");
        }
        w.elem("TargetPrefix", &l.target_prefix);
        if let Some(f) = &l.key_format {
            f.write(&mut w);
        }
        w.close("LoggingEnabled");
    }
    w.finish("BucketLoggingStatus")
}

pub fn put_logging(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    doc: &Element,
) -> Result<(), AwsError> {
    let mut b = load(w, call, bucket, "s3:PutBucketLogging")?;
    b.config.logging = parse_logging(w, &b, doc)?;
    save(w, &b)
}

pub fn get_logging(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = load(r, call, bucket, "s3:GetBucketLogging")?;
    Ok(render_logging(b.config.logging.as_ref()))
}

// --- lifecycle -------------------------------------------------------------------------------

/// One lifecycle rule, validated, as put (an ID is added when the rule had none).
pub type LifecycleRule = Node;

pub const MAX_LIFECYCLE_RULES: usize = 1000;
const TRANSITION_CLASSES: &[&str] = &[
    "GLACIER",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];

fn positive(e: &Element, name: &str, message: &str) -> Result<Option<i64>, AwsError> {
    match text(e, name) {
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            Ok(_) => Err(invalid_argument(message, name, v)),
            Err(_) => Err(malformed_xml()),
        },
    }
}

/// A lifecycle `Date`, which must be midnight UTC (the applier reads it back with this too).
pub fn midnight_date(v: &str) -> Result<chrono::DateTime<chrono::Utc>, AwsError> {
    let t = chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        })
        .map_err(|_| malformed_xml())?;
    use chrono::Timelike;
    if t.hour() != 0 || t.minute() != 0 || t.second() != 0 || t.nanosecond() != 0 {
        return Err(invalid_argument(
            "'Date' must be at midnight GMT",
            "Date",
            v,
        ));
    }
    Ok(t)
}

fn check_filter(f: &Element) -> Result<bool, AwsError> {
    let forms = [
        "Prefix",
        "Tag",
        "ObjectSizeGreaterThan",
        "ObjectSizeLessThan",
        "And",
    ];
    let present: Vec<&Element> = f
        .children
        .iter()
        .filter(|c| forms.contains(&c.name.as_str()))
        .collect();
    if present.len() != f.children.len() || present.len() > 1 {
        return Err(malformed_xml());
    }
    let tag_ok = |t: &Element| t.child("Key").is_some() && t.child("Value").is_some();
    let size_ok = |e: &Element, n: &str| match text(e, n) {
        None => Ok(()),
        Some(v) => v.parse::<u64>().map(|_| ()).map_err(|_| malformed_xml()),
    };
    size_ok(f, "ObjectSizeGreaterThan")?;
    size_ok(f, "ObjectSizeLessThan")?;
    let mut tags = false;
    if let Some(t) = f.child("Tag") {
        if !tag_ok(t) {
            return Err(malformed_xml());
        }
        tags = true;
    }
    if let Some(and) = f.child("And") {
        for t in and.children("Tag") {
            if !tag_ok(t) {
                return Err(malformed_xml());
            }
            tags = true;
        }
        size_ok(and, "ObjectSizeGreaterThan")?;
        size_ok(and, "ObjectSizeLessThan")?;
        if and.children.len() < 2 {
            return Err(malformed_xml());
        }
    }
    Ok(tags)
}

/// Validates a LifecycleConfiguration as S3 does, returning its rules (IDs filled in).
pub fn parse_lifecycle(doc: &Element) -> Result<Vec<LifecycleRule>, AwsError> {
    root(doc, "LifecycleConfiguration")?;
    let rules: Vec<_> = doc.children("Rule").collect();
    if rules.is_empty() || rules.len() > MAX_LIFECYCLE_RULES {
        return Err(malformed_xml());
    }
    let mut ids = std::collections::HashSet::new();
    let mut out = Vec::new();
    for r in rules {
        if let Some(id) = text(r, "ID") {
            if id.chars().count() > 255 {
                return Err(invalid_argument(
                    "ID length should not exceed allowed limit of 255",
                    "ID",
                    id,
                ));
            }
            if !ids.insert(id.to_string()) {
                return Err(invalid_argument(
                    "Rule ID must be unique. Found same ID for more than one rule",
                    "ID",
                    id,
                ));
            }
        }
        match text(r, "Status") {
            Some("Enabled" | "Disabled") => {}
            _ => return Err(malformed_xml()),
        }
        let tags = match (r.child("Filter"), r.child("Prefix")) {
            (Some(_), Some(_)) | (None, None) => return Err(malformed_xml()),
            (Some(f), None) => check_filter(f)?,
            (None, Some(_)) => false,
        };
        let actions = [
            "Expiration",
            "Transition",
            "NoncurrentVersionExpiration",
            "NoncurrentVersionTransition",
            "AbortIncompleteMultipartUpload",
        ];
        if !r
            .children
            .iter()
            .any(|c| actions.contains(&c.name.as_str()))
        {
            return Err(invalid_request(
                "At least one action needs to be specified in a rule",
            ));
        }
        if let Some(e) = r.child("Expiration") {
            let forms = ["Days", "Date", "ExpiredObjectDeleteMarker"]
                .iter()
                .filter(|n| e.child(n).is_some())
                .count();
            if forms != 1 {
                return Err(malformed_xml());
            }
            positive(
                e,
                "Days",
                "'Days' for Expiration action must be a positive integer",
            )?;
            if let Some(d) = text(e, "Date") {
                midnight_date(d)?;
            }
            match text(e, "ExpiredObjectDeleteMarker") {
                None => {}
                Some("true" | "false") if tags => {
                    return Err(invalid_request(
                        "ExpiredObjectDeleteMarker cannot be specified with tags.",
                    ))
                }
                Some("true" | "false") => {}
                Some(_) => return Err(malformed_xml()),
            }
        }
        if let Some(n) = r.child("NoncurrentVersionExpiration") {
            positive(
                n,
                "NoncurrentDays",
                "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
            )?;
            positive(
                n,
                "NewerNoncurrentVersions",
                "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer",
            )?;
        }
        if let Some(a) = r.child("AbortIncompleteMultipartUpload") {
            if tags {
                return Err(invalid_request(
                    "AbortIncompleteMultipartUpload cannot be specified with Tags.",
                ));
            }
            if positive(
                a,
                "DaysAfterInitiation",
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
            )?
            .is_none()
            {
                return Err(malformed_xml());
            }
        }
        for (name, days) in [
            ("Transition", "Days"),
            ("NoncurrentVersionTransition", "NoncurrentDays"),
        ] {
            for t in r.children(name) {
                let class = text(t, "StorageClass")
                    .filter(|c| TRANSITION_CLASSES.contains(c))
                    .ok_or_else(malformed_xml)?;
                let n = match text(t, days) {
                    Some(v) => Some(v.parse::<i64>().map_err(|_| malformed_xml())?),
                    None => None,
                };
                if n.is_some_and(|n| n < 0) {
                    return Err(invalid_argument(
                        &format!("'{days}' in {name} action must be nonnegative"),
                        days,
                        text(t, days).unwrap_or(""),
                    ));
                }
                if matches!(class, "STANDARD_IA" | "ONEZONE_IA") && n.is_some_and(|n| n < 30) {
                    return Err(invalid_argument(
                        &format!("'{days}' in {name} action must be greater than or equal to 30 for storageClass '{class}'"),
                        days,
                        text(t, days).unwrap_or(""),
                    ));
                }
                if let Some(d) = text(t, "Date") {
                    midnight_date(d)?;
                }
            }
        }
        let mut node = Node::of(r);
        if text(r, "ID").is_none() {
            node.children.insert(
                0,
                Node {
                    name: "ID".into(),
                    text: super::new_upload_id()[..48].to_string(),
                    ..Default::default()
                },
            );
        }
        out.push(node);
    }
    Ok(out)
}

pub fn put_lifecycle(
    w: &mut dyn Writer,
    call: &Call,
    bucket: &str,
    doc: &Element,
) -> Result<(), AwsError> {
    let mut b = load(w, call, bucket, "s3:PutLifecycleConfiguration")?;
    b.config.lifecycle = Some(parse_lifecycle(doc)?);
    save(w, &b)
}

pub fn get_lifecycle(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = load(r, call, bucket, "s3:GetLifecycleConfiguration")?;
    b.config
        .lifecycle
        .as_deref()
        .map(|rules| document("LifecycleConfiguration", rules))
        .ok_or_else(|| {
            AwsError::new(
                404,
                "NoSuchLifecycleConfiguration",
                "The lifecycle configuration does not exist",
            )
            .with("BucketName", bucket)
        })
}

/// Authorized as `s3:PutLifecycleConfiguration`, as on AWS.
pub fn delete_lifecycle(w: &mut dyn Writer, call: &Call, bucket: &str) -> Result<(), AwsError> {
    let mut b = load(w, call, bucket, "s3:PutLifecycleConfiguration")?;
    if b.config.lifecycle.take().is_some() {
        save(w, &b)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> Element {
        super::super::xml::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn cors_rules() {
        let rules = parse_cors(&doc("<CORSConfiguration><CORSRule><ID>r1</ID><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>300</MaxAgeSeconds></CORSRule></CORSConfiguration>")).unwrap();
        assert_eq!(rules[0].allowed_methods, vec!["GET", "PUT"]);
        assert_eq!(rules[0].max_age_seconds, Some(300));
        assert!(
            render_cors(&rules).contains("<AllowedOrigin>https://*.example.com</AllowedOrigin>")
        );
        let bad = |s: &str| parse_cors(&doc(s)).unwrap_err();
        let e = bad("<CORSConfiguration><CORSRule><AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>");
        assert_eq!(e.code, "InvalidRequest");
        assert_eq!(
            e.message,
            "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"
        );
        assert_eq!(bad("<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>").code, "MalformedXML");
        assert_eq!(bad("<CORSConfiguration/>").code, "MalformedXML");
        assert_eq!(bad("<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*.*</AllowedOrigin></CORSRule></CORSConfiguration>").code, "InvalidRequest");
        let many = format!(
            "<CORSConfiguration>{}</CORSConfiguration>",
            "<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>".repeat(101)
        );
        assert_eq!(bad(&many).code, "MalformedXML");
    }

    #[test]
    fn websites() {
        assert!(parse_website(&doc("<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument><ErrorDocument><Key>e.html</Key></ErrorDocument></WebsiteConfiguration>")).is_ok());
        assert!(parse_website(&doc("<WebsiteConfiguration><RedirectAllRequestsTo><HostName>x.com</HostName><Protocol>https</Protocol></RedirectAllRequestsTo></WebsiteConfiguration>")).is_ok());
        let bad = |s: &str| parse_website(&doc(s)).unwrap_err().code;
        assert_eq!(bad("<WebsiteConfiguration/>"), "InvalidArgument");
        assert_eq!(bad("<WebsiteConfiguration><IndexDocument><Suffix>a/b</Suffix></IndexDocument></WebsiteConfiguration>"), "InvalidArgument");
        assert_eq!(bad("<WebsiteConfiguration><IndexDocument><Suffix>i</Suffix></IndexDocument><RoutingRules><RoutingRule><Redirect><ReplaceKeyWith>a</ReplaceKeyWith><ReplaceKeyPrefixWith>b</ReplaceKeyPrefixWith></Redirect></RoutingRule></RoutingRules></WebsiteConfiguration>"), "InvalidArgument");
    }

    #[test]
    fn notifications() {
        let n = parse_notification(&doc(
            "<NotificationConfiguration><EventBridgeConfiguration/></NotificationConfiguration>",
        ))
        .unwrap();
        assert!(n.event_bridge);
        assert!(
            !parse_notification(&doc("<NotificationConfiguration/>"))
                .unwrap()
                .event_bridge
        );
        let e = parse_notification(&doc("<NotificationConfiguration><QueueConfiguration><Queue>arn:aws:sqs:us-east-1:111111111111:q</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>")).unwrap_err();
        assert_eq!((e.status, e.code.as_ref()), (400, "InvalidArgument"));
        assert_eq!(
            e.fields[0],
            (
                "ArgumentName1",
                "arn:aws:sqs:us-east-1:111111111111:q".to_string()
            )
        );
    }

    #[test]
    fn lifecycle_rules() {
        let ok = parse_lifecycle(&doc("<LifecycleConfiguration><Rule><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration><Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition></Rule></LifecycleConfiguration>")).unwrap();
        assert_eq!(ok[0].children[0].name, "ID");
        let bad = |body: &str| {
            parse_lifecycle(&doc(&format!(
                "<LifecycleConfiguration><Rule>{body}</Rule></LifecycleConfiguration>"
            )))
            .unwrap_err()
            .code
            .to_string()
        };
        assert_eq!(
            bad("<Filter/><Status>On</Status><Expiration><Days>1</Days></Expiration>"),
            "MalformedXML"
        );
        assert_eq!(bad("<Filter/><Status>Enabled</Status>"), "InvalidRequest");
        assert_eq!(
            bad("<Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>"),
            "InvalidArgument"
        );
        assert_eq!(bad("<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>"), "InvalidArgument");
        assert_eq!(
            bad("<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"),
            "MalformedXML"
        );
        assert_eq!(bad(&format!("<ID>{}</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>", "x".repeat(256))), "InvalidArgument");
        assert_eq!(bad("<Filter><Tag><Key>a</Key><Value>b</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>"), "InvalidRequest");
        assert_eq!(bad("<Filter/><Status>Enabled</Status><Transition><Days>10</Days><StorageClass>STANDARD_IA</StorageClass></Transition>"), "InvalidArgument");
        assert_eq!(bad("<Filter><Prefix>a</Prefix><Tag><Key>a</Key><Value>b</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"), "MalformedXML");
        let dup = parse_lifecycle(&doc("<LifecycleConfiguration><Rule><ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>")).unwrap_err();
        assert_eq!(dup.code, "InvalidArgument");
    }
}

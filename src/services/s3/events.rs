//! How an S3 call reads as a CloudTrail record: object-level calls (and listing objects) are
//! data events, bucket-level calls management events; parameters as CloudTrail shows them
//! (`bucketName`, `Host`, `key`, the query); the resources; and the bucket owner's own copy
//! when another account made the call.

use super::AuthFacts;
use crate::audit::{self, CallInfo, Resource};
use crate::services::RequestContext;
use serde_json::{json, Map, Value};

/// Operations CloudTrail records as S3 data events.
const DATA_EVENTS: &[&str] = &[
    "GetObject",
    "HeadObject",
    "PutObject",
    "CopyObject",
    "DeleteObject",
    "DeleteObjects",
    "GetObjectAcl",
    "PutObjectAcl",
    "GetObjectTagging",
    "PutObjectTagging",
    "DeleteObjectTagging",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "ListParts",
    "ListObjects",
    "ListObjectsV2",
    "ListMultipartUploads",
    "ListObjectVersions",
    "GetObjectRetention",
    "PutObjectRetention",
    "GetObjectLegalHold",
    "PutObjectLegalHold",
];

/// What the front door knows about one S3 call.
pub struct Described<'a> {
    pub operation: &'a str,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub host: &'a str,
    /// Query parameters, minus the request's own signing parameters.
    pub query: &'a [(String, String)],
    pub bucket_owner: Option<&'a str>,
    /// The bucket's region, when the bucket exists.
    pub bucket_region: Option<&'a str>,
    pub auth: &'a AuthFacts,
    pub bytes_in: u64,
    pub host_id: &'a str,
}

pub fn call_info(ctx: &RequestContext, d: &Described) -> CallInfo {
    let data = DATA_EVENTS.contains(&d.operation);
    // A bucket being created does not exist yet: its owner is the caller.
    let owner = d.bucket_owner.map(str::to_string).or_else(|| {
        (d.operation == "CreateBucket" && !ctx.principal.account.is_empty())
            .then(|| ctx.principal.account.clone())
    });
    let mut params = Map::new();
    if let Some(b) = d.bucket {
        params.insert("bucketName".into(), json!(b));
    }
    params.insert("Host".into(), json!(d.host));
    if let Some(k) = d.key.filter(|k| !k.is_empty()) {
        params.insert("key".into(), json!(k));
    }
    for (k, v) in d.query {
        if k.starts_with("X-Amz-")
            || [
                "AWSAccessKeyId",
                "Signature",
                "Expires",
                "x-amz-security-token",
            ]
            .contains(&k.as_str())
        {
            continue;
        }
        params.insert(k.clone(), json!(v));
    }
    let mut resources = Vec::new();
    if let Some(b) = d.bucket {
        if data {
            if let Some(k) = d.key.filter(|k| !k.is_empty()) {
                resources.push(Resource {
                    kind: "AWS::S3::Object".into(),
                    arn: format!("arn:aws:s3:::{b}/{k}"),
                    account: None,
                });
            }
        }
        resources.push(Resource {
            kind: "AWS::S3::Bucket".into(),
            arn: format!("arn:aws:s3:::{b}"),
            account: owner.clone(),
        });
    }
    let mut extra = Map::new();
    if let Some(v) = d.auth.signature_version {
        extra.insert(
            "SignatureVersion".into(),
            json!(if v == "AWS" { "SigV2" } else { "SigV4" }),
        );
    }
    extra.insert("CipherSuite".into(), json!(""));
    extra.insert("bytesTransferredIn".into(), json!(d.bytes_in));
    if let Some(a) = d.auth.auth_type {
        extra.insert(
            "AuthenticationMethod".into(),
            json!(if a == "REST-QUERY-STRING" {
                "QueryString"
            } else {
                "AuthHeader"
            }),
        );
    }
    extra.insert("x-amz-id-2".into(), json!(d.host_id));
    let caller = ctx.principal.account.clone();
    CallInfo {
        event_source: "s3.amazonaws.com",
        event_name: d.operation.to_string(),
        region: d.bucket_region.unwrap_or(&ctx.region).to_string(),
        read_only: audit::is_read_only(d.operation),
        management: !data,
        request_parameters: Some(Value::Object(params)),
        resources,
        shared_with: owner.filter(|o| *o != caller),
        recipient_account: caller,
        additional_event_data: Some(Value::Object(extra)),
        lookup_resources: match (data, d.bucket) {
            (false, Some(b)) => vec![("AWS::S3::Bucket".into(), b.to_string())],
            _ => Vec::new(),
        },
    }
}

/// A request body document as CloudTrail shows it among the `requestParameters`: the root
/// element's name, then its content as JSON (`xmlns`, elements as members, a repeated element as
/// an array, `true`/`false` as JSON booleans, any other text as a string).
pub fn body_parameters(doc: &super::xml::Element) -> (String, Value) {
    fn leaf(text: &str) -> Value {
        let t = text.trim();
        match t {
            "true" => json!(true),
            "false" => json!(false),
            _ => json!(t),
        }
    }
    fn convert(e: &super::xml::Element) -> Value {
        if e.children.is_empty() {
            return leaf(&e.text);
        }
        let mut m = Map::new();
        for c in &e.children {
            let v = convert(c);
            let many = e.children.iter().filter(|x| x.name == c.name).count() > 1;
            match m.get_mut(&c.name) {
                Some(Value::Array(a)) if many => a.push(v),
                Some(_) => {}
                None => {
                    m.insert(c.name.clone(), if many { json!([v]) } else { v });
                }
            }
        }
        Value::Object(m)
    }
    let mut body = match convert(doc) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    body.insert("xmlns".into(), json!(super::NAMESPACE));
    (doc.name.clone(), Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_as_parameters() {
        let doc = super::super::xml::parse(b"<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>x</Value></Tag></TagSet></Tagging>").unwrap();
        let (name, v) = body_parameters(&doc);
        assert_eq!(name, "Tagging");
        assert_eq!(
            v,
            json!({"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                   "TagSet": {"Tag": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "x"}]}})
        );
        let doc = super::super::xml::parse(b"<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>").unwrap();
        assert_eq!(body_parameters(&doc).1["BlockPublicAcls"], json!(true));
    }
}

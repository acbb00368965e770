//! Default encryption (Put/Get/DeleteBucketEncryption) and the encryption each object is
//! stored with. Since January 2023 S3 encrypts every object: a bucket without a configuration
//! applies SSE-S3 (AES256), and GetBucketEncryption says so. Cairn keeps no keys of its own
//! (there is no KMS): it keeps and reports what S3 would, the algorithm, the KMS key and
//! whether a bucket key is used.

use super::authorize::{self, Target};
use super::xml::{Element, Writer as XmlWriter};
use super::{existing_bucket, invalid_argument, malformed_xml, Bucket, Call, BUCKETS};
use crate::error::AwsError;
use crate::store::{Reader, Writer, WriterExt};
use serde::{Deserialize, Serialize};

pub const ALGORITHMS: &[&str] = &["AES256", "aws:kms", "aws:kms:dsse"];

/// An encryption setting: a bucket's default rule or an object's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sse {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub algorithm: String,
    /// The KMS key: as the bucket rule names it, or (objects) its full ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    #[serde(default)]
    pub bucket_key: bool,
}

pub type EncryptionRule = Sse;
pub type ObjectSse = Sse;

impl Sse {
    pub fn s3() -> Sse {
        Sse {
            algorithm: "AES256".into(),
            kms_key: None,
            bucket_key: false,
        }
    }

    pub fn is_kms(&self) -> bool {
        self.algorithm.starts_with("aws:kms")
    }

    /// The response headers that describe it.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![("x-amz-server-side-encryption", self.algorithm.clone())];
        if self.is_kms() {
            if let Some(k) = &self.kms_key {
                h.push(("x-amz-server-side-encryption-aws-kms-key-id", k.clone()));
            }
            if self.bucket_key {
                h.push((
                    "x-amz-server-side-encryption-bucket-key-enabled",
                    "true".into(),
                ));
            }
        }
        h
    }
}

/// An object's encryption, for objects stored before it was recorded too.
pub fn of_object(o: &super::Object) -> Sse {
    o.sse.clone().unwrap_or_else(Sse::s3)
}

/// Parses a ServerSideEncryptionConfiguration document.
pub fn parse(doc: &Element) -> Result<Sse, AwsError> {
    if doc.name != "ServerSideEncryptionConfiguration" {
        return Err(malformed_xml());
    }
    let rules: Vec<_> = doc.children("Rule").collect();
    if rules.len() != 1 {
        return Err(malformed_xml());
    }
    let rule = rules[0];
    let default = rule
        .child("ApplyServerSideEncryptionByDefault")
        .ok_or_else(malformed_xml)?;
    let algorithm = default
        .child_text("SSEAlgorithm")
        .filter(|a| ALGORITHMS.contains(a))
        .ok_or_else(malformed_xml)?
        .to_string();
    let kms_key = default
        .child_text("KMSMasterKeyID")
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    if kms_key.is_some() && !algorithm.starts_with("aws:kms") {
        return Err(invalid_argument(
            "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
            "ApplyServerSideEncryptionByDefault",
            "null",
        ));
    }
    let bucket_key = match rule.child_text("BucketKeyEnabled") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(malformed_xml()),
    };
    Ok(Sse {
        algorithm,
        kms_key,
        bucket_key,
    })
}

pub fn render(rule: &Sse) -> String {
    let mut w = XmlWriter::document("ServerSideEncryptionConfiguration");
    w.open("Rule").open("ApplyServerSideEncryptionByDefault");
    w.elem("SSEAlgorithm", &rule.algorithm);
    w.opt("KMSMasterKeyID", rule.kms_key.as_deref());
    w.close("ApplyServerSideEncryptionByDefault");
    w.elem(
        "BucketKeyEnabled",
        if rule.bucket_key { "true" } else { "false" },
    );
    w.close("Rule");
    w.finish("ServerSideEncryptionConfiguration")
}

pub fn put(w: &mut dyn Writer, call: &Call, bucket: &str, doc: &Element) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(
        w,
        call,
        "s3:PutEncryptionConfiguration",
        &Target::bucket(&b),
        &[],
    )?;
    b.config.encryption = Some(parse(doc)?);
    w.put_json(BUCKETS, bucket.as_bytes(), &b)?;
    Ok(())
}

/// The configuration, or the SSE-S3 default every bucket has.
pub fn get(r: &dyn Reader, call: &Call, bucket: &str) -> Result<String, AwsError> {
    let b = existing_bucket(r, bucket)?;
    authorize::check(
        r,
        call,
        "s3:GetEncryptionConfiguration",
        &Target::bucket(&b),
        &[],
    )?;
    Ok(render(b.config.encryption.as_ref().unwrap_or(&Sse::s3())))
}

/// Back to the SSE-S3 default; authorized as `s3:PutEncryptionConfiguration`.
pub fn delete(w: &mut dyn Writer, call: &Call, bucket: &str) -> Result<(), AwsError> {
    let mut b = existing_bucket(w, bucket)?;
    authorize::check(
        w,
        call,
        "s3:PutEncryptionConfiguration",
        &Target::bucket(&b),
        &[],
    )?;
    if b.config.encryption.take().is_some() {
        w.put_json(BUCKETS, bucket.as_bytes(), &b)?;
    }
    Ok(())
}

/// What a write request asks for (`x-amz-server-side-encryption*` headers).
#[derive(Clone, Debug, Default)]
pub struct SseRequest {
    pub algorithm: Option<String>,
    pub kms_key: Option<String>,
    pub bucket_key: Option<bool>,
}

impl SseRequest {
    /// Validates the headers (before anything else happens to the request).
    pub fn from_headers(
        algorithm: Option<String>,
        kms_key: Option<String>,
        bucket_key: Option<String>,
    ) -> Result<SseRequest, AwsError> {
        let algorithm = algorithm.map(|a| a.trim().to_string());
        if let Some(a) = &algorithm {
            if !ALGORITHMS.contains(&a.as_str()) {
                return Err(invalid_argument(
                    "The encryption method specified is not supported",
                    "x-amz-server-side-encryption",
                    a,
                ));
            }
        }
        let kms = algorithm
            .as_deref()
            .is_some_and(|a| a.starts_with("aws:kms"));
        if kms_key.is_some() && !kms {
            return Err(invalid_argument(
                "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
                "x-amz-server-side-encryption",
                algorithm.as_deref().unwrap_or("null"),
            ));
        }
        let bucket_key = match bucket_key.as_deref().map(str::trim) {
            None => None,
            Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
            Some(v) => {
                return Err(invalid_argument(
                    "Invalid value for x-amz-server-side-encryption-bucket-key-enabled",
                    "x-amz-server-side-encryption-bucket-key-enabled",
                    v,
                ))
            }
        };
        Ok(SseRequest {
            algorithm,
            kms_key: kms_key.map(|k| k.trim().to_string()),
            bucket_key,
        })
    }

    /// The condition keys a policy may test (`s3:x-amz-server-side-encryption`, ...).
    pub fn condition_keys(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(a) = &self.algorithm {
            out.push(("s3:x-amz-server-side-encryption", a.clone()));
        }
        if let Some(k) = &self.kms_key {
            out.push(("s3:x-amz-server-side-encryption-aws-kms-key-id", k.clone()));
        }
        out
    }
}

/// The ARN of the account's AWS managed key for S3 (`aws/s3`) in a region: stable per
/// (account, region), shaped like a KMS key id.
pub fn aws_managed_key(account: &str, region: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = hex::encode(Sha256::digest(
        format!("aws/s3:{account}:{region}").as_bytes(),
    ));
    format!(
        "arn:aws:kms:{region}:{account}:key/{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A key as S3 reports it: the full ARN (a bare key id or alias is in the bucket owner's account
/// and the bucket's region).
fn key_arn(key: &str, b: &Bucket) -> String {
    if key.starts_with("arn:") {
        key.to_string()
    } else {
        let kind = if key.starts_with("alias/") {
            ""
        } else {
            "key/"
        };
        format!("arn:aws:kms:{}:{}:{kind}{key}", b.region, b.owner)
    }
}

/// The encryption a new object in `b` gets: what the request asks for, else the bucket's
/// default.
pub fn for_new_object(b: &Bucket, req: &SseRequest) -> Sse {
    let default = b.config.encryption.clone().unwrap_or_else(Sse::s3);
    let (algorithm, key, bucket_key) = match &req.algorithm {
        Some(a) => {
            let same = *a == default.algorithm;
            (
                a.clone(),
                req.kms_key.clone(),
                req.bucket_key.unwrap_or(same && default.bucket_key),
            )
        }
        None => (
            default.algorithm.clone(),
            default.kms_key.clone(),
            req.bucket_key.unwrap_or(default.bucket_key),
        ),
    };
    let kms = algorithm.starts_with("aws:kms");
    Sse {
        kms_key: kms.then(|| match key {
            Some(k) => key_arn(&k, b),
            None => aws_managed_key(&b.owner, &b.region),
        }),
        bucket_key: kms && bucket_key,
        algorithm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> Element {
        super::super::xml::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn configurations() {
        let kms = parse(&doc("<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>k1</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>")).unwrap();
        assert_eq!(
            kms,
            Sse {
                algorithm: "aws:kms".into(),
                kms_key: Some("k1".into()),
                bucket_key: true
            }
        );
        assert!(render(&kms).contains("<KMSMasterKeyID>k1</KMSMasterKeyID>"));
        let bad = |s: &str| parse(&doc(s)).unwrap_err().code;
        assert_eq!(bad("<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>DES</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"), "MalformedXML");
        assert_eq!(bad("<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"), "InvalidArgument");
        assert_eq!(bad("<ServerSideEncryptionConfiguration/>"), "MalformedXML");
        assert_eq!(
            render(&Sse::s3()),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>"
        );
    }

    #[test]
    fn request_headers() {
        let h = |a: Option<&str>, k: Option<&str>| {
            SseRequest::from_headers(a.map(String::from), k.map(String::from), None)
        };
        assert!(h(Some("AES256"), None).is_ok());
        assert_eq!(h(Some("DES"), None).unwrap_err().code, "InvalidArgument");
        assert_eq!(h(None, Some("k")).unwrap_err().code, "InvalidArgument");
        assert_eq!(
            h(Some("AES256"), Some("k")).unwrap_err().code,
            "InvalidArgument"
        );
        assert!(h(Some("aws:kms"), Some("k")).is_ok());
    }
}

//! An AWS service writing an object into a customer's bucket through S3's own PutObject:
//! CloudTrail's log and digest files, S3's server access logs. The service is the principal
//! (`cloudtrail.amazonaws.com`, `logging.s3.amazonaws.com`), with the source it acts for as
//! `aws:SourceArn` / `aws:SourceAccount` / `aws:SourceOrgID` and `bucket-owner-full-control`:
//! the bucket policy (or, where ACLs are enabled, the bucket ACL) decides, as for any caller.

use crate::app::App;
use crate::audit;
use crate::auth::Principal;
use crate::error::AwsError;
use crate::ids;
use crate::services::s3::acl::AclRequest;
use crate::services::s3::objects::{
    self, ObjectAttributes, PutObjectInput, ReceivedBody, WriteConditions,
};
use crate::services::s3::{self, events, internal, AuthFacts, Call, ContentHeaders, ServiceSource};
use crate::services::RequestContext;
use md5::{Digest, Md5};
use std::sync::Arc;

pub struct ServiceWrite<'a> {
    /// The service principal, e.g. `cloudtrail.amazonaws.com`.
    pub service: &'a str,
    pub bucket: &'a str,
    pub key: String,
    pub body: Vec<u8>,
    pub headers: ContentHeaders,
    pub source: ServiceSource,
    pub region: &'a str,
    /// S3 user metadata (names without `x-amz-meta-`): a digest's signature.
    pub metadata: Vec<(String, String)>,
}

/// Writes one object; the error is S3's (AccessDenied, NoSuchBucket, ...).
pub async fn put(app: &Arc<App>, d: ServiceWrite<'_>) -> Result<(), AwsError> {
    let blobs = app.blobs.clone();
    let body = d.body;
    let size = body.len() as u64;
    let (blob, md5) =
        tokio::task::spawn_blocking(move || -> std::io::Result<(String, [u8; 16])> {
            let mut w = blobs.create()?;
            w.write_all(&body)?;
            let id = w.id().to_string();
            w.finish()?;
            Ok((id, Md5::digest(&body).into()))
        })
        .await
        .map_err(internal)?
        .map_err(internal)?;
    let call = Call {
        ctx: RequestContext {
            request_id: ids::s3_request_id(),
            principal: Principal::service(d.service),
            region: d.region.to_string(),
            source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
            user_agent: d.service.into(),
            time: app.clock.now(),
            secure: true,
        },
        auth: AuthFacts {
            auth_type: None,
            signature_version: None,
            content_sha256: None,
        },
        expected_owner: None,
        service: Some(d.source),
    };
    let input = PutObjectInput {
        bucket: d.bucket.to_string(),
        key: d.key,
        attrs: ObjectAttributes {
            headers: d.headers,
            metadata: d.metadata,
            acl: AclRequest {
                canned: Some("bucket-owner-full-control".into()),
                ..Default::default()
            },
            storage_class: None,
            // The services send Content-MD5 with every file, which is what a bucket with
            // Object Lock (default retention) requires.
            lock: crate::services::s3::object_lock::LockRequest {
                digest_sent: true,
                ..Default::default()
            },
            ..Default::default()
        },
        body: ReceivedBody {
            blob: Some(blob.clone()),
            size,
            md5,
            checksum: None,
        },
        conditions: WriteConditions {
            if_none_match: None,
            if_match: None,
        },
    };
    // The write is itself an S3 data event, recorded for the bucket owner (the loop AWS
    // documents when a trail logs data events on its own bucket).
    let bucket = app.store.read(|r| s3::get_bucket(r, d.bucket))?;
    let info = events::call_info(
        &call.ctx,
        &events::Described {
            operation: "PutObject",
            bucket: Some(d.bucket),
            key: Some(&input.key),
            host: "",
            query: &[],
            bucket_owner: bucket.as_ref().map(|b| b.owner.as_str()),
            bucket_region: bucket.as_ref().map(|b| b.region.as_str()),
            auth: &call.auth,
            bytes_in: size,
            host_id: "",
        },
    );
    let store_blobs = app.blobs.clone();
    let recording = app.settings.recording;
    let clock = app.clock.clone();
    let result = app
        .store
        .write(move |w| {
            let out = objects::put(&*store_blobs, w, &call, input)?;
            if recording {
                for e in audit::entries(&call.ctx, &info, Ok(None), &clock) {
                    w.append_journal(&e)?;
                }
            }
            Ok::<_, AwsError>(out)
        })
        .await;
    // A replaced body (a replayed batch overwrites its own file) or a refused one is garbage.
    let garbage = match &result {
        Ok(out) => out.garbage.clone(),
        Err(_) => vec![blob],
    };
    let blobs = app.blobs.clone();
    tokio::task::spawn_blocking(move || {
        for id in garbage {
            let _ = blobs.remove(&id);
        }
    });
    result.map(|_| ())
}

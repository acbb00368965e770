//! Request bodies: decoded (aws-chunked framing, chunk signatures), checked (the signed
//! payload hash, Content-MD5, flexible checksums in headers or trailers) and, for object
//! bodies, streamed into a temporary blob with bounded memory.
//!
//! Nothing of a body that fails a check survives: the temporary blob is removed, so a failed,
//! truncated or abandoned upload leaves no object and no file.

use super::request::S3Request;
use crate::auth::sigv4::{AwsChunkedBody, AwsChunkedError, ChunkError, ChunkMode, ChunkedDecoder};
use crate::error::AwsError;
use crate::services::s3::checksums::{self, Algorithm, Hasher, Md5Hasher};
use crate::services::s3::objects::ReceivedBody;
use crate::services::s3::{internal, invalid_request, MAX_PUT};
use crate::store::blobs::BlobWriter;
use crate::store::BlobStore;
use bytes::{Bytes, BytesMut};
use http_body::Body;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use std::pin::Pin;
use std::sync::Arc;

/// Bytes gathered before each blocking write: large enough to make writes cheap, small enough
/// that many concurrent uploads stay within a few tens of MiB.
const WRITE_BATCH: usize = 1024 * 1024;

/// What the request says its body is.
pub struct BodySpec {
    /// aws-chunked framing and how its chunks are signed.
    pub chunks: Option<ChunkMode>,
    /// The decoded length the client declared (Content-Length or X-Amz-Decoded-Content-Length).
    pub declared: Option<u64>,
    /// `x-amz-content-sha256` when it is a digest to check.
    pub sha256: Option<String>,
    pub content_md5: Option<[u8; 16]>,
    /// The flexible checksum to compute, with the value to check when it came as a header
    /// (a trailer value is read at the end).
    pub checksum: Option<(Algorithm, Option<String>)>,
    /// The checksum trailer the client announced (`x-amz-trailer`).
    pub trailer: Option<Algorithm>,
    /// The aws-chunked stream ends with a trailer section (the `*-TRAILER` payload types).
    pub expect_trailer: bool,
}

fn incomplete_body() -> AwsError {
    AwsError::new(
        400,
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
    )
}

fn bad_digest(message: String) -> AwsError {
    AwsError::new(400, "BadDigest", message)
}

pub fn entity_too_large(size: u64) -> AwsError {
    AwsError::new(
        400,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed object size.",
    )
    .with("ProposedSize", size.to_string())
    .with("MaxSizeAllowed", MAX_PUT.to_string())
}

/// Reads what a request declares about its body. `object`: PutObject/UploadPart, which need a
/// length; `fallback_algorithm`: an algorithm to compute when the request names none (a part of
/// an upload that declared one).
pub fn spec(
    req: &S3Request,
    chunks: Option<ChunkMode>,
    object: bool,
    fallback_algorithm: Option<Algorithm>,
) -> Result<BodySpec, AwsError> {
    let header = |n: &str| req.header(n);
    let content_length = header("content-length")
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| invalid_request("Invalid Content-Length"))
        })
        .transpose()?;
    let chunked = chunks.is_some()
        || header("content-encoding").is_some_and(|e| {
            e.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("aws-chunked"))
        });
    let declared = if chunked {
        header("x-amz-decoded-content-length")
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| invalid_request("Invalid x-amz-decoded-content-length"))
            })
            .transpose()?
    } else {
        content_length
    };
    if object && declared.is_none() {
        return Err(AwsError::new(
            411,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
        ));
    }
    if let Some(n) = declared {
        if n > MAX_PUT {
            return Err(entity_too_large(n));
        }
    }
    let chunks = match chunks {
        Some(c) => Some(c),
        // Content-Encoding aws-chunked with UNSIGNED-PAYLOAD: framing without signatures.
        None if chunked => Some(ChunkMode::Unsigned),
        None => None,
    };
    let sha256 = header("x-amz-content-sha256")
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let content_md5 = match header("content-md5") {
        None => None,
        Some(v) => Some(checksums::parse_content_md5(&v).ok_or_else(|| {
            AwsError::new(
                400,
                "InvalidDigest",
                "The Content-MD5 you specified is not valid.",
            )
        })?),
    };
    let mut declared_sums = Vec::new();
    for a in checksums::ALL {
        if let Some(v) = header(a.header()) {
            if !a.valid_value(&v) {
                return Err(invalid_request(format!(
                    "Value for {} header is invalid.",
                    a.header()
                )));
            }
            declared_sums.push((a, v.trim().to_string()));
        }
    }
    if declared_sums.len() > 1 {
        return Err(invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ));
    }
    let trailer = match header("x-amz-trailer") {
        None => None,
        Some(t) => {
            let names: Vec<&str> = t
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let mut found = None;
            for n in names {
                match Algorithm::from_header(n) {
                    Some(a) if found.is_none() => found = Some(a),
                    Some(_) => {
                        return Err(invalid_request(
                            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                        ))
                    }
                    None => {
                        return Err(invalid_request(format!(
                            "The value specified in the x-amz-trailer header is not supported: {n}"
                        )))
                    }
                }
            }
            found
        }
    };
    if trailer.is_some() && !declared_sums.is_empty() {
        return Err(invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ));
    }
    let named = header("x-amz-sdk-checksum-algorithm").and_then(|v| Algorithm::parse(&v));
    let checksum = match (declared_sums.pop(), trailer) {
        (Some((a, v)), _) => Some((a, Some(v))),
        (None, Some(a)) => Some((a, None)),
        (None, None) => named.or(fallback_algorithm).map(|a| (a, None)),
    };
    let expect_trailer = trailer.is_some()
        || header("x-amz-content-sha256").is_some_and(|v| v.trim().ends_with("-TRAILER"));
    Ok(BodySpec {
        chunks,
        declared,
        sha256,
        content_md5,
        checksum,
        trailer,
        expect_trailer,
    })
}

/// A body's MD5 and its flexible checksum.
type Verified = ([u8; 16], Option<(Algorithm, String)>);

/// Running digests of a body.
struct Digests {
    md5: Md5Hasher,
    sha256: Option<Sha256>,
    sum: Option<Hasher>,
    size: u64,
}

impl Digests {
    fn new(spec: &BodySpec) -> Self {
        Digests {
            md5: Md5Hasher::new(),
            sha256: spec.sha256.as_ref().map(|_| Sha256::new()),
            sum: spec.checksum.as_ref().map(|(a, _)| Hasher::new(*a)),
            size: 0,
        }
    }

    fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
        if let Some(h) = &mut self.sum {
            h.update(data);
        }
        self.size += data.len() as u64;
    }

    /// Checks every declared digest; returns the MD5 and the flexible checksum.
    fn verify(
        self,
        spec: &BodySpec,
        trailers: Option<&http::HeaderMap>,
    ) -> Result<Verified, AwsError> {
        if let Some(expected) = spec.declared {
            if expected != self.size {
                return Err(incomplete_body());
            }
        }
        if let (Some(h), Some(claimed)) = (self.sha256, &spec.sha256) {
            let computed = hex::encode(h.finalize());
            if !computed.eq_ignore_ascii_case(claimed) {
                return Err(AwsError::new(
                    400,
                    "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                )
                .with("ClientComputedContentSHA256", claimed.clone())
                .with("S3ComputedContentSHA256", computed));
            }
        }
        let md5 = self.md5.finish();
        if let Some(claimed) = spec.content_md5 {
            if claimed != md5 {
                return Err(bad_digest(
                    "The Content-MD5 you specified did not match what we received.".into(),
                ));
            }
        }
        let checksum = match (self.sum, &spec.checksum) {
            (Some(h), Some((a, claimed))) => {
                let computed = h.finish();
                let claimed = match claimed {
                    Some(v) => Some(v.clone()),
                    None if spec.trailer == Some(*a) => {
                        let v = trailers
                            .and_then(|t| t.get(a.header()))
                            .and_then(|v| v.to_str().ok())
                            .map(|v| v.trim().to_string());
                        match v {
                            Some(v) if a.valid_value(&v) => Some(v),
                            Some(_) => {
                                return Err(invalid_request(format!(
                                    "Value for {} trailing header is invalid.",
                                    a.header()
                                )))
                            }
                            None => {
                                return Err(invalid_request(format!(
                                "x-amz-trailer announced {} but the body carried no such trailer",
                                a.header()
                            )))
                            }
                        }
                    }
                    None => None,
                };
                if let Some(c) = claimed {
                    if c != computed {
                        return Err(bad_digest(format!(
                            "The {} you specified did not match the calculated checksum.",
                            a.name()
                        )));
                    }
                }
                Some((*a, computed))
            }
            _ => None,
        };
        Ok((md5, checksum))
    }
}

fn chunk_error(e: ChunkError) -> AwsError {
    match e {
        ChunkError::SignatureMismatch | ChunkError::TrailerSignatureMismatch => AwsError::new(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        ),
        ChunkError::TooLarge => entity_too_large(MAX_PUT + 1),
        ChunkError::IncompleteBody { .. } | ChunkError::Truncated { .. } => incomplete_body(),
        ChunkError::Malformed(m) => AwsError::new(400, "IncompleteBody", m),
        ChunkError::Poisoned => incomplete_body(),
    }
}

type DynBody = Pin<Box<dyn Body<Data = Bytes, Error = AwsError> + Send>>;

/// The body with aws-chunked framing removed when there is any; every error already in S3's
/// words. A client that goes away mid-body is an IncompleteBody.
fn decoded<B>(body: B, spec: &BodySpec) -> DynBody
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let body = Box::pin(body);
    match &spec.chunks {
        None => Box::pin(body.map_err(|_| incomplete_body())),
        Some(mode) => {
            let decoder = ChunkedDecoder::new(mode.clone(), spec.declared, spec.expect_trailer)
                .with_limit(MAX_PUT);
            Box::pin(
                AwsChunkedBody::new(body, decoder, spec.declared).map_err(|e| match e {
                    AwsChunkedError::Chunk(c) => chunk_error(c),
                    AwsChunkedError::Body(_) => incomplete_body(),
                }),
            )
        }
    }
}

/// Reads a small body (an XML document, a policy) whole, checking what it declares. Larger
/// than `limit` → 400 MaxMessageLengthExceeded.
pub async fn read_small<B>(body: B, spec: &BodySpec, limit: usize) -> Result<Bytes, AwsError>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let too_big = || AwsError::new(400, "MaxMessageLengthExceeded", "Your request was too big.");
    if spec.declared.is_some_and(|n| n > limit as u64) {
        return Err(too_big());
    }
    let mut body = decoded(body, spec);
    let mut digests = Digests::new(spec);
    let mut buf = BytesMut::new();
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        match frame.into_data() {
            Ok(data) => {
                if buf.len() + data.len() > limit {
                    return Err(too_big());
                }
                digests.update(&data);
                buf.extend_from_slice(&data);
            }
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers = Some(t);
                }
            }
        }
    }
    digests.verify(spec, trailers.as_ref())?;
    Ok(buf.freeze())
}

/// The temporary blob of a body being finished on the blocking pool. If the request is dropped
/// (client gone) before the blob is handed on, whichever side comes last removes it: the guard
/// when the blob was already finished, the blocking task when the guard was already dropped.
struct Finishing {
    blobs: Arc<dyn BlobStore>,
    /// (request dropped, finished blob id).
    state: std::sync::Mutex<(bool, Option<String>)>,
}

struct FinishGuard(Arc<Finishing>);

impl Finishing {
    fn finished(&self, id: String) {
        let mut st = self.state.lock().expect("finishing state");
        if st.0 {
            let _ = self.blobs.remove(&id);
        } else {
            st.1 = Some(id);
        }
    }
}

impl FinishGuard {
    fn keep(self) -> Option<String> {
        let id = self.0.state.lock().expect("finishing state").1.take();
        id
    }
}

impl Drop for FinishGuard {
    fn drop(&mut self) {
        let mut st = self.0.state.lock().expect("finishing state");
        st.0 = true;
        if let Some(id) = st.1.take() {
            let _ = self.0.blobs.remove(&id);
        }
    }
}

async fn write_batch(
    blobs: &Arc<dyn BlobStore>,
    writer: Option<Box<dyn BlobWriter>>,
    batch: Bytes,
) -> Result<Box<dyn BlobWriter>, AwsError> {
    let blobs = blobs.clone();
    tokio::task::spawn_blocking(move || -> Result<Box<dyn BlobWriter>, AwsError> {
        let mut w = match writer {
            Some(w) => w,
            None => blobs.create().map_err(internal)?,
        };
        w.write_all(&batch).map_err(internal)?;
        Ok(w)
    })
    .await
    .map_err(internal)?
}

/// Streams an object body into a temporary blob, checking it as it goes. Memory stays within
/// one write batch whatever the body's size.
pub async fn receive<B>(
    blobs: &Arc<dyn BlobStore>,
    body: B,
    spec: &BodySpec,
) -> Result<ReceivedBody, AwsError>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let mut body = decoded(body, spec);
    let mut digests = Digests::new(spec);
    let mut writer: Option<Box<dyn BlobWriter>> = None;
    let mut batch = BytesMut::new();
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        match frame.into_data() {
            Ok(data) => {
                if digests.size + data.len() as u64 > spec.declared.unwrap_or(MAX_PUT) {
                    // More than declared: the framing is wrong.
                    return Err(incomplete_body());
                }
                digests.update(&data);
                batch.extend_from_slice(&data);
                if batch.len() >= WRITE_BATCH {
                    let full = std::mem::take(&mut batch).freeze();
                    writer = Some(write_batch(blobs, writer.take(), full).await?);
                }
            }
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers = Some(t);
                }
            }
        }
    }
    let size = digests.size;
    let (md5, checksum) = digests.verify(spec, trailers.as_ref())?;
    if size == 0 && writer.is_none() {
        return Ok(ReceivedBody {
            blob: None,
            size: 0,
            md5,
            checksum,
        });
    }
    // The last batch, and closing the blob, in one blocking call: a small body costs one hop.
    let finishing = Arc::new(Finishing {
        blobs: blobs.clone(),
        state: std::sync::Mutex::new((false, None)),
    });
    let guard = FinishGuard(finishing.clone());
    let last = batch.freeze();
    let store = blobs.clone();
    tokio::task::spawn_blocking(move || -> Result<(), AwsError> {
        let mut w = match writer {
            Some(w) => w,
            None => store.create().map_err(internal)?,
        };
        if !last.is_empty() {
            w.write_all(&last).map_err(internal)?;
        }
        let id = w.id().to_string();
        w.finish().map_err(internal)?;
        finishing.finished(id);
        Ok(())
    })
    .await
    .map_err(internal)??;
    Ok(ReceivedBody {
        blob: guard.keep(),
        size,
        md5,
        checksum,
    })
}

//! The front door: the listener's one handler. It decides which protocol and service a request
//! speaks, has the auth room authenticate it, hands the decoded input to the service, renders
//! the result in the protocol, and writes one log line per request.

pub mod body;
mod internal;
pub mod json;
pub mod query;
mod refusal;
pub mod restxml;
pub mod route;

use crate::app::App;
use crate::auth::Authenticated;
use crate::services::RequestContext;
use body::ResponseBody;
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use route::Route;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// What a protocol handler produced, with what the request log line needs.
pub struct Served {
    pub request_id: String,
    pub service: &'static str,
    pub operation: String,
    pub account: String,
    pub response: Option<Response<ResponseBody>>,
}

impl Served {
    fn new(request_id: &str, service: &'static str, operation: &str) -> Self {
        Served {
            request_id: request_id.to_string(),
            service,
            operation: operation.to_string(),
            account: String::new(),
            response: None,
        }
    }
}

pub async fn handle<B>(
    app: Arc<App>,
    req: Request<B>,
    peer: SocketAddr,
) -> Result<Response<ResponseBody>, Infallible>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    if parts.uri.path().starts_with("/_cairn/") {
        return Ok(internal::handle(&app, parts, body).await);
    }
    let method = parts.method.clone();
    let served = match route::classify(&parts) {
        Route::Json(service, op) => json::serve(&app, parts, body, service, op, peer).await,
        Route::Query => query::serve(&app, parts, body, peer).await,
        Route::RestXml => restxml::serve(&app, parts, body, peer).await,
    };
    let response = served.response.unwrap_or_else(|| {
        restxml::error(
            &crate::error::AwsError::internal("no response"),
            &served.request_id,
            false,
        )
    });
    tracing::info!(
        target: "cairn::request",
        request_id = %served.request_id,
        service = served.service,
        operation = %served.operation,
        account = %served.account,
        method = %method,
        status = response.status().as_u16(),
        latency_us = started.elapsed().as_micros() as u64,
        "request"
    );
    Ok(response)
}

/// The JSON and query protocols buffer the (bounded) body: its hash is part of the signature.
/// Reads it and authenticates the request; the error codes are the protocol's own.
pub(crate) async fn read_and_authenticate<B>(
    app: &App,
    parts: &Parts,
    body: B,
    service: &str,
    too_large: &'static str,
    broken: &'static str,
    refuse: impl FnOnce(crate::auth::Refusal) -> crate::error::AwsError,
) -> Result<(Bytes, Authenticated), crate::error::AwsError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let bytes = read_body(app, parts, body, too_large, broken).await?;
    let authenticated = authenticate_body(app, parts, &bytes, service).map_err(refuse)?;
    Ok((bytes, authenticated))
}

/// The first half of [`read_and_authenticate`]: the (bounded) body.
pub(crate) async fn read_body<B>(
    app: &App,
    parts: &Parts,
    body: B,
    too_large: &'static str,
    broken: &'static str,
) -> Result<Bytes, crate::error::AwsError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    use crate::error::AwsError;
    body::read_limited(&parts.headers, body, app.settings.max_request_body)
        .await
        .map_err(|e| match e {
            body::BodyError::TooLarge => AwsError::new(413, too_large, "Request body is too large"),
            body::BodyError::Broken(m) => AwsError::client(broken, m),
        })
}

/// The second half of [`read_and_authenticate`]: who signed the request with this body.
pub(crate) fn authenticate_body(
    app: &App,
    parts: &Parts,
    bytes: &[u8],
    service: &str,
) -> Result<Authenticated, crate::auth::Refusal> {
    let hash = crate::auth::sigv4::sha256_hex(bytes);
    app.auth.authenticate(&crate::auth::Request {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        body_sha256: Some(&hash),
        s3: false,
        service,
    })
}

/// Notes when a long-term key was last used (GetAccessKeyLastUsed, the credential report), at
/// most once a minute per key: a commit, but rarely one.
pub(crate) async fn note_key_use(app: &App, auth: &Authenticated, service: &str) {
    let p = &auth.principal;
    let now = app.clock.now();
    if !app.auth.key_use_due(p, now.timestamp()) {
        return;
    }
    let used = crate::auth::directory::LastUsed {
        at: now.timestamp_millis(),
        service: service.to_string(),
        region: auth
            .scope
            .as_ref()
            .map(|s| s.region.clone())
            .unwrap_or_else(|| "us-east-1".into()),
    };
    let id = p.access_key_id.clone();
    if let Err(e) = app
        .store
        .write(move |w| crate::auth::directory::note_key_use(w, &id, used))
        .await
    {
        tracing::warn!(error = %e, "could not note an access key's use");
    }
}

/// The context a service sees: who, where from, which region.
pub fn context(
    app: &App,
    parts: &Parts,
    auth: &Authenticated,
    request_id: &str,
    peer: SocketAddr,
) -> RequestContext {
    let user_agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(1024)
                .collect()
        })
        .unwrap_or_default();
    RequestContext {
        request_id: request_id.to_string(),
        principal: auth.principal.clone(),
        region: auth
            .scope
            .as_ref()
            .map(|s| s.region.clone())
            .unwrap_or_else(|| "us-east-1".into()),
        source_ip: peer.ip(),
        user_agent,
        time: app.clock.now(),
        secure: false,
    }
}

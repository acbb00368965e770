//! awsJson1.1 (CloudTrail, Organizations): `POST /`, `X-Amz-Target`, JSON in and out.

use super::body::{full, ResponseBody};
use super::refusal;
use super::route::JsonService;
use super::{context, read_and_authenticate, Served};
use crate::app::App;
use crate::audit::{self, history, record, CallInfo};
use crate::error::AwsError;
use crate::ids;
use crate::services::{catalog, cloudtrail, organizations};
use bytes::Bytes;
use http::request::Parts;
use http::Response;
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

fn service_name(s: JsonService) -> &'static str {
    match s {
        JsonService::CloudTrail => "cloudtrail",
        JsonService::Organizations => "organizations",
        JsonService::Unknown => "unknown",
    }
}

pub async fn serve<B>(
    app: &Arc<App>,
    parts: Parts,
    body: B,
    service: JsonService,
    operation: Option<String>,
    peer: SocketAddr,
) -> Served
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let request_id = ids::uuid_request_id();
    let op = operation.clone().unwrap_or_default();
    let mut served = Served::new(&request_id, service_name(service), &op);
    let partition = super::route::partition(&parts);
    let result = handle(app, &parts, body, service, operation, peer, &mut served).await;
    served.response = Some(match result {
        Ok(value) => {
            let bytes = serde_json::to_vec(&value).unwrap_or_default();
            render(
                200,
                &request_id,
                crate::arn::localize(&bytes, partition).into_owned(),
            )
        }
        Err(mut e) => {
            e.message = localized(&e.message, partition);
            error(&e, &request_id)
        }
    });
    served
}

async fn handle<B>(
    app: &Arc<App>,
    parts: &Parts,
    body: B,
    service: JsonService,
    operation: Option<String>,
    peer: SocketAddr,
    served: &mut Served,
) -> Result<Value, AwsError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let Some(op) = operation else {
        return Err(AwsError::client("UnknownOperationException", ""));
    };
    if service == JsonService::Unknown {
        return Err(AwsError::client("UnknownOperationException", ""));
    }
    let cloudtrail = service == JsonService::CloudTrail;
    let (bytes, authenticated) = read_and_authenticate(
        app,
        parts,
        body,
        service_name(service),
        "RequestEntityTooLargeException",
        "SerializationException",
        |r| refusal::json(r, cloudtrail),
    )
    .await?;
    served.account = authenticated.principal.account.clone();
    let ctx = context(app, parts, &authenticated, &served.request_id, peer);
    super::note_key_use(app, &authenticated, service_name(service)).await;
    let known = match service {
        JsonService::CloudTrail => catalog::CLOUDTRAIL.contains(&op.as_str()),
        JsonService::Organizations => catalog::ORGANIZATIONS.contains(&op.as_str()),
        JsonService::Unknown => false,
    };
    if !known {
        return Err(AwsError::client("UnknownOperationException", ""));
    }
    // ARNs of another partition are taken in as Cairn keeps them.
    let input = parse_input(&bytes).map(|mut m| {
        if crate::arn::partition(&ctx.region) != "aws" {
            m.values_mut().for_each(crate::arn::canonical_json);
        }
        m
    });
    let info = CallInfo {
        event_source: match service {
            JsonService::CloudTrail => "cloudtrail.amazonaws.com",
            _ => "organizations.amazonaws.com",
        },
        event_name: op.clone(),
        // Organizations is a global service: its events are recorded in us-east-1.
        region: match service {
            JsonService::Organizations => "us-east-1".into(),
            _ => ctx.region.clone(),
        },
        read_only: audit::is_read_only(&op),
        management: true,
        request_parameters: input
            .as_ref()
            .ok()
            .filter(|m| !m.is_empty())
            .map(|m| record::lower_camel(&Value::Object(m.clone()))),
        resources: Vec::new(),
        recipient_account: ctx.principal.account.clone(),
        shared_with: None,
        additional_event_data: None,
        lookup_resources: match (service, &input) {
            (JsonService::CloudTrail, Ok(i)) => cloudtrail::lookup_resources(&ctx, i),
            _ => Vec::new(),
        },
    };
    if op == "LookupEvents" {
        // Read-your-writes: what was committed before this call is in the history it reads.
        history::caught_up(
            &app.store,
            &app.history,
            &app.history_nudge,
            std::time::Duration::from_secs(2),
        )
        .await?;
    }
    let app2 = app.clone();
    audit::execute(
        app,
        ctx.clone(),
        info,
        move |w| {
            let input = input.as_ref().map_err(Clone::clone)?;
            match service {
                JsonService::Organizations => organizations::call(&app2, w, &ctx, &op, input),
                _ => cloudtrail::call(&app2, w, &ctx, &op, input),
            }
        },
        |out: &Value| {
            Some(record::lower_camel(out)).filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        },
    )
    .await
}

/// A message's ARNs in the request's partition.
pub fn localized(message: &str, partition: &str) -> String {
    match crate::arn::localize(message.as_bytes(), partition) {
        std::borrow::Cow::Borrowed(_) => message.to_string(),
        std::borrow::Cow::Owned(b) => String::from_utf8(b).unwrap_or_else(|_| message.to_string()),
    }
}

/// The request body as a JSON object; an empty body is `{}`, as botocore may send for no input.
pub fn parse_input(bytes: &[u8]) -> Result<Map<String, Value>, AwsError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(AwsError::client(
            "SerializationException",
            "Start of structure or map found where not expected.",
        )),
        Err(e) => Err(AwsError::client("SerializationException", e.to_string())),
    }
}

fn render(status: u16, request_id: &str, body: Vec<u8>) -> Response<ResponseBody> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
        .header("x-amzn-RequestId", request_id)
        .body(full(body))
        .expect("valid response")
}

pub fn error(e: &AwsError, request_id: &str) -> Response<ResponseBody> {
    let mut m = Map::new();
    m.insert("__type".into(), Value::String(e.code.to_string()));
    if !e.message.is_empty() {
        m.insert("Message".into(), Value::String(e.message.clone()));
    }
    for (k, v) in &e.fields {
        m.insert((*k).into(), Value::String(v.clone()));
    }
    let mut resp = render(
        e.status,
        request_id,
        serde_json::to_vec(&m).unwrap_or_default(),
    );
    if let Ok(v) = http::HeaderValue::from_str(&e.code) {
        resp.headers_mut().insert("x-amzn-ErrorType", v);
    }
    resp
}

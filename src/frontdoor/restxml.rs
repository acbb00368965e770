//! S3's REST-XML: request ids, and errors as S3 words them. The operations arrive with the S3
//! service; until then every authenticated S3 call gets S3's NotImplemented.

use super::body::{empty, full, ResponseBody};
use super::{refusal, Served};
use crate::app::App;
use crate::auth::Request;
use crate::error::AwsError;
use crate::ids;
use bytes::Bytes;
use http::request::Parts;
use http::Response;
use quick_xml::escape::escape;
use std::net::SocketAddr;

pub async fn serve<B>(app: &App, parts: Parts, _body: B, _peer: SocketAddr) -> Served
where
    B: http_body::Body<Data = Bytes>,
{
    let request_id = ids::s3_request_id();
    let mut served = Served::new(&request_id, "s3", "");
    let result: Result<(), AwsError> = (|| {
        let authenticated = app
            .auth
            .authenticate(&Request {
                method: &parts.method,
                uri: &parts.uri,
                headers: &parts.headers,
                body_sha256: None,
                s3: true,
            })
            .map_err(refusal::s3)?;
        served.account = authenticated.principal.account.clone();
        Err(AwsError::new(
            501,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
        ))
    })();
    if let Err(e) = result {
        served.response = Some(error(&e, &request_id, parts.method == http::Method::HEAD));
    }
    served
}

pub fn error(e: &AwsError, request_id: &str, head: bool) -> Response<ResponseBody> {
    let builder = Response::builder()
        .status(e.status)
        .header("x-amz-request-id", request_id)
        .header("x-amz-id-2", ids::s3_host_id());
    // HEAD responses carry no body; clients read the status alone.
    if head {
        return builder.body(empty()).expect("valid response");
    }
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
    body.push_str(&escape(e.code.as_ref()));
    body.push_str("</Code><Message>");
    body.push_str(&escape(e.message.as_str()));
    body.push_str("</Message>");
    for (k, v) in &e.fields {
        body.push_str(&format!("<{k}>{}</{k}>", escape(v.as_str())));
    }
    body.push_str(&format!(
        "<RequestId>{request_id}</RequestId><HostId>{}</HostId></Error>",
        ids::s3_host_id()
    ));
    builder
        .header(http::header::CONTENT_TYPE, "application/xml")
        .body(full(body))
        .expect("valid response")
}

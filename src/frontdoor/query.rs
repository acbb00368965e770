//! The query protocol (STS and IAM): form-encoded `Action=...` in, XML out. The credential
//! scope says which service; unsigned requests (STS's federation calls) are STS's.

use super::body::{full, ResponseBody};
use super::{context, refusal, Served};
use crate::app::App;
use crate::audit::{self, record, CallInfo};
use crate::auth::Authenticated;
use crate::error::AwsError;
use crate::ids;
use crate::services::{iam, sts, QueryParams};
use bytes::Bytes;
use http::request::Parts;
use http::Response;
use quick_xml::escape::escape;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;

/// The services that speak the query protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryService {
    Sts,
    Iam,
}

impl QueryService {
    /// From the credential scope's service; anything but `iam` is STS's.
    pub fn of(scope_service: Option<&str>) -> Self {
        match scope_service {
            Some("iam") => QueryService::Iam,
            _ => QueryService::Sts,
        }
    }

    fn name(self) -> &'static str {
        match self {
            QueryService::Sts => "sts",
            QueryService::Iam => "iam",
        }
    }

    fn namespace(self) -> &'static str {
        match self {
            QueryService::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
            QueryService::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
        }
    }
}

pub async fn serve<B>(app: &Arc<App>, parts: Parts, body: B, peer: SocketAddr) -> Served
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let request_id = ids::uuid_request_id();
    let service = QueryService::of(super::route::scope_service(&parts).as_deref());
    let mut served = Served::new(&request_id, service.name(), "");
    let partition = super::route::partition(&parts);
    let result = handle(app, &parts, body, peer, service, &mut served).await;
    served.response = Some(match result {
        Ok(value) => success(service, &served.operation, &value, &request_id, partition),
        Err(mut e) => {
            e.message = super::json::localized(&e.message, partition);
            error_in(service, &e, &request_id)
        }
    });
    served
}

async fn handle<B>(
    app: &Arc<App>,
    parts: &Parts,
    body: B,
    peer: SocketAddr,
    service: QueryService,
    served: &mut Served,
) -> Result<Value, AwsError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let bytes = super::read_body(
        app,
        parts,
        body,
        "RequestEntityTooLarge",
        "MalformedQueryString",
    )
    .await?;
    let authenticated = match super::authenticate_body(app, parts, &bytes, service.name()) {
        Ok(a) => a,
        // STS's federation calls are made without credentials: the token or assertion they
        // carry speaks for the caller.
        Err(crate::auth::Refusal::Missing)
            if service == QueryService::Sts
                && parameters(parts, &bytes)
                    .is_ok_and(|p| p.get("Action").is_some_and(sts::unsigned)) =>
        {
            Authenticated {
                principal: crate::auth::Principal {
                    account: String::new(),
                    kind: crate::auth::PrincipalKind::Anonymous,
                    access_key_id: String::new(),
                    session: None,
                },
                scope: None,
                auth_type: crate::auth::AuthType::None,
                chunks: None,
            }
        }
        Err(r) => return Err(refusal::query(r)),
    };
    served.account = authenticated.principal.account.clone();
    let mut params = parameters(parts, &bytes)?;
    // ARNs of another partition are taken in as Cairn keeps them.
    for (_, v) in params.0.iter_mut() {
        if let std::borrow::Cow::Owned(c) = crate::arn::canonical(v) {
            *v = c;
        }
    }
    let action = params
        .get("Action")
        .ok_or_else(|| AwsError::client("MissingAction", "Missing Action"))?
        .to_string();
    served.operation = action.clone();
    let mut ctx = context(app, parts, &authenticated, &served.request_id, peer);
    if service == QueryService::Sts {
        // Who a federation call is for is who its token or assertion names.
        if let Some(p) = sts::federated_caller(&action, &params) {
            served.account = p.account.clone();
            ctx.principal = p;
        }
    }
    super::note_key_use(app, &authenticated, service.name()).await;
    let (known, version) = match service {
        QueryService::Sts => (sts::known(&action), "2011-06-15"),
        QueryService::Iam => (iam::known(&action), "2010-05-08"),
    };
    if !known {
        return Err(AwsError::client(
            "InvalidAction",
            format!("Could not find operation {action} for version {version}"),
        ));
    }
    let info = CallInfo {
        event_source: match service {
            QueryService::Sts => "sts.amazonaws.com",
            QueryService::Iam => "iam.amazonaws.com",
        },
        event_name: action.clone(),
        // IAM is a global service: its events are recorded in us-east-1.
        region: match service {
            QueryService::Sts => ctx.region.clone(),
            QueryService::Iam => "us-east-1".into(),
        },
        read_only: audit::is_read_only(&action),
        management: true,
        request_parameters: match service {
            QueryService::Sts => sts::request_parameters(&params),
            QueryService::Iam => iam::request_parameters(&params),
        },
        resources: Vec::new(),
        recipient_account: ctx.principal.account.clone(),
        shared_with: None,
        additional_event_data: None,
        lookup_resources: Vec::new(),
    };
    let app2 = app.clone();
    audit::execute(
        app,
        ctx.clone(),
        info,
        move |w| match service {
            QueryService::Sts => sts::call(&app2, w, &ctx, &action, &params),
            QueryService::Iam => iam::call(&app2, w, &ctx, &action, &params),
        },
        |out: &Value| {
            Some(record::lower_camel(out)).filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        },
    )
    .await
}

/// Parameters from the query string (minus presigning fields) and the form body.
fn parameters(parts: &Parts, body: &[u8]) -> Result<QueryParams, AwsError> {
    let mut out = Vec::new();
    if let Some(q) = parts.uri.query() {
        for (k, v) in decode_form(q.as_bytes())? {
            if !k.starts_with("X-Amz-") {
                out.push((k, v));
            }
        }
    }
    out.extend(decode_form(body)?);
    Ok(QueryParams(out))
}

/// `application/x-www-form-urlencoded`, refusing bytes that are not UTF-8 once decoded.
fn decode_form(input: &[u8]) -> Result<Vec<(String, String)>, AwsError> {
    let malformed = || {
        AwsError::client(
            "MalformedQueryString",
            "The query string is not valid UTF-8 form data.",
        )
    };
    let decode = |s: &[u8]| -> Result<String, AwsError> {
        let plus: Vec<u8> = s
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_encoding::percent_decode(&plus)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| malformed())
    };
    input
        .split(|&b| b == b'&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let mut it = kv.splitn(2, |&b| b == b'=');
            let k = decode(it.next().unwrap_or_default())?;
            let v = decode(it.next().unwrap_or_default())?;
            Ok((k, v))
        })
        .collect()
}

/// JSON output → the query protocol's XML: objects become elements in order, arrays `<member>`s,
/// and a map (an object `{"$entries": [[key, value], ...]}`) `<entry><key/><value/></entry>`s.
fn write_xml(out: &mut String, value: &Value) {
    match value {
        Value::Object(m) if m.len() == 1 && m.contains_key("$entries") => {
            for e in m["$entries"].as_array().into_iter().flatten() {
                out.push_str("<entry><key>");
                write_xml(out, &e[0]);
                out.push_str("</key><value>");
                write_xml(out, &e[1]);
                out.push_str("</value></entry>");
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                if v.is_null() {
                    continue;
                }
                out.push('<');
                out.push_str(k);
                out.push('>');
                write_xml(out, v);
                out.push_str("</");
                out.push_str(k);
                out.push('>');
            }
        }
        Value::Array(items) => {
            for v in items {
                out.push_str("<member>");
                write_xml(out, v);
                out.push_str("</member>");
            }
        }
        Value::String(s) => out.push_str(&escape(s.as_str())),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Null => {}
    }
}

fn success(
    service: QueryService,
    action: &str,
    value: &Value,
    request_id: &str,
    partition: &str,
) -> Response<ResponseBody> {
    let ns = service.namespace();
    let mut body = format!("<{action}Response xmlns=\"{ns}\">\n");
    // An operation with no output shape has no Result element.
    if !value.is_null() {
        body.push_str(&format!("  <{action}Result>"));
        write_xml(&mut body, value);
        body.push_str(&format!("</{action}Result>\n"));
    }
    body.push_str(&format!(
        "  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n"
    ));
    let body = match crate::arn::localize(body.as_bytes(), partition) {
        std::borrow::Cow::Borrowed(_) => body,
        std::borrow::Cow::Owned(b) => String::from_utf8(b).unwrap_or_default(),
    };
    render(200, request_id, body)
}

/// An STS error (refusals before the service is known are worded as STS's).
pub fn error(e: &AwsError, request_id: &str) -> Response<ResponseBody> {
    error_in(QueryService::Sts, e, request_id)
}

pub fn error_in(service: QueryService, e: &AwsError, request_id: &str) -> Response<ResponseBody> {
    let ns = service.namespace();
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        "<ErrorResponse xmlns=\"{ns}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
        escape(e.code.as_ref()),
        escape(e.message.as_str())
    );
    render(e.status, request_id, body)
}

fn render(status: u16, request_id: &str, body: String) -> Response<ResponseBody> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/xml")
        .header("x-amzn-RequestId", request_id)
        .body(full(body))
        .expect("valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        let got = decode_form(b"Action=AssumeRole&RoleSessionName=a+b%2Bc&Empty=&Flag").unwrap();
        assert_eq!(
            got,
            vec![
                ("Action".into(), "AssumeRole".into()),
                ("RoleSessionName".into(), "a b+c".into()),
                ("Empty".into(), "".into()),
                ("Flag".into(), "".into())
            ]
        );
        assert!(decode_form(b"Action=%FF%FE").is_err());
    }

    #[test]
    fn xml_of_json() {
        let mut s = String::new();
        write_xml(
            &mut s,
            &serde_json::json!({"A": "x<y", "B": {"C": 1}, "L": ["p", "q"], "N": null}),
        );
        assert_eq!(
            s,
            "<A>x&lt;y</A><B><C>1</C></B><L><member>p</member><member>q</member></L>"
        );
    }
}

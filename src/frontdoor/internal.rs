//! Cairn's own endpoints under `/_cairn/`: health, and for test suites (only with
//! `--allow-reset`) a reset to first start and a movable clock.

use super::body::{full, ResponseBody};
use crate::app::App;
use http::request::Parts;
use http::{Method, Response};
use serde_json::json;

fn reply(status: u16, body: serde_json::Value) -> Response<ResponseBody> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(full(body.to_string()))
        .expect("valid response")
}

pub async fn handle<B>(app: &App, parts: Parts, _body: B) -> Response<ResponseBody> {
    match (&parts.method, parts.uri.path()) {
        (&Method::GET, "/_cairn/health") | (&Method::HEAD, "/_cairn/health") => reply(
            200,
            json!({
                "status": "ok",
                "version": env!("CARGO_PKG_VERSION"),
                "managementAccountId": app.settings.management_account_id,
            }),
        ),
        (&Method::POST, "/_cairn/reset") if app.settings.allow_reset => match app.reset().await {
            // Answered only once the wipe is committed.
            Ok(()) => reply(200, json!({"reset": true})),
            Err(e) => reply(500, json!({"error": e.to_string()})),
        },
        (&Method::POST, "/_cairn/clock") if app.settings.allow_reset => {
            let seconds = parts
                .uri
                .query()
                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("advance=")))
                .and_then(|v| v.parse::<i64>().ok());
            match seconds {
                Some(s) => {
                    app.clock.advance(chrono::Duration::seconds(s));
                    reply(200, json!({"now": app.clock.now().to_rfc3339()}))
                }
                None => reply(400, json!({"error": "expected ?advance=<seconds>"})),
            }
        }
        (&Method::POST, "/_cairn/reset") | (&Method::POST, "/_cairn/clock") => reply(
            403,
            json!({"error": "disabled: start the server with --allow-reset"}),
        ),
        _ => reply(404, json!({"error": "no such Cairn endpoint"})),
    }
}

//! Which protocol and service a request speaks, before anything is authenticated.

use http::request::Parts;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonService {
    CloudTrail,
    Organizations,
    /// An `X-Amz-Target` naming no service Cairn serves.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// awsJson1.1 with the operation from `X-Amz-Target` (None when the header is missing).
    Json(JsonService, Option<String>),
    /// The query protocol (STS, IAM); the action is read from the query string or the form body.
    Query,
    /// S3's REST-XML.
    RestXml,
}

const ORGANIZATIONS_TARGET: &str = "AWSOrganizationsV20161128.";
const CLOUDTRAIL_TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

/// The service named in the SigV4 credential scope (`.../<region>/<service>/aws4_request`), from
/// the Authorization header or a presigned URL.
pub fn scope_service(parts: &Parts) -> Option<String> {
    scope_part(parts, 3)
}

/// The region named in the SigV4 credential scope.
pub fn scope_region(parts: &Parts) -> Option<String> {
    scope_part(parts, 2)
}

/// The partition a request is made in: its signing region's.
pub fn partition(parts: &Parts) -> &'static str {
    scope_region(parts)
        .map(|r| crate::arn::partition(&r))
        .unwrap_or("aws")
}

fn scope_part(parts: &Parts, index: usize) -> Option<String> {
    let credential = match parts.headers.get(http::header::AUTHORIZATION) {
        Some(v) => {
            let v = v.to_str().ok()?;
            let start = v.find("Credential=")? + "Credential=".len();
            let rest = &v[start..];
            rest[..rest.find([',', ' ']).unwrap_or(rest.len())].to_string()
        }
        None => {
            let q = parts.uri.query()?;
            let raw = q
                .split('&')
                .find_map(|kv| kv.strip_prefix("X-Amz-Credential="))?;
            percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .ok()?
                .into_owned()
        }
    };
    let mut it = credential.split('/');
    it.nth(index).map(str::to_string)
}

pub fn classify(parts: &Parts) -> Route {
    if let Some(target) = parts.headers.get("x-amz-target") {
        let target = String::from_utf8_lossy(target.as_bytes()).into_owned();
        if let Some(op) = target.strip_prefix(ORGANIZATIONS_TARGET) {
            return Route::Json(JsonService::Organizations, Some(op.to_string()));
        }
        if let Some(op) = target.strip_prefix(CLOUDTRAIL_TARGET) {
            return Route::Json(JsonService::CloudTrail, Some(op.to_string()));
        }
        return Route::Json(JsonService::Unknown, Some(target));
    }
    // The credential scope is authoritative for signed requests.
    match scope_service(parts).as_deref() {
        Some("sts") | Some("iam") => return Route::Query,
        Some("organizations") => return Route::Json(JsonService::Organizations, None),
        Some("cloudtrail") => return Route::Json(JsonService::CloudTrail, None),
        Some("s3") => return Route::RestXml,
        _ => {}
    }
    // Unsigned requests: a query-protocol call names its Action; everything else is S3.
    let path_is_root = parts.uri.path() == "/";
    let has_action = parts
        .uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("Action=")));
    let is_form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if path_is_root && (has_action || (parts.method == http::Method::POST && is_form)) {
        Route::Query
    } else {
        Route::RestXml
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn routes() {
        let auth = |svc: &str| {
            format!("AWS4-HMAC-SHA256 Credential=AKIA/20261123/us-east-2/{svc}/aws4_request, SignedHeaders=host, Signature=00")
        };
        assert_eq!(
            classify(&parts(
                "POST",
                "/",
                &[("x-amz-target", "AWSOrganizationsV20161128.ListRoots")]
            )),
            Route::Json(JsonService::Organizations, Some("ListRoots".into()))
        );
        assert_eq!(
            classify(&parts(
                "POST",
                "/",
                &[(
                    "x-amz-target",
                    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateTrail"
                )]
            )),
            Route::Json(JsonService::CloudTrail, Some("CreateTrail".into()))
        );
        assert_eq!(
            classify(&parts(
                "POST",
                "/",
                &[("x-amz-target", "DynamoDB_20120810.ListTables")]
            )),
            Route::Json(
                JsonService::Unknown,
                Some("DynamoDB_20120810.ListTables".into())
            )
        );
        assert_eq!(
            classify(&parts("POST", "/", &[("authorization", &auth("sts"))])),
            Route::Query
        );
        assert_eq!(
            classify(&parts(
                "GET",
                "/bucket/key",
                &[("authorization", &auth("s3"))]
            )),
            Route::RestXml
        );
        assert_eq!(
            classify(&parts(
                "POST",
                "/",
                &[("authorization", &auth("organizations"))]
            )),
            Route::Json(JsonService::Organizations, None)
        );
        assert_eq!(
            classify(&parts(
                "GET",
                "/?Action=GetCallerIdentity&Version=2011-06-15",
                &[]
            )),
            Route::Query
        );
        assert_eq!(
            classify(&parts(
                "POST",
                "/",
                &[(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8"
                )]
            )),
            Route::Query
        );
        assert_eq!(classify(&parts("GET", "/", &[])), Route::RestXml);
        assert_eq!(
            classify(&parts(
                "GET",
                "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261123%2Fus-east-1%2Fs3%2Faws4_request",
                &[]
            )),
            Route::RestXml
        );
    }
}

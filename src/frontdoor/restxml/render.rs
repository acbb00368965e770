//! S3 responses: errors as S3 words them (no body for HEAD), and the response documents and
//! headers of each operation.

use crate::error::AwsError;
use crate::frontdoor::body::{empty, full, ResponseBody};
use crate::ids;
use crate::services::s3::acl::{AclView, Grantee};
use crate::services::s3::listing::{Entry, ListOutput};
use crate::services::s3::xml::Writer;
use crate::services::s3::{acl, http_time, xml_time, Checksum, Object};
use http::response::Builder;
use http::{Response, StatusCode};
use quick_xml::escape::escape;

/// A response with S3's request id headers.
pub fn builder(status: u16, request_id: &str) -> Builder {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("x-amz-request-id", request_id)
        .header("x-amz-id-2", ids::s3_host_id())
        .header("server", "AmazonS3")
}

pub fn xml(status: u16, request_id: &str, body: String) -> Response<ResponseBody> {
    builder(status, request_id)
        .header(http::header::CONTENT_TYPE, "application/xml")
        .body(full(body))
        .expect("valid response")
}

/// An empty answer (200 or 204).
pub fn no_content(status: u16, request_id: &str) -> Response<ResponseBody> {
    builder(status, request_id)
        .body(empty())
        .expect("valid response")
}

pub fn error(e: &AwsError, request_id: &str, head: bool) -> Response<ResponseBody> {
    let mut builder = builder(e.status, request_id);
    // The generic internal failure is InternalError in S3's vocabulary.
    let code = if e.code == "InternalFailure" {
        "InternalError"
    } else {
        e.code.as_ref()
    };
    if let Some((_, region)) = e.fields.iter().find(|(k, _)| *k == "BucketRegion") {
        builder = builder.header("x-amz-bucket-region", region.as_str());
    }
    // Fields named as headers (`x-amz-delete-marker`, `x-amz-version-id`, `Allow`) are headers.
    for (k, v) in e.fields.iter().filter(|(k, _)| is_header_field(k)) {
        builder = builder.header(*k, header_value(v));
    }
    // HEAD responses carry no body; clients read the status alone.
    if head {
        return builder.body(empty()).expect("valid response");
    }
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
    body.push_str(&escape(code));
    body.push_str("</Code><Message>");
    body.push_str(&escape(e.message.as_str()));
    body.push_str("</Message>");
    for (k, v) in &e.fields {
        if *k == "BucketRegion" || is_header_field(k) {
            continue;
        }
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

fn is_header_field(name: &str) -> bool {
    name.starts_with("x-amz-") || name == "Allow"
}

/// Percent-encodes every byte but `A-Z a-z 0-9 - _ . ~ /` (`encoding-type=url`); so `+`
/// becomes `%2B`, which botocore's `unquote_plus` needs.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Text of a listing field, encoded when the request asked for `encoding-type=url`.
pub fn enc(s: &str, url: bool) -> String {
    if url {
        url_encode(s)
    } else {
        s.to_string()
    }
}

pub fn owner(w: &mut Writer, account: &str) {
    w.open("Owner")
        .elem("ID", &acl::canonical_id(account))
        .close("Owner");
}

pub fn checksum_elements(w: &mut Writer, c: &Option<Checksum>) {
    if let Some(c) = c {
        w.elem(c.algorithm.element(), &c.value);
        w.elem("ChecksumType", &c.kind);
    }
}

pub fn acl_document(view: &AclView) -> String {
    let mut w = Writer::document("AccessControlPolicy");
    w.open("Owner").elem("ID", &view.owner).close("Owner");
    w.open("AccessControlList");
    for g in &view.grants {
        w.open("Grant");
        match &g.grantee {
            Grantee::CanonicalUser(id) => {
                w.open_with(
                    "Grantee",
                    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"",
                )
                .elem("ID", id)
                .close("Grantee");
            }
            Grantee::Group(uri) => {
                w.open_with(
                    "Grantee",
                    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"",
                )
                .elem("URI", uri)
                .close("Grantee");
            }
        }
        w.elem("Permission", g.permission.name());
        w.close("Grant");
    }
    w.close("AccessControlList");
    w.finish("AccessControlPolicy")
}

/// One `<Contents>` of a listing.
fn contents(w: &mut Writer, key: &str, o: &Object, url: bool, with_owner: bool) {
    w.open("Contents")
        .elem("Key", &enc(key, url))
        .elem("LastModified", &xml_time(o.modified_at()))
        .elem("ETag", &o.etag);
    if let Some(c) = &o.checksum {
        w.elem("ChecksumAlgorithm", c.algorithm.name());
        w.elem("ChecksumType", &c.kind);
    }
    w.elem("Size", &o.size.to_string());
    if with_owner {
        owner(w, &o.owner);
    }
    w.elem(
        "StorageClass",
        o.storage_class.as_deref().unwrap_or("STANDARD"),
    )
    .close("Contents");
}

pub struct ListEcho<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    pub url: bool,
    /// v1 `Marker`.
    pub marker: Option<&'a str>,
    /// v2 `ContinuationToken`, `StartAfter`, `fetch-owner`.
    pub continuation_token: Option<&'a str>,
    pub start_after: Option<&'a str>,
    pub fetch_owner: bool,
}

pub fn list_document(out: &ListOutput, echo: &ListEcho, v2: bool) -> String {
    let url = echo.url;
    let mut w = Writer::document("ListBucketResult");
    w.elem("Name", echo.bucket);
    w.elem("Prefix", &enc(echo.prefix, url));
    if v2 {
        w.elem("MaxKeys", &out.max_keys.to_string());
        w.elem("KeyCount", &out.entries.len().to_string());
        w.opt("Delimiter", echo.delimiter.map(|d| enc(d, url)).as_deref());
        w.elem("IsTruncated", if out.truncated { "true" } else { "false" });
        if url {
            w.elem("EncodingType", "url");
        }
        w.opt("ContinuationToken", echo.continuation_token);
        w.opt(
            "NextContinuationToken",
            out.next_continuation_token.as_deref(),
        );
        w.opt(
            "StartAfter",
            echo.start_after.map(|s| enc(s, url)).as_deref(),
        );
    } else {
        w.elem("Marker", &enc(echo.marker.unwrap_or(""), url));
        // Only with a delimiter: without one the client continues from the last key.
        if echo.delimiter.is_some() {
            w.opt(
                "NextMarker",
                out.last.as_deref().map(|m| enc(m, url)).as_deref(),
            );
        }
        w.elem("MaxKeys", &out.max_keys.to_string());
        w.opt("Delimiter", echo.delimiter.map(|d| enc(d, url)).as_deref());
        w.elem("IsTruncated", if out.truncated { "true" } else { "false" });
        if url {
            w.elem("EncodingType", "url");
        }
    }
    for e in &out.entries {
        if let Entry::Key(k, o) = e {
            contents(&mut w, k, o, url, !v2 || echo.fetch_owner);
        }
    }
    for e in &out.entries {
        if let Entry::Prefix(p) = e {
            w.open("CommonPrefixes")
                .elem("Prefix", &enc(p, url))
                .close("CommonPrefixes");
        }
    }
    w.finish("ListBucketResult")
}

/// The headers GetObject and HeadObject share.
pub fn object_headers(mut b: Builder, o: &Object) -> Builder {
    b = b
        .header(http::header::ETAG, o.etag.as_str())
        .header(http::header::LAST_MODIFIED, http_time(o.modified_at()))
        .header(http::header::ACCEPT_RANGES, "bytes")
        .header(
            http::header::CONTENT_TYPE,
            o.headers
                .content_type
                .as_deref()
                .unwrap_or("binary/octet-stream"),
        );
    let h = &o.headers;
    for (name, value) in [
        ("content-encoding", &h.content_encoding),
        ("content-disposition", &h.content_disposition),
        ("content-language", &h.content_language),
        ("cache-control", &h.cache_control),
        ("expires", &h.expires),
    ] {
        if let Some(v) = value {
            b = b.header(name, header_value(v));
        }
    }
    for (k, v) in &o.metadata {
        b = b.header(format!("x-amz-meta-{k}"), header_value(v));
    }
    if let Some(c) = &o.storage_class {
        b = b.header("x-amz-storage-class", c.as_str());
    }
    for (name, value) in crate::services::s3::encryption::of_object(o).headers() {
        b = b.header(name, header_value(&value));
    }
    if !o.tags.is_empty() {
        b = b.header("x-amz-tagging-count", o.tags.len());
    }
    if let Some(v) = crate::services::s3::versions::header_of(o) {
        b = b.header("x-amz-version-id", v);
    }
    if let Some(r) = &o.retention {
        b = b.header("x-amz-object-lock-mode", r.mode.as_str()).header(
            "x-amz-object-lock-retain-until-date",
            crate::services::s3::xml_time(r.until_at()),
        );
    }
    if let Some(h) = &o.legal_hold {
        b = b.header("x-amz-object-lock-legal-hold", header_value(h));
    }
    b
}

/// A stored value as a header (values that are not visible ASCII were received as
/// ISO-8859-1 bytes and go back the same way).
pub fn header_value(v: &str) -> http::HeaderValue {
    http::HeaderValue::from_str(v).unwrap_or_else(|_| {
        let bytes: Vec<u8> = v
            .chars()
            .map(|c| if (c as u32) < 256 { c as u8 } else { b'?' })
            .collect();
        http::HeaderValue::from_bytes(&bytes).unwrap_or_else(|_| http::HeaderValue::from_static(""))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("a b+c/d~e"), "a%20b%2Bc/d~e");
        assert_eq!(url_encode("é"), "%C3%A9");
    }
}

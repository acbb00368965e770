//! Turns the `Authorization` header or presign query parameters into a
//! [`Parsed`] value, validating shape only (no key lookup, no signature).

use chrono::{DateTime, Utc};
use http::{header, HeaderMap, Method, Uri};

use super::canonical::{header_text, percent_decode};
use super::time::{format_amz_date, parse_amz_date, parse_http_date};
use super::{AuthFailure, Location, Parsed, ParsedAuth, Scope};

pub(super) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// AWS's upper bound for X-Amz-Expires: seven days.
pub const MAX_PRESIGN_EXPIRES: u64 = 604_800;

const QUERY_V4_REQUIRED: &str = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";
const QUERY_V2_REQUIRED: &str =
    "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters";
const CREDENTIAL_SHAPE: &str =
    "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";

/// Decoded query parameters in wire order. Keys and values are decoded with
/// `+` kept literal, matching how the canonical query treats them.
fn query_params(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|seg| {
            let (k, v) = seg.split_once('=').unwrap_or((seg, ""));
            (
                String::from_utf8_lossy(&percent_decode(k)).into_owned(),
                String::from_utf8_lossy(&percent_decode(v)).into_owned(),
            )
        })
        .collect()
}

/// The single value of query parameter `name` (exact case); a repeated
/// auth parameter is ambiguous and rejected.
fn single<'a>(
    params: &'a [(String, String)],
    name: &str,
    eq: fn(&str, &str) -> bool,
) -> Result<Option<&'a str>, AuthFailure> {
    let mut found = None;
    for (k, v) in params {
        if eq(k, name) {
            if found.is_some() {
                return Err(AuthFailure::MalformedQuery(format!(
                    "Query parameter {name} must appear only once"
                )));
            }
            found = Some(v.as_str());
        }
    }
    Ok(found)
}

fn exact(a: &str, b: &str) -> bool {
    a == b
}

fn ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Identifies the authentication mechanism of a request and parses it.
///
/// No `Authorization` header and no auth query parameters → `Anonymous`.
/// For header auth the timestamp is `X-Amz-Date`, else `Date` (RFC 1123);
/// either way `amz_date` is the `yyyymmddThhmmssZ` form that goes into the
/// string to sign, as botocore computes it.
pub fn parse(_method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<Parsed, AuthFailure> {
    let params = query_params(uri);
    let has = |name: &str| params.iter().any(|(k, _)| k == name);
    let v4_query = has("X-Amz-Algorithm") || has("X-Amz-Credential") || has("X-Amz-Signature");
    let v2_query = has("AWSAccessKeyId") || has("Signature");
    let mut auth_headers = headers.get_all(header::AUTHORIZATION).iter();
    let auth_header = auth_headers.next();
    if auth_headers.next().is_some() {
        return Err(AuthFailure::MalformedHeader(
            "Only one Authorization header is allowed".to_owned(),
        ));
    }
    let mechanisms =
        usize::from(auth_header.is_some()) + usize::from(v4_query) + usize::from(v2_query);
    if mechanisms > 1 {
        return Err(AuthFailure::MultipleAuth);
    }
    if let Some(value) = auth_header {
        let text = value.to_str().map_err(|_| {
            AuthFailure::MalformedHeader(
                "Authorization header contains invalid characters".to_owned(),
            )
        })?;
        return parse_header(text, headers).map(Parsed::V4);
    }
    if v4_query {
        return parse_v4_query(&params).map(Parsed::V4);
    }
    if v2_query {
        return parse_v2_query(&params);
    }
    Ok(Parsed::Anonymous)
}

fn parse_header(text: &str, headers: &HeaderMap) -> Result<ParsedAuth, AuthFailure> {
    let text = text.trim();
    let (scheme, rest) = match text.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((s, r)) => (s, r.trim_start()),
        None => (text, ""),
    };
    if scheme != ALGORITHM {
        return Err(AuthFailure::UnsupportedAlgorithm(scheme.to_owned()));
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(AuthFailure::MalformedHeader(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{text}'."
            )));
        };
        let slot = match k.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            // Unknown components do not affect the signature; AWS ignores them.
            _ => continue,
        };
        if slot.replace(v.trim()).is_some() {
            return Err(AuthFailure::MalformedHeader(format!(
                "Authorization header has a repeated '{}' parameter.",
                k.trim()
            )));
        }
    }
    let mut missing = Vec::new();
    for (name, value) in [
        ("Credential", &credential),
        ("Signature", &signature),
        ("SignedHeaders", &signed_headers),
    ] {
        if value.is_none() {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(AuthFailure::Incomplete(missing.join(" ")));
    };

    let scope = parse_credential(credential).map_err(AuthFailure::MalformedHeader)?;
    let signed_headers =
        parse_signed_headers(signed_headers).map_err(AuthFailure::MalformedHeader)?;
    require_host(&signed_headers)?;

    let (timestamp, amz_date) = header_timestamp(headers)?;
    check_scope_date(&scope, &amz_date)?;
    let security_token = headers
        .get("x-amz-security-token")
        .map(|v| header_text(v.as_bytes()));
    Ok(ParsedAuth {
        scope,
        signed_headers,
        signature: signature.to_owned(),
        amz_date,
        timestamp,
        location: Location::Header,
        expires_secs: None,
        security_token,
    })
}

/// `X-Amz-Date` wins over `Date` (the SigV4 rule); only one is sent by
/// botocore, which keeps `Date` only when the caller set it.
fn header_timestamp(headers: &HeaderMap) -> Result<(DateTime<Utc>, String), AuthFailure> {
    if let Some(v) = headers.get("x-amz-date") {
        let s = header_text(v.as_bytes());
        let t = parse_amz_date(s.trim()).ok_or(AuthFailure::InvalidDate(s))?;
        return Ok((t, format_amz_date(t)));
    }
    if let Some(v) = headers.get(header::DATE) {
        let s = header_text(v.as_bytes());
        let t = parse_http_date(&s).ok_or(AuthFailure::InvalidDate(s))?;
        return Ok((t, format_amz_date(t)));
    }
    Err(AuthFailure::MissingDate)
}

fn check_scope_date(scope: &Scope, amz_date: &str) -> Result<(), AuthFailure> {
    if scope.date != amz_date[..8] {
        return Err(AuthFailure::ScopeDateMismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'",
            scope.date,
            &amz_date[..8],
            amz_date
        )));
    }
    Ok(())
}

/// `<AKID>/<yyyymmdd>/<region>/<service>/aws4_request`, exactly five parts.
fn parse_credential(credential: &str) -> Result<Scope, String> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, service, terminator] = parts[..] else {
        return Err(CREDENTIAL_SHAPE.to_owned());
    };
    if terminator != "aws4_request" {
        return Err(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        ));
    }
    if akid.is_empty() {
        return Err(CREDENTIAL_SHAPE.to_owned());
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "Invalid credential date \"{date}\". This date is not the same as X-Amz-Date: \"{date}\"."
        ));
    }
    if region.is_empty() {
        return Err("Credential should be scoped to a valid region.".to_owned());
    }
    if service.is_empty() {
        return Err("Credential should be scoped to correct service.".to_owned());
    }
    Ok(Scope {
        access_key_id: akid.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
    })
}

fn parse_signed_headers(list: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = list
        .split(';')
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    if names.iter().any(String::is_empty) {
        return Err(format!(
            "SignedHeaders '{list}' contains an empty header name."
        ));
    }
    Ok(names)
}

fn require_host(names: &[String]) -> Result<(), AuthFailure> {
    if names.iter().any(|n| n == "host") {
        Ok(())
    } else {
        Err(AuthFailure::HostNotSigned)
    }
}

fn parse_v4_query(params: &[(String, String)]) -> Result<ParsedAuth, AuthFailure> {
    let get = |name| single(params, name, exact);
    let algorithm = get("X-Amz-Algorithm")?;
    let credential = get("X-Amz-Credential")?;
    let signature = get("X-Amz-Signature")?;
    let date = get("X-Amz-Date")?;
    let signed_headers = get("X-Amz-SignedHeaders")?;
    let expires = get("X-Amz-Expires")?;
    let security_token = get("X-Amz-Security-Token")?.map(str::to_owned);
    let (Some(algorithm), Some(credential), Some(signature), Some(date), Some(signed_headers)) =
        (algorithm, credential, signature, date, signed_headers)
    else {
        return Err(AuthFailure::QueryIncomplete(QUERY_V4_REQUIRED.to_owned()));
    };
    if algorithm != ALGORITHM {
        return Err(AuthFailure::UnsupportedAlgorithm(algorithm.to_owned()));
    }
    let scope = parse_credential(credential).map_err(|m| {
        AuthFailure::MalformedQuery(format!("Error parsing the X-Amz-Credential parameter; {m}"))
    })?;
    // S3 insists on an expiry; STS-style presigns (EKS tokens, Vault) may omit
    // it and are then held to the ordinary clock-skew window.
    if expires.is_none() && scope.service == "s3" {
        return Err(AuthFailure::QueryIncomplete(QUERY_V4_REQUIRED.to_owned()));
    }
    let expires_secs = expires.map(parse_x_amz_expires).transpose()?;
    let signed_headers =
        parse_signed_headers(signed_headers).map_err(AuthFailure::MalformedQuery)?;
    require_host(&signed_headers)?;
    let timestamp = parse_amz_date(date).ok_or_else(|| {
        AuthFailure::MalformedQuery(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"".to_owned(),
        )
    })?;
    let amz_date = format_amz_date(timestamp);
    check_scope_date(&scope, &amz_date)?;
    Ok(ParsedAuth {
        scope,
        signed_headers,
        signature: signature.to_owned(),
        amz_date,
        timestamp,
        location: Location::Query,
        expires_secs,
        security_token,
    })
}

/// X-Amz-Expires must be an integer in 1..=604800.
fn parse_x_amz_expires(value: &str) -> Result<u64, AuthFailure> {
    let n: i128 = value
        .parse()
        .map_err(|_| AuthFailure::BadExpires("X-Amz-Expires should be a number".to_owned()))?;
    if n < 0 {
        return Err(AuthFailure::BadExpires(
            "X-Amz-Expires must be non-negative".to_owned(),
        ));
    }
    if n < 1 || n > i128::from(MAX_PRESIGN_EXPIRES) {
        return Err(AuthFailure::BadExpires(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800".to_owned(),
        ));
    }
    Ok(n as u64)
}

fn parse_v2_query(params: &[(String, String)]) -> Result<Parsed, AuthFailure> {
    let get = |name| single(params, name, exact);
    let (Some(akid), Some(signature), Some(expires)) =
        (get("AWSAccessKeyId")?, get("Signature")?, get("Expires")?)
    else {
        return Err(AuthFailure::QueryIncomplete(QUERY_V2_REQUIRED.to_owned()));
    };
    let expires_epoch: i64 = expires.parse().map_err(|_| {
        AuthFailure::BadExpires(format!(
            "Invalid date (should be seconds since epoch): {expires}"
        ))
    })?;
    // botocore lowercases the header names it moves into the query.
    let security_token = single(params, "x-amz-security-token", ignore_case)?.map(str::to_owned);
    Ok(Parsed::V2Query {
        access_key_id: akid.to_owned(),
        signature: signature.to_owned(),
        expires_epoch,
        security_token,
    })
}

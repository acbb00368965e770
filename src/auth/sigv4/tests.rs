use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use chrono::{DateTime, Duration, TimeZone, Utc};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use http_body::{Body, Frame};

use super::*;

// ---------------------------------------------------------------- helpers

const AWS_DOC_AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const AWS_DOC_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

fn uri(s: &str) -> Uri {
    s.parse().unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    parse_amz_date(s).unwrap()
}

fn parse_v4(method: &Method, u: &Uri, h: &HeaderMap) -> ParsedAuth {
    match parse(method, u, h) {
        Ok(Parsed::V4(a)) => a,
        other => panic!("expected V4, got {other:?}"),
    }
}

fn parse_err(u: &str, h: &[(&str, &str)]) -> AuthFailure {
    parse(&Method::GET, &uri(u), &headers(h)).expect_err("parse should fail")
}

fn auth_header(credential: &str, signed: &str, signature: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed}, Signature={signature}"
    )
}

const SIG64: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn decode_all(
    mode: ChunkMode,
    body: &[u8],
    len: Option<u64>,
    trailer: bool,
    step: usize,
) -> Result<(Vec<u8>, Trailers), ChunkError> {
    let mut dec = ChunkedDecoder::new(mode, len, trailer);
    let mut out = Vec::new();
    for piece in body.chunks(step.max(1)) {
        dec.feed(piece, &mut |b| out.extend_from_slice(&b))?;
    }
    let trailers = dec.finish()?;
    Ok((out, trailers))
}

// ------------------------------------------------- published vectors §2.12

#[test]
fn vector_get_vanilla() {
    let h = headers(&[
        ("host", "example.amazonaws.com"),
        ("x-amz-date", "20150830T123600Z"),
        (
            "authorization",
            &auth_header(
                "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
                "host;x-amz-date",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ),
    ]);
    let u = uri("/");
    let a = parse_v4(&Method::GET, &u, &h);
    let key = signing_key(SUITE_SECRET, "20150830", "us-east-1", "service");
    let v = verify(
        &Method::GET,
        &u,
        &h,
        &a,
        PayloadHash::Hex(EMPTY_SHA256),
        false,
        &key,
    )
    .unwrap();
    assert_eq!(
        v.canonical_request,
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        v.string_to_sign,
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
         bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    );
    assert_eq!(
        v.seed_signature,
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
    // The same request signed for another service must not verify.
    let other = signing_key(SUITE_SECRET, "20150830", "us-east-1", "s3");
    assert!(matches!(
        verify(
            &Method::GET,
            &u,
            &h,
            &a,
            PayloadHash::Hex(EMPTY_SHA256),
            false,
            &other
        ),
        Err(AuthFailure::SignatureMismatch { .. })
    ));
}

#[test]
fn vector_s3_get_with_range() {
    // AWS's own example joins components with a bare ','.
    let h = headers(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("range", "bytes=0-9"),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("x-amz-date", "20130524T000000Z"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        ),
    ]);
    let u = uri("/test.txt");
    let a = parse_v4(&Method::GET, &u, &h);
    assert_eq!(a.scope.access_key_id, AWS_DOC_AKID);
    let key = signing_key(AWS_DOC_SECRET, "20130524", "us-east-1", "s3");
    let cs = content_sha256(&h).unwrap().unwrap();
    let v = verify(&Method::GET, &u, &h, &a, cs.payload_hash(), true, &key).unwrap();
    assert!(v
        .string_to_sign
        .ends_with("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"));
    assert!(check_time(&a, at("20130524T001000Z"), Duration::minutes(15)).is_ok());
    // A different range is a different request.
    let mut h2 = h.clone();
    h2.insert("range", HeaderValue::from_static("bytes=0-8"));
    assert!(matches!(
        verify(&Method::GET, &u, &h2, &a, cs.payload_hash(), true, &key),
        Err(AuthFailure::SignatureMismatch { .. })
    ));
}

#[test]
fn vector_s3_presigned_get() {
    let u = uri("/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
         &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    let h = headers(&[("host", "examplebucket.s3.amazonaws.com")]);
    let a = parse_v4(&Method::GET, &u, &h);
    assert_eq!(a.location, Location::Query);
    assert_eq!(a.expires_secs, Some(86400));
    let key = signing_key(AWS_DOC_SECRET, "20130524", "us-east-1", "s3");
    let v = verify(&Method::GET, &u, &h, &a, PayloadHash::Unsigned, true, &key).unwrap();
    assert!(!v.canonical_request.contains("X-Amz-Signature"));
    assert!(v.canonical_request.ends_with("\nhost\nUNSIGNED-PAYLOAD"));
    assert!(check_time(&a, at("20130524T235959Z"), Duration::minutes(15)).is_ok());
    assert!(check_time(&a, at("20130525T000000Z"), Duration::minutes(15)).is_ok());
    assert_eq!(
        check_time(&a, at("20130525T000001Z"), Duration::minutes(15)),
        Err(AuthFailure::PresignExpired {
            expires: "2013-05-25T00:00:00Z".into(),
            server_time: "2013-05-25T00:00:01Z".into(),
            x_amz_expires: Some(86400),
        })
    );
}

const CHUNK_SIG_1: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
const CHUNK_SIG_2: &str = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
const CHUNK_SIG_FINAL: &str = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";
const CHUNK_SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

fn aws_chunked_vector_body() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(format!("10000;chunk-signature={CHUNK_SIG_1}\r\n").as_bytes());
    body.extend(std::iter::repeat_n(b'a', 65536));
    body.extend_from_slice(format!("\r\n400;chunk-signature={CHUNK_SIG_2}\r\n").as_bytes());
    body.extend(std::iter::repeat_n(b'a', 1024));
    body.extend_from_slice(format!("\r\n0;chunk-signature={CHUNK_SIG_FINAL}\r\n\r\n").as_bytes());
    body
}

fn aws_chunked_vector_request() -> (Uri, HeaderMap) {
    let h = headers(&[
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "authorization",
            &format!(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
                 SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
                 x-amz-decoded-content-length;x-amz-storage-class,Signature={CHUNK_SEED}"
            ),
        ),
        ("x-amz-content-sha256", STREAMING_SIGNED),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
    ]);
    (uri("/examplebucket/chunkObject.txt"), h)
}

fn vector_chunk_mode() -> ChunkMode {
    let (u, h) = aws_chunked_vector_request();
    let a = parse_v4(&Method::PUT, &u, &h);
    let key = signing_key(AWS_DOC_SECRET, "20130524", "us-east-1", "s3");
    let cs = content_sha256(&h).unwrap().unwrap();
    assert!(cs.is_streaming() && cs.chunks_signed() && !cs.has_trailer());
    let v = verify(&Method::PUT, &u, &h, &a, cs.payload_hash(), true, &key).unwrap();
    assert_eq!(v.seed_signature, CHUNK_SEED);
    ChunkMode::signed(key, &a, &v)
}

#[test]
fn vector_chunked_put_whole_and_byte_by_byte() {
    let body = aws_chunked_vector_body();
    assert_eq!(body.len(), 66824, "framing overhead as published");
    for step in [body.len(), 1, 7, 4096] {
        let (data, trailers) =
            decode_all(vector_chunk_mode(), &body, Some(66560), false, step).unwrap();
        assert_eq!(data.len(), 66560, "step {step}");
        assert!(data.iter().all(|&b| b == b'a'));
        assert!(trailers.0.is_empty());
    }
}

#[test]
fn vector_chunked_put_rejects_tampering() {
    let body = aws_chunked_vector_body();
    // One data byte changed in the first and in the second chunk.
    for idx in [100, 65536 + 88 + 2 + 86 + 5] {
        let mut bad = body.clone();
        assert_eq!(bad[idx], b'a');
        bad[idx] = b'b';
        assert_eq!(
            decode_all(vector_chunk_mode(), &bad, Some(66560), false, 1).unwrap_err(),
            ChunkError::SignatureMismatch
        );
    }
    // The final zero-length chunk is signed too.
    let s = String::from_utf8(body.clone()).unwrap();
    let bad = s.replace(CHUNK_SIG_FINAL, CHUNK_SIG_2);
    assert_eq!(
        decode_all(
            vector_chunk_mode(),
            bad.as_bytes(),
            Some(66560),
            false,
            4096
        )
        .unwrap_err(),
        ChunkError::SignatureMismatch
    );
    // Signatures chain: the first chunk's signature cannot be replayed as the second's.
    let bad = s.replace(CHUNK_SIG_2, CHUNK_SIG_1);
    assert_eq!(
        decode_all(
            vector_chunk_mode(),
            bad.as_bytes(),
            Some(66560),
            false,
            4096
        )
        .unwrap_err(),
        ChunkError::SignatureMismatch
    );
    // Missing final chunk.
    let cut = &body[..body.len() - 86];
    assert_eq!(
        decode_all(vector_chunk_mode(), cut, Some(66560), false, 4096).unwrap_err(),
        ChunkError::Truncated { decoded: 66560 }
    );
    // A wrong declared length.
    assert_eq!(
        decode_all(vector_chunk_mode(), &body, Some(66561), false, 4096).unwrap_err(),
        ChunkError::IncompleteBody {
            expected: 66561,
            got: 66560
        }
    );
}

// ---------------------------------------------------- botocore cross-check

type TrailerList = Vec<(String, String)>;

struct Fixture {
    name: String,
    kind: String,
    s3: bool,
    method: Method,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    secret: String,
    now: DateTime<Utc>,
    expect_ok: bool,
    canonical_request: String,
    string_to_sign: String,
    v2_resource_path: Option<String>,
    chunked: Option<(Vec<u8>, TrailerList)>,
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// http.client encodes header `str` values as Latin-1; mirror that.
fn wire_bytes(value: &str) -> Vec<u8> {
    if value.chars().all(|c| (c as u32) < 256) {
        value.chars().map(|c| c as u8).collect()
    } else {
        value.as_bytes().to_vec()
    }
}

fn load_fixtures() -> Vec<Fixture> {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/botocore_signed.json")).unwrap();
    let s = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
    doc["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let url = s(&f["url"]);
            let after_scheme = &url[url.find("://").unwrap() + 3..];
            let target = after_scheme[after_scheme.find('/').unwrap()..].to_owned();
            Fixture {
                name: s(&f["name"]),
                kind: s(&f["kind"]),
                s3: f["s3"].as_bool().unwrap(),
                method: s(&f["method"]).parse().unwrap(),
                target,
                headers: f["headers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (s(&p[0]), wire_bytes(p[1].as_str().unwrap())))
                    .collect(),
                body: b64(f["body_b64"].as_str().unwrap()),
                secret: s(&f["secret"]),
                now: Utc
                    .timestamp_opt(f["now_epoch"].as_i64().unwrap(), 0)
                    .unwrap(),
                expect_ok: f["expect"] == "ok",
                canonical_request: s(&f["canonical_request"]),
                string_to_sign: s(&f["string_to_sign"]),
                v2_resource_path: f.get("v2_resource_path").map(s),
                chunked: f.get("chunked").map(|c| {
                    let trailers = c["trailers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| (s(&t[0]), s(&t[1])))
                        .collect();
                    (b64(c["decoded"].as_str().unwrap()), trailers)
                }),
            }
        })
        .collect()
}

#[derive(Clone)]
struct WireRequest {
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// Runs a request through the whole pipeline the way a server would; returns
/// the canonical request and string to sign for SigV4, or the V2 string.
fn authenticate(f: &Fixture, req: &WireRequest) -> Result<(String, String), AuthFailure> {
    let u = uri(&req.target);
    let mut h = HeaderMap::new();
    for (k, v) in &req.headers {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v).unwrap(),
        );
    }
    match parse(&f.method, &u, &h)? {
        Parsed::V4(a) => {
            check_time(&a, f.now, Duration::minutes(15))?;
            let key = signing_key(&f.secret, &a.scope.date, &a.scope.region, &a.scope.service);
            let body_hash = sha256_hex(&req.body);
            let declared;
            let payload = match (f.s3, a.location) {
                (true, Location::Query) => PayloadHash::Unsigned,
                (true, Location::Header) => {
                    declared = content_sha256(&h)?.ok_or(AuthFailure::MissingContentSha256)?;
                    declared.payload_hash()
                }
                (false, _) => PayloadHash::Hex(&body_hash),
            };
            let v = verify(&f.method, &u, &h, &a, payload, f.s3, &key)?;
            Ok((v.canonical_request, v.string_to_sign))
        }
        Parsed::V2Query {
            access_key_id,
            signature,
            expires_epoch,
            ..
        } => {
            // Virtual-hosted: the server knows the bucket from Host and
            // prefixes it to the request path, as botocore's auth_path does.
            let resource = f.v2_resource_path.as_ref().map(|p| {
                let bucket = p.trim_start_matches('/').split('/').next().unwrap();
                format!("/{bucket}{}", u.path())
            });
            verify_v2_query_for_resource(
                &f.method,
                &u,
                &h,
                &access_key_id,
                &signature,
                expires_epoch,
                &f.secret,
                f.now,
                resource.as_deref(),
            )?;
            Ok((
                String::new(),
                v2_string_to_sign(&f.method, &u, &h, expires_epoch, resource.as_deref()),
            ))
        }
        Parsed::Anonymous => Err(AuthFailure::MissingAuth),
    }
}

fn flip(c: u8) -> u8 {
    match c {
        b'a' => b'b',
        b'0' => b'1',
        _ if c.is_ascii_digit() => b'0',
        _ => b'a',
    }
}

fn is_auth_param(k: &str) -> bool {
    // content-type/md5 in a SigV2 URL only stand in for absent headers.
    k.starts_with("X-Amz-")
        || matches!(
            k,
            "AWSAccessKeyId" | "Signature" | "Expires" | "content-type" | "content-md5"
        )
        || k.eq_ignore_ascii_case("x-amz-security-token")
}

fn tamper_path(req: &WireRequest) -> WireRequest {
    let mut r = req.clone();
    let end = r.target.find('?').unwrap_or(r.target.len());
    let mut bytes = r.target.clone().into_bytes();
    if end == 1 {
        bytes.insert(1, b'x');
    } else {
        bytes[end - 1] = flip(bytes[end - 1]);
    }
    r.target = String::from_utf8(bytes).unwrap();
    r
}

fn tamper_query(req: &WireRequest) -> Option<WireRequest> {
    let (path, query) = req.target.split_once('?')?;
    let mut pairs: Vec<String> = query.split('&').map(str::to_owned).collect();
    let idx = pairs
        .iter()
        .position(|p| !is_auth_param(p.split('=').next().unwrap()))
        .or_else(|| {
            pairs
                .iter()
                .position(|p| p.starts_with("X-Amz-Expires=") || p.starts_with("Expires="))
        })?;
    let mut bytes = pairs[idx].clone().into_bytes();
    if is_auth_param(pairs[idx].split('=').next().unwrap()) {
        // Keep the expiry valid: change its leading digit.
        let eq = bytes.iter().position(|&b| b == b'=').unwrap();
        bytes[eq + 1] = if bytes[eq + 1] > b'1' {
            bytes[eq + 1] - 1
        } else {
            bytes[eq + 1] + 1
        };
    } else {
        let last = bytes.len() - 1;
        if bytes[last] == b'=' {
            bytes[last - 1] = flip(bytes[last - 1]);
        } else {
            bytes[last] = flip(bytes[last]);
        }
    }
    pairs[idx] = String::from_utf8(bytes).unwrap();
    let mut r = req.clone();
    r.target = format!("{path}?{}", pairs.join("&"));
    Some(r)
}

fn signed_header_names(f: &Fixture, req: &WireRequest) -> Vec<String> {
    if f.kind == "v2-query" {
        return req
            .headers
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .filter(|k| k == "content-type" || k == "content-md5")
            .collect();
    }
    let auth = req
        .headers
        .iter()
        .find(|(k, _)| k == "Authorization")
        .map(|(_, v)| String::from_utf8(v.clone()).unwrap());
    match auth {
        Some(a) => {
            let list = a
                .split("SignedHeaders=")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap();
            list.split(';').map(str::to_owned).collect()
        }
        None => vec!["host".to_owned()],
    }
}

fn tamper_header(f: &Fixture, req: &WireRequest) -> Option<WireRequest> {
    let name = signed_header_names(f, req)
        .into_iter()
        .find(|n| !matches!(n.as_str(), "x-amz-date" | "date" | "x-amz-content-sha256"))?;
    let mut r = req.clone();
    let (_, v) = r
        .headers
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(&name))
        .unwrap();
    let last = v.len() - 1;
    v[last] = flip(v[last]);
    Some(r)
}

fn tamper_body(f: &Fixture, req: &WireRequest) -> Option<WireRequest> {
    let mut r = req.clone();
    if f.kind != "v4-header" {
        return None;
    }
    if f.s3 {
        let (_, v) = r
            .headers
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-content-sha256"))?;
        if v.len() != 64 {
            return None; // UNSIGNED-PAYLOAD / STREAMING-*: the body is not in the signature
        }
        v[10] = if v[10] == b'0' { b'1' } else { b'0' };
    } else if r.body.is_empty() {
        r.body.push(b'{');
    } else {
        r.body[0] ^= 0x20;
    }
    Some(r)
}

#[test]
fn botocore_fixtures_verify_and_tampering_fails() {
    let fixtures = load_fixtures();
    assert!(fixtures.len() >= 30, "fixture file too small");
    let mut tampers = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for f in &fixtures {
        kinds.insert(f.kind.clone());
        let req = WireRequest {
            target: f.target.clone(),
            headers: f.headers.clone(),
            body: f.body.clone(),
        };
        let result = authenticate(f, &req);
        if !f.expect_ok {
            match result {
                Err(AuthFailure::SignatureMismatch {
                    canonical_request,
                    string_to_sign,
                    ..
                }) => {
                    assert_eq!(canonical_request, f.canonical_request, "{}", f.name);
                    assert_eq!(string_to_sign, f.string_to_sign, "{}", f.name);
                }
                other => panic!("{}: expected mismatch, got {other:?}", f.name),
            }
            continue;
        }
        let (canonical, sts) = result.unwrap_or_else(|e| panic!("{}: {e:?}", f.name));
        assert_eq!(
            canonical, f.canonical_request,
            "{}: canonical request differs from botocore's",
            f.name
        );
        assert_eq!(
            sts, f.string_to_sign,
            "{}: string to sign differs from botocore's",
            f.name
        );

        if f.s3 && f.kind == "v4-header" {
            let declared = f
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-content-sha256"))
                .map(|(_, v)| std::str::from_utf8(v).unwrap())
                .unwrap();
            if let Ok(ContentSha256::Hex(h)) = ContentSha256::parse(declared) {
                assert_eq!(h, sha256_hex(&f.body), "{}: payload hash", f.name);
            }
        }
        if let Some((decoded, trailers)) = &f.chunked {
            let len = f
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-decoded-content-length"))
                .map(|(_, v)| std::str::from_utf8(v).unwrap().parse().unwrap());
            let (data, got) = decode_all(ChunkMode::Unsigned, &f.body, len, true, 1).unwrap();
            assert_eq!(&data, decoded, "{}", f.name);
            assert_eq!(&got.0, trailers, "{}", f.name);
        }

        let variants = [
            ("path", Some(tamper_path(&req))),
            ("query", tamper_query(&req)),
            ("header", tamper_header(f, &req)),
            ("body", tamper_body(f, &req)),
        ];
        for (what, variant) in variants {
            let Some(bad) = variant else { continue };
            tampers += 1;
            match authenticate(f, &bad) {
                Err(AuthFailure::SignatureMismatch { .. }) => {}
                other => panic!("{}: {what} tamper gave {other:?}", f.name),
            }
        }
    }
    assert_eq!(
        kinds.len(),
        3,
        "header, presign v4 and presign v2 all covered"
    );
    assert!(tampers >= 100, "only {tampers} tamper checks ran");
}

// ------------------------------------------------------------ parse errors

#[test]
fn header_components_any_order_and_separator() {
    let cred = "AKID/20240101/us-east-1/sts/aws4_request";
    let forms = [
        format!("AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders=host;x-amz-date, Signature={SIG64}"),
        format!("AWS4-HMAC-SHA256 Credential={cred},SignedHeaders=host;x-amz-date,Signature={SIG64}"),
        format!("AWS4-HMAC-SHA256   Signature={SIG64} ,  Credential={cred},SignedHeaders=host;x-amz-date"),
        format!("AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature={SIG64}, Credential={cred}"),
    ];
    for form in &forms {
        let h = headers(&[
            ("host", "h"),
            ("x-amz-date", "20240101T000000Z"),
            ("authorization", form),
        ]);
        let a = parse_v4(&Method::POST, &uri("/"), &h);
        assert_eq!(
            a.scope,
            Scope {
                access_key_id: "AKID".into(),
                date: "20240101".into(),
                region: "us-east-1".into(),
                service: "sts".into()
            }
        );
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(a.signature, SIG64);
        assert_eq!(a.location, Location::Header);
        assert_eq!(a.timestamp, at("20240101T000000Z"));
    }
}

#[test]
fn missing_components_are_incomplete_with_aws_messages() {
    let d = ("x-amz-date", "20240101T000000Z");
    let e = parse_err(
        "/",
        &[
            d,
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=A/20240101/r/s/aws4_request, SignedHeaders=host",
            ),
        ],
    );
    assert_eq!(
        e,
        AuthFailure::Incomplete("Authorization header requires 'Signature' parameter.".into())
    );
    let e = parse_err(
        "/",
        &[
            d,
            (
                "authorization",
                &format!("AWS4-HMAC-SHA256 Signature={SIG64}"),
            ),
        ],
    );
    assert_eq!(
        e,
        AuthFailure::Incomplete(
            "Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter.".into()
        )
    );
    assert!(
        matches!(parse_err("/", &[d, ("authorization", "AWS4-HMAC-SHA256")]), AuthFailure::Incomplete(m) if m.matches("requires").count() == 3)
    );
}

#[test]
fn malformed_credentials_and_components() {
    let d = ("x-amz-date", "20240101T000000Z");
    for cred in [
        "A/20240101/r/s",
        "A/20240101/r/s/aws4_request/x",
        "/20240101/r/s/aws4_request",
    ] {
        let e = parse_err(
            "/",
            &[d, ("authorization", &auth_header(cred, "host", SIG64))],
        );
        assert!(
            matches!(&e, AuthFailure::MalformedHeader(m) if m.contains("Credential is mal-formed")),
            "{cred}: {e:?}"
        );
    }
    let e = parse_err(
        "/",
        &[
            d,
            (
                "authorization",
                &auth_header("A/20240101/r/s/aws4_reques", "host", SIG64),
            ),
        ],
    );
    assert_eq!(
        e,
        AuthFailure::MalformedHeader("Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reques'.".into())
    );
    let e = parse_err(
        "/",
        &[
            d,
            (
                "authorization",
                &auth_header("A/2024011/r/s/aws4_request", "host", SIG64),
            ),
        ],
    );
    assert!(matches!(e, AuthFailure::MalformedHeader(_)));
    let e = parse_err("/", &[d, ("authorization", &format!("AWS4-HMAC-SHA256 Credential=A/20240101/r/s/aws4_request, SignedHeaders=host, Signature={SIG64}, junk"))]);
    assert!(matches!(e, AuthFailure::MalformedHeader(m) if m.contains("missing equal-sign")));
    let e = parse_err(
        "/",
        &[
            d,
            (
                "authorization",
                &auth_header("A/20240101/r/s/aws4_request", "host;;x-amz-date", SIG64),
            ),
        ],
    );
    assert!(matches!(e, AuthFailure::MalformedHeader(_)));
    let e = parse_err(
        "/",
        &[
            d,
            (
                "authorization",
                &format!(
                    "{}, Signature={SIG64}",
                    auth_header("A/20240101/r/s/aws4_request", "host", SIG64)
                ),
            ),
        ],
    );
    assert!(matches!(e, AuthFailure::MalformedHeader(m) if m.contains("repeated")));
}

#[test]
fn other_schemes_and_mechanism_conflicts() {
    let d = ("x-amz-date", "20240101T000000Z");
    assert_eq!(
        parse_err("/", &[d, ("authorization", "AWS4-ECDSA-P256-SHA256 Credential=A/20240101/s3/aws4_request, SignedHeaders=host, Signature=00")]),
        AuthFailure::UnsupportedAlgorithm("AWS4-ECDSA-P256-SHA256".into())
    );
    assert_eq!(
        parse_err("/", &[d, ("authorization", "AWS AKID:c2lnbmF0dXJl")]),
        AuthFailure::UnsupportedAlgorithm("AWS".into())
    );
    let both = parse_err(
        "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256",
        &[
            d,
            (
                "authorization",
                &auth_header("A/20240101/r/s3/aws4_request", "host", SIG64),
            ),
        ],
    );
    assert_eq!(both, AuthFailure::MultipleAuth);
    assert_eq!(
        parse_err(
            "/b/k?AWSAccessKeyId=A&Signature=x&Expires=1&X-Amz-Credential=c",
            &[]
        ),
        AuthFailure::MultipleAuth
    );
    assert_eq!(
        parse(
            &Method::GET,
            &uri("/b/k?prefix=x"),
            &headers(&[("x-amz-date", "20240101T000000Z")])
        )
        .unwrap(),
        Parsed::Anonymous
    );
}

#[test]
fn date_handling() {
    let auth = auth_header(
        "A/20240101/us-east-1/sts/aws4_request",
        "host;x-amz-date",
        SIG64,
    );
    assert_eq!(
        parse_err("/", &[("authorization", &auth)]),
        AuthFailure::MissingDate
    );
    assert_eq!(
        parse_err(
            "/",
            &[
                ("authorization", &auth),
                ("x-amz-date", "2024-01-01T00:00:00Z")
            ]
        ),
        AuthFailure::InvalidDate("2024-01-01T00:00:00Z".into())
    );
    // Date (RFC 1123) is the fallback, in both botocore's and the GMT spelling.
    for date in [
        "Mon, 01 Jan 2024 12:34:56 -0000",
        "Mon, 01 Jan 2024 12:34:56 GMT",
    ] {
        let a = parse_v4(
            &Method::GET,
            &uri("/"),
            &headers(&[("authorization", &auth), ("date", date)]),
        );
        assert_eq!(a.amz_date, "20240101T123456Z");
    }
    // X-Amz-Date wins over Date.
    let a = parse_v4(
        &Method::GET,
        &uri("/"),
        &headers(&[
            ("authorization", &auth),
            ("date", "Tue, 02 Jan 2024 00:00:00 GMT"),
            ("x-amz-date", "20240101T010203Z"),
        ]),
    );
    assert_eq!(a.amz_date, "20240101T010203Z");
    assert_eq!(
        parse_err("/", &[("authorization", &auth), ("x-amz-date", "20240102T000000Z")]),
        AuthFailure::ScopeDateMismatch(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240101' != '20240102', from '20240102T000000Z'".into()
        )
    );
    assert_eq!(parse_amz_date("+2024101T000000Z"), None);
    assert_eq!(parse_amz_date("20241301T000000Z"), None);
}

#[test]
fn host_must_be_signed() {
    let auth = auth_header("A/20240101/us-east-1/sts/aws4_request", "x-amz-date", SIG64);
    assert_eq!(
        parse_err(
            "/",
            &[("authorization", &auth), ("x-amz-date", "20240101T000000Z")]
        ),
        AuthFailure::HostNotSigned
    );
    let q = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=x-amz-date&X-Amz-Signature=00";
    assert_eq!(parse_err(q, &[]), AuthFailure::HostNotSigned);
}

/// Signs whatever canonical request the verifier builds, so a test can
/// change one input and know the signature itself is right.
fn sign_as_server(
    method: &Method,
    u: &Uri,
    h: &mut HeaderMap,
    secret: &str,
    payload: PayloadHash,
    s3: bool,
) {
    let a = parse_v4(method, u, h);
    let key = signing_key(secret, &a.scope.date, &a.scope.region, &a.scope.service);
    let Err(AuthFailure::SignatureMismatch { string_to_sign, .. }) =
        verify(method, u, h, &a, payload, s3, &key)
    else {
        panic!("placeholder signature verified");
    };
    let sig = key.sign_hex(string_to_sign.as_bytes());
    let value = h
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap()
        .replace(SIG64, &sig);
    h.insert("authorization", HeaderValue::from_str(&value).unwrap());
}

#[test]
fn signed_header_absent_from_request_is_a_mismatch() {
    let u = uri("/");
    let auth = auth_header(
        "A/20240101/us-east-1/sts/aws4_request",
        "host;x-amz-date;x-extra",
        SIG64,
    );
    let mut h = headers(&[
        ("host", "h"),
        ("x-amz-date", "20240101T000000Z"),
        ("authorization", &auth),
        ("x-extra", ""),
    ]);
    sign_as_server(
        &Method::GET,
        &u,
        &mut h,
        "s",
        PayloadHash::Hex(EMPTY_SHA256),
        false,
    );
    let a = parse_v4(&Method::GET, &u, &h);
    let key = signing_key("s", "20240101", "us-east-1", "sts");
    // Present but empty: the signature covers "x-extra:" and verifies.
    assert!(verify(
        &Method::GET,
        &u,
        &h,
        &a,
        PayloadHash::Hex(EMPTY_SHA256),
        false,
        &key
    )
    .is_ok());
    // Absent: the same canonical text, but absence is never accepted.
    h.remove("x-extra");
    assert!(matches!(
        verify(
            &Method::GET,
            &u,
            &h,
            &a,
            PayloadHash::Hex(EMPTY_SHA256),
            false,
            &key
        ),
        Err(AuthFailure::SignatureMismatch { .. })
    ));
}

#[test]
fn host_falls_back_to_authority() {
    let target = uri("http://example.com:8080/x");
    let auth = auth_header(
        "A/20240101/us-east-1/sts/aws4_request",
        "host;x-amz-date",
        SIG64,
    );
    let mut h = headers(&[
        ("x-amz-date", "20240101T000000Z"),
        ("authorization", &auth),
        ("host", "example.com:8080"),
    ]);
    sign_as_server(
        &Method::GET,
        &target,
        &mut h,
        "s",
        PayloadHash::Hex(EMPTY_SHA256),
        false,
    );
    h.remove("host");
    let a = parse_v4(&Method::GET, &target, &h);
    let key = signing_key("s", "20240101", "us-east-1", "sts");
    let v = verify(
        &Method::GET,
        &target,
        &h,
        &a,
        PayloadHash::Hex(EMPTY_SHA256),
        false,
        &key,
    )
    .unwrap();
    assert!(v.canonical_request.contains("\nhost:example.com:8080\n"));
}

// ------------------------------------------------------- canonicalisation

#[test]
fn canonical_uri_rules() {
    // S3: decode and re-encode, keep dots and double slashes.
    assert_eq!(canonical_uri("/a%20b+c", true), "/a%20b%2Bc");
    assert_eq!(canonical_uri("/b//a/./../c", true), "/b//a/./../c");
    assert_eq!(canonical_uri("/caf%c3%a9!~%7E", true), "/caf%C3%A9%21~~");
    assert_eq!(canonical_uri("/a%2Fb/c", true), "/a%2Fb/c");
    assert_eq!(canonical_uri("/100%", true), "/100%25");
    // Others: normalise then encode once more.
    assert_eq!(canonical_uri("", false), "/");
    assert_eq!(canonical_uri("//", false), "/");
    assert_eq!(canonical_uri("/a/../../b", false), "/b");
    assert_eq!(canonical_uri("/a/./b/../c//d/", false), "/a/c/d/");
    assert_eq!(canonical_uri("/a%20b/e+f", false), "/a%2520b/e%2Bf");
    assert_eq!(canonical_uri("/~user/-_.", false), "/~user/-_.");
}

#[test]
fn canonical_query_rules() {
    assert_eq!(canonical_query(Some("policy"), Location::Header), "policy=");
    assert_eq!(
        canonical_query(Some("uploads&x=1"), Location::Header),
        "uploads=&x=1"
    );
    assert_eq!(
        canonical_query(Some("b=2&a=3&a=1&B=0"), Location::Header),
        "B=0&a=1&a=3&b=2"
    );
    assert_eq!(
        canonical_query(Some("q=a+b%20c&t=%7e"), Location::Header),
        "q=a%2Bb%20c&t=~"
    );
    assert_eq!(
        canonical_query(Some("a=1&&b=2"), Location::Header),
        "a=1&b=2"
    );
    assert_eq!(canonical_query(None, Location::Header), "");
    assert_eq!(
        canonical_query(Some("X-Amz-Signature=ab&a=1"), Location::Query),
        "a=1"
    );
    assert_eq!(
        canonical_query(Some("X-Amz-Signature=ab&a=1"), Location::Header),
        "X-Amz-Signature=ab&a=1"
    );
}

#[test]
fn header_values_are_trimmed_collapsed_and_joined() {
    let u = uri("/");
    let auth = auth_header(
        "A/20240101/us-east-1/sts/aws4_request",
        "host;x-amz-date;x-m",
        SIG64,
    );
    let h = headers(&[
        ("host", "h"),
        ("x-amz-date", "20240101T000000Z"),
        ("authorization", &auth),
        ("x-m", "  a   b\tc "),
        ("x-m", "d"),
    ]);
    let a = parse_v4(&Method::GET, &u, &h);
    let Err(AuthFailure::SignatureMismatch {
        canonical_request, ..
    }) = verify(
        &Method::GET,
        &u,
        &h,
        &a,
        PayloadHash::Hex(EMPTY_SHA256),
        false,
        &signing_key("s", "20240101", "us-east-1", "sts"),
    )
    else {
        panic!()
    };
    assert!(
        canonical_request.contains("\nx-m:a b c,d\n"),
        "{canonical_request}"
    );
}

#[test]
fn content_sha256_values() {
    assert_eq!(
        ContentSha256::parse("UNSIGNED-PAYLOAD")
            .unwrap()
            .payload_hash(),
        PayloadHash::Unsigned
    );
    let t = ContentSha256::parse(STREAMING_UNSIGNED_TRAILER).unwrap();
    assert!(t.is_streaming() && !t.chunks_signed() && t.has_trailer());
    let st = ContentSha256::parse(STREAMING_SIGNED_TRAILER).unwrap();
    assert!(st.chunks_signed() && st.has_trailer());
    assert_eq!(
        st.payload_hash(),
        PayloadHash::Literal(STREAMING_SIGNED_TRAILER)
    );
    assert_eq!(
        ContentSha256::parse(EMPTY_SHA256).unwrap(),
        ContentSha256::Hex(EMPTY_SHA256.into())
    );
    assert!(matches!(
        ContentSha256::parse("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"),
        Err(AuthFailure::UnsupportedContentSha256(_))
    ));
    assert!(matches!(
        ContentSha256::parse("abc"),
        Err(AuthFailure::InvalidContentSha256(_))
    ));
    assert_eq!(content_sha256(&HeaderMap::new()).unwrap(), None);
    assert_eq!(strip_aws_chunked("aws-chunked"), (true, None));
    assert_eq!(
        strip_aws_chunked("gzip, aws-chunked"),
        (true, Some("gzip".into()))
    );
    assert_eq!(strip_aws_chunked("gzip"), (false, Some("gzip".into())));
}

// ------------------------------------------------------------- clock skew

fn header_auth_at(ts: &str) -> ParsedAuth {
    let auth = auth_header(
        &format!("A/{}/us-east-1/sts/aws4_request", &ts[..8]),
        "host;x-amz-date",
        SIG64,
    );
    parse_v4(
        &Method::GET,
        &uri("/"),
        &headers(&[("authorization", &auth), ("x-amz-date", ts)]),
    )
}

#[test]
fn skew_past_and_future_messages() {
    let five = Duration::minutes(5);
    let a = header_auth_at("20240101T000000Z");
    assert_eq!(
        check_time(&a, at("20240101T001500Z"), five),
        Err(AuthFailure::TooSkewed {
            request_time: "20240101T000000Z".into(),
            server_time: "2024-01-01T00:15:00Z".into(),
            message: "Signature expired: 20240101T000000Z is now earlier than 20240101T001000Z (20240101T001500Z - 5 min.)".into(),
            max_skew_ms: 300_000,
        })
    );
    let a = header_auth_at("20240101T002000Z");
    let Err(AuthFailure::TooSkewed { message, .. }) = check_time(&a, at("20240101T001000Z"), five)
    else {
        panic!()
    };
    assert_eq!(message, "Signature not yet current: 20240101T002000Z is still later than 20240101T001500Z (20240101T001000Z + 5 min.)");
    // Boundaries are inclusive.
    assert!(check_time(
        &header_auth_at("20240101T000000Z"),
        at("20240101T000500Z"),
        five
    )
    .is_ok());
    assert!(check_time(
        &header_auth_at("20240101T000500Z"),
        at("20240101T000000Z"),
        five
    )
    .is_ok());
    assert!(check_time(
        &header_auth_at("20240101T000000Z"),
        at("20240101T000501Z"),
        five
    )
    .is_err());
    let Err(AuthFailure::TooSkewed {
        message,
        max_skew_ms,
        ..
    }) = check_time(
        &header_auth_at("20240101T000000Z"),
        at("20240101T010000Z"),
        Duration::minutes(15),
    )
    else {
        panic!()
    };
    assert!(message.ends_with("(20240101T010000Z - 15 min.)"));
    assert_eq!(max_skew_ms, 900_000);
}

// ------------------------------------------------------------- presigning

fn presign_uri(extra: &str) -> String {
    format!(
        "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2F20240101%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature={SIG64}{extra}"
    )
}

#[test]
fn presign_expires_validation() {
    let bad = |v: &str| match parse_err(&presign_uri(&format!("&X-Amz-Expires={v}")), &[]) {
        AuthFailure::BadExpires(m) => m,
        other => panic!("{v}: {other:?}"),
    };
    assert_eq!(
        bad("604801"),
        "X-Amz-Expires must be less than a week (in seconds) that is 604800"
    );
    assert_eq!(
        bad("0"),
        "X-Amz-Expires must be less than a week (in seconds) that is 604800"
    );
    assert_eq!(bad("-1"), "X-Amz-Expires must be non-negative");
    assert_eq!(bad("ten"), "X-Amz-Expires should be a number");
    let a = parse_v4(
        &Method::GET,
        &uri(&presign_uri("&X-Amz-Expires=604800")),
        &HeaderMap::new(),
    );
    assert_eq!(a.expires_secs, Some(604800));
    // S3 requires X-Amz-Expires; other services may omit it.
    assert!(
        matches!(parse_err(&presign_uri(""), &[]), AuthFailure::QueryIncomplete(m) if m.contains("X-Amz-Expires"))
    );
    let sts = presign_uri("").replace("%2Fs3%2F", "%2Fsts%2F");
    let a = parse_v4(&Method::GET, &uri(&sts), &HeaderMap::new());
    assert_eq!(a.expires_secs, None);
    assert!(check_time(&a, at("20240101T000400Z"), Duration::minutes(5)).is_ok());
    assert!(matches!(
        check_time(&a, at("20240101T000600Z"), Duration::minutes(5)),
        Err(AuthFailure::TooSkewed { .. })
    ));
}

#[test]
fn presign_missing_and_bad_parameters() {
    let full = presign_uri("&X-Amz-Expires=60");
    for drop in [
        "X-Amz-Date=20240101T000000Z&",
        "X-Amz-SignedHeaders=host&",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&",
    ] {
        let e = parse_err(&full.replace(drop, ""), &[]);
        assert!(
            matches!(e, AuthFailure::QueryIncomplete(_)),
            "{drop}: {e:?}"
        );
    }
    assert_eq!(
        parse_err(
            &full.replace("AWS4-HMAC-SHA256&", "AWS4-ECDSA-P256-SHA256&"),
            &[]
        ),
        AuthFailure::UnsupportedAlgorithm("AWS4-ECDSA-P256-SHA256".into())
    );
    assert!(matches!(
        parse_err(&full.replace("20240101T000000Z", "2024-01-01"), &[]),
        AuthFailure::MalformedQuery(_)
    ));
    assert!(
        matches!(parse_err(&full.replace("%2Faws4_request", ""), &[]), AuthFailure::MalformedQuery(m) if m.contains("X-Amz-Credential"))
    );
    assert!(
        matches!(parse_err(&format!("{full}&X-Amz-Expires=61"), &[]), AuthFailure::MalformedQuery(m) if m.contains("only once"))
    );
    assert!(matches!(
        parse_err(
            &full.replace("X-Amz-Date=20240101T000000Z", "X-Amz-Date=20240102T000000Z"),
            &[]
        ),
        AuthFailure::ScopeDateMismatch(_)
    ));
}

#[test]
fn presign_time_window() {
    let a = parse_v4(
        &Method::GET,
        &uri(&presign_uri(
            "&X-Amz-Expires=600&X-Amz-Security-Token=t%2Bk",
        )),
        &HeaderMap::new(),
    );
    assert_eq!(a.security_token.as_deref(), Some("t+k"));
    let skew = Duration::minutes(15);
    assert!(check_time(&a, at("20240101T001000Z"), skew).is_ok());
    assert_eq!(
        check_time(&a, at("20240101T001001Z"), skew),
        Err(AuthFailure::PresignExpired {
            expires: "2024-01-01T00:10:00Z".into(),
            server_time: "2024-01-01T00:10:01Z".into(),
            x_amz_expires: Some(600),
        })
    );
    assert!(check_time(&a, at("20231231T234500Z"), skew).is_ok());
    assert_eq!(
        check_time(&a, at("20231231T234459Z"), skew),
        Err(AuthFailure::PresignNotYetValid {
            request_time: "20240101T000000Z".into(),
            server_time: "2023-12-31T23:44:59Z".into()
        })
    );
}

// ------------------------------------------------------------------ SigV2

#[test]
fn sigv2_presign() {
    use base64::Engine;
    use hmac::Mac;
    // Signature computed independently of v2.rs from the documented layout.
    let sign = |sts: &[u8]| {
        let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(b"secret").unwrap();
        mac.update(sts);
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let q = sig
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        (sig, q)
    };
    let (sig, sig_q) =
        sign(b"GET\n\n\n1700000000\nx-amz-security-token:tok+en\n/b/k%20x?versionId=v+1");
    let target = format!(
        "/b/k%20x?versionId=v%2B1&AWSAccessKeyId=AKID&Signature={sig_q}\
         &Expires=1700000000&x-amz-security-token=tok%2Ben"
    );
    let u = uri(&target);
    let Ok(Parsed::V2Query {
        access_key_id,
        signature,
        expires_epoch,
        security_token,
    }) = parse(&Method::GET, &u, &HeaderMap::new())
    else {
        panic!()
    };
    assert_eq!(access_key_id, "AKID");
    assert_eq!(signature, sig);
    assert_eq!(expires_epoch, 1_700_000_000);
    assert_eq!(security_token.as_deref(), Some("tok+en"));
    let before = Utc.timestamp_opt(1_699_999_000, 0).unwrap();
    let h = HeaderMap::new();
    let check = |m: &Method, secret: &str, now| {
        verify_v2_query(m, &u, &h, "AKID", &signature, expires_epoch, secret, now)
    };
    assert_eq!(check(&Method::GET, "secret", before), Ok(()));
    assert!(matches!(
        check(&Method::GET, "other", before),
        Err(AuthFailure::SignatureMismatch { string_to_sign, access_key_id, .. })
            if string_to_sign.ends_with("?versionId=v+1") && access_key_id == "AKID"
    ));
    assert!(matches!(
        check(&Method::PUT, "secret", before),
        Err(AuthFailure::SignatureMismatch { .. })
    ));
    let after = Utc.timestamp_opt(1_700_000_001, 0).unwrap();
    assert_eq!(
        check(&Method::GET, "secret", after),
        Err(AuthFailure::PresignExpired {
            expires: "2023-11-14T22:13:20Z".into(),
            server_time: "2023-11-14T22:13:21Z".into(),
            x_amz_expires: None,
        })
    );
    // Expires enters the string to sign as written, leading zeros included.
    let (sig0, sig0_q) = sign(b"GET\n\n\n01700000000\n/b/k");
    let u0 = uri(&format!(
        "/b/k?AWSAccessKeyId=AKID&Signature={sig0_q}&Expires=01700000000"
    ));
    assert_eq!(
        verify_v2_query(
            &Method::GET,
            &u0,
            &h,
            "AKID",
            &sig0,
            1_700_000_000,
            "secret",
            before
        ),
        Ok(())
    );
    assert!(matches!(
        parse_err("/b/k?AWSAccessKeyId=A&Signature=x", &[]),
        AuthFailure::QueryIncomplete(_)
    ));
    assert!(
        matches!(parse_err("/b/k?AWSAccessKeyId=A&Signature=x&Expires=soon", &[]), AuthFailure::BadExpires(m) if m.contains("soon"))
    );
}

// ---------------------------------------------------------------- chunked

const TEST_DATE: &str = "20240101T000000Z";
const TEST_SCOPE: &str = "20240101/us-east-1/s3/aws4_request";
const TEST_SEED: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn test_key() -> SigningKey {
    signing_key("secret", "20240101", "us-east-1", "s3")
}

fn signed_mode() -> ChunkMode {
    ChunkMode::Signed {
        key: test_key(),
        amz_date: TEST_DATE.into(),
        scope: TEST_SCOPE.into(),
        seed_signature: TEST_SEED.into(),
    }
}

/// Builds a signed aws-chunked body from the spec's formulas, independently
/// of the decoder.
fn build_signed(chunks: &[&[u8]], trailers: Option<&[(&str, &str)]>) -> Vec<u8> {
    let key = test_key();
    let mut prev = TEST_SEED.to_owned();
    let mut out = Vec::new();
    for data in chunks.iter().chain(std::iter::once(&&b""[..])) {
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{TEST_DATE}\n{TEST_SCOPE}\n{prev}\n{EMPTY_SHA256}\n{}",
            sha256_hex(data)
        );
        prev = key.sign_hex(sts.as_bytes());
        out.extend_from_slice(format!("{:x};chunk-signature={prev}\r\n", data.len()).as_bytes());
        out.extend_from_slice(data);
        if !data.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
    }
    if let Some(trailers) = trailers {
        let mut block = String::new();
        for (n, v) in trailers {
            out.extend_from_slice(format!("{n}:{v}\r\n").as_bytes());
            block.push_str(&format!("{n}:{v}\n"));
        }
        let sts = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{TEST_DATE}\n{TEST_SCOPE}\n{prev}\n{}",
            sha256_hex(block.as_bytes())
        );
        out.extend_from_slice(
            format!(
                "x-amz-trailer-signature:{}\r\n",
                key.sign_hex(sts.as_bytes())
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[test]
fn unsigned_trailer_as_botocore_sends_it() {
    let body = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    for step in [1, 2, 3, body.len()] {
        let (data, t) = decode_all(ChunkMode::Unsigned, body, Some(11), true, step).unwrap();
        assert_eq!(data, b"hello world");
        assert_eq!(t.get("x-amz-checksum-crc32"), Some("DUoRhQ=="));
    }
    // Empty object.
    let (data, t) = decode_all(
        ChunkMode::Unsigned,
        b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
        Some(0),
        true,
        1,
    )
    .unwrap();
    assert!(data.is_empty());
    assert_eq!(
        t.0,
        [("x-amz-checksum-crc32".to_owned(), "AAAAAA==".to_owned())]
    );
    // The checksum value itself is not judged here, but its CRC is what S3 stores.
    assert_eq!(
        crc32fast::hash(b"hello world").to_be_bytes(),
        [0x0d, 0x4a, 0x11, 0x85]
    );
}

#[test]
fn signed_trailer_chain() {
    let body = build_signed(
        &[b"hello ", b"world"],
        Some(&[("x-amz-checksum-crc32c", "sOO8/Q==")]),
    );
    // Every split point of the stream into two pieces.
    for cut in 0..=body.len() {
        let mut dec = ChunkedDecoder::new(signed_mode(), Some(11), true);
        let mut out = Vec::new();
        dec.feed(&body[..cut], &mut |b| out.extend_from_slice(&b))
            .unwrap();
        dec.feed(&body[cut..], &mut |b| out.extend_from_slice(&b))
            .unwrap();
        let t = dec.finish().unwrap();
        assert_eq!(out, b"hello world");
        assert_eq!(t.get("x-amz-checksum-crc32c"), Some("sOO8/Q=="));
    }
    // Trailer value altered after signing.
    let bad = String::from_utf8(body.clone())
        .unwrap()
        .replace("sOO8/Q==", "sOO8/Q=A");
    assert_eq!(
        decode_all(signed_mode(), bad.as_bytes(), Some(11), true, 1).unwrap_err(),
        ChunkError::TrailerSignatureMismatch
    );
    // Trailer signature stripped.
    let s = String::from_utf8(body).unwrap();
    let start = s.find("x-amz-trailer-signature").unwrap();
    let stripped = format!("{}\r\n", &s[..start]);
    assert!(matches!(
        decode_all(signed_mode(), stripped.as_bytes(), Some(11), true, 1).unwrap_err(),
        ChunkError::Malformed(_)
    ));
}

#[test]
fn signed_without_trailer_rejects_unsigned_trailers() {
    let body = build_signed(&[b"abc"], None);
    assert_eq!(
        decode_all(signed_mode(), &body, Some(3), false, 1)
            .unwrap()
            .0,
        b"abc"
    );
    let mut injected = body[..body.len() - 2].to_vec();
    injected.extend_from_slice(b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n");
    assert!(matches!(
        decode_all(signed_mode(), &injected, Some(3), false, 1).unwrap_err(),
        ChunkError::Malformed(_)
    ));
    // The seed matters: the same body under another seed fails at chunk one.
    let other = ChunkMode::Signed {
        key: test_key(),
        amz_date: TEST_DATE.into(),
        scope: TEST_SCOPE.into(),
        seed_signature: SIG64.into(),
    };
    assert_eq!(
        decode_all(other, &body, Some(3), false, 1).unwrap_err(),
        ChunkError::SignatureMismatch
    );
    // A signed stream needs a signature on every chunk.
    assert!(matches!(
        decode_all(signed_mode(), b"3\r\nabc\r\n0\r\n\r\n", None, false, 1).unwrap_err(),
        ChunkError::Malformed(_)
    ));
}

#[test]
fn framing_errors() {
    let unsigned =
        |body: &[u8], len: Option<u64>| decode_all(ChunkMode::Unsigned, body, len, true, 1);
    assert!(matches!(
        unsigned(b"3\nabc\r\n0\r\n\r\n", None),
        Err(ChunkError::Malformed(_))
    ));
    assert!(matches!(
        unsigned(b"3\r\nabcd\r\n0\r\n\r\n", None),
        Err(ChunkError::Malformed(_))
    ));
    assert!(matches!(
        unsigned(b"zz\r\n", None),
        Err(ChunkError::Malformed(_))
    ));
    assert!(matches!(
        unsigned(b"10000000000000000\r\n", None),
        Err(ChunkError::Malformed(_))
    ));
    assert!(matches!(
        unsigned(b"0\r\n\r\nextra", None),
        Err(ChunkError::Malformed(_))
    ));
    assert!(matches!(
        unsigned(b"0\r\nno-colon\r\n\r\n", None),
        Err(ChunkError::Malformed(_))
    ));
    assert_eq!(
        unsigned(b"3\r\nabc\r\n", None),
        Err(ChunkError::Truncated { decoded: 3 })
    );
    assert_eq!(
        unsigned(b"3\r\nabc\r\n0\r\n\r\n", Some(4)),
        Err(ChunkError::IncompleteBody {
            expected: 4,
            got: 3
        })
    );
    assert_eq!(
        decode_all(
            ChunkMode::Unsigned,
            b"3\r\nabc\r\n0\r\nx:y\r\n\r\n",
            None,
            false,
            1
        ),
        Err(ChunkError::Malformed(
            "trailer headers were not announced".into()
        ))
    );
    // Chunk extensions are tolerated when chunks are not signed.
    assert_eq!(
        unsigned(b"3;foo=bar\r\nabc\r\n0\r\n\r\n", Some(3))
            .unwrap()
            .0,
        b"abc"
    );
}

#[test]
fn overshooting_chunk_is_rejected_before_its_data() {
    let mut dec = ChunkedDecoder::new(ChunkMode::Unsigned, Some(4), true);
    let mut out = Vec::new();
    let e = dec
        .feed(b"2\r\nab\r\n5\r\nabcde\r\n", &mut |b| {
            out.extend_from_slice(&b)
        })
        .unwrap_err();
    assert_eq!(
        e,
        ChunkError::IncompleteBody {
            expected: 4,
            got: 7
        }
    );
    assert_eq!(out, b"ab");
    // Poisoned afterwards.
    assert_eq!(
        dec.feed(b"0\r\n\r\n", &mut |_| {}),
        Err(ChunkError::Poisoned)
    );
    let mut limited = ChunkedDecoder::new(ChunkMode::Unsigned, None, true).with_limit(3);
    assert_eq!(
        limited.feed(b"4\r\n", &mut |_| {}),
        Err(ChunkError::TooLarge)
    );
}

#[test]
fn garbage_is_not_buffered() {
    let mut dec = ChunkedDecoder::new(ChunkMode::Unsigned, None, true);
    let mut fed = 0;
    let junk = [b'7'; 64];
    let err = loop {
        match dec.feed(&junk, &mut |_| panic!("no data expected")) {
            Ok(()) => fed += junk.len(),
            Err(e) => break e,
        }
        assert!(fed < 1024, "decoder kept buffering an endless header line");
    };
    assert!(matches!(err, ChunkError::Malformed(m) if m.contains("too long")));
    // Same for an endless trailer line.
    let mut dec = ChunkedDecoder::new(ChunkMode::Unsigned, None, true);
    dec.feed(b"0\r\nx-amz-checksum-crc32:", &mut |_| {})
        .unwrap();
    let err = (0..200)
        .find_map(|_| dec.feed(&junk, &mut |_| {}).err())
        .expect("trailer line must be bounded");
    assert!(matches!(err, ChunkError::Malformed(_)));
}

// ------------------------------------------------------------ Body adapter

struct Pieces(Vec<Bytes>, Option<&'static str>);

impl Body for Pieces {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.0.is_empty() {
            return Poll::Ready(self.1.take().map(|m| Err(std::io::Error::other(m))));
        }
        Poll::Ready(Some(Ok(Frame::data(self.0.remove(0)))))
    }
}

fn drain<B: Body<Data = Bytes> + Unpin>(
    mut body: B,
) -> (Vec<u8>, Option<HeaderMap>, Option<B::Error>) {
    let mut cx = Context::from_waker(Waker::noop());
    let (mut data, mut trailers) = (Vec::new(), None);
    loop {
        match Pin::new(&mut body).poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(d) => data.extend_from_slice(&d),
                Err(frame) => trailers = Some(frame.into_trailers().ok().unwrap()),
            },
            Poll::Ready(Some(Err(e))) => return (data, trailers, Some(e)),
            Poll::Ready(None) => {
                assert!(body.is_end_stream());
                return (data, trailers, None);
            }
            Poll::Pending => panic!("test bodies are always ready"),
        }
    }
}

#[test]
fn body_adapter_yields_data_then_trailers() {
    let raw = Bytes::from_static(b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n");
    let pieces = (0..raw.len())
        .step_by(5)
        .map(|i| raw.slice(i..(i + 5).min(raw.len())))
        .collect();
    let body = AwsChunkedBody::new(
        Pieces(pieces, None),
        ChunkedDecoder::new(ChunkMode::Unsigned, Some(11), true),
        Some(11),
    );
    assert_eq!(body.size_hint().exact(), Some(11));
    let (data, trailers, err) = drain(body);
    assert!(err.is_none());
    assert_eq!(data, b"hello world");
    assert_eq!(
        trailers.unwrap().get("x-amz-checksum-crc32").unwrap(),
        "DUoRhQ=="
    );

    // Signed vector through the adapter.
    let raw = Bytes::from(aws_chunked_vector_body());
    let body = AwsChunkedBody::new(
        Pieces(vec![raw.slice(..1000), raw.slice(1000..)], None),
        ChunkedDecoder::new(vector_chunk_mode(), Some(66560), false),
        Some(66560),
    );
    let (data, trailers, err) = drain(body);
    assert!(err.is_none() && trailers.is_none());
    assert_eq!(data.len(), 66560);
}

#[test]
fn body_adapter_errors() {
    let body = AwsChunkedBody::new(
        Pieces(vec![Bytes::from_static(b"3\r\nabc\r\n")], None),
        ChunkedDecoder::new(ChunkMode::Unsigned, Some(3), true),
        Some(3),
    );
    let (data, _, err) = drain(body);
    assert_eq!(data, b"abc");
    assert!(matches!(
        err,
        Some(AwsChunkedError::Chunk(ChunkError::Truncated { decoded: 3 }))
    ));

    let body = AwsChunkedBody::new(
        Pieces(vec![Bytes::from_static(b"3\r\nab")], Some("reset")),
        ChunkedDecoder::new(ChunkMode::Unsigned, None, true),
        None,
    );
    let (_, _, err) = drain(body);
    assert!(matches!(err, Some(AwsChunkedError::Body(e)) if e.to_string() == "reset"));

    let mut bad = aws_chunked_vector_body();
    bad[500] = b'b';
    let body = AwsChunkedBody::new(
        Pieces(vec![Bytes::from(bad)], None),
        ChunkedDecoder::new(vector_chunk_mode(), Some(66560), false),
        None,
    );
    let (data, _, err) = drain(body);
    assert!(matches!(
        err,
        Some(AwsChunkedError::Chunk(ChunkError::SignatureMismatch))
    ));
    assert!(
        data.is_empty(),
        "data of a failed feed must not be released"
    );
}

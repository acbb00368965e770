//! Sans-IO decoder for `Content-Encoding: aws-chunked` bodies.
//!
//! ```text
//! unsigned: <hex>\r\n<data>\r\n ... 0\r\n[<name>:<value>\r\n]*\r\n
//! signed:   <hex>;chunk-signature=<64hex>\r\n<data>\r\n ... 0;chunk-signature=<64hex>\r\n
//!           [<name>:<value>\r\n]* [x-amz-trailer-signature:<64hex>\r\n] \r\n
//! ```
//!
//! Input may be split at any byte. Data is handed out as it arrives, before
//! the signature at the end of its chunk is checked, so memory stays bounded
//! whatever chunk size the client picks; a consumer must therefore discard
//! everything it received once the decoder reports an error.

use std::ops::Range;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::key::{sha256_hex, signatures_equal, SigningKey, EMPTY_SHA256};
use super::{credential_scope, ParsedAuth, Verified};

/// Longest accepted chunk header line (without CRLF). A signed header is
/// at most 16 + 17 + 64 = 97 bytes; the slack covers extensions unsigned
/// clients might add, and the bound stops garbage from being buffered.
const MAX_CHUNK_LINE: usize = 256;
/// Longest accepted trailer line; checksum trailers are well under 100 bytes.
const MAX_TRAILER_LINE: usize = 4096;
const MAX_TRAILERS: usize = 32;
const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

/// How chunks are authenticated.
#[derive(Debug, Clone)]
pub enum ChunkMode {
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: framing only.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`.
    Signed {
        key: SigningKey,
        /// X-Amz-Date of the request (`yyyymmddThhmmssZ`).
        amz_date: String,
        /// `date/region/service/aws4_request`.
        scope: String,
        /// The request's own (verified) signature, the first link of the chain.
        seed_signature: String,
    },
}

impl ChunkMode {
    /// Signed mode for a request whose headers [`super::verify`] accepted.
    pub fn signed(key: SigningKey, auth: &ParsedAuth, verified: &Verified) -> Self {
        ChunkMode::Signed {
            key,
            amz_date: auth.amz_date.clone(),
            scope: credential_scope(&auth.scope),
            seed_signature: verified.seed_signature.clone(),
        }
    }
}

/// Trailer headers in arrival order, names lowercase, values trimmed, without
/// `x-amz-trailer-signature`. Matching them against `X-Amz-Trailer` and
/// validating checksums is the caller's job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trailers(pub Vec<(String, String)>);

impl Trailers {
    /// First value of trailer `name` (lowercase).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why an aws-chunked body was rejected. Map `SignatureMismatch` and
/// `TrailerSignatureMismatch` to 403 `SignatureDoesNotMatch`,
/// `IncompleteBody`/`Truncated` to 400 `IncompleteBody`, `TooLarge` to 400
/// `EntityTooLarge`, the rest to 400 `InvalidRequest`/`IncompleteBody`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("malformed aws-chunked body: {0}")]
    Malformed(String),
    #[error("chunk signature does not match")]
    SignatureMismatch,
    #[error("trailer signature does not match")]
    TrailerSignatureMismatch,
    /// Decoded bytes differ from X-Amz-Decoded-Content-Length. `got` is the
    /// count at the point of detection: a chunk that would overshoot is
    /// reported before its data is released.
    #[error("You did not provide the number of bytes specified by the Content-Length HTTP header (expected {expected}, got {got})")]
    IncompleteBody { expected: u64, got: u64 },
    /// The input ended before the final chunk and its trailer section.
    #[error("The request body terminated unexpectedly (after {decoded} decoded bytes)")]
    Truncated { decoded: u64 },
    #[error("aws-chunked body exceeds the allowed size")]
    TooLarge,
    /// A previous call already failed; the decoder does not resynchronise.
    #[error("aws-chunked decoder used after an error")]
    Poisoned,
}

#[derive(Debug)]
enum State {
    /// Reading `<hex>[;ext]\r\n`.
    ChunkHeader,
    Data {
        remaining: u64,
    },
    DataCr,
    DataLf,
    /// Reading trailer lines until the empty one.
    Trailers,
    Done,
    Failed,
}

struct SignedState {
    key: SigningKey,
    amz_date: String,
    scope: String,
    previous: String,
    /// Signature announced by the current chunk's header.
    announced: String,
    hasher: Sha256,
}

/// Incremental aws-chunked decoder; see the module docs for the format.
pub struct ChunkedDecoder {
    state: State,
    signed: Option<SignedState>,
    decoded_length: Option<u64>,
    expect_trailer: bool,
    limit: Option<u64>,
    line: Vec<u8>,
    decoded: u64,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
}

impl std::fmt::Debug for ChunkedDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedDecoder")
            .field("state", &self.state)
            .field("signed", &self.signed.is_some())
            .field("decoded", &self.decoded)
            .finish_non_exhaustive()
    }
}

fn malformed(msg: &str) -> ChunkError {
    ChunkError::Malformed(msg.to_owned())
}

fn is_lower_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl ChunkedDecoder {
    /// `decoded_length` is X-Amz-Decoded-Content-Length when sent;
    /// `expect_trailer` is true for the `*-TRAILER` payload types (a signed
    /// stream then must end with `x-amz-trailer-signature`; without it any
    /// trailer line is rejected, since nothing would authenticate it).
    pub fn new(mode: ChunkMode, decoded_length: Option<u64>, expect_trailer: bool) -> Self {
        let signed = match mode {
            ChunkMode::Unsigned => None,
            ChunkMode::Signed {
                key,
                amz_date,
                scope,
                seed_signature,
            } => Some(SignedState {
                key,
                amz_date,
                scope,
                previous: seed_signature,
                announced: String::new(),
                hasher: Sha256::new(),
            }),
        };
        ChunkedDecoder {
            state: State::ChunkHeader,
            signed,
            decoded_length,
            expect_trailer,
            limit: None,
            line: Vec::new(),
            decoded: 0,
            trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    /// Caps the decoded size (useful when no decoded length was declared).
    pub fn with_limit(mut self, max_decoded: u64) -> Self {
        self.limit = Some(max_decoded);
        self
    }

    /// Decoded bytes so far.
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    /// The final chunk and trailer section have been read.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Consumes `input`, passing decoded data to `out` (copied into `Bytes`).
    pub fn feed(&mut self, input: &[u8], out: &mut impl FnMut(Bytes)) -> Result<(), ChunkError> {
        self.feed_ranges(input, &mut |r| out(Bytes::copy_from_slice(&input[r])))
    }

    /// Like [`feed`](Self::feed) but hands out zero-copy slices of `input`.
    pub fn feed_bytes(
        &mut self,
        input: &Bytes,
        out: &mut impl FnMut(Bytes),
    ) -> Result<(), ChunkError> {
        self.feed_ranges(input, &mut |r| out(input.slice(r)))
    }

    /// Checks that the stream ended cleanly and returns the trailers.
    pub fn finish(self) -> Result<Trailers, ChunkError> {
        match self.state {
            State::Done => Ok(Trailers(self.trailers)),
            State::Failed => Err(ChunkError::Poisoned),
            _ => Err(ChunkError::Truncated {
                decoded: self.decoded,
            }),
        }
    }

    fn feed_ranges(
        &mut self,
        input: &[u8],
        emit: &mut dyn FnMut(Range<usize>),
    ) -> Result<(), ChunkError> {
        if matches!(self.state, State::Failed) {
            return Err(ChunkError::Poisoned);
        }
        let result = self.step_all(input, emit);
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    fn step_all(
        &mut self,
        input: &[u8],
        emit: &mut dyn FnMut(Range<usize>),
    ) -> Result<(), ChunkError> {
        let mut pos = 0;
        while pos < input.len() {
            match self.state {
                State::ChunkHeader => {
                    if let Some(line) = self.take_line(input, &mut pos, MAX_CHUNK_LINE)? {
                        self.on_chunk_header(&line)?;
                    }
                }
                State::Data { remaining } => {
                    let n = remaining.min((input.len() - pos) as u64) as usize;
                    let range = pos..pos + n;
                    if let Some(s) = &mut self.signed {
                        s.hasher.update(&input[range.clone()]);
                    }
                    emit(range);
                    pos += n;
                    let remaining = remaining - n as u64;
                    self.state = if remaining == 0 {
                        State::DataCr
                    } else {
                        State::Data { remaining }
                    };
                }
                State::DataCr => {
                    if input[pos] != b'\r' {
                        return Err(malformed("chunk data not followed by CRLF"));
                    }
                    pos += 1;
                    self.state = State::DataLf;
                }
                State::DataLf => {
                    if input[pos] != b'\n' {
                        return Err(malformed("chunk data not followed by CRLF"));
                    }
                    pos += 1;
                    self.end_of_chunk_data()?;
                    self.state = State::ChunkHeader;
                }
                State::Trailers => {
                    if let Some(line) = self.take_line(input, &mut pos, MAX_TRAILER_LINE)? {
                        self.on_trailer_line(&line)?;
                    }
                }
                State::Done => return Err(malformed("data after the final chunk")),
                State::Failed => return Err(ChunkError::Poisoned),
            }
        }
        Ok(())
    }

    /// Accumulates up to CRLF; returns the line without it once complete.
    fn take_line(
        &mut self,
        input: &[u8],
        pos: &mut usize,
        max: usize,
    ) -> Result<Option<Vec<u8>>, ChunkError> {
        let rest = &input[*pos..];
        let (piece, complete) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], true),
            None => (rest, false),
        };
        // +1 leaves room for the CR that precedes LF.
        if self.line.len() + piece.len() > max + 1 {
            return Err(malformed("line too long"));
        }
        self.line.extend_from_slice(piece);
        *pos += piece.len();
        if !complete {
            return Ok(None);
        }
        *pos += 1;
        if self.line.pop() != Some(b'\r') {
            return Err(malformed("line not terminated by CRLF"));
        }
        Ok(Some(std::mem::take(&mut self.line)))
    }

    fn on_chunk_header(&mut self, line: &[u8]) -> Result<(), ChunkError> {
        let line = std::str::from_utf8(line).map_err(|_| malformed("chunk header is not ASCII"))?;
        let (size_hex, ext) = match line.split_once(';') {
            Some((s, e)) => (s, Some(e)),
            None => (line, None),
        };
        if size_hex.is_empty()
            || size_hex.len() > 16
            || !size_hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(malformed("invalid chunk size"));
        }
        let size =
            u64::from_str_radix(size_hex, 16).map_err(|_| malformed("invalid chunk size"))?;

        if let Some(s) = &mut self.signed {
            let sig = ext
                .and_then(|e| e.strip_prefix("chunk-signature="))
                .filter(|sig| is_lower_hex64(sig))
                .ok_or_else(|| malformed("missing or invalid chunk-signature"))?;
            s.announced = sig.to_owned();
            s.hasher = Sha256::new();
        }

        let total = self.decoded.checked_add(size).ok_or(ChunkError::TooLarge)?;
        if let Some(expected) = self.decoded_length {
            if total > expected {
                return Err(ChunkError::IncompleteBody {
                    expected,
                    got: total,
                });
            }
        }
        if self.limit.is_some_and(|limit| total > limit) {
            return Err(ChunkError::TooLarge);
        }
        self.decoded = total;

        if size == 0 {
            // The final chunk is signed over empty data, like any other.
            self.end_of_chunk_data()?;
            self.state = State::Trailers;
        } else {
            self.state = State::Data { remaining: size };
        }
        Ok(())
    }

    fn end_of_chunk_data(&mut self) -> Result<(), ChunkError> {
        let Some(s) = &mut self.signed else {
            return Ok(());
        };
        let digest = std::mem::take(&mut s.hasher).finalize();
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}",
            s.amz_date,
            s.scope,
            s.previous,
            EMPTY_SHA256,
            hex::encode(digest)
        );
        let computed = s.key.sign_hex(string_to_sign.as_bytes());
        if !signatures_equal(&computed, &s.announced) {
            return Err(ChunkError::SignatureMismatch);
        }
        s.previous = computed;
        Ok(())
    }

    fn on_trailer_line(&mut self, line: &[u8]) -> Result<(), ChunkError> {
        if line.is_empty() {
            return self.end_of_trailers();
        }
        let line = std::str::from_utf8(line).map_err(|_| malformed("trailer is not UTF-8"))?;
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| malformed("trailer line without ':'"))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        if !is_token(&name) || http::HeaderValue::from_str(value).is_err() {
            return Err(malformed("invalid trailer header"));
        }
        if name == TRAILER_SIGNATURE {
            if self.signed.is_none() || self.trailer_signature.is_some() || !is_lower_hex64(value) {
                return Err(malformed("unexpected x-amz-trailer-signature"));
            }
            self.trailer_signature = Some(value.to_owned());
            return Ok(());
        }
        if self.trailer_signature.is_some() {
            return Err(malformed("trailer after x-amz-trailer-signature"));
        }
        if !self.expect_trailer {
            return Err(malformed("trailer headers were not announced"));
        }
        if self.trailers.len() >= MAX_TRAILERS {
            return Err(malformed("too many trailer headers"));
        }
        self.trailers.push((name, value.to_owned()));
        Ok(())
    }

    fn end_of_trailers(&mut self) -> Result<(), ChunkError> {
        if let Some(s) = &self.signed {
            match (&self.trailer_signature, self.expect_trailer) {
                (Some(provided), true) => {
                    let mut block = String::new();
                    for (name, value) in &self.trailers {
                        block.push_str(name);
                        block.push(':');
                        block.push_str(value);
                        block.push('\n');
                    }
                    let string_to_sign = format!(
                        "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
                        s.amz_date,
                        s.scope,
                        s.previous,
                        sha256_hex(block.as_bytes())
                    );
                    if !signatures_equal(&s.key.sign_hex(string_to_sign.as_bytes()), provided) {
                        return Err(ChunkError::TrailerSignatureMismatch);
                    }
                }
                (None, true) => return Err(malformed("missing x-amz-trailer-signature")),
                (Some(_), false) => return Err(malformed("unexpected x-amz-trailer-signature")),
                (None, false) => {}
            }
        }
        if let Some(expected) = self.decoded_length {
            if self.decoded != expected {
                return Err(ChunkError::IncompleteBody {
                    expected,
                    got: self.decoded,
                });
            }
        }
        self.state = State::Done;
        Ok(())
    }
}

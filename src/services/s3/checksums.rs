//! ETags and flexible checksums (spec §5.8): MD5, CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256, all
//! computed while a body streams in.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::Sha256;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64nvme,
    Sha1,
    Sha256,
}

pub const ALL: [Algorithm; 5] = [
    Algorithm::Crc32,
    Algorithm::Crc32c,
    Algorithm::Crc64nvme,
    Algorithm::Sha1,
    Algorithm::Sha256,
];

static CRC64_NVME: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_NVME);

impl Algorithm {
    /// As the API spells it: `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The header carrying this checksum: `x-amz-checksum-crc32`, ...
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The element in XML documents: `ChecksumCRC32`, ...
    pub fn element(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "ChecksumCRC32",
            Algorithm::Crc32c => "ChecksumCRC32C",
            Algorithm::Crc64nvme => "ChecksumCRC64NVME",
            Algorithm::Sha1 => "ChecksumSHA1",
            Algorithm::Sha256 => "ChecksumSHA256",
        }
    }

    /// Case-insensitive, as S3 accepts `crc32` in `x-amz-sdk-checksum-algorithm`.
    pub fn parse(s: &str) -> Option<Algorithm> {
        ALL.into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s.trim()))
    }

    pub fn from_header(name: &str) -> Option<Algorithm> {
        ALL.into_iter()
            .find(|a| a.header().eq_ignore_ascii_case(name))
    }

    /// Bytes of the digest.
    pub fn digest_len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }

    /// CRCs can be combined into a full-object value; SHAs only composite.
    pub fn is_crc(self) -> bool {
        matches!(
            self,
            Algorithm::Crc32 | Algorithm::Crc32c | Algorithm::Crc64nvme
        )
    }

    /// Whether `value` is well-formed base64 of this algorithm's digest length.
    pub fn valid_value(self, value: &str) -> bool {
        STANDARD
            .decode(value.trim())
            .is_ok_and(|d| d.len() == self.digest_len())
    }

    /// The digest of `data` in one go, base64.
    pub fn of(self, data: &[u8]) -> String {
        let mut h = Hasher::new(self);
        h.update(data);
        h.finish()
    }
}

/// A running checksum.
#[derive(Clone)]
pub enum Hasher {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64nvme(crc::Digest<'static, u64, crc::Table<16>>),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl Hasher {
    pub fn new(a: Algorithm) -> Hasher {
        match a {
            Algorithm::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
            Algorithm::Crc32c => Hasher::Crc32c(0),
            Algorithm::Crc64nvme => Hasher::Crc64nvme(CRC64_NVME.digest()),
            Algorithm::Sha1 => Hasher::Sha1(Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            Hasher::Crc32(_) => Algorithm::Crc32,
            Hasher::Crc32c(_) => Algorithm::Crc32c,
            Hasher::Crc64nvme(_) => Algorithm::Crc64nvme,
            Hasher::Sha1(_) => Algorithm::Sha1,
            Hasher::Sha256(_) => Algorithm::Sha256,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc32(h) => h.update(data),
            Hasher::Crc32c(c) => *c = crc32c::crc32c_append(*c, data),
            Hasher::Crc64nvme(d) => d.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    /// Base64 of the big-endian digest.
    pub fn finish(self) -> String {
        STANDARD.encode(self.finish_bytes())
    }

    pub fn finish_bytes(self) -> Vec<u8> {
        match self {
            Hasher::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Crc32c(c) => c.to_be_bytes().to_vec(),
            Hasher::Crc64nvme(d) => d.finalize().to_be_bytes().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// MD5 for ETags and Content-MD5.
#[derive(Clone, Default)]
pub struct Md5Hasher(Md5);

impl Md5Hasher {
    pub fn new() -> Self {
        Md5Hasher(Md5::new())
    }
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    pub fn finish(self) -> [u8; 16] {
        self.0.finalize().into()
    }
}

/// `"<hex>"`, the ETag of a single-part body.
pub fn etag_of_md5(md5: &[u8]) -> String {
    format!("\"{}\"", hex::encode(md5))
}

/// The multipart ETag: MD5 of the concatenated binary part MD5s, then `-<count>`.
pub fn multipart_etag(part_md5s: &[Vec<u8>]) -> String {
    let mut h = Md5::new();
    for m in part_md5s {
        h.update(m);
    }
    format!("\"{}-{}\"", hex::encode(h.finalize()), part_md5s.len())
}

/// A composite multipart checksum: the algorithm over the concatenated binary part checksums,
/// base64, then `-<count>`.
pub fn composite(algorithm: Algorithm, part_values: &[String]) -> Option<String> {
    let mut h = Hasher::new(algorithm);
    for v in part_values {
        h.update(&STANDARD.decode(v).ok()?);
    }
    Some(format!("{}-{}", h.finish(), part_values.len()))
}

/// The base64 MD5 of Content-MD5, decoded; None when it is not 16 bytes of base64.
pub fn parse_content_md5(value: &str) -> Option<[u8; 16]> {
    STANDARD.decode(value.trim()).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // spec §5.8: CRC32 of "hello world".
        assert_eq!(Algorithm::Crc32.of(b"hello world"), "DUoRhQ==");
        // CRC32C check value of "123456789" is 0xE3069283.
        assert_eq!(
            Algorithm::Crc32c.of(b"123456789"),
            STANDARD.encode(0xE306_9283u32.to_be_bytes())
        );
        // CRC-64/NVME check value of "123456789" is 0xAE8B14860A799888.
        assert_eq!(
            Algorithm::Crc64nvme.of(b"123456789"),
            STANDARD.encode(0xAE8B_1486_0A79_9888u64.to_be_bytes())
        );
        assert_eq!(
            Algorithm::Sha256.of(b""),
            STANDARD.encode(hex::decode(crate::auth::sigv4::EMPTY_SHA256).unwrap())
        );
        assert_eq!(Algorithm::Sha1.of(b"abc"), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for a in ALL {
            let mut h = Hasher::new(a);
            for chunk in data.chunks(977) {
                h.update(chunk);
            }
            assert_eq!(h.finish(), a.of(&data), "{}", a.name());
        }
    }

    #[test]
    fn etags() {
        let mut m = Md5Hasher::new();
        m.update(b"hello world");
        assert_eq!(
            etag_of_md5(&m.finish()),
            "\"5eb63bbbe01eeed093cb22bb8f5acdc3\""
        );
        assert!(multipart_etag(&[vec![0; 16], vec![1; 16]]).ends_with("-2\""));
        assert!(parse_content_md5("XrY7u+Ae7tCTyyK7j1rNww==").is_some());
        assert!(parse_content_md5("nope").is_none());
        assert!(Algorithm::Crc32.valid_value("DUoRhQ=="));
        assert!(!Algorithm::Crc32.valid_value("DUoRhQ"));
    }
}

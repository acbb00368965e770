//! Identifier formats AWS uses (access keys, unique ids, request ids).

use rand::Rng;

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// `prefix` followed by `n` characters of AWS's base32 alphabet, e.g. `AKIA` + 16.
pub fn aws_id(prefix: &str, n: usize) -> String {
    let mut rng = rand::thread_rng();
    let mut s = String::with_capacity(prefix.len() + n);
    s.push_str(prefix);
    for _ in 0..n {
        s.push(BASE32[rng.gen_range(0..BASE32.len())] as char);
    }
    s
}

/// A 40-character secret access key.
pub fn secret_key() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A random (version 4) UUID from the thread's generator. `Uuid::new_v4` asks the kernel for
/// randomness each time, a system call on every request and record.
pub fn uuid_v4() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rand::thread_rng().gen()).into_uuid()
}

/// The request id of the JSON and query protocols: a UUID.
pub fn uuid_request_id() -> String {
    uuid_v4().to_string()
}

/// S3's request id: 16 uppercase hex characters.
pub fn s3_request_id() -> String {
    format!("{:016X}", rand::thread_rng().gen::<u64>())
}

/// S3's `x-amz-id-2`: an opaque base64 host id.
pub fn s3_host_id() -> String {
    use base64::Engine;
    let bytes: [u8; 57] = std::array::from_fn(|_| rand::thread_rng().gen());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `n` random characters from `[A-Za-z0-9]`.
pub fn alnum(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        let k = super::aws_id("AKIA", 16);
        assert_eq!(k.len(), 20);
        assert!(k[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
        assert_eq!(super::secret_key().len(), 40);
        let r = super::s3_request_id();
        assert_eq!(r.len(), 16);
        assert!(r
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
        let u = super::uuid_v4();
        assert_eq!(u.get_version_num(), 4);
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
        assert_ne!(u, super::uuid_v4());
    }
}

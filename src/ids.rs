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

/// An access key id (`AKIA` long-term, `ASIA` temporary) that carries its account the way
/// AWS's do: bits 7..47 of the first six bytes of the base32-decoded tail are the account id,
/// so tools that read the account off a key id (and GetAccessKeyInfo) find it.
pub fn access_key_id(prefix: &str, account: &str) -> String {
    let mut rng = rand::thread_rng();
    let account: u64 = account.parse().unwrap_or(0) & 0xff_ffff_ffff;
    let z: u64 = (u64::from(rng.gen::<bool>()) << 47) | (account << 7) | rng.gen_range(0..128);
    let mut bytes = [0u8; 10];
    bytes[..6].copy_from_slice(&z.to_be_bytes()[2..]);
    rng.fill(&mut bytes[6..]);
    let mut s = String::with_capacity(prefix.len() + 16);
    s.push_str(prefix);
    // 80 bits, 5 at a time.
    let bits = u128::from_be_bytes({
        let mut b = [0u8; 16];
        b[6..].copy_from_slice(&bytes);
        b
    });
    for i in (0..16).rev() {
        s.push(BASE32[((bits >> (i * 5)) & 31) as usize] as char);
    }
    s
}

/// The account an access key id made by [`access_key_id`] (or by AWS) belongs to.
pub fn key_account(key_id: &str) -> Option<String> {
    let tail = key_id.get(4..20)?;
    let mut bits: u128 = 0;
    for c in tail.bytes() {
        let v = BASE32.iter().position(|&b| b == c)? as u128;
        bits = (bits << 5) | v;
    }
    let z = (bits >> 32) as u64 & 0xffff_ffff_ffff;
    Some(format!("{:012}", (z & 0x7fff_ffff_ff80) >> 7))
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
        let a = super::access_key_id("AKIA", "111111111111");
        assert_eq!(a.len(), 20);
        assert!(a.starts_with("AKIA"));
        assert_eq!(super::key_account(&a).as_deref(), Some("111111111111"));
        let t = super::access_key_id("ASIA", "222222222222");
        assert_eq!(super::key_account(&t).as_deref(), Some("222222222222"));
        // A published example: AKIASP2TPHJSQH3FJRUX belongs to 171436882533.
        assert_eq!(
            super::key_account("AKIASP2TPHJSQH3FJRUX").as_deref(),
            Some("171436882533")
        );
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

//! Sealing secrets at rest.
//!
//! SigV4 needs the plain secret of a key to check a signature, so secrets cannot be stored as
//! one-way hashes. They are sealed (ChaCha20-Poly1305) with a master key that lives in a file
//! beside the data directory, not inside it: a copy of the data directory alone hands out no
//! usable keys. STS session tokens are sealed with the same key, which makes them
//! self-contained: the server verifies a session without storing it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use std::path::Path;

#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl Sealer {
    pub fn from_key(key: [u8; 32]) -> Self {
        Sealer {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// Loads the master key, creating it (readable by the owner only) on first start.
    pub fn load_or_create(path: &Path) -> std::io::Result<Sealer> {
        if let Ok(bytes) = std::fs::read(path) {
            let key: [u8; 32] = URL_SAFE_NO_PAD
                .decode(String::from_utf8_lossy(&bytes).trim())
                .ok()
                .and_then(|k| k.try_into().ok())
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{} does not hold a Cairn master key", path.display()),
                    )
                })?;
            return Ok(Self::from_key(key));
        }
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        write_private(path, URL_SAFE_NO_PAD.encode(key).as_bytes())?;
        Ok(Self::from_key(key))
    }

    pub fn seal(&self, plain: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain)
            .expect("ChaCha20-Poly1305 encryption does not fail for in-memory data");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// None when the text was not sealed with this key or was altered.
    pub fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, ct) = bytes.split_at(12);
        self.cipher.decrypt(Nonce::from_slice(nonce), ct).ok()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let s = Sealer::from_key([7; 32]);
        let sealed = s.seal(b"secret");
        assert_eq!(s.open(&sealed).unwrap(), b"secret");
        let other = Sealer::from_key([8; 32]);
        assert!(other.open(&sealed).is_none());
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        bytes[20] ^= 1;
        assert!(s.open(&URL_SAFE_NO_PAD.encode(bytes)).is_none());
    }

    #[test]
    fn key_file_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let a = Sealer::load_or_create(&path).unwrap();
        let b = Sealer::load_or_create(&path).unwrap();
        assert_eq!(b.open(&a.seal(b"x")).unwrap(), b"x");
    }
}

//! The auth room: who signed a request. SigV4 verification (header, presigned query, streaming
//! chunks), the credential store and STS sessions. It knows nothing of services: it turns a
//! request's method, URI, headers and payload hash into a [`Principal`] or a [`Refusal`].

pub mod directory;
pub mod federation;
pub mod principal;
pub mod sealer;
pub mod session;
pub mod sigv4;

pub use principal::{Principal, PrincipalKind, Session};

use crate::clock::Clock;
use crate::store::Store;
use sealer::Sealer;
use sigv4::{AuthFailure, ChunkMode, Parsed, ParsedAuth, PayloadHash, Scope};
use std::sync::RwLock;

/// The administrator key that comes from configuration; it is never stored.
#[derive(Clone)]
pub struct BootstrapKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account: String,
    pub user_name: String,
}

/// Why a request was not authenticated. The front door words it in the caller's protocol.
#[derive(Debug)]
pub enum Refusal {
    /// No signature at all (S3 instead treats such a request as anonymous).
    Missing,
    Signature(AuthFailure),
    UnknownKey(String),
    /// A session token that is not ours, altered, belongs to another key, or came with a
    /// long-term key (which carries none).
    InvalidToken,
    /// The credential scope names another service than the one the request is for.
    WrongService {
        expected: String,
        scoped: String,
    },
    /// The credential scope's region is not a region.
    InvalidRegion,
    ExpiredToken,
    Internal(String),
}

impl From<AuthFailure> for Refusal {
    fn from(f: AuthFailure) -> Self {
        match f {
            AuthFailure::MissingAuth => Refusal::Missing,
            other => Refusal::Signature(other),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthType {
    Header,
    QueryString,
    None,
}

pub struct Authenticated {
    pub principal: Principal,
    /// The credential scope: the signing region and service.
    pub scope: Option<Scope>,
    pub auth_type: AuthType,
    /// For S3 aws-chunked bodies: what the chunk decoder needs to check chunk signatures.
    pub chunks: Option<ChunkMode>,
}

pub struct Authenticator {
    sealer: Sealer,
    bootstrap: BootstrapKey,
    store: Store,
    clock: Clock,
    /// Cached store generation: tokens from before a reset no longer open.
    generation: RwLock<String>,
    /// The bootstrap admin as a principal: asked for on nearly every request, changed only by a
    /// reset.
    admin: RwLock<Option<Principal>>,
    /// Stored long-term keys already resolved, with the store's commit count they were read at:
    /// kept while no commit has happened since (a request signed by a stored key would
    /// otherwise pay a read transaction and an unsealing every time).
    keys: std::sync::Mutex<std::collections::HashMap<String, (u64, String, Principal)>>,
    /// When each stored long-term key's use was last noted (epoch seconds).
    key_uses: std::sync::Mutex<std::collections::HashMap<String, i64>>,
    /// JSON and query protocols allow 5 minutes of skew, S3 15.
    skew: chrono::Duration,
    skew_s3: chrono::Duration,
}

/// What a request offers to be checked against.
pub struct Request<'a> {
    pub method: &'a http::Method,
    pub uri: &'a http::Uri,
    pub headers: &'a http::HeaderMap,
    /// Hex SHA-256 of the body for buffered protocols; None for S3, whose payload hash comes
    /// from `x-amz-content-sha256`.
    pub body_sha256: Option<&'a str>,
    pub s3: bool,
    /// The service the request is for (`cloudtrail`, `sts`, `s3`, ...): its credential scope
    /// must name it.
    pub service: &'a str,
}

impl Authenticator {
    pub fn new(sealer: Sealer, bootstrap: BootstrapKey, store: Store, clock: Clock) -> Self {
        let generation = store.read(|r| directory::generation(r)).unwrap_or_default();
        Authenticator {
            sealer,
            bootstrap,
            store,
            clock,
            generation: RwLock::new(generation),
            admin: RwLock::new(None),
            key_uses: Default::default(),
            keys: Default::default(),
            skew: chrono::Duration::minutes(5),
            skew_s3: chrono::Duration::minutes(15),
        }
    }

    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    pub fn bootstrap(&self) -> &BootstrapKey {
        &self.bootstrap
    }

    pub fn generation(&self) -> String {
        self.generation.read().expect("generation lock").clone()
    }

    /// Called after a reset wrote a new generation.
    pub fn refresh(&self) {
        if let Ok(g) = self.store.read(|r| directory::generation(r)) {
            *self.generation.write().expect("generation lock") = g;
        }
        *self.admin.write().expect("admin lock") = None;
        self.key_uses.lock().expect("key uses").clear();
        self.keys.lock().expect("key cache").clear();
    }

    /// Whether a request signed by `p` should note its key's use now: stored long-term keys
    /// (not the configured bootstrap key, not session keys), once a minute each.
    pub fn key_use_due(&self, p: &Principal, now_epoch: i64) -> bool {
        let id = &p.access_key_id;
        if p.session.is_some() || !id.starts_with("AKIA") || *id == self.bootstrap.access_key_id {
            return false;
        }
        let mut uses = self.key_uses.lock().expect("key uses");
        if uses.get(id).is_some_and(|t| now_epoch - t < 60) {
            return false;
        }
        if uses.len() > 65_536 {
            uses.clear();
        }
        uses.insert(id.clone(), now_epoch);
        true
    }

    fn bootstrap_principal(&self) -> Result<Principal, Refusal> {
        if let Some(p) = self.admin.read().expect("admin lock").as_ref() {
            return Ok(p.clone());
        }
        let b = &self.bootstrap;
        let user = self
            .store
            .read(|r| directory::user(r, &b.account, &b.user_name))
            .map_err(|e| Refusal::Internal(e.to_string()))?
            .ok_or_else(|| Refusal::Internal("the bootstrap user is missing".into()))?;
        let p = Principal {
            account: b.account.clone(),
            kind: PrincipalKind::User {
                name: user.name,
                path: user.path,
                id: user.id,
            },
            access_key_id: b.access_key_id.clone(),
            session: None,
        };
        *self.admin.write().expect("admin lock") = Some(p.clone());
        Ok(p)
    }

    pub fn authenticate(&self, req: &Request) -> Result<Authenticated, Refusal> {
        self.check(req).inspect_err(
            |r| tracing::debug!(refusal = ?r, uri = %req.uri, "request not authenticated"),
        )
    }

    fn check(&self, req: &Request) -> Result<Authenticated, Refusal> {
        let parsed = sigv4::parse(req.method, req.uri, req.headers)?;
        let now = self.clock.now();
        match parsed {
            Parsed::Anonymous => {
                if req.s3 {
                    Ok(Authenticated {
                        principal: Principal {
                            account: String::new(),
                            kind: PrincipalKind::Anonymous,
                            access_key_id: String::new(),
                            session: None,
                        },
                        scope: None,
                        auth_type: AuthType::None,
                        chunks: None,
                    })
                } else {
                    Err(Refusal::Missing)
                }
            }
            Parsed::V2Query {
                access_key_id,
                signature,
                expires_epoch,
                security_token,
            } => {
                let (secret, principal) =
                    self.resolve(&access_key_id, security_token.as_deref(), now)?;
                sigv4::verify_v2_query(
                    req.method,
                    req.uri,
                    req.headers,
                    &access_key_id,
                    &signature,
                    expires_epoch,
                    &secret,
                    now,
                )?;
                Ok(Authenticated {
                    principal,
                    scope: None,
                    auth_type: AuthType::QueryString,
                    chunks: None,
                })
            }
            Parsed::V4(auth) => self.verify_v4(req, auth, now),
        }
    }

    fn verify_v4(
        &self,
        req: &Request,
        auth: ParsedAuth,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Authenticated, Refusal> {
        if auth.scope.service != req.service {
            return Err(Refusal::WrongService {
                expected: req.service.to_string(),
                scoped: auth.scope.service.clone(),
            });
        }
        if !is_region(&auth.scope.region) {
            return Err(Refusal::InvalidRegion);
        }
        let (secret, principal) = self.resolve(
            &auth.scope.access_key_id,
            auth.security_token.as_deref(),
            now,
        )?;
        sigv4::check_time(&auth, now, if req.s3 { self.skew_s3 } else { self.skew })?;
        let query = matches!(auth.location, sigv4::Location::Query);
        let content_sha = req
            .headers
            .get("x-amz-content-sha256")
            .and_then(|v| v.to_str().ok());
        // botocore signs x-amz-content-sha256 when a client sets it, for any service; the body's
        // own hash is what must have been signed, so a different header value fails the check.
        let payload = match (req.s3, query, req.body_sha256, content_sha) {
            (false, _, Some(hash), _) => PayloadHash::Hex(hash),
            (true, true, _, None) => PayloadHash::Unsigned,
            (true, _, _, Some("UNSIGNED-PAYLOAD")) => PayloadHash::Unsigned,
            (true, _, _, Some(v)) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                PayloadHash::Hex(v)
            }
            (true, _, _, Some(v)) => PayloadHash::Literal(v),
            (true, false, _, None) => {
                return Err(Refusal::Signature(AuthFailure::MissingContentSha256))
            }
            (false, _, None, _) => PayloadHash::Hex(sigv4::EMPTY_SHA256),
        };
        let key = sigv4::signing_key(
            &secret,
            &auth.scope.date,
            &auth.scope.region,
            &auth.scope.service,
        );
        let verified = sigv4::verify(
            req.method,
            req.uri,
            req.headers,
            &auth,
            payload,
            req.s3,
            &key,
        )?;
        let chunks = match content_sha {
            Some(v) if req.s3 && v.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") => {
                Some(ChunkMode::Signed {
                    key,
                    amz_date: auth.amz_date.clone(),
                    scope: format!(
                        "{}/{}/{}/aws4_request",
                        auth.scope.date, auth.scope.region, auth.scope.service
                    ),
                    seed_signature: verified.seed_signature,
                })
            }
            Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER") if req.s3 => Some(ChunkMode::Unsigned),
            _ => None,
        };
        Ok(Authenticated {
            principal,
            auth_type: if query {
                AuthType::QueryString
            } else {
                AuthType::Header
            },
            scope: Some(auth.scope),
            chunks,
        })
    }

    /// The secret and principal behind an access key id.
    fn resolve(
        &self,
        key_id: &str,
        token: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(String, Principal), Refusal> {
        // A token belongs to the temporary key it was issued with; a long-term key has none.
        if token.is_some() && !key_id.starts_with("ASIA") {
            return Err(Refusal::InvalidToken);
        }
        if key_id == self.bootstrap.access_key_id {
            return Ok((
                self.bootstrap.secret_access_key.clone(),
                self.bootstrap_principal()?,
            ));
        }
        if key_id.starts_with("ASIA") {
            let Some(token) = token else {
                return Err(Refusal::UnknownKey(key_id.to_string()));
            };
            return session::open(
                &self.sealer,
                key_id,
                token,
                now.timestamp(),
                &self.generation(),
            )
            .map_err(|e| match e {
                session::SessionError::Invalid => Refusal::InvalidToken,
                session::SessionError::Expired => Refusal::ExpiredToken,
            });
        }
        self.stored_key(key_id)
    }
}

impl Authenticator {
    /// A stored long-term key's secret and principal, from the cache while the store has not
    /// committed since it was read. The count is taken before the read, so an entry is never
    /// older than its count says.
    fn stored_key(&self, key_id: &str) -> Result<(String, Principal), Refusal> {
        let before = self.store.commits();
        if let Some(now) = before {
            let keys = self.keys.lock().expect("key cache");
            if let Some((at, secret, p)) = keys.get(key_id) {
                if *at == now {
                    return Ok((secret.clone(), p.clone()));
                }
            }
        }
        let (secret, p) = self
            .store
            .read(|r| directory::resolve_key(r, &self.sealer, key_id))
            .map_err(|e| Refusal::Internal(e.to_string()))?
            .ok_or_else(|| Refusal::UnknownKey(key_id.to_string()))?;
        if let Some(at) = before {
            let mut keys = self.keys.lock().expect("key cache");
            if keys.len() >= 4096 {
                keys.clear();
            }
            keys.insert(key_id.to_string(), (at, secret.clone(), p.clone()));
        }
        Ok((secret, p))
    }
}

/// A region name as AWS forms them (`us-east-1`, `cn-north-1`, `us-gov-west-1`,
/// `us-isob-east-1`): lower-case words and a number, joined by dashes.
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

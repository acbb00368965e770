//! STS session credentials, self-contained: the token is the sealed session, so verifying a
//! request signed with temporary credentials needs no lookup and AssumeRole writes no state.

use super::principal::{Principal, PrincipalKind};
use super::sealer::Sealer;
use crate::ids;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Claims {
    /// Access key id the token belongs to.
    k: String,
    /// Secret access key of the session.
    s: String,
    /// Who the session is, with what it carries (session policies, tags).
    p: Principal,
    /// Epoch seconds of expiry.
    exp: i64,
    /// The store generation at issue time; a reset invalidates older tokens.
    g: String,
}

pub struct TemporaryCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub principal: Principal,
}

/// A token starts with this, like AWS's do with theirs, so it is recognisable in logs.
const TOKEN_PREFIX: &str = "FwoGZXIvYXdzE";

/// Issues credentials for `principal` (its access key id is replaced by the new one) that
/// expire at `expires_at` (epoch seconds).
pub fn issue(
    sealer: &Sealer,
    mut principal: Principal,
    expires_at: i64,
    generation: &str,
) -> TemporaryCredentials {
    principal.access_key_id = ids::access_key_id("ASIA", &principal.account);
    let claims = Claims {
        k: principal.access_key_id.clone(),
        s: ids::secret_key(),
        p: principal,
        exp: expires_at,
        g: generation.into(),
    };
    let token = format!(
        "{TOKEN_PREFIX}{}",
        sealer.seal(&serde_json::to_vec(&claims).expect("claims serialize"))
    );
    TemporaryCredentials {
        access_key_id: claims.k,
        secret_access_key: claims.s,
        session_token: token,
        principal: claims.p,
    }
}

/// The principal of a role session.
pub fn role_principal(
    account: &str,
    role_name: &str,
    role_path: &str,
    role_id: &str,
    session_name: &str,
    issued_at: i64,
    expires_at: i64,
) -> Principal {
    Principal {
        account: account.into(),
        kind: PrincipalKind::AssumedRole {
            role_name: role_name.into(),
            role_path: role_path.into(),
            role_id: role_id.into(),
            session_name: session_name.into(),
            issued_at,
            expires_at,
        },
        access_key_id: String::new(),
        session: None,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum SessionError {
    /// Not a token of ours, altered, issued for another key, or from before a reset.
    Invalid,
    Expired,
}

/// The secret and principal of a session, if `token` is a live token for `access_key_id`.
pub fn open(
    sealer: &Sealer,
    access_key_id: &str,
    token: &str,
    now_epoch: i64,
    generation: &str,
) -> Result<(String, Principal), SessionError> {
    let body = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or(SessionError::Invalid)?;
    let plain = sealer.open(body).ok_or(SessionError::Invalid)?;
    let claims: Claims = serde_json::from_slice(&plain).map_err(|_| SessionError::Invalid)?;
    if claims.k != access_key_id || claims.g != generation {
        return Err(SessionError::Invalid);
    }
    if now_epoch >= claims.exp {
        return Err(SessionError::Expired);
    }
    Ok((claims.s, claims.p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_and_open() {
        let sealer = Sealer::from_key([1; 32]);
        let p = role_principal(
            "222222222222",
            "OrganizationAccountAccessRole",
            "/",
            "AROAEXAMPLE",
            "x",
            100,
            1000,
        );
        let c = issue(&sealer, p, 1000, "g1");
        assert!(c.access_key_id.starts_with("ASIA"));
        assert_eq!(c.principal.access_key_id, c.access_key_id);
        let (secret, p) = open(&sealer, &c.access_key_id, &c.session_token, 999, "g1").unwrap();
        assert_eq!(secret, c.secret_access_key);
        assert_eq!(
            p.arn(),
            "arn:aws:sts::222222222222:assumed-role/OrganizationAccountAccessRole/x"
        );
        assert_eq!(
            open(&sealer, &c.access_key_id, &c.session_token, 1000, "g1"),
            Err(SessionError::Expired)
        );
        assert_eq!(
            open(&sealer, "ASIAOTHER", &c.session_token, 999, "g1"),
            Err(SessionError::Invalid)
        );
        assert_eq!(
            open(&sealer, &c.access_key_id, &c.session_token, 999, "g2"),
            Err(SessionError::Invalid)
        );
        assert_eq!(
            open(&sealer, &c.access_key_id, "garbage", 999, "g1"),
            Err(SessionError::Invalid)
        );
    }
}

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
    a: String,
    rn: String,
    rp: String,
    ri: String,
    sn: String,
    iat: i64,
    exp: i64,
    /// The store generation at issue time; a reset invalidates older tokens.
    g: String,
}

pub struct RoleSession<'a> {
    pub account: &'a str,
    pub role_name: &'a str,
    pub role_path: &'a str,
    pub role_id: &'a str,
    pub session_name: &'a str,
    pub issued_at: i64,
    pub expires_at: i64,
    pub generation: &'a str,
}

pub struct TemporaryCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub principal: Principal,
}

/// A token starts with this, like AWS's do with theirs, so it is recognisable in logs.
const TOKEN_PREFIX: &str = "FwoGZXIvYXdzE";

pub fn issue(sealer: &Sealer, s: &RoleSession) -> TemporaryCredentials {
    let claims = Claims {
        k: ids::aws_id("ASIA", 16),
        s: ids::secret_key(),
        a: s.account.into(),
        rn: s.role_name.into(),
        rp: s.role_path.into(),
        ri: s.role_id.into(),
        sn: s.session_name.into(),
        iat: s.issued_at,
        exp: s.expires_at,
        g: s.generation.into(),
    };
    let token = format!(
        "{TOKEN_PREFIX}{}",
        sealer.seal(&serde_json::to_vec(&claims).expect("claims serialize"))
    );
    TemporaryCredentials {
        principal: principal(&claims),
        access_key_id: claims.k,
        secret_access_key: claims.s,
        session_token: token,
    }
}

fn principal(c: &Claims) -> Principal {
    Principal {
        account: c.a.clone(),
        kind: PrincipalKind::AssumedRole {
            role_name: c.rn.clone(),
            role_path: c.rp.clone(),
            role_id: c.ri.clone(),
            session_name: c.sn.clone(),
            issued_at: c.iat,
            expires_at: c.exp,
        },
        access_key_id: c.k.clone(),
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
    let p = principal(&claims);
    Ok((claims.s, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(exp: i64) -> RoleSession<'static> {
        RoleSession {
            account: "222222222222",
            role_name: "OrganizationAccountAccessRole",
            role_path: "/",
            role_id: "AROAEXAMPLE",
            session_name: "x",
            issued_at: 100,
            expires_at: exp,
            generation: "g1",
        }
    }

    #[test]
    fn issue_and_open() {
        let sealer = Sealer::from_key([1; 32]);
        let c = issue(&sealer, &session(1000));
        assert!(c.access_key_id.starts_with("ASIA"));
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

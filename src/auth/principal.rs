//! Who made a request, as every other room sees it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrincipalKind {
    Root,
    User {
        name: String,
        path: String,
        id: String,
    },
    AssumedRole {
        role_name: String,
        role_path: String,
        role_id: String,
        session_name: String,
        /// Epoch seconds.
        issued_at: i64,
        expires_at: i64,
    },
    /// An AWS service acting on its own behalf (CloudTrail delivering logs).
    Service {
        service: String,
    },
    Anonymous,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Empty for services and anonymous callers.
    pub account: String,
    pub kind: PrincipalKind,
    /// The access key that signed the request (empty when none did).
    pub access_key_id: String,
}

impl Principal {
    pub fn arn(&self) -> String {
        match &self.kind {
            PrincipalKind::Root => format!("arn:aws:iam::{}:root", self.account),
            PrincipalKind::User { name, path, .. } => {
                format!("arn:aws:iam::{}:user{}{}", self.account, path, name)
            }
            // Assumed-role ARNs drop the role path, as AWS does.
            PrincipalKind::AssumedRole {
                role_name,
                session_name,
                ..
            } => format!(
                "arn:aws:sts::{}:assumed-role/{}/{}",
                self.account, role_name, session_name
            ),
            PrincipalKind::Service { service } => service.clone(),
            PrincipalKind::Anonymous => "anonymous".into(),
        }
    }

    /// `UserId` of GetCallerIdentity and `principalId` of CloudTrail records.
    pub fn user_id(&self) -> String {
        match &self.kind {
            PrincipalKind::Root => self.account.clone(),
            PrincipalKind::User { id, .. } => id.clone(),
            PrincipalKind::AssumedRole {
                role_id,
                session_name,
                ..
            } => format!("{role_id}:{session_name}"),
            PrincipalKind::Service { service } => service.clone(),
            PrincipalKind::Anonymous => "anonymous".into(),
        }
    }

    /// For sessions, the ARN of the role (with its path); the policy key `aws:PrincipalArn`.
    pub fn role_arn(&self) -> Option<String> {
        match &self.kind {
            PrincipalKind::AssumedRole {
                role_name,
                role_path,
                ..
            } => Some(format!(
                "arn:aws:iam::{}:role{}{}",
                self.account, role_path, role_name
            )),
            _ => None,
        }
    }

    pub fn service(name: &str) -> Principal {
        Principal {
            account: String::new(),
            kind: PrincipalKind::Service {
                service: name.to_string(),
            },
            access_key_id: String::new(),
        }
    }

    pub fn is_assumed_role(&self) -> bool {
        matches!(self.kind, PrincipalKind::AssumedRole { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_ids() {
        let user = Principal {
            account: "111111111111".into(),
            kind: PrincipalKind::User {
                name: "admin".into(),
                path: "/".into(),
                id: "AIDAEXAMPLE".into(),
            },
            access_key_id: "AKIA".into(),
        };
        assert_eq!(user.arn(), "arn:aws:iam::111111111111:user/admin");
        assert_eq!(user.user_id(), "AIDAEXAMPLE");
        let role = Principal {
            account: "222222222222".into(),
            kind: PrincipalKind::AssumedRole {
                role_name: "R".into(),
                role_path: "/team/".into(),
                role_id: "AROAX".into(),
                session_name: "s".into(),
                issued_at: 0,
                expires_at: 1,
            },
            access_key_id: "ASIA".into(),
        };
        assert_eq!(role.arn(), "arn:aws:sts::222222222222:assumed-role/R/s");
        assert_eq!(
            role.role_arn().unwrap(),
            "arn:aws:iam::222222222222:role/team/R"
        );
        assert_eq!(role.user_id(), "AROAX:s");
    }
}

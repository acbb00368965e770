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
    /// A federated user session (GetFederationToken), on behalf of an IAM user.
    FederatedUser {
        name: String,
        /// The IAM user whose keys asked for the session; its policies bound the session.
        user_name: String,
        expires_at: i64,
    },
    /// An AWS service acting on its own behalf (CloudTrail delivering logs).
    Service {
        service: String,
    },
    Anonymous,
    /// A user of an IAM OIDC provider calling AssumeRoleWithWebIdentity (no signature: its
    /// token speaks for it), as its token names it; `account` is the role's.
    WebIdentityUser {
        /// The provider's ARN (`arn:aws:iam::A:oidc-provider/host`).
        provider: String,
        audience: String,
        subject: String,
    },
    /// A user of an IAM SAML provider calling AssumeRoleWithSAML, as its assertion names it;
    /// `account` is the role's.
    SamlUser {
        /// The provider's ARN (`arn:aws:iam::A:saml-provider/Name`).
        provider: String,
        /// `saml:namequalifier`: a hash of the issuer, the account and the provider's name.
        name_qualifier: String,
        subject: String,
    },
}

/// How a role session came from an identity provider (AssumeRoleWithWebIdentity or
/// AssumeRoleWithSAML): the provider's ARN, `aws:FederatedProvider`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Federation {
    WebIdentity { provider: String },
    Saml { provider: String },
}

impl Federation {
    pub fn provider(&self) -> &str {
        match self {
            Federation::WebIdentity { provider } | Federation::Saml { provider } => provider,
        }
    }
}

/// What a session's credentials carry beyond who it is: the session policies that narrow it,
/// its tags, its source identity, and whether MFA was presented when it was made.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The inline session policy (AssumeRole's or GetFederationToken's `Policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Managed policies passed as session policies (`PolicyArns`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_arns: Vec<String>,
    /// Session tags (`aws:PrincipalTag/*`), in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// Keys of the tags that pass on to sessions assumed from this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    #[serde(default)]
    pub mfa: bool,
    /// For AssumeRoot sessions: the task policy (`arn:aws:iam::aws:policy/root-task/...`), whose
    /// denies scope what the root session may do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_policy: Option<String>,
    /// For GetSessionToken / GetFederationToken sessions: epoch seconds of issue and expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<(i64, i64)>,
    /// For role sessions made from a web identity or a SAML assertion: the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federation: Option<Federation>,
}

impl Session {
    /// Whether session policies narrow what the session may do.
    pub fn has_policies(&self) -> bool {
        self.policy.is_some() || !self.policy_arns.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Empty for services and anonymous callers.
    pub account: String,
    pub kind: PrincipalKind,
    /// The access key that signed the request (empty when none did).
    pub access_key_id: String,
    /// For temporary credentials: what the session carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Box<Session>>,
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
            PrincipalKind::FederatedUser { name, .. } => {
                format!("arn:aws:sts::{}:federated-user/{}", self.account, name)
            }
            PrincipalKind::Service { service } => service.clone(),
            PrincipalKind::Anonymous => "anonymous".into(),
            // No ARN of their own: the provider they come through.
            PrincipalKind::WebIdentityUser { provider, .. }
            | PrincipalKind::SamlUser { provider, .. } => provider.clone(),
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
            PrincipalKind::FederatedUser { name, .. } => format!("{}:{name}", self.account),
            PrincipalKind::Service { service } => service.clone(),
            PrincipalKind::Anonymous => "anonymous".into(),
            PrincipalKind::WebIdentityUser {
                provider,
                audience,
                subject,
            } => format!("{provider}:{audience}:{subject}"),
            PrincipalKind::SamlUser {
                name_qualifier,
                subject,
                ..
            } => format!("{name_qualifier}:{subject}"),
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
            session: None,
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
            session: None,
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
            session: None,
        };
        assert_eq!(role.arn(), "arn:aws:sts::222222222222:assumed-role/R/s");
        assert_eq!(
            role.role_arn().unwrap(),
            "arn:aws:iam::222222222222:role/team/R"
        );
        assert_eq!(role.user_id(), "AROAX:s");
    }
}

//! IAM policy engine: parsing, validation and evaluation of bucket policies, identity policies,
//! role trust policies and session policies (spec: organizations-s3-sts-auth.md §6, §7.3-7.4;
//! cloudtrail.md §3.5).
//!
//! The engine is pure: it never looks anything up. Whatever the request knows (condition keys,
//! the caller, the resource owner) is handed in, and the answer is a value. That keeps one
//! implementation usable by S3 request authorization, STS AssumeRole, and CloudTrail's own
//! bucket-policy probes at CreateTrail and at every delivery.
//!
//! Error messages follow S3's `MalformedPolicy` wording where the spec gives it. Where AWS's
//! wording is unknown the message is a **Product rule** and is listed on [`PolicyError`].

mod condition;
mod context;
mod document;
mod evaluate;
mod matching;
mod principal;
mod s3_actions;
mod values;
mod variables;

#[cfg(test)]
mod tests;

use std::fmt;

pub use self::context::Context;
pub use self::evaluate::{authorize, authorize_explained, evaluate};

/// Largest bucket policy S3 accepts, in bytes.
pub const BUCKET_POLICY_MAX_BYTES: usize = 20 * 1024;

/// What a policy document is attached to; it decides which elements are required or forbidden
/// and how strictly `Resource` and `Action` are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyKind {
    /// A bucket policy: Principal required, resources limited to this bucket and its objects,
    /// actions limited to S3.
    Bucket { bucket: String },
    /// An IAM user/role policy or an AssumeRole session policy: Principal forbidden.
    Identity,
    /// A role trust policy: Principal required, Resource optional.
    Trust,
}

/// A parsed, validated policy. The original text is kept verbatim because GetBucketPolicy must
/// return exactly what was stored.
#[derive(Debug, Clone)]
pub struct Policy {
    text: String,
    kind: PolicyKind,
    version: Option<String>,
    id: Option<String>,
    statements: Vec<document::Statement>,
}

impl Policy {
    /// Parses and validates `text` for the given attachment point.
    pub fn parse(text: &str, kind: &PolicyKind) -> Result<Policy, PolicyError> {
        document::parse(text, kind)
    }

    /// The document exactly as it was given to [`Policy::parse`].
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn kind(&self) -> &PolicyKind {
        &self.kind
    }

    /// The `Version` element, if present.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The `Id` element, if present.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// Every IAM/STS ARN named in `Principal`/`NotPrincipal` (account ids normalised to
    /// `arn:aws:iam::<id>:root`). AWS rejects bucket and trust policies naming principals that do
    /// not exist; the engine cannot know which exist, so the caller checks this list against its
    /// credential store and reports "Invalid principal in policy" itself.
    pub fn aws_principals(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for st in &self.statements {
            if let Some(p) = &st.principal {
                for arn in p.aws_arns() {
                    if !out.contains(&arn) {
                        out.push(arn);
                    }
                }
            }
        }
        out
    }
}

/// A policy validation failure. `message` is what goes into the AWS error body
/// (S3 `MalformedPolicy`, IAM/STS `MalformedPolicyDocument`).
///
/// Messages taken from the spec: "Policies must be valid JSON and the first byte must be '{'",
/// "Missing required field <Name>", "Unknown field <Name>", "Policy has invalid resource",
/// "Policy has invalid action", "Action does not apply to any resource(s) in statement",
/// "Invalid principal in policy", "Invalid Condition type : <op>",
/// "Policy exceeds the maximum allowed document size.".
///
/// Product-rule messages (AWS wording not documented): "Syntax errors in policy." (an element of
/// the wrong JSON type), "Invalid effect: <v>", "Invalid policy version: <v>",
/// "Statement cannot contain both <A> and <NotA>", "Policy document should not specify a
/// principal." (IAM's wording, identity policies), "Statement IDs (SID) in a single policy must be
/// unique." (IAM's wording, identity and trust policies), "Policy has an invalid condition key",
/// "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc." (IAM's wording),
/// "Resource <r> must be in ARN format or \"*\"." (IAM's wording), "Invalid Condition value for
/// <op> : <v>".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub message: String,
}

impl PolicyError {
    pub fn new(message: impl Into<String>) -> Self {
        PolicyError {
            message: message.into(),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

/// The kind of authenticated identity making the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    /// The account root user.
    Root,
    /// An IAM user.
    User,
    /// A role session obtained with AssumeRole.
    AssumedRole,
    /// A federated user session (GetFederationToken).
    FederatedUser,
    /// A user of an external identity provider asking for a role session with its token or
    /// SAML assertion (AssumeRoleWithWebIdentity, AssumeRoleWithSAML): what a trust policy's
    /// `Federated` principal names. `arn` is the provider's (an IAM OIDC or SAML provider ARN).
    Federated,
    /// An AWS service acting on its own behalf (CloudTrail delivering logs).
    Service,
    /// An unsigned request.
    Anonymous,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub kind: PrincipalType,
    /// None for service / anonymous.
    pub account: Option<String>,
    /// User ARN, root ARN, or assumed-role ARN `arn:aws:sts::A:assumed-role/R/S`.
    pub arn: Option<String>,
    /// For sessions: `arn:aws:iam::A:role/path/R`.
    pub role_arn: Option<String>,
    /// Service principal name, e.g. `cloudtrail.amazonaws.com`.
    pub service: Option<String>,
    /// Root: the account id; user: `AIDA…`; session: `AROA…:session`.
    pub user_id: Option<String>,
    /// IAM user name (users only).
    pub username: Option<String>,
}

impl Caller {
    /// The root user of `account`.
    pub fn root(account: &str) -> Caller {
        Caller {
            kind: PrincipalType::Root,
            account: Some(account.to_string()),
            arn: Some(format!("arn:aws:iam::{account}:root")),
            role_arn: None,
            service: None,
            user_id: Some(account.to_string()),
            username: None,
        }
    }

    /// An IAM user, from its ARN `arn:aws:iam::A:user/path/name` and unique id (`AIDA…`).
    /// Account and user name are taken from the ARN.
    pub fn user(arn: &str, user_id: &str) -> Caller {
        Caller {
            kind: PrincipalType::User,
            account: arn_account(arn),
            arn: Some(arn.to_string()),
            role_arn: None,
            service: None,
            user_id: Some(user_id.to_string()),
            username: arn.rsplit('/').next().map(str::to_string),
        }
    }

    /// A session of the role `role_arn` (`arn:aws:iam::A:role/path/R`) named `session`;
    /// `role_id` is the role's unique id (`AROA…`). The session ARN drops the role path, as
    /// AWS does.
    pub fn assumed_role(role_arn: &str, session: &str, role_id: &str) -> Caller {
        let account = arn_account(role_arn);
        let role_name = role_arn.rsplit('/').next().unwrap_or_default();
        Caller {
            kind: PrincipalType::AssumedRole,
            arn: Some(format!(
                "arn:aws:sts::{}:assumed-role/{role_name}/{session}",
                account.as_deref().unwrap_or_default()
            )),
            account,
            role_arn: Some(role_arn.to_string()),
            service: None,
            user_id: Some(format!("{role_id}:{session}")),
            username: None,
        }
    }

    /// An AWS service principal such as `cloudtrail.amazonaws.com`.
    pub fn service(name: &str) -> Caller {
        Caller {
            kind: PrincipalType::Service,
            account: None,
            arn: None,
            role_arn: None,
            service: Some(name.to_string()),
            user_id: None,
            username: None,
        }
    }

    /// A user of the identity provider `provider` (its IAM provider ARN).
    pub fn federated(provider: &str) -> Caller {
        Caller {
            kind: PrincipalType::Federated,
            account: None,
            arn: Some(provider.to_string()),
            role_arn: None,
            service: None,
            user_id: None,
            username: None,
        }
    }

    /// An unsigned request.
    pub fn anonymous() -> Caller {
        Caller {
            kind: PrincipalType::Anonymous,
            account: None,
            arn: None,
            role_arn: None,
            service: None,
            user_id: None,
            username: None,
        }
    }

    /// The value of `aws:PrincipalArn`: for sessions it is the role ARN, not the session ARN.
    pub fn principal_arn(&self) -> Option<String> {
        match self.kind {
            PrincipalType::Root => self.arn.clone().or_else(|| {
                self.account
                    .as_ref()
                    .map(|a| format!("arn:aws:iam::{a}:root"))
            }),
            PrincipalType::User => self.arn.clone(),
            PrincipalType::AssumedRole => self.role_arn.clone(),
            PrincipalType::FederatedUser => self.arn.clone(),
            PrincipalType::Service | PrincipalType::Anonymous | PrincipalType::Federated => None,
        }
    }
}

fn arn_account(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

/// One authorization question: may `caller` perform `action` on `resource`, given `context`?
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub caller: &'a Caller,
    /// `service:Operation`, e.g. `s3:PutObject`; compared case-insensitively.
    pub action: &'a str,
    /// Resource ARN (`arn:aws:s3:::bucket/key`) or `*`; compared case-sensitively.
    pub resource: &'a str,
    pub context: &'a Context,
}

/// The verdict of a single policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// A Deny statement matched.
    Deny,
    /// An Allow statement matched and no Deny did. `direct` is true when the Principal named the
    /// caller itself (its user, role or session ARN, `*`, its service, or a NotPrincipal that
    /// excludes it), false when it matched only through the caller's account principal.
    Allow { direct: bool },
    /// No statement applies.
    NoMatch,
}

/// The combined verdict of all applicable policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// A kind of policy, as AWS names it in an access-denied message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    Identity,
    Resource,
    Boundary,
    Session,
    Scp,
    Rcp,
}

impl PolicyType {
    /// The words AWS's messages use: "... because no {words} allows ..." and "... with an
    /// explicit deny in a {words}" (with "an" before "identity-based policy").
    pub fn words(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity-based policy",
            PolicyType::Resource => "resource-based policy",
            PolicyType::Boundary => "permissions boundary",
            PolicyType::Session => "session policy",
            PolicyType::Scp => "service control policy",
            PolicyType::Rcp => "resource control policy",
        }
    }
}

/// A decision with the reason for a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub decision: Decision,
    /// For a refusal: which kind of policy refused, and whether by an explicit deny.
    pub refused_by: Option<(PolicyType, bool)>,
}

impl Outcome {
    pub fn allowed() -> Outcome {
        Outcome {
            decision: Decision::Allow,
            refused_by: None,
        }
    }

    pub fn denied(explicit: bool, by: PolicyType) -> Outcome {
        Outcome {
            decision: if explicit {
                Decision::ExplicitDeny
            } else {
                Decision::ImplicitDeny
            },
            refused_by: Some((by, explicit)),
        }
    }

    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// The reason clause of AWS's message: "because no identity-based policy allows the
    /// s3:GetObject action" or "with an explicit deny in a service control policy".
    pub fn reason(&self, action: &str) -> String {
        match self.refused_by {
            None => String::new(),
            Some((by, true)) => {
                let article = if by == PolicyType::Identity {
                    "an"
                } else {
                    "a"
                };
                format!("with an explicit deny in {article} {}", by.words())
            }
            Some((by, false)) => format!("because no {} allows the {action} action", by.words()),
        }
    }
}

/// The policies that bear on one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Authorization<'a> {
    /// The caller's own (IAM user/role) policies; empty for root/service/anonymous.
    pub identity_policies: &'a [&'a Policy],
    /// AssumeRole session policies (they intersect with the identity policies); None if none
    /// were given when the session was created.
    pub session_policies: Option<&'a [&'a Policy]>,
    /// The user's or role's permissions boundary.
    pub boundary: Option<&'a Policy>,
    /// The service control policies on the path from the organization's root to the caller's
    /// account, one list per level; empty when SCPs do not apply to the caller.
    pub scps: &'a [Vec<&'a Policy>],
    /// The resource control policies on the path to the resource's account, likewise.
    pub rcps: &'a [Vec<&'a Policy>],
    /// The bucket policy or the role trust policy.
    pub resource_policy: Option<&'a Policy>,
    /// Account that owns the resource; None for account-less resources such as `*` in
    /// ListAllMyBuckets, which are treated as the caller's own.
    pub resource_owner: Option<&'a str>,
}

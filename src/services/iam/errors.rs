//! IAM's errors, with the codes, statuses and wording of its API reference.

use crate::error::AwsError;

pub fn validation(message: String) -> AwsError {
    AwsError::client("ValidationError", message)
}

pub fn invalid_input(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidInput", message)
}

/// MalformedPolicyDocument, in IAM's words where they differ from the policy engine's (which
/// are S3's).
pub fn malformed(message: &str) -> AwsError {
    let iam = match message {
        "Policies must be valid JSON and the first byte must be '{'" => {
            "This policy contains invalid Json"
        }
        "Missing required field Resource" => "Policy statement must contain resources.",
        "Missing required field Action" => "Policy statement must contain actions.",
        other => other,
    };
    AwsError::client("MalformedPolicyDocument", iam)
}

pub fn no_such_entity(message: impl Into<String>) -> AwsError {
    AwsError::new(404, "NoSuchEntity", message)
}

pub fn no_such_user(name: &str) -> AwsError {
    no_such_entity(format!("The user with name {name} cannot be found."))
}

pub fn no_such_group(name: &str) -> AwsError {
    no_such_entity(format!("The group with name {name} cannot be found."))
}

pub fn no_such_role(name: &str) -> AwsError {
    no_such_entity(format!("The role with name {name} cannot be found."))
}

pub fn no_such_policy(arn: &str) -> AwsError {
    no_such_entity(format!("Policy {arn} was not found."))
}

pub fn not_attachable(arn: &str) -> AwsError {
    no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
}

pub fn no_such_profile(name: &str) -> AwsError {
    no_such_entity(format!("Instance Profile {name} cannot be found."))
}

pub fn already_exists(message: impl Into<String>) -> AwsError {
    AwsError::new(409, "EntityAlreadyExists", message)
}

pub fn delete_conflict(message: impl Into<String>) -> AwsError {
    AwsError::new(409, "DeleteConflict", message)
}

pub fn limit_exceeded(message: impl Into<String>) -> AwsError {
    AwsError::new(409, "LimitExceeded", message)
}

/// Service-linked roles are AWS's to change.
pub fn unmodifiable_role(name: &str) -> AwsError {
    AwsError::client(
        "UnmodifiableEntity",
        format!("Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS"),
    )
}

/// For the IAM features that have no counterpart here (passwords, MFA devices, certificates).
pub fn not_supported(op: &str) -> AwsError {
    AwsError::new(501, "NotImplemented", format!("{op} is not implemented"))
}

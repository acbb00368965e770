//! The errors of the Organizations model, with AWS's codes, messages and `Reason`s.

use crate::error::AwsError;

pub fn access_denied() -> AwsError {
    AwsError::client(
        "AccessDeniedException",
        "You don't have permissions to access this resource.",
    )
}

pub fn not_in_use() -> AwsError {
    AwsError::client(
        "AWSOrganizationsNotInUseException",
        "Your account is not a member of an organization.",
    )
}

pub fn already_in_organization() -> AwsError {
    AwsError::client(
        "AlreadyInOrganizationException",
        "The provided account is already a member of an organization.",
    )
}

pub fn account_not_found() -> AwsError {
    AwsError::client(
        "AccountNotFoundException",
        "You specified an account that doesn't exist.",
    )
}

pub fn account_not_registered() -> AwsError {
    AwsError::client(
        "AccountNotRegisteredException",
        "The provided account is not a registered delegated administrator for your organization.",
    )
}

pub fn account_already_registered() -> AwsError {
    AwsError::client(
        "AccountAlreadyRegisteredException",
        "The provided account is already a delegated administrator for your organization.",
    )
}

pub fn account_already_closed() -> AwsError {
    AwsError::client(
        "AccountAlreadyClosedException",
        "You attempted to close an account that is already closed.",
    )
}

pub fn organization_not_empty() -> AwsError {
    AwsError::client(
        "OrganizationNotEmptyException",
        "To delete an organization you must first remove all member accounts (except the master).",
    )
}

pub fn master_cannot_leave() -> AwsError {
    AwsError::client(
        "MasterCannotLeaveOrganizationException",
        "You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization of the management account.",
    )
}

pub fn parent_not_found() -> AwsError {
    AwsError::client(
        "ParentNotFoundException",
        "You specified parent that doesn't exist.",
    )
}

pub fn source_parent_not_found() -> AwsError {
    AwsError::client(
        "SourceParentNotFoundException",
        "We can't find a source root or OU with the ParentId that you specified.",
    )
}

pub fn destination_parent_not_found() -> AwsError {
    AwsError::client(
        "DestinationParentNotFoundException",
        "We can't find the destination container (a root or OU) with the ParentId that you specified.",
    )
}

pub fn duplicate_account() -> AwsError {
    AwsError::client(
        "DuplicateAccountException",
        "That account is already present in the specified destination.",
    )
}

pub fn child_not_found() -> AwsError {
    AwsError::client(
        "ChildNotFoundException",
        "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
    )
}

pub fn ou_not_found() -> AwsError {
    AwsError::client(
        "OrganizationalUnitNotFoundException",
        "You specified an organizational unit that doesn't exist.",
    )
}

pub fn ou_not_empty() -> AwsError {
    AwsError::client(
        "OrganizationalUnitNotEmptyException",
        "You can't delete an organizational unit (OU) that contains accounts or other OUs.",
    )
}

pub fn duplicate_ou() -> AwsError {
    AwsError::client(
        "DuplicateOrganizationalUnitException",
        "An OU with the same name already exists.",
    )
}

pub fn root_not_found() -> AwsError {
    AwsError::client(
        "RootNotFoundException",
        "We can't find a root with the RootId that you specified.",
    )
}

pub fn target_not_found() -> AwsError {
    AwsError::client(
        "TargetNotFoundException",
        "You specified a target that doesn't exist.",
    )
}

pub fn create_account_status_not_found() -> AwsError {
    AwsError::client(
        "CreateAccountStatusNotFoundException",
        "We can't find an create account request with the CreateAccountRequestId that you specified.",
    )
}

pub fn handshake_not_found() -> AwsError {
    AwsError::client(
        "HandshakeNotFoundException",
        "We can't find a handshake with the HandshakeId that you specified.",
    )
}

pub fn handshake_already_in_state() -> AwsError {
    AwsError::client(
        "HandshakeAlreadyInStateException",
        "The specified handshake is already in the requested state. For example, you can't accept a handshake that was already accepted.",
    )
}

pub fn invalid_handshake_transition() -> AwsError {
    AwsError::client(
        "InvalidHandshakeTransitionException",
        "You can't perform the operation on the handshake in its current state. For example, you can't cancel a handshake that was already accepted or accept a handshake that was already declined.",
    )
}

pub fn duplicate_handshake() -> AwsError {
    AwsError::client(
        "DuplicateHandshakeException",
        "A handshake with the same action and target already exists. For example, if you invited an account to join your organization, the invited account might already have a pending invitation from this organization.",
    )
}

pub fn handshake_constraint(reason: &'static str) -> AwsError {
    let message = match reason {
        "ALREADY_IN_AN_ORGANIZATION" => {
            "The handshake request is invalid because the invited account is already a member of an organization."
        }
        "ORGANIZATION_ALREADY_HAS_ALL_FEATURES" => {
            "The handshake request is invalid because the organization has already enabled all features."
        }
        "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION" => {
            "The handshake request is invalid because the organization has already started the process to enable all features."
        }
        "INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES" => {
            "You can't issue new invitations to join an organization while it's in the process of enabling all features. You can resume inviting accounts after you finalize the process when all accounts have agreed to the change."
        }
        "ACCOUNT_NUMBER_LIMIT_EXCEEDED" => {
            "You can't invite an existing account to your organization because you already have the maximum number of accounts in your organization."
        }
        _ => "The requested operation would violate the constraint identified in the reason code.",
    };
    AwsError::client("HandshakeConstraintViolationException", message).with("Reason", reason)
}

pub fn constraint(reason: &'static str) -> AwsError {
    let message = match reason {
        "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE" => {
            "You attempted to perform an operation that requires the organization to be configured to support all features. An organization that supports only consolidated billing features can't perform this operation."
        }
        "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR" => {
            "You cannot register master account/yourself as delegated administrator for your organization."
        }
        "CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR" => {
            "You cannot register a suspended account as a delegated administrator."
        }
        "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG" => {
            "You cannot remove a delegated administrator account from the organization. You must first deregister it as a delegated administrator for all services."
        }
        "SERVICE_ACCESS_NOT_ENABLED" => {
            "You attempted to register a delegated administrator for a service that doesn't have trusted access enabled for your organization."
        }
        "MAX_DELEGATED_ADMINISTRATORS_FOR_SERVICE_LIMIT_EXCEEDED" => {
            "You attempted to register more delegated administrators than allowed for the service principal."
        }
        "DELEGATED_ADMINISTRATOR_EXISTS_FOR_THIS_SERVICE" => {
            "You attempted to register a delegated administrator for a service that already has a delegated administrator."
        }
        "MAX_TAG_LIMIT_EXCEEDED" => {
            "You have exceeded the number of tags allowed on this resource."
        }
        "OU_DEPTH_LIMIT_EXCEEDED" => {
            "You attempted to create an OU tree that is too many levels deep."
        }
        "OU_NUMBER_LIMIT_EXCEEDED" => {
            "You attempted to exceed the number of OUs that you can have in an organization."
        }
        "POLICY_NUMBER_LIMIT_EXCEEDED" => {
            "You attempted to exceed the number of policies that you can have in an organization."
        }
        "POLICY_CONTENT_LIMIT_EXCEEDED" => {
            "You attempted to create a policy that is larger than the maximum size."
        }
        "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED" => {
            "You attempted to exceed the number of policies of a certain type that can be attached to an entity at one time."
        }
        "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED" => {
            "You attempted to detach a policy from an entity that would cause the entity to have fewer than the minimum number of policies of a certain type required."
        }
        "CANNOT_CLOSE_MANAGEMENT_ACCOUNT" => {
            "You attempted to close the management account. To close the management account for the organization, you must first either remove or close all member accounts in the organization."
        }
        "ACCOUNT_NUMBER_LIMIT_EXCEEDED" => {
            "You attempted to exceed the limit on the number of accounts in an organization."
        }
        _ => "The requested operation would violate the constraint identified in the reason code.",
    };
    AwsError::client("ConstraintViolationException", message).with("Reason", reason)
}

pub fn invalid_input(reason: &'static str) -> AwsError {
    let message = match reason {
        "INVALID_ENUM" => "You specified an invalid value.",
        "INVALID_ENUM_POLICY_TYPE" => "You specified an invalid policy type string.",
        "INVALID_PATTERN" => "You provided a value that does not match the required pattern.",
        "INVALID_PATTERN_TARGET_ID" => {
            "You specified a policy target ID that doesn't match the required pattern."
        }
        "INVALID_SYNTAX_POLICY_ID" => {
            "You provided a policy ID that doesn't match the required pattern."
        }
        "INPUT_REQUIRED" => "You must include a value for all required parameters.",
        "MAX_LENGTH_EXCEEDED" => "You provided a string parameter that is longer than allowed.",
        "MIN_LENGTH_EXCEEDED" => {
            "You provided a string parameter that is shorter than allowed."
        }
        "MAX_VALUE_EXCEEDED" => {
            "You provided a numeric parameter that has a larger value than allowed."
        }
        "MIN_VALUE_EXCEEDED" => {
            "You provided a numeric parameter that has a smaller value than allowed."
        }
        "INVALID_NEXT_TOKEN" => "You specified an invalid value for the nextToken parameter.",
        "MAX_LIMIT_EXCEEDED_FILTER" => {
            "You can specify only one filter parameter for the operation."
        }
        "INVALID_FULL_NAME_TARGET" => "You specified a full name that contains invalid characters.",
        "INVALID_PARTY_TYPE_TARGET" => "You specified the wrong type for the handshake party.",
        "INVALID_EMAIL_ADDRESS_TARGET" => {
            "You specified an invalid email address for the invited account owner."
        }
        "UNRECOGNIZED_SERVICE_PRINCIPAL" => "You specified an unrecognized service principal.",
        "INVALID_ROLE_NAME" => {
            "You provided a role name that isn't valid. A role name can't begin with the reserved prefix 'AWSServiceRoleFor'."
        }
        "INVALID_SYSTEM_TAGS_PARAMETER" => {
            "You specified a tag key that is a system tag. You can't add, edit, or delete system tag keys because they're reserved for AWS use. System tags don't count against your tags per resource limit."
        }
        "DUPLICATE_TAG_KEY" => {
            "Tag keys must be unique among the tags attached to the same entity."
        }
        "IMMUTABLE_POLICY" => {
            "You specified a policy that is managed by AWS and can't be modified."
        }
        "INVALID_LIST_MEMBER" => {
            "You provided a list to a parameter that contains at least one invalid value."
        }
        "TARGET_NOT_SUPPORTED" => {
            "You can't perform the specified operation on that target entity."
        }
        "INVALID_RESOURCE_POLICY_JSON" => "You provided a resource policy that isn't valid JSON.",
        "NON_DETACHABLE_POLICY" => "You can't detach this AWS Managed Policy.",
        _ => "The requested operation failed because you provided invalid values for one or more of the request parameters.",
    };
    AwsError::client("InvalidInputException", message).with("Reason", reason)
}

pub fn concurrent_modification() -> AwsError {
    AwsError::client(
        "ConcurrentModificationException",
        "AWS Organizations can't complete your request because it conflicts with another attempt to modify the same entity. Try again later.",
    )
}

pub fn policy_not_found() -> AwsError {
    AwsError::client(
        "PolicyNotFoundException",
        "We can't find a policy with the PolicyId that you specified.",
    )
}

pub fn policy_not_attached() -> AwsError {
    AwsError::client(
        "PolicyNotAttachedException",
        "The policy isn't attached to the specified target in the specified root.",
    )
}

pub fn duplicate_policy_attachment() -> AwsError {
    AwsError::client(
        "DuplicatePolicyAttachmentException",
        "The selected policy is already attached to the specified target.",
    )
}

pub fn duplicate_policy() -> AwsError {
    AwsError::client(
        "DuplicatePolicyException",
        "A policy with the same name already exists.",
    )
}

pub fn policy_in_use() -> AwsError {
    AwsError::client(
        "PolicyInUseException",
        "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.",
    )
}

pub fn malformed_policy() -> AwsError {
    AwsError::client(
        "MalformedPolicyDocumentException",
        "The provided policy document doesn't meet the requirements of the specified policy type.",
    )
}

pub fn policy_type_not_enabled() -> AwsError {
    AwsError::client(
        "PolicyTypeNotEnabledException",
        "The specified policy type isn't currently enabled in this root. You can't attach policies of the specified type to entities in a root until you enable that type in the root.",
    )
}

pub fn policy_type_already_enabled() -> AwsError {
    AwsError::client(
        "PolicyTypeAlreadyEnabledException",
        "The specified policy type is already enabled.",
    )
}

pub fn policy_type_not_available() -> AwsError {
    AwsError::client(
        "PolicyTypeNotAvailableForOrganizationException",
        "You can't use the specified policy type with the feature set currently enabled for this organization. For example, you can enable SCPs only after you enable all features in the organization.",
    )
}

pub fn resource_policy_not_found() -> AwsError {
    AwsError::client(
        "ResourcePolicyNotFoundException",
        "We can't find a resource policy request with the parameter that you specified.",
    )
}

pub fn not_implemented(op: &str) -> AwsError {
    AwsError::new(501, "NotImplemented", format!("{op} is not implemented"))
}

/// A member of the wrong JSON type: what the awsJson1.1 protocol says for a body that does not
/// deserialize into the operation's input shape.
pub fn serialization(member: &str, expected: &str) -> AwsError {
    AwsError::client(
        "SerializationException",
        format!("Expected {expected} for member {member}"),
    )
}

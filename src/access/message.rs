//! AWS's wording of a refusal: "User: <arn> is not authorized to perform: <action> on resource:
//! <resource> because no identity-based policy allows the <action> action", or "... with an
//! explicit deny in a service control policy", and so on for each kind of policy. The resource
//! is left out when the action has none (`*`).

use crate::auth::Principal;
use crate::policy::Outcome;

pub fn denied_message(p: &Principal, action: &str, resource: &str, outcome: &Outcome) -> String {
    let mut m = format!("User: {} is not authorized to perform: {action}", p.arn());
    if resource != "*" && !resource.is_empty() {
        m.push_str(" on resource: ");
        m.push_str(resource);
    }
    let reason = outcome.reason(action);
    if !reason.is_empty() {
        m.push(' ');
        m.push_str(&reason);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::PrincipalKind;
    use crate::policy::PolicyType;

    #[test]
    fn wording() {
        let p = Principal {
            account: "111111111111".into(),
            kind: PrincipalKind::User {
                name: "alice".into(),
                path: "/".into(),
                id: "AIDAX".into(),
            },
            access_key_id: "AKIAX".into(),
            session: None,
        };
        assert_eq!(
            denied_message(
                &p,
                "cloudtrail:CreateTrail",
                "arn:aws:cloudtrail:us-east-2:111111111111:trail/t",
                &Outcome::denied(false, PolicyType::Identity)
            ),
            "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: \
             cloudtrail:CreateTrail on resource: arn:aws:cloudtrail:us-east-2:111111111111:trail/t \
             because no identity-based policy allows the cloudtrail:CreateTrail action"
        );
        assert_eq!(
            denied_message(
                &p,
                "cloudtrail:StopLogging",
                "*",
                &Outcome::denied(true, PolicyType::Scp)
            ),
            "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: \
             cloudtrail:StopLogging with an explicit deny in a service control policy"
        );
        assert_eq!(
            Outcome::denied(true, PolicyType::Identity).reason("s3:GetObject"),
            "with an explicit deny in an identity-based policy"
        );
        assert_eq!(
            Outcome::denied(false, PolicyType::Boundary).reason("s3:GetObject"),
            "because no permissions boundary allows the s3:GetObject action"
        );
    }
}

//! Identifiers and ARNs in AWS Organizations' formats (spec §4.2).

use rand::Rng;

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn lower_alnum(n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| LOWER_ALNUM[rng.gen_range(0..LOWER_ALNUM.len())] as char)
        .collect()
}

/// `o-` and 10 lowercase letters or digits.
pub fn organization() -> String {
    format!("o-{}", lower_alnum(10))
}

/// `r-` and 4 lowercase letters or digits.
pub fn root() -> String {
    format!("r-{}", lower_alnum(4))
}

/// `ou-<the root's suffix>-` and 8 lowercase letters or digits.
pub fn organizational_unit(root: &str) -> String {
    let suffix = root.strip_prefix("r-").unwrap_or(root);
    format!("ou-{suffix}-{}", lower_alnum(8))
}

/// `h-` and 32 lowercase letters or digits.
pub fn handshake() -> String {
    format!("h-{}", lower_alnum(32))
}

/// `car-` and 32 lowercase hexadecimal digits.
pub fn create_account_request() -> String {
    format!("car-{}", crate::ids::uuid_v4().simple())
}

/// `p-` and 8 lowercase letters or digits.
pub fn policy() -> String {
    format!("p-{}", lower_alnum(8))
}

/// `rp-` and 8 lowercase letters or digits.
pub fn resource_policy() -> String {
    format!("rp-{}", lower_alnum(8))
}

/// A 12-digit account id that does not start with 0 (so it never loses digits in tools that
/// read it as a number).
pub fn account() -> String {
    let mut rng = rand::thread_rng();
    format!(
        "{}",
        rng.gen_range(100_000_000_000u64..1_000_000_000_000u64)
    )
}

fn base(management: &str) -> String {
    format!("arn:aws:organizations::{management}")
}

pub fn organization_arn(management: &str, org: &str) -> String {
    format!("{}:organization/{org}", base(management))
}

pub fn account_arn(management: &str, org: &str, account: &str) -> String {
    format!("{}:account/{org}/{account}", base(management))
}

pub fn root_arn(management: &str, org: &str, root: &str) -> String {
    format!("{}:root/{org}/{root}", base(management))
}

pub fn ou_arn(management: &str, org: &str, ou: &str) -> String {
    format!("{}:ou/{org}/{ou}", base(management))
}

pub fn handshake_arn(management: &str, org: &str, action: &str, id: &str) -> String {
    format!(
        "{}:handshake/{org}/{}/{id}",
        base(management),
        action.to_ascii_lowercase()
    )
}

pub fn policy_arn(management: &str, org: &str, policy_type: &str, id: &str) -> String {
    format!(
        "{}:policy/{org}/{}/{id}",
        base(management),
        policy_type.to_ascii_lowercase()
    )
}

/// AWS-managed policies live outside any organization.
pub fn managed_policy_arn(policy_type: &str, id: &str) -> String {
    format!(
        "arn:aws:organizations::aws:policy/{}/{id}",
        policy_type.to_ascii_lowercase()
    )
}

pub fn resource_policy_arn(management: &str, org: &str, id: &str) -> String {
    format!("{}:resourcepolicy/{org}/{id}", base(management))
}

#[cfg(test)]
mod tests {
    use super::super::validate;

    #[test]
    fn generated_ids_match_the_model_patterns() {
        for _ in 0..50 {
            let o = super::organization();
            assert!(validate::is_org_id(&o), "{o}");
            assert_eq!(o.len(), 12);
            let r = super::root();
            assert!(validate::is_root_id(&r), "{r}");
            let ou = super::organizational_unit(&r);
            assert!(validate::is_ou_id(&ou), "{ou}");
            assert!(ou.starts_with(&format!("ou-{}-", &r[2..])));
            let h = super::handshake();
            assert!(validate::is_handshake_id(&h), "{h}");
            let car = super::create_account_request();
            assert!(validate::is_car_id(&car), "{car}");
            assert!(car.len() <= 36);
            let p = super::policy();
            assert!(validate::is_policy_id(&p), "{p}");
            let a = super::account();
            assert!(validate::is_account_id(&a), "{a}");
        }
    }

    #[test]
    fn arns() {
        assert_eq!(
            super::organization_arn("111111111111", "o-abcdefghij"),
            "arn:aws:organizations::111111111111:organization/o-abcdefghij"
        );
        assert_eq!(
            super::account_arn("111111111111", "o-abcdefghij", "222222222222"),
            "arn:aws:organizations::111111111111:account/o-abcdefghij/222222222222"
        );
        assert_eq!(
            super::handshake_arn("111111111111", "o-abcdefghij", "ENABLE_ALL_FEATURES", "h-x"),
            "arn:aws:organizations::111111111111:handshake/o-abcdefghij/enable_all_features/h-x"
        );
        assert_eq!(
            super::managed_policy_arn("SERVICE_CONTROL_POLICY", "p-FullAWSAccess"),
            "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
        );
    }
}

//! Trail, bucket and ARN syntax (spec cloudtrail.md §3.2, §3.3).

use crate::error::AwsError;

fn invalid_name(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidTrailNameException", message)
}

fn ip_shaped(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The trail naming rules, each with the message AWS gives.
pub fn check_trail_name(name: &str) -> Result<(), AwsError> {
    let n = name.chars().count();
    if n < 3 {
        return Err(invalid_name(format!(
            "Trail name too short. Minimum allowed length: 3 characters. Specified name length: {n} characters."
        )));
    }
    if n > 128 {
        return Err(invalid_name(format!(
            "Trail name too long. Maximum allowed length: 128 characters. Specified name length: {n} characters."
        )));
    }
    let bytes = name.as_bytes();
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(b))
    {
        return Err(invalid_name(
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
        ));
    }
    if !bytes[0].is_ascii_alphanumeric() {
        return Err(invalid_name(
            "Trail name must starts with a letter or number.",
        ));
    }
    if !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return Err(invalid_name(
            "Trail name must ends with a letter or number.",
        ));
    }
    if bytes
        .windows(2)
        .any(|w| b"._-".contains(&w[0]) && b"._-".contains(&w[1]))
    {
        return Err(invalid_name(
            "Trail name cannot have adjacent periods, underscores or dashes.",
        ));
    }
    if ip_shaped(name) {
        return Err(invalid_name(
            "Trail name cannot be formatted as an IP address.",
        ));
    }
    Ok(())
}

/// CloudTrail's bucket naming requirements → InvalidS3BucketNameException.
pub fn check_bucket_name(bucket: &str) -> Result<(), AwsError> {
    let bad = || {
        AwsError::client(
            "InvalidS3BucketNameException",
            format!("Bucket name is not valid: {bucket}"),
        )
    };
    let b = bucket.as_bytes();
    if !(3..=63).contains(&b.len())
        || !b
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
        || bucket.ends_with('-')
        || bucket.contains("..")
        || bucket.contains("-.")
        || bucket.contains(".-")
        || bucket
            .split('.')
            .any(|l| l.is_empty() || !l.as_bytes()[0].is_ascii_alphanumeric())
        || ip_shaped(bucket)
    {
        return Err(bad());
    }
    Ok(())
}

pub fn check_prefix(prefix: &str) -> Result<(), AwsError> {
    if prefix.chars().count() > 200 {
        return Err(AwsError::client(
            "InvalidS3PrefixException",
            "S3 key prefix must be 200 characters or fewer.",
        ));
    }
    Ok(())
}

pub fn check_sns_topic(topic: &str) -> Result<(), AwsError> {
    let ok = if topic.starts_with("arn:") {
        topic.split(':').count() == 6 && topic.starts_with("arn:aws:sns:")
    } else {
        (1..=256).contains(&topic.len())
            && topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if ok {
        Ok(())
    } else {
        Err(AwsError::client(
            "InvalidSnsTopicNameException",
            format!("SNS topic name is not valid: {topic}"),
        ))
    }
}

/// A parsed trail ARN: `arn:<partition>:cloudtrail:<region>:<account>:trail/<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrailArn {
    pub region: String,
    pub account: String,
    pub name: String,
}

pub fn arn_invalid(value: &str) -> AwsError {
    AwsError::client(
        "CloudTrailARNInvalidException",
        format!("Invalid trail ARN: {value}"),
    )
}

pub fn parse_trail_arn(value: &str) -> Result<TrailArn, AwsError> {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    if parts.len() != 6
        || parts[0] != "arn"
        || !matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov")
        || parts[2] != "cloudtrail"
        || parts[3].is_empty()
        || parts[4].len() != 12
        || !parts[4].bytes().all(|b| b.is_ascii_digit())
    {
        return Err(arn_invalid(value));
    }
    let name = parts[5]
        .strip_prefix("trail/")
        .ok_or_else(|| arn_invalid(value))?;
    check_trail_name(name).map_err(|_| arn_invalid(value))?;
    Ok(TrailArn {
        region: parts[3].to_string(),
        account: parts[4].to_string(),
        name: name.to_string(),
    })
}

pub fn trail_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_names() {
        for ok in ["my-trail", "abc", "My_Trail.1", &"a".repeat(128)] {
            assert!(check_trail_name(ok).is_ok(), "{ok}");
        }
        let msg = |n: &str| check_trail_name(n).unwrap_err().message;
        assert_eq!(
            msg("ab"),
            "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."
        );
        assert!(msg(&"a".repeat(130)).contains("Specified name length: 130 characters."));
        assert_eq!(
            msg("-abc"),
            "Trail name must starts with a letter or number."
        );
        assert_eq!(msg("abc_"), "Trail name must ends with a letter or number.");
        assert!(msg("my trail").starts_with("Trail name or ARN can only contain"));
        assert_eq!(
            msg("my-_name"),
            "Trail name cannot have adjacent periods, underscores or dashes."
        );
        assert_eq!(
            msg("my--name"),
            "Trail name cannot have adjacent periods, underscores or dashes."
        );
        assert_eq!(
            msg("192.168.5.4"),
            "Trail name cannot be formatted as an IP address."
        );
        assert_eq!(
            check_trail_name("ab").unwrap_err().code,
            "InvalidTrailNameException"
        );
    }

    #[test]
    fn bucket_names() {
        for ok in ["my-bucket", "a.b.c", "abc", "bucket-123"] {
            assert!(check_bucket_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "My-Bucket",
            "a_b",
            "abc-",
            "a..b",
            "a-.b",
            "a.-b",
            "192.168.1.1",
            ".abc",
        ] {
            assert_eq!(
                check_bucket_name(bad).unwrap_err().code,
                "InvalidS3BucketNameException",
                "{bad}"
            );
        }
    }

    #[test]
    fn arns() {
        assert_eq!(
            parse_trail_arn("arn:aws:cloudtrail:us-east-2:111111111111:trail/t-1").unwrap(),
            TrailArn {
                region: "us-east-2".into(),
                account: "111111111111".into(),
                name: "t-1".into()
            }
        );
        for bad in [
            "arn:aws:cloudtrail:us-east-2:1111:trail/t-1",
            "arn:aws:s3:us-east-2:111111111111:trail/t-1",
            "arn:aws:cloudtrail:us-east-2:111111111111:t-1",
            "arn:aws:cloudtrail:us-east-2:111111111111:trail/-x",
        ] {
            assert_eq!(
                parse_trail_arn(bad).unwrap_err().code,
                "CloudTrailARNInvalidException",
                "{bad}"
            );
        }
    }
}

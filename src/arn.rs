//! Partitions. Cairn keeps every ARN in the `aws` partition internally; a request made to a
//! region of another partition (`cn-north-1` → `aws-cn`, `us-gov-west-1` → `aws-us-gov`,
//! `us-iso-east-1` → `aws-iso`, ...) has its ARNs taken in (`canonical`) and shown back
//! (`localize`) in its own partition, in responses and in the records of the call.

use std::borrow::Cow;

/// The partitions besides `aws`, longest first so that a prefix test finds the right one.
const OTHERS: &[&str] = &[
    "aws-us-gov",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
    "aws-iso",
    "aws-cn",
];

/// The partition of a region.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("us-isof-") {
        "aws-iso-f"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}

/// An ARN of any partition, in the `aws` partition Cairn keeps internally.
pub fn canonical(s: &str) -> Cow<'_, str> {
    if let Some(rest) = s.strip_prefix("arn:") {
        for p in OTHERS {
            if let Some(tail) = rest.strip_prefix(p).and_then(|t| t.strip_prefix(':')) {
                return Cow::Owned(format!("arn:aws:{tail}"));
            }
        }
    }
    Cow::Borrowed(s)
}

/// Every string of a JSON value that is an ARN of another partition, made canonical.
pub fn canonical_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            if let Cow::Owned(c) = canonical(s) {
                *s = c;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(canonical_json),
        serde_json::Value::Object(m) => m.values_mut().for_each(canonical_json),
        _ => {}
    }
}

/// `bytes` (a JSON or XML document, a message) with every ARN Cairn wrote shown in
/// `partition`: an `arn:aws:` that starts a token (after a quote, `>`, a space, `(` or at the
/// start). ARNs inside documents a client gave (escaped JSON `\"arn:aws:...`, URL-encoded
/// policies) are left as they were.
pub fn localize<'a>(bytes: &'a [u8], partition: &str) -> Cow<'a, [u8]> {
    const NEEDLE: &[u8] = b"arn:aws:";
    if partition == "aws" || !bytes.windows(NEEDLE.len()).any(|w| w == NEEDLE) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(NEEDLE) {
            let starts_token = match i {
                0 => true,
                _ => match bytes[i - 1] {
                    b'"' => i < 2 || bytes[i - 2] != b'\\',
                    b'>' | b' ' | b'(' | b'\'' | b'=' | b',' => true,
                    _ => false,
                },
            };
            if starts_token {
                out.extend_from_slice(b"arn:");
                out.extend_from_slice(partition.as_bytes());
                out.push(b':');
                i += NEEDLE.len();
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_of_regions() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("us-iso-east-1"), "aws-iso");
        assert_eq!(partition("us-isob-east-1"), "aws-iso-b");
    }

    #[test]
    fn arns_in_and_out() {
        assert_eq!(
            canonical("arn:aws-cn:iam::111111111111:role/R"),
            "arn:aws:iam::111111111111:role/R"
        );
        assert_eq!(canonical("arn:aws-us-gov:s3:::b/k"), "arn:aws:s3:::b/k");
        assert_eq!(canonical("arn:aws:s3:::b"), "arn:aws:s3:::b");
        assert_eq!(canonical("arn:awsome:x"), "arn:awsome:x");
        let doc = br#"{"Arn":"arn:aws:iam::1:user/a","Doc":"{\"R\":\"arn:aws:s3:::b\"}","M":"User: arn:aws:iam::1:user/a is"}"#;
        assert_eq!(
            localize(doc, "aws-cn").as_ref(),
            br#"{"Arn":"arn:aws-cn:iam::1:user/a","Doc":"{\"R\":\"arn:aws:s3:::b\"}","M":"User: arn:aws-cn:iam::1:user/a is"}"#
        );
        assert_eq!(
            localize(b"<Arn>arn:aws:sts::1:assumed-role/R/s</Arn>", "aws-us-gov").as_ref(),
            b"<Arn>arn:aws-us-gov:sts::1:assumed-role/R/s</Arn>"
        );
        assert!(matches!(localize(doc, "aws"), Cow::Borrowed(_)));
    }
}

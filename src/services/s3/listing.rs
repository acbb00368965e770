//! ListObjects (v1) and ListObjectsV2 (spec §5.6): bounded range scans over a bucket's slice
//! of `s3.objects`, rolling keys into CommonPrefixes by seeking past each prefix instead of
//! reading the keys under it.

use super::authorize::{self, Target};
use super::{existing_bucket, invalid_argument, object_key, Call, Object, OBJECTS};
use crate::error::AwsError;
use crate::store::{prefix_end, Reader};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::ops::Bound;

/// Default and largest page.
pub const MAX_KEYS: usize = 1000;

#[derive(Clone, Debug, Default)]
pub struct ListInput {
    pub bucket: String,
    pub prefix: Option<String>,
    pub delimiter: Option<String>,
    /// As sent (for the `s3:max-keys` condition key); None means the default.
    pub max_keys: Option<String>,
    /// v1 `marker`, v2 `start-after`.
    pub after: Option<String>,
    /// v2 `continuation-token`.
    pub continuation_token: Option<String>,
}

pub enum Entry {
    Key(String, Box<Object>),
    Prefix(String),
}

pub struct ListOutput {
    pub entries: Vec<Entry>,
    pub truncated: bool,
    pub max_keys: usize,
    /// The last entry returned (key or common prefix) when truncated: v1's NextMarker, the
    /// position in v2's continuation token.
    pub last: Option<String>,
    pub next_continuation_token: Option<String>,
}

pub fn encode_token(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position.as_bytes())
}

fn decode_token(token: &str) -> Result<String, AwsError> {
    URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            invalid_argument(
                "The continuation token provided is incorrect",
                "continuation-token",
                token,
            )
        })
}

fn parse_max_keys(v: &Option<String>) -> Result<usize, AwsError> {
    match v {
        None => Ok(MAX_KEYS),
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok((n as usize).min(MAX_KEYS)),
            _ => Err(invalid_argument(
                "Provided max-keys not an integer or within integer range",
                "max-keys",
                s,
            )),
        },
    }
}

/// Lists a bucket. `v2` selects how the position is given (continuation token / start-after).
pub fn list(
    r: &dyn Reader,
    call: &Call,
    input: &ListInput,
    v2: bool,
) -> Result<ListOutput, AwsError> {
    let b = existing_bucket(r, &input.bucket)?;
    let mut extra: Vec<(&'static str, String)> = Vec::new();
    if let Some(p) = &input.prefix {
        extra.push(("s3:prefix", p.clone()));
    }
    if let Some(d) = &input.delimiter {
        extra.push(("s3:delimiter", d.clone()));
    }
    if let Some(m) = &input.max_keys {
        extra.push(("s3:max-keys", m.clone()));
    }
    authorize::check(r, call, "s3:ListBucket", &Target::bucket(&b), &extra)?;
    let max_keys = parse_max_keys(&input.max_keys)?;
    let after = match (&input.continuation_token, v2) {
        (Some(t), true) => Some(decode_token(t)?),
        _ => input.after.clone(),
    };
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());

    let base = object_key(&input.bucket, "");
    let upper =
        prefix_end(&object_key(&input.bucket, &prefix)).expect("bucket keys end below 0xff");
    // Where the scan starts: the prefix, or just past the marker when that is further on.
    let mut lower: Vec<u8> = object_key(&input.bucket, &prefix);
    let mut inclusive = true;
    if let Some(a) = &after {
        let marker = object_key(&input.bucket, a);
        if marker >= lower {
            lower = marker;
            inclusive = false;
        }
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut truncated = false;
    'scan: loop {
        let mut want = max_keys.saturating_sub(entries.len()) + 1;
        if delimiter.is_some() {
            // A common prefix ends a batch early (the scan seeks past it), so with a delimiter
            // small batches waste less.
            want = want.min(64);
        }
        let from = if inclusive {
            Bound::Included(lower.as_slice())
        } else {
            Bound::Excluded(lower.as_slice())
        };
        let rows = r.scan(OBJECTS, from, Bound::Excluded(&upper), want, false)?;
        let fetched = rows.len();
        for (k, v) in rows {
            let key = String::from_utf8_lossy(&k[base.len()..]).into_owned();
            let rolled = delimiter.as_ref().and_then(|d| {
                key[prefix.len()..]
                    .find(d.as_str())
                    .map(|i| key[..prefix.len() + i + d.len()].to_string())
            });
            if let Some(cp) = rolled {
                // A common prefix at or before the marker was returned on an earlier page.
                let new = after.as_ref().is_none_or(|a| cp.as_str() > a.as_str());
                if new {
                    if entries.len() == max_keys {
                        truncated = true;
                        break 'scan;
                    }
                    entries.push(Entry::Prefix(cp.clone()));
                }
                // Skip every key under this prefix with a fresh seek.
                match prefix_end(&object_key(&input.bucket, &cp)) {
                    Some(end) => {
                        lower = end;
                        inclusive = true;
                    }
                    None => break 'scan,
                }
                continue 'scan;
            }
            if entries.len() == max_keys {
                truncated = true;
                break 'scan;
            }
            let o: Object = serde_json::from_slice(&v).map_err(super::internal)?;
            entries.push(Entry::Key(key, Box::new(o)));
        }
        if fetched < want {
            break;
        }
        // Everything fetched was used; continue after the last key.
        match entries.last() {
            Some(Entry::Key(k, _)) => {
                lower = object_key(&input.bucket, k);
                inclusive = false;
            }
            _ => break,
        }
    }
    let last = if truncated {
        entries.last().map(|e| match e {
            Entry::Key(k, _) => k.clone(),
            Entry::Prefix(p) => p.clone(),
        })
    } else {
        None
    };
    Ok(ListOutput {
        next_continuation_token: last.as_deref().map(encode_token),
        entries,
        truncated,
        max_keys,
        last,
    })
}

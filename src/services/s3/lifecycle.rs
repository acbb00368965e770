//! S3 Lifecycle, as S3 applies it (User Guide, "Managing your storage lifecycle"): the stored
//! rules (validated element trees, `BucketConfig.lifecycle`) read into a typed form, and what
//! is due for a key or an upload at a given time. Pure functions; `worker` runs them over every
//! configured bucket on Cairn's clock and applies the outcome.
//!
//! Applied: rules with Status Enabled; Expiration (Days, Date, ExpiredObjectDeleteMarker),
//! NoncurrentVersionExpiration (NoncurrentDays, NewerNoncurrentVersions) and
//! AbortIncompleteMultipartUpload. Transition and NoncurrentVersionTransition are kept as put
//! and never applied: the storage classes Cairn keeps are labels, there is no archive tier to
//! move a body to. Lifecycle never deletes a version a lock protects (Object Lock); it still
//! puts a delete marker over an expired current version, which deletes nothing.
//!
//! Times: S3 adds the days to the start (creation, the successor's creation for noncurrent
//! versions, initiation) and rounds up to the next midnight UTC.

pub mod apply;
pub mod scan;
pub mod worker;

use super::bucket_config::{midnight_date, Node};
use super::object_lock;
use super::tagging::Tag;
use super::Object;
use chrono::{DateTime, Duration, Utc};

/// A rule's filter; the default matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub prefix: String,
    /// Every one must be on the object, with the same value.
    pub tags: Vec<(String, String)>,
    pub size_greater_than: Option<u64>,
    pub size_less_than: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expiration {
    Days(i64),
    Date(DateTime<Utc>),
    /// ExpiredObjectDeleteMarker true: a delete marker left alone goes, whatever its age.
    ExpiredObjectDeleteMarker,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoncurrentExpiration {
    pub days: i64,
    /// Noncurrent versions (newest first) kept whatever their age.
    pub newer_versions: usize,
}

/// One rule, as far as Cairn applies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub enabled: bool,
    pub filter: Filter,
    pub expiration: Option<Expiration>,
    pub noncurrent_expiration: Option<NoncurrentExpiration>,
    pub abort_after_days: Option<i64>,
}

fn child<'a>(n: &'a Node, name: &str) -> Option<&'a Node> {
    n.children.iter().find(|c| c.name == name)
}

fn text<'a>(n: &'a Node, name: &str) -> Option<&'a str> {
    child(n, name).map(|c| c.text.as_str())
}

fn number<T: std::str::FromStr>(n: &Node, name: &str) -> Option<T> {
    text(n, name).and_then(|v| v.trim().parse().ok())
}

fn tag(n: &Node) -> Option<(String, String)> {
    Some((text(n, "Key")?.to_string(), text(n, "Value")?.to_string()))
}

fn sizes(n: &Node, f: &mut Filter) {
    f.size_greater_than = f.size_greater_than.or(number(n, "ObjectSizeGreaterThan"));
    f.size_less_than = f.size_less_than.or(number(n, "ObjectSizeLessThan"));
}

fn filter(rule: &Node) -> Filter {
    let mut f = Filter::default();
    let Some(node) = child(rule, "Filter") else {
        // The legacy form: a Prefix on the rule itself.
        f.prefix = text(rule, "Prefix").unwrap_or_default().to_string();
        return f;
    };
    f.prefix = text(node, "Prefix").unwrap_or_default().to_string();
    f.tags.extend(child(node, "Tag").and_then(tag));
    sizes(node, &mut f);
    if let Some(and) = child(node, "And") {
        f.prefix = text(and, "Prefix").unwrap_or_default().to_string();
        f.tags = and
            .children
            .iter()
            .filter(|c| c.name == "Tag")
            .filter_map(tag)
            .collect();
        sizes(and, &mut f);
    }
    f
}

/// Reads a stored (validated) rule.
pub fn parse_rule(n: &Node) -> Rule {
    let expiration = child(n, "Expiration").and_then(|e| {
        if let Some(d) = number(e, "Days") {
            Some(Expiration::Days(d))
        } else if let Some(d) = text(e, "Date") {
            midnight_date(d).ok().map(Expiration::Date)
        } else {
            (text(e, "ExpiredObjectDeleteMarker") == Some("true"))
                .then_some(Expiration::ExpiredObjectDeleteMarker)
        }
    });
    // Without NoncurrentDays there is no age to reach (S3 asks for it), so nothing is due.
    let noncurrent_expiration = child(n, "NoncurrentVersionExpiration").and_then(|e| {
        Some(NoncurrentExpiration {
            days: number(e, "NoncurrentDays")?,
            newer_versions: number(e, "NewerNoncurrentVersions").unwrap_or(0),
        })
    });
    Rule {
        id: text(n, "ID").unwrap_or_default().to_string(),
        enabled: text(n, "Status") == Some("Enabled"),
        filter: filter(n),
        expiration,
        noncurrent_expiration,
        abort_after_days: child(n, "AbortIncompleteMultipartUpload")
            .and_then(|a| number(a, "DaysAfterInitiation")),
    }
}

/// The rules that apply: those with Status Enabled.
pub fn enabled_rules(stored: &[Node]) -> Vec<Rule> {
    stored
        .iter()
        .map(parse_rule)
        .filter(|r| r.enabled)
        .collect()
}

impl Filter {
    /// Whether an object version (key, tags, size) is in the rule's scope.
    pub fn matches(&self, key: &str, tags: &[Tag], size: u64) -> bool {
        key.starts_with(&self.prefix)
            && self
                .tags
                .iter()
                .all(|(k, v)| tags.iter().any(|t| &t.key == k && &t.value == v))
            && self.size_greater_than.is_none_or(|n| size > n)
            && self.size_less_than.is_none_or(|n| size < n)
    }

    /// A delete marker has no tags and no size: a tag filter never takes it, size bounds do
    /// not apply to it (so a size-filtered rule cleans up the markers it made).
    pub fn matches_marker(&self, key: &str) -> bool {
        key.starts_with(&self.prefix) && self.tags.is_empty()
    }

    fn takes(&self, key: &str, o: &Object) -> bool {
        if o.delete_marker {
            self.matches_marker(key)
        } else {
            self.matches(key, &o.tags, o.size)
        }
    }

    /// Uploads are matched by key prefix (their size is not known yet; tag filters cannot go
    /// with AbortIncompleteMultipartUpload).
    pub fn matches_upload(&self, key: &str) -> bool {
        key.starts_with(&self.prefix)
    }
}

/// The midnight UTC that follows `t` (S3 rounds every lifecycle time up to one).
pub fn midnight_after(t: DateTime<Utc>) -> DateTime<Utc> {
    let day = t
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    day + Duration::days(1)
}

/// When something that started at `start` is `days` old by lifecycle's reckoning.
pub fn due_at(start: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    midnight_after(start + Duration::days(days))
}

/// Whether an Expiration has come for something created at `created` (a current version, or a
/// delete marker left alone).
fn expired(e: &Expiration, created: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    match e {
        Expiration::Days(d) => now >= due_at(created, *d),
        Expiration::Date(d) => now >= *d,
        Expiration::ExpiredObjectDeleteMarker => false,
    }
}

/// A key's versions as stored: `current` (None when the newest is a delete marker, or the key
/// has no version) and `older`, newest first (when `current` is None, `older[0]` is the
/// current delete marker).
#[derive(Clone, Copy, Debug)]
pub struct History<'a> {
    pub key: &'a str,
    pub current: Option<&'a Object>,
    pub older: &'a [Object],
}

/// What lifecycle does to a key now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The current version expires: deleted (never-versioned bucket) or a delete marker is put
    /// over it.
    pub expire_current: bool,
    /// Indexes into `older` removed for good (noncurrent versions, a delete marker left alone).
    pub remove: Vec<usize>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        !self.expire_current && self.remove.is_empty()
    }
}

/// What the enabled `rules` make due for a key at `now`.
pub fn plan(rules: &[Rule], h: History, now: DateTime<Utc>) -> Plan {
    let mut out = Plan::default();
    if let Some(c) = h.current {
        out.expire_current = rules.iter().any(|r| {
            r.expiration
                .as_ref()
                .is_some_and(|e| r.filter.takes(h.key, c) && expired(e, c.modified_at(), now))
        });
    }
    // Noncurrent versions: every row but a current delete marker. A version became noncurrent
    // when its successor (the next newer version) was written.
    let first = usize::from(h.current.is_none());
    let mut gone = vec![false; h.older.len()];
    for r in rules {
        let Some(n) = &r.noncurrent_expiration else {
            continue;
        };
        // Noncurrent versions newer than the one at hand. A current version expiring in this
        // pass is not counted: whether it stays as a noncurrent one depends on versioning
        // (suspended, the null version goes), and the next pass sees it as it is.
        let mut newer = 0;
        for (i, o) in h.older.iter().enumerate().skip(first) {
            let successor = if i == 0 {
                h.current
            } else {
                h.older.get(i - 1)
            };
            let Some(since) = successor.map(Object::modified_at) else {
                continue;
            };
            let retained = !o.delete_marker && newer < n.newer_versions;
            if !o.delete_marker {
                newer += 1;
            }
            gone[i] |= !retained
                && r.filter.takes(h.key, o)
                && now >= due_at(since, n.days)
                && !object_lock::protects(o, now);
        }
    }
    // A delete marker left as the only version (once the rest is gone) goes with
    // ExpiredObjectDeleteMarker, and with Expiration Days or Date once it is old enough.
    if h.current.is_none() {
        if let Some(marker) = h.older.first().filter(|o| o.delete_marker) {
            gone[0] = gone[1..].iter().all(|g| *g)
                && rules.iter().any(|r| {
                    r.filter.matches_marker(h.key)
                        && r.expiration.as_ref().is_some_and(|e| {
                            *e == Expiration::ExpiredObjectDeleteMarker
                                || expired(e, marker.modified_at(), now)
                        })
                });
        }
    }
    out.remove = (0..gone.len()).filter(|&i| gone[i]).collect();
    out
}

/// Whether an upload of `key` initiated at `initiated` is to be aborted at `now`.
pub fn upload_due(rules: &[Rule], key: &str, initiated: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    rules.iter().any(|r| {
        r.abort_after_days
            .is_some_and(|d| r.filter.matches_upload(key) && now >= due_at(initiated, d))
    })
}

/// Whether any rule can ever act on versions (else only uploads need a scan).
pub fn acts_on_versions(rules: &[Rule]) -> bool {
    rules
        .iter()
        .any(|r| r.expiration.is_some() || r.noncurrent_expiration.is_some())
}

#[cfg(test)]
mod tests;

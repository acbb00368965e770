use super::*;
use crate::services::s3::bucket_config::parse_lifecycle;
use crate::services::s3::object_lock::{Mode, Retention};
use chrono::TimeZone;

fn rules(body: &str) -> Vec<Rule> {
    let doc = crate::services::s3::xml::parse(
        format!("<LifecycleConfiguration>{body}</LifecycleConfiguration>").as_bytes(),
    )
    .unwrap();
    enabled_rules(&parse_lifecycle(&doc).unwrap())
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn version(id: &str, modified: DateTime<Utc>) -> Object {
    Object {
        size: 10,
        modified: modified.timestamp_millis(),
        version_id: Some(id.into()),
        seq: Some(1),
        ..Default::default()
    }
}

fn marker(id: &str, modified: DateTime<Utc>) -> Object {
    Object {
        size: 0,
        delete_marker: true,
        ..version(id, modified)
    }
}

fn cur<'a>(key: &'a str, o: &'a Object) -> History<'a> {
    History {
        key,
        current: Some(o),
        older: &[],
    }
}

fn under_marker<'a>(key: &'a str, older: &'a [Object]) -> History<'a> {
    History {
        key,
        current: None,
        older,
    }
}

fn tagged(mut o: Object, k: &str, v: &str) -> Object {
    o.tags.push(Tag {
        key: k.into(),
        value: v.into(),
    });
    o
}

#[test]
fn rules_are_read_from_the_stored_trees() {
    let r = rules(
        "<Rule><ID>a</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>\
         <ObjectSizeGreaterThan>5</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan></And></Filter>\
         <Status>Enabled</Status><Expiration><Days>3</Days></Expiration>\
         <NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>\
         <Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>\
         <Rule><ID>legacy</ID><Prefix>tmp/</Prefix><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>\
         <Rule><ID>off</ID><Filter/><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>\
         <Rule><ID>m</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>\
         <AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>\
         <Rule><ID>t</ID><Filter><Tag><Key>x</Key><Value>y</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
    );
    assert_eq!(r.len(), 4, "the disabled rule is left out");
    assert_eq!(
        r[0],
        Rule {
            id: "a".into(),
            enabled: true,
            filter: Filter {
                prefix: "logs/".into(),
                tags: vec![("k".into(), "v".into())],
                size_greater_than: Some(5),
                size_less_than: Some(100),
            },
            expiration: Some(Expiration::Days(3)),
            noncurrent_expiration: Some(NoncurrentExpiration {
                days: 7,
                newer_versions: 2
            }),
            abort_after_days: None,
        }
    );
    assert_eq!(r[1].filter.prefix, "tmp/");
    assert_eq!(
        r[1].expiration,
        Some(Expiration::Date(at(2030, 1, 1, 0, 0)))
    );
    assert_eq!(r[2].filter, Filter::default());
    assert_eq!(r[2].expiration, Some(Expiration::ExpiredObjectDeleteMarker));
    assert_eq!(r[2].abort_after_days, Some(2));
    assert_eq!(r[3].filter.tags, vec![("x".to_string(), "y".to_string())]);
    // An ID S3 made up is read like any other.
    let made = rules("<Rule><Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration></Rule>");
    assert_eq!(made[0].id.len(), 48);
    assert_eq!(made[0].expiration, None);
}

#[test]
fn filters_match_prefix_tags_and_sizes() {
    let f = Filter {
        prefix: "logs/".into(),
        tags: vec![("a".into(), "1".into()), ("b".into(), "2".into())],
        size_greater_than: Some(10),
        size_less_than: Some(20),
    };
    let tags = |pairs: &[(&str, &str)]| -> Vec<Tag> {
        pairs
            .iter()
            .map(|(k, v)| Tag {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect()
    };
    let both = tags(&[("b", "2"), ("a", "1"), ("c", "3")]);
    assert!(f.matches("logs/x", &both, 15));
    assert!(!f.matches("log/x", &both, 15));
    assert!(!f.matches("logs/x", &tags(&[("a", "1")]), 15));
    assert!(!f.matches("logs/x", &tags(&[("a", "1"), ("b", "3")]), 15));
    assert!(!f.matches("logs/x", &both, 10), "greater than is strict");
    assert!(!f.matches("logs/x", &both, 20), "less than is strict");
    assert!(Filter::default().matches("anything", &[], 0));
    assert!(!f.matches_marker("logs/x"), "a marker has no tags");
    let sized = Filter {
        size_greater_than: Some(100),
        ..Filter::default()
    };
    assert!(sized.matches_marker("k"));
    assert!(f.matches_upload("logs/big") && !f.matches_upload("other"));
}

#[test]
fn days_round_up_to_the_next_midnight_utc() {
    // The User Guide's example: created 2014-01-15 10:30, 3 days: due 2014-01-19 00:00.
    assert_eq!(due_at(at(2014, 1, 15, 10, 30), 3), at(2014, 1, 19, 0, 0));
    assert_eq!(
        midnight_after(at(2014, 1, 15, 23, 59)),
        at(2014, 1, 16, 0, 0)
    );
    assert_eq!(midnight_after(at(2014, 1, 15, 0, 0)), at(2014, 1, 16, 0, 0));
    assert_eq!(due_at(at(2024, 2, 28, 12, 0), 1), at(2024, 3, 1, 0, 0));
    let r = rules(
        "<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
    );
    let o = version("v1", at(2024, 5, 1, 9, 0));
    let h = History {
        key: "k",
        current: Some(&o),
        older: &[],
    };
    assert!(plan(&r, h, at(2024, 5, 2, 23, 59)).is_empty());
    assert!(plan(&r, h, at(2024, 5, 3, 0, 0)).expire_current);
}

#[test]
fn expiration_by_date_and_by_filter() {
    let r = rules(
        "<Rule><Filter><Prefix>old/</Prefix></Filter><Status>Enabled</Status><Expiration><Date>2024-06-01T00:00:00.000Z</Date></Expiration></Rule>\
         <Rule><Filter><Tag><Key>class</Key><Value>tmp</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>",
    );
    // Whatever its age, from the date on (objects written after it too).
    let o = version("v", at(2024, 6, 10, 0, 0));
    assert!(plan(&r, cur("old/a", &o), at(2024, 6, 10, 1, 0)).expire_current);
    assert!(!plan(&r, cur("new/a", &o), at(2024, 7, 1, 0, 0)).expire_current);
    let t = tagged(version("v", at(2024, 6, 10, 0, 0)), "class", "tmp");
    assert!(!plan(&r, cur("new/a", &t), at(2024, 6, 12, 23, 0)).expire_current);
    assert!(plan(&r, cur("new/a", &t), at(2024, 6, 13, 0, 0)).expire_current);
    assert!(!plan(&r, cur("old/a", &o), at(2024, 5, 31, 23, 59)).expire_current);
}

#[test]
fn noncurrent_days_count_from_the_successor() {
    let r = rules("<Rule><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>");
    // v1 written long ago, made noncurrent by v2 on May 10 at 15:00: due May 12 00:00.
    let v2 = version("v2", at(2024, 5, 10, 15, 0));
    let older = [version("v1", at(2024, 1, 1, 0, 0))];
    let h = History {
        key: "k",
        current: Some(&v2),
        older: &older,
    };
    assert!(plan(&r, h, at(2024, 5, 11, 23, 0)).is_empty());
    assert_eq!(
        plan(&r, h, at(2024, 5, 12, 0, 0)),
        Plan {
            expire_current: false,
            remove: vec![0]
        }
    );
    // Under a current delete marker: the marker made v2 noncurrent, v2 made v1 noncurrent.
    let older = [
        marker("m", at(2024, 5, 20, 8, 0)),
        version("v2", at(2024, 5, 10, 15, 0)),
        version("v1", at(2024, 1, 1, 0, 0)),
    ];
    let h = History {
        key: "k",
        current: None,
        older: &older,
    };
    assert_eq!(plan(&r, h, at(2024, 5, 12, 0, 0)).remove, vec![2]);
    assert_eq!(plan(&r, h, at(2024, 5, 22, 0, 0)).remove, vec![1, 2]);
}

#[test]
fn newer_noncurrent_versions_are_kept() {
    let r = rules("<Rule><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>");
    let t = at(2024, 3, 1, 12, 0);
    let current = version("v5", t);
    let older: Vec<Object> = (1..=4)
        .rev()
        .map(|i| version(&format!("v{i}"), t))
        .collect();
    let h = History {
        key: "k",
        current: Some(&current),
        older: &older,
    };
    // v4 and v3 are the two newest noncurrent versions: kept; v2 and v1 go once due.
    assert!(plan(&r, h, at(2024, 3, 2, 23, 0)).is_empty());
    assert_eq!(plan(&r, h, at(2024, 3, 3, 0, 0)).remove, vec![2, 3]);
    // Delete markers are not versions to keep and do not count.
    let older = vec![
        version("v4", t),
        marker("m", t),
        version("v3", t),
        version("v2", t),
    ];
    let h = History {
        key: "k",
        current: Some(&current),
        older: &older,
    };
    assert_eq!(plan(&r, h, at(2024, 3, 3, 0, 0)).remove, vec![1, 3]);
}

#[test]
fn locked_versions_are_never_removed() {
    let r = rules("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>");
    let t = at(2024, 3, 1, 12, 0);
    let now = at(2024, 4, 1, 0, 0);
    let mut current = version("v3", t);
    current.retention = Some(Retention {
        mode: Mode::Compliance,
        until: at(2025, 1, 1, 0, 0).timestamp_millis(),
    });
    let mut held = version("v2", t);
    held.legal_hold = Some("ON".into());
    let mut governed = version("v1", t);
    governed.retention = Some(Retention {
        mode: Mode::Governance,
        until: at(2025, 1, 1, 0, 0).timestamp_millis(),
    });
    let mut lapsed = version("v0", t);
    lapsed.retention = Some(Retention {
        mode: Mode::Compliance,
        until: at(2024, 3, 15, 0, 0).timestamp_millis(),
    });
    let older = [held, governed, lapsed];
    let h = History {
        key: "k",
        current: Some(&current),
        older: &older,
    };
    // A delete marker may still go over a locked current version; only the lapsed one goes.
    assert_eq!(
        plan(&r, h, now),
        Plan {
            expire_current: true,
            remove: vec![2]
        }
    );
}

#[test]
fn a_delete_marker_left_alone_expires() {
    let eodm = rules("<Rule><Filter><Prefix>a</Prefix></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>");
    let t = at(2024, 3, 1, 12, 0);
    let alone = [marker("m", t)];
    let h = under_marker;
    assert_eq!(plan(&eodm, h("a1", &alone), t).remove, vec![0]);
    assert!(plan(&eodm, h("b1", &alone), t).is_empty());
    let with_version = [marker("m", t), version("v1", t)];
    assert!(plan(&eodm, h("a1", &with_version), t).is_empty());
    // The versions under it going in the same pass leave it alone: it goes too.
    let both = rules("<Rule><Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>");
    assert_eq!(
        plan(&both, h("a1", &with_version), at(2024, 3, 3, 0, 0)).remove,
        vec![0, 1]
    );
    // Expiration Days removes a lone marker once the marker is old enough.
    let days = rules(
        "<Rule><Filter/><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>",
    );
    assert!(plan(&days, h("a1", &alone), at(2024, 3, 3, 23, 0)).is_empty());
    assert_eq!(
        plan(&days, h("a1", &alone), at(2024, 3, 4, 0, 0)).remove,
        vec![0]
    );
    // A current delete marker is never expired as a current version.
    assert!(!plan(&days, h("a1", &with_version), at(2030, 1, 1, 0, 0)).expire_current);
}

#[test]
fn uploads_are_aborted_after_their_days() {
    let r = rules("<Rule><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>");
    let started = at(2024, 3, 1, 12, 0);
    assert!(!upload_due(&r, "up/x", started, at(2024, 3, 3, 23, 59)));
    assert!(upload_due(&r, "up/x", started, at(2024, 3, 4, 0, 0)));
    assert!(!upload_due(&r, "down/x", started, at(2024, 4, 1, 0, 0)));
    assert!(!acts_on_versions(&r));
}

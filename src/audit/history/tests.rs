//! The index against a plain model: every question answered newest first, page by page.

use super::chunk::{self, Entry};
use super::*;
use crate::store::{Durability, SqliteEngine};

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let engine = SqliteEngine::open(&dir.path().join("h.db"), Durability::Process).unwrap();
    (dir, Store::new(Arc::new(engine)))
}

fn add(store: &Store, prefix: &[u8], entries: Vec<Entry>) {
    let prefix = prefix.to_vec();
    store
        .write_blocking(move |w: &mut dyn Writer| add_to_list(w, &prefix, &mut { entries }))
        .unwrap();
}

fn e(time: i64, seq: u64) -> Entry {
    Entry { time, seq, tag: 0 }
}

/// Every page of a question, concatenated.
fn all_pages(store: &Store, list: &List, start: i64, end: i64, page: usize) -> Vec<(i64, u64)> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let (found, more) = store
            .read(|r| lookup(r, list, start, end, before, page))
            .unwrap();
        assert!(found.len() <= page);
        out.extend(found.iter().copied());
        if !more {
            return out;
        }
        before = found.last().copied();
    }
}

fn chunk_count(store: &Store) -> usize {
    store
        .read(|r| r.scan(CHUNKS, Bound::Unbounded, Bound::Unbounded, 1_000_000, false))
        .unwrap()
        .len()
}

#[test]
fn batches_arriving_late_or_small_keep_chunks_disjoint_and_answers_exact() {
    let (_d, store) = open();
    let l = list("111111111111", "us-east-2", Attribute::All, "");
    let mut model = Vec::new();
    let mut seq = 0u64;
    // 300 batches of 1..=40 events; a tenth of the events carry a time a second or two older
    // than their neighbours (built before, committed after).
    for b in 0..300i64 {
        let mut batch = Vec::new();
        for i in 0..(1 + (b * 7) % 40) {
            seq += 1;
            let late = seq.is_multiple_of(10) as i64 * (1 + i % 2);
            batch.push(e(1_000 + b - late, seq));
        }
        model.extend(batch.iter().map(Entry::position));
        add(&store, &l.prefix, batch);
    }
    model.sort_unstable();
    model.reverse();
    for page in [1, 7, 50] {
        assert_eq!(all_pages(&store, &l, 0, i64::MAX / 2, page), model);
    }
    let window: Vec<_> = model
        .iter()
        .copied()
        .filter(|p| (1_100..=1_200).contains(&p.0))
        .collect();
    assert_eq!(all_pages(&store, &l, 1_100, 1_200, 13), window);
    // Chunks never overlap, and small ones took their successors in.
    let rows = store
        .read(|r| r.scan(CHUNKS, Bound::Unbounded, Bound::Unbounded, 100_000, false))
        .unwrap();
    let mut previous_max = None;
    for (_, v) in &rows {
        let entries = chunk::decode(v).unwrap();
        let (first, last) = (entries[0].position(), entries.last().unwrap().position());
        assert!(
            previous_max.is_none_or(|m| m < first),
            "overlap at {first:?}"
        );
        previous_max = Some(last);
    }
    assert!(
        rows.len() < 300 / 2,
        "{} chunks for 300 batches",
        rows.len()
    );
}

#[test]
fn a_large_batch_is_split_into_chunks_a_lookup_can_read_one_at_a_time() {
    let (_d, store) = open();
    let l = list("111111111111", "us-east-2", Attribute::All, "");
    let mut model = Vec::new();
    // Two batches of 2.5 chunks each, the second with a few late events that land inside the
    // first batch's range.
    let mut seq = 0u64;
    for b in 0..2i64 {
        let mut batch = Vec::new();
        for i in 0..(MAX_CHUNK * 5 / 2) as i64 {
            seq += 1;
            let time = if b == 1 && i % 1000 == 0 {
                10 + i % 7
            } else {
                10 + b * 100 + i / 100
            };
            batch.push(e(time, seq));
        }
        model.extend(batch.iter().map(Entry::position));
        add(&store, &l.prefix, batch);
    }
    model.sort_unstable();
    model.reverse();
    let rows = store
        .read(|r| r.scan(CHUNKS, Bound::Unbounded, Bound::Unbounded, 1_000, false))
        .unwrap();
    let sizes: Vec<usize> = rows
        .iter()
        .map(|(_, v)| chunk::decode(v).unwrap().len())
        .collect();
    assert!(sizes.iter().all(|n| *n <= MAX_CHUNK), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), model.len());
    assert!(sizes.len() >= 5, "{sizes:?}");
    for page in [50, 4097] {
        assert_eq!(all_pages(&store, &l, 0, i64::MAX / 2, page), model);
    }
    // A page in the middle of the first batch.
    let window: Vec<_> = model
        .iter()
        .copied()
        .filter(|p| (20..=40).contains(&p.0))
        .collect();
    assert_eq!(all_pages(&store, &l, 20, 40, 50), window);
}

#[test]
fn lists_do_not_leak_into_each_other() {
    let (_d, store) = open();
    let a = list(
        "111111111111",
        "us-east-2",
        Attribute::EventName,
        "CreateTrail",
    );
    let b = list(
        "111111111111",
        "us-east-2",
        Attribute::EventName,
        "CreateTrailX",
    );
    let c = list(
        "222222222222",
        "us-east-2",
        Attribute::EventName,
        "CreateTrail",
    );
    add(&store, &a.prefix, vec![e(10, 1), e(11, 2)]);
    add(&store, &b.prefix, vec![e(10, 3)]);
    add(&store, &c.prefix, vec![e(12, 4)]);
    assert_eq!(all_pages(&store, &a, 0, 100, 50), vec![(11, 2), (10, 1)]);
    assert_eq!(all_pages(&store, &b, 0, 100, 50), vec![(10, 3)]);
    assert_eq!(all_pages(&store, &c, 0, 100, 50), vec![(12, 4)]);
    assert_eq!(chunk_count(&store), 3);
}

#[test]
fn event_ids_share_buckets_and_are_told_apart_by_fingerprint() {
    let (_d, store) = open();
    let ids: Vec<String> = (0..2000).map(|i| format!("id-{i}")).collect();
    let mut postings = Postings::new(Vec::new());
    for (seq, id) in ids.iter().enumerate() {
        postings.add(
            "111111111111",
            "us-east-2",
            Attribute::EventId,
            id,
            (50, seq as u64),
        );
    }
    let (lists, _) = postings.into_lists();
    assert_eq!(lists.len(), 64);
    for (prefix, entries) in lists {
        add(&store, &prefix, entries);
    }
    for (seq, id) in ids.iter().enumerate().step_by(97) {
        let l = list("111111111111", "us-east-2", Attribute::EventId, id);
        assert_eq!(all_pages(&store, &l, 0, 100, 50), vec![(50, seq as u64)]);
    }
    let missing = list("111111111111", "us-east-2", Attribute::EventId, "nope");
    assert_eq!(all_pages(&store, &missing, 0, 100, 50), vec![]);
}

#[test]
fn postings_keep_lists_apart_when_scopes_and_values_alternate() {
    let mut postings = Postings::new(Vec::new());
    let mut model: BTreeMap<Vec<u8>, Vec<(i64, u64)>> = BTreeMap::new();
    let accounts = ["111111111111", "222222222222"];
    let regions = ["us-east-1", "eu-west-1", "us-east-1"];
    let names = ["GetCallerIdentity", "CreateTrail"];
    for seq in 0..500u64 {
        let (account, region) = (accounts[seq as usize % 2], regions[seq as usize % 3]);
        let name = names[(seq / 7) as usize % 2];
        for (attr, value) in [
            (Attribute::All, ""),
            (Attribute::EventName, name),
            (Attribute::EventId, &*format!("id-{seq}")),
        ] {
            postings.add(account, region, attr, value, (seq as i64, seq));
            let l = list(account, region, attr, value);
            model.entry(l.prefix).or_default().push((seq as i64, seq));
        }
    }
    let (lists, _) = postings.into_lists();
    let keys: Vec<&[u8]> = lists.iter().map(|(k, _)| k.as_slice()).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "in key order");
    let got: BTreeMap<Vec<u8>, Vec<(i64, u64)>> = lists
        .into_iter()
        .map(|(k, entries)| (k, entries.iter().map(|e| (e.time, e.seq)).collect()))
        .collect();
    assert_eq!(got, model);
}

#[test]
fn index_once_indexes_management_events_and_skips_data_events() {
    let (_d, journal) = open();
    let (_d2, index) = open();
    let record = |id: &str, name: &str, management: bool| {
        let rec = serde_json::json!({
            "eventVersion": "1.11", "eventID": id, "eventName": name,
            "eventSource": "sts.amazonaws.com", "eventTime": "2026-11-24T10:00:00Z",
            "awsRegion": "us-east-2", "readOnly": true, "managementEvent": management,
            "recipientAccountId": "111111111111",
            "userIdentity": {"type": "IAMUser", "userName": "admin", "accessKeyId": "test",
                             "arn": "arn:aws:iam::111111111111:user/admin"},
        });
        journal::encode(
            &journal::Meta::default(),
            &serde_json::to_vec(&rec).unwrap(),
        )
    };
    journal
        .write_blocking(move |w: &mut dyn Writer| -> StoreResult<()> {
            w.append_journal(&record("a", "GetCallerIdentity", true))?;
            w.append_journal(&record("b", "GetObject", false))?;
            w.append_journal(&record("c", "GetCallerIdentity", true))?;
            Ok(())
        })
        .unwrap();
    let mut indexer = Indexer::default();
    assert_eq!(indexer.index_once(&journal, &index).unwrap(), 3);
    assert_eq!(indexer.index_once(&journal, &index).unwrap(), 0);
    let t = event_time_epoch("2026-11-24T10:00:00Z").unwrap();
    for (attr, value, want) in [
        (Attribute::All, "", vec![(t, 3), (t, 1)]),
        (
            Attribute::EventName,
            "GetCallerIdentity",
            vec![(t, 3), (t, 1)],
        ),
        (Attribute::EventName, "GetObject", vec![]),
        (Attribute::Username, "admin", vec![(t, 3), (t, 1)]),
        (Attribute::AccessKeyId, "test", vec![(t, 3), (t, 1)]),
        (Attribute::ReadOnly, "true", vec![(t, 3), (t, 1)]),
        (
            Attribute::EventSource,
            "sts.amazonaws.com",
            vec![(t, 3), (t, 1)],
        ),
        (Attribute::EventId, "c", vec![(t, 3)]),
        (Attribute::EventId, "b", vec![]),
    ] {
        let l = list("111111111111", "us-east-2", attr, value);
        assert_eq!(all_pages(&index, &l, 0, t + 1, 1), want, "{attr:?} {value}");
    }
    // The next batch's lists start from the first batch's vectors, emptied: nothing of the
    // first batch turns up again, in any list.
    assert!(!indexer.spare.is_empty());
    assert!(indexer
        .spare
        .iter()
        .all(|v| v.is_empty() && v.capacity() > 0));
    journal
        .write_blocking(move |w: &mut dyn Writer| -> StoreResult<()> {
            w.append_journal(&record("d", "ListTrails", true))
                .map(|_| ())
        })
        .unwrap();
    assert_eq!(indexer.index_once(&journal, &index).unwrap(), 1);
    for (attr, value, want) in [
        (Attribute::All, "", vec![(t, 4), (t, 3), (t, 1)]),
        (Attribute::EventName, "ListTrails", vec![(t, 4)]),
        (
            Attribute::EventName,
            "GetCallerIdentity",
            vec![(t, 3), (t, 1)],
        ),
        (Attribute::EventId, "d", vec![(t, 4)]),
        (Attribute::EventId, "c", vec![(t, 3)]),
    ] {
        let l = list("111111111111", "us-east-2", attr, value);
        assert_eq!(all_pages(&index, &l, 0, t + 1, 1), want, "{attr:?} {value}");
    }
}

#[test]
fn event_times_parse_as_chrono_does() {
    let chrono_epoch = |s: &str| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ")
            .ok()
            .map(|t| t.and_utc().timestamp())
    };
    // Every day from 1969 to 2101 (leap years and centuries included), at varied times.
    let mut t = chrono::DateTime::from_timestamp(-86_400 * 365, 0).unwrap();
    let end = chrono::DateTime::from_timestamp(4_133_980_800, 0).unwrap();
    let mut i = 0i64;
    while t < end {
        let shifted = t + chrono::Duration::seconds(i * 3_607 % 86_400);
        let s = shifted.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        assert_eq!(event_time_epoch(&s), Some(shifted.timestamp()), "{s}");
        t += chrono::Duration::days(1);
        i += 1;
    }
    for bad in [
        "2024-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00",
        "2024-0a-01T00:00:00Z",
        "",
    ] {
        assert_eq!(event_time_epoch(bad), chrono_epoch(bad), "{bad}");
    }
    assert_eq!(
        event_time_epoch("2024-02-29T23:59:59Z"),
        chrono_epoch("2024-02-29T23:59:59Z")
    );
}

/// The keys an entry carries are the ones indexing would read from its record, for every kind
/// of caller (the record is what LookupEvents answers with, so the two must agree).
#[test]
fn index_keys_in_the_meta_match_the_record() {
    use crate::auth::{Principal, PrincipalKind};
    let kinds = [
        PrincipalKind::Root,
        PrincipalKind::User {
            name: "admin".into(),
            path: "/".into(),
            id: "AIDAX".into(),
        },
        PrincipalKind::AssumedRole {
            role_name: "ops".into(),
            role_path: "/".into(),
            role_id: "AROAX".into(),
            session_name: "sess".into(),
            issued_at: 1_700_000_000,
            expires_at: 1_700_003_600,
        },
        PrincipalKind::Service {
            service: "cloudtrail.amazonaws.com".into(),
        },
        PrincipalKind::Anonymous,
    ];
    for kind in kinds {
        let ctx = crate::services::RequestContext {
            request_id: "rid".into(),
            principal: Principal {
                account: "111111111111".into(),
                kind,
                access_key_id: "AKIAX".into(),
                session: None,
            },
            region: "eu-west-1".into(),
            source_ip: "127.0.0.1".parse().unwrap(),
            user_agent: "aws-cli/1".into(),
            time: chrono::Utc::now(),
            secure: false,
        };
        let info = crate::audit::CallInfo {
            event_source: "sts.amazonaws.com",
            event_name: "GetCallerIdentity".into(),
            region: "eu-west-1".into(),
            read_only: true,
            management: true,
            request_parameters: None,
            resources: vec![],
            recipient_account: "111111111111".into(),
            shared_with: Some("222222222222".into()),
            additional_event_data: None,
            lookup_resources: vec![],
        };
        let clock = crate::clock::Clock::default();
        let entries = crate::audit::entries(&ctx, &info, Ok(None), &clock);
        assert_eq!(entries.len(), 2, "one per recipient");
        for entry in &entries {
            let (meta, record) = journal::split(entry).unwrap();
            let meta = journal::IndexMeta::parse(meta).unwrap();
            let written = meta.keys.expect("keys in the meta");
            let read = keys_from_record(record).expect("a record indexing can read");
            assert_eq!(written, read, "{:?}", ctx.principal.kind);
        }
    }
}

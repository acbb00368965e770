use super::*;
use std::ops::Bound;

const T: Table = Table("t");

/// A store on the database at `path`, as a restart opens it.
fn open_at(path: &std::path::Path) -> Store {
    Store::new(Arc::new(
        SqliteEngine::open(path, Durability::Process).unwrap(),
    ))
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_at(&dir.path().join("s.db"));
    (dir, store)
}

#[tokio::test]
async fn write_then_read_back_in_key_order() {
    let (_d, store) = open();
    store
        .write(|w| -> StoreResult<()> {
            w.put(T, b"b", b"2")?;
            w.put(T, b"a", b"1")?;
            w.put(T, b"c", b"3")?;
            w.put(Table("other"), b"a", b"x")?;
            Ok(())
        })
        .await
        .unwrap();
    let rows = store
        .read(|r| r.scan(T, Bound::Unbounded, Bound::Unbounded, 10, false))
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (b"a".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"2".to_vec()),
            (b"c".to_vec(), b"3".to_vec())
        ]
    );
    let rev = store
        .read(|r| r.scan(T, Bound::Excluded(b"a"), Bound::Included(b"c"), 1, true))
        .unwrap();
    assert_eq!(rev, vec![(b"c".to_vec(), b"3".to_vec())]);
}

#[tokio::test]
async fn failed_write_leaves_nothing() {
    let (_d, store) = open();
    let r: Result<(), StoreError> = store
        .write(|w| {
            w.put(T, b"k", b"v")?;
            Err(StoreError::Backend("refused".into()))
        })
        .await;
    assert!(r.is_err());
    assert_eq!(store.read(|r| r.get(T, b"k")).unwrap(), None);
}

#[tokio::test]
async fn concurrent_writes_all_commit_and_journal_is_ordered() {
    let (_d, store) = open();
    let mut handles = Vec::new();
    for i in 0..200u32 {
        let s = store.clone();
        handles.push(tokio::spawn(async move {
            s.write(move |w| -> StoreResult<u64> {
                w.put(T, format!("k{i:04}").as_bytes(), b"v")?;
                w.append_journal(format!("r{i}").as_bytes())
            })
            .await
            .unwrap()
        }));
    }
    let mut seqs = Vec::new();
    for h in handles {
        seqs.push(h.await.unwrap());
    }
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), 200);
    let j = store.read(|r| r.journal_after(0, 1000)).unwrap();
    assert_eq!(j.len(), 200);
    assert!(j.windows(2).all(|w| w[0].0 < w[1].0));
    let later = store.read(|r| r.journal_after(j[149].0, 1000)).unwrap();
    assert_eq!(later.len(), 50);
}

#[tokio::test]
async fn nested_rollback_keeps_outer_writes() {
    let (_d, store) = open();
    store
        .write(|w| -> StoreResult<()> {
            w.put(T, b"outer", b"1")?;
            let kept = w.nested(&mut |w| {
                w.put(T, b"inner", b"2").unwrap();
                false
            })?;
            assert!(!kept);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(
        store.read(|r| r.get(T, b"outer")).unwrap(),
        Some(b"1".to_vec())
    );
    assert_eq!(store.read(|r| r.get(T, b"inner")).unwrap(), None);
}

#[tokio::test]
async fn prefix_scan_and_delete() {
    let (_d, store) = open();
    store
        .write(|w| -> StoreResult<()> {
            for k in ["a/1", "a/2", "ab", "b/1"] {
                w.put_json(T, k.as_bytes(), &k.to_string())?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let got: Vec<String> = store
        .read(|r| r.scan_prefix_json::<String>(T, b"a/", 100))
        .unwrap()
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(got, vec!["a/1", "a/2"]);
    let n = store.write(|w| w.delete_prefix(T, b"a")).await.unwrap();
    assert_eq!(n, 3);
    assert_eq!(
        store
            .read(|r| r.scan(T, Bound::Unbounded, Bound::Unbounded, 10, false))
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    {
        let store = open_at(&path);
        store.write(|w| w.put(T, b"k", b"v")).await.unwrap();
    }
    let store = open_at(&path);
    assert_eq!(store.read(|r| r.get(T, b"k")).unwrap(), Some(b"v".to_vec()));
}

#[test]
fn prefix_end_handles_ff() {
    assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
    assert_eq!(prefix_end(&[0x61, 0xff]), Some(vec![0x62]));
    assert_eq!(prefix_end(&[0xff, 0xff]), None);
}

#[tokio::test]
async fn journal_sequence_numbers_are_never_reused() {
    let (dir, store) = open();
    let first = store.write(|w| w.append_journal(b"a")).await.unwrap();
    store.write(|w| w.wipe_all()).await.unwrap();
    let second = store.write(|w| w.append_journal(b"b")).await.unwrap();
    assert!(second > first);
    assert_eq!(store.read(|r| r.journal_get(first)).unwrap(), None);
    assert_eq!(
        store.read(|r| r.journal_after(0, 10)).unwrap(),
        vec![(second, b"b".to_vec())]
    );
    // Twice in a row, and across a restart of the engine.
    store.write(|w| w.wipe_all()).await.unwrap();
    store.write(|w| w.wipe_all()).await.unwrap();
    assert_eq!(store.read(|r| r.journal_after(0, 10)).unwrap(), vec![]);
    assert_eq!(store.read(|r| r.journal_head()).unwrap(), second);
    let path = dir.path().join("s.db");
    drop(store);
    let store = open_at(&path);
    let third = store.write(|w| w.append_journal(b"c")).await.unwrap();
    assert!(third > second);
}

fn records(store: &Store) -> Vec<Vec<u8>> {
    store
        .read(|r| r.journal_after(0, 100))
        .unwrap()
        .into_iter()
        .map(|(_, rec)| rec)
        .collect()
}

#[tokio::test]
async fn appended_records_reach_the_journal_in_order_with_jobs() {
    let (_d, store) = open();
    store.append(vec![b"a".to_vec()]).await.unwrap();
    store
        .append(vec![b"b1".to_vec(), b"b2".to_vec()])
        .await
        .unwrap();
    // A job queued after an acknowledged append commits after it.
    store.write(|w| w.append_journal(b"job")).await.unwrap();
    store.append(vec![b"c".to_vec()]).await.unwrap();
    store.settle().await.unwrap();
    assert_eq!(
        records(&store),
        [&b"a"[..], b"b1", b"b2", b"job", b"c"].map(|r| r.to_vec())
    );
}

#[tokio::test]
async fn segment_records_survive_a_stop_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = open_at(&path);
    for i in 0..50u32 {
        store.append(vec![i.to_be_bytes().to_vec()]).await.unwrap();
    }
    // Stopped within the import pace: what was not imported yet is imported on start.
    drop(store);
    for _ in 0..2 {
        let store = open_at(&path);
        store.settle().await.unwrap();
        let expected: Vec<Vec<u8>> = (0..50u32).map(|i| i.to_be_bytes().to_vec()).collect();
        assert_eq!(records(&store), expected);
    }
}

#[tokio::test]
async fn a_wipe_takes_segment_records_and_files_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = open_at(&path);
    store.append(vec![b"before".to_vec()]).await.unwrap();
    store.write(|w| w.wipe_all()).await.unwrap();
    store.append(vec![b"after".to_vec()]).await.unwrap();
    store.settle().await.unwrap();
    // The files before the reset are gone; the one being written stays.
    let files = || {
        std::fs::read_dir(dir.path().join("s.journal"))
            .unwrap()
            .count()
    };
    assert_eq!(files(), 2, "the lock and one segment");
    // A file the reset's deletion missed (a stop right after its commit) goes at the next start.
    let stale = dir.path().join("s.journal").join(format!("{:020}.seg", 1));
    std::fs::write(&stale, b"CAIRNSTG").unwrap();
    drop(store);
    let store = open_at(&path);
    store.settle().await.unwrap();
    assert_eq!(records(&store), vec![b"after".to_vec()]);
    assert!(!stale.exists());
}

#[tokio::test]
async fn runs_read_back_by_position_and_by_sequence_number() {
    let (_d, store) = open();
    let inline = store.write(|w| w.append_journal(b"inline")).await.unwrap();
    for i in 0..10u8 {
        store.append(vec![vec![b'r', i]]).await.unwrap();
    }
    store.settle().await.unwrap();
    let all = store.read(|r| r.journal_after(0, 100)).unwrap();
    assert_eq!(all.len(), 11);
    assert_eq!(all[0], (inline, b"inline".to_vec()));
    let seqs: Vec<u64> = all.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (inline..inline + 11).collect::<Vec<_>>(),
        "one number per record"
    );
    // From inside a run, and a limit that ends inside one.
    let middle = store.read(|r| r.journal_after(inline + 3, 4)).unwrap();
    assert_eq!(middle, all[4..8].to_vec());
    for (seq, rec) in &all {
        assert_eq!(
            store.read(|r| r.journal_get(*seq)).unwrap().as_ref(),
            Some(rec)
        );
    }
    assert_eq!(store.read(|r| r.journal_get(inline + 11)).unwrap(), None);
    assert_eq!(store.read(|r| r.journal_head()).unwrap(), inline + 10);
    // A job's record follows the run.
    let after = store.write(|w| w.append_journal(b"job")).await.unwrap();
    assert_eq!(after, inline + 11);
}

#[tokio::test]
async fn a_former_staging_file_is_imported_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(open_at(&path));
    // What a former version left: a staging file with one record past its committed position.
    let mut bytes = b"CAIRNSTG".to_vec();
    bytes.extend_from_slice(&3u64.to_le_bytes());
    let payload = [&4u32.to_le_bytes()[..], b"left"].concat();
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    std::fs::write(dir.path().join("s.stage"), &bytes).unwrap();
    for _ in 0..2 {
        let store = open_at(&path);
        assert_eq!(records(&store), vec![b"left".to_vec()]);
    }
    assert!(!dir.path().join("s.stage").exists());
}

#[tokio::test]
async fn power_durability_appends_through_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(Arc::new(
        SqliteEngine::open(&dir.path().join("s.db"), Durability::Power).unwrap(),
    ));
    store.append(vec![b"a".to_vec()]).await.unwrap();
    // Committed (and fsynced) before the append returned: no settling needed.
    assert_eq!(records(&store), vec![b"a".to_vec()]);
    assert!(!dir.path().join("s.journal").exists(), "no segment files");
}

#[tokio::test]
async fn a_second_opener_leaves_the_segment_files_to_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let owner = open_at(&path);
    owner.append(vec![b"owner-1".to_vec()]).await.unwrap();
    // Another process's engine on the same data (an admin command beside the server).
    let other = open_at(&path);
    other.append(vec![b"other".to_vec()]).await.unwrap();
    assert!(
        records(&other).contains(&b"other".to_vec()),
        "through its writer"
    );
    owner.append(vec![b"owner-2".to_vec()]).await.unwrap();
    drop(other);
    owner.settle().await.unwrap();
    let mut got = records(&owner);
    got.sort();
    assert_eq!(
        got,
        [&b"other"[..], b"owner-1", b"owner-2"].map(|r| r.to_vec())
    );
    drop(owner);
    let again = open_at(&path);
    again.settle().await.unwrap();
    assert_eq!(records(&again).len(), 3, "nothing imported twice");
}

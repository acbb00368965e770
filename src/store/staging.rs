//! The journal's staging file: records of read-only calls, durable before their calls are
//! answered, waiting for the writer to move them into the journal in bulk.
//!
//! A read-only call changes no state, so its record needs no transaction of its own: one write
//! to this file, on the calling thread, makes it survive a kill -9 (the file's pages are the
//! kernel's once `write` returns). Going through the writer instead cost a thread handoff and a
//! commit per one or two records, which was most of what recording cost.
//!
//! The writer takes the waiting records every `IMPORT_PACE` (or at once, ahead of any job, so
//! a client's read-then-write keeps its order) and inserts them into the journal table in the
//! same transaction that stores how far the file has been imported: `(generation, offset)`.
//! On start, whatever the file holds past that position is imported before anything else runs.
//!
//! The file is `[magic 8][generation u64 LE]` then frames `[len u32 LE][crc32 u32 LE][payload]`,
//! a payload being one call's records as `[len u32 LE][bytes]...`. A frame torn by a crash fails
//! its length or checksum and is dropped with everything after it; its call was never answered.
//! When the file grows past `ROTATE_BYTES`, the records not yet imported move to a fresh file
//! of the next generation, renamed over the old one: a position of an older generation then
//! means "import the whole file", which is exactly what is left.
//!
//! One process owns the file, by an exclusive `flock` on a lock file beside it that is never
//! renamed. Another process opening the same data directory meanwhile (`cairn admin ...` beside
//! a running server) finds it taken and appends through its writer instead: it must neither
//! import records the owner will import nor start a new file under it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

const MAGIC: &[u8; 8] = b"CAIRNSTG";
/// Bytes before the first frame.
pub const HEADER: u64 = 16;
/// Past this size the file is replaced by one holding just the records not yet imported.
const ROTATE_BYTES: u64 = 16 << 20;
/// The most one frame may hold (a call's records are far smaller); a larger length read back
/// is a torn or foreign frame.
const MAX_FRAME: u32 = 64 << 20;

/// A position in the staging file: everything before `offset` in the file of `generation` is in
/// the journal table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub generation: u64,
    pub offset: u64,
}

impl Position {
    pub fn encode(&self) -> [u8; 16] {
        let mut b = [0; 16];
        b[..8].copy_from_slice(&self.generation.to_le_bytes());
        b[8..].copy_from_slice(&self.offset.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<Position> {
        Some(Position {
            generation: u64::from_le_bytes(b.get(..8)?.try_into().ok()?),
            offset: u64::from_le_bytes(b.get(8..16)?.try_into().ok()?),
        })
    }
}

pub struct Staging {
    path: PathBuf,
    /// Holds the ownership lock while the staging file is in use.
    _owner: File,
    inner: Mutex<Inner>,
    /// Records wait and the writer has been told; cleared when the writer takes them.
    pending: AtomicBool,
}

struct Inner {
    file: File,
    generation: u64,
    /// End of the last whole frame.
    len: u64,
    /// Staged records not yet taken by the writer, oldest first.
    waiting: Vec<Vec<u8>>,
}

/// Records the writer took, and the position that marks them imported once committed.
pub struct Taken {
    pub records: Vec<Vec<u8>>,
    pub position: Position,
}

/// What a previous run left in the file past the committed position.
pub struct Leftover {
    pub records: Vec<Vec<u8>>,
    /// The position after them (generation 0 when there was no file).
    pub position: Position,
}

fn frame(records: &[Vec<u8>]) -> Vec<u8> {
    let payload_len: usize = records.iter().map(|r| 4 + r.len()).sum();
    let mut out = Vec::with_capacity(8 + payload_len);
    out.extend_from_slice(&(payload_len as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    for r in records {
        out.extend_from_slice(&(r.len() as u32).to_le_bytes());
        out.extend_from_slice(r);
    }
    let crc = crc32fast::hash(&out[8..]);
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    out
}

/// The records of the whole frames in `bytes`, and how many bytes they span.
fn parse_frames(bytes: &[u8]) -> (Vec<Vec<u8>>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some(head) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes"));
        let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        if len > MAX_FRAME {
            break;
        }
        let Some(payload) = bytes.get(at + 8..at + 8 + len as usize) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let mut call = Vec::new();
        let mut p = 0;
        let whole = loop {
            if p == payload.len() {
                break true;
            }
            let Some(n) = payload.get(p..p + 4) else {
                break false;
            };
            let n = u32::from_le_bytes(n.try_into().expect("4 bytes")) as usize;
            let Some(r) = payload.get(p + 4..p + 4 + n) else {
                break false;
            };
            call.push(r.to_vec());
            p += 4 + n;
        };
        if !whole {
            break;
        }
        records.extend(call);
        at += 8 + len as usize;
    }
    (records, at)
}

/// Reads what the file at `path` holds past `committed`.
pub fn leftover(path: &Path, committed: Option<Position>) -> io::Result<Leftover> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let none = |generation| Leftover {
        records: Vec::new(),
        position: Position {
            generation,
            offset: HEADER,
        },
    };
    if bytes.len() < HEADER as usize || &bytes[..8] != MAGIC {
        if !bytes.is_empty() {
            tracing::warn!(path = %path.display(), "ignoring a journal staging file without a valid header");
        }
        return Ok(none(0));
    }
    let generation = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    let start = match committed {
        Some(p) if p.generation == generation => p.offset.max(HEADER),
        _ => HEADER,
    };
    let Some(rest) = bytes.get(start as usize..) else {
        return Ok(none(generation));
    };
    let (records, used) = parse_frames(rest);
    if start as usize + used < bytes.len() {
        tracing::warn!(
            path = %path.display(),
            dropped = bytes.len() - start as usize - used,
            "dropping the torn end of the journal staging file (a call cut off by a crash, never answered)"
        );
    }
    Ok(Leftover {
        records,
        position: Position {
            generation,
            offset: start + used as u64,
        },
    })
}

/// How long an opener waits for the owner lock: enough for an engine of this process that is
/// being dropped to let go of it.
const OWNER_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// Takes the ownership lock of the staging file at `path`, or None when another holder keeps it.
pub fn own(path: &Path) -> io::Result<Option<File>> {
    use std::os::fd::AsRawFd;
    let lock = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path.with_extension("stage-lock"))?;
    let deadline = std::time::Instant::now() + OWNER_WAIT;
    loop {
        // SAFETY: flock only reads the descriptor, which `lock` keeps open.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(Some(lock));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::WouldBlock {
            return Err(e);
        }
        if std::time::Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Writes a file of `generation` holding `records` and renames it over `path`.
fn replace(path: &Path, generation: u64, records: &[Vec<u8>]) -> io::Result<(File, u64)> {
    let tmp = path.with_extension("stage-new");
    let mut f = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    let mut bytes = Vec::with_capacity(64);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&generation.to_le_bytes());
    if !records.is_empty() {
        bytes.extend_from_slice(&frame(records));
    }
    f.write_all(&bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok((f, bytes.len() as u64))
}

impl Staging {
    /// Starts a new, empty file of generation `after + 1`; `owner` is the lock `own` took.
    pub fn create(path: &Path, after: u64, owner: File) -> io::Result<Staging> {
        let generation = after + 1;
        let (file, len) = replace(path, generation, &[])?;
        Ok(Staging {
            path: path.to_path_buf(),
            _owner: owner,
            inner: Mutex::new(Inner {
                file,
                generation,
                len,
                waiting: Vec::new(),
            }),
            pending: AtomicBool::new(false),
        })
    }

    /// Makes one call's records durable. Returns whether the writer must be told (the first
    /// records since it last took them).
    pub fn stage(&self, records: Vec<Vec<u8>>) -> io::Result<bool> {
        let bytes = frame(&records);
        let mut g = self.inner.lock().expect("staging");
        let at = g.len;
        if let Err(e) = g.file.write_all_at(&bytes, at) {
            // Whatever part of the frame landed fails its checksum; cut it anyway.
            let _ = g.file.set_len(at);
            return Err(e);
        }
        g.len += bytes.len() as u64;
        g.waiting.extend(records);
        Ok(!self.pending.swap(true, Ordering::AcqRel))
    }

    pub fn pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes the waiting records for import.
    pub fn take(&self) -> Taken {
        let mut g = self.inner.lock().expect("staging");
        self.pending.store(false, Ordering::Release);
        Taken {
            records: std::mem::take(&mut g.waiting),
            position: Position {
                generation: g.generation,
                offset: g.len,
            },
        }
    }

    /// Returns records whose import did not commit, ahead of those staged since.
    pub fn put_back(&self, taken: Taken) {
        let mut g = self.inner.lock().expect("staging");
        let mut records = taken.records;
        records.append(&mut g.waiting);
        g.waiting = records;
        self.pending.store(true, Ordering::Release);
    }

    /// Drops every waiting record (a reset wipes the journal) and returns the position that
    /// marks the file consumed.
    pub fn discard(&self) -> Position {
        let mut g = self.inner.lock().expect("staging");
        g.waiting.clear();
        self.pending.store(false, Ordering::Release);
        Position {
            generation: g.generation,
            offset: g.len,
        }
    }

    /// After a commit: a file grown past `ROTATE_BYTES` is replaced by one holding only the
    /// records still waiting.
    pub fn maybe_rotate(&self) -> io::Result<()> {
        let mut g = self.inner.lock().expect("staging");
        if g.len < ROTATE_BYTES {
            return Ok(());
        }
        let (file, len) = replace(&self.path, g.generation + 1, &g.waiting)?;
        g.file = file;
        g.generation += 1;
        g.len = len;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new staging file at `path` of generation `after + 1`, owned by this test.
    fn fresh(path: &Path, after: u64) -> Staging {
        Staging::create(path, after, own(path).unwrap().unwrap()).unwrap()
    }

    fn recs(names: &[&str]) -> Vec<Vec<u8>> {
        names.iter().map(|n| n.as_bytes().to_vec()).collect()
    }

    #[test]
    fn staged_records_are_left_over_until_their_position_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.stage");
        let s = fresh(&path, 0);
        assert!(s.stage(recs(&["a"])).unwrap());
        assert!(
            !s.stage(recs(&["b", "c"])).unwrap(),
            "the writer was told already"
        );
        let taken = s.take();
        assert_eq!(taken.records, recs(&["a", "b", "c"]));
        assert!(s.stage(recs(&["d"])).unwrap());
        drop(s);
        // Nothing committed: everything is left over.
        let all = leftover(&path, None).unwrap();
        assert_eq!(all.records, recs(&["a", "b", "c", "d"]));
        // Committed through c: only d.
        let rest = leftover(&path, Some(taken.position)).unwrap();
        assert_eq!(rest.records, recs(&["d"]));
        assert_eq!(rest.position, all.position);
        // A position of an older generation means the whole file.
        let older = Position {
            generation: taken.position.generation - 1,
            offset: 1 << 40,
        };
        assert_eq!(leftover(&path, Some(older)).unwrap().records.len(), 4);
    }

    #[test]
    fn a_torn_frame_and_what_follows_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.stage");
        let s = fresh(&path, 4);
        s.stage(recs(&["whole"])).unwrap();
        s.stage(recs(&["torn"])).unwrap();
        drop(s);
        let len = std::fs::metadata(&path).unwrap().len();
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 2)
            .unwrap();
        let left = leftover(&path, None).unwrap();
        assert_eq!(left.records, recs(&["whole"]));
        assert_eq!(left.position.generation, 5);
        // A flipped byte fails the checksum.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(leftover(&path, None).unwrap().records, recs(&["whole"]));
        // No file, or a foreign one: nothing.
        std::fs::write(&path, b"not a staging file").unwrap();
        assert!(leftover(&path, None).unwrap().records.is_empty());
        std::fs::remove_file(&path).unwrap();
        assert!(leftover(&path, None).unwrap().records.is_empty());
    }

    #[test]
    fn rotation_keeps_only_what_still_waits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.stage");
        let s = fresh(&path, 0);
        let big = vec![b'x'; 1 << 20];
        for _ in 0..17 {
            s.stage(vec![big.clone()]).unwrap();
        }
        let taken = s.take();
        assert_eq!(taken.records.len(), 17);
        s.stage(recs(&["late"])).unwrap();
        s.maybe_rotate().unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() < 1024);
        // The import of the 17 commits with the old generation's position: the new file is
        // left over whole, and holds just the late record.
        let left = leftover(&path, Some(taken.position)).unwrap();
        assert_eq!(left.records, recs(&["late"]));
        assert_eq!(left.position.generation, taken.position.generation + 1);
        s.stage(recs(&["after"])).unwrap();
        assert_eq!(s.take().records, recs(&["late", "after"]));
        drop(s);
        assert_eq!(
            leftover(&path, Some(left.position)).unwrap().records,
            recs(&["after"])
        );
    }

    #[test]
    fn one_owner_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.stage");
        let first = own(&path).unwrap().expect("a free lock");
        assert!(own(&path).unwrap().is_none(), "taken while held");
        drop(first);
        assert!(own(&path).unwrap().is_some());
    }

    #[test]
    fn put_back_and_discard() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.stage");
        let s = fresh(&path, 0);
        s.stage(recs(&["a"])).unwrap();
        let taken = s.take();
        assert!(!s.pending());
        s.stage(recs(&["b"])).unwrap();
        s.put_back(taken);
        assert!(s.pending());
        assert_eq!(s.take().records, recs(&["a", "b"]));
        s.stage(recs(&["c"])).unwrap();
        let end = s.discard();
        assert!(!s.pending());
        assert!(s.take().records.is_empty());
        assert_eq!(s.take().position, end);
    }
}

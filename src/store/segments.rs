//! The journal's segment files: where the records of read-only calls are kept.
//!
//! A read-only call changes no state, so its record needs no transaction of its own: the
//! calling thread copies the call's records, as one checksummed frame, into a shared mapping of
//! the newest segment file. Once copied they are in the kernel's page cache and survive a
//! kill -9, so the call is answered. Going through the writer instead cost a thread handoff and
//! a commit per one or two records, and copying the bytes into SQLite afterwards cost about as
//! much again. A `pwrite` per call worked too, but its lock was held for the length of a system
//! call, and whenever the holder was preempted inside it the other thread slept on the lock and
//! had to be woken; a copy into the mapping is ten times shorter.
//!
//! So the bytes stay where they were written. The writer enters each *run* of waiting frames in
//! the journal table as one row: `(generation, start, end, count)` and the sequence numbers its
//! records take, in the same transaction that stores how far the segments have been entered (a
//! `Position`). Readers of the journal read a run's frames back from its file.
//!
//! A segment file is `<generation>.seg`: `[magic 8][generation u64 LE]`, then frames
//! `[len u32 LE][crc32 u32 LE][payload]`, a payload being one call's records as
//! `[len u32 LE][bytes]...`. A frame torn by a crash fails its length or checksum and is dropped
//! with everything after it; its call was never answered. A file is made `SEGMENT_BYTES` long
//! with its blocks allocated (a full disk fails there, not as a fault in the mapping); what
//! follows its last frame is zeros. Only the writer starts files: past `ROTATE_BYTES` after a
//! commit, on every start, and on a reset (after which the older files, no longer named by the
//! journal, are deleted). It makes the next file ahead of time and fills it with zeros while
//! the current one fills (`PREPARE_FROM`), and cuts each file after its last frame when it moves
//! on. A call that finds the mapping full writes past it with `pwrite`. On start, whatever the
//! files hold past the committed position is entered before anything else runs; a prepared file
//! nothing was written to is empty and deleted.
//!
//! One process owns the files, by an exclusive `flock` on `lock` in their directory. Another
//! process opening the same data directory meanwhile (`cairn admin ...` beside a running server)
//! finds it taken and appends through its writer instead: it must neither enter runs the owner
//! will enter nor start a generation under it. Any process reads them.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const MAGIC: &[u8; 8] = b"CAIRNSTG";
/// Bytes before the first frame.
pub const HEADER: u64 = 16;
/// The size of a segment file: the owner maps it whole and writes frames into the mapping.
const SEGMENT_BYTES: u64 = 16 << 20;
/// Past this size the writer starts the next generation after a commit (calls never create
/// files: one that finds the mapping full writes past it with `pwrite`).
const ROTATE_BYTES: u64 = SEGMENT_BYTES - (1 << 20);
/// How far past the end of its frames the owner keeps the mapping's pages faulted in
/// (`MADV_POPULATE_WRITE`), so that a call's copy into the mapping rarely takes a page fault:
/// some 50 ms of records at 40 MB/s, twice the writer's pace (`IMPORT_PACE`).
const POPULATE_AHEAD: u64 = 2 << 20;
/// Once the file in use holds this much, the writer starts the next one and fills it with
/// zeros, `PREPARE_STEP` bytes after each commit, so that the file is in the page cache when
/// calls start writing into it. A page first touched through the mapping cost 2.3 µs to fault
/// in (allocated, zeroed and its blocks reserved one page at a time); written with zeros by
/// `pwrite` beforehand, 0.6 µs plus 0.2 to map it.
const PREPARE_FROM: u64 = SEGMENT_BYTES / 4;
const PREPARE_STEP: usize = 2 << 20;
/// What preparing writes: zeros, which is what the unwritten part of a file reads as anyway.
static ZEROS: [u8; PREPARE_STEP] = [0; PREPARE_STEP];
/// Finished files whose pages stay in the page cache. The pages of older ones are released
/// (their blocks written back first) as the next file is prepared, so the pages preparing it
/// takes are pages the journal just gave back. A page the system hands out fresh cost 8–10 µs
/// to zero-fill on a virtual machine that returns free memory to its host, one given back
/// moments before 0.8 µs: at full load the writer spent most of its time there. Eight files
/// (128 MiB) hold about 4 s of records at full load, more than consumers lag behind (event
/// history by under a second, delivery by about its interval); at a quiet pace, days. A
/// consumer further behind reads from disk.
const KEEP_CACHED: usize = 8;
/// The most one frame may hold (a call's records are far smaller); a larger length read back
/// is a torn or foreign frame.
const MAX_FRAME: u32 = 64 << 20;
/// Segment files a reader keeps open.
const OPEN_FILES: usize = 8;
/// A run grows to about this many bytes: reading one record back (LookupEvents) reads its
/// whole run, and under load 10 ms of frames would be a quarter of a megabyte.
const RUN_BYTES: u64 = 64 << 10;

/// A position in the segments: everything before `offset` in the file of `generation`, and in
/// every older file, is in the journal table.
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

/// Whole frames in one segment file: bytes `start..end` of generation `generation`, holding
/// `count` records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub generation: u64,
    pub start: u64,
    pub end: u64,
    pub count: u64,
}

impl Run {
    pub fn encode(&self) -> [u8; 32] {
        let mut b = [0; 32];
        for (i, v) in [self.generation, self.start, self.end, self.count]
            .into_iter()
            .enumerate()
        {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    pub fn decode(b: &[u8]) -> Option<Run> {
        let v = |i: usize| -> Option<u64> {
            Some(u64::from_le_bytes(
                b.get(i * 8..i * 8 + 8)?.try_into().ok()?,
            ))
        };
        (b.len() == 32).then_some(())?;
        let run = Run {
            generation: v(0)?,
            start: v(1)?,
            end: v(2)?,
            count: v(3)?,
        };
        (run.start <= run.end && run.count > 0).then_some(run)
    }
}

fn file_name(generation: u64) -> String {
    format!("{generation:020}.seg")
}

fn generation_of(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Hands over a frame's bytes piece by piece, in order: `head` (`frame_head`), then each
/// record's length (u32 little-endian) and bytes. A call's copy into the mapping and a frame
/// built whole for `pwrite` both lay it out through this.
fn frame_pieces(head: &[u8; 8], records: &[Vec<u8>], put: &mut dyn FnMut(&[u8])) {
    put(head);
    for r in records {
        put(&(r.len() as u32).to_le_bytes());
        put(r);
    }
}

/// The length of the frame `head` begins.
fn frame_len(head: &[u8; 8]) -> u64 {
    8 + u64::from(u32::from_le_bytes(head[..4].try_into().expect("4 bytes")))
}

/// One call's records as a whole frame, for `pwrite`.
fn frame(records: &[Vec<u8>]) -> Vec<u8> {
    let head = frame_head(records);
    let mut out = Vec::with_capacity(frame_len(&head) as usize);
    frame_pieces(&head, records, &mut |piece| out.extend_from_slice(piece));
    out
}

/// A frame's first eight bytes: the payload's length and checksum.
fn frame_head(records: &[Vec<u8>]) -> [u8; 8] {
    let mut crc = crc32fast::Hasher::new();
    let mut len = 0;
    for r in records {
        crc.update(&(r.len() as u32).to_le_bytes());
        crc.update(r);
        len += 4 + r.len();
    }
    let mut head = [0; 8];
    head[..4].copy_from_slice(&(len as u32).to_le_bytes());
    head[4..].copy_from_slice(&crc.finalize().to_le_bytes());
    head
}

/// The records of the whole frames at the start of `bytes`, and how many bytes they span.
fn parse_frames(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some(head) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes"));
        let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        // Every frame holds a record: a zero length is the end (or a foreign file).
        if len == 0 || len > MAX_FRAME {
            break;
        }
        let Some(payload) = bytes.get(at + 8..at + 8 + len as usize) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let before = records.len();
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
            records.push(r);
            p += 4 + n;
        };
        if !whole {
            records.truncate(before);
            break;
        }
        at += 8 + len as usize;
    }
    (records, at)
}

/// The generation in a file's header, if it is a segment (or former staging) file.
fn header_generation(bytes: &[u8]) -> Option<u64> {
    (bytes.len() >= HEADER as usize && &bytes[..8] == MAGIC)
        .then(|| u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")))
}

/// The segment files in `dir`, oldest first.
fn generations(dir: &Path) -> io::Result<Vec<u64>> {
    let mut found = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for e in entries {
                if let Some(g) = e?.file_name().to_str().and_then(generation_of) {
                    found.push(g);
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    found.sort_unstable();
    Ok(found)
}

/// What the segments hold past the committed position, found on start.
pub struct Found {
    /// One run per file that holds records past the position.
    pub runs: Vec<Run>,
    /// The position after them.
    pub position: Position,
    /// The newest generation there is a file of (0 for none).
    pub newest: u64,
    /// Files that hold no frame at all (a start with no read-only call after it).
    pub empty: Vec<u64>,
}

/// Reads what the segment files in `dir` hold past `committed`.
pub fn found(dir: &Path, committed: Option<Position>) -> io::Result<Found> {
    let mut position = committed.unwrap_or(Position {
        generation: 0,
        offset: HEADER,
    });
    let mut runs = Vec::new();
    let mut empty = Vec::new();
    let all = generations(dir)?;
    let from = position.generation;
    for &generation in all.iter().filter(|g| **g >= from) {
        let path = dir.join(file_name(generation));
        let mut bytes = Vec::new();
        File::open(&path)?.read_to_end(&mut bytes)?;
        if header_generation(&bytes) != Some(generation) {
            tracing::warn!(path = %path.display(), "ignoring a journal segment without a valid header");
            continue;
        }
        let start = if generation == position.generation {
            position.offset.max(HEADER)
        } else {
            HEADER
        };
        let (records, used) = bytes
            .get(start as usize..)
            .map(parse_frames)
            .unwrap_or_default();
        let end = start + used as u64;
        // What follows the frames is the file's unwritten rest (zeros) or a torn frame.
        if bytes[(end as usize).min(bytes.len())..]
            .iter()
            .any(|b| *b != 0)
        {
            tracing::warn!(
                path = %path.display(),
                at = end,
                "dropping the torn end of a journal segment (a call cut off by a crash, never answered)"
            );
        }
        if start == HEADER && used == 0 {
            empty.push(generation);
        }
        if !records.is_empty() {
            runs.push(Run {
                generation,
                start,
                end,
                count: records.len() as u64,
            });
        }
        position = Position {
            generation,
            offset: end,
        };
    }
    Ok(Found {
        runs,
        position,
        newest: all.last().copied().unwrap_or(0),
        empty,
    })
}

/// Deletes the segment files older than `generation`: nothing in the journal names them.
pub fn prune(dir: &Path, generation: u64) -> io::Result<()> {
    remove(
        dir,
        generations(dir)?.into_iter().filter(|g| *g < generation),
    )
}

/// Deletes the segment files of these generations.
pub fn remove(dir: &Path, generations: impl IntoIterator<Item = u64>) -> io::Result<()> {
    for g in generations {
        match std::fs::remove_file(dir.join(file_name(g))) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// The records a former version's single staging file holds past its committed position
/// (`committed`: that file's generation and offset); none when there is no such file.
pub fn legacy_leftover(path: &Path, committed: Option<Position>) -> io::Result<Vec<Vec<u8>>> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    }
    let Some(generation) = header_generation(&bytes) else {
        return Ok(Vec::new());
    };
    let start = match committed {
        Some(p) if p.generation == generation => p.offset.max(HEADER),
        _ => HEADER,
    };
    Ok(bytes
        .get(start as usize..)
        .map(|rest| {
            parse_frames(rest)
                .0
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect()
        })
        .unwrap_or_default())
}

/// How long an opener waits for the owner lock: enough for an engine of this process that is
/// being dropped to let go of it.
const OWNER_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// Takes the ownership lock of the segments in `dir` (creating it), or None when another holder
/// keeps it.
pub fn own(dir: &Path) -> io::Result<Option<File>> {
    use std::os::fd::AsRawFd;
    std::fs::create_dir_all(dir)?;
    let lock = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join("lock"))?;
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

/// Creates the (empty) file of `generation`: `SEGMENT_BYTES` long, its blocks allocated up
/// front (a full disk then fails here, with an error, rather than as a fault on a write into
/// the mapping), and mapped.
fn start_file(dir: &Path, generation: u64) -> io::Result<(File, Arc<Mapping>)> {
    use std::os::fd::AsRawFd;
    let mut f = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(dir.join(file_name(generation)))?;
    let mut header = Vec::with_capacity(HEADER as usize);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&generation.to_le_bytes());
    f.write_all(&header)?;
    // SAFETY: fallocate only reads its integer arguments; the descriptor is open.
    if unsafe { libc::fallocate(f.as_raw_fd(), 0, 0, SEGMENT_BYTES as libc::off_t) } != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EOPNOTSUPP) {
            return Err(e);
        }
        f.set_len(SEGMENT_BYTES)?;
    }
    let mapping = Mapping::new(&f, SEGMENT_BYTES as usize)?;
    Ok((f, Arc::new(mapping)))
}

/// A shared, writable mapping of a whole segment file, unmapped when the last holder drops it.
struct Mapping {
    ptr: *mut u8,
    len: usize,
    /// Pages before this offset have been faulted in for writing.
    populated: std::sync::atomic::AtomicUsize,
}

// SAFETY: the mapping is plain memory. Frames are copied in only under the owner's lock;
// populating pages (the writer, outside the lock) changes no byte.
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Mapping {
    fn new(f: &File, len: usize) -> io::Result<Mapping> {
        use std::os::fd::AsRawFd;
        // SAFETY: a fresh shared mapping of `len` bytes of an open file that is that long; it
        // is unmapped once, on drop.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping {
            ptr: ptr.cast(),
            len,
            populated: 0.into(),
        })
    }

    /// Copies `bytes` to `at`, which the caller has checked fits.
    fn write(&self, at: usize, bytes: &[u8]) {
        assert!(at + bytes.len() <= self.len, "a frame past the mapping");
        // SAFETY: in bounds (checked above); the owner's lock keeps writers apart, and readers
        // read only whole frames the writer has been handed, through the file.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.add(at), bytes.len()) }
    }

    /// Faults in the pages from `at` to `POPULATE_AHEAD` past it for writing. Best effort: a
    /// kernel without `MADV_POPULATE_WRITE` (before 5.14) faults them on first write instead.
    fn populate_from(&self, at: usize) {
        const MADV_POPULATE_WRITE: libc::c_int = 23;
        let page = page_size();
        // Both ends on page boundaries: madvise refuses an address that is not (EINVAL), and
        // the mapping's length is a whole number of pages.
        let start = self.populated.load(Ordering::Relaxed).max(at / page * page);
        let end = (at + POPULATE_AHEAD as usize).div_ceil(page) * page;
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        // SAFETY: the range lies within the mapping; populating changes no byte of it.
        let r =
            unsafe { libc::madvise(self.ptr.add(start).cast(), end - start, MADV_POPULATE_WRITE) };
        let populated = match r {
            0 => end,
            // Interrupted or short of memory for now: the next commit tries again.
            _ if matches!(
                io::Error::last_os_error().raw_os_error(),
                Some(libc::EINTR | libc::EAGAIN | libc::ENOMEM)
            ) =>
            {
                start
            }
            // The kernel does not know the advice: stop asking.
            _ => self.len,
        };
        self.populated.store(populated, Ordering::Relaxed);
    }
}

/// The size of a memory page, asked once.
fn page_size() -> usize {
    static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as usize,
        _ => 4096,
    })
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr` and `len` are the mapping `new` made, unmapped only here.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// The owner's side: appends frames and hands the writer the runs to enter.
pub struct Segments {
    dir: PathBuf,
    /// Holds the ownership lock while the segments are in use.
    _owner: File,
    inner: Mutex<Inner>,
    /// Runs wait and the writer has been told; cleared when the writer takes them.
    pending: AtomicBool,
    /// The file of the next generation, being prepared by the writer (only it touches this).
    next: Mutex<Option<Next>>,
    /// Files the writer moved on from, oldest first, until their pages are released.
    finished: Mutex<VecDeque<Finished>>,
    /// `KEEP_CACHED` (tests keep fewer).
    keep_cached: usize,
}

/// A file the writer moved on from: its blocks are being written back, its pages still cached.
struct Finished {
    generation: u64,
    file: File,
    len: u64,
    /// Bytes before this offset have had their pages released.
    released: u64,
}

/// A file made ahead of its turn: nobody writes frames into it until it is switched in.
struct Next {
    generation: u64,
    file: File,
    map: Arc<Mapping>,
    /// Bytes before this offset have been written with zeros.
    zeroed: u64,
}

struct Inner {
    file: File,
    map: Arc<Mapping>,
    generation: u64,
    /// End of the last whole frame.
    len: u64,
    /// Frames written but not yet taken by the writer, oldest first.
    waiting: Vec<Run>,
    /// After a reset: the files older than this go once the reset has committed.
    prune_below: Option<u64>,
}

/// Runs the writer took, and the position that marks them entered once committed.
pub struct Taken {
    pub runs: Vec<Run>,
    pub position: Position,
}

impl Segments {
    /// Starts the file of generation `after + 1` in `dir`; `owner` is the lock `own` took.
    pub fn create(dir: &Path, after: u64, owner: File) -> io::Result<Segments> {
        let generation = after + 1;
        let (file, map) = start_file(dir, generation)?;
        Ok(Segments {
            dir: dir.to_path_buf(),
            _owner: owner,
            inner: Mutex::new(Inner {
                file,
                map,
                generation,
                len: HEADER,
                waiting: Vec::new(),
                prune_below: None,
            }),
            pending: AtomicBool::new(false),
            next: Mutex::new(None),
            finished: Mutex::new(VecDeque::new()),
            keep_cached: KEEP_CACHED,
        })
    }

    /// Makes one call's records durable. Returns whether the writer must be told (the first
    /// records since it last took them).
    pub fn stage(&self, records: &[Vec<u8>]) -> io::Result<bool> {
        // The frame's header is worked out before the lock; the records are copied straight
        // from the call's buffers into the mapping, not gathered into a frame first.
        let head = frame_head(records);
        let frame_len = frame_len(&head);
        let mut g = self.inner.lock().expect("segments");
        let at = g.len;
        if at + frame_len <= SEGMENT_BYTES {
            // A copy into the page cache: the kernel's once it is done, like a `write`, at a
            // tenth of the cost, and short enough that the lock is rarely waited for.
            let mut to = at as usize;
            frame_pieces(&head, records, &mut |piece| {
                g.map.write(to, piece);
                to += piece.len();
            });
        } else if let Err(e) = g.file.write_all_at(&frame(records), at) {
            // The mapping is full (the writer has not started the next file yet) or the frame
            // is larger than a file: past the mapping, the file grows. Whatever part of a failed
            // frame landed fails its checksum; cut it anyway.
            let _ = g.file.set_len(at.max(SEGMENT_BYTES));
            return Err(e);
        }
        let end = at + frame_len;
        g.len = end;
        let generation = g.generation;
        match g.waiting.last_mut() {
            Some(run)
                if run.generation == generation
                    && run.end == at
                    && run.end - run.start < RUN_BYTES =>
            {
                run.end = end;
                run.count += records.len() as u64;
            }
            _ => g.waiting.push(Run {
                generation,
                start: at,
                end,
                count: records.len() as u64,
            }),
        }
        Ok(!self.pending.swap(true, Ordering::AcqRel))
    }

    pub fn pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes the waiting runs, to enter in the journal.
    pub fn take(&self) -> Taken {
        let mut g = self.inner.lock().expect("segments");
        self.pending.store(false, Ordering::Release);
        Taken {
            runs: std::mem::take(&mut g.waiting),
            position: Position {
                generation: g.generation,
                offset: g.len,
            },
        }
    }

    /// Returns runs whose entry did not commit, ahead of those written since.
    pub fn put_back(&self, taken: Taken) {
        let mut g = self.inner.lock().expect("segments");
        let mut runs = taken.runs;
        runs.append(&mut g.waiting);
        g.waiting = runs;
        self.pending.store(true, Ordering::Release);
    }

    /// A reset wipes the journal: drops the waiting runs, starts the next generation, and
    /// returns the position that marks everything before it consumed. The older files go once
    /// the reset commits (`committed`).
    pub fn discard(&self) -> io::Result<Position> {
        let mut g = self.inner.lock().expect("segments");
        g.waiting.clear();
        self.pending.store(false, Ordering::Release);
        self.next_generation(&mut g)?;
        g.prune_below = Some(g.generation);
        Ok(Position {
            generation: g.generation,
            offset: g.len,
        })
    }

    /// After a commit: a file grown past `ROTATE_BYTES` makes way for the next generation, and
    /// the files a committed reset left behind are deleted.
    ///
    /// Only the writer calls this (and `discard`), so only it starts files: the new file is
    /// made, its blocks allocated and mapped before the lock is taken to switch to it, and
    /// pages are faulted in after it is let go, so calls do not wait behind either.
    pub fn committed(&self) -> io::Result<()> {
        let (rotate, generation, len) = {
            let mut g = self.inner.lock().expect("segments");
            if let Some(below) = g.prune_below.take() {
                prune(&self.dir, below)?;
            }
            (g.len >= ROTATE_BYTES, g.generation, g.len)
        };
        if rotate {
            let (file, map) = self.next_file(generation + 1)?;
            let mut g = self.inner.lock().expect("segments");
            let old = std::mem::replace(&mut g.map, map);
            let old_file = std::mem::replace(&mut g.file, file);
            let old_len = g.len;
            g.generation += 1;
            g.len = HEADER;
            drop(g);
            // Unmapped here, outside the lock. Then the file is cut after its last frame: the
            // blocks allocated past it would be a twentieth of the journal's size on disk.
            drop(old);
            old_file.set_len(old_len)?;
            self.finished(generation, old_file, old_len);
        } else if len >= PREPARE_FROM {
            self.prepare(generation + 1)?;
        }
        let (map, at) = {
            let g = self.inner.lock().expect("segments");
            (g.map.clone(), g.len as usize)
        };
        map.populate_from(at);
        Ok(())
    }

    /// Makes the file of `generation` if it is not made yet, and zero-fills the next step of it.
    fn prepare(&self, generation: u64) -> io::Result<()> {
        let mut next = self.next.lock().expect("next segment");
        let n = match &mut *next {
            Some(n) if n.generation == generation => n,
            _ => {
                let (file, map) = start_file(&self.dir, generation)?;
                next.insert(Next {
                    generation,
                    file,
                    map,
                    zeroed: HEADER,
                })
            }
        };
        if n.zeroed < SEGMENT_BYTES {
            let end = (n.zeroed + PREPARE_STEP as u64).min(SEGMENT_BYTES);
            self.release(end - n.zeroed);
            n.file
                .write_all_at(&ZEROS[..(end - n.zeroed) as usize], n.zeroed)?;
            n.zeroed = end;
        }
        Ok(())
    }

    /// Starts writing back the blocks of a file the writer moved on from, so that its pages are
    /// clean, and can be released, by the time it is `KEEP_CACHED` files old (the kernel
    /// would otherwise leave them dirty for half a minute).
    fn finished(&self, generation: u64, file: File, len: u64) {
        cache::write_back(&file, len);
        self.finished
            .lock()
            .expect("finished segments")
            .push_back(Finished {
                generation,
                file,
                len,
                released: 0,
            });
    }

    /// Releases up to `bytes` of cached pages of the oldest file past the `KEEP_CACHED` newest.
    fn release(&self, bytes: u64) {
        let mut finished = self.finished.lock().expect("finished segments");
        if finished.len() <= self.keep_cached {
            return;
        }
        let Some(oldest) = finished.front_mut() else {
            return;
        };
        let end = (oldest.released + bytes).min(oldest.len);
        // The kernel keeps a page the range ends inside: the file's last one too, unless
        // the range runs to the end of that page.
        let through = if end >= oldest.len {
            end.next_multiple_of(page_size() as u64)
        } else {
            end
        };
        cache::release(&oldest.file, oldest.released, through);
        oldest.released = end;
        if end >= oldest.len {
            tracing::debug!(
                generation = oldest.generation,
                "segment file's pages released"
            );
            finished.pop_front();
        }
    }

    /// The file of `generation`: the prepared one, or a new one.
    fn next_file(&self, generation: u64) -> io::Result<(File, Arc<Mapping>)> {
        match self.next.lock().expect("next segment").take() {
            Some(n) if n.generation == generation => Ok((n.file, n.map)),
            _ => start_file(&self.dir, generation),
        }
    }

    /// After a commit that failed: a reset in it did not happen, so its files stay.
    pub fn abandoned(&self) {
        self.inner.lock().expect("segments").prune_below = None;
    }

    fn next_generation(&self, g: &mut Inner) -> io::Result<()> {
        (g.file, g.map) = self.next_file(g.generation + 1)?;
        g.generation += 1;
        g.len = HEADER;
        Ok(())
    }
}

/// Page-cache advice for finished files. Both are hints: when the kernel cannot take them
/// (another system than Linux, pages still being written), pages stay cached until it
/// reclaims them itself.
mod cache {
    use std::fs::File;

    /// Starts writing back the first `len` bytes of `file`, without waiting.
    #[cfg(target_os = "linux")]
    pub fn write_back(file: &File, len: u64) {
        use std::os::fd::AsRawFd;
        // SAFETY: sync_file_range only reads its integer arguments; the descriptor is open.
        unsafe {
            libc::sync_file_range(
                file.as_raw_fd(),
                0,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            )
        };
    }

    /// Drops the clean cached pages of `file` from `start` to `end`.
    #[cfg(target_os = "linux")]
    pub fn release(file: &File, start: u64, end: u64) {
        use std::os::fd::AsRawFd;
        // SAFETY: posix_fadvise only reads its integer arguments; the descriptor is open.
        unsafe {
            libc::posix_fadvise(
                file.as_raw_fd(),
                start as libc::off_t,
                (end - start) as libc::off_t,
                libc::POSIX_FADV_DONTNEED,
            )
        };
    }

    #[cfg(not(target_os = "linux"))]
    pub fn write_back(_file: &File, _len: u64) {}

    #[cfg(not(target_os = "linux"))]
    pub fn release(_file: &File, _start: u64, _end: u64) {}
}

/// Any process's side: reads runs back, keeping the last few files open.
pub struct Shelf {
    dir: PathBuf,
    open: Mutex<Vec<(u64, Arc<File>)>>,
}

impl Shelf {
    pub fn new(dir: &Path) -> Shelf {
        Shelf {
            dir: dir.to_path_buf(),
            open: Mutex::new(Vec::new()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, generation: u64) -> io::Result<Arc<File>> {
        let mut open = self.open.lock().expect("shelf");
        if let Some(i) = open.iter().position(|(g, _)| *g == generation) {
            let entry = open.remove(i);
            let f = entry.1.clone();
            open.push(entry);
            return Ok(f);
        }
        let f = Arc::new(File::open(self.dir.join(file_name(generation)))?);
        if open.len() >= OPEN_FILES {
            open.remove(0);
        }
        open.push((generation, f.clone()));
        Ok(f)
    }

    /// The records of one run, in order.
    pub fn read(&self, run: &Run) -> io::Result<Vec<Vec<u8>>> {
        let mut records = Vec::with_capacity(run.count as usize);
        self.visit(run, &mut Vec::new(), &mut |r| records.push(r.to_vec()))?;
        Ok(records)
    }

    /// Hands the records of one run to `f` in order, read into `buf`, without copying each out:
    /// a consumer reading the journal through goes through every record once. `f` sees nothing
    /// unless the whole run reads back.
    pub fn visit(&self, run: &Run, buf: &mut Vec<u8>, f: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        buf.resize((run.end - run.start) as usize, 0);
        self.file(run.generation)?.read_exact_at(buf, run.start)?;
        let (records, used) = parse_frames(buf);
        if used != buf.len() || records.len() as u64 != run.count {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "journal segment {} does not hold {} whole records at {}..{}",
                    run.generation, run.count, run.start, run.end
                ),
            ));
        }
        records.into_iter().for_each(f);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Segments in `dir` starting at generation `after + 1`, owned by this test.
    fn fresh(dir: &Path, after: u64) -> Segments {
        Segments::create(dir, after, own(dir).unwrap().unwrap()).unwrap()
    }

    fn recs(names: &[&str]) -> Vec<Vec<u8>> {
        names.iter().map(|n| n.as_bytes().to_vec()).collect()
    }

    fn read_all(dir: &Path, runs: &[Run]) -> Vec<Vec<u8>> {
        let shelf = Shelf::new(dir);
        runs.iter().flat_map(|r| shelf.read(r).unwrap()).collect()
    }

    #[test]
    fn staged_frames_are_found_until_their_position_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let s = fresh(dir.path(), 0);
        assert!(s.stage(&recs(&["a"])).unwrap());
        assert!(
            !s.stage(&recs(&["b", "c"])).unwrap(),
            "the writer was told already"
        );
        let taken = s.take();
        assert_eq!(taken.runs.len(), 1, "adjacent frames make one run");
        assert_eq!(taken.runs[0].count, 3);
        assert_eq!(read_all(dir.path(), &taken.runs), recs(&["a", "b", "c"]));
        assert!(s.stage(&recs(&["d"])).unwrap());
        drop(s);
        // Nothing committed: everything is found.
        let all = found(dir.path(), None).unwrap();
        assert_eq!(read_all(dir.path(), &all.runs), recs(&["a", "b", "c", "d"]));
        assert_eq!(all.newest, 1);
        // Committed through c: only d.
        let rest = found(dir.path(), Some(taken.position)).unwrap();
        assert_eq!(read_all(dir.path(), &rest.runs), recs(&["d"]));
        assert_eq!(rest.position, all.position);
        // Run rows round-trip.
        let run = rest.runs[0];
        assert_eq!(Run::decode(&run.encode()), Some(run));
        assert_eq!(Run::decode(b"short"), None);
    }

    #[test]
    fn a_torn_frame_and_what_follows_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let s = fresh(dir.path(), 4);
        s.stage(&recs(&["whole"])).unwrap();
        s.stage(&recs(&["torn"])).unwrap();
        let end = s.take().position.offset as usize;
        drop(s);
        let path = dir.path().join(file_name(5));
        // The end of the last frame never reached the file.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[end - 2..end].fill(0);
        std::fs::write(&path, &bytes).unwrap();
        let left = found(dir.path(), None).unwrap();
        assert_eq!(read_all(dir.path(), &left.runs), recs(&["whole"]));
        assert_eq!(left.position.generation, 5);
        // A flipped byte fails the checksum.
        bytes[end - 2..end].copy_from_slice(b"rn");
        bytes[end - 1] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(found(dir.path(), None).unwrap().runs[0].count, 1);
        // Whole again: both, and the zeros after them are no torn end.
        bytes[end - 1] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(found(dir.path(), None).unwrap().runs[0].count, 2);
        // A run that no longer reads whole is an error, not a short answer.
        let mut shorter = left.runs[0];
        shorter.end -= 1;
        assert!(Shelf::new(dir.path()).read(&shorter).is_err());
        // A foreign file, or none: nothing.
        std::fs::write(&path, b"not a segment").unwrap();
        assert!(found(dir.path(), None).unwrap().runs.is_empty());
        std::fs::remove_file(&path).unwrap();
        assert!(found(dir.path(), None).unwrap().runs.is_empty());
    }

    #[test]
    fn rotation_leaves_waiting_frames_where_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let s = fresh(dir.path(), 0);
        // Three of these fill a file's mapping; the rest go past it, growing the file, until
        // the writer starts the next one after a commit.
        let big = vec![b'x'; 5 << 20];
        for _ in 0..6 {
            s.stage(std::slice::from_ref(&big)).unwrap();
        }
        s.committed().unwrap();
        s.stage(&recs(&["next"])).unwrap();
        // Larger than a file: past the mapping too.
        let huge = vec![b'h'; 17 << 20];
        s.stage(std::slice::from_ref(&huge)).unwrap();
        let taken = s.take();
        let generations: Vec<u64> = taken.runs.iter().map(|r| r.generation).collect();
        assert_eq!(generations, [1, 1, 1, 1, 1, 1, 2], "no run spans two files");
        let all = read_all(dir.path(), &taken.runs);
        assert_eq!(all.len(), 8);
        assert_eq!(all[6], b"next");
        assert_eq!(all[7], huge);
        assert_eq!(taken.position.generation, 2);
        s.stage(&recs(&["after"])).unwrap();
        drop(s);
        let left = found(dir.path(), Some(taken.position)).unwrap();
        assert_eq!(read_all(dir.path(), &left.runs), recs(&["after"]));
        assert_eq!(left.newest, 2);
    }

    #[test]
    fn pages_are_faulted_in_ahead_of_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let s = fresh(dir.path(), 0);
        let populated = || {
            let g = s.inner.lock().unwrap();
            (g.map.populated.load(Ordering::Relaxed), g.len as usize)
        };
        s.committed().unwrap();
        let (first, _) = populated();
        if first == SEGMENT_BYTES as usize {
            eprintln!("this kernel does not populate ahead (MADV_POPULATE_WRITE)");
            return;
        }
        // Frames of odd lengths leave the write position off any page boundary; every later
        // commit must still move the populated end along with it.
        let record = vec![b'p'; 1001];
        for round in 1..=3 {
            for _ in 0..700 {
                s.stage(std::slice::from_ref(&record)).unwrap();
            }
            s.committed().unwrap();
            let (end, at) = populated();
            assert_eq!(end % page_size(), 0, "round {round}");
            assert!(
                end >= at + POPULATE_AHEAD as usize,
                "round {round}: {end} < {at} + ahead"
            );
            assert!(
                end < SEGMENT_BYTES as usize,
                "round {round}: populating gave up"
            );
        }
    }

    #[test]
    fn the_next_file_is_prepared_while_one_fills_and_then_switched_in() {
        let dir = tempfile::tempdir().unwrap();
        let s = fresh(dir.path(), 0);
        let next_zeroed = || {
            s.next
                .lock()
                .unwrap()
                .as_ref()
                .map(|n| (n.generation, n.zeroed))
        };
        let mb = vec![b'm'; 1 << 20];
        for _ in 0..3 {
            s.stage(std::slice::from_ref(&mb)).unwrap();
        }
        s.committed().unwrap();
        assert_eq!(next_zeroed(), None, "not before PREPARE_FROM");
        s.stage(std::slice::from_ref(&mb)).unwrap();
        s.committed().unwrap();
        assert_eq!(next_zeroed(), Some((2, HEADER + PREPARE_STEP as u64)));
        s.committed().unwrap();
        assert_eq!(next_zeroed(), Some((2, HEADER + 2 * PREPARE_STEP as u64)));
        let prepared = std::fs::read(dir.path().join(file_name(2))).unwrap();
        assert_eq!(prepared.len() as u64, SEGMENT_BYTES);
        assert_eq!(header_generation(&prepared), Some(2));
        assert!(prepared[HEADER as usize..].iter().all(|b| *b == 0));
        // A start now finds the prepared file empty, and the frames where they were.
        let left = found(dir.path(), None).unwrap();
        assert_eq!(left.empty, [2]);
        assert_eq!(left.runs.iter().map(|r| r.count).sum::<u64>(), 4);
        for _ in 0..12 {
            s.stage(std::slice::from_ref(&mb)).unwrap();
            s.committed().unwrap();
        }
        assert_eq!(
            s.inner.lock().unwrap().generation,
            2,
            "switched to the prepared file"
        );
        let first = std::fs::metadata(dir.path().join(file_name(1)))
            .unwrap()
            .len();
        assert_eq!(
            first,
            HEADER + 15 * (8 + 4 + (1 << 20)),
            "cut after its last frame"
        );
        s.stage(&recs(&["in two"])).unwrap();
        let taken = s.take();
        let all = read_all(dir.path(), &taken.runs);
        assert_eq!(all.len(), 17);
        assert_eq!(all[16], b"in two");
        // A reset takes the prepared file too, if there is one.
        for _ in 0..5 {
            s.stage(std::slice::from_ref(&mb)).unwrap();
        }
        s.committed().unwrap();
        assert_eq!(next_zeroed().map(|n| n.0), Some(3));
        let position = s.discard().unwrap();
        assert_eq!(position.generation, 3);
        assert_eq!(next_zeroed(), None);
    }

    /// Pages of `path` in the page cache, out of how many it has.
    fn resident(path: &Path) -> (usize, usize) {
        use std::os::fd::AsRawFd;
        let f = File::open(path).unwrap();
        let len = f.metadata().unwrap().len() as usize;
        let page = page_size();
        let pages = len.div_ceil(page);
        // SAFETY: a private read-only mapping of the whole file, unmapped below; mincore only
        // writes one byte per page into `vec`, which has a byte per page.
        unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            );
            assert_ne!(p, libc::MAP_FAILED);
            let mut vec = vec![0u8; pages];
            assert_eq!(libc::mincore(p, len, vec.as_mut_ptr()), 0);
            libc::munmap(p, len);
            (vec.iter().filter(|b| **b & 1 == 1).count(), pages)
        }
    }

    #[test]
    fn pages_of_older_files_are_released_as_the_next_file_is_prepared() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = fresh(dir.path(), 0);
        s.keep_cached = 1;
        let mb = vec![b'r'; 1 << 20];
        let finished = |s: &Segments| {
            s.finished
                .lock()
                .unwrap()
                .iter()
                .map(|f| (f.generation, f.released))
                .collect::<Vec<_>>()
        };
        let fill = |s: &Segments| {
            let generation = s.inner.lock().unwrap().generation;
            while s.inner.lock().unwrap().generation == generation {
                s.stage(std::slice::from_ref(&mb)).unwrap();
                s.committed().unwrap();
            }
            // What write-back started at rotation finishes, so the pages can go.
            File::open(dir.path().join(file_name(generation)))
                .unwrap()
                .sync_all()
                .unwrap();
        };
        fill(&s);
        fill(&s);
        assert_eq!(finished(&s), [(1, 0), (2, 0)], "nothing released yet");
        let first = dir.path().join(file_name(1));
        let (cached_before, pages) = resident(&first);
        // Each step of preparing file 4 releases as much of file 1, the oldest past the one
        // kept.
        for _ in 0..4 {
            s.stage(std::slice::from_ref(&mb)).unwrap();
        }
        s.committed().unwrap();
        assert_eq!(finished(&s), [(1, PREPARE_STEP as u64), (2, 0)]);
        for _ in 0..12 {
            s.committed().unwrap();
        }
        assert_eq!(finished(&s), [(2, 0)], "file 1 released whole, then let go");
        // The kernel drops clean pages on that advice (tmpfs keeps them: there they are the
        // file).
        let probe = dir.path().join("probe");
        std::fs::write(&probe, vec![1u8; 1 << 16]).unwrap();
        let probe_file = File::open(&probe).unwrap();
        probe_file.sync_all().unwrap();
        cache::release(&probe_file, 0, 1 << 16);
        if resident(&probe).0 == 0 {
            assert!(
                cached_before > 0,
                "{cached_before} of {pages} pages were cached"
            );
            // A page the kernel has just put on another CPU's list of recent pages can stay
            // (the file's last, written by cutting the file, has been seen to).
            let left = resident(&first).0;
            assert!(left <= pages / 100, "{left} of {pages} pages still cached");
            assert!(resident(&dir.path().join(file_name(2))).0 > 0, "kept");
        }
        // The records are all still there.
        let left = found(dir.path(), None).unwrap();
        assert_eq!(left.runs.iter().map(|r| r.count).sum::<u64>(), 15 + 15 + 4);
    }

    #[test]
    fn runs_stay_small_enough_to_read_one_record_back() {
        let dir = tempfile::tempdir().unwrap();
        let s = fresh(dir.path(), 0);
        let record = vec![b'r'; 1000];
        for _ in 0..200 {
            s.stage(std::slice::from_ref(&record)).unwrap();
        }
        let runs = s.take().runs;
        assert_eq!(runs.len(), 4, "{runs:?}");
        assert!(runs.iter().all(|r| r.end - r.start <= RUN_BYTES + 1008));
        assert_eq!(runs.iter().map(|r| r.count).sum::<u64>(), 200);
        assert_eq!(read_all(dir.path(), &runs).len(), 200);
    }

    #[test]
    fn one_owner_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let first = own(dir.path()).unwrap().expect("a free lock");
        assert!(own(dir.path()).unwrap().is_none(), "taken while held");
        drop(first);
        assert!(own(dir.path()).unwrap().is_some());
    }

    #[test]
    fn put_back_discard_and_prune() {
        let dir = tempfile::tempdir().unwrap();
        let s = fresh(dir.path(), 0);
        s.stage(&recs(&["a"])).unwrap();
        let taken = s.take();
        assert!(!s.pending());
        s.stage(&recs(&["b"])).unwrap();
        s.put_back(taken);
        assert!(s.pending());
        assert_eq!(read_all(dir.path(), &s.take().runs), recs(&["a", "b"]));
        s.stage(&recs(&["c"])).unwrap();
        // A reset that did not commit deletes nothing.
        s.discard().unwrap();
        s.abandoned();
        s.committed().unwrap();
        assert_eq!(generations(dir.path()).unwrap(), [1, 2]);
        let end = s.discard().unwrap();
        assert!(!s.pending());
        assert!(s.take().runs.is_empty());
        assert_eq!(s.take().position, end);
        s.committed().unwrap();
        assert_eq!(generations(dir.path()).unwrap(), [3]);
    }

    #[test]
    fn a_former_staging_file_is_read_past_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.stage");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&7u64.to_le_bytes());
        bytes.extend_from_slice(&frame(&recs(&["old"])));
        let after_old = bytes.len() as u64;
        bytes.extend_from_slice(&frame(&recs(&["new"])));
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(legacy_leftover(&path, None).unwrap(), recs(&["old", "new"]));
        let at = Position {
            generation: 7,
            offset: after_old,
        };
        assert_eq!(legacy_leftover(&path, Some(at)).unwrap(), recs(&["new"]));
        let missing = dir.path().join("none.stage");
        assert!(legacy_leftover(&missing, None).unwrap().is_empty());
    }
}

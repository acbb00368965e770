//! Object bodies, behind an interface so that an S3-compatible backend can replace the local
//! files later.
//!
//! A body is written as a *temporary* blob while the request streams in, and becomes visible
//! only when it is *published*, which the S3 service does inside the write transaction that
//! commits the object's metadata. So a failed or truncated upload never leaves a visible body,
//! and a crash leaves at most temporaries, which the next start removes.
//!
//! The embedded implementation keeps plain files under `<data-dir>/objects/`:
//! `tmp/<id>` while being written, `<first two hex digits of id>/<id>` once published (the
//! fan-out keeps directories small).

use bytes::{Bytes, BytesMut};
use std::fs::{self, File};
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A blob's name: 32 lowercase hex digits, unique for every body ever written.
pub type BlobId = String;

/// A stream of body bytes, as a response body consumes it.
pub type ByteStream = Pin<Box<dyn futures_util::Stream<Item = io::Result<Bytes>> + Send + Sync>>;

/// Where object bodies live.
pub trait BlobStore: Send + Sync + 'static {
    /// Starts a new temporary blob. Writes are blocking calls: run them off the async threads.
    fn create(&self) -> io::Result<Box<dyn BlobWriter>>;
    /// Makes a finished temporary blob visible under its id. Cheap (a rename), so it can run
    /// inside a store transaction.
    fn publish(&self, id: &str) -> io::Result<()>;
    /// Opens a published blob. The handle stays readable even if the blob is removed afterwards,
    /// so a reader that opened a body inside a transaction is never cut off by a later delete.
    fn open(&self, id: &str) -> io::Result<Box<dyn OpenBlob>>;
    /// Removes a blob, temporary or published; a missing blob is not an error.
    fn remove(&self, id: &str) -> io::Result<()>;
    /// Removes every blob (the reset of a test server).
    fn wipe(&self) -> io::Result<()>;
}

/// A temporary blob being written.
pub trait BlobWriter: Send {
    fn id(&self) -> &str;
    fn write_all(&mut self, data: &[u8]) -> io::Result<()>;
    /// Flushes and closes the blob; it stays temporary until published.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// A published blob, opened for reading.
pub trait OpenBlob: Send + Sync {
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The bytes `offset .. offset + length` as a stream. Needs a tokio runtime when polled.
    fn stream(self: Box<Self>, offset: u64, length: u64) -> ByteStream;
    /// Blocking read of the bytes `offset .. offset + length` into `out` (for copies).
    fn copy_to(self: Box<Self>, offset: u64, length: u64, out: &mut dyn Write) -> io::Result<u64>;
}

/// Bodies as files under one directory.
pub struct FsBlobs {
    root: PathBuf,
    /// fsync each body before it can be published (`--durability power`).
    sync: bool,
}

fn valid_id(id: &str) -> io::Result<()> {
    if id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a blob id: {id:?}"),
        ))
    }
}

impl FsBlobs {
    /// Opens (creating) `root`. Temporaries left by a previous process belong to uploads that
    /// never completed, so they are removed.
    pub fn open(root: &Path, sync: bool) -> io::Result<FsBlobs> {
        let tmp = root.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        Ok(FsBlobs {
            root: root.to_path_buf(),
            sync,
        })
    }

    fn temp_path(&self, id: &str) -> PathBuf {
        self.root.join("tmp").join(id)
    }

    fn published_path(&self, id: &str) -> PathBuf {
        self.root.join(&id[..2]).join(id)
    }
}

impl BlobStore for FsBlobs {
    fn create(&self) -> io::Result<Box<dyn BlobWriter>> {
        let id = crate::ids::uuid_v4().simple().to_string();
        let path = self.temp_path(&id);
        let file = File::create(&path)?;
        Ok(Box::new(FsWriter {
            id,
            path,
            file: Some(file),
            sync: self.sync,
        }))
    }

    fn publish(&self, id: &str) -> io::Result<()> {
        valid_id(id)?;
        let to = self.published_path(id);
        match fs::rename(self.temp_path(id), &to) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // The fan-out directory is made on first use.
                fs::create_dir_all(to.parent().expect("fan-out directory"))?;
                fs::rename(self.temp_path(id), &to)
            }
            other => other,
        }
    }

    fn open(&self, id: &str) -> io::Result<Box<dyn OpenBlob>> {
        valid_id(id)?;
        let file = File::open(self.published_path(id))?;
        let len = file.metadata()?.len();
        Ok(Box::new(FsOpen { file, len }))
    }

    fn remove(&self, id: &str) -> io::Result<()> {
        valid_id(id)?;
        for path in [self.published_path(id), self.temp_path(id)] {
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    fn wipe(&self) -> io::Result<()> {
        for entry in fs::read_dir(&self.root)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                fs::remove_dir_all(entry.path())?;
            } else {
                fs::remove_file(entry.path())?;
            }
        }
        fs::create_dir_all(self.root.join("tmp"))
    }
}

struct FsWriter {
    id: BlobId,
    path: PathBuf,
    /// None once finished.
    file: Option<File>,
    sync: bool,
}

impl BlobWriter for FsWriter {
    fn id(&self) -> &str {
        &self.id
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(data),
            None => Err(io::Error::other("blob already finished")),
        }
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        // By default closing is enough: a body then survives a crash of the process (the page
        // cache survives kill -9), as the store's commits do; power durability fsyncs it too.
        let file = self.file.take().expect("finish runs once");
        if self.sync {
            if let Err(e) = file.sync_all() {
                let _ = fs::remove_file(&self.path);
                return Err(e);
            }
        }
        Ok(())
    }
}

impl Drop for FsWriter {
    /// A writer dropped before `finish` is an abandoned upload: nothing of it may remain.
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

struct FsOpen {
    file: File,
    len: u64,
}

/// Largest read per blocking call while streaming a body out.
const READ_CHUNK: usize = 256 * 1024;

impl OpenBlob for FsOpen {
    fn len(&self) -> u64 {
        self.len
    }

    fn stream(self: Box<Self>, offset: u64, length: u64) -> ByteStream {
        Box::pin(FileStream {
            state: StreamState::Idle(Some(self.file)),
            offset,
            remaining: length,
            seeked: false,
        })
    }

    fn copy_to(
        mut self: Box<Self>,
        offset: u64,
        length: u64,
        out: &mut dyn Write,
    ) -> io::Result<u64> {
        self.file.seek(SeekFrom::Start(offset))?;
        let copied = io::copy(&mut (&mut self.file).take(length), out)?;
        if copied != length {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "blob shorter than recorded",
            ));
        }
        Ok(copied)
    }
}

type ReadResult = (File, io::Result<Bytes>);

enum StreamState {
    Idle(Option<File>),
    Reading(tokio::task::JoinHandle<ReadResult>),
    Done,
}

/// Reads a file region on the blocking pool, one bounded chunk at a time, so a large body never
/// sits in memory and a slow client holds back further reads.
struct FileStream {
    state: StreamState,
    offset: u64,
    remaining: u64,
    seeked: bool,
}

impl futures_util::Stream for FileStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                StreamState::Done => return Poll::Ready(None),
                StreamState::Idle(file) => {
                    if this.remaining == 0 {
                        this.state = StreamState::Done;
                        return Poll::Ready(None);
                    }
                    let mut file = file.take().expect("idle stream has its file");
                    let want = this.remaining.min(READ_CHUNK as u64) as usize;
                    let seek_to = (!this.seeked).then_some(this.offset);
                    this.seeked = true;
                    this.state = StreamState::Reading(tokio::task::spawn_blocking(move || {
                        let read = (|| {
                            if let Some(at) = seek_to {
                                file.seek(SeekFrom::Start(at))?;
                            }
                            let mut buf = BytesMut::zeroed(want);
                            let mut filled = 0;
                            while filled < want {
                                let n = file.read(&mut buf[filled..])?;
                                if n == 0 {
                                    return Err(io::Error::new(
                                        io::ErrorKind::UnexpectedEof,
                                        "blob shorter than recorded",
                                    ));
                                }
                                filled += n;
                            }
                            Ok(buf.freeze())
                        })();
                        (file, read)
                    }));
                }
                StreamState::Reading(handle) => {
                    let (file, read) = match Pin::new(handle).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(done)) => done,
                        Poll::Ready(Err(e)) => {
                            this.state = StreamState::Done;
                            return Poll::Ready(Some(Err(io::Error::other(e))));
                        }
                    };
                    match read {
                        Ok(bytes) => {
                            this.remaining -= bytes.len() as u64;
                            this.state = StreamState::Idle(Some(file));
                            return Poll::Ready(Some(Ok(bytes)));
                        }
                        Err(e) => {
                            this.state = StreamState::Done;
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn write_publish_read_remove() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FsBlobs::open(dir.path(), false).unwrap();
        let mut w = blobs.create().unwrap();
        let id = w.id().to_string();
        w.write_all(b"hello ").unwrap();
        w.write_all(b"world").unwrap();
        w.finish().unwrap();
        // Not visible before publishing.
        assert!(blobs.open(&id).is_err());
        blobs.publish(&id).unwrap();
        let open = blobs.open(&id).unwrap();
        assert_eq!(open.len(), 11);
        let parts: Vec<Bytes> = open
            .stream(6, 5)
            .map(|b| b.unwrap())
            .collect::<Vec<_>>()
            .await;
        assert_eq!(parts.concat(), b"world");
        // An open handle survives removal.
        let open = blobs.open(&id).unwrap();
        blobs.remove(&id).unwrap();
        let mut out = Vec::new();
        open.copy_to(0, 5, &mut out).unwrap();
        assert_eq!(out, b"hello");
        assert!(blobs.open(&id).is_err());
        blobs.remove(&id).unwrap();
    }

    #[test]
    fn abandoned_writer_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FsBlobs::open(dir.path(), false).unwrap();
        let mut w = blobs.create().unwrap();
        w.write_all(b"partial").unwrap();
        drop(w);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        // Leftover temporaries from a crash are swept at the next open.
        fs::write(dir.path().join("tmp").join("x"), b"stale").unwrap();
        let _ = FsBlobs::open(dir.path(), false).unwrap();
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(blobs.publish("../etc").is_err());
    }
}

//! `http_body::Body` adapter that decodes an aws-chunked request body.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};

use super::chunked::{ChunkError, ChunkedDecoder, Trailers};

/// Error of [`AwsChunkedBody`]: either the framing/signatures were bad, or
/// the underlying transport body failed.
#[derive(Debug)]
pub enum AwsChunkedError<E> {
    Chunk(ChunkError),
    Body(E),
}

impl<E: std::fmt::Display> std::fmt::Display for AwsChunkedError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AwsChunkedError::Chunk(e) => e.fmt(f),
            AwsChunkedError::Body(e) => write!(f, "request body error: {e}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for AwsChunkedError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AwsChunkedError::Chunk(e) => Some(e),
            AwsChunkedError::Body(e) => Some(e),
        }
    }
}

enum Phase {
    // Boxed: the decoder (hash state, buffers) dwarfs the other variants.
    Streaming(Box<ChunkedDecoder>),
    /// Decoder finished with trailers still to be yielded.
    Trailers(HeaderMap),
    Finished,
}

/// Yields the decoded data frames of an aws-chunked body, then one trailers
/// frame (lowercase names) if the stream carried any. Trailers of the outer
/// HTTP/1.1 chunked encoding are ignored: the checksum trailers live inside
/// the aws-chunked stream. After an error the body ends.
///
/// `B: Unpin` (true of hyper's `Incoming`) keeps this free of pin projection;
/// wrap other bodies in `Box::pin`.
pub struct AwsChunkedBody<B> {
    inner: B,
    phase: Phase,
    ready: VecDeque<Bytes>,
    declared: Option<u64>,
    emitted: u64,
}

impl<B> AwsChunkedBody<B> {
    /// `decoder` is configured for the request (mode, declared length,
    /// trailer expectation); `declared` feeds `size_hint`.
    pub fn new(inner: B, decoder: ChunkedDecoder, declared: Option<u64>) -> Self {
        AwsChunkedBody {
            inner,
            phase: Phase::Streaming(Box::new(decoder)),
            ready: VecDeque::new(),
            declared,
            emitted: 0,
        }
    }
}

fn trailer_map(trailers: Trailers) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in trailers.0 {
        // The decoder only accepts token names and valid header values.
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            map.append(n, v);
        }
    }
    map
}

impl<B> Body for AwsChunkedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = AwsChunkedError<B::Error>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        loop {
            if let Some(data) = this.ready.pop_front() {
                this.emitted += data.len() as u64;
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            match std::mem::replace(&mut this.phase, Phase::Finished) {
                Phase::Finished => return Poll::Ready(None),
                Phase::Trailers(map) => return Poll::Ready(Some(Ok(Frame::trailers(map)))),
                Phase::Streaming(mut decoder) => {
                    let polled = Pin::new(&mut this.inner).poll_frame(cx);
                    match polled {
                        Poll::Pending => {
                            this.phase = Phase::Streaming(decoder);
                            return Poll::Pending;
                        }
                        Poll::Ready(Some(Err(e))) => {
                            return Poll::Ready(Some(Err(AwsChunkedError::Body(e))))
                        }
                        Poll::Ready(Some(Ok(frame))) => {
                            if let Ok(data) = frame.into_data() {
                                let ready = &mut this.ready;
                                if let Err(e) =
                                    decoder.feed_bytes(&data, &mut |b| ready.push_back(b))
                                {
                                    // Data decoded before the error is dropped
                                    // with it: none of this body is trustworthy.
                                    this.ready.clear();
                                    return Poll::Ready(Some(Err(AwsChunkedError::Chunk(e))));
                                }
                            }
                            this.phase = Phase::Streaming(decoder);
                        }
                        Poll::Ready(None) => match decoder.finish() {
                            Ok(trailers) if trailers.0.is_empty() => {}
                            Ok(trailers) => this.phase = Phase::Trailers(trailer_map(trailers)),
                            Err(e) => return Poll::Ready(Some(Err(AwsChunkedError::Chunk(e)))),
                        },
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.phase, Phase::Finished) && self.ready.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.phase, self.declared) {
            (Phase::Streaming(_), Some(n)) => SizeHint::with_exact(n.saturating_sub(self.emitted)),
            (Phase::Streaming(_), None) => SizeHint::default(),
            _ => {
                let queued: u64 = self.ready.iter().map(|b| b.len() as u64).sum();
                SizeHint::with_exact(queued)
            }
        }
    }
}

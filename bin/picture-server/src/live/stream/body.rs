//! The response body of a stream: the frames its task writes.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::sync::mpsc;

/// The frames of one stream, as a body; it ends when the task ends.
pub(super) struct BodyStream {
    frames: mpsc::Receiver<Bytes>,
}

impl BodyStream {
    pub(super) fn new(frames: mpsc::Receiver<Bytes>) -> Self {
        Self { frames }
    }
}

impl futures_core::Stream for BodyStream {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.frames.poll_recv(cx).map(|frame| frame.map(Ok))
    }
}

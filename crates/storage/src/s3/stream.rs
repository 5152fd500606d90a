//! An S3 object's bytes as a stream, for serving originals without holding them in memory.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use picture_domain::ports::StoreError;
use s3::request::DataStream;

/// The bytes of an object as they arrive from the bucket; a failure midway is a
/// [`StoreError::Unavailable`] item (the response is then cut short). The bucket's request
/// timeout bounds the whole transfer.
pub struct ObjectStream(DataStream);

impl ObjectStream {
    pub(super) fn new(stream: DataStream) -> Self {
        Self(stream)
    }
}

impl Stream for ObjectStream {
    type Item = Result<Bytes, StoreError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|chunk| chunk.map_err(super::unavailable)))
    }
}

//! The domain's `OutputFetcher` port, implemented by the [`Ingestor`].

use async_trait::async_trait;
use picture_domain::ports::{FetchError, FetchedImage, ImageSource, OutputFetcher};

use crate::ingest::Ingestor;

#[async_trait]
impl OutputFetcher for Ingestor {
    async fn fetch(&self, source: &ImageSource) -> Result<FetchedImage, FetchError> {
        let image = Ingestor::fetch(self, source)
            .await
            .map_err(|e| FetchError(e.to_string()))?;
        Ok(FetchedImage {
            extension: image.format.extension(),
            content_type: image.format.content_type(),
            width: image.width,
            height: image.height,
            bytes: image.bytes,
        })
    }
}

//! Uploads: a user's own picture stored like a generated image (same key layout, same row, no
//! generation, no model) in their gallery.

use std::sync::Arc;

use crate::error::{ErrorChain, RepositoryError};
use crate::ids::{ImageId, UserId};
use crate::image::{Image, NewImage};
use crate::ports::{
    Clock, ImageInspector, ImageRenderer, ImageRepository, ObjectKey, ObjectStore, StoreError,
    UploadRepository,
};
use crate::services::placeholders::placeholder_of;
use crate::services::stored_objects::delete_logged;
use crate::upload::InspectError;

#[cfg(test)]
mod tests;

/// The most pixels an upload may have (width × height from its header): above this, decoding it
/// (for a thumbnail, a variant, a remix) would take too much memory — a decompression bomb.
pub const DEFAULT_MAX_UPLOAD_PIXELS: u64 = 40_000_000;

/// The longest file name kept (in characters); longer names are cut.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// The ports an upload uses.
#[derive(Clone)]
pub struct UploadPorts {
    /// Recognises the bytes and strips their metadata.
    pub inspector: Arc<dyn ImageInspector>,
    /// Where the bytes go.
    pub store: Arc<dyn ObjectStore>,
    /// Where the row goes.
    pub uploads: Arc<dyn UploadRepository>,
    /// To take an upload back (its row and its object) when a request with several files fails.
    pub images: Arc<dyn ImageRepository>,
    /// Computes the image's blurhash.
    pub renderer: Arc<dyn ImageRenderer>,
    /// The time of the row.
    pub clock: Arc<dyn Clock>,
}

/// How large an upload may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Bytes per file (`UPLOAD_MAX_BYTES`); the HTTP edge stops reading past it.
    pub max_bytes: u64,
    /// Pixels per image ([`DEFAULT_MAX_UPLOAD_PIXELS`]).
    pub max_pixels: u64,
}

/// Why an upload was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The bytes are not an acceptable image.
    #[error(transparent)]
    Inspect(#[from] InspectError),
    /// More bytes than [`UploadLimits::max_bytes`] (or than the store accepts).
    #[error("the file is larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit.
        max_bytes: u64,
    },
    /// More pixels than [`UploadLimits::max_pixels`].
    #[error("the image has {width}×{height} pixels, more than {max_pixels}")]
    TooManyPixels {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// The limit.
        max_pixels: u64,
    },
    /// The store failed; nothing was recorded.
    #[error("storing the upload failed")]
    Store(#[source] StoreError),
    /// Recording the row failed; the stored object was deleted again.
    #[error("recording the upload failed")]
    Repository(#[from] RepositoryError),
}

/// Stores users' own pictures in their gallery.
#[derive(Clone)]
pub struct UploadService {
    ports: UploadPorts,
    limits: UploadLimits,
}

/// A file name fit to show and store: the last path segment of what the client sent, without
/// control characters, trimmed, at most [`MAX_FILE_NAME_CHARS`] characters; `upload.{ext}` when
/// nothing is left.
pub fn clean_file_name(raw: Option<&str>, extension: &str) -> String {
    let last = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    if cleaned.is_empty() {
        format!("upload.{extension}")
    } else {
        cleaned
    }
}

impl UploadService {
    /// A service over `ports` with `limits`.
    pub fn new(ports: UploadPorts, limits: UploadLimits) -> Self {
        Self { ports, limits }
    }

    /// The limits it enforces.
    pub fn limits(&self) -> UploadLimits {
        self.limits
    }

    /// Inspects `bytes` (named `file_name` by the client), stores them under the image key of
    /// `user` and records the image in their gallery: `prompt` and `filename` are the cleaned
    /// file name, `format`, `width`, `height` and `fileSize` come from the stored bytes, and
    /// there is no generation and no model.
    ///
    /// Nothing is stored when the bytes are refused. The object is stored before the row (as
    /// the finaliser does, so the orphan sweep's invariant holds); if the row cannot be
    /// recorded, the object is deleted again.
    ///
    /// # Errors
    /// [`UploadError`]: the file's fault (`Inspect`, `TooLarge`, `TooManyPixels`) or a
    /// dependency's (`Store`, `Repository`).
    pub async fn upload(
        &self,
        user: &UserId,
        file_name: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<Image, UploadError> {
        let max_bytes = self.limits.max_bytes;
        if bytes.len() as u64 > max_bytes {
            return Err(UploadError::TooLarge { max_bytes });
        }
        let inspected = self.ports.inspector.inspect(bytes)?;
        if inspected.pixels() > self.limits.max_pixels {
            return Err(UploadError::TooManyPixels {
                width: inspected.width,
                height: inspected.height,
                max_pixels: self.limits.max_pixels,
            });
        }
        let id = ImageId::new_random();
        let key = ObjectKey::for_image(user, id, inspected.extension);
        let name = clean_file_name(file_name, inspected.extension);
        let size = inspected.bytes.len() as u64;
        let blurhash = placeholder_of(&*self.ports.renderer, &inspected.bytes).await;
        let record = NewImage {
            id,
            user_id: user.clone(),
            generation_id: None,
            prompt: name.clone(),
            negative_prompt: None,
            model: None,
            style: None,
            public_url: Some(self.ports.store.public_url(&key)),
            storage_path: key.as_str().to_owned(),
            filename: name,
            format: Some(inspected.extension.to_owned()),
            width: Some(inspected.width),
            height: Some(inspected.height),
            file_size: Some(size),
            blurhash,
            created_at: self.ports.clock.now(),
        };
        self.ports
            .store
            .put(&key, inspected.bytes, inspected.content_type)
            .await
            .map_err(|error| match error {
                StoreError::TooLarge => UploadError::TooLarge { max_bytes },
                other => UploadError::Store(other),
            })?;
        match self.ports.uploads.insert(&record).await {
            Ok(image) => {
                metrics::counter!("picture_uploads_total").increment(1);
                metrics::counter!("picture_upload_bytes_total").increment(size);
                tracing::info!(image_id = %id, bytes = size, "upload stored");
                Ok(image)
            }
            Err(error) => {
                self.delete_object(&key).await;
                Err(error.into())
            }
        }
    }

    /// Takes back uploads of `user` made by a request that failed later (its row, then its
    /// object), so a refused request leaves nothing behind. Failures are logged; an object
    /// left without its row is removed by the orphan sweep.
    pub async fn take_back(&self, user: &UserId, images: &[Image]) {
        for image in images {
            let id = image.record.id;
            match self.ports.images.delete_for_user(user, id).await {
                Ok(_) => {
                    let key = ObjectKey::from_stored(image.record.storage_path.clone());
                    self.delete_object(&key).await;
                }
                Err(error) => {
                    tracing::warn!(image_id = %id, error = %ErrorChain(&error), "upload not taken back");
                }
            }
        }
    }

    async fn delete_object(&self, key: &ObjectKey) {
        delete_logged(&*self.ports.store, key, "uploaded object").await;
    }
}

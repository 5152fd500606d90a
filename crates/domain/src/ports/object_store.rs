//! Object storage for image bytes (local directory by default, S3 in production).

use async_trait::async_trait;

use crate::ids::{ImageId, UserId};

/// The key of a stored object: `users/{userId}/images/{imageId}.{ext}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// The key of an image of a user; `extension` is `png`, `jpeg` or `webp`.
    pub fn for_image(user: &UserId, image: ImageId, extension: &str) -> Self {
        Self(format!("users/{user}/images/{image}.{extension}"))
    }

    /// A key as it was stored (an image row's `storage_path`). Stores check keys before use.
    pub fn from_stored(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a store can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or refused the operation (credentials, quota, I/O).
    #[error("object store unavailable: {0}")]
    Unavailable(String),
    /// The bytes are larger than the store accepts.
    #[error("object too large")]
    TooLarge,
}

/// Stores image bytes.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Stores `bytes` under `key` with `content_type`, replacing any previous object there.
    /// When it returns `Ok`, the object is durable and readable at [`public_url`](Self::public_url).
    ///
    /// # Errors
    /// [`StoreError::TooLarge`] past the store's size limit; [`StoreError::Unavailable`] otherwise.
    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError>;

    /// Deletes the object under `key`. Idempotent: deleting a missing object succeeds.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached.
    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError>;

    /// The absolute URL clients use to read the object. Pure: no I/O.
    fn public_url(&self, key: &ObjectKey) -> String;
}

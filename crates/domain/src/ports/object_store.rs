//! Object storage for image bytes (local directory by default, S3 in production).

use async_trait::async_trait;

use crate::ids::{ImageId, UserId};

mod user_segment;

pub use user_segment::{HASHED_SEGMENT_PREFIX, MAX_PLAIN_SEGMENT_LEN, user_segment};

/// The key of a stored object: `users/{userSegment}/images/{imageId}.{ext}`, where the user
/// segment is the subject itself when it is plain and a hash otherwise ([`user_segment`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// The key of an image of a user; `extension` is `png`, `jpeg` or `webp`.
    ///
    /// Safe for any user: the key is made only of `[A-Za-z0-9._~-]` segments that are neither
    /// empty, `.` nor `..`, at most 65 bytes each, so no store refuses it (see [`user_segment`]).
    /// Plain subjects keep the keys Picture always wrote (`users/alice/images/{id}.png`).
    pub fn for_image(user: &UserId, image: ImageId, extension: &str) -> Self {
        let user = user_segment(user);
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

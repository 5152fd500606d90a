//! Object storage for image bytes (local directory by default, S3 in production).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::{ImageId, UserId};

mod user_segment;

pub use user_segment::{HASHED_SEGMENT_PREFIX, MAX_PLAIN_SEGMENT_LEN, user_segment};

/// The prefix every generated image's key starts with (see [`ObjectKey::for_image`]).
pub const IMAGE_KEY_PREFIX: &str = "users/";

/// The most objects one [`ObjectStore::list`] call returns (S3's own limit).
pub const MAX_LIST_PAGE: u32 = 1000;

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

    /// Whether the key has the layout of [`for_image`](Self::for_image):
    /// `users/{one segment}/images/{one segment}`. Other keys under `users/` (uploads,
    /// thumbnails, variants a later version may store) do not.
    pub fn is_image(&self) -> bool {
        let mut segments = self.0.split('/');
        matches!(
            (segments.next(), segments.next(), segments.next(), segments.next(), segments.next()),
            (Some("users"), Some(user), Some("images"), Some(file), None)
                if !user.is_empty() && !file.is_empty()
        )
    }
}

/// One object as a listing reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    /// Its key.
    pub key: ObjectKey,
    /// When it was last written (stores keep it to the second or better).
    pub last_modified: DateTime<Utc>,
}

/// One page of a listing, in ascending byte order of the keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectPage {
    /// The objects of this page.
    pub objects: Vec<ListedObject>,
    /// Where the listing goes on: `Some(key)` when more objects may follow, to be passed as the
    /// next call's `start_after` (the last key the store looked at, which may be one it left
    /// out); `None` at the end.
    pub next: Option<ObjectKey>,
}

/// An object read back whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// The `Cache-Control` it was stored with by
    /// [`put_with_cache_control`](ObjectStore::put_with_cache_control), when the store keeps one.
    pub cache_control: Option<String>,
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

    /// Stores `bytes` under `key` as [`put`](Self::put) does, and serves the object with
    /// `cache_control` as its `Cache-Control` header (when the store serves headers at all: the
    /// default implementation, for stores that cannot keep one, is [`put`](Self::put)).
    ///
    /// # Errors
    /// As [`put`](Self::put).
    async fn put_with_cache_control(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &str,
        cache_control: &str,
    ) -> Result<(), StoreError> {
        let _ = cache_control;
        self.put(key, bytes, content_type).await
    }

    /// The object under `key`, read whole; `Ok(None)` when there is none, and for a key this
    /// store refuses (see [`put`](Self::put)) or that names a folder rather than an object.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached or the object cannot be
    /// read.
    async fn get(&self, key: &ObjectKey) -> Result<Option<StoredObject>, StoreError>;

    /// Deletes the object under `key`. Idempotent: deleting a missing object succeeds.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached.
    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError>;

    /// One page of the objects whose keys start with `prefix` and sort strictly after
    /// `start_after` (byte order; from the first when `None`), in ascending byte order of their
    /// keys: at most `limit` objects, and never more than [`MAX_LIST_PAGE`] (`0` is taken as 1).
    /// [`ObjectPage::next`] MUST be `Some` when more such objects existed at the time of the
    /// call, so that listing page after page, each starting after the previous page's `next`,
    /// visits every object that existed throughout.
    ///
    /// Only whole objects are listed: an object is listed once [`put`](Self::put) could have
    /// returned `Ok` for it, never while it is half-written (a local store's temporary files
    /// are not objects). Objects under keys this store refuses (see [`put`](Self::put)) are left
    /// out, as [`delete`](Self::delete) could not remove them.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached or an object's time cannot
    /// be read.
    async fn list(
        &self,
        prefix: &str,
        start_after: Option<ObjectKey>,
        limit: u32,
    ) -> Result<ObjectPage, StoreError>;

    /// The absolute URL clients use to read the object. Pure: no I/O.
    fn public_url(&self, key: &ObjectKey) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_of_the_generated_image_layout_are_images() {
        let user = UserId::parse("user-1").unwrap();
        assert!(ObjectKey::for_image(&user, ImageId::new_random(), "png").is_image());
        for other in [
            "users/u/uploads/a.png",
            "users/u/images/thumbs/a.png",
            "users/u/images/",
            "users//images/a.png",
            "users/u/images",
            "other/u/images/a.png",
            "users/u/avatar.png",
        ] {
            assert!(!ObjectKey::from_stored(other).is_image(), "{other}");
        }
    }
}

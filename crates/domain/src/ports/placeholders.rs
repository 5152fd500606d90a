//! Blurhash placeholders still missing: found and filled in by the backfill.

use async_trait::async_trait;

use crate::error::RepositoryError;
use crate::ids::{BoardId, ImageId};
use crate::ports::ObjectKey;

/// Images and board thumbnails without a blurhash, and writing theirs.
///
/// Contract: the listings are in ascending id order and list only rows without a blurhash (an
/// image's `blurhash`, a board's `thumbnail_blurhash` while it has a stored thumbnail
/// `thumbnail_key`), so a backfill that lists after the last id it handled, or starts again
/// from the first, never misses one; the setters write only where there is none yet, so a row
/// is hashed once however many backfills run.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PlaceholderRepository: Send + Sync {
    /// How many images and stored board thumbnails have no blurhash.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn count_missing(&self) -> Result<u64, RepositoryError>;

    /// Up to `limit` images without a blurhash whose id is above `after` (all when `None`),
    /// ascending by id, with their objects' keys (`storage_path`).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn images_missing(
        &self,
        after: Option<ImageId>,
        limit: u32,
    ) -> Result<Vec<(ImageId, ObjectKey)>, RepositoryError>;

    /// Up to `limit` boards with a stored thumbnail (`thumbnail_key`) but no
    /// `thumbnail_blurhash`, whose id is above `after`, ascending by id, with the keys.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn boards_missing(
        &self,
        after: Option<BoardId>,
        limit: u32,
    ) -> Result<Vec<(BoardId, ObjectKey)>, RepositoryError>;

    /// Sets image `id`'s blurhash unless it has one. `true` when this call set it; `false`
    /// when it had one or no longer exists.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn set_image_blurhash(
        &self,
        id: ImageId,
        blurhash: &str,
    ) -> Result<bool, RepositoryError>;

    /// Sets board `id`'s `thumbnail_blurhash` if its thumbnail is still `key` and has none.
    /// `true` when this call set it.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn set_board_blurhash(
        &self,
        id: BoardId,
        key: &ObjectKey,
        blurhash: &str,
    ) -> Result<bool, RepositoryError>;
}

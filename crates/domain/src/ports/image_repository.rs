//! Stored images (the gallery).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::gallery_cursor::GalleryCursor;
use crate::ids::{GenerationId, ImageId, TagId, UserId};
use crate::image::Image;
use crate::ports::ObjectKey;

/// Which of a user's images to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageQuery {
    /// Archived images instead of the gallery.
    pub archived: bool,
    /// Only favourites.
    pub favorites_only: bool,
    /// Page, from 1 (`OFFSET`: its cost grows with the page number). Ignored when `after` is set.
    pub page: u32,
    /// Start just after this position instead of at `page`: the keyset form, whose cost does
    /// not depend on how deep into the gallery it is.
    pub after: Option<GalleryCursor>,
    /// Page size, 1 to 100.
    pub limit: u32,
    /// Only images carrying every one of these tags (all, not any, as the original backend);
    /// empty: no tag filter. The tags are the user's own: only they can be on their images.
    pub tag_ids: Vec<TagId>,
}

/// A change an owner makes to one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageChange {
    /// Moves it to the archive (`archivedAt` = now).
    Archive,
    /// Brings it back from the archive.
    Unarchive,
    /// Makes it public.
    Publish,
    /// Makes it private.
    Unpublish,
    /// Marks or unmarks it as a favourite.
    Favorite(bool),
}

/// What a batch request does to several of a user's images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAction {
    /// Archive those not archived.
    Archive,
    /// Restore those archived.
    Restore,
    /// Delete them.
    Delete,
}

/// Likes of an image, as seen by one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Likes {
    /// Whether this user likes it.
    pub liked: bool,
    /// How many users like it.
    pub count: u64,
}

/// Stored images. Images are created with their generation (see
/// [`GenerationLifecycle::complete`](crate::ports::GenerationLifecycle::complete)).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ImageRepository: Send + Sync {
    /// The image of a generation, if it has one.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn find_for_generation(
        &self,
        generation: GenerationId,
    ) -> Result<Option<Image>, RepositoryError>;

    /// The image `id` if `viewer` owns it or it is public; `Ok(None)` otherwise.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn find_visible(
        &self,
        viewer: &UserId,
        id: ImageId,
    ) -> Result<Option<Image>, RepositoryError>;

    /// A page of `user`'s images, newest first (same instant: higher id first), starting after
    /// `query.after` when set, else at `query.page`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn list_for_user(
        &self,
        user: &UserId,
        query: ImageQuery,
    ) -> Result<Vec<Image>, RepositoryError>;

    /// Deletes `user`'s image `id` and returns it (so its object can be deleted); `Ok(None)`
    /// when there is no such image of theirs.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn delete_for_user(
        &self,
        user: &UserId,
        id: ImageId,
    ) -> Result<Option<Image>, RepositoryError>;

    /// Applies `change` to `user`'s image `id` at `at` (also setting `updatedAt`) and returns
    /// it; `Ok(None)` when there is no such image of theirs.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn change(
        &self,
        user: &UserId,
        id: ImageId,
        change: ImageChange,
        at: DateTime<Utc>,
    ) -> Result<Option<Image>, RepositoryError>;

    /// How many of `user`'s images are archived.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn archived_count(&self, user: &UserId) -> Result<u64, RepositoryError>;

    /// Applies `action` to those of `ids` that are `user`'s (others' ids are ignored) and
    /// returns the images it changed (for `Delete`, the deleted ones).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn batch(
        &self,
        user: &UserId,
        ids: &[ImageId],
        action: BatchAction,
        at: DateTime<Utc>,
    ) -> Result<Vec<Image>, RepositoryError>;

    /// Records whether `user` likes image `id` (idempotent) and returns the likes; `Ok(None)`
    /// when the image is not visible to them (missing, or another user's private image).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn set_like(
        &self,
        user: &UserId,
        id: ImageId,
        liked: bool,
        at: DateTime<Utc>,
    ) -> Result<Option<Likes>, RepositoryError>;

    /// The likes of image `id` as `user` sees them; `Ok(None)` when it is not visible to them.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn likes(&self, user: &UserId, id: ImageId) -> Result<Option<Likes>, RepositoryError>;

    /// The images of the generations in `ids` (one query, whatever the number of ids).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn find_for_generations(
        &self,
        ids: &[GenerationId],
    ) -> Result<Vec<Image>, RepositoryError>;

    /// Those of `keys` that some image row's `storage_path` holds, each once, in any order (one
    /// query, whatever the number of keys; callers pass at most a listing page,
    /// [`MAX_LIST_PAGE`](crate::ports::MAX_LIST_PAGE) keys). Archived images count: their
    /// objects are still theirs. An empty `keys` answers empty without a query.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn keys_with_rows(&self, keys: &[ObjectKey]) -> Result<Vec<ObjectKey>, RepositoryError>;
}

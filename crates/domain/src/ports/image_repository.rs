//! Stored images (the gallery).

use async_trait::async_trait;

use crate::error::RepositoryError;
use crate::ids::{GenerationId, ImageId, UserId};
use crate::image::Image;

/// Which of a user's images to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageQuery {
    /// Archived images instead of the gallery.
    pub archived: bool,
    /// Only favourites.
    pub favorites_only: bool,
    /// Page, from 1.
    pub page: u32,
    /// Page size, 1 to 100.
    pub limit: u32,
}

/// Stored images. Images are created with their generation (see
/// [`GenerationRepository::complete`](crate::ports::GenerationRepository::complete)).
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

    /// A page of `user`'s images, newest first.
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
}

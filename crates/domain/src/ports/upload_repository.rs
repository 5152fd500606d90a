//! Recording uploaded images.

use async_trait::async_trait;

use crate::error::RepositoryError;
use crate::image::{Image, NewImage};

/// Records images that no generation produced (uploads), beside
/// [`ImageRepository`](crate::ports::ImageRepository), which reads, changes and deletes them
/// like any image.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UploadRepository: Send + Sync {
    /// Records `image` as a new row of its owner's gallery (private, not a favourite, not
    /// archived, never downloaded, `updatedAt` = `createdAt`) and returns it as stored. The
    /// row's object MUST already be stored under `image.storage_path`.
    ///
    /// # Errors
    /// [`RepositoryError::Conflict`] when an image with this id exists;
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn insert(&self, image: &NewImage) -> Result<Image, RepositoryError>;
}

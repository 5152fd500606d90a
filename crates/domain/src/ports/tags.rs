//! A user's tags and the links between their tags and their images.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::ids::{ImageId, TagId, UserId};
use crate::tag::{NewTag, Tag, TagChange};

/// What linking or unlinking a tag and an image did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The link was added (link) or removed (unlink).
    Changed,
    /// Nothing to do: the link was already there (link) or was not there (unlink).
    Unchanged,
    /// The image does not exist or is not the user's.
    ImageNotFound,
    /// The tag does not exist or is not the user's.
    TagNotFound,
}

/// Stored tags, each owned by one user, and their links to that user's images. Every method
/// is scoped to a user: another user's tag or image behaves as a missing one.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TagRepository: Send + Sync {
    /// `user`'s tags, by name without regard to case (then by name, then id).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn list(&self, user: &UserId) -> Result<Vec<Tag>, RepositoryError>;

    /// Stores `tag` and returns it.
    ///
    /// # Errors
    /// MUST return [`RepositoryError::Conflict`] when the user already has a tag whose
    /// [`TagName::key`](crate::TagName::key) is the same, also when two creates of that name
    /// race (the database's unique index decides; the loser gets the conflict, never another
    /// error). [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn create(&self, tag: &NewTag) -> Result<Tag, RepositoryError>;

    /// Applies `change` to `user`'s tag `id` at `at` (also setting `updatedAt`, even when
    /// `change` changes nothing) and returns it; `Ok(None)` when there is no such tag of theirs.
    ///
    /// # Errors
    /// MUST return [`RepositoryError::Conflict`] when the new name's key is another of the
    /// user's tags' (renaming a tag to its own name in another case is allowed).
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn update(
        &self,
        user: &UserId,
        id: TagId,
        change: &TagChange,
        at: DateTime<Utc>,
    ) -> Result<Option<Tag>, RepositoryError>;

    /// Deletes `user`'s tag `id` with its links to images; `false` when there is no such tag of
    /// theirs.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn delete(&self, user: &UserId, id: TagId) -> Result<bool, RepositoryError>;

    /// The tags on `user`'s image `image`, ordered as [`list`](Self::list); `Ok(None)` when the
    /// image does not exist or is not the user's (even when it is public).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn of_image(
        &self,
        user: &UserId,
        image: ImageId,
    ) -> Result<Option<Vec<Tag>>, RepositoryError>;

    /// Puts `user`'s tag `tag` on `user`'s image `image`. Idempotent: a second call answers
    /// [`LinkOutcome::Unchanged`]. [`LinkOutcome::ImageNotFound`] /
    /// [`LinkOutcome::TagNotFound`] (the image is checked first) when either is missing or
    /// another user's; nothing is written then. An image or tag deleted while linking is
    /// reported as missing, not as an error.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn link(
        &self,
        user: &UserId,
        image: ImageId,
        tag: TagId,
    ) -> Result<LinkOutcome, RepositoryError>;

    /// Takes `user`'s tag `tag` off `user`'s image `image`: [`LinkOutcome::Unchanged`] when it
    /// was not on it; not-found outcomes as [`link`](Self::link).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn unlink(
        &self,
        user: &UserId,
        image: ImageId,
        tag: TagId,
    ) -> Result<LinkOutcome, RepositoryError>;
}

//! Stored mood boards, each owned by one user, readable by anyone signed in when public.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::board::{Board, BoardChange, BoardQuery, BoardWithCount, NewBoard};
use crate::error::RepositoryError;
use crate::ids::{BoardId, UserId};

/// A board after a change, with the object key of the thumbnail the change replaced or
/// forgot (to be deleted from the store by the caller, after the commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedBoard {
    /// The board as stored now.
    pub board: Board,
    /// The key of the thumbnail object the board no longer points at, if any.
    pub released_thumbnail: Option<String>,
}

/// A copy of a board to make: its new id, owner and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardCopy {
    /// The copy's id.
    pub id: BoardId,
    /// Who makes (and owns) the copy.
    pub owner: UserId,
    /// When it is made.
    pub at: DateTime<Utc>,
}

/// Stored boards. Every method is scoped to a user: another user's private board behaves as a
/// missing one (never as a refusal).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait BoardRepository: Send + Sync {
    /// One page of the boards `query` selects, ordered `updated_at` descending then id
    /// descending, each with the number of its items (counted in the same statement).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn list(&self, query: &BoardQuery) -> Result<Vec<BoardWithCount>, RepositoryError>;

    /// Board `id` when `viewer` owns it or it is public; `Ok(None)` otherwise.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn get(&self, viewer: &UserId, id: BoardId) -> Result<Option<Board>, RepositoryError>;

    /// Stores `board` (its `updated_at` is its `created_at`) and returns it.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn create(&self, board: &NewBoard) -> Result<Board, RepositoryError>;

    /// Applies `change` to `owner`'s board `id` at `at`, in one transaction that first locks
    /// the board row (setting `updated_at`, even when the change changes nothing else).
    /// A `thumbnail_url` other than the stored one clears the stored thumbnail key and reports
    /// it in [`ChangedBoard::released_thumbnail`]; the same URL keeps both. `Ok(None)` when
    /// `owner` has no such board; nothing is written then.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn update(
        &self,
        owner: &UserId,
        id: BoardId,
        change: &BoardChange,
        at: DateTime<Utc>,
    ) -> Result<Option<ChangedBoard>, RepositoryError>;

    /// Points `owner`'s board `id` at a newly stored thumbnail (`url`, object `key`, its
    /// `blurhash` when one was computed) at `at`, reporting the key it pointed at before (if other than `key`) as released. `Ok(None)` when
    /// `owner` has no such board (any more); nothing is written then.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn set_thumbnail(
        &self,
        owner: &UserId,
        id: BoardId,
        url: &str,
        key: &str,
        blurhash: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<Option<ChangedBoard>, RepositoryError>;

    /// Deletes `owner`'s board `id` with its items (by cascade). `Ok(None)` when `owner` has no
    /// such board; else `Ok(Some(key))` with the key of its stored thumbnail object, if any, for
    /// the caller to delete from the store.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn delete(
        &self,
        owner: &UserId,
        id: BoardId,
    ) -> Result<Option<Option<String>>, RepositoryError>;

    /// Copies board `source`, when `copy.owner` owns it or it is public, as a new private board
    /// of `copy.owner` named [`copy_name`](crate::board::copy_name) of the source's name,
    /// without thumbnail, with every item copied (new ids, every other field the same, z order
    /// included) — all in ONE transaction that locks the source row first: after a crash there
    /// is either the whole copy or none. `Ok(None)` when the source is not visible to
    /// `copy.owner`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn duplicate(
        &self,
        source: BoardId,
        copy: &BoardCopy,
    ) -> Result<Option<Board>, RepositoryError>;
}

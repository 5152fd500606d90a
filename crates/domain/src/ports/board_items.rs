//! The items on boards: read by whoever may see the board, changed only by its owner.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::board_item::{BoardItem, BoardItemChange, NewBoardItem, ZDirection};
use crate::error::RepositoryError;
use crate::ids::{BoardId, BoardItemId, ImageId, UserId};

/// What adding an item did.
#[derive(Debug, Clone, PartialEq)]
pub enum AddOutcome {
    /// Stored on top of the board.
    Added(Box<BoardItem>),
    /// The board does not exist or is not the owner's.
    BoardNotFound,
    /// The image does not exist or is neither the owner's nor public.
    ImageNotFound,
    /// The board already holds [`MAX_BOARD_ITEMS`](crate::board_item::MAX_BOARD_ITEMS) items.
    BoardFull,
}

/// Stored board items. A board is visible to its owner, and to anyone when it is public;
/// only its owner changes its items. Another user's private board and its items behave as
/// missing ones.
///
/// Every write locks the boards it touches first (one `UPDATE` of each board row, guarded by
/// the owner, that also sets the board's `updated_at` to `at`), then does its work in the same
/// transaction, so the writes on one board apply one after the other. After every write a
/// board's `zIndex`es are exactly `0..n-1` (also after an image's deletion removed its items).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait BoardItemRepository: Send + Sync {
    /// The items on `board`, bottom (`zIndex` 0) first, each with its image; `Ok(None)` when the
    /// board does not exist or `viewer` may not see it.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn list(
        &self,
        viewer: &UserId,
        board: BoardId,
    ) -> Result<Option<Vec<BoardItem>>, RepositoryError>;

    /// Item `id` with its image; `Ok(None)` when it does not exist or `viewer` may not see its
    /// board.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn get(
        &self,
        viewer: &UserId,
        id: BoardItemId,
    ) -> Result<Option<BoardItem>, RepositoryError>;

    /// Puts `item` on top of its board (`zIndex` = the number of items before it) when `owner`
    /// owns the board, the board holds fewer than
    /// [`MAX_BOARD_ITEMS`](crate::board_item::MAX_BOARD_ITEMS) items and an image item's image
    /// is `owner`'s or public (checked in that order; nothing is written otherwise).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn add(
        &self,
        owner: &UserId,
        item: &NewBoardItem,
        at: DateTime<Utc>,
    ) -> Result<AddOutcome, RepositoryError>;

    /// Applies each change to its item, all or nothing, and returns the changed items in the
    /// order of `changes`; `Ok(None)` (nothing written) when any item does not exist or is not
    /// on one of `owner`'s boards. A change's `z_index` moves the item to that place (clamped
    /// to the top) and shifts the others.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn update(
        &self,
        owner: &UserId,
        changes: &[(BoardItemId, BoardItemChange)],
        at: DateTime<Utc>,
    ) -> Result<Option<Vec<BoardItem>>, RepositoryError>;

    /// Moves item `id` one step or to an end of its board's stack (an item with nothing to
    /// swap with stays) and returns it; `Ok(None)` when it is not on one of `owner`'s boards.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn restack(
        &self,
        owner: &UserId,
        id: BoardItemId,
        direction: ZDirection,
        at: DateTime<Utc>,
    ) -> Result<Option<BoardItem>, RepositoryError>;

    /// Deletes the items `ids`, all or nothing, closing the gaps in their boards' stacks;
    /// `false` (nothing deleted) when any of them does not exist or is not on one of `owner`'s
    /// boards.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn delete(
        &self,
        owner: &UserId,
        ids: &[BoardItemId],
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;

    /// Whether `image` is on `board`; `Ok(None)` when the board does not exist or `viewer` may
    /// not see it.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn contains_image(
        &self,
        viewer: &UserId,
        board: BoardId,
        image: ImageId,
    ) -> Result<Option<bool>, RepositoryError>;
}

//! The items on the caller's boards: read them (also on public boards), add images and texts,
//! move, restyle, restack and remove them, one or many at a time.

use std::sync::Arc;

use crate::board_item::{
    BoardItem, BoardItemChange, DEFAULT_POSITION, ItemContent, ItemProperties, MAX_BOARD_ITEMS,
    NewBoardItem, ZDirection,
};
use crate::error::RepositoryError;
use crate::ids::{BoardId, BoardItemId, ImageId, UserId};
use crate::ports::{AddOutcome, BoardItemRepository, Clock};
use crate::validation::ValidationErrors;

/// Why a board-item use case failed.
#[derive(Debug, thiserror::Error)]
pub enum BoardItemError {
    /// The board does not exist or the caller may not see (or change) it.
    #[error("Board with id {0} not found")]
    BoardNotFound(BoardId),
    /// The item does not exist or is not on a board the caller may see (or change).
    #[error("Board item with id {0} not found")]
    ItemNotFound(BoardItemId),
    /// One of a batch's items does not exist or is not on one of the caller's boards.
    #[error("One or more board items not found")]
    SomeItemsNotFound,
    /// The image does not exist or is neither the caller's nor public.
    #[error("Image with id {0} not found")]
    ImageNotFound(ImageId),
    /// The board holds [`MAX_BOARD_ITEMS`] items already.
    #[error("Board {0} is full ({MAX_BOARD_ITEMS} items)")]
    BoardFull(BoardId),
    /// The request breaks a rule (an empty or oversized batch).
    #[error(transparent)]
    Invalid(ValidationErrors),
    /// The repository failed.
    #[error(transparent)]
    Repository(RepositoryError),
}

impl From<RepositoryError> for BoardItemError {
    fn from(error: RepositoryError) -> Self {
        Self::Repository(error)
    }
}

/// An item to add, as requested: positions default to [`DEFAULT_POSITION`] when absent (a
/// position of 0 stays 0).
#[derive(Debug, Clone, PartialEq)]
pub struct NewItemRequest {
    /// The board.
    pub board: BoardId,
    /// What it shows.
    pub content: ItemContent,
    /// Horizontal position, if sent (already within bounds).
    pub position_x: Option<f64>,
    /// Vertical position, if sent (already within bounds).
    pub position_y: Option<f64>,
    /// Presentation properties, if sent.
    pub properties: Option<ItemProperties>,
}

/// Checks a batch's size: 1 to [`MAX_BOARD_ITEMS`] entries.
fn batch_size(len: usize, field: &str) -> Result<(), BoardItemError> {
    if len == 0 {
        return Err(BoardItemError::Invalid(ValidationErrors::single(format!(
            "{field} must contain at least 1 element"
        ))));
    }
    if len > MAX_BOARD_ITEMS {
        return Err(BoardItemError::Invalid(ValidationErrors::single(format!(
            "{field} must contain at most {MAX_BOARD_ITEMS} elements"
        ))));
    }
    Ok(())
}

/// The board-item use cases of an authenticated user.
#[derive(Clone)]
pub struct BoardItemService {
    items: Arc<dyn BoardItemRepository>,
    clock: Arc<dyn Clock>,
}

impl BoardItemService {
    /// A service over `items`, dating changes by `clock`.
    pub fn new(items: Arc<dyn BoardItemRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { items, clock }
    }

    /// The items on `board`, bottom first.
    ///
    /// # Errors
    /// [`BoardItemError::BoardNotFound`] when `user` may not see it;
    /// [`BoardItemError::Repository`] when the repository fails.
    pub async fn list(
        &self,
        user: &UserId,
        board: BoardId,
    ) -> Result<Vec<BoardItem>, BoardItemError> {
        self.items
            .list(user, board)
            .await?
            .ok_or(BoardItemError::BoardNotFound(board))
    }

    /// Item `id`.
    ///
    /// # Errors
    /// [`BoardItemError::ItemNotFound`] when `user` may not see it;
    /// [`BoardItemError::Repository`] when the repository fails.
    pub async fn get(&self, user: &UserId, id: BoardItemId) -> Result<BoardItem, BoardItemError> {
        self.items
            .get(user, id)
            .await?
            .ok_or(BoardItemError::ItemNotFound(id))
    }

    /// Puts an image or a text on top of one of `user`'s boards.
    ///
    /// # Errors
    /// [`BoardItemError::BoardNotFound`], [`BoardItemError::BoardFull`],
    /// [`BoardItemError::ImageNotFound`] (checked in that order);
    /// [`BoardItemError::Repository`] when the repository fails.
    pub async fn add(
        &self,
        user: &UserId,
        request: NewItemRequest,
    ) -> Result<BoardItem, BoardItemError> {
        let image = match &request.content {
            ItemContent::Image(image) => Some(*image),
            ItemContent::Text { .. } => None,
        };
        let now = self.clock.now();
        let item = NewBoardItem {
            id: BoardItemId::new_random(),
            board: request.board,
            content: request.content,
            position_x: request.position_x.unwrap_or(DEFAULT_POSITION),
            position_y: request.position_y.unwrap_or(DEFAULT_POSITION),
            properties: request.properties,
            created_at: now,
        };
        match self.items.add(user, &item, now).await? {
            AddOutcome::Added(added) => Ok(*added),
            AddOutcome::BoardNotFound => Err(BoardItemError::BoardNotFound(item.board)),
            AddOutcome::BoardFull => Err(BoardItemError::BoardFull(item.board)),
            AddOutcome::ImageNotFound => Err(match image {
                Some(image) => BoardItemError::ImageNotFound(image),
                None => BoardItemError::Repository(RepositoryError::Other(
                    "a text item was refused for its image".into(),
                )),
            }),
        }
    }

    /// Changes one of the items on `user`'s boards.
    ///
    /// # Errors
    /// [`BoardItemError::ItemNotFound`] when it is not on one of their boards;
    /// [`BoardItemError::Repository`] when the repository fails.
    pub async fn update(
        &self,
        user: &UserId,
        id: BoardItemId,
        change: BoardItemChange,
    ) -> Result<BoardItem, BoardItemError> {
        let changed = self
            .items
            .update(user, &[(id, change)], self.clock.now())
            .await?;
        changed
            .and_then(|items| items.into_iter().next())
            .ok_or(BoardItemError::ItemNotFound(id))
    }

    /// Changes several items on `user`'s boards, all or nothing.
    ///
    /// # Errors
    /// [`BoardItemError::Invalid`] for an empty batch or one of more than [`MAX_BOARD_ITEMS`];
    /// [`BoardItemError::SomeItemsNotFound`] when any is not on one of their boards (nothing
    /// changes then); [`BoardItemError::Repository`] when the repository fails.
    pub async fn update_many(
        &self,
        user: &UserId,
        changes: Vec<(BoardItemId, BoardItemChange)>,
    ) -> Result<Vec<BoardItem>, BoardItemError> {
        batch_size(changes.len(), "items")?;
        self.items
            .update(user, &changes, self.clock.now())
            .await?
            .ok_or(BoardItemError::SomeItemsNotFound)
    }

    /// Moves an item on one of `user`'s boards one step or to an end of the stack.
    ///
    /// # Errors
    /// [`BoardItemError::ItemNotFound`] when it is not on one of their boards;
    /// [`BoardItemError::Repository`] when the repository fails.
    pub async fn restack(
        &self,
        user: &UserId,
        id: BoardItemId,
        direction: ZDirection,
    ) -> Result<BoardItem, BoardItemError> {
        self.items
            .restack(user, id, direction, self.clock.now())
            .await?
            .ok_or(BoardItemError::ItemNotFound(id))
    }

    /// Removes an item from one of `user`'s boards.
    ///
    /// # Errors
    /// [`BoardItemError::ItemNotFound`] when it is not on one of their boards;
    /// [`BoardItemError::Repository`] when the repository fails.
    pub async fn delete(&self, user: &UserId, id: BoardItemId) -> Result<(), BoardItemError> {
        if self.items.delete(user, &[id], self.clock.now()).await? {
            Ok(())
        } else {
            Err(BoardItemError::ItemNotFound(id))
        }
    }

    /// Removes several items from `user`'s boards, all or nothing (an id given twice counts
    /// once).
    ///
    /// # Errors
    /// [`BoardItemError::Invalid`] for an empty list or one of more than [`MAX_BOARD_ITEMS`];
    /// [`BoardItemError::SomeItemsNotFound`] when any is not on one of their boards (nothing
    /// is deleted then); [`BoardItemError::Repository`] when the repository fails.
    pub async fn delete_many(
        &self,
        user: &UserId,
        mut ids: Vec<BoardItemId>,
    ) -> Result<(), BoardItemError> {
        batch_size(ids.len(), "ids")?;
        ids.sort_unstable();
        ids.dedup();
        if self.items.delete(user, &ids, self.clock.now()).await? {
            Ok(())
        } else {
            Err(BoardItemError::SomeItemsNotFound)
        }
    }

    /// Whether `image` is on `board`.
    ///
    /// # Errors
    /// [`BoardItemError::BoardNotFound`] when `user` may not see the board;
    /// [`BoardItemError::Repository`] when the repository fails.
    pub async fn contains_image(
        &self,
        user: &UserId,
        board: BoardId,
        image: ImageId,
    ) -> Result<bool, BoardItemError> {
        self.items
            .contains_image(user, board, image)
            .await?
            .ok_or(BoardItemError::BoardNotFound(board))
    }
}

#[cfg(test)]
mod tests;

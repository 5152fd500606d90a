//! Mood boards: list, read, create, change, delete, duplicate, and their thumbnails.
//!
//! Only the owner changes a board; a public board is readable and duplicable by anyone signed
//! in; every other case is [`BoardError::NotFound`] (never a refusal that would reveal the
//! board). A stored thumbnail object is deleted once no board points at it any more (replaced,
//! forgotten by a new `thumbnailUrl`, or its board deleted); a failure to delete it is logged.

use std::sync::Arc;

use crate::board::{Board, BoardChange, BoardDraft, BoardQuery, BoardWithCount};
use crate::error::RepositoryError;
use crate::ids::{BoardId, UserId};
use crate::ports::{
    BoardCopy, BoardRepository, ChangedBoard, Clock, ImageInspector, ImageRenderer, ObjectKey,
    ObjectStore, StoreError,
};
use crate::services::placeholders::placeholder_of;
use crate::services::stored_objects::delete_logged;
use crate::upload::InspectError;
use crate::validation::ValidationErrors;

#[cfg(test)]
mod tests;

/// Largest thumbnail, in bytes (the original's 5 MB).
pub const MAX_THUMBNAIL_BYTES: usize = 5 * 1024 * 1024;

/// Most pixels a thumbnail may have (width × height from its header).
pub const MAX_THUMBNAIL_PIXELS: u64 = 40_000_000;

/// `Cache-Control` of a stored thumbnail: a week (its key changes with every upload).
pub const THUMBNAIL_CACHE_CONTROL: &str = "public, max-age=604800";

/// Why a board use case failed.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The board does not exist or is not visible to (or, for a change, not owned by) the
    /// caller.
    #[error("board not found")]
    NotFound,
    /// The input is not valid.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The thumbnail's bytes are not an acceptable image.
    #[error(transparent)]
    Thumbnail(#[from] InspectError),
    /// The thumbnail is over [`MAX_THUMBNAIL_BYTES`] bytes.
    #[error("the thumbnail is larger than {MAX_THUMBNAIL_BYTES} bytes")]
    ThumbnailTooLarge,
    /// The thumbnail has more than [`MAX_THUMBNAIL_PIXELS`] pixels.
    #[error(
        "the thumbnail has {width}×{height} pixels; at most {MAX_THUMBNAIL_PIXELS} are accepted"
    )]
    ThumbnailTooManyPixels {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
    },
    /// The object store failed; nothing was recorded.
    #[error("storing the thumbnail failed")]
    Store(#[source] StoreError),
    /// The repository failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// The ports the board use cases call.
#[derive(Clone)]
pub struct BoardPorts {
    /// Stored boards.
    pub boards: Arc<dyn BoardRepository>,
    /// Where thumbnails go.
    pub store: Arc<dyn ObjectStore>,
    /// Recognises a thumbnail's bytes.
    pub inspector: Arc<dyn ImageInspector>,
    /// Computes a thumbnail's blurhash.
    pub renderer: Arc<dyn ImageRenderer>,
    /// The time of changes.
    pub clock: Arc<dyn Clock>,
}

/// The board use cases of an authenticated user.
#[derive(Clone)]
pub struct BoardService {
    ports: BoardPorts,
}

impl BoardService {
    /// A service over `ports`.
    pub fn new(ports: BoardPorts) -> Self {
        Self { ports }
    }

    /// One page of boards, newest change first, with their item counts.
    ///
    /// # Errors
    /// [`BoardError::Repository`] when the repository fails.
    pub async fn list(&self, query: &BoardQuery) -> Result<Vec<BoardWithCount>, BoardError> {
        Ok(self.ports.boards.list(query).await?)
    }

    /// Board `id`, when `viewer` owns it or it is public.
    ///
    /// # Errors
    /// [`BoardError::NotFound`] otherwise; [`BoardError::Repository`] when the repository fails.
    pub async fn get(&self, viewer: &UserId, id: BoardId) -> Result<Board, BoardError> {
        self.ports
            .boards
            .get(viewer, id)
            .await?
            .ok_or(BoardError::NotFound)
    }

    /// Creates a board for `owner` from `draft` (defaults filled in).
    ///
    /// # Errors
    /// [`BoardError::Invalid`] without a name; [`BoardError::Repository`] when the repository
    /// fails.
    pub async fn create(&self, owner: &UserId, draft: BoardDraft) -> Result<Board, BoardError> {
        let new = draft.into_new(BoardId::new_random(), owner.clone(), self.ports.clock.now())?;
        Ok(self.ports.boards.create(&new).await?)
    }

    /// Changes `owner`'s board `id`; a thumbnail the change forgets is deleted from the store.
    ///
    /// # Errors
    /// [`BoardError::NotFound`] when it is not theirs; [`BoardError::Repository`] when the
    /// repository fails.
    pub async fn update(
        &self,
        owner: &UserId,
        id: BoardId,
        change: &BoardChange,
    ) -> Result<Board, BoardError> {
        let changed = self
            .ports
            .boards
            .update(owner, id, change, self.ports.clock.now())
            .await?
            .ok_or(BoardError::NotFound)?;
        Ok(self.release(changed).await)
    }

    /// Deletes `owner`'s board `id` with its items, then its thumbnail object.
    ///
    /// # Errors
    /// [`BoardError::NotFound`] when it is not theirs; [`BoardError::Repository`] when the
    /// repository fails.
    pub async fn delete(&self, owner: &UserId, id: BoardId) -> Result<(), BoardError> {
        let thumbnail = self
            .ports
            .boards
            .delete(owner, id)
            .await?
            .ok_or(BoardError::NotFound)?;
        if let Some(key) = thumbnail {
            self.delete_object(&ObjectKey::from_stored(key)).await;
        }
        Ok(())
    }

    /// Copies board `id` (the viewer's own, or public) with every item, as a private board of
    /// `viewer` named "… (Copy)", in one transaction.
    ///
    /// # Errors
    /// [`BoardError::NotFound`] when it is not visible to them; [`BoardError::Repository`] when
    /// the repository fails.
    pub async fn duplicate(&self, viewer: &UserId, id: BoardId) -> Result<Board, BoardError> {
        let copy = BoardCopy {
            id: BoardId::new_random(),
            owner: viewer.clone(),
            at: self.ports.clock.now(),
        };
        self.ports
            .boards
            .duplicate(id, &copy)
            .await?
            .ok_or(BoardError::NotFound)
    }

    /// Stores `bytes` as the thumbnail of `owner`'s board `id` (PNG, JPEG or WebP recognised
    /// from the bytes, at most [`MAX_THUMBNAIL_BYTES`]) under
    /// `boards/{id}/thumbnail-{random}.{ext}` with [`THUMBNAIL_CACHE_CONTROL`], points the
    /// board at it, then deletes the thumbnail it replaces. Nothing is stored for a refused
    /// file or a board that is not theirs; the new object is deleted again when the board
    /// vanished meanwhile.
    ///
    /// # Errors
    /// [`BoardError::ThumbnailTooLarge`], [`BoardError::Thumbnail`],
    /// [`BoardError::ThumbnailTooManyPixels`] for a refused file; [`BoardError::NotFound`];
    /// [`BoardError::Store`] / [`BoardError::Repository`] when a port fails.
    pub async fn set_thumbnail(
        &self,
        owner: &UserId,
        id: BoardId,
        bytes: Vec<u8>,
    ) -> Result<Board, BoardError> {
        if bytes.len() > MAX_THUMBNAIL_BYTES {
            return Err(BoardError::ThumbnailTooLarge);
        }
        let board = self.get(owner, id).await?;
        if &board.user_id != owner {
            return Err(BoardError::NotFound);
        }
        let image = self.ports.inspector.inspect(bytes)?;
        if image.pixels() > MAX_THUMBNAIL_PIXELS {
            return Err(BoardError::ThumbnailTooManyPixels {
                width: image.width,
                height: image.height,
            });
        }
        let blurhash = placeholder_of(&*self.ports.renderer, &image.bytes).await;
        let key = ObjectKey::from_stored(format!(
            "boards/{id}/thumbnail-{}.{}",
            uuid::Uuid::new_v4().simple(),
            image.extension
        ));
        self.ports
            .store
            .put_with_cache_control(
                &key,
                image.bytes,
                image.content_type,
                THUMBNAIL_CACHE_CONTROL,
            )
            .await
            .map_err(|error| match error {
                StoreError::TooLarge => BoardError::ThumbnailTooLarge,
                other => BoardError::Store(other),
            })?;
        let url = self.ports.store.public_url(&key);
        let stored = self
            .ports
            .boards
            .set_thumbnail(
                owner,
                id,
                &url,
                key.as_str(),
                blurhash,
                self.ports.clock.now(),
            )
            .await;
        match stored {
            Ok(Some(changed)) => Ok(self.release(changed).await),
            Ok(None) => {
                self.delete_object(&key).await;
                Err(BoardError::NotFound)
            }
            Err(error) => {
                self.delete_object(&key).await;
                Err(error.into())
            }
        }
    }

    /// The changed board, after deleting the thumbnail object it released.
    async fn release(&self, changed: ChangedBoard) -> Board {
        if let Some(key) = changed.released_thumbnail {
            self.delete_object(&ObjectKey::from_stored(key)).await;
        }
        changed.board
    }

    async fn delete_object(&self, key: &ObjectKey) {
        delete_logged(&*self.ports.store, key, "board thumbnail").await;
    }
}

//! Blurhash placeholders: computed when an image is stored, and backfilled for images stored
//! before (or whose computation failed).

use std::sync::Arc;

use crate::error::{ErrorChain, RepositoryError};
use crate::ids::{BoardId, ImageId};
use crate::ports::{ImageRenderer, ObjectKey, ObjectStore, PlaceholderRepository};

#[cfg(test)]
mod tests;

/// The blurhash of `bytes`, or `None` (logged) when it cannot be computed: a placeholder is
/// never a reason to refuse an image, and the backfill computes it later.
pub async fn placeholder_of(renderer: &dyn ImageRenderer, bytes: &[u8]) -> Option<String> {
    match renderer.blurhash(bytes.to_vec()).await {
        Ok(hash) => Some(hash),
        Err(error) => {
            tracing::warn!(error = %ErrorChain(&error), "blurhash not computed; `images backfill` computes it later");
            None
        }
    }
}

/// What a backfill pass did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackfillProgress {
    /// Rows whose blurhash this backfill wrote.
    pub hashed: u64,
    /// Rows skipped: their object is missing or not an image (logged; they stay without one).
    pub failed: u64,
    /// Rows another writer hashed first (a concurrent backfill).
    pub already_done: u64,
}

impl BackfillProgress {
    /// Rows handled, whatever the outcome.
    pub fn handled(&self) -> u64 {
        self.hashed + self.failed + self.already_done
    }
}

/// What a backfill can fail with (it stops; running it again resumes).
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    /// The database failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Computes the missing blurhashes of images and stored board thumbnails.
///
/// Resumable by construction: it lists only rows without one, and writes only where there is
/// none yet, so an interrupted backfill started again continues with what is left, and no row
/// is ever hashed twice.
#[derive(Clone)]
pub struct PlaceholderBackfill {
    rows: Arc<dyn PlaceholderRepository>,
    store: Arc<dyn ObjectStore>,
    renderer: Arc<dyn ImageRenderer>,
    batch: u32,
}

/// One row to hash.
enum Target {
    Image(ImageId),
    Board(BoardId),
}

impl PlaceholderBackfill {
    /// A backfill reading rows `batch` at a time (at least 1).
    pub fn new(
        rows: Arc<dyn PlaceholderRepository>,
        store: Arc<dyn ObjectStore>,
        renderer: Arc<dyn ImageRenderer>,
        batch: u32,
    ) -> Self {
        Self {
            rows,
            store,
            renderer,
            batch: batch.max(1),
        }
    }

    /// How many rows have no blurhash now.
    ///
    /// # Errors
    /// [`BackfillError::Repository`].
    pub async fn remaining(&self) -> Result<u64, BackfillError> {
        Ok(self.rows.count_missing().await?)
    }

    /// Hashes every image, then every stored board thumbnail, without a blurhash, calling
    /// `on_progress` after each row.
    ///
    /// # Errors
    /// [`BackfillError::Repository`] when the database fails (what was written stays).
    pub async fn run(
        &self,
        mut on_progress: impl FnMut(&BackfillProgress) + Send,
    ) -> Result<BackfillProgress, BackfillError> {
        let mut progress = BackfillProgress::default();
        let mut after = None;
        loop {
            let page = self.rows.images_missing(after, self.batch).await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            for (id, key) in page {
                self.hash(Target::Image(id), &key, &mut progress).await?;
                on_progress(&progress);
            }
        }
        let mut after = None;
        loop {
            let page = self.rows.boards_missing(after, self.batch).await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            for (id, key) in page {
                self.hash(Target::Board(id), &key, &mut progress).await?;
                on_progress(&progress);
            }
        }
        Ok(progress)
    }

    /// Hashes one row's object and writes the hash, counting the outcome.
    async fn hash(
        &self,
        target: Target,
        key: &ObjectKey,
        progress: &mut BackfillProgress,
    ) -> Result<(), BackfillError> {
        let bytes = match self.store.get(key).await {
            Ok(Some(object)) => object.bytes,
            Ok(None) => {
                tracing::warn!(key = key.as_str(), "no stored object: no blurhash");
                progress.failed += 1;
                return Ok(());
            }
            Err(error) => {
                tracing::warn!(key = key.as_str(), error = %ErrorChain(&error), "object not read: no blurhash");
                progress.failed += 1;
                return Ok(());
            }
        };
        let hash = match self.renderer.blurhash(bytes).await {
            Ok(hash) => hash,
            Err(error) => {
                tracing::warn!(key = key.as_str(), error = %ErrorChain(&error), "blurhash not computed");
                progress.failed += 1;
                return Ok(());
            }
        };
        let written = match target {
            Target::Image(id) => self.rows.set_image_blurhash(id, &hash).await?,
            Target::Board(id) => self.rows.set_board_blurhash(id, key, &hash).await?,
        };
        if written {
            progress.hashed += 1;
        } else {
            progress.already_done += 1;
        }
        Ok(())
    }
}

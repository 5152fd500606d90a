//! Reading a user's generations: one with its status (asking the provider when it is due),
//! one as stored, and a page of their history.

use std::sync::Arc;

use crate::generation::{Generation, GenerationStatus};
use crate::ids::{GenerationId, UserId};
use crate::ports::{GenerationReads, GenerationRepository, ImageRepository};

use super::finalize::Settled;
use super::shared::view_of;
use super::{FinalizeGeneration, GenerateError, GenerationView};

/// Answers what a user's generations are; a status read of a processing generation asks the
/// provider through the finaliser.
#[derive(Clone)]
pub struct ReadGenerations {
    /// Generations read back.
    reads: Arc<dyn GenerationReads>,
    images: Arc<dyn ImageRepository>,
    finalize: FinalizeGeneration,
}

/// One page of a user's generations.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    /// The generations, newest first, each with its image once completed.
    pub items: Vec<GenerationView>,
    /// How many generations the user has in all.
    pub total: u64,
}

impl ReadGenerations {
    /// Reading over these ports, asking the provider through `finalize`.
    pub(super) fn new(
        generations: Arc<dyn GenerationRepository>,
        images: Arc<dyn ImageRepository>,
        finalize: FinalizeGeneration,
    ) -> Self {
        Self {
            reads: generations,
            images,
            finalize,
        }
    }

    /// The generation `id` of `user` with its image. A processing generation is first asked
    /// about at the provider when no one has asked within the provider poll interval (so
    /// polling clients see progress without a webhook, and many polls cost one provider call);
    /// otherwise it is answered from the database.
    ///
    /// # Errors
    /// [`GenerateError::Repository`]; provider failures are logged, not returned.
    pub async fn status(
        &self,
        user: &UserId,
        id: GenerationId,
    ) -> Result<Option<GenerationView>, GenerateError> {
        let Some(generation) = self.reads.find_for_user(user, id).await? else {
            return Ok(None);
        };
        if generation.status == GenerationStatus::Processing {
            match self.finalize.poll_provider(&generation).await? {
                Some(Settled::Completed(view)) => return Ok(Some(*view)),
                Some(Settled::Other) => {
                    return Ok(match self.reads.find(id).await? {
                        Some(now) => Some(view_of(&*self.images, now).await?),
                        None => None,
                    });
                }
                None => {}
            }
        }
        Ok(Some(view_of(&*self.images, generation).await?))
    }

    /// The generation `id` of `user` as stored, without asking the provider.
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn find(
        &self,
        user: &UserId,
        id: GenerationId,
    ) -> Result<Option<Generation>, GenerateError> {
        Ok(self.reads.find_for_user(user, id).await?)
    }

    /// One page of `user`'s generations, newest first, each with its image (two queries,
    /// whatever the page size).
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn history(
        &self,
        user: &UserId,
        offset: u64,
        limit: u32,
    ) -> Result<HistoryPage, GenerateError> {
        let (generations, total) = self.reads.history(user, offset, limit).await?;
        let completed: Vec<GenerationId> = generations
            .iter()
            .filter(|g| g.status == GenerationStatus::Completed)
            .map(|g| g.record.id)
            .collect();
        let mut images = if completed.is_empty() {
            Vec::new()
        } else {
            self.images.find_for_generations(&completed).await?
        };
        let items = generations
            .into_iter()
            .map(|generation| {
                let position = images
                    .iter()
                    .position(|i| i.record.generation_id == Some(generation.record.id));
                let image = position.map(|p| images.swap_remove(p));
                GenerationView { generation, image }
            })
            .collect();
        Ok(HistoryPage { items, total })
    }

    /// `user`'s unfinished generations (pending, queued, processing), oldest first, at most
    /// `limit` (none of them has an image yet).
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn active(
        &self,
        user: &UserId,
        limit: u32,
    ) -> Result<Vec<GenerationView>, GenerateError> {
        let generations = self.reads.active(user, limit).await?;
        Ok(generations
            .into_iter()
            .map(|generation| GenerationView {
                generation,
                image: None,
            })
            .collect())
    }
}

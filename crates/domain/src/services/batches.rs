//! Batches: creating one (every item's money decided at once), reading them, retrying failed
//! items, cancelling and deleting; and [`BatchRunner`], which runs queued items.

use std::sync::Arc;

use crate::batch::{BatchDetail, BatchRequest, BatchSummary, MAX_ITEM_RETRIES, NewBatch};
use crate::error::RepositoryError;
use crate::generation::{GenerationStatus, NewGeneration};
use crate::ids::{BatchId, GenerationId, UserId};
use crate::money::{BatchRefusal, BatchShortfall};
use crate::ports::{
    BatchRepository, BatchTarget, Clock, ModelCatalog, NewBatchItem, Providers, Queued,
};
use crate::services::credits::{CreditError, CreditService};
use crate::services::generations::{CancelGeneration, GenerateError, new_generation};

mod runner;
#[cfg(test)]
mod tests;

pub use runner::{BatchRunner, RunOutcome, RunnerSettings};

/// What the batch services can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// No batch with that id for this user.
    #[error("batch not found")]
    NotFound,
    /// No active model with the shared `modelId`.
    #[error("model not found")]
    ModelNotFound,
    /// The batch cannot be paid in full; nothing was recorded.
    #[error("insufficient credits for the batch: {} needed, {} available", .0.required.get(), .0.balance.get())]
    Insufficient(BatchShortfall),
    /// The remote credits service is needed and cannot be reached; nothing was recorded.
    #[error("the credits service is unavailable")]
    CreditsUnavailable,
    /// Cancelling an item failed.
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// The database failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

impl From<CreditError> for BatchError {
    fn from(error: CreditError) -> Self {
        match error {
            CreditError::Repository(error) => Self::Repository(error),
            CreditError::Unavailable | CreditError::RemoteLedger => Self::CreditsUnavailable,
        }
    }
}

/// The ports the batch services call.
#[derive(Clone)]
pub struct BatchPorts {
    /// Batches and their items' money.
    pub batches: Arc<dyn BatchRepository>,
    /// The model catalogue.
    pub models: Arc<dyn ModelCatalog>,
    /// The providers (a model whose provider this server lacks is not offered).
    pub providers: Providers,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// A batch just created.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedBatch {
    /// The batch with its items, all `queued`.
    pub detail: BatchDetail,
    /// What its items cost.
    pub queued: Queued,
}

/// The batch use cases.
#[derive(Clone)]
pub struct BatchService {
    ports: BatchPorts,
    credits: CreditService,
    cancel: CancelGeneration,
    /// Called once items were queued, to wake this instance's workers.
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl BatchService {
    /// The services over `ports`, deciding money through `credits`, cancelling items through
    /// `cancel`, and calling `wake` whenever items were queued.
    pub fn new(
        ports: BatchPorts,
        credits: CreditService,
        cancel: CancelGeneration,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        Self {
            ports,
            credits,
            cancel,
            wake,
        }
    }

    /// Creates a batch of `user` from `request`: every prompt becomes a `queued` generation
    /// with the shared settings, each billed like a single generation (free slots first, then
    /// the price held), decided for the whole batch in one transaction.
    ///
    /// # Errors
    /// [`BatchError::ModelNotFound`], [`BatchError::Insufficient`] (nothing recorded, nothing
    /// held), [`BatchError::CreditsUnavailable`] or [`BatchError::Repository`].
    pub async fn create(
        &self,
        user: &UserId,
        request: BatchRequest,
    ) -> Result<CreatedBatch, BatchError> {
        let model = self
            .ports
            .models
            .get(request.model_id)
            .await?
            .filter(|m| m.spec.is_active && self.ports.providers.get(&m.spec.provider).is_some())
            .ok_or(BatchError::ModelNotFound)?;
        let now = self.ports.clock.now();
        let items: Vec<NewBatchItem> = request
            .prompts
            .iter()
            .zip(0_u32..)
            .map(|(prompt, index)| NewBatchItem {
                generation: new_generation(
                    user,
                    &prompt.request,
                    &model,
                    GenerationId::new_random(),
                    now,
                ),
                index,
                retry_count: 0,
            })
            .collect();
        let Some(first) = items.first() else {
            return Err(RepositoryError::Other("a batch without prompts".into()).into());
        };
        let params = &first.generation.params;
        let batch = NewBatch {
            id: BatchId::new_random(),
            user_id: user.clone(),
            name: request
                .name
                .unwrap_or_else(|| format!("Batch {}", now.format("%Y-%m-%d %H:%M:%S UTC"))),
            model_id: model.id,
            model_version: request.model_version.map(|v| v.as_str().to_owned()),
            width: params.width,
            height: params.height,
            steps: params.steps,
            guidance_scale: params.guidance_scale,
            created_at: now,
        };
        let queued = self
            .queue(user, &BatchTarget::New(batch.clone()), &items)
            .await?
            .ok_or_else(|| RepositoryError::Other("a new batch was not recorded".into()))?;
        tracing::info!(batch_id = %batch.id, user_id = %user, items = items.len(), "batch queued");
        (self.wake)();
        let detail = self
            .ports
            .batches
            .find(user, batch.id)
            .await?
            .ok_or_else(|| RepositoryError::Other("a new batch vanished".into()))?;
        Ok(CreatedBatch { detail, queued })
    }

    /// Queues `items` into `target` for `user`, asking the remote credits service for the
    /// balance only when an item needs it: what they cost, or `None` when a concurrent retry
    /// took the failed items first.
    async fn queue(
        &self,
        user: &UserId,
        target: &BatchTarget,
        items: &[NewBatchItem],
    ) -> Result<Option<Queued>, BatchError> {
        let policy = self.credits.policy();
        let mut funds = self.credits.funds_for(user).await?;
        loop {
            match self
                .ports
                .batches
                .queue(target, items, policy, funds)
                .await?
            {
                Ok(queued) => return Ok(queued),
                Err(BatchRefusal::BalanceNeeded) => {
                    funds = self.credits.remote_funds(user).await?;
                }
                Err(BatchRefusal::Insufficient(shortfall)) => {
                    tracing::info!(
                        target: "picture::ledger",
                        user_id = %user, items = shortfall.items,
                        amount = shortfall.required.get(), balance = shortfall.balance.get(),
                        outcome = "insufficient", "batch refused: insufficient credits"
                    );
                    return Err(BatchError::Insufficient(shortfall));
                }
            }
        }
    }

    /// One page of `user`'s batches, newest first (`page` from 1).
    ///
    /// # Errors
    /// [`BatchError::Repository`].
    pub async fn list(
        &self,
        user: &UserId,
        page: u32,
        limit: u32,
    ) -> Result<Vec<BatchSummary>, BatchError> {
        let offset = u64::from(page.max(1) - 1) * u64::from(limit);
        Ok(self.ports.batches.list(user, offset, limit).await?)
    }

    /// The batch `id` of `user` with its items.
    ///
    /// # Errors
    /// [`BatchError::NotFound`] or [`BatchError::Repository`].
    pub async fn get(&self, user: &UserId, id: BatchId) -> Result<BatchDetail, BatchError> {
        self.ports
            .batches
            .find(user, id)
            .await?
            .ok_or(BatchError::NotFound)
    }

    /// The batch `id` of `user` with its counts (the progress tracker's poll).
    ///
    /// # Errors
    /// [`BatchError::NotFound`] or [`BatchError::Repository`].
    pub async fn progress(&self, user: &UserId, id: BatchId) -> Result<BatchSummary, BatchError> {
        self.ports
            .batches
            .summary(user, id)
            .await?
            .ok_or(BatchError::NotFound)
    }

    /// Queues the failed items of batch `id` again, each as a fresh generation in its place
    /// (billed again: a failed item's slot or hold was given back), except items already
    /// retried [`MAX_ITEM_RETRIES`] times. Answers how many were queued.
    ///
    /// # Errors
    /// [`BatchError::NotFound`], [`BatchError::Insufficient`] (nothing queued),
    /// [`BatchError::CreditsUnavailable`] or [`BatchError::Repository`].
    pub async fn retry(&self, user: &UserId, id: BatchId) -> Result<u32, BatchError> {
        let detail = self.get(user, id).await?;
        let now = self.ports.clock.now();
        let (replacing, items): (Vec<GenerationId>, Vec<NewBatchItem>) = detail
            .items
            .iter()
            .filter(|item| {
                item.generation.status == GenerationStatus::Failed
                    && item.retry_count < MAX_ITEM_RETRIES
            })
            .map(|item| {
                let record = &item.generation.record;
                let again = NewBatchItem {
                    generation: NewGeneration {
                        id: GenerationId::new_random(),
                        created_at: now,
                        ..record.clone()
                    },
                    index: item.index,
                    retry_count: item.retry_count + 1,
                };
                (record.id, again)
            })
            .unzip();
        if items.is_empty() {
            return Ok(0);
        }
        let target = BatchTarget::Retry {
            user: user.clone(),
            batch: id,
            replacing,
        };
        let Some(_) = self.queue(user, &target, &items).await? else {
            return Ok(0);
        };
        tracing::info!(batch_id = %id, user_id = %user, items = items.len(), "failed batch items queued again");
        (self.wake)();
        Ok(u32::try_from(items.len()).unwrap_or(u32::MAX))
    }

    /// Cancels every item of batch `id` that has not ended: a queued one at once (its slot or
    /// hold given back), one at the provider cancelled there too. Completed items stay.
    ///
    /// # Errors
    /// [`BatchError::NotFound`] or [`BatchError::Repository`].
    pub async fn cancel(&self, user: &UserId, id: BatchId) -> Result<u32, BatchError> {
        let detail = self.get(user, id).await?;
        let mut open: Vec<_> = detail
            .items
            .iter()
            .map(|item| &item.generation)
            .filter(|generation| !generation.status.is_terminal())
            .collect();
        // Queued items first, so none of them starts while the running ones are cancelled.
        open.sort_by_key(|generation| generation.status == GenerationStatus::Processing);
        let mut cancelled = 0;
        for generation in open {
            if self.cancel.cancel(user, generation.record.id).await? {
                cancelled += 1;
            }
        }
        tracing::info!(batch_id = %id, user_id = %user, cancelled, "batch cancelled");
        Ok(cancelled)
    }

    /// Deletes batch `id`: cancels what still runs first; its generations and their images
    /// (paid for) stay in the user's history and gallery.
    ///
    /// # Errors
    /// [`BatchError::NotFound`] or [`BatchError::Repository`].
    pub async fn delete(&self, user: &UserId, id: BatchId) -> Result<(), BatchError> {
        self.cancel(user, id).await?;
        if self.ports.batches.delete(user, id).await? {
            Ok(())
        } else {
            Err(BatchError::NotFound)
        }
    }
}

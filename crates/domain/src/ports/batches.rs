//! Batches as stored ([`BatchRepository`]) and their durable queue ([`BatchQueue`]).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::batch::{BatchDetail, BatchSummary, NewBatch};
use crate::credits::CreditAmount;
use crate::error::RepositoryError;
use crate::freemium::FreemiumPolicy;
use crate::generation::{Generation, NewGeneration};
use crate::ids::{BatchId, GenerationId, UserId};
use crate::money::{BatchRefusal, Funds};

/// One item to queue: a generation and its place in its batch.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBatchItem {
    /// The generation, recorded `queued`.
    pub generation: NewGeneration,
    /// Its position in the batch (0-based).
    pub index: u32,
    /// How often the item at this position was retried before.
    pub retry_count: u32,
}

/// Where queued items go.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchTarget {
    /// A new batch, recorded with its items.
    New(NewBatch),
    /// Failed items of an existing batch of `user`, each replaced by a fresh generation: the
    /// failed generations in `replacing` leave the batch (they stay in the user's history).
    Retry {
        /// The batch's owner.
        user: UserId,
        /// The batch.
        batch: BatchId,
        /// The failed generations replaced, one per new item.
        replacing: Vec<GenerationId>,
    },
}

/// Items just queued, and what they cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    /// Free generations left for the user after them.
    pub free_generations_remaining: u32,
    /// The user's local balance after their holds ([`Funds::Local`] only).
    pub balance_after: Option<CreditAmount>,
}

/// Batches as stored. A batch's items are its generations (`batchId` set); counts and status
/// are derived from them on every read.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait BatchRepository: Send + Sync {
    /// Queues `items` into `target` in **one transaction** with their money: the user's
    /// account is read and locked, [`decide_batch_access`](crate::money::decide_batch_access)
    /// decides every item under `policy` and `funds`, and each item is recorded `queued` with
    /// its own billing (and its hold's `reserve` entry). Refused as a whole: nothing is
    /// written. A retry whose failed generations are no longer all failed in the batch (a
    /// concurrent retry took them) writes nothing and answers `Ok(Ok(None))`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn queue(
        &self,
        target: &BatchTarget,
        items: &[NewBatchItem],
        policy: &FreemiumPolicy,
        funds: Funds,
    ) -> Result<Result<Option<Queued>, BatchRefusal>, RepositoryError>;

    /// One page of `user`'s batches, newest first, skipping `offset`, with their counts.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn list(
        &self,
        user: &UserId,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<BatchSummary>, RepositoryError>;

    /// The batch `id` of `user` with its items by index (another user's is `Ok(None)`, as a
    /// missing one).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn find(
        &self,
        user: &UserId,
        id: BatchId,
    ) -> Result<Option<BatchDetail>, RepositoryError>;

    /// The batch `id` of `user` with its counts, without its items.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn summary(
        &self,
        user: &UserId,
        id: BatchId,
    ) -> Result<Option<BatchSummary>, RepositoryError>;

    /// Deletes the batch `id` of `user`. Its generations stay (and their images, paid for) in
    /// the user's history, no longer part of a batch. `false` when there is no such batch.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn delete(&self, user: &UserId, id: BatchId) -> Result<bool, RepositoryError>;
}

/// A queued item a worker claimed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedItem {
    /// The generation, still `queued`, claimed until the lease ends.
    pub generation: Generation,
    /// Its batch's provider model version, if one was asked for.
    pub model_version: Option<String>,
    /// When the first of this item's earlier claims began, if it had any whose worker may have
    /// submitted it (the worker stopped, or gave it back unsure): a prediction may exist for it
    /// since then.
    pub earlier_claim: Option<DateTime<Utc>>,
}

/// The durable queue of batch items: `queued` generations with a batch, claimed by workers of
/// any instance.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait BatchQueue: Send + Sync {
    /// Claims the next item for `owner` until `lease` has passed, or `None` when no item may
    /// run now. Claimable: `queued` items of a batch, never claimed or whose claim's lease
    /// ended (its worker stopped). Fair: an item of a user with fewer items in flight goes
    /// first (then the oldest batch, then the lowest index), and a user with `per_user` items
    /// in flight (claimed with a live lease, or `processing`) gets none. Concurrent claims —
    /// of this instance or another — never take the same item, and never let one user past
    /// `per_user` (`FOR UPDATE SKIP LOCKED` and a per-user lock on PostgreSQL, the single
    /// writer on SQLite).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn claim(
        &self,
        owner: &str,
        per_user: u32,
        lease: Duration,
        at: DateTime<Utc>,
    ) -> Result<Option<ClaimedItem>, RepositoryError>;

    /// Gives the item `id` back to the queue, if `owner` still holds its claim and it is still
    /// `queued` (its worker did not submit it): claimable again from `not_before` (at once when
    /// `None`), no longer in flight. With `forget_claim` the item is as if never claimed — for
    /// a worker whose claim was the first (no [`ClaimedItem::earlier_claim`]) and who submitted
    /// nothing, so no prediction can exist; without it the start of the earlier claims is kept
    /// and the next claim reports it, so that worker looks for their prediction first.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn release(
        &self,
        id: GenerationId,
        owner: &str,
        not_before: Option<DateTime<Utc>>,
        forget_claim: bool,
    ) -> Result<(), RepositoryError>;
}

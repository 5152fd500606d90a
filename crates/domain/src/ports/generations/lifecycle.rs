//! The lifecycle of a generation as compare-and-set moves, each one transaction that also
//! moves the generation's money (see [`crate::money`]): creating takes the free slot or the
//! hold; completing captures the hold; failing or cancelling gives both back.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::credits::CreditAmount;
use crate::error::RepositoryError;
use crate::freemium::{AccessDecision, FreemiumPolicy};
use crate::generation::{Generation, GenerationStatus, NewGeneration};
use crate::ids::{GenerationId, PredictionId};
use crate::image::{Image, NewImage};
use crate::live::Progress;
use crate::money::{Funds, Refusal};
use crate::ports::generations::DueCharge;

/// A forward move in a generation's lifecycle that stores no image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Submitted to the provider: `pending → processing`, recording the prediction id.
    Processing {
        /// The provider's id for the prediction.
        prediction_id: PredictionId,
    },
    /// It failed: `pending | processing → failed`.
    Failed {
        /// Why, safe to show to the user.
        message: String,
    },
    /// The user cancelled it: `pending | processing → cancelled`.
    Cancelled {
        /// Why, e.g. "Cancelled by user".
        message: String,
    },
}

impl Transition {
    /// The status the generation ends in.
    pub fn target(&self) -> GenerationStatus {
        match self {
            Self::Processing { .. } => GenerationStatus::Processing,
            Self::Failed { .. } => GenerationStatus::Failed,
            Self::Cancelled { .. } => GenerationStatus::Cancelled,
        }
    }
}

/// A generation just created, and what it costs.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    /// The stored generation, `pending`.
    pub generation: Generation,
    /// The access decision taken with it.
    pub decision: AccessDecision,
    /// Free generations left for the user after this one.
    pub free_generations_remaining: u32,
    /// The user's local balance after the hold ([`Funds::Local`] only).
    pub balance_after: Option<CreditAmount>,
}

/// Proof of holding a generation's finalisation lease: a random id drawn by each successful
/// [`claim_finalization`](GenerationLifecycle::claim_finalization) and stored with the lease.
/// Only its holder may renew the lease, complete the generation or fail it while the lease
/// is live.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseToken(String);

impl LeaseToken {
    /// A fresh random token.
    pub fn new_random() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// A token as stored.
    pub fn from_stored(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A generation that has just been completed by a call to `complete`.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The generation as completed (so the caller need not read it back).
    pub generation: Generation,
    /// Its image.
    pub image: Image,
    /// What is owed to the remote credits service, if it was paid from there.
    pub charge: Option<DueCharge>,
}

/// A generation's lifecycle: created with its money decided, moved forward by compare-and-set,
/// finalised by the holder of a lease.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait GenerationLifecycle: Send + Sync {
    /// Decides access with `policy` and records the generation, atomically: the user's account
    /// is read and [`decide_access`](crate::money::decide_access) applied — the free slot is
    /// taken, or the price is held (from the local balance, never below zero, or against the
    /// remote balance in `funds`) with a `reserve` ledger entry — in the same transaction as
    /// the insert. Concurrent calls for one user are serialised on the user's
    /// account, so they cannot spend the same slot or credits twice.
    ///
    /// # Errors
    /// `Ok(Err(Refusal))` when the policy refuses or needs the remote balance (nothing is
    /// written); [`RepositoryError::Conflict`] when a generation with that id exists;
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn create(
        &self,
        generation: &NewGeneration,
        policy: &FreemiumPolicy,
        funds: Funds,
    ) -> Result<Result<Created, Refusal>, RepositoryError>;

    /// Applies `transition` at `at` as one compare-and-set, only from a status that
    /// [`GenerationStatus::can_move_to`] the target. `true` when this call moved it; `false`
    /// when it was elsewhere (then nothing changes). Of concurrent calls at most one wins.
    /// `Failed` and `Cancelled` give the free slot back or release the hold, in the same
    /// transaction, and set `completed_at`; they are refused (`false`) while someone holds a
    /// finalisation lease that is live at `at`: only the holder ends such a generation
    /// ([`complete`](Self::complete), [`fail_finalization`](Self::fail_finalization)).
    ///
    /// # Errors
    /// [`RepositoryError::Conflict`] when the prediction id belongs to another generation;
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn transition(
        &self,
        id: GenerationId,
        transition: &Transition,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;

    /// Completes the generation with its stored `image`, as the holder of its finalisation
    /// lease `token`, in one transaction: compare-and-set to `completed`, insert the image, and
    /// settle the hold once (a `capture` ledger entry): a local hold is spent (setting
    /// `credits_used`); a hold against the remote service becomes a [`DueCharge`], kept until
    /// [`settle_charge`](crate::ports::RemoteChargeQueue::settle_charge). Returns the completion (the generation as
    /// completed, its image, any due charge) when this call completed it, `None` when it was already final or `token` no longer holds the lease (another
    /// finaliser took it over after it ran out): nothing changes then.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn complete(
        &self,
        id: GenerationId,
        token: &LeaseToken,
        image: &NewImage,
        generation_time_seconds: Option<i32>,
        at: DateTime<Utc>,
    ) -> Result<Option<Completion>, RepositoryError>;

    /// Takes the right to finalise a `processing` generation for `lease`: a fresh
    /// [`LeaseToken`] for exactly one of concurrent callers, until the lease runs out (a
    /// crashed finaliser's generation becomes claimable again). `None` when it is not
    /// processing or someone holds a live lease.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn claim_finalization(
        &self,
        id: GenerationId,
        lease: Duration,
        at: DateTime<Utc>,
    ) -> Result<Option<LeaseToken>, RepositoryError>;

    /// Extends the lease `token` holds to `at + lease`, even if it ran out meanwhile, as long
    /// as nobody took it over and the generation is still `processing`. `false` when the
    /// lease is lost (then the holder's `complete` will fail too).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn renew_finalization(
        &self,
        id: GenerationId,
        token: &LeaseToken,
        lease: Duration,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;

    /// Fails a `processing` generation whose finalisation failed, as the holder of its lease
    /// `token`: `processing → failed` with `message`, giving the free slot or the hold back as
    /// [`transition`](Self::transition) does. `false` when `token` no longer holds the lease or
    /// the generation is final (nothing changes).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn fail_finalization(
        &self,
        id: GenerationId,
        token: &LeaseToken,
        message: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;

    /// Gives the lease `token` holds back before it runs out (the provider was not done yet);
    /// nothing when `token` no longer holds it.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn release_claim(
        &self,
        id: GenerationId,
        token: &LeaseToken,
    ) -> Result<(), RepositoryError>;

    /// Takes the right to ask the provider about a `processing` generation at `at`, as one
    /// compare-and-set on its "provider checked at" time: `true` when no one took it after
    /// `at - min_interval` (the time becomes `at`), so of concurrent callers on any instance at
    /// most one per `min_interval` gets `true`; `false` when someone did, or when the
    /// generation is not processing (then nothing changes).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn claim_provider_check(
        &self,
        id: GenerationId,
        min_interval: Duration,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;

    /// Records that the provider reports `progress` for a `processing` generation, as an event
    /// in the event log (see [`crate::ports::EventLog`]) with the generation's status. `true`
    /// when recorded; `false` when the generation is not processing or an event at least this
    /// far along is already recorded for it (a repeated or late report changes nothing).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn record_progress(
        &self,
        id: GenerationId,
        progress: Progress,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;
}

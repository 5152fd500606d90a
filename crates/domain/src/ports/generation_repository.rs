//! Generations, their lifecycle, and the money that moves with it.
//!
//! Every method that changes a generation is one database transaction that also moves its free
//! slot or its credit hold, so a status and its money can never disagree: creating takes the
//! slot or the hold; completing captures the hold; failing or cancelling gives both back.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::credits::CreditAmount;
use crate::error::RepositoryError;
use crate::freemium::{AccessDecision, FreemiumPolicy, InsufficientCredits};
use crate::generation::{Generation, GenerationStatus, NewGeneration};
use crate::ids::{GenerationId, PredictionId, UserId};
use crate::image::{Image, NewImage};

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

/// Where the credits of a paid generation come from, as known when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Funds {
    /// The local ledger: the balance is read, and the price held, inside the transaction.
    Local,
    /// The remote credits service, which reported `balance` just before. Credits held locally
    /// for the user's paid generations in flight are subtracted from it, so concurrent
    /// requests cannot spend the same remote credits twice; the price is held locally and
    /// charged to the service after success.
    Remote(CreditAmount),
    /// The remote credits service, not asked (the user seemed to have a free slot, or credits
    /// are not enforced). If the decision needs a balance after all, `create` refuses with
    /// [`Refusal::BalanceNeeded`] and writes nothing.
    RemoteNotFetched,
    /// The remote credits service could not be reached and fail-open is configured: a
    /// generation that would be paid is recorded as unbilled.
    RemoteUnavailable,
}

/// Why `create` wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The policy refused: no free slot and not enough credits.
    Insufficient(InsufficientCredits),
    /// [`Funds::RemoteNotFetched`] was passed but the decision needs the balance: ask the
    /// credits service and call again.
    BalanceNeeded,
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
/// [`claim_finalization`](GenerationRepository::claim_finalization) and stored with the lease.
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

/// A charge owed to the remote credits service for a completed paid generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCharge {
    /// The generation paid for.
    pub generation_id: GenerationId,
    /// Whose credits.
    pub user_id: UserId,
    /// How much.
    pub amount: CreditAmount,
}

/// How a due charge ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// The credits service charged it: the generation's `credits_used` becomes the amount.
    Charged,
    /// The credits service refused (e.g. the user spent the credits elsewhere meanwhile):
    /// nothing was charged, `credits_used` stays 0.
    Refused {
        /// Why, for the operators.
        reason: String,
    },
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

/// Stored generations.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait GenerationRepository: Send + Sync {
    /// Decides access with `policy` and records the generation, atomically: the user's free
    /// slot is taken, or the price is held (from the local balance, never below zero, or
    /// against the remote balance in `funds`), in the same transaction as the insert, with a
    /// `reserve` ledger entry. Concurrent calls for one user are serialised on the user's
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

    /// The generation with `id`, whoever owns it (webhooks and the reconciler).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn find(&self, id: GenerationId) -> Result<Option<Generation>, RepositoryError>;

    /// The generation with `id` if it belongs to `user`; another user's is `Ok(None)`, exactly
    /// as a missing one, so its existence is not revealed.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn find_for_user(
        &self,
        user: &UserId,
        id: GenerationId,
    ) -> Result<Option<Generation>, RepositoryError>;

    /// The generation submitted as `prediction_id`, if any.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn find_by_prediction(
        &self,
        prediction_id: &PredictionId,
    ) -> Result<Option<Generation>, RepositoryError>;

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
    /// [`settle_charge`](Self::settle_charge). Returns the completion (the generation as
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

    /// Takes up to `limit` generations still `pending` (never submitted: their server stopped
    /// between recording and submitting them) created before `older_than`, oldest first, for
    /// `hold` from `at`: concurrent callers (the reconcilers of other instances) take
    /// disjoint rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), and a taken row is not taken
    /// again before `at + hold`.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn stale_pending(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        hold: Duration,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError>;

    /// Up to `limit` charges owed to the remote credits service since before `older_than`,
    /// oldest first (charges whose first attempt failed or whose server stopped before making
    /// it; younger ones are left to the request that is collecting them).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn due_charges(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueCharge>, RepositoryError>;

    /// Records how the due charge of generation `id` ended, once: `true` when this call
    /// recorded it, `false` when it was no longer due.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn settle_charge(
        &self,
        id: GenerationId,
        outcome: &ChargeOutcome,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;

    /// One page of `user`'s generations, newest first, skipping `offset`, and how many they
    /// have in all.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn history(
        &self,
        user: &UserId,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Generation>, u64), RepositoryError>;

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

    /// Takes up to `limit` generations for the reconciler, oldest first: those `processing`
    /// since before `older_than` that nobody holds a lease on, and those whose finaliser's
    /// lease ran out before `at` (its server stopped: they are taken at once, however young).
    /// Taken for `hold` as in [`stale_pending`](Self::stale_pending).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn stale_processing(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        hold: Duration,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError>;
}

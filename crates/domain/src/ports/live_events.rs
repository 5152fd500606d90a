//! The event log behind live progress, and the count of open streams.
//!
//! Every change a client can watch (a generation's status, the progress a provider reports, a
//! user's credits) is written to the event log **in the same transaction as the change**, so a
//! committed change always has its event and a rolled-back one never does. Each event gets an
//! [`EventSeq`] when its transaction commits; within one user's events the numbers grow in commit
//! order, so a stream that reconnects with `Last-Event-ID: N` and reads the user's events after
//! `N` misses none. Events are kept for a retention window and then pruned.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::ids::{GenerationId, UserId};
use crate::live::{EventSeq, LiveEvent};

/// Reads of the event log, and its upkeep.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait EventLog: Send + Sync {
    /// `user`'s events numbered after `after`, oldest first, at most `limit` of them; only those
    /// of `generation` when given. Events of other users are never returned.
    ///
    /// # Errors
    /// [`RepositoryError`] when the database fails.
    async fn replay(
        &self,
        user: &UserId,
        after: EventSeq,
        generation: Option<GenerationId>,
        limit: u32,
    ) -> Result<Vec<LiveEvent>, RepositoryError>;

    /// The newest retained event of `generation` (its latest status and progress), if any.
    ///
    /// # Errors
    /// [`RepositoryError`] when the database fails.
    async fn latest(&self, generation: GenerationId) -> Result<Option<LiveEvent>, RepositoryError>;

    /// The number of `user`'s newest event, if any is retained: where a stream opened now
    /// starts (replaying after it later misses nothing that happens from now on).
    ///
    /// # Errors
    /// [`RepositoryError`] when the database fails.
    async fn newest(&self, user: &UserId) -> Result<Option<EventSeq>, RepositoryError>;

    /// The oldest event still retained, if any: a client whose `Last-Event-ID` is older than
    /// this may have missed pruned events.
    ///
    /// # Errors
    /// [`RepositoryError`] when the database fails.
    async fn horizon(&self) -> Result<Option<EventSeq>, RepositoryError>;

    /// Deletes the events written before `before`; how many. Idempotent, safe on every instance.
    ///
    /// # Errors
    /// [`RepositoryError`] when the database fails.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError>;
}

/// The open event streams of every instance, for the per-user cap: a stream is counted from
/// [`open`](Self::open) until [`close`](Self::close), or until its instance stops renewing
/// [`keep_alive`](Self::keep_alive) (a crashed instance's streams stop counting).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait StreamLeases: Send + Sync {
    /// Counts a new stream of `user` held by `instance` if the user has fewer than `per_user`
    /// counted streams on all live instances; atomically, so racing opens on several instances
    /// never exceed the cap. Returns the stream's lease id, or `None` at the cap.
    ///
    /// # Errors
    /// [`RepositoryError`] when the database fails.
    async fn open(
        &self,
        user: &UserId,
        instance: &str,
        per_user: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, RepositoryError>;

    /// Stops counting the stream `lease`. Idempotent.
    ///
    /// # Errors
    /// [`RepositoryError`] when the database fails.
    async fn close(&self, lease: i64) -> Result<(), RepositoryError>;

    /// Marks `instance` alive until `until`; streams of instances not renewed past `now` stop
    /// counting (and are deleted).
    ///
    /// # Errors
    /// [`RepositoryError`] when the database fails.
    async fn keep_alive(
        &self,
        instance: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), RepositoryError>;
}

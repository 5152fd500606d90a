//! The reconciler's pass: finishing generations whose webhook never came or whose server
//! stopped, collecting charges still owed to the remote credits service, and forgetting
//! expired `Idempotency-Key`s.

use std::sync::Arc;
use std::time::Duration;

use crate::ports::{
    Clock, GenerationLifecycle, GenerationReads, GenerationRepository, IdempotencyStore,
    ReconcilerQueue, Transition,
};
use crate::services::credits::CreditService;

use super::finalize::Settled;
use super::once::expiry_horizon;
use super::shared::end;
use super::{FinalizeGeneration, GenerateError, PipelineSettings};

/// Finishes what requests and webhooks left: asks the provider through the finaliser, fails
/// generations never submitted, retries remote charges and purges expired idempotency keys.
#[derive(Clone)]
pub struct ReconcileGenerations {
    /// Generations moved through their lifecycle (and their money).
    lifecycle: Arc<dyn GenerationLifecycle>,
    /// Generations read back.
    reads: Arc<dyn GenerationReads>,
    /// The reconciler's work: generations left behind.
    queue: Arc<dyn ReconcilerQueue>,
    idempotency: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
    credits: CreditService,
    finalize: FinalizeGeneration,
    /// How long a row one pass takes is not taken again.
    reconciler_interval: Duration,
    /// How long a generation may stay `pending`.
    pending_timeout: Duration,
    /// How long an `Idempotency-Key` is kept.
    idempotency_ttl: Duration,
}

impl ReconcileGenerations {
    /// A reconciler over these ports, with the intervals of `settings`.
    pub(super) fn new(
        generations: Arc<dyn GenerationRepository>,
        idempotency: Arc<dyn IdempotencyStore>,
        clock: Arc<dyn Clock>,
        credits: CreditService,
        finalize: FinalizeGeneration,
        settings: &PipelineSettings,
    ) -> Self {
        Self {
            lifecycle: generations.clone(),
            reads: generations.clone(),
            queue: generations,
            idempotency,
            clock,
            credits,
            finalize,
            reconciler_interval: settings.reconciler_interval,
            pending_timeout: settings.pending_timeout,
            idempotency_ttl: settings.idempotency_ttl,
        }
    }

    /// Finalises up to `limit` generations stuck in `processing` for longer than `min_age`
    /// (missed webhooks, restarts) or whose finaliser's lease ran out (its server stopped) by
    /// asking the provider, fails those left `pending` for longer than the pending timeout
    /// (their server stopped before submitting them; their free slot or hold is given back),
    /// and retries up to `limit` charges still owed to the remote credits service. Rows are
    /// taken so that the reconcilers of several instances share them instead of each polling
    /// every row. Returns how many generations became final.
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn reconcile(&self, min_age: Duration, limit: u32) -> Result<usize, GenerateError> {
        let now = self.clock.now();
        let older_than =
            now - chrono::Duration::from_std(min_age).unwrap_or_else(|_| chrono::Duration::zero());
        let hold = self.reconciler_interval;
        let stale = self
            .queue
            .stale_processing(older_than, now, hold, limit)
            .await?;
        let mut finished = 0;
        for generation in stale {
            if let Some(Settled::Completed(_)) = self.finalize.poll_provider(&generation).await? {
                finished += 1;
            } else if let Some(after) = self.reads.find(generation.record.id).await?
                && after.status.is_terminal()
            {
                finished += 1;
            }
        }
        let interrupted = now
            - chrono::Duration::from_std(self.pending_timeout)
                .unwrap_or_else(|_| chrono::Duration::zero());
        for generation in self
            .queue
            .stale_pending(interrupted, now, hold, limit)
            .await?
        {
            let failed = Transition::Failed {
                message: "The generation was interrupted before it reached the provider".to_owned(),
            };
            if end(
                &*self.lifecycle,
                &generation.record,
                &failed,
                self.clock.now(),
            )
            .await?
            {
                tracing::warn!(generation_id = %generation.record.id, "interrupted generation failed; its access was given back");
                finished += 1;
            }
        }
        self.credits.collect_due(min_age, limit).await?;
        Ok(finished)
    }

    /// Deletes about `limit` keys older than their time to live. Returns how many went.
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn purge_expired_keys(&self, limit: u32) -> Result<u64, GenerateError> {
        let horizon = expiry_horizon(self.clock.now(), self.idempotency_ttl);
        Ok(self.idempotency.purge_expired(horizon, limit).await?)
    }
}

//! Running queued batch items: claim one from the durable queue, count it against the user's
//! generation limits, and run it through the generation pipeline. Each instance runs a bounded
//! number of these loops; the queue's claim keeps them fair across users and instances.

use std::sync::Arc;
use std::time::Duration;

use crate::error::ErrorChain;
use crate::ports::{BatchQueue, Clock};
use crate::services::generations::{GenerateError, StartGeneration};
use crate::services::limits::GenerationLimits;

/// How long an item whose earlier prediction could not be looked for waits before its next
/// claim.
const LOOKUP_RETRY: Duration = Duration::from_secs(30);

/// How the runner claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunnerSettings {
    /// Most items of one user in flight at once, across instances (`BATCH_CONCURRENCY_PER_USER`).
    pub per_user: u32,
    /// How long a claim lasts before another worker may take the item (its worker stopped):
    /// longer than any submit can take.
    pub lease: Duration,
}

/// What one [`BatchRunner::run_next`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// No item may run now.
    Idle,
    /// An item was claimed and run (or failed, or put back for later).
    Ran,
}

/// Claims and runs batch items.
#[derive(Clone)]
pub struct BatchRunner {
    queue: Arc<dyn BatchQueue>,
    start: StartGeneration,
    limits: GenerationLimits,
    clock: Arc<dyn Clock>,
    settings: RunnerSettings,
}

impl BatchRunner {
    /// A runner claiming from `queue`, counting starts with `limits`, running through `start`.
    pub fn new(
        queue: Arc<dyn BatchQueue>,
        start: StartGeneration,
        limits: GenerationLimits,
        clock: Arc<dyn Clock>,
        settings: RunnerSettings,
    ) -> Self {
        Self {
            queue,
            start,
            limits,
            clock,
            settings,
        }
    }

    /// Claims the next item as `owner` (one worker's name) and runs it until it ends or the
    /// sync timeout passes (the webhook or the reconciler then finishes it). An item of a
    /// user over their generation limits goes back to the queue until the limit has room; an
    /// item whose earlier prediction could not be looked for goes back for a while, still
    /// knowing since when a prediction may exist.
    ///
    /// # Errors
    /// [`GenerateError::Repository`] (the item is left to its claim's lease: it may have been
    /// submitted, and the next claim looks for the prediction first).
    pub async fn run_next(&self, owner: &str) -> Result<RunOutcome, GenerateError> {
        let now = self.clock.now();
        let Some(item) = self
            .queue
            .claim(owner, self.settings.per_user, self.settings.lease, now)
            .await?
        else {
            return Ok(RunOutcome::Idle);
        };
        let id = item.generation.record.id;
        let user = &item.generation.record.user_id;
        if let Err(limited) = self.limits.check(user).await? {
            let later = now
                + chrono::Duration::from_std(limited.retry_after)
                    .unwrap_or_else(|_| chrono::Duration::seconds(60));
            // Nothing was submitted by this claim: only an earlier one may have.
            let forget = item.earlier_claim.is_none();
            self.queue.release(id, owner, Some(later), forget).await?;
            return Ok(RunOutcome::Ran);
        }
        match self.start.run_claimed(&item).await {
            Ok(view) => {
                tracing::debug!(generation_id = %id, status = %view.generation.status, "batch item run");
                Ok(RunOutcome::Ran)
            }
            Err(GenerateError::Repository(error)) => {
                // The item may have been submitted before the database failed: it is left to
                // its lease, and the next claim looks for the prediction first.
                Err(GenerateError::Repository(error))
            }
            Err(error) => {
                tracing::info!(generation_id = %id, error = %ErrorChain(&error), "batch item did not run");
                // A refused submit failed the item: nothing to give back. An earlier
                // prediction that could not be looked for (only a re-claimed item looks)
                // leaves it queued: it goes back for a while, the next claim still told since
                // when a prediction may exist.
                if item.earlier_claim.is_some() {
                    let later = self.clock.now()
                        + chrono::Duration::from_std(LOOKUP_RETRY)
                            .unwrap_or_else(|_| chrono::Duration::seconds(30));
                    self.queue.release(id, owner, Some(later), false).await?;
                }
                Ok(RunOutcome::Ran)
            }
        }
    }
}

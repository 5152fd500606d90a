//! Running queued batch items: claim one from the durable queue, count it against the user's
//! generation limits, and run it through the generation pipeline. Each instance runs a bounded
//! number of these loops; the queue's claim keeps them fair across users and instances.

use std::sync::Arc;
use std::time::Duration;

use crate::error::ErrorChain;
use crate::ports::{BatchQueue, Clock};
use crate::services::generations::{GenerateError, StartGeneration};
use crate::services::limits::GenerationLimits;

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
    /// item whose earlier prediction could not be looked for keeps its claim until the lease
    /// ends, so the next claim still knows since when a prediction may exist.
    ///
    /// # Errors
    /// [`GenerateError::Repository`] (a claimed item not yet submitted is given back).
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
            self.queue.release(id, owner, Some(later)).await?;
            return Ok(RunOutcome::Ran);
        }
        match self.start.run_claimed(&item).await {
            Ok(view) => {
                tracing::debug!(generation_id = %id, status = %view.generation.status, "batch item run");
                Ok(RunOutcome::Ran)
            }
            Err(GenerateError::Repository(error)) => {
                // Still queued (not submitted) only if the failure came before the submit.
                if let Err(release) = self.queue.release(id, owner, None).await {
                    tracing::warn!(generation_id = %id, error = %ErrorChain(&release), "cannot give the item back; its lease will");
                }
                Err(GenerateError::Repository(error))
            }
            Err(error) => {
                tracing::info!(generation_id = %id, error = %ErrorChain(&error), "batch item did not run");
                // A refused submit failed the item (nothing to give back). An earlier
                // prediction that could not be looked for leaves it queued and claimed: it is
                // not released, as a release would forget when its claims began and the next
                // claim would submit it a second time; it is taken again once the lease ends.
                Ok(RunOutcome::Ran)
            }
        }
    }
}

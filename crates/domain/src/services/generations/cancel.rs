//! A user's cancel: the provider is asked to stop and the access is given back — unless a
//! finaliser already holds the generation, which then wins.

use std::sync::Arc;
use std::time::Duration;

use crate::error::ErrorChain;
use crate::ids::{GenerationId, UserId};
use crate::ports::{
    Clock, GenerationLifecycle, GenerationReads, GenerationRepository, Providers, Transition,
};

use super::shared::end;
use super::{GenerateError, PipelineSettings};

/// The shortest pause between two reads of a cancel waiting for a finaliser.
const CANCEL_POLL_MIN: Duration = Duration::from_millis(50);

/// Cancels generations for their users.
#[derive(Clone)]
pub struct CancelGeneration {
    /// Generations moved through their lifecycle (and their money).
    lifecycle: Arc<dyn GenerationLifecycle>,
    /// Generations read back.
    reads: Arc<dyn GenerationReads>,
    /// The providers, to ask the generation's own to stop.
    providers: Providers,
    clock: Arc<dyn Clock>,
    /// How often a waiting cancel reads the row (at least [`CANCEL_POLL_MIN`]).
    poll_interval: Duration,
    /// About how long a cancel waits for a finaliser.
    finalize_lease: Duration,
}

impl CancelGeneration {
    /// Cancelling over these ports, waiting as `settings` say.
    pub(super) fn new(
        generations: Arc<dyn GenerationRepository>,
        providers: Providers,
        clock: Arc<dyn Clock>,
        settings: &PipelineSettings,
    ) -> Self {
        Self {
            lifecycle: generations.clone(),
            reads: generations,
            providers,
            clock,
            poll_interval: settings.poll_interval,
            finalize_lease: settings.finalize_lease,
        }
    }

    /// Cancels `user`'s generation `id` if it is not final: asks the provider to cancel (a
    /// failure is logged) and gives the access back. `false` when there is no such generation.
    ///
    /// Once a finaliser holds the generation (the provider succeeded and its image is being
    /// downloaded and stored), the finaliser wins: the cancel waits, polling the row for about
    /// one finalisation lease, until the generation is final. It then ends `completed` and
    /// paid (the cancel came too late), or `cancelled` when the finaliser's lease ran out (its
    /// server stopped). A finaliser still at work after that wait completes the generation
    /// after the cancel has answered. An inline provider's generation
    /// ([`ImageProvider::answers_in_submit`](crate::ports::ImageProvider::answers_in_submit))
    /// is held the same way for its whole call, which its provider cannot cancel.
    ///
    /// # Errors
    /// [`GenerateError::Repository`].
    pub async fn cancel(&self, user: &UserId, id: GenerationId) -> Result<bool, GenerateError> {
        let Some(generation) = self.reads.find_for_user(user, id).await? else {
            return Ok(false);
        };
        if generation.status.is_terminal() {
            return Ok(true);
        }
        if let Some(prediction_id) = &generation.prediction_id
            && let Some(provider) = self.providers.get(&generation.record.provider)
            && let Err(error) = provider.cancel(prediction_id).await
        {
            tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "provider cancel failed");
        }
        let cancelled = Transition::Cancelled {
            message: "Cancelled by user".to_owned(),
        };
        let pause = self.poll_interval.max(CANCEL_POLL_MIN);
        let attempts = self.finalize_lease.as_millis() / pause.as_millis().max(1) + 2;
        for attempt in 0..attempts {
            if end(
                &*self.lifecycle,
                &generation.record,
                &cancelled,
                self.clock.now(),
            )
            .await?
            {
                return Ok(true);
            }
            match self.reads.find(id).await? {
                Some(now) if !now.status.is_terminal() && attempt + 1 < attempts => {
                    // A finaliser holds it: wait for it to finish or for its lease to run out.
                    self.clock.sleep(pause).await;
                }
                _ => return Ok(true),
            }
        }
        Ok(true)
    }
}

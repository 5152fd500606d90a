//! Starting a generation on an inline provider ([`ImageProvider::answers_in_submit`]), whose
//! one call makes the image: the generation is `processing` and its finalisation lease held
//! before the call, so the call may outlive the request — a client that does not wait gets
//! `processing` at once and the call finishes in the background, through the same
//! finalisation (exactly once, the same billing) as any other provider's result.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use crate::error::{ErrorChain, RepositoryError};
use crate::generation::{Generation, GenerationStatus, NewGeneration};
use crate::ids::PredictionId;
use crate::ports::{ImageProvider, ProviderRequest, Transition};

use super::super::finalize::{Inline, Settled};
use super::super::{GenerateError, GenerationView};
use super::StartGeneration;

impl StartGeneration {
    /// Runs the call of the inline `provider` for the generation `new` describes, recorded as
    /// `generation`: waits for it up to the sync timeout when the client waits (a refusal is
    /// then this request's error, as a refused submit of any provider), otherwise — or when
    /// the call outlasts the timeout — leaves it to the background and answers `processing`.
    pub(super) async fn start_inline(
        &self,
        provider: Arc<dyn ImageProvider>,
        new: NewGeneration,
        generation: Generation,
        request: ProviderRequest,
    ) -> Result<GenerationView, GenerateError> {
        let id = new.id;
        let wait = request.wait;
        let prediction_id = PredictionId::parse(format!("{}-{id}", new.provider))
            .map_err(|e| RepositoryError::Other(e.into()))?;
        let now = self.ports.clock.now();
        let processing = Transition::Processing {
            prediction_id: prediction_id.clone(),
        };
        let token = if self
            .ports
            .lifecycle
            .transition(id, &processing, now)
            .await?
        {
            self.ports
                .lifecycle
                .claim_finalization(id, self.settings.finalize_lease, now)
                .await?
        } else {
            None
        };
        let Some(token) = token else {
            // Cancelled (or failed by the reconciler) before the call: nothing is asked for.
            return self.read_back(id, false).await;
        };
        let processing_view = GenerationView {
            generation: Generation {
                status: GenerationStatus::Processing,
                prediction_id: Some(prediction_id.clone()),
                ..generation
            },
            image: None,
        };
        let finalize = self.finalize.clone();
        let mut call = Box::pin(async move {
            finalize
                .run_inline(&new, &prediction_id, &token, &*provider, &request)
                .await
        });
        if !wait {
            self.ports.background.spawn(Box::pin(async move {
                if let Err(error) = call.await {
                    tracing::error!(generation_id = %id, error = %ErrorChain(&error), "inline generation left for the reconciler");
                }
            }));
            return Ok(processing_view);
        }
        let timeout = self.ports.clock.sleep(self.settings.sync_timeout);
        match within(call.as_mut(), timeout).await {
            Some(outcome) => match outcome? {
                Inline::Settled(Settled::Completed(view)) => Ok(*view),
                Inline::Settled(Settled::Other) => self.read_back(id, false).await,
                Inline::Refused(error) => Err(GenerateError::Provider(error)),
            },
            None => {
                self.ports.background.spawn(Box::pin(async move {
                    if let Err(error) = call.await {
                        tracing::error!(generation_id = %id, error = %ErrorChain(&error), "inline generation left for the reconciler");
                    }
                }));
                Ok(processing_view)
            }
        }
    }
}

/// `work`'s output if it ends before `timeout` does, else `None` — leaving `work` where it
/// got to, to be run on. Without a runtime: the domain spawns nothing.
async fn within<T>(
    mut work: Pin<&mut (impl Future<Output = T> + ?Sized)>,
    timeout: impl Future<Output = ()>,
) -> Option<T> {
    let mut timeout = std::pin::pin!(timeout);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(done) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(done));
        }
        if timeout.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

//! The [`ImageRenderer`] adapter: a bounded pool of blocking threads with time limits.

use std::sync::Arc;

use async_trait::async_trait;
use picture_domain::ports::{ImageRenderer, RenderError, RenderedImage};
use picture_domain::variant::VariantSpec;
use tokio::sync::Semaphore;
use tokio::time::timeout;

use crate::deadline::Deadline;
use crate::pipeline;
use crate::settings::ImagingSettings;

/// Renders variants and blurhashes on at most `settings.threads` blocking threads at once.
///
/// A call first waits for one of the slots (at most the time limit, else
/// [`RenderError::Busy`]), then runs its work on tokio's blocking pool holding the slot, and
/// waits for it at most the time limit again (else [`RenderError::TimedOut`]). Work whose
/// caller gave up keeps its slot until it stops at its next stage (after decoding, after
/// resizing), so the bound holds for the threads actually busy. Clones share the pool.
#[derive(Debug, Clone)]
pub struct Renderer {
    settings: ImagingSettings,
    slots: Arc<Semaphore>,
}

impl Renderer {
    /// A renderer with `settings` (a `threads` of 0 counts as 1).
    pub fn new(settings: ImagingSettings) -> Self {
        let threads = settings.threads.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            settings: ImagingSettings {
                threads,
                ..settings
            },
            slots: Arc::new(Semaphore::new(threads)),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> ImagingSettings {
        self.settings
    }

    /// Runs `work` on the pool under the time limits; `work` gets its deadline.
    async fn run<T, F>(&self, work: F) -> Result<T, RenderError>
    where
        T: Send + 'static,
        F: FnOnce(Deadline) -> Result<T, RenderError> + Send + 'static,
    {
        let limit = self.settings.time_limit;
        let permit = match timeout(limit, Arc::clone(&self.slots).acquire_owned()).await {
            Err(_elapsed) => return Err(RenderError::Busy),
            Ok(Err(_closed)) => {
                return Err(RenderError::Failed("the render pool is closed".to_owned()));
            }
            Ok(Ok(permit)) => permit,
        };
        let deadline = Deadline::after(limit);
        let task = tokio::task::spawn_blocking(move || {
            let _slot = permit;
            work(deadline)
        });
        match timeout(limit, task).await {
            Err(_elapsed) => Err(RenderError::TimedOut),
            Ok(Err(join)) => Err(RenderError::Failed(format!(
                "the render task failed: {join}"
            ))),
            Ok(Ok(result)) => result,
        }
    }
}

#[async_trait]
impl ImageRenderer for Renderer {
    async fn render(
        &self,
        source: Vec<u8>,
        spec: VariantSpec,
    ) -> Result<RenderedImage, RenderError> {
        let max_pixels = self.settings.max_pixels;
        self.run(move |deadline| pipeline::render(&source, &spec, max_pixels, deadline))
            .await
    }

    async fn blurhash(&self, source: Vec<u8>) -> Result<String, RenderError> {
        let max_pixels = self.settings.max_pixels;
        self.run(move |deadline| pipeline::blurhash(&source, max_pixels, deadline))
            .await
    }
}

#[cfg(test)]
mod tests;

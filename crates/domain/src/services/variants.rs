//! Serving image variants: from storage when rendered before, else rendered once (across
//! every instance) and stored next to the original.

use std::sync::Arc;
use std::time::Duration;

use crate::ports::{
    Clock, ImageRenderer, ObjectKey, ObjectStore, RenderError, RenderLeases, StoreError,
};
use crate::variant::{OutputFormat, VariantSpec, original_of_variant, variant_key};

#[cfg(test)]
mod tests;

/// `Cache-Control` of served variants: a variant's key names everything that makes it, so
/// its content never changes.
pub const VARIANT_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// How long renders may take and how others wait for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantTimings {
    /// How long a render lease lasts: longer than a render and its store may take (the
    /// renderer's time limit plus a margin), so a lease lapses only when its holder died.
    pub lease: Duration,
    /// How often a request waiting for another's render looks for the stored variant.
    pub poll_interval: Duration,
    /// How often a waiting request asks for the lease again (the holder may have failed and
    /// given it back). Longer than `poll_interval`: each ask is a database write.
    pub lease_retry: Duration,
    /// The longest a request waits for another's render before answering busy.
    pub max_wait: Duration,
}

/// Consecutive failures to ask for the lease (the database busy or down) after which a request
/// renders without it: the image is still served, at the cost of maybe rendering twice.
const LEASE_FAILURES_BEFORE_GOING_ALONE: u32 = 3;

/// Where a served variant came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantSource {
    /// This request rendered it.
    Rendered,
    /// It was in storage already.
    Stored,
    /// Another request (on this or another instance) rendered it while this one waited.
    Shared,
}

impl VariantSource {
    /// The metric label: `rendered`, `stored` or `shared`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rendered => "rendered",
            Self::Stored => "stored",
            Self::Shared => "shared",
        }
    }
}

/// A variant to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Its key in the store.
    pub key: ObjectKey,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Their format.
    pub format: OutputFormat,
    /// Where they came from.
    pub source: VariantSource,
}

/// Why no variant was served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariantError {
    /// The original does not exist (never did, or was deleted), or the key is a variant's.
    #[error("no such image")]
    NotFound,
    /// The renderer refused or failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Variants of stored images.
#[derive(Clone)]
pub struct VariantService {
    store: Arc<dyn ObjectStore>,
    renderer: Arc<dyn ImageRenderer>,
    leases: Arc<dyn RenderLeases>,
    clock: Arc<dyn Clock>,
    timings: VariantTimings,
    /// This service's name, the prefix of its calls' names as lease holders.
    holder: String,
}

impl VariantService {
    /// A service storing variants in `store`, rendering with `renderer`, one render per variant
    /// at a time through `leases`.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        renderer: Arc<dyn ImageRenderer>,
        leases: Arc<dyn RenderLeases>,
        clock: Arc<dyn Clock>,
        timings: VariantTimings,
    ) -> Self {
        Self {
            store,
            renderer,
            leases,
            clock,
            timings,
            holder: format!("variants-{}", uuid::Uuid::new_v4()),
        }
    }

    /// The variant `spec` of the image stored under `original`: read from the store when it
    /// was rendered before; else rendered by whoever takes the render lease first, while every
    /// other request for it (on any instance) waits for it to appear in the store. When the
    /// lease cannot be asked for (the database is down), the request renders on its own: the
    /// image is still served.
    ///
    /// # Errors
    /// [`VariantError::NotFound`] when the original does not exist or `original` is itself a
    /// variant's key; [`VariantError::Render`] when rendering fails (including
    /// [`RenderError::Busy`] after waiting `max_wait` for another's render);
    /// [`VariantError::Store`] when the store fails.
    pub async fn variant(
        &self,
        original: &ObjectKey,
        spec: &VariantSpec,
    ) -> Result<Variant, VariantError> {
        if original_of_variant(original).is_some() {
            return Err(VariantError::NotFound);
        }
        let key = variant_key(original, spec);
        let stored = |bytes: Vec<u8>, source| Variant {
            key: key.clone(),
            bytes,
            format: spec.format,
            source,
        };
        if let Some(object) = self.store.get(&key).await? {
            return Ok(counted(stored(object.bytes, VariantSource::Stored)));
        }
        // One holder per call: two requests of this process must not share a lease.
        let holder = format!("{}-{}", self.holder, uuid::Uuid::new_v4().simple());
        let started = self.clock.now();
        let elapsed = |clock: &dyn Clock| (clock.now() - started).to_std().unwrap_or_default();
        let mut next_attempt = Duration::ZERO;
        let mut failures = 0_u32;
        loop {
            if elapsed(&*self.clock) >= next_attempt {
                next_attempt = elapsed(&*self.clock) + self.timings.lease_retry;
                let taken = self
                    .leases
                    .try_take(key.as_str(), &holder, self.timings.lease, self.clock.now())
                    .await;
                match taken {
                    Ok(true) => {
                        let rendered = self.render_once(original, &key, spec).await;
                        if let Err(error) = self.leases.release(key.as_str(), &holder).await {
                            tracing::warn!(key = key.as_str(), %error, "render lease not released; it lapses by itself");
                        }
                        return rendered.map(counted);
                    }
                    Ok(false) => failures = 0,
                    Err(error) if failures + 1 >= LEASE_FAILURES_BEFORE_GOING_ALONE => {
                        tracing::warn!(key = key.as_str(), %error, "render lease unavailable; rendering without it");
                        return self.render_once(original, &key, spec).await.map(counted);
                    }
                    Err(error) => {
                        failures += 1;
                        tracing::debug!(key = key.as_str(), %error, "render lease not asked; trying again");
                    }
                }
            }
            self.clock.sleep(self.timings.poll_interval).await;
            if let Some(object) = self.store.get(&key).await? {
                return Ok(counted(stored(object.bytes, VariantSource::Shared)));
            }
            if elapsed(&*self.clock) >= self.timings.max_wait {
                return Err(RenderError::Busy.into());
            }
        }
    }

    /// Renders `spec` of `original` and stores it under `key` — unless it was stored meanwhile
    /// (by the lease's previous holder). A failure to store is logged: the variant is served all
    /// the same and rendered again next time.
    async fn render_once(
        &self,
        original: &ObjectKey,
        key: &ObjectKey,
        spec: &VariantSpec,
    ) -> Result<Variant, VariantError> {
        if let Some(object) = self.store.get(key).await? {
            return Ok(Variant {
                key: key.clone(),
                bytes: object.bytes,
                format: spec.format,
                source: VariantSource::Shared,
            });
        }
        let source = self
            .store
            .get(original)
            .await?
            .ok_or(VariantError::NotFound)?;
        let rendered = self.renderer.render(source.bytes, *spec).await?;
        metrics::counter!("picture_image_variant_renders_total").increment(1);
        // A plain `put`: every store serves its objects as immutable unless told otherwise (S3
        // stores that header with the object; the local store adds no header file).
        if let Err(error) = self
            .store
            .put(key, rendered.bytes.clone(), spec.format.content_type())
            .await
        {
            tracing::warn!(key = key.as_str(), %error, "variant rendered but not stored");
        }
        Ok(Variant {
            key: key.clone(),
            bytes: rendered.bytes,
            format: spec.format,
            source: VariantSource::Rendered,
        })
    }
}

/// `variant`, counted in `picture_image_variant_requests_total{source}`.
fn counted(variant: Variant) -> Variant {
    metrics::counter!("picture_image_variant_requests_total", "source" => variant.source.as_str())
        .increment(1);
    variant
}

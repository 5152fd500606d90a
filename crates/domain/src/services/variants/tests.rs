//! The variant service against an in-memory store, a counting renderer and real lease rules.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::error::RepositoryError;
use crate::ports::RenderedImage;
use crate::services::fakes::MemoryStore;
use crate::variant::{Resize, variants_prefix};

/// Renders `{source}|{spec}` and counts its calls; refuses sources starting with `bad`.
#[derive(Default)]
struct CountingRenderer {
    calls: AtomicUsize,
}

#[async_trait]
impl ImageRenderer for CountingRenderer {
    async fn render(
        &self,
        source: Vec<u8>,
        spec: VariantSpec,
    ) -> Result<RenderedImage, RenderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        // Rendering takes a while: other requests run meanwhile.
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
        if source.starts_with(b"bad") {
            return Err(RenderError::NotAnImage);
        }
        let mut bytes = source;
        bytes.extend_from_slice(format!("|{spec}").as_bytes());
        Ok(RenderedImage {
            bytes,
            width: 1,
            height: 1,
            format: spec.format,
        })
    }

    async fn blurhash(&self, _: Vec<u8>) -> Result<String, RenderError> {
        Ok("hash".into())
    }
}

/// Leases with the contract's rules; `down` makes every call fail; `held_by_other` makes
/// another holder own every lease for ever.
#[derive(Default)]
struct Leases {
    held: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
    down: bool,
    held_by_other: bool,
    released: AtomicUsize,
}

#[async_trait]
impl RenderLeases for Leases {
    async fn try_take(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        if self.down {
            return Err(RepositoryError::Unavailable("down".into()));
        }
        if self.held_by_other {
            return Ok(false);
        }
        let mut held = self.held.lock().unwrap();
        let free = held
            .get(name)
            .is_none_or(|(h, until)| h == holder || *until <= now);
        if free {
            held.insert(
                name.to_owned(),
                (
                    holder.to_owned(),
                    now + chrono::Duration::from_std(ttl).unwrap(),
                ),
            );
        }
        Ok(free)
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), RepositoryError> {
        self.released.fetch_add(1, Ordering::SeqCst);
        let mut held = self.held.lock().unwrap();
        if held.get(name).is_some_and(|(h, _)| h == holder) {
            held.remove(name);
        }
        Ok(())
    }
}

/// A clock that moves only when slept on.
struct SteppingClock(Mutex<DateTime<Utc>>);

#[async_trait]
impl Clock for SteppingClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }

    async fn sleep(&self, duration: Duration) {
        *self.0.lock().unwrap() += chrono::Duration::from_std(duration).unwrap();
        tokio::task::yield_now().await;
    }
}

const TIMINGS: VariantTimings = VariantTimings {
    lease: Duration::from_secs(30),
    poll_interval: Duration::from_millis(20),
    lease_retry: Duration::from_millis(200),
    max_wait: Duration::from_secs(60),
};

fn spec() -> VariantSpec {
    VariantSpec {
        width: Some(256),
        height: Some(256),
        resize: Resize::Cover,
        quality: 80,
        format: OutputFormat::Webp,
    }
}

fn original() -> ObjectKey {
    ObjectKey::from_stored("users/alice/images/a.png")
}

struct Setup {
    store: Arc<MemoryStore>,
    renderer: Arc<CountingRenderer>,
    leases: Arc<Leases>,
    service: VariantService,
}

fn setup(store: MemoryStore, leases: Leases) -> Setup {
    let store = Arc::new(store);
    let renderer = Arc::new(CountingRenderer::default());
    let leases = Arc::new(leases);
    let clock = Arc::new(SteppingClock(Mutex::new(Utc::now())));
    let service = VariantService::new(
        store.clone(),
        renderer.clone(),
        leases.clone(),
        clock,
        TIMINGS,
    );
    Setup {
        store,
        renderer,
        leases,
        service,
    }
}

async fn with_original(setup: &Setup, bytes: &[u8]) {
    setup
        .store
        .put(&original(), bytes.to_vec(), "image/png")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_first_request_renders_and_stores_the_second_reads_the_store() {
    let s = setup(MemoryStore::default(), Leases::default());
    with_original(&s, b"png").await;
    let first = s.service.variant(&original(), &spec()).await.unwrap();
    assert_eq!(first.source, VariantSource::Rendered);
    assert_eq!(first.bytes, b"png|v1-256x256-cover-q80.webp");
    let stored = s.store.get(&first.key).await.unwrap().unwrap();
    assert_eq!(stored.bytes, first.bytes);
    assert_eq!(stored.cache_control, None, "no header file of its own");
    assert_eq!(s.leases.released.load(Ordering::SeqCst), 1);
    assert!(s.leases.held.lock().unwrap().is_empty());

    let second = s.service.variant(&original(), &spec()).await.unwrap();
    assert_eq!(second.source, VariantSource::Stored);
    assert_eq!(second.bytes, first.bytes);
    assert_eq!(s.renderer.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn concurrent_first_requests_render_once() {
    let s = setup(MemoryStore::default(), Leases::default());
    with_original(&s, b"png").await;
    let requests: Vec<_> = (0..20)
        .map(|_| {
            let service = s.service.clone();
            tokio::spawn(async move { service.variant(&original(), &spec()).await })
        })
        .collect();
    let mut sources = Vec::new();
    for request in requests {
        let variant = request.await.unwrap().unwrap();
        assert_eq!(variant.bytes, b"png|v1-256x256-cover-q80.webp");
        sources.push(variant.source);
    }
    assert_eq!(s.renderer.calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        sources
            .iter()
            .filter(|s| **s == VariantSource::Rendered)
            .count(),
        1
    );
}

#[tokio::test]
async fn a_request_waits_for_another_holders_render_then_gives_up_busy() {
    let s = setup(
        MemoryStore::default(),
        Leases {
            held_by_other: true,
            ..Leases::default()
        },
    );
    with_original(&s, b"png").await;
    assert_eq!(
        s.service.variant(&original(), &spec()).await,
        Err(VariantError::Render(RenderError::Busy))
    );
    assert_eq!(s.renderer.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_variant_stored_by_another_holder_meanwhile_is_shared() {
    let s = setup(
        MemoryStore::default(),
        Leases {
            held_by_other: true,
            ..Leases::default()
        },
    );
    with_original(&s, b"png").await;
    let key = variant_key(&original(), &spec());
    let store = s.store.clone();
    let waiting = {
        let service = s.service.clone();
        tokio::spawn(async move { service.variant(&original(), &spec()).await })
    };
    store
        .put(&key, b"theirs".to_vec(), "image/webp")
        .await
        .unwrap();
    let variant = waiting.await.unwrap().unwrap();
    assert_eq!(variant.bytes, b"theirs");
    assert_ne!(variant.source, VariantSource::Rendered);
    assert_eq!(s.renderer.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn without_the_database_the_variant_is_rendered_all_the_same() {
    let s = setup(
        MemoryStore::default(),
        Leases {
            down: true,
            ..Leases::default()
        },
    );
    with_original(&s, b"png").await;
    let variant = s.service.variant(&original(), &spec()).await.unwrap();
    assert_eq!(variant.source, VariantSource::Rendered);
}

#[tokio::test]
async fn a_store_that_refuses_the_variant_still_serves_it() {
    let s = setup(
        MemoryStore {
            fail_puts: true,
            ..MemoryStore::default()
        },
        Leases::default(),
    );
    s.store
        .objects
        .lock()
        .unwrap()
        .insert(original().as_str().to_owned(), (b"png".to_vec(), None));
    let variant = s.service.variant(&original(), &spec()).await.unwrap();
    assert_eq!(variant.source, VariantSource::Rendered);
    assert!(s.leases.held.lock().unwrap().is_empty());
}

#[tokio::test]
async fn missing_originals_variants_of_variants_and_bad_images_are_refused() {
    let s = setup(MemoryStore::default(), Leases::default());
    assert_eq!(
        s.service.variant(&original(), &spec()).await,
        Err(VariantError::NotFound)
    );
    assert!(
        s.leases.held.lock().unwrap().is_empty(),
        "the lease is given back"
    );
    let variant_of_variant = variant_key(&original(), &spec());
    assert_eq!(
        s.service.variant(&variant_of_variant, &spec()).await,
        Err(VariantError::NotFound)
    );
    with_original(&s, b"bad bytes").await;
    assert_eq!(
        s.service.variant(&original(), &spec()).await,
        Err(VariantError::Render(RenderError::NotAnImage))
    );
}

#[tokio::test]
async fn deleting_an_image_deletes_its_variants_and_nothing_else() {
    let s = setup(MemoryStore::default(), Leases::default());
    with_original(&s, b"png").await;
    let other = ObjectKey::from_stored("users/alice/images/ab.png");
    s.store
        .put(&other, b"x".to_vec(), "image/png")
        .await
        .unwrap();
    for width in [64, 128, 256] {
        let spec = VariantSpec {
            width: Some(width),
            ..spec()
        };
        s.service.variant(&original(), &spec).await.unwrap();
        s.service.variant(&other, &spec).await.unwrap();
    }
    crate::services::stored_objects::delete_with_variants(&*s.store, &original())
        .await
        .unwrap();
    let left: Vec<String> = s.store.objects.lock().unwrap().keys().cloned().collect();
    assert_eq!(left.len(), 4, "{left:?}");
    assert!(
        left.iter().all(|k| k.starts_with(other.as_str())),
        "{left:?}"
    );
    assert!(
        left.iter()
            .all(|k| !k.starts_with(&variants_prefix(&original())))
    );
}

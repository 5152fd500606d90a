//! A model catalogue read through a short-lived in-memory copy: every generation and every
//! `GET /models` reads it, and it changes only when an instance seeds it at start-up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::catalog_seed::Catalogue;
use crate::error::RepositoryError;
use crate::ids::ModelId;
use crate::model::Model;
use crate::ports::ModelCatalog;

/// How long a read is reused. A model changed by another instance's seeding is seen at most
/// this late; this instance's own seeding is seen at once.
pub const CATALOG_CACHE_TTL: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Copies {
    active: Option<(Instant, Vec<Model>)>,
    by_id: HashMap<ModelId, (Instant, Option<Model>)>,
}

/// [`ModelCatalog`] that answers from a copy younger than its time to live, else from `inner`
/// (failures are not kept).
pub struct CachedCatalog {
    inner: Arc<dyn ModelCatalog>,
    ttl: Duration,
    copies: Mutex<Copies>,
}

impl CachedCatalog {
    /// Reads of `inner` kept for `ttl`.
    pub fn new(inner: Arc<dyn ModelCatalog>, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            copies: Mutex::new(Copies::default()),
        }
    }

    fn copies(&self) -> std::sync::MutexGuard<'_, Copies> {
        // The copies are plain data: a panic elsewhere cannot leave them half-written.
        self.copies.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh(&self, at: Instant) -> bool {
        at.elapsed() < self.ttl
    }
}

#[async_trait]
impl ModelCatalog for CachedCatalog {
    async fn list_active(&self) -> Result<Vec<Model>, RepositoryError> {
        if let Some((at, models)) = &self.copies().active
            && self.fresh(*at)
        {
            return Ok(models.clone());
        }
        let models = self.inner.list_active().await?;
        self.copies().active = Some((Instant::now(), models.clone()));
        Ok(models)
    }

    async fn get(&self, id: ModelId) -> Result<Option<Model>, RepositoryError> {
        if let Some((at, model)) = self.copies().by_id.get(&id)
            && self.fresh(*at)
        {
            return Ok(model.clone());
        }
        let model = self.inner.get(id).await?;
        let mut copies = self.copies();
        copies.by_id.retain(|_, (at, _)| at.elapsed() < self.ttl);
        copies.by_id.insert(id, (Instant::now(), model.clone()));
        Ok(model)
    }

    async fn seed(&self, catalogue: &Catalogue) -> Result<(), RepositoryError> {
        let seeded = self.inner.seed(catalogue).await;
        *self.copies() = Copies::default();
        seeded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockModelCatalog;

    fn catalog(inner: MockModelCatalog, ttl: Duration) -> CachedCatalog {
        CachedCatalog::new(Arc::new(inner), ttl)
    }

    #[tokio::test]
    async fn a_fresh_copy_answers_without_asking_again() {
        let mut inner = MockModelCatalog::new();
        inner.expect_get().times(1).returning(|_| Ok(None));
        inner
            .expect_list_active()
            .times(1)
            .returning(|| Ok(Vec::new()));
        let cached = catalog(inner, Duration::from_secs(60));
        let id = ModelId::new_random();
        for _ in 0..3 {
            assert_eq!(cached.get(id).await.unwrap(), None);
            assert!(cached.list_active().await.unwrap().is_empty());
        }
    }

    #[tokio::test]
    async fn stale_copies_and_failures_are_not_reused_and_seeding_forgets_them() {
        let mut inner = MockModelCatalog::new();
        let mut calls = 0;
        inner.expect_get().times(3).returning(move |_| {
            calls += 1;
            if calls == 1 {
                Err(RepositoryError::Unavailable("down".into()))
            } else {
                Ok(None)
            }
        });
        inner
            .expect_list_active()
            .times(2)
            .returning(|| Ok(Vec::new()));
        inner.expect_seed().times(1).returning(|_| Ok(()));
        let id = ModelId::new_random();
        let stale = catalog(inner, Duration::ZERO);
        assert!(stale.get(id).await.is_err());
        assert_eq!(stale.get(id).await.unwrap(), None);
        assert_eq!(stale.get(id).await.unwrap(), None);
        stale.list_active().await.unwrap();
        stale
            .seed(&crate::catalog_seed::catalogue(&[], vec![]))
            .await
            .unwrap();
        stale.list_active().await.unwrap();
    }
}

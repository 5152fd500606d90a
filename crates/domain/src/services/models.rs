//! Reading the model catalogue.

use std::sync::Arc;

use crate::catalog_seed::Catalogue;
use crate::error::RepositoryError;
use crate::ids::ModelId;
use crate::model::Model;
use crate::ports::ModelCatalog;

/// Lists and looks up models.
#[derive(Clone)]
pub struct ModelService {
    catalog: Arc<dyn ModelCatalog>,
}

impl ModelService {
    /// A service over `catalog`.
    pub fn new(catalog: Arc<dyn ModelCatalog>) -> Self {
        Self { catalog }
    }

    /// The models clients may pick, default first.
    ///
    /// # Errors
    /// As [`ModelCatalog::list_active`].
    pub async fn active(&self) -> Result<Vec<Model>, RepositoryError> {
        self.catalog.list_active().await
    }

    /// Seeds the catalogue with `catalogue` (see [`crate::catalog_seed::catalogue`]): its
    /// models are stored, and any stored model it does not name is made inactive.
    ///
    /// # Errors
    /// As [`ModelCatalog::seed`].
    pub async fn seed(&self, catalogue: &Catalogue) -> Result<(), RepositoryError> {
        self.catalog.seed(catalogue).await
    }

    /// One model by id, active or not (so old generations can still show theirs).
    ///
    /// # Errors
    /// As [`ModelCatalog::get`].
    pub async fn by_id(&self, id: ModelId) -> Result<Option<Model>, RepositoryError> {
        self.catalog.get(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::sample_model;
    use crate::ports::MockModelCatalog;

    #[tokio::test]
    async fn active_models_come_from_the_catalogue_in_its_order() {
        let first = sample_model();
        let second = sample_model();
        let expected = vec![first.clone(), second.clone()];
        let mut catalog = MockModelCatalog::new();
        catalog
            .expect_list_active()
            .times(1)
            .returning(move || Ok(vec![first.clone(), second.clone()]));
        let service = ModelService::new(Arc::new(catalog));
        assert_eq!(service.active().await.unwrap(), expected);
    }

    #[tokio::test]
    async fn lookup_passes_the_id_and_reports_absence() {
        let id = ModelId::new_random();
        let mut catalog = MockModelCatalog::new();
        catalog
            .expect_get()
            .withf(move |asked| *asked == id)
            .times(1)
            .returning(|_| Ok(None));
        let service = ModelService::new(Arc::new(catalog));
        assert_eq!(service.by_id(id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn seeding_stores_the_catalogue_with_its_default() {
        use crate::ProviderName;
        use crate::catalog_seed::catalogue;
        for (registered, expected) in [
            (
                vec![ProviderName::OFFLINE, ProviderName::REPLICATE],
                "flux-schnell",
            ),
            (vec![ProviderName::OFFLINE], "offline-preview"),
        ] {
            let mut catalog = MockModelCatalog::new();
            catalog
                .expect_seed()
                .withf(move |c| c.specs.len() == 4 && c.default == expected)
                .times(1)
                .returning(|_| Ok(()));
            ModelService::new(Arc::new(catalog))
                .seed(&catalogue(&registered, vec![]))
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn database_failures_surface_unchanged() {
        let mut catalog = MockModelCatalog::new();
        catalog
            .expect_list_active()
            .returning(|| Err(RepositoryError::Unavailable("down".into())));
        let service = ModelService::new(Arc::new(catalog));
        assert!(matches!(
            service.active().await,
            Err(RepositoryError::Unavailable(_))
        ));
    }
}

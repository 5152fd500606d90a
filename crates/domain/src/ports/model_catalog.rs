//! The model catalogue.

use async_trait::async_trait;

use crate::catalog_seed::Catalogue;
use crate::error::RepositoryError;
use crate::ids::ModelId;
use crate::model::Model;

/// Stored models.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ModelCatalog: Send + Sync {
    /// The active models: the default first, then by `sort_order`, then by name.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn list_active(&self) -> Result<Vec<Model>, RepositoryError>;

    /// The model with `id`, active or not; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn get(&self, id: ModelId) -> Result<Option<Model>, RepositoryError>;

    /// Seeds the catalogue, in one transaction: each of `catalogue.specs` is inserted, or
    /// updates the model of the same `name` (keeping its id and `created_at`); then the model
    /// named `catalogue.default` becomes the only default. Models not in the specs stop being
    /// the default, and become inactive when their provider is not in
    /// `catalogue.registered` or is in `catalogue.managed`; others are left as they are (an
    /// operator may have added them). Idempotent: seeding twice with the same input changes
    /// nothing the second time, and concurrent seeding by several instances leaves one row
    /// per name.
    ///
    /// # Errors
    /// [`RepositoryError::Conflict`] when the default is not among the specs;
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn seed(&self, catalogue: &Catalogue) -> Result<(), RepositoryError>;
}

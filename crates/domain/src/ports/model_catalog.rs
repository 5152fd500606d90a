//! The model catalogue.

use async_trait::async_trait;

use crate::error::RepositoryError;
use crate::ids::ModelId;
use crate::model::{Model, ModelSpec};

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

    /// Seeds the catalogue, in one transaction: each spec is inserted, or updates the model of
    /// the same `name` (keeping its id and `created_at`); then the model named `default_name`
    /// becomes the only default. Models not in `specs` are left as they are (an operator may
    /// have added them), except that they stop being the default. Idempotent: seeding twice
    /// with the same input changes nothing the second time, and concurrent seeding by several
    /// instances leaves one row per name.
    ///
    /// # Errors
    /// [`RepositoryError::Conflict`] when `default_name` is not among `specs`;
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn seed(&self, specs: &[ModelSpec], default_name: &str) -> Result<(), RepositoryError>;
}

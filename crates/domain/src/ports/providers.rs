//! [`Providers`]: the image providers of this server, each under its [`ProviderName`].

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ports::ImageProvider;
use crate::provider_name::ProviderName;

/// The registry the pipeline routes through: a generation is submitted to the provider its
/// model names, and its status, cancel and webhooks go to the provider recorded with it.
/// Built once at start-up; a provider that is not configured is not registered (its models
/// are not offered, see [`crate::catalog_seed::catalogue`]).
#[derive(Clone, Default)]
pub struct Providers {
    registered: BTreeMap<ProviderName, Arc<dyn ImageProvider>>,
}

impl Providers {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry with `provider` registered under `name` (replacing any before it).
    #[must_use]
    pub fn with(mut self, name: ProviderName, provider: Arc<dyn ImageProvider>) -> Self {
        self.registered.insert(name, provider);
        self
    }

    /// The provider registered under `name`, if any.
    pub fn get(&self, name: &ProviderName) -> Option<&Arc<dyn ImageProvider>> {
        self.registered.get(name)
    }

    /// The registered names, in order.
    pub fn names(&self) -> Vec<ProviderName> {
        self.registered.keys().cloned().collect()
    }
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.registered.keys()).finish()
    }
}

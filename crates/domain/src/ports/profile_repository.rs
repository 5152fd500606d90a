//! User profiles.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::profile::{NewProfile, Profile};

/// Stored profiles, keyed by the opaque user id.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ProfileRepository: Send + Sync {
    /// The profile of `profile.id`, created from `profile` (at `now`) when there is none.
    /// An existing profile is returned unchanged. Safe under concurrency: two simultaneous
    /// first calls for the same user create one row and both return it.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn get_or_create(
        &self,
        profile: &NewProfile,
        now: DateTime<Utc>,
    ) -> Result<Profile, RepositoryError>;
}

//! User profiles.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::ids::UserId;
use crate::profile::{NewProfile, Profile, ProfileStats};
use crate::profile_change::ProfileChange;

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

    /// Applies `change` to the profile of `user` at `now` (setting `updated_at`), atomically,
    /// and returns the profile as it is then; `None` when the user has no profile. A new user
    /// name is unique among all users compared in lower case ([`Username::key`]), also when
    /// two users claim it at the same moment: exactly one of them gets it.
    ///
    /// [`Username::key`]: crate::profile_change::Username::key
    ///
    /// # Errors
    /// [`RepositoryError::Conflict`] when another user has the name (nothing changes);
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn update(
        &self,
        user: &UserId,
        change: &ProfileChange,
        now: DateTime<Utc>,
    ) -> Result<Option<Profile>, RepositoryError>;

    /// The counts of `user`'s images, generations and the likes on their images, as of one
    /// moment (zeros for a user with none).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn stats(&self, user: &UserId) -> Result<ProfileStats, RepositoryError>;
}

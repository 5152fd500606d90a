//! The caller's profile.

use std::sync::Arc;

use crate::error::RepositoryError;
use crate::ids::UserId;
use crate::ports::{Clock, ProfileRepository};
use crate::profile::{NewProfile, Profile, ProfileStats};
use crate::profile_change::ProfileChange;

/// Why a profile change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProfileUpdateError {
    /// Another user has the user name (compared in lower case).
    #[error("Username is already taken")]
    UsernameTaken,
    /// The database failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Reads (and on first use creates) the profile of an authenticated user.
#[derive(Clone)]
pub struct ProfileService {
    profiles: Arc<dyn ProfileRepository>,
    clock: Arc<dyn Clock>,
}

impl ProfileService {
    /// A service over `profiles`.
    pub fn new(profiles: Arc<dyn ProfileRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { profiles, clock }
    }

    /// The profile of `user`, created from the token's `email` (empty when the token has none)
    /// the first time the user is seen.
    ///
    /// # Errors
    /// As [`ProfileRepository::get_or_create`].
    pub async fn me(&self, user: &UserId, email: Option<&str>) -> Result<Profile, RepositoryError> {
        let new = NewProfile {
            id: user.clone(),
            email: email.unwrap_or_default().to_owned(),
        };
        self.profiles.get_or_create(&new, self.clock.now()).await
    }

    /// Applies `change` to the profile of `user` (created first from the token's `email` when
    /// the user is new, so a first PATCH works without a GET) and returns it. An empty change
    /// returns the profile unchanged.
    ///
    /// # Errors
    /// [`ProfileUpdateError::UsernameTaken`] when another user has the name;
    /// [`ProfileUpdateError::Repository`] when the database fails.
    pub async fn update(
        &self,
        user: &UserId,
        email: Option<&str>,
        change: &ProfileChange,
    ) -> Result<Profile, ProfileUpdateError> {
        let current = self.me(user, email).await?;
        if change.is_empty() {
            return Ok(current);
        }
        match self.profiles.update(user, change, self.clock.now()).await {
            Ok(Some(profile)) => Ok(profile),
            // Deleted between the two calls (an admin erasure): nothing left to change.
            Ok(None) => Ok(current),
            Err(RepositoryError::Conflict(_)) => Err(ProfileUpdateError::UsernameTaken),
            Err(other) => Err(other.into()),
        }
    }

    /// The counts the profile tab shows for `user`.
    ///
    /// # Errors
    /// As [`ProfileRepository::stats`].
    pub async fn stats(&self, user: &UserId) -> Result<ProfileStats, RepositoryError> {
        self.profiles.stats(user).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::ports::{MockClock, MockProfileRepository};

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    #[tokio::test]
    async fn first_call_creates_the_profile_from_the_claims_at_the_clock_time() {
        let user = UserId::parse("Xk3v9QbT1mN0pLr7sYw2ZcA5dE8fGh4J").unwrap();
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at(1_700_000_000_123));
        let mut repo = MockProfileRepository::new();
        let expected_user = user.clone();
        repo.expect_get_or_create()
            .withf(move |new, now| {
                new.id == expected_user
                    && new.email == "a@example.com"
                    && *now == at(1_700_000_000_123)
            })
            .times(1)
            .returning(|new, now| {
                Ok(Profile {
                    id: new.id.clone(),
                    username: None,
                    email: new.email.clone(),
                    avatar_url: None,
                    created_at: now,
                    updated_at: now,
                })
            });
        let service = ProfileService::new(Arc::new(repo), Arc::new(clock));
        let profile = service.me(&user, Some("a@example.com")).await.unwrap();
        assert_eq!(profile.id, user);
        assert_eq!(profile.created_at, at(1_700_000_000_123));
    }

    fn profile(user: &UserId, username: Option<&str>) -> Profile {
        Profile {
            id: user.clone(),
            username: username.map(str::to_owned),
            email: "a@example.com".into(),
            avatar_url: None,
            created_at: at(0),
            updated_at: at(0),
        }
    }

    fn rename(to: &str) -> ProfileChange {
        ProfileChange::parse(crate::profile_change::RawProfileChange {
            username: Some(Some(to.into())),
            avatar_url: None,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn an_update_makes_sure_the_profile_exists_then_applies_the_change_at_the_clock_time() {
        let user = UserId::parse("u1").unwrap();
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at(5_000));
        let mut repo = MockProfileRepository::new();
        let mut order = mockall::Sequence::new();
        repo.expect_get_or_create()
            .withf(|new, _| new.email == "a@example.com")
            .times(1)
            .in_sequence(&mut order)
            .returning(|new, _| Ok(profile(&new.id, None)));
        repo.expect_update()
            .withf(|_, change, now| *change == rename("Alice") && *now == at(5_000))
            .times(1)
            .in_sequence(&mut order)
            .returning(|user, _, _| Ok(Some(profile(user, Some("Alice")))));
        let service = ProfileService::new(Arc::new(repo), Arc::new(clock));
        let updated = service
            .update(&user, Some("a@example.com"), &rename("Alice"))
            .await
            .unwrap();
        assert_eq!(updated.username.as_deref(), Some("Alice"));
    }

    #[tokio::test]
    async fn a_taken_name_is_its_own_error_and_other_failures_stay_repository_errors() {
        let user = UserId::parse("u1").unwrap();
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at(0));
        let mut repo = MockProfileRepository::new();
        repo.expect_get_or_create()
            .returning(|new, _| Ok(profile(&new.id, None)));
        let mut calls = 0;
        repo.expect_update().times(2).returning(move |_, _, _| {
            calls += 1;
            if calls == 1 {
                Err(RepositoryError::Conflict(
                    "profiles_username_key_idx".into(),
                ))
            } else {
                Err(RepositoryError::Unavailable("down".into()))
            }
        });
        let service = ProfileService::new(Arc::new(repo), Arc::new(clock));
        assert!(matches!(
            service.update(&user, None, &rename("taken")).await,
            Err(ProfileUpdateError::UsernameTaken)
        ));
        assert!(matches!(
            service.update(&user, None, &rename("taken")).await,
            Err(ProfileUpdateError::Repository(
                RepositoryError::Unavailable(_)
            ))
        ));
    }

    #[tokio::test]
    async fn an_empty_change_writes_nothing() {
        let user = UserId::parse("u1").unwrap();
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at(0));
        let mut repo = MockProfileRepository::new();
        repo.expect_get_or_create()
            .times(1)
            .returning(|new, _| Ok(profile(&new.id, Some("kept"))));
        repo.expect_update().never();
        let service = ProfileService::new(Arc::new(repo), Arc::new(clock));
        let same = service
            .update(&user, None, &ProfileChange::default())
            .await
            .unwrap();
        assert_eq!(same.username.as_deref(), Some("kept"));
    }

    #[tokio::test]
    async fn a_token_without_email_gives_an_empty_email() {
        let user = UserId::parse("u1").unwrap();
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at(0));
        let mut repo = MockProfileRepository::new();
        repo.expect_get_or_create()
            .withf(|new, _| new.email.is_empty())
            .times(1)
            .returning(|_, _| Err(RepositoryError::Unavailable("down".into())));
        let service = ProfileService::new(Arc::new(repo), Arc::new(clock));
        assert!(service.me(&user, None).await.is_err());
    }
}

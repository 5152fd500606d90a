//! The caller's profile.

use std::sync::Arc;

use crate::error::RepositoryError;
use crate::ids::UserId;
use crate::ports::{Clock, ProfileRepository};
use crate::profile::{NewProfile, Profile};

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

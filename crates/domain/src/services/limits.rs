//! Per-user limits on starting generations, kept in the database so they hold across
//! instances at any moment: sliding windows of one minute and one day (at most N starts in any
//! 60 s, at most M in any 24 h), not calendar minutes and days.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::ids::UserId;
use crate::ports::{Admission, Clock, RateCounter, SlidingWindow};

mod status;

pub use status::{LimitStatus, WindowStatus};

/// A limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many generations; retry in {} s", retry_after.as_secs())]
pub struct RateLimited {
    /// When the full window has room again, in whole seconds rounded up (at least 1 s): a
    /// client that waits this long is admitted unless it started others meanwhile.
    pub retry_after: Duration,
}

/// How many generations a user may start in any minute and in any day (0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerationQuota {
    /// In any 60 seconds.
    pub per_minute: u32,
    /// In any 24 hours.
    pub per_day: u32,
}

/// Enforces a [`GenerationQuota`].
#[derive(Clone)]
pub struct GenerationLimits {
    counter: Arc<dyn RateCounter>,
    clock: Arc<dyn Clock>,
    quota: GenerationQuota,
}

/// The length of the per-minute window.
const MINUTE: Duration = Duration::from_secs(60);
/// The length of the per-day window.
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

impl GenerationLimits {
    /// Limits counted by `counter`.
    pub fn new(
        counter: Arc<dyn RateCounter>,
        clock: Arc<dyn Clock>,
        quota: GenerationQuota,
    ) -> Self {
        Self {
            counter,
            clock,
            quota,
        }
    }

    /// Counts one generation start of `user`, unless a window is full: then
    /// `Ok(Err(RateLimited))` and nothing is counted (a start refused by the minute does not
    /// use up the day).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    pub async fn check(&self, user: &UserId) -> Result<Result<(), RateLimited>, RepositoryError> {
        let windows: Vec<SlidingWindow> =
            [(MINUTE, self.quota.per_minute), (DAY, self.quota.per_day)]
                .into_iter()
                .filter(|(_, limit)| *limit > 0)
                .map(|(length, limit)| SlidingWindow { length, limit })
                .collect();
        if windows.is_empty() {
            return Ok(Ok(()));
        }
        let now = self.clock.now();
        let scope = scope_of(user);
        match self.counter.admit(&scope, &windows, now).await? {
            Admission::Admitted => Ok(Ok(())),
            Admission::Refused { until } => {
                let retry_after = whole_seconds_until(now, until);
                tracing::warn!(user_id = %user, retry_after_secs = retry_after.as_secs(), "generation rate limit reached");
                Ok(Err(RateLimited { retry_after }))
            }
        }
    }
}

/// The counter scope of `user`'s generation starts.
fn scope_of(user: &UserId) -> String {
    format!("generate:{}", user.as_str())
}

/// From `now` to `until` in whole seconds, rounded up, at least one.
fn whole_seconds_until(now: DateTime<Utc>, until: DateTime<Utc>) -> Duration {
    let millis = u64::try_from((until - now).num_milliseconds()).unwrap_or(0);
    Duration::from_secs(millis.div_ceil(1000).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockClock, MockRateCounter};

    fn limits(
        counter: MockRateCounter,
        at: DateTime<Utc>,
        quota: GenerationQuota,
    ) -> GenerationLimits {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at);
        GenerationLimits::new(Arc::new(counter), Arc::new(clock), quota)
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&Utc)
    }

    const QUOTA: GenerationQuota = GenerationQuota {
        per_minute: 30,
        per_day: 1000,
    };

    #[tokio::test]
    async fn both_windows_are_asked_at_once_for_the_users_scope() {
        let mut counter = MockRateCounter::new();
        counter
            .expect_admit()
            .withf(|scope, windows, now| {
                scope == "generate:alice"
                    && windows
                        == [
                            SlidingWindow {
                                length: MINUTE,
                                limit: 30,
                            },
                            SlidingWindow {
                                length: DAY,
                                limit: 1000,
                            },
                        ]
                    && *now == at("2026-11-24T10:15:40Z")
            })
            .times(1)
            .returning(|_, _, _| Ok(Admission::Admitted));
        let allowed = limits(counter, at("2026-11-24T10:15:40Z"), QUOTA)
            .check(&UserId::parse("alice").unwrap())
            .await
            .unwrap();
        assert_eq!(allowed, Ok(()));
    }

    #[tokio::test]
    async fn a_refusal_retries_when_the_window_has_room_rounded_up_to_a_second() {
        let mut counter = MockRateCounter::new();
        counter.expect_admit().returning(|_, _, _| {
            Ok(Admission::Refused {
                until: at("2026-11-24T10:15:59.200Z"),
            })
        });
        let refused = limits(counter, at("2026-11-24T10:15:40Z"), QUOTA)
            .check(&UserId::parse("bob").unwrap())
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(20));
    }

    #[tokio::test]
    async fn a_refusal_says_at_least_one_second() {
        let mut counter = MockRateCounter::new();
        counter.expect_admit().returning(|_, _, _| {
            Ok(Admission::Refused {
                until: at("2026-11-24T10:15:40Z"),
            })
        });
        let refused = limits(counter, at("2026-11-24T10:15:40Z"), QUOTA)
            .check(&UserId::parse("bob").unwrap())
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_window_with_zero_is_left_out() {
        let mut counter = MockRateCounter::new();
        counter
            .expect_admit()
            .withf(|_, windows, _| {
                windows
                    == [SlidingWindow {
                        length: DAY,
                        limit: 3,
                    }]
            })
            .times(1)
            .returning(|_, _, _| Ok(Admission::Admitted));
        let quota = GenerationQuota {
            per_minute: 0,
            per_day: 3,
        };
        let allowed = limits(counter, at("2026-11-24T10:00:00Z"), quota)
            .check(&UserId::parse("carol").unwrap())
            .await
            .unwrap();
        assert_eq!(allowed, Ok(()));
    }

    #[tokio::test]
    async fn zero_switches_a_window_off() {
        let mut counter = MockRateCounter::new();
        counter.expect_admit().times(0);
        let quota = GenerationQuota {
            per_minute: 0,
            per_day: 0,
        };
        let allowed = limits(counter, at("2026-11-24T10:00:00Z"), quota)
            .check(&UserId::parse("carol").unwrap())
            .await
            .unwrap();
        assert_eq!(allowed, Ok(()));
    }
}

//! Per-user limits on starting generations, counted in the database so they hold across
//! instances: fixed windows of one minute and one day (UTC).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::error::RepositoryError;
use crate::ids::UserId;
use crate::ports::{Clock, RateCounter};

/// A limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many generations; retry in {} s", retry_after.as_secs())]
pub struct RateLimited {
    /// When the window that refused resets.
    pub retry_after: Duration,
}

/// How many generations a user may start per minute and per day (0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerationQuota {
    /// Per minute.
    pub per_minute: u32,
    /// Per day (UTC).
    pub per_day: u32,
}

/// Enforces a [`GenerationQuota`].
#[derive(Clone)]
pub struct GenerationLimits {
    counter: Arc<dyn RateCounter>,
    clock: Arc<dyn Clock>,
    quota: GenerationQuota,
}

/// One window kind: its name in the counter's scope, its length, and its limit.
struct Window {
    name: &'static str,
    length: TimeDelta,
    limit: u32,
}

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

    /// Counts one generation start of `user`; `Ok(Err(RateLimited))` when a window is full
    /// (the minute is checked first; a refused minute does not count against the day).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    pub async fn check(&self, user: &UserId) -> Result<Result<(), RateLimited>, RepositoryError> {
        let now = self.clock.now();
        let windows = [
            Window {
                name: "minute",
                length: TimeDelta::minutes(1),
                limit: self.quota.per_minute,
            },
            Window {
                name: "day",
                length: TimeDelta::days(1),
                limit: self.quota.per_day,
            },
        ];
        for window in windows.iter().filter(|w| w.limit > 0) {
            let start = window_start(now, window.length);
            let scope = format!("generate:{}:{}", window.name, user.as_str());
            let hits = self
                .counter
                .hit(&scope, start, start - window.length)
                .await?;
            if hits > window.limit {
                let reset = start + window.length - now;
                tracing::warn!(user_id = %user, window = window.name, hits, limit = window.limit, "generation rate limit reached");
                return Ok(Err(RateLimited {
                    retry_after: reset
                        .to_std()
                        .unwrap_or(Duration::from_secs(1))
                        .max(Duration::from_secs(1)),
                }));
            }
        }
        Ok(Ok(()))
    }
}

/// Where the window of `length` containing `now` starts.
fn window_start(now: DateTime<Utc>, length: TimeDelta) -> DateTime<Utc> {
    now.duration_trunc(length).unwrap_or(now)
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

    #[tokio::test]
    async fn the_minute_window_refuses_past_its_limit_with_the_time_to_its_end() {
        let mut counter = MockRateCounter::new();
        counter
            .expect_hit()
            .withf(|scope, start, before| {
                scope == "generate:minute:alice"
                    && *start == at("2026-11-24T10:15:00Z")
                    && *before == at("2026-11-24T10:14:00Z")
            })
            .returning(|_, _, _| Ok(31));
        let quota = GenerationQuota {
            per_minute: 30,
            per_day: 1000,
        };
        let refused = limits(counter, at("2026-11-24T10:15:40Z"), quota)
            .check(&UserId::parse("alice").unwrap())
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(20));
    }

    #[tokio::test]
    async fn the_day_window_counts_when_the_minute_allows() {
        let mut counter = MockRateCounter::new();
        counter
            .expect_hit()
            .withf(|scope, _, _| scope == "generate:minute:bob")
            .returning(|_, _, _| Ok(1));
        counter
            .expect_hit()
            .withf(|scope, start, _| {
                scope == "generate:day:bob" && *start == at("2026-11-24T00:00:00Z")
            })
            .returning(|_, _, _| Ok(1001));
        let quota = GenerationQuota {
            per_minute: 30,
            per_day: 1000,
        };
        let refused = limits(counter, at("2026-11-24T23:59:30Z"), quota)
            .check(&UserId::parse("bob").unwrap())
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(30));
    }

    #[tokio::test]
    async fn zero_switches_a_window_off() {
        let mut counter = MockRateCounter::new();
        counter.expect_hit().times(0);
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

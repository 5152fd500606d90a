//! What is left of a user's generation limits now: the same windows, counted by the same
//! counter, as [`GenerationLimits::check`] enforces.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{DAY, GenerationLimits, MINUTE, scope_of};
use crate::error::RepositoryError;
use crate::ids::UserId;

/// One enforced sliding window as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowStatus {
    /// The window's length.
    pub length: Duration,
    /// Starts allowed in any span of `length`.
    pub limit: u32,
    /// Starts counted in the window now.
    pub used: u32,
    /// When the oldest counted start leaves the window (one more start fits then; when the
    /// window is full, the moment a refused start would be admitted); now when none is counted.
    pub frees_at: DateTime<Utc>,
}

impl WindowStatus {
    /// Starts still allowed now.
    pub fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }
}

/// The user's enforced windows now; `None` for a window switched off (limit 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitStatus {
    /// The time of the reading.
    pub now: DateTime<Utc>,
    /// Starts in any 60 seconds.
    pub per_minute: Option<WindowStatus>,
    /// Starts in any 24 hours.
    pub per_day: Option<WindowStatus>,
}

impl GenerationLimits {
    /// How much of each enforced window `user` has used now. Reads only: counts nothing.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    pub async fn status(&self, user: &UserId) -> Result<LimitStatus, RepositoryError> {
        let now = self.clock.now();
        let scope = scope_of(user);
        let mut windows = [
            (MINUTE, self.quota.per_minute, None),
            (DAY, self.quota.per_day, None),
        ];
        for (length, limit, status) in &mut windows {
            if *limit == 0 {
                continue;
            }
            let usage = self.counter.usage(&scope, *length, now).await?;
            let frees_at = usage.oldest.map_or(now, |oldest| {
                oldest
                    + chrono::Duration::from_std(*length)
                        .unwrap_or_else(|_| chrono::Duration::zero())
            });
            *status = Some(WindowStatus {
                length: *length,
                limit: *limit,
                used: usage.used,
                frees_at: frees_at.max(now),
            });
        }
        let [(_, _, per_minute), (_, _, per_day)] = windows;
        Ok(LimitStatus {
            now,
            per_minute,
            per_day,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ports::{MockClock, MockRateCounter, WindowUsage};
    use crate::services::GenerationQuota;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn limits(counter: MockRateCounter, quota: GenerationQuota) -> GenerationLimits {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at("2026-11-30T12:00:00Z"));
        GenerationLimits::new(Arc::new(counter), Arc::new(clock), quota)
    }

    #[tokio::test]
    async fn both_windows_are_read_from_the_enforcing_scope() {
        let mut counter = MockRateCounter::new();
        counter
            .expect_usage()
            .withf(|scope, length, now| {
                scope == "generate:alice" && *length == MINUTE && *now == at("2026-11-30T12:00:00Z")
            })
            .times(1)
            .returning(|_, _, _| {
                Ok(WindowUsage {
                    used: 2,
                    oldest: Some(at("2026-11-30T11:59:30Z")),
                })
            });
        counter
            .expect_usage()
            .withf(|_, length, _| *length == DAY)
            .times(1)
            .returning(|_, _, _| {
                Ok(WindowUsage {
                    used: 7,
                    oldest: Some(at("2026-11-30T01:00:00Z")),
                })
            });
        let status = limits(
            counter,
            GenerationQuota {
                per_minute: 30,
                per_day: 1000,
            },
        )
        .status(&UserId::parse("alice").unwrap())
        .await
        .unwrap();
        let minute = status.per_minute.unwrap();
        assert_eq!((minute.limit, minute.used, minute.remaining()), (30, 2, 28));
        assert_eq!(minute.frees_at, at("2026-11-30T12:00:30Z"));
        let day = status.per_day.unwrap();
        assert_eq!((day.limit, day.used), (1000, 7));
        assert_eq!(day.frees_at, at("2026-12-01T01:00:00Z"));
    }

    #[tokio::test]
    async fn an_unused_window_frees_now_and_a_switched_off_one_is_not_read() {
        let mut counter = MockRateCounter::new();
        counter
            .expect_usage()
            .withf(|_, length, _| *length == DAY)
            .times(1)
            .returning(|_, _, _| {
                Ok(WindowUsage {
                    used: 0,
                    oldest: None,
                })
            });
        let status = limits(
            counter,
            GenerationQuota {
                per_minute: 0,
                per_day: 5,
            },
        )
        .status(&UserId::parse("bob").unwrap())
        .await
        .unwrap();
        assert_eq!(status.per_minute, None);
        let day = status.per_day.unwrap();
        assert_eq!(day.frees_at, at("2026-11-30T12:00:00Z"));
        assert_eq!(day.remaining(), 5);
    }

    #[tokio::test]
    async fn more_used_than_the_limit_leaves_nothing() {
        let window = WindowStatus {
            length: MINUTE,
            limit: 2,
            used: 3,
            frees_at: at("2026-11-30T12:00:00Z"),
        };
        assert_eq!(window.remaining(), 0);
    }
}

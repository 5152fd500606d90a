//! Time, as a port so tests can fix it and the domain needs no runtime.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The current time, and waiting.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Clock: Send + Sync {
    /// Now, in UTC, with millisecond precision (the precision of the API and the database).
    fn now(&self) -> DateTime<Utc>;

    /// Resolves after `duration` (immediately in tests that fix the time).
    async fn sleep(&self, duration: Duration);
}

//! Timestamps are stored as milliseconds since the Unix epoch, UTC, in both backends.

use std::time::Duration;

use chrono::{DateTime, Utc};
use picture_domain::RepositoryError;

use crate::error::corrupt;

/// The stored form of a time.
pub(crate) fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A stored time.
pub(crate) fn from_millis(ms: i64) -> Result<DateTime<Utc>, RepositoryError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt("timestamp", ms))
}

/// `at` (ms) plus `span`, saturating (a span too long for the column is taken as "far off").
pub(crate) fn later(at: i64, span: Duration) -> i64 {
    at.saturating_add(i64::try_from(span.as_millis()).unwrap_or(i64::MAX / 2))
}

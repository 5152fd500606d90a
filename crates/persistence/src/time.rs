//! Timestamps are stored as milliseconds since the Unix epoch, UTC, in both backends.

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

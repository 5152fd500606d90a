//! The provider-poll throttle: one compare-and-set on a processing generation's
//! `provider_checked_at`, so whoever polls, on whichever instance, the provider is asked about
//! it at most once per interval.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::{GenerationId, GenerationStatus, RepositoryError};

use super::DieselGenerationRepository;
use crate::cached_statement::CacheStatement;
use crate::database::with_connection;
use crate::error::query_error;
use crate::schema::image_generations as generations;
use crate::time::to_millis;

impl DieselGenerationRepository {
    /// `UPDATE … SET provider_checked_at = :at WHERE id = :id AND status = 'processing' AND
    /// (provider_checked_at IS NULL OR provider_checked_at <= :at - :min_interval)`: `true` when
    /// it changed the row.
    pub(super) async fn claim_check(
        &self,
        id: GenerationId,
        min_interval: Duration,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let id = id.to_string();
        let now = to_millis(at);
        let interval = i64::try_from(min_interval.as_millis()).unwrap_or(i64::MAX / 4);
        let last_allowed = now.saturating_sub(interval);
        let claimed: usize = with_connection!(self.database, |conn| diesel::update(
            generations::table
                .filter(generations::id.eq(&id))
                .filter(generations::status.eq(GenerationStatus::Processing.as_str()))
                .filter(
                    generations::provider_checked_at
                        .is_null()
                        .or(generations::provider_checked_at.le(last_allowed)),
                ),
        )
        .set(generations::provider_checked_at.eq(Some(now)))
        .cached()
        .execute(conn)
        .await
        .map_err(query_error))?;
        Ok(claimed == 1)
    }
}

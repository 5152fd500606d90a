//! Rate-limit counters on diesel (`rate_counters`): one atomic upsert per hit.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::RepositoryError;
use picture_domain::ports::RateCounter;

use crate::cached_statement::CacheStatement;
use crate::database::{Database, with_connection};
use crate::error::query_error;
use crate::schema::rate_counters as counters;
use crate::time::to_millis;

/// [`RateCounter`] in the `rate_counters` table.
#[derive(Clone)]
pub struct DieselRateCounter {
    database: Database,
}

impl DieselRateCounter {
    /// Counters in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl RateCounter for DieselRateCounter {
    async fn hit(
        &self,
        scope: &str,
        window_start: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<u32, RepositoryError> {
        let (start, before) = (to_millis(window_start), to_millis(forget_before));
        let hits: i32 = with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let hits = diesel::insert_into(counters::table)
                    .values((
                        counters::scope.eq(scope),
                        counters::window_start.eq(start),
                        counters::hits.eq(1),
                    ))
                    .on_conflict((counters::scope, counters::window_start))
                    .do_update()
                    .set(counters::hits.eq(counters::hits + 1))
                    .returning(counters::hits)
                    .cached()
                    .get_result(conn)
                    .await?;
                diesel::delete(
                    counters::table
                        .filter(counters::scope.eq(scope))
                        .filter(counters::window_start.lt(before)),
                )
                .execute(conn)
                .await?;
                Ok(hits)
            })
            .await
            .map_err(query_error))?;
        Ok(u32::try_from(hits).unwrap_or(u32::MAX))
    }
}

//! The reconciler's queue ([`ReconcilerQueue`]): generations left behind, taken so that
//! concurrent reconcilers take disjoint ones.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::ports::ReconcilerQueue;
use picture_domain::{Generation, GenerationStatus, RepositoryError};

use super::row::GenerationRow;
use super::{DieselGenerationRepository, lease_end};
use crate::database::Pools;
use crate::error::{pool_error, query_error};
use crate::schema::image_generations as generations;
use crate::time::to_millis;

/// Generations left behind: the reconciler's two kinds of work.
enum Stale {
    /// `processing` since before `older_than` (ms) and not leased at `now` (ms), or whose
    /// finaliser's lease ran out before `now`.
    Processing { older_than: i64, now: i64 },
    /// `pending`, never submitted, created before `older_than` (ms).
    Pending { older_than: i64 },
}

/// Declares `$name`: the rows of a [`Stale`] (the reconciler's work) as a filter on `$db`.
macro_rules! stale_filter {
    ($name:ident, $db:ty) => {
        fn $name(
            which: &Stale,
        ) -> Box<dyn BoxableExpression<generations::table, $db, SqlType = diesel::sql_types::Bool>>
        {
            match *which {
                Stale::Processing { older_than, now } => Box::new(
                    generations::status
                        .eq(GenerationStatus::Processing.as_str())
                        .and(
                            generations::finalize_lease_until
                                .is_null()
                                .and(generations::updated_at.lt(older_than))
                                .or(generations::finalize_lease_until.lt(now))
                                .assume_not_null(),
                        ),
                ),
                Stale::Pending { older_than } => Box::new(
                    generations::status
                        .eq(GenerationStatus::Pending.as_str())
                        .and(generations::replicate_prediction_id.is_null())
                        .and(generations::created_at.lt(older_than)),
                ),
            }
        }
    };
}

stale_filter!(stale_on_postgres, diesel::pg::Pg);
stale_filter!(stale_on_sqlite, diesel::sqlite::Sqlite);

impl DieselGenerationRepository {
    /// Takes up to `limit` rows of `which` that no other pass holds at `now` (ms), holding
    /// them until `until` (ms), oldest first: the ids are chosen, then taken by a
    /// compare-and-set on `reconcile_until`, so concurrent passes take disjoint rows.
    /// PostgreSQL chooses with `FOR UPDATE SKIP LOCKED` in the same transaction, so a pass
    /// skips the rows another instance is taking at that moment instead of waiting for them
    /// (and then finding them taken); SQLite serialises writers anyway.
    async fn take_stale(
        &self,
        which: Stale,
        now: i64,
        until: i64,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError> {
        let limit = i64::from(limit);
        let free = || {
            generations::reconcile_until
                .is_null()
                .or(generations::reconcile_until.lt(now))
        };
        let mut rows: Vec<GenerationRow> = match self.database.pools() {
            Pools::Postgres(pool) => {
                let mut conn = pool.get().await.map_err(pool_error)?;
                conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                    let ids: Vec<String> = generations::table
                        .filter(stale_on_postgres(&which))
                        .filter(free())
                        .order(generations::created_at.asc())
                        .select(generations::id)
                        .limit(limit)
                        .for_update()
                        .skip_locked()
                        .load(conn)
                        .await?;
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    diesel::update(
                        generations::table
                            .filter(generations::id.eq_any(&ids))
                            .filter(free()),
                    )
                    .set(generations::reconcile_until.eq(Some(until)))
                    .returning(GenerationRow::as_returning())
                    .get_results(conn)
                    .await
                })
                .await
                .map_err(query_error)?
            }
            Pools::Sqlite(pool) => {
                let mut conn = pool.get().await.map_err(pool_error)?;
                let ids: Vec<String> = generations::table
                    .filter(stale_on_sqlite(&which))
                    .filter(free())
                    .order(generations::created_at.asc())
                    .select(generations::id)
                    .limit(limit)
                    .load(&mut *conn)
                    .await
                    .map_err(query_error)?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                diesel::update(
                    generations::table
                        .filter(generations::id.eq_any(&ids))
                        .filter(free()),
                )
                .set(generations::reconcile_until.eq(Some(until)))
                .returning(GenerationRow::as_returning())
                .get_results(&mut *conn)
                .await
                .map_err(query_error)?
            }
        };
        rows.sort_by_key(GenerationRow::created_at);
        rows.into_iter()
            .map(GenerationRow::into_generation)
            .collect()
    }
}

#[async_trait]
impl ReconcilerQueue for DieselGenerationRepository {
    async fn stale_processing(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        hold: Duration,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError> {
        let now = to_millis(at);
        let which = Stale::Processing {
            older_than: to_millis(older_than),
            now,
        };
        self.take_stale(which, now, lease_end(now, hold), limit)
            .await
    }

    async fn stale_pending(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        hold: Duration,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError> {
        let now = to_millis(at);
        let which = Stale::Pending {
            older_than: to_millis(older_than),
        };
        self.take_stale(which, now, lease_end(now, hold), limit)
            .await
    }
}

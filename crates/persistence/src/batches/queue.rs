//! The durable queue of batch items ([`BatchQueue`]) on the database: a claim is one
//! conditional `UPDATE` of a `queued` row, so a row is never claimed twice. On PostgreSQL the
//! claim first locks the user's account row with `FOR UPDATE SKIP LOCKED` — claims of one user
//! on any instance run one after the other, and never wait — before it counts the user's items
//! in flight, and takes the row itself `FOR UPDATE SKIP LOCKED`. On SQLite one statement does
//! it all under the database's single writer.
//!
//! `claimed_at` is when the first claim that may have submitted the item began: a claim keeps
//! it when set (an earlier claim lapsed — its worker stopped — or was given back unsure), so
//! the new worker knows since when a prediction may exist for the item; a release with
//! `forget_claim` clears it.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use picture_domain::ports::{BatchQueue, ClaimedItem};
use picture_domain::{GenerationId, GenerationStatus, RepositoryError};

use super::DieselBatchRepository;
use crate::database::{Pools, with_connection};
use crate::error::{pool_error, query_error};
use crate::generations::GenerationRow;
use crate::schema::{
    batch_generations as batches, generation_claims as claims, image_generations as generations,
};
use crate::time::{from_millis, to_millis};

/// `WITH flight (user_id, n)`: each user's batch items in flight at `$now` (at the provider, or
/// claimed under a live lease), counted in one pass over the unfinished items — not once per
/// queued row, which made a claim's cost grow with the square of the queue's depth.
/// `MATERIALIZED`: computed once even when the planner's statistics predate the queue (a
/// nested loop then recomputed it for every queued row: 17 s at 10,000 items).
macro_rules! with_flight {
    ($now:literal) => {
        concat!(
            "WITH flight AS MATERIALIZED (SELECT h.user_id, count(*) AS n FROM image_generations h ",
            "WHERE h.batch_id IS NOT NULL AND h.status IN ('queued', 'processing') ",
            "AND (h.status = 'processing' OR (h.claim_owner IS NOT NULL AND h.claim_until >= ",
            $now,
            ")) GROUP BY h.user_id) "
        )
    };
}

/// The claimable rows `g` at `$now`.
macro_rules! claimable {
    ($now:literal) => {
        concat!(
            "g.batch_id IS NOT NULL AND g.status = 'queued' ",
            "AND (g.claim_until IS NULL OR g.claim_until < ",
            $now,
            ")"
        )
    };
}

/// The claim's `SET`: owner, lease end, and `claimed_at` kept across a lapsed claim.
macro_rules! claim_set {
    ($owner:literal, $now:literal, $until:literal) => {
        concat!(
            "SET claim_owner = ",
            $owner,
            ", claim_until = ",
            $until,
            ", claimed_at = CASE WHEN claimed_at IS NOT NULL ",
            "THEN claimed_at ELSE ",
            $now,
            " END"
        )
    };
}

/// Rows `g` with their batch `b`: a retried item keeps its batch's place in the queue.
macro_rules! with_batch {
    () => {
        "FROM image_generations g JOIN batch_generations b ON b.id = g.batch_id WHERE "
    };
}

/// Rows `g` with their batch `b` and their user's count in flight `f` (none: 0).
macro_rules! with_batch_and_flight {
    () => {
        concat!(
            "FROM image_generations g JOIN batch_generations b ON b.id = g.batch_id ",
            "LEFT JOIN flight f ON f.user_id = g.user_id WHERE "
        )
    };
}

/// A user's claimable rows in order: the oldest batch first, then the lowest index.
macro_rules! batch_order {
    () => {
        "b.created_at, g.batch_id, g.priority"
    };
}

/// SQLite: the whole claim in one statement (`?1` owner, `?2` now, `?3` lease end, `?4` the
/// per-user bound).
const CLAIM_SQLITE: &str = concat!(
    "UPDATE image_generations ",
    claim_set!("?1", "?2", "?3"),
    " WHERE id = (",
    with_flight!("?2"),
    "SELECT g.id ",
    with_batch_and_flight!(),
    claimable!("?2"),
    " AND COALESCE(f.n, 0) < ?4 ORDER BY COALESCE(f.n, 0), ",
    batch_order!(),
    " LIMIT 1) RETURNING id, claimed_at"
);

/// PostgreSQL: users with claimable items, fewest in flight first, then the oldest batch
/// (`$1` now). Both sides are grouped by user before they are joined.
const CANDIDATES_PG: &str = concat!(
    with_flight!("$1"),
    ", waiting AS MATERIALIZED (SELECT g.user_id, min(b.created_at) AS oldest ",
    with_batch!(),
    claimable!("$1"),
    " GROUP BY g.user_id) SELECT w.user_id FROM waiting w LEFT JOIN flight f ",
    "ON f.user_id = w.user_id ORDER BY COALESCE(f.n, 0), w.oldest LIMIT 16"
);

/// PostgreSQL: the user's account row, unless another claim (or a money move) holds it.
const LOCK_USER_PG: &str =
    "SELECT user_id FROM credit_accounts WHERE user_id = $1 FOR UPDATE SKIP LOCKED";

/// PostgreSQL: the user's items in flight (`$1` user, `$2` now).
const IN_FLIGHT_PG: &str = concat!(
    "SELECT count(*) AS n FROM image_generations g WHERE g.user_id = $1 AND g.batch_id IS NOT NULL ",
    "AND g.status IN ('queued', 'processing') AND (g.status = 'processing' OR ",
    "(g.claim_owner IS NOT NULL AND g.claim_until >= $2))"
);

/// PostgreSQL: claims the user's next item (`$1` owner, `$2` now, `$3` lease end, `$4` user).
const CLAIM_PG: &str = concat!(
    "UPDATE image_generations ",
    claim_set!("$1", "$2", "$3"),
    " WHERE id = (SELECT g.id ",
    with_batch!(),
    "g.user_id = $4 AND ",
    claimable!("$2"),
    " ORDER BY ",
    batch_order!(),
    " LIMIT 1 FOR UPDATE OF g SKIP LOCKED) RETURNING id, claimed_at"
);

/// What a claim returns.
#[derive(Debug, QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    claimed_at: Option<i64>,
}

/// A user name.
#[derive(Debug, QueryableByName)]
struct UserRow {
    #[diesel(sql_type = Text)]
    user_id: String,
}

/// A count.
#[derive(Debug, QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn lease_end(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

impl DieselBatchRepository {
    /// Claims on PostgreSQL: the first candidate user whose account row is free and who has
    /// room for another item in flight.
    async fn claim_on_postgres(
        &self,
        pool: &Pool<AsyncPgConnection>,
        owner: &str,
        per_user: u32,
        now: i64,
        until: i64,
    ) -> Result<Option<ClaimedRow>, RepositoryError> {
        let mut conn = pool.get().await.map_err(pool_error)?;
        let candidates: Vec<UserRow> = diesel::sql_query(CANDIDATES_PG)
            .bind::<BigInt, _>(now)
            .load(&mut *conn)
            .await
            .map_err(query_error)?;
        for candidate in candidates {
            let user = candidate.user_id;
            let claimed = conn
                .transaction::<_, diesel::result::Error, _>(async |conn| {
                    let locked: Vec<UserRow> = diesel::sql_query(LOCK_USER_PG)
                        .bind::<Text, _>(&user)
                        .load(conn)
                        .await?;
                    if locked.is_empty() {
                        return Ok(None);
                    }
                    let in_flight: CountRow = diesel::sql_query(IN_FLIGHT_PG)
                        .bind::<Text, _>(&user)
                        .bind::<BigInt, _>(now)
                        .get_result(conn)
                        .await?;
                    if in_flight.n >= i64::from(per_user) {
                        return Ok(None);
                    }
                    diesel::sql_query(CLAIM_PG)
                        .bind::<Text, _>(owner)
                        .bind::<BigInt, _>(now)
                        .bind::<BigInt, _>(until)
                        .bind::<Text, _>(&user)
                        .get_result::<ClaimedRow>(conn)
                        .await
                        .optional()
                })
                .await
                .map_err(query_error)?;
            if claimed.is_some() {
                return Ok(claimed);
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl BatchQueue for DieselBatchRepository {
    async fn claim(
        &self,
        owner: &str,
        per_user: u32,
        lease: Duration,
        at: DateTime<Utc>,
    ) -> Result<Option<ClaimedItem>, RepositoryError> {
        let now = to_millis(at);
        let until = lease_end(now, lease);
        let per_user_bound = i32::try_from(per_user).unwrap_or(i32::MAX);
        let claimed = match self.database.pools() {
            Pools::Postgres(pool) => {
                self.claim_on_postgres(pool, owner, per_user, now, until)
                    .await?
            }
            Pools::Sqlite(pool) => {
                let mut conn = pool.get().await.map_err(pool_error)?;
                diesel::sql_query(CLAIM_SQLITE)
                    .bind::<Text, _>(owner)
                    .bind::<BigInt, _>(now)
                    .bind::<BigInt, _>(until)
                    .bind::<Integer, _>(per_user_bound)
                    .get_result::<ClaimedRow>(&mut *conn)
                    .await
                    .optional()
                    .map_err(query_error)?
            }
        };
        let Some(claimed) = claimed else {
            return Ok(None);
        };
        let id = claimed.id.as_str();
        let (row, model_version): (GenerationRow, Option<String>) =
            with_connection!(self.database, |conn| generations::table
                .left_join(batches::table.on(batches::id.nullable().eq(generations::batch_id)))
                .filter(generations::id.eq(id))
                .select((
                    GenerationRow::as_select(),
                    batches::model_version.nullable()
                ))
                .first(conn)
                .await
                .map_err(query_error))?;
        let earlier_claim = match claimed.claimed_at {
            Some(began) if began < now => Some(from_millis(began)?),
            _ => None,
        };
        Ok(Some(ClaimedItem {
            generation: row.into_generation()?,
            model_version,
            earlier_claim,
        }))
    }

    async fn release(
        &self,
        id: GenerationId,
        owner: &str,
        not_before: Option<DateTime<Utc>>,
        forget_claim: bool,
    ) -> Result<(), RepositoryError> {
        let id = id.to_string();
        let not_before = not_before.map(to_millis);
        let owner = owner.to_owned();
        with_connection!(self.database, |conn| {
            let held = claims::table
                .filter(claims::id.eq(&id))
                .filter(claims::status.eq(GenerationStatus::Queued.as_str()))
                .filter(claims::claim_owner.eq(&owner));
            let released = if forget_claim {
                diesel::update(held)
                    .set((
                        claims::claim_owner.eq(None::<String>),
                        claims::claimed_at.eq(None::<i64>),
                        claims::claim_until.eq(not_before),
                    ))
                    .execute(conn)
                    .await
            } else {
                diesel::update(held)
                    .set((
                        claims::claim_owner.eq(None::<String>),
                        claims::claim_until.eq(not_before),
                    ))
                    .execute(conn)
                    .await
            };
            released.map(|_| ()).map_err(query_error)
        })
    }
}

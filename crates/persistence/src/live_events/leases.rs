//! [`StreamLeases`] in `live_streams` (one row per open stream) and `live_instances` (until when
//! each instance counts as alive).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::ports::StreamLeases;
use picture_domain::{RepositoryError, UserId};

use crate::database::{Database, with_connection};
use crate::error::query_error;
use crate::schema::{live_instances as instances, live_streams as streams};
use crate::time::{later, to_millis};
use crate::url::Backend;

/// The first key of the PostgreSQL advisory lock that serialises the opens of one user (the
/// second is `hashtext(user_id)`); not the event log's (1885695079).
const OPEN_LOCK_KEY: i32 = 1_885_695_080;

/// How long an instance counts as alive after it opens a stream, unless its last
/// [`keep_alive`](StreamLeases::keep_alive) said longer. No longer than the server's own
/// liveness span (30 s), so a killed instance's streams stop counting as soon after its last
/// open as after its last renewal.
pub const STREAM_OPEN_GRACE: Duration = Duration::from_secs(30);

/// [`StreamLeases`] in the `live_streams` and `live_instances` tables.
///
/// [`open`](StreamLeases::open) counts only the streams of instances alive at `now`, and marks
/// the opening instance alive until at least `now +` [`STREAM_OPEN_GRACE`] (it is plainly alive), so
/// an instance need not call `keep_alive` before its first stream; it must call it more often
/// than every [`STREAM_OPEN_GRACE`] while it holds streams, or they stop counting.
#[derive(Clone)]
pub struct DieselStreamLeases {
    database: Database,
}

impl DieselStreamLeases {
    /// The leases in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl StreamLeases for DieselStreamLeases {
    async fn open(
        &self,
        user: &UserId,
        instance: &str,
        per_user: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, RepositoryError> {
        let now = to_millis(now);
        let alive_until = later(now, STREAM_OPEN_GRACE);
        let backend = self.database.backend();
        with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                // The opens of one user are serialised, so each counts every stream opened
                // before it on any instance: on PostgreSQL by a transaction advisory lock; on
                // SQLite by the database lock the first write below takes (waiting on
                // busy_timeout, never upgrading a read snapshot).
                if backend == Backend::Postgres {
                    diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                        .bind::<Integer, _>(OPEN_LOCK_KEY)
                        .bind::<Text, _>(user.as_str())
                        .execute(conn)
                        .await?;
                }
                diesel::insert_into(instances::table)
                    .values((
                        instances::instance_id.eq(instance),
                        instances::alive_until.eq(alive_until),
                    ))
                    .on_conflict(instances::instance_id)
                    .do_nothing()
                    .execute(conn)
                    .await?;
                diesel::update(
                    instances::table
                        .find(instance)
                        .filter(instances::alive_until.lt(alive_until)),
                )
                .set(instances::alive_until.eq(alive_until))
                .execute(conn)
                .await?;
                let alive = instances::table
                    .filter(instances::alive_until.ge(now))
                    .select(instances::instance_id);
                let open: i64 = streams::table
                    .filter(streams::user_id.eq(user.as_str()))
                    .filter(streams::instance_id.eq_any(alive))
                    .count()
                    .get_result(conn)
                    .await?;
                if open >= i64::from(per_user) {
                    return Ok(None);
                }
                diesel::insert_into(streams::table)
                    .values((
                        streams::user_id.eq(user.as_str()),
                        streams::instance_id.eq(instance),
                        streams::opened_at.eq(now),
                    ))
                    .returning(streams::id)
                    .get_result(conn)
                    .await
                    .map(Some)
            })
            .await
            .map_err(query_error))
    }

    async fn close(&self, lease: i64) -> Result<(), RepositoryError> {
        with_connection!(self.database, |conn| {
            diesel::delete(streams::table.find(lease))
                .execute(conn)
                .await
                .map_err(query_error)
        })?;
        Ok(())
    }

    async fn keep_alive(
        &self,
        instance: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        let (until, now) = (to_millis(until), to_millis(now));
        with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                diesel::insert_into(instances::table)
                    .values((
                        instances::instance_id.eq(instance),
                        instances::alive_until.eq(until),
                    ))
                    .on_conflict(instances::instance_id)
                    .do_update()
                    .set(instances::alive_until.eq(until))
                    .execute(conn)
                    .await?;
                let dead = instances::table
                    .filter(instances::alive_until.lt(now))
                    .select(instances::instance_id);
                diesel::delete(streams::table.filter(streams::instance_id.eq_any(dead)))
                    .execute(conn)
                    .await?;
                diesel::delete(instances::table.filter(instances::alive_until.lt(now)))
                    .execute(conn)
                    .await?;
                Ok(())
            })
            .await
            .map_err(query_error))
    }
}

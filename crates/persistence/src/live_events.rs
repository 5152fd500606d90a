//! Live progress on diesel: the event log (`live_events`, written by triggers in the changing
//! transaction, see the `live_events` migration), the per-user count of open streams
//! (`live_streams`, `live_instances`), and the feed that tells one server instance about every
//! committed event.
//!
//! - this file: [`DieselEventLog`], the log's reads and upkeep;
//! - `row.rs`: a stored or notified event and its conversion to [`LiveEvent`];
//! - `leases.rs`: [`DieselStreamLeases`];
//! - `feed.rs` (+ `feed/`): [`LiveFeed`], by `LISTEN` on PostgreSQL and by polling on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::ports::EventLog;
use picture_domain::{EventSeq, GenerationId, LiveEvent, RepositoryError, UserId};

use crate::database::{Database, with_connection};
use crate::error::query_error;
use crate::schema::live_events as events;
use crate::time::to_millis;

mod feed;
mod leases;
mod row;

pub use feed::{FeedItem, FeedOptions, LIVE_FEED_APPLICATION_NAME, LiveFeed};
pub use leases::{DieselStreamLeases, STREAM_OPEN_GRACE};
use row::EventRow;

/// [`EventLog`] in the `live_events` table. Both backends number events in commit order per
/// user: PostgreSQL at commit under a per-user lock, SQLite (one writer at a time) by row id.
#[derive(Clone)]
pub struct DieselEventLog {
    database: Database,
}

impl DieselEventLog {
    /// The log in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

/// The domain's events of `rows`, in order; the first corrupt one fails the whole read.
fn into_events(rows: Vec<EventRow>) -> Result<Vec<LiveEvent>, RepositoryError> {
    rows.into_iter().map(EventRow::into_event).collect()
}

#[async_trait]
impl EventLog for DieselEventLog {
    async fn replay(
        &self,
        user: &UserId,
        after: EventSeq,
        generation: Option<GenerationId>,
        limit: u32,
    ) -> Result<Vec<LiveEvent>, RepositoryError> {
        let generation = generation.map(|id| id.to_string());
        let (after, limit) = (after.get(), i64::from(limit));
        // `seq > after` also leaves out the rows still unnumbered (NULL) of a transaction in
        // flight, which only that transaction can see anyway.
        let rows: Vec<EventRow> = with_connection!(self.database, |conn| {
            let mine = events::table
                .filter(events::user_id.eq(user.as_str()))
                .filter(events::seq.gt(after))
                .order(events::seq.asc())
                .limit(limit)
                .select(EventRow::as_select());
            match &generation {
                Some(generation) => {
                    mine.filter(events::generation_id.eq(generation))
                        .load(conn)
                        .await
                }
                None => mine.load(conn).await,
            }
            .map_err(query_error)
        })?;
        into_events(rows)
    }

    async fn latest(&self, generation: GenerationId) -> Result<Option<LiveEvent>, RepositoryError> {
        let generation = generation.to_string();
        let row: Option<EventRow> = with_connection!(self.database, |conn| {
            events::table
                .filter(events::generation_id.eq(&generation))
                .filter(events::seq.is_not_null())
                .order(events::seq.desc())
                .select(EventRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(query_error)
        })?;
        row.map(EventRow::into_event).transpose()
    }

    async fn newest(&self, user: &UserId) -> Result<Option<EventSeq>, RepositoryError> {
        let user = user.as_str();
        let newest: Option<i64> = with_connection!(self.database, |conn| {
            events::table
                .filter(events::user_id.eq(user))
                .select(diesel::dsl::max(events::seq))
                .get_result(conn)
                .await
                .map_err(query_error)
        })?;
        Ok(newest.map(EventSeq::new))
    }

    async fn horizon(&self) -> Result<Option<EventSeq>, RepositoryError> {
        let oldest: Option<i64> = with_connection!(self.database, |conn| {
            events::table
                .select(diesel::dsl::min(events::seq))
                .get_result(conn)
                .await
                .map_err(query_error)
        })?;
        Ok(oldest.map(EventSeq::new))
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let before = to_millis(before);
        let deleted: usize = with_connection!(self.database, |conn| {
            diesel::delete(events::table.filter(events::created_at.lt(before)))
                .execute(conn)
                .await
                .map_err(query_error)
        })?;
        Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
    }
}

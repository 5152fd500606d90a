//! The SQLite feed: the log read every `sqlite_poll` for the events after the last one seen.
//! SQLite has one writer at a time, so ids (= `seq`) are taken in commit order and "after the
//! last id seen" misses none.

use std::collections::VecDeque;
use std::time::Duration;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::{ErrorChain, LiveEvent, RepositoryError};
use tokio::time::{Instant, sleep_until};

use super::{FeedItem, FeedOptions};
use crate::database::{Database, with_connection};
use crate::error::{PersistenceError, query_error};
use crate::live_events::row::EventRow;
use crate::schema::live_events as events;

/// The id of the newest event in the log, if any.
async fn newest_id(database: &Database) -> Result<Option<i64>, RepositoryError> {
    with_connection!(database, |conn| {
        events::table
            .select(diesel::dsl::max(events::id))
            .get_result(conn)
            .await
            .map_err(query_error)
    })
}

/// The most events one poll reads.
const BATCH: i64 = 1000;

pub(super) struct SqliteFeed {
    database: Database,
    poll: Duration,
    /// The id of the last event read.
    last: i64,
    /// Read, not yet yielded.
    ready: VecDeque<LiveEvent>,
    next_poll: Instant,
}

impl SqliteFeed {
    pub(super) async fn open(
        database: Database,
        options: FeedOptions,
    ) -> Result<Self, PersistenceError> {
        let newest = newest_id(&database)
            .await
            .map_err(|e| PersistenceError::Connect(e.into()))?;
        Ok(Self {
            database,
            poll: options.sqlite_poll,
            last: newest.unwrap_or(0),
            ready: VecDeque::new(),
            next_poll: Instant::now(),
        })
    }

    pub(super) async fn next(&mut self) -> FeedItem {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return FeedItem::Event(event);
            }
            sleep_until(self.next_poll).await;
            self.next_poll = Instant::now() + self.poll;
            match self.read().await {
                Ok(rows) => self.take(rows),
                Err(error) => {
                    tracing::warn!(error = %ErrorChain(&error), "live feed poll failed");
                }
            }
        }
    }

    /// The events after the last one read, oldest first.
    async fn read(&self) -> Result<Vec<(i64, EventRow)>, RepositoryError> {
        let last = self.last;
        with_connection!(self.database, |conn| {
            events::table
                .filter(events::id.gt(last))
                .filter(events::seq.is_not_null())
                .order(events::id.asc())
                .limit(BATCH)
                .select((events::id, EventRow::as_select()))
                .load(conn)
                .await
                .map_err(query_error)
        })
    }

    fn take(&mut self, rows: Vec<(i64, EventRow)>) {
        for (id, row) in rows {
            self.last = self.last.max(id);
            match row.into_event() {
                Ok(event) => self.ready.push_back(event),
                Err(error) => {
                    tracing::warn!(error = %ErrorChain(&error), id, "malformed live event skipped");
                }
            }
        }
    }
}

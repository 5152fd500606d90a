//! The live feed: every committed event of every user, as one server instance learns of it —
//! by `LISTEN picture_live` on PostgreSQL (the deferred trigger that numbers an event at commit
//! also `NOTIFY`s it, so events written on any instance reach every instance), by polling the
//! log on SQLite (one process holds the database).

use std::time::Duration;

use picture_domain::LiveEvent;

use crate::database::Database;
use crate::error::PersistenceError;
use crate::url::Backend;

mod postgres;
mod sqlite;

/// What [`LiveFeed::next`] yields.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedItem {
    /// A committed event. On PostgreSQL the events of one user arrive in their `seq` order
    /// (notifications are delivered in commit order).
    Event(LiveEvent),
    /// Events may have been missed (the listening connection was lost and is back): whoever
    /// relays the feed should resynchronise from the event log (`EventLog::replay`).
    Gap,
}

/// How a feed listens (PostgreSQL) or polls (SQLite).
#[derive(Debug, Clone, Copy)]
pub struct FeedOptions {
    /// SQLite: how often the log is read for new events.
    pub sqlite_poll: Duration,
    /// PostgreSQL: the longest wait to open the listening connection, and for the query that
    /// checks an idle one.
    pub connect_timeout: Duration,
    /// PostgreSQL: after this long without a notification the connection is checked with a
    /// query, so one lost without a word (a dropped network path) is noticed and replaced.
    pub idle_check: Duration,
}

impl Default for FeedOptions {
    fn default() -> Self {
        Self {
            sqlite_poll: Duration::from_millis(25),
            connect_timeout: Duration::from_secs(5),
            idle_check: Duration::from_secs(30),
        }
    }
}

/// Every committed event of every user, for one server instance to relay to its streams.
/// Open one per instance with [`Database::live_feed`] and call [`next`](Self::next) in a loop.
///
/// **Runtime.** On PostgreSQL the feed's connection is its own (not the pool's) and is driven
/// by a task on the runtime that opened it (or, after a reconnect, that called `next`): open
/// and drive a feed on one runtime that outlives it (the server's main runtime, not an HTTP
/// worker's). **Backpressure.** Notifications the feed has not yet been asked for wait in
/// memory; keep calling `next`.
pub struct LiveFeed {
    source: Source,
}

enum Source {
    Postgres(Box<postgres::PgFeed>),
    Sqlite(sqlite::SqliteFeed),
}

impl LiveFeed {
    /// Whether events pile up in memory until [`next`](Self::next) takes them (PostgreSQL's
    /// notifications), so `next` must be called even when nobody listens; `false` when the
    /// feed reads the log on demand (SQLite), so a relay with no stream open may stop asking
    /// (and the database is not polled for nothing).
    pub fn needs_draining(&self) -> bool {
        matches!(self.source, Source::Postgres(_))
    }

    /// The next event, or a [`FeedItem::Gap`]. Never fails: a lost PostgreSQL connection is
    /// reopened with backoff (100 ms doubling to 5 s) and followed by one `Gap`; a failed
    /// SQLite poll is logged and tried again. A malformed event is logged and skipped.
    /// Cancel-safe: a `next` dropped while waiting loses no event.
    pub async fn next(&mut self) -> FeedItem {
        match &mut self.source {
            Source::Postgres(feed) => feed.next().await,
            Source::Sqlite(feed) => feed.next().await,
        }
    }
}

impl Database {
    /// Opens this instance's live feed: from now on it yields every event committed after it
    /// opened. On PostgreSQL it opens a connection of its own (outside the pool, named
    /// [`LIVE_FEED_APPLICATION_NAME`]) and `LISTEN`s; on SQLite it starts after the newest
    /// event in the log. See [`LiveFeed`] for the runtime it must be driven on.
    ///
    /// # Errors
    /// [`PersistenceError::Connect`] when the connection cannot be opened or the log read.
    pub async fn live_feed(&self, options: FeedOptions) -> Result<LiveFeed, PersistenceError> {
        let source = match self.backend() {
            Backend::Postgres => Source::Postgres(Box::new(
                postgres::PgFeed::open(self.url().clone(), options).await?,
            )),
            Backend::Sqlite => {
                Source::Sqlite(sqlite::SqliteFeed::open(self.clone(), options).await?)
            }
        };
        Ok(LiveFeed { source })
    }
}

/// The `application_name` of a PostgreSQL feed's connection (as `pg_stat_activity` shows it).
pub const LIVE_FEED_APPLICATION_NAME: &str = "picture-live-feed";

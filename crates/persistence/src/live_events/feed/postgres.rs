//! The PostgreSQL feed: one connection of its own that `LISTEN`s on `picture_live`.

use std::pin::Pin;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_core::Stream;
use picture_domain::ErrorChain;
use tokio::time::{Instant, sleep_until, timeout};

use super::{FeedItem, FeedOptions, LIVE_FEED_APPLICATION_NAME};
use crate::error::PersistenceError;
use crate::live_events::row::EventRow;
use crate::url::DatabaseUrl;

/// The channel the event log's commit trigger notifies.
const CHANNEL: &str = "picture_live";
/// The wait before the first attempt to reopen a lost connection; doubled after each failure.
const FIRST_RETRY: Duration = Duration::from_millis(100);
/// The longest wait between attempts.
const LAST_RETRY: Duration = Duration::from_secs(5);

type Cause = Box<dyn std::error::Error + Send + Sync>;

pub(super) struct PgFeed {
    url: DatabaseUrl,
    options: FeedOptions,
    /// `None` while lost.
    conn: Option<AsyncPgConnection>,
    /// Whether a `Gap` is owed (set when the connection is lost, yielded once it is back).
    gap: bool,
    /// When the next attempt to reopen may start, and the wait after it if it fails.
    retry_at: Instant,
    retry_delay: Duration,
}

/// Opens a connection, names it and listens.
async fn listen(url: &DatabaseUrl, within: Duration) -> Result<AsyncPgConnection, Cause> {
    let opening = async {
        let mut conn = AsyncPgConnection::establish(url.connection_string()).await?;
        conn.batch_execute(&format!(
            "SET application_name = '{LIVE_FEED_APPLICATION_NAME}'; LISTEN {CHANNEL}"
        ))
        .await?;
        Ok::<_, Cause>(conn)
    };
    timeout(within, opening)
        .await
        .map_err(|_| Cause::from(format!("no connection within {within:?}")))?
}

/// What waiting on the connection gave.
enum Heard {
    /// A notification's payload on our channel.
    Payload(String),
    /// A notification on another channel.
    Other,
    /// The connection failed or closed.
    Lost(Cause),
    /// Nothing for `idle_check`.
    Quiet,
}

impl PgFeed {
    pub(super) async fn open(
        url: DatabaseUrl,
        options: FeedOptions,
    ) -> Result<Self, PersistenceError> {
        let conn = listen(&url, options.connect_timeout)
            .await
            .map_err(PersistenceError::Connect)?;
        Ok(Self {
            url,
            options,
            conn: Some(conn),
            gap: false,
            retry_at: Instant::now(),
            retry_delay: FIRST_RETRY,
        })
    }

    pub(super) async fn next(&mut self) -> FeedItem {
        loop {
            let Some(conn) = self.conn.as_mut() else {
                self.reconnect().await;
                continue;
            };
            if self.gap {
                self.gap = false;
                return FeedItem::Gap;
            }
            match hear(conn, self.options.idle_check).await {
                Heard::Payload(payload) => {
                    match EventRow::from_payload(&payload).and_then(EventRow::into_event) {
                        Ok(event) => return FeedItem::Event(event),
                        Err(error) => tracing::warn!(
                            error = %ErrorChain(&error),
                            "malformed live event notification skipped"
                        ),
                    }
                }
                Heard::Other => {}
                Heard::Lost(error) => self.lost(&*error),
                Heard::Quiet => {
                    let within = self.options.connect_timeout;
                    match timeout(within, conn.batch_execute("SELECT 1")).await {
                        Ok(Ok(())) => {}
                        Ok(Err(error)) => self.lost(&error),
                        Err(_) => self.lost(&*Cause::from("the idle check timed out")),
                    }
                }
            }
        }
    }

    /// Drops the connection; the next [`next`](Self::next) reopens it and owes a `Gap`.
    fn lost(&mut self, error: &(dyn std::error::Error + 'static)) {
        tracing::warn!(error = %ErrorChain(error), "live feed connection lost; reconnecting");
        metrics::counter!("picture_live_feed_reconnects_total").increment(1);
        self.conn = None;
        self.gap = true;
        self.retry_delay = FIRST_RETRY;
        self.retry_at = Instant::now() + FIRST_RETRY;
    }

    /// One attempt to reopen the connection, when the backoff allows.
    async fn reconnect(&mut self) {
        sleep_until(self.retry_at).await;
        match listen(&self.url, self.options.connect_timeout).await {
            Ok(conn) => {
                tracing::info!("live feed connection reopened");
                self.conn = Some(conn);
            }
            Err(error) => {
                self.retry_delay = (self.retry_delay * 2).min(LAST_RETRY);
                self.retry_at = Instant::now() + self.retry_delay;
                tracing::warn!(
                    error = %ErrorChain(&*error),
                    retry_in_ms = self.retry_delay.as_millis(),
                    "live feed cannot reconnect yet"
                );
            }
        }
    }
}

/// Waits up to `idle` for the connection's next notification.
async fn hear(conn: &mut AsyncPgConnection, idle: Duration) -> Heard {
    let mut stream = std::pin::pin!(conn.notifications_stream());
    let next = std::future::poll_fn(|cx| Pin::as_mut(&mut stream).poll_next(cx));
    match timeout(idle, next).await {
        Err(_) => Heard::Quiet,
        Ok(None) => Heard::Lost("the connection closed".into()),
        Ok(Some(Err(error))) => Heard::Lost(error.into()),
        Ok(Some(Ok(notification))) if notification.channel == CHANNEL => {
            Heard::Payload(notification.payload)
        }
        Ok(Some(Ok(_))) => Heard::Other,
    }
}

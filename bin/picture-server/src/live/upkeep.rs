//! The instance's background tasks for live progress: the feed of committed events into the
//! hub, the instance's liveness in the stream leases, and pruning the event log.

use std::sync::Arc;
use std::time::Duration;

use picture_domain::ports::{Clock, EventLog, StreamLeases};
use picture_live::LiveHub;
use picture_persistence::{FeedItem, LiveFeed};
use tokio::task::JoinHandle;

/// How often the instance says it is alive.
const ALIVE_EVERY: Duration = Duration::from_secs(10);
/// How long after its last word (a renewal, or a stream opened) an instance's streams stop
/// counting: the leases' own span for an open, so both words say the same.
const ALIVE_FOR: Duration = picture_persistence::STREAM_OPEN_GRACE;
/// How often a feed read on demand checks whether any stream is still open.
const RECHECK_STREAMS: Duration = Duration::from_secs(1);
/// How often the event log is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// The running tasks.
pub struct LiveUpkeep {
    tasks: Vec<JoinHandle<()>>,
    leases: Arc<dyn StreamLeases>,
    clock: Arc<dyn Clock>,
    instance: Arc<str>,
}

/// What the tasks work with.
pub struct UpkeepParts {
    /// The hub fed.
    pub hub: LiveHub,
    /// The instance's feed of committed events.
    pub feed: LiveFeed,
    /// The stream leases.
    pub leases: Arc<dyn StreamLeases>,
    /// The event log.
    pub log: Arc<dyn EventLog>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// This instance's name.
    pub instance: Arc<str>,
    /// How long events are kept.
    pub replay_window: Duration,
}

fn chrono_of(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// Marks the instance alive for `ALIVE_FOR` (the leases' open grace, 30 s) from now.
///
/// # Errors
/// When the database fails.
pub async fn say_alive(
    leases: &dyn StreamLeases,
    clock: &dyn Clock,
    instance: &str,
) -> Result<(), picture_domain::RepositoryError> {
    let now = clock.now();
    leases
        .keep_alive(instance, now + chrono_of(ALIVE_FOR), now)
        .await
}

impl LiveUpkeep {
    /// Starts the tasks on the current runtime.
    pub fn spawn(parts: UpkeepParts) -> Self {
        let UpkeepParts {
            hub,
            mut feed,
            leases,
            log,
            clock,
            instance,
            replay_window,
        } = parts;
        let pump = tokio::spawn(async move {
            loop {
                let item = if feed.needs_draining() {
                    feed.next().await
                } else {
                    // SQLite: the log is read on demand, so it is not read while no stream is
                    // open (checked again at least once a second; `next` is cancel-safe).
                    hub.watched().await;
                    match tokio::time::timeout(RECHECK_STREAMS, feed.next()).await {
                        Ok(item) => item,
                        Err(_) => continue,
                    }
                };
                match item {
                    FeedItem::Event(event) => hub.dispatch(event),
                    FeedItem::Gap => hub.resync(),
                }
            }
        });
        let alive = {
            let (leases, clock, instance) = (
                Arc::clone(&leases),
                Arc::clone(&clock),
                Arc::clone(&instance),
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(ALIVE_EVERY).await;
                    if let Err(error) = say_alive(&*leases, &*clock, &instance).await {
                        tracing::warn!(%error, "instance liveness not renewed");
                    }
                }
            })
        };
        let prune = {
            let clock = Arc::clone(&clock);
            tokio::spawn(async move {
                loop {
                    let before = clock.now() - chrono_of(replay_window);
                    match log.prune(before).await {
                        Ok(0) => {}
                        Ok(pruned) => tracing::debug!(pruned, "event log pruned"),
                        Err(error) => tracing::warn!(%error, "event log not pruned"),
                    }
                    tokio::time::sleep(PRUNE_EVERY).await;
                }
            })
        };
        Self {
            tasks: vec![pump, alive, prune],
            leases,
            clock,
            instance,
        }
    }

    /// Stops the tasks and ends the instance's liveness at once (its streams stop counting).
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        let now = self.clock.now();
        if let Err(error) = self.leases.keep_alive(&self.instance, now, now).await {
            tracing::warn!(%error, "instance liveness not ended; it lapses by itself");
        }
    }
}

//! The live feed delivers committed events; on PostgreSQL it survives a lost connection with a
//! `Gap`.

use std::time::Duration;

use picture_domain::ports::{GenerationLifecycle, Transition};
use picture_domain::{GenerationId, GenerationStatus, LiveEvent, PredictionId};
use picture_persistence::{
    DieselGenerationRepository, FeedItem, FeedOptions, LIVE_FEED_APPLICATION_NAME, LiveFeed,
};
use tokio::time::{Instant, timeout};

use super::{Seen, user};
use crate::batches::count;
use crate::generations::{created, new_generation};
use crate::{TestDatabase, at};

contract!(a_committed_event_reaches_the_feed);

/// The generous bound on every wait.
const WITHIN: Duration = Duration::from_secs(5);

/// Reads the feed until an event of `generation` in `status`, within [`WITHIN`]; no gap and
/// no event of `never` on the way.
async fn wait_for(
    feed: &mut LiveFeed,
    generation: GenerationId,
    status: GenerationStatus,
    never: Option<GenerationId>,
) -> LiveEvent {
    let deadline = Instant::now() + WITHIN;
    loop {
        let item = timeout(deadline - Instant::now(), feed.next())
            .await
            .unwrap_or_else(|_| panic!("no {status} event of {generation} within {WITHIN:?}"));
        let FeedItem::Event(event) = item else {
            panic!("unexpected {item:?}");
        };
        assert!(never.is_none() || event.generation() != never, "{event:?}");
        if Seen::of(&event) == Seen::Generation(generation, status, None) {
            return event;
        }
    }
}

async fn a_committed_event_reaches_the_feed(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let before = new_generation("watcher", None);
    created(&repo, &before).await;
    let mut feed = db.database.live_feed(FeedOptions::default()).await.unwrap();

    let new = new_generation("watcher", None);
    created(&repo, &new).await;
    let pending = wait_for(
        &mut feed,
        new.id,
        GenerationStatus::Pending,
        Some(before.id),
    )
    .await;
    assert_eq!(pending.user, user("watcher"));
    let prediction_id = PredictionId::parse("p-feed").unwrap();
    assert!(
        repo.transition(new.id, &Transition::Processing { prediction_id }, at(1))
            .await
            .unwrap()
    );
    let processing = wait_for(&mut feed, new.id, GenerationStatus::Processing, None).await;
    assert!(processing.seq > pending.seq);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_lost_connection_yields_a_gap_then_the_events_after_it() {
    let Some(db) = crate::postgres().await else {
        return;
    };
    let repo = DieselGenerationRepository::new(db.database.clone());
    let options = FeedOptions {
        idle_check: Duration::from_millis(50),
        ..FeedOptions::default()
    };
    let mut feed = db.database.live_feed(options).await.unwrap();
    // Idle, the feed checks its connection every 50 ms and has nothing to say (no gap).
    assert!(
        timeout(Duration::from_millis(300), feed.next())
            .await
            .is_err()
    );
    let first = new_generation("watcher", None);
    created(&repo, &first).await;
    wait_for(&mut feed, first.id, GenerationStatus::Pending, None).await;

    let terminate = format!(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = '{LIVE_FEED_APPLICATION_NAME}'"
    );
    assert_eq!(count(&db, &terminate).await, 1);
    let item = timeout(WITHIN, feed.next()).await.unwrap();
    assert_eq!(item, FeedItem::Gap);

    let after = new_generation("watcher", None);
    created(&repo, &after).await;
    wait_for(&mut feed, after.id, GenerationStatus::Pending, None).await;
    let reopened = format!(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = '{LIVE_FEED_APPLICATION_NAME}'"
    );
    assert_eq!(count(&db, &reopened).await, 1);
}

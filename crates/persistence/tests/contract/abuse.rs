//! Replay and rate-limit bookkeeping shared by every instance.

use std::sync::Arc;

use picture_domain::ports::{DeliveryLog, RateCounter};
use picture_persistence::{DieselDeliveryLog, DieselRateCounter};

use crate::{TestDatabase, at};

contract!(
    deliveries_are_seen_once_recorded_and_forgotten_after_their_retention,
    concurrent_hits_of_one_window_each_get_a_distinct_count,
);

async fn deliveries_are_seen_once_recorded_and_forgotten_after_their_retention(db: &TestDatabase) {
    let log = DieselDeliveryLog::new(db.database.clone());
    assert!(!log.seen("msg_1", at(0)).await.unwrap());
    log.record("msg_1", at(1_000), at(0)).await.unwrap();
    log.record("msg_1", at(2_000), at(0)).await.unwrap();
    assert!(log.seen("msg_1", at(500)).await.unwrap());
    assert!(log.seen("msg_1", at(1_000)).await.unwrap());
    assert!(
        !log.seen("msg_1", at(1_001)).await.unwrap(),
        "the first record is kept"
    );
    assert!(!log.seen("msg_2", at(0)).await.unwrap());
    // A later record forgets what came before its horizon.
    log.record("msg_2", at(700_000), at(600_000)).await.unwrap();
    assert!(!log.seen("msg_1", at(0)).await.unwrap());
    assert!(log.seen("msg_2", at(0)).await.unwrap());
}

async fn concurrent_hits_of_one_window_each_get_a_distinct_count(db: &TestDatabase) {
    let counter = Arc::new(DieselRateCounter::new(db.database.clone()));
    let mut hits = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let counter = Arc::clone(&counter);
        hits.spawn(async move {
            counter
                .hit("generate:minute:alice", at(60_000), at(0))
                .await
                .unwrap()
        });
    }
    let mut counts = hits.join_all().await;
    counts.sort_unstable();
    assert_eq!(counts, (1..=12).collect::<Vec<u32>>());
    assert_eq!(
        counter
            .hit("generate:minute:bob", at(60_000), at(0))
            .await
            .unwrap(),
        1,
        "scopes are separate"
    );
    assert_eq!(
        counter
            .hit("generate:minute:alice", at(120_000), at(60_000))
            .await
            .unwrap(),
        1,
        "a new window starts from one"
    );
    counter
        .hit("generate:minute:alice", at(180_000), at(120_000))
        .await
        .unwrap();
    assert_eq!(
        counter
            .hit("generate:minute:alice", at(60_000), at(0))
            .await
            .unwrap(),
        1,
        "windows before the horizon were deleted"
    );
}
